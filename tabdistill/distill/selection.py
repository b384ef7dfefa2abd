"""Choosing a student on validation rows: candidates, their scores, the best one.

A :class:`Candidate` is one fitted student with the knobs that made it and its
validation scores. The distiller fits one per point of the knob grid, and the
baseline (the same spec on hard labels) is chosen the same way, so every
comparison in :class:`~tabdistill.distill.distiller.DistilledClassifier` is
between two candidates scored by one function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import metrics

#: Metrics the validation report shows for teacher, student and baseline.
REPORTED = ("roc_auc", "average_precision", "log_loss", "brier")


@dataclass(frozen=True)
class Validation:
    """The held-out rows knobs are chosen on: encoded rows, labels, weights (or None), and
    the metric that compares models there."""

    Z: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None
    metric: str


@dataclass(frozen=True)
class Knobs:
    """What makes one candidate student: its parameters (size, loss, early stopping...),
    the augmentation factor and ``alpha`` (None for the baseline, fit on hard labels), the
    loss it was chosen with (None: the student's default), and the kind of student when it
    is not the fit's own (``"linear"`` where the teacher is mostly linear; None: the fit's)."""

    student_params: dict
    augment_factor: float | None = None
    alpha: float | None = None
    loss: str | None = None
    student: str | None = None

    def as_dict(self) -> dict:
        """The knobs set, as JSON-able ``name -> value`` (the report's form)."""
        out = {"student_params": self.student_params}
        for name in ("augment_factor", "alpha", "loss", "student"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def with_params(self, student_params: dict) -> Knobs:
        """These knobs with other student parameters."""
        return replace(self, student_params=student_params)


@dataclass
class Candidate:
    """A fitted student and how it did on the validation rows.

    Attributes
    ----------
    knobs : Knobs
        What made it.
    model : Student
        The fitted student.
    validation_proba : ndarray
        Its positive-class probabilities on the validation rows.
    value : float
        The selection metric on those rows, oriented so that larger is better.
    synthetic_rows : int
        Synthetic rows in its training set.
    soft_labels : ndarray or None
        Targets of the original training rows (None for the baseline's hard labels).
    seconds : float
        What fitting it took.
    """

    knobs: Knobs
    model: object
    validation_proba: np.ndarray
    value: float
    synthetic_rows: int = 0
    soft_labels: np.ndarray | None = field(default=None, repr=False)
    seconds: float = 0.0

    def summary(self, metric: str) -> dict:
        """The JSON-able line of this candidate in ``report_["candidates"]``."""
        return {
            **self.knobs.as_dict(),
            "synthetic_rows": self.synthetic_rows,
            metric: abs(self.value),
        }


def knob_grid(sizes, augment_factors, alphas, losses=(None,)) -> list[Knobs]:
    """Every (size, augmentation factor, alpha, loss) combination, in a stable order.

    A loss other than the first (logit matching) is tried with ``alpha=0`` only:
    it fits the teacher's log-odds, which hard labels do not have.
    """
    grid = []
    for size in sizes:
        for factor in sorted(augment_factors):
            for alpha in alphas:
                for i, loss in enumerate(losses):
                    if i and alpha != 0:
                        continue
                    grid.append(Knobs(size, factor, alpha, loss))
    return grid


def evaluate(model, knobs: Knobs, validation: Validation, **extra) -> Candidate:
    """Score a fitted student on the validation rows and wrap it as a :class:`Candidate`."""
    p_va = model.predict(validation.Z)
    value = metrics.score(validation.metric, validation.y, p_va, validation.weight)
    return Candidate(knobs, model, p_va, value, **extra)


def best(candidates: list[Candidate]) -> Candidate:
    """The candidate with the highest value; the earliest one wins a tie."""
    top = candidates[0]
    for cand in candidates[1:]:
        if cand.value > top.value + 1e-12:
            top = cand
    return top


def cheapest_within(candidates: list[Candidate], tolerance: float, cost) -> Candidate:
    """The cheapest candidate whose value is within ``tolerance`` of the best one's.

    ``cost(model)`` is what a candidate costs to score; the earliest wins a tie.
    Preferring a cheaper model that is about as good also damps the winner's
    curse of picking the luckiest of several candidates on the same rows.
    """
    top = best(candidates)
    near = [c for c in candidates if c.value >= top.value - tolerance]
    return min(near, key=lambda c: cost(c.model))


def win_rate(metric, y, p_a, p_b, sample_weight=None, n_boot=200, random_state=0) -> float:
    """Share of paired bootstrap resamples of the rows on which ``p_a`` scores above ``p_b``.

    Rows are resampled within each class (every resample keeps the class
    counts) and both models are scored on the same resample, so the share
    estimates how sure the validation rows make us that ``a`` is the better
    model -- not just on these rows, but on rows like them. Ties count as
    losses for ``a``.
    """
    y = np.asarray(y)
    if metric in ("roc_auc", "average_precision") and np.ndim(p_a) == 1:
        # binary scores sorted once: O(n) per resample
        ranked = [metrics.RankedScores(y, p) for p in (p_a, p_b)]

        def score(r, p, w):
            return getattr(r, metric)(w)
    else:
        ranked = [None, None]

        def score(r, p, w):
            return metrics.score(metric, y, p, w)

    wins = 0
    for counts in metrics.stratified_resamples(y, n_boot, random_state):
        w = counts if sample_weight is None else counts * sample_weight
        wins += score(ranked[0], p_a, w) > score(ranked[1], p_b, w) + 1e-12
    return wins / n_boot


def validation_scores(y, p, sample_weight=None) -> dict:
    """The metrics of :data:`REPORTED` for one model's validation probabilities."""
    every = metrics.classification_metrics(y, p, sample_weight)
    return {k: every[k] for k in REPORTED}
