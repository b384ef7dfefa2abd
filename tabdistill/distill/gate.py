"""The gate: a distilled student replaces the baseline only when the evidence says it is better.

Three checks, in order: the student beats the baseline on validation (a tie
keeps the baseline); it does so on at least ``confidence`` of paired bootstrap
resamples of the validation rows; and the teacher it learnt from beats the
baseline on every labelled row, cross-validated over ``folds`` folds (when the
time limit affords it) -- a teacher no better than the baseline has nothing to
teach. :func:`check_gate` returns a :class:`GateDecision` saying which check
failed, if any, with what each check saw.

A linear student (distilled where the teacher is mostly linear) is shipped by the search
only where it scores within the size tolerance of the teacher on the validation rows, that
is, where it holds the teacher (:mod:`~tabdistill.distill.search`). The teacher's
cross-validated lead over the baseline is then its evidence, and the validation check is
left out: a mostly linear teacher's lead is a few thousandths of ROC-AUC, which the
validation rows alone tell from noise no better than a coin does. (Refitting the student
per fold would not be a fair check: its targets, the teacher's out-of-fold labels, were
made by fold models that saw the held-out rows' labels.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import metrics
from .._validation import take
from .context import FitContext, final_params, seed_of
from .selection import Candidate, win_rate
from .soft_targets import DistillData
from .splits import teacher_folds


@dataclass(frozen=True)
class GateRule:
    """The estimator's ``baseline_confidence``, ``selection_folds`` and
    ``fallback_to_baseline`` (``enforce``: False runs every check whatever the earlier
    ones found, to report them, since the verdict will not be acted on)."""

    confidence: float = 0.5
    folds: int = 5
    enforce: bool = True


@dataclass(frozen=True)
class GateDecision:
    """What the gate saw and concluded.

    Attributes
    ----------
    reason : str or None
        Why the baseline must be shipped instead of the distilled student (None: it need
        not be).
    win_rate : float
        Share of bootstrap resamples of the validation rows on which the student beat the
        baseline.
    cross_validated : dict or None
        Teacher and baseline scores on every labelled row and the folds used (None when
        the check did not run).
    lead : float or None
        The teacher's cross-validated lead over the baseline, oriented so that positive
        favours the teacher (None when the check did not run).
    """

    reason: str | None
    win_rate: float
    cross_validated: dict | None = None
    lead: float | None = None

    @property
    def keeps_baseline(self) -> bool:
        return self.reason is not None

    @property
    def teacher_leads(self) -> bool:
        """False only when the cross-validated check ran and the teacher did not beat the
        baseline there."""
        pooled = self.cross_validated
        return pooled is None or pooled["teacher"] > pooled["baseline"]

    def bar(self, baseline: Candidate) -> float | None:
        """The validation score a larger baseline must exceed to replace a student shipped on
        the teacher's cross-validated lead: the checked ``baseline``'s plus that lead (the
        student is credited with the teacher's lead, measured on every labelled row, rather
        than with its own score on the validation rows alone). None when the check did not
        run."""
        return None if self.lead is None else baseline.value + self.lead


def check_gate(
    ctx: FitContext,
    chosen: Candidate,
    baseline: Candidate,
    teacher,
    data: DistillData,
    rule: GateRule,
    rows=None,
) -> GateDecision:
    """Whether ``chosen`` may replace ``baseline`` (see the module docstring).

    ``teacher`` is the teacher fit on the training rows, ``data`` the soft targets
    made from it; ``rows`` (large data: the search subsample) restricts the
    cross-validated check to those training rows.
    """
    validation, metric = ctx.validation, ctx.validation.metric
    wins = win_rate(
        metric,
        validation.y,
        chosen.validation_proba,
        baseline.validation_proba,
        validation.weight,
        random_state=ctx.seeds.student % (2**32),
    )
    can_cross_validate = None
    if chosen.knobs.student is not None:  # a linear student that holds the teacher (above)
        can_cross_validate = _can_cross_validate(ctx, rule.folds, baseline)
        if can_cross_validate:
            return _cross_check(ctx, baseline, teacher, data, rule, rows, None, wins)
    reason = None
    if chosen.value <= baseline.value or wins < rule.confidence:
        reason = (
            f"the best distilled student ({metric} {abs(chosen.value):.4f}) "
            f"did not beat the baseline trained on hard labels "
            f"({abs(baseline.value):.4f}) on validation (better in {wins:.0%} of bootstrap "
            f"resamples, {rule.confidence:.0%} needed); using the baseline as "
            "the student"
        )
        if rule.enforce:
            return GateDecision(reason, wins)
    if can_cross_validate is None:
        can_cross_validate = _can_cross_validate(ctx, rule.folds, baseline)
    if not can_cross_validate:
        return GateDecision(reason, wins)
    return _cross_check(ctx, baseline, teacher, data, rule, rows, reason, wins)


def _cross_check(ctx, baseline, teacher, data, rule, rows, reason, wins) -> GateDecision:
    """The cross-validated check of teacher against baseline, and the decision: ``reason``
    (what the validation check found, None: nothing) or else the teacher's verdict."""
    metric = ctx.validation.metric
    with ctx.stages.stage("cross-check", total=rule.folds) as stage:
        pooled = cross_validated(ctx, baseline, teacher, data, rule.folds, rows, stage)
    if reason is None and pooled["teacher"] <= pooled["baseline"]:
        reason = (
            f"the teacher does not beat the baseline trained on hard labels on the "
            f"training rows ({rule.folds}-fold cross-validated) and validation "
            f"rows together ({metric} {abs(pooled['teacher']):.4f} "
            f"against {abs(pooled['baseline']):.4f}): nothing to distil; using the "
            "baseline as the student"
        )
    scores = {k: abs(v) for k, v in pooled.items()} | {"folds": rule.folds}
    return GateDecision(reason, wins, scores, pooled["teacher"] - pooled["baseline"])


def _can_cross_validate(ctx: FitContext, folds, baseline) -> bool:
    """Whether ``folds`` asks for the cross-validated check and the time limit affords it
    (a refit of the baseline per fold)."""
    if folds < 2 or np.bincount(ctx.y_train).min() < folds:
        return False  # not asked for, or a class too small to cross-fit
    if ctx.budget.limited and not ctx.budget.fits(folds * baseline.seconds):
        ctx.budget.cut("teacher vs baseline not cross-validated")
        return False
    return True


def cross_validated(
    ctx: FitContext, baseline: Candidate, teacher, data: DistillData, folds, rows=None, stage=None
) -> dict:
    """Teacher and baseline scored on every labelled row, none of which they were fit on.

    The teacher's out-of-fold probabilities cover the training rows; the
    baseline is refit (same size and rounds) on all but one of ``folds`` folds of
    them and predicts the fold left out. Each is pooled with its predictions for
    the validation rows. Oriented so that larger is better, like
    ``Candidate.value``. With ``rows``, only those training rows take part.
    """
    rows = np.arange(len(data.y)) if rows is None else rows
    Z, y, w = data.Z[rows], data.y[rows], take(data.weight, rows)
    groups = None if ctx.groups_train is None else np.asarray(ctx.groups_train)[rows]
    teacher_oof, held_out = teacher.oof_proba_[rows], teacher.oof_mask_[rows]
    splits = teacher_folds(folds, y, groups, ctx.seeds.student, classes=ctx.target.classes)
    oof = np.empty((len(y), *baseline.validation_proba.shape[1:]))
    students = ctx.students
    for fit_rows, held in splits:
        hard = students.hard_set(Z[fit_rows], y[fit_rows], None if w is None else w[fit_rows])
        oof[held] = students.fit(seed_of(baseline), final_params(baseline), hard).predict(Z[held])
        if stage is not None:
            stage.update()
    validation = ctx.validation
    pooled = {
        "teacher": (teacher_oof[held_out], teacher.predict_proba_encoded(validation.Z)),
        "baseline": (oof[held_out], baseline.validation_proba),
    }
    return {
        name: metrics.score(
            validation.metric,
            np.concatenate([y[held_out], validation.y]),
            np.concatenate([p_tr, p_va]),
            None if w is None else np.concatenate([w[held_out], validation.weight]),
        )
        for name, (p_tr, p_va) in pooled.items()
    }
