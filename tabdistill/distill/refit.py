"""The final refit: once the knobs are chosen, the shipped models learn from every labelled row.

The baseline is refit on the training and validation rows with its hard
labels; a distilled student on its soft targets plus the validation rows (the
teacher's predictions there are as honest as its out-of-fold ones), or, when
the teacher itself is refit on every labelled row (``refit_teacher``), on that
teacher's out-of-fold labels and its labels of the synthetic rows. Every refit
keeps the rounds early stopping chose. A time limit may skip either refit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from numbers import Integral

from .._validation import take
from .context import FitContext
from .labelling import label_in_chunks
from .selection import Candidate
from .soft_targets import DistillData, TargetRecipe, teacher_probabilities

#: Labelled rows (training + validation) up to which ``refit_teacher="auto"`` refits the
#: teacher for the final student: there the validation rows are labels a student's teacher
#: would miss most (a steep learning curve) and a second teacher fit takes seconds.
REFIT_TEACHER_ROWS = 100_000


@dataclass(frozen=True)
class RefitRule:
    """The estimator's ``refit``, ``refit_teacher`` and ``calibrate``."""

    refit: bool = True
    refit_teacher: object = "auto"
    calibrate: bool = False


@dataclass
class FinalModels:
    """The models a fit ships: the student and the baseline (refit or not), the teacher
    (refit on every labelled row or not) with the soft targets it gives, whether each refit
    happened, and the seconds each teacher fit took."""

    student: object
    baseline: object
    teacher: object
    data: DistillData
    refit: bool
    refit_teacher: bool
    teacher_seconds: list


def refit_final(
    ctx: FitContext,
    chosen: Candidate,
    baseline: Candidate,
    teacher,
    data: DistillData,
    *,
    keeps_baseline: bool,
    rule: RefitRule,
    recipe: TargetRecipe,
) -> FinalModels:
    """Refit ``chosen`` and ``baseline`` on every labelled row as ``rule`` asks.

    ``keeps_baseline``: the gate ruled out the distilled student, so ``chosen`` is the
    baseline under the distilled knobs and only the teacher's members are refit (no
    student learns from them); the teacher reported and shipped has seen every label
    either way.
    """
    n_labelled = len(ctx.train) + len(ctx.validation_rows)
    refit = rule.refit and _can_refit(ctx, chosen, baseline, n_labelled)
    teacher_seconds = [teacher.fit_seconds_]
    refit_teacher = refit and refits_teacher(
        teacher,
        rule.refit_teacher,
        n_labelled,
        len(ctx.train),
        ctx.budget,
        members_only=keeps_baseline,
    )
    rows = ctx.labelled
    Z, y, w = ctx.Z[rows], ctx.y[rows], take(ctx.weight, rows)
    if refit_teacher:
        with ctx.stages.stage("teacher refit"):
            if keeps_baseline:
                teacher.refit_encoded(Z, y, w)
                teacher_seconds.append(teacher.refit_seconds_)
            else:
                teacher, data = _refit_teacher(ctx, data, rule.calibrate)
                teacher_seconds.append(teacher.fit_seconds_)
    student_model, baseline_model = chosen.model, baseline.model
    if refit:
        with ctx.stages.stage("refit"):
            baseline_model = ctx.students.refit(baseline, ctx.students.hard_set(Z, y, w))
            if keeps_baseline:
                student_model = baseline_model
            elif refit_teacher:
                student_model = ctx.students.refit(chosen, data.training_set(chosen.knobs, recipe))
            else:
                extra = data.validation_rows(
                    ctx.validation.Z, ctx.validation.y, ctx.validation.weight
                )
                training = data.training_set(chosen.knobs, recipe, extra)
                student_model = ctx.students.refit(chosen, training)
    return FinalModels(
        student_model, baseline_model, teacher, data, refit, refit_teacher, teacher_seconds
    )


def _can_refit(ctx: FitContext, chosen, baseline, n_labelled) -> bool:
    """Whether the time limit affords refitting student and baseline on all rows."""
    if not ctx.budget.limited:
        return True
    seconds = (chosen.seconds + baseline.seconds) * n_labelled / len(ctx.train)
    if not ctx.budget.fits(seconds):
        ctx.budget.cut("student and baseline not refit on the validation rows")
        return False
    return True


def refits_teacher(teacher, wanted, n_rows, n_train, budget, members_only=False) -> bool:
    """Whether the final student learns from ``teacher`` refit on all ``n_rows`` labelled
    rows (``wanted`` is the estimator's ``refit_teacher``) and the time ``budget`` affords
    it: a second cross-fit (it took ``teacher.fit_seconds_`` on ``n_train`` rows), or with
    ``members_only`` (the baseline was kept) the members' refit alone."""
    if wanted == "auto":
        wanted = n_rows <= REFIT_TEACHER_ROWS
    cv = teacher.cv
    if not wanted or not (cv is None or isinstance(cv, Integral) or hasattr(cv, "split")):
        return False
    spent = teacher.refit_seconds_ if members_only else teacher.fit_seconds_
    if budget.limited and not budget.fits(spent * n_rows / n_train):
        budget.cut("teacher not refit on the validation rows")
        return False
    return True


def _refit_teacher(ctx: FitContext, data: DistillData, calibrate):
    """A teacher cross-fitted again on every labelled row, and ``data`` relabelled by it:
    its out-of-fold probabilities of those rows and its labels of the synthetic rows."""
    rows = ctx.labelled
    Z, y, w = ctx.Z[rows], ctx.y[rows], take(ctx.weight, rows)
    teacher = ctx.teachers.make(ctx.seeds.teacher)
    teacher.fit_encoded(
        Z, y, w, encoder=ctx.encoder, target=ctx.target, groups=take(ctx.groups, rows)
    )
    oof, synthetic_proba = teacher_probabilities(
        teacher, y, w, calibrate, label_in_chunks(teacher, data.synthetic)
    )
    relabelled = replace(
        data,
        Z=Z,
        y=y,
        oof_proba=oof,
        weight=w,
        synthetic_proba=synthetic_proba,
        validation_proba=None,  # the validation rows are among the teacher's own
    )
    return teacher, relabelled
