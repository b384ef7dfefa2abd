"""Every compression level of a student, measured on validation rows; the smallest good one.

Levels, from the student as compiled:

* ``exact`` -- float64 leaves (lossless);
* ``float32``, ``int16``, ``int8`` -- quantized leaves, each with its error bound;
* ``l1 C=<c> + <codec>`` -- trees reweighted under an L1 penalty of strength
  ``1/c`` (trees of weight 0 dropped), then quantized.

:func:`compress` keeps the smallest file whose validation ROC-AUC is within
``tolerance`` of the exact student's, measured twice: against the hard labels,
and against the teacher's probabilities (each row counted as a positive with
weight ``q`` and a negative with weight ``1 - q``). The second uses every
row's information, not only the few positives of a fraud set, so it does not
reward a level that was lucky on a handful of validation positives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.rules import OUT_SIGMOID

from .. import metrics
from .prune import refit_trees
from .quantize import quantize_leaves

logger = logging.getLogger(__name__)

#: Inverse L1 strengths tried by default (losses summed over the training rows).
DEFAULT_CS = (10.0, 3.0, 1.0, 0.3, 0.1)
QUANTIZED = ("float32", "int16", "int8")


@dataclass
class Level:
    """One compression level: the model and what it costs."""

    name: str
    model: CompiledModel
    error_bound: float | None  # largest probability change vs the source, if bounded
    roc_auc: float  # on the validation rows, against their labels
    teacher_roc_auc: float | None = None  # ... against the teacher's probabilities
    size_bytes: int = field(init=False)  # of the runtime file

    def __post_init__(self):
        self.size_bytes = len(self.model.to_bytes())

    @property
    def n_leaves(self) -> int:
        return int((self.model.arrays["feature"] < 0).sum())

    def summary(self) -> dict:
        """JSON-able facts of the level (no model)."""
        return {
            "name": self.name,
            "size_bytes": self.size_bytes,
            "n_trees": self.model.n_trees,
            "n_leaves": self.n_leaves,
            "error_bound": self.error_bound,
            "validation_roc_auc": self.roc_auc,
            "validation_teacher_roc_auc": self.teacher_roc_auc,
        }


def compress(
    model: CompiledModel,
    train,
    validation,
    tolerance: float = 0.001,
    Cs=DEFAULT_CS,
    random_state: int = 0,
) -> tuple[list[Level], Level]:
    """All compression levels of ``model`` and the one chosen.

    Parameters
    ----------
    model : CompiledModel
        A tree runtime.
    train : tuple ``(Z, target, sample_weight)``
        The student's training rows and the teacher's probabilities for them
        (used to refit leaves; only tree runtimes with a sigmoid output are
        refit: a K-class model gets the quantized levels only).
    validation : tuple ``(Z, y, sample_weight)`` or ``(Z, y, sample_weight, teacher_proba)``
        Held-out rows with hard labels (and the teacher's probabilities for
        them), to measure each level.
    tolerance : float, default=0.001
        Largest validation ROC-AUC loss accepted against the exact student.
    Cs : sequence of float
        Inverse L1 strengths to try; empty for quantization only.

    Returns
    -------
    levels : list of Level
    chosen : Level
        The smallest file whose validation ROC-AUCs (against the labels, and
        against the teacher's probabilities if given) are each at least the
        exact student's minus ``tolerance``.
    """
    Zv, yv, wv, qv = (*validation, None)[:4]

    def level(name, m, bound):
        p = m.score_encoded(Zv)
        auc = float(metrics.roc_auc(yv, p, sample_weight=wv))
        soft = None if qv is None else soft_roc_auc(qv, p, wv)
        logger.info("compression level %s: validation ROC-AUC %.4f (teacher %s)", name, auc, soft)
        return Level(name, m, bound, auc, soft)

    levels = [level("exact", model, 0.0)]
    for codec in QUANTIZED:
        levels.append(level(codec, *quantize_leaves(model, codec)))
    if model.meta["output"] == OUT_SIGMOID:
        Z, target, weight = train
        for C in Cs:
            refit = refit_trees(model, Z, target, weight, C=C, random_state=random_state)
            for codec in ("int16", "int8"):
                quantized, _ = quantize_leaves(refit, codec)
                levels.append(level(f"l1 C={C:g} + {codec}", quantized, None))
    return levels, choose(levels, tolerance)


def choose(levels, tolerance: float = 0.001):
    """The smallest of ``levels`` whose validation ROC-AUCs are each within ``tolerance``
    of the first (exact) level's: against the labels, and against the teacher's
    probabilities when they were measured."""
    exact = levels[0]
    good = [
        lv
        for lv in levels
        if lv.roc_auc >= exact.roc_auc - tolerance
        and (
            exact.teacher_roc_auc is None or lv.teacher_roc_auc >= exact.teacher_roc_auc - tolerance
        )
    ]
    return min(good, key=lambda lv: (lv.size_bytes, -lv.roc_auc))


def soft_roc_auc(q, p, sample_weight=None) -> float:
    """ROC-AUC of scores ``p`` against probabilistic labels ``q`` (the teacher's).

    For K classes (``q`` and ``p`` of shape ``(n, K)``), the mean over classes
    of each class's probability against the teacher's (one-vs-rest, macro).
    """
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 2:
        p = np.asarray(p, dtype=np.float64)
        return float(
            np.mean([soft_roc_auc(q[:, k], p[:, k], sample_weight) for k in range(q.shape[1])])
        )
    w = np.ones(len(q)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    y2 = np.concatenate([np.ones(len(q)), np.zeros(len(q))])
    return float(metrics.roc_auc(y2, np.concatenate([p, p]), np.concatenate([w * q, w * (1 - q)])))


def frontier(levels) -> list[Level]:
    """The levels no other level beats on both size and validation ROC-AUC."""
    return [
        a
        for a in levels
        if not any(
            b.size_bytes <= a.size_bytes
            and b.roc_auc >= a.roc_auc
            and (b.size_bytes, b.roc_auc) != (a.size_bytes, a.roc_auc)
            for b in levels
        )
    ]
