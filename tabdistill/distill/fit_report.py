"""The fit report: what a fit did, chose and measured, as JSON-able data (``report_``).

Timings per stage, validation metrics of teacher / student / baseline, every
candidate tried and the one chosen, the columns the shipped student does without (as the
teacher's ensemble learned to), the gate's verdict and what it saw, the decision threshold,
row counts, the teacher's weights, what a time limit cut, and the student's latency as its
tree steps predict it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import metrics
from ..data.encoder import encoding_summary
from .context import FitContext
from .gate import GateDecision
from .refit import FinalModels
from .search import SearchResult
from .selection import Candidate, validation_scores
from .sizes import TREE_STEP_NS, student_cost


@dataclass
class FitSummary:
    """What the stages of one fit produced, as the report needs it."""

    teacher_validation_proba: object
    search: SearchResult
    shipped: Candidate
    baseline: Candidate
    decision: GateDecision
    gate_enforced: bool
    final: FinalModels
    n_synthetic: int
    threshold_rule: object
    decision_threshold: float | None
    compression: dict | None
    latency_budget: float | None
    time_limit: float | None
    cuts: list


def fit_report(ctx: FitContext, fit: FitSummary) -> dict:
    """The ``report_`` of a fit (see :class:`~tabdistill.distill.distiller.DistilledClassifier`)."""
    timings = ctx.stages.timings
    final, decision = fit.final, fit.decision
    steps = student_cost(final.student)
    return {
        "timings": {
            **{k: round(v, 3) for k, v in timings.items()},
            "total": round(sum(timings.values()), 3),
        },
        "validation": _validation(ctx, fit),
        "selection_metric": ctx.validation.metric,
        "candidates": [c.summary(ctx.validation.metric) for c in fit.search.candidates],
        "chosen": fit.shipped.knobs.as_dict(),
        "student_ignores": _ignored(ctx, fit),
        "baseline_params": fit.baseline.knobs.student_params,
        "fallback": decision.reason if fit.gate_enforced else None,
        "compression": fit.compression,
        "decision": _decision(ctx, fit),
        "rows": _rows(ctx, fit),
        "encoding": encoding_summary(ctx.encoder.schema_),
        "teacher_weights": dict(final.teacher.weights_),
        "time_budget": {
            "limit_seconds": fit.time_limit,
            "used_seconds": round(ctx.budget.clock.elapsed(), 3),
            "cuts": fit.cuts,
        },
        "student_win_rate": decision.win_rate,
        "cross_validated": decision.cross_validated,
        "gate": {"enforced": fit.gate_enforced, "verdict": decision.reason},
        "refit_teacher": final.refit_teacher,
        "teacher_seconds": [round(t, 3) for t in final.teacher_seconds],
        "latency": {
            "budget_us": fit.latency_budget,
            "tree_steps": steps,
            "predicted_p99_us": round(steps * TREE_STEP_NS / 1000, 3),
        },
    }


def _ignored(ctx: FitContext, fit: FitSummary) -> list[str]:
    """Names of the encoded columns the shipped student never splits on."""
    ignored = fit.shipped.knobs.student_params.get("ignored_features") or ()
    return [ctx.students.feature_names[i] for i in ignored]


def _validation(ctx: FitContext, fit: FitSummary) -> dict:
    y, w = ctx.validation.y, ctx.validation.weight
    return {
        "teacher": validation_scores(y, fit.teacher_validation_proba, w),
        "student": validation_scores(y, fit.shipped.validation_proba, w),
        "baseline": validation_scores(y, fit.baseline.validation_proba, w),
    }


def _decision(ctx: FitContext, fit: FitSummary):
    if fit.decision_threshold is None:
        return None
    y, w = ctx.validation.y, ctx.validation.weight
    return {
        "rule": fit.threshold_rule,
        **metrics.decision_summary(y, fit.shipped.validation_proba, fit.decision_threshold, w),
    }


def _rows(ctx: FitContext, fit: FitSummary) -> dict:
    n_train, n_validation = len(ctx.train), len(ctx.validation_rows)
    rows = {"train": n_train, "validation": n_validation, "synthetic": fit.n_synthetic}
    if fit.final.refit:
        rows["refit"] = n_train + n_validation
    return rows
