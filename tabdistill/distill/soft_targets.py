"""Soft targets: what every distilled student learns from, as one typed record.

:func:`soft_targets` gathers the teacher's out-of-fold probabilities of the
training rows, its probabilities of the synthetic and validation rows (Platt
scaled with ``calibrate``) into a :class:`DistillData`. A candidate's training
set is then :meth:`DistillData.training_set` of its knobs (augmentation factor,
``alpha``) under the fit's :class:`TargetRecipe`; on large data the candidates
are compared on :meth:`DistillData.subsample`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import metrics
from .._validation import take
from .labelling import SyntheticRows, TeacherFit, synthetic_count
from .labels import TrainingSet, build_training_set, platt_scaling
from .selection import Knobs


@dataclass(frozen=True)
class TargetRecipe:
    """How soft labels become targets and weights: the estimator's ``temperature``,
    ``synthetic_weight`` and ``rare_weight`` (see
    :func:`~tabdistill.distill.labels.build_training_set`)."""

    temperature: float = 1.0
    synthetic_weight: float = 1.0
    rare_weight: float = 1.0


@dataclass(frozen=True)
class LabelledRows:
    """Original rows with labels, soft labels and weights, to add to a training set."""

    Z: np.ndarray
    y: np.ndarray
    proba: np.ndarray
    weight: np.ndarray | None


@dataclass(frozen=True)
class DistillData:
    """The rows a distilled student may learn from, with the teacher's labels of them.

    Attributes
    ----------
    Z, y, oof_proba, weight
        Original rows, their labels, the teacher's out-of-fold probabilities
        (a row no split held out keeps its label) and the user's weights (or None).
    synthetic, synthetic_proba, synthetic_seeds
        Synthetic rows, the teacher's probabilities of them, and the original row
        each was drawn from (a position in ``Z``).
    validation_proba : ndarray or None
        The teacher's probabilities of the validation rows (None once the teacher
        was refit on them).
    n_train : int
        Training rows of the whole fit: what the augmentation factors count.
    synthetic_kept : ndarray or None
        For a :meth:`subsample`, the positions of its synthetic rows among the
        whole fit's; None otherwise.
    """

    Z: np.ndarray
    y: np.ndarray
    oof_proba: np.ndarray
    weight: np.ndarray | None
    synthetic: np.ndarray
    synthetic_proba: np.ndarray
    synthetic_seeds: np.ndarray
    validation_proba: np.ndarray | None
    n_train: int
    synthetic_kept: np.ndarray | None = None

    def training_set(self, knobs: Knobs, recipe: TargetRecipe, extra=None) -> TrainingSet:
        """The training set of one candidate; ``extra`` (:class:`LabelledRows`) adds
        labelled original rows after these."""
        Z, y, soft, w = self.Z, self.y, self.oof_proba, self.weight
        if extra is not None:
            Z, y = np.vstack([Z, extra.Z]), np.concatenate([y, extra.y])
            soft = np.concatenate([soft, extra.proba])
            w = None if w is None else np.concatenate([w, extra.weight])
        n_rows = self.synthetic_rows(knobs.augment_factor)
        return build_training_set(
            Z,
            y,
            soft,
            w,
            synthetic=self.synthetic[:n_rows],
            synthetic_proba=self.synthetic_proba[:n_rows],
            synthetic_seeds=self.synthetic_seeds[:n_rows],
            temperature=recipe.temperature,
            alpha=knobs.alpha,
            synthetic_weight=recipe.synthetic_weight,
            rare_weight=recipe.rare_weight,
        )

    def synthetic_rows(self, factor) -> int:
        """How many synthetic rows a candidate of augmentation ``factor`` learns from."""
        n_rows = synthetic_count(factor, self.n_train)
        if self.synthetic_kept is not None:  # a subsample: its share of those rows
            n_rows = int(np.searchsorted(self.synthetic_kept, n_rows))
        return n_rows

    def subsample(self, keep: np.ndarray) -> DistillData:
        """These data restricted to the original rows ``keep`` (sorted positions) and the
        synthetic rows drawn from them (each factor keeps its share of its rows)."""
        kept = np.flatnonzero(np.isin(self.synthetic_seeds, keep))
        return replace(
            self,
            Z=self.Z[keep],
            y=self.y[keep],
            oof_proba=self.oof_proba[keep],
            weight=take(self.weight, keep),
            synthetic=self.synthetic[kept],
            synthetic_proba=self.synthetic_proba[kept],
            synthetic_seeds=np.searchsorted(keep, self.synthetic_seeds[kept]),
            synthetic_kept=kept,
        )

    def validation_rows(self, Z, y, weight) -> LabelledRows:
        """The validation rows with the teacher's probabilities of them, to add to a final
        training set (weights only when these data have weights)."""
        return LabelledRows(Z, y, self.validation_proba, None if self.weight is None else weight)


def soft_targets(
    taught: TeacherFit, synthetic: SyntheticRows, Z, y, weight, n_train, calibrate=False
) -> DistillData:
    """The :class:`DistillData` of training rows ``Z, y, weight`` from the teacher fit on
    them and its synthetic rows; with ``calibrate``, every soft label is Platt scaled on the
    out-of-fold ones."""
    oof, synthetic_proba, validation_proba = teacher_probabilities(
        taught.teacher, y, weight, calibrate, synthetic.proba, taught.validation_proba
    )
    return DistillData(
        Z=Z,
        y=y,
        oof_proba=oof,
        weight=weight,
        synthetic=synthetic.rows,
        synthetic_proba=synthetic_proba,
        synthetic_seeds=synthetic.origin,
        validation_proba=validation_proba,
        n_train=n_train,
    )


def teacher_probabilities(teacher, y, weight, calibrate, *others) -> tuple:
    """The teacher's out-of-fold probabilities of the rows it was fit on (a row no split
    held out keeps its label), then its probabilities ``others`` of other rows; with
    ``calibrate``, all Platt scaled on the out-of-fold ones."""
    targets = (fill_unheld(teacher.oof_proba_, y), *others)
    if calibrate:
        calibrated = platt_scaling(targets[0], y, weight)
        targets = tuple(calibrated(q) for q in targets)
    return targets


def fill_unheld(oof_proba, y):
    """Out-of-fold probabilities, with a row's own label where no split held it out."""
    if oof_proba.ndim == 2:
        return np.where(np.isnan(oof_proba), metrics.one_hot(y, oof_proba.shape[1]), oof_proba)
    return np.where(np.isnan(oof_proba), y, oof_proba)
