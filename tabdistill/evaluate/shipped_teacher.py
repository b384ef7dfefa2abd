"""The teacher a saved version ships, cut to a latency budget as measured here.

A registry version holds the compiled teacher beside the student (``tabdistill predict
--scorer teacher``). Where the benchmark's frontier shows the teacher cut to a budget keeping
more of its lead than the student of that latency, :func:`teacher_at_budget` makes that cut
the version's teacher: cut by the cost model, then again smaller while its measured p99 is
over the budget (:func:`~tabdistill.evaluate.latency_frontier.cut_within`), or the whole
teacher where it fits.

A cut scores on a scale of its own (a booster keeping a third of its rounds makes less
extreme probabilities), so the whole teacher's decision threshold would flag another share of
rows. Where the fit's ``threshold`` is a target met on validation rows (``{"fpr": 0.01}``...),
which the fitted model does not keep, the cut's threshold is the one that flags as many of
the given rows as the whole teacher flags at its own (their labels are not read); a fixed
probability stays that probability.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .. import metrics
from ..distill.compiled import compiled_teacher
from ..distill.teacher_cut import TeacherCutter
from ..distill.teacher_runtime import compile_teacher
from .latency_frontier import cut_within, rounded_shares, steady_latency

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippedTeacher:
    """The compiled teacher a version ships at a latency budget.

    Attributes
    ----------
    runtime : CompiledModel or None
        Of kind ``"blend"``: the teacher cut to the budget, or whole where it fits; None
        where no cut fits or the teacher does not compile (``info["left_out"]`` says which).
    info : dict
        What it is, for the manifest's ``teacher_runtime`` entry: ``latency_budget_us``,
        ``tree_share`` (1.0: the whole teacher), of a cut ``member_shares`` (each tree
        member's share of its trees kept), ``cut_budget_us`` (what
        ``model.teacher_runtime_at`` takes to make it again), its measured
        ``single_row_p50_us`` / ``single_row_p99_us``, ``within_budget`` (False where even
        the smallest cut tried, or a teacher without trees, measured over it) and
        ``metrics`` on the given rows; or ``latency_budget_us`` and ``left_out``.
    threshold : float or None
        Its decision threshold (None: K classes, whose decision is the most probable class).
    """

    runtime: object
    info: dict
    threshold: float | None


def teacher_at_budget(model, budget_us, Z, y, *, calls=2_000, nominal=None):
    """The teacher of ``model`` cut to ``budget_us`` microseconds as measured here.

    Parameters
    ----------
    model : DistilledClassifier
        Fitted, with a teacher the runtime compiles.
    budget_us : float
        Single-row p99 budget in microseconds.
    Z, y : ndarray
        Rows encoded by ``model.encoder_`` and their labels (a holdout): timed (the first
        1,000), scored for ``info["metrics"]``, and for a threshold rule met on validation
        rows, the rows whose flagged share the cut's threshold keeps (see the module
        docstring).
    calls : int, default=2000
        Timed single-row calls per model tried.
    nominal : float, default=None
        The cost budget of a cut already measured (a benchmark frontier point's
        ``cut_budget_us``): that cut is shipped (and timed again here) rather than cut anew.

    Returns
    -------
    ShippedTeacher
        Without a runtime, and with a WARNING log line saying why, when the teacher does
        not compile or one tree of each member takes more than the budget.
    """
    whole = compiled_teacher(model)
    fitted = None
    if whole is not None:
        cutter = TeacherCutter(model.teacher_)
        rows = list(Z[: min(len(Z), 1_000)])
        fitted = _cut(cutter, budget_us, model.encoder_.schema_, rows, calls, whole, nominal)
    if fitted is None:
        why = (
            "its teacher was not compiled (a member the runtime cannot compile)"
            if whole is None
            else f"no cut of its teacher fits {budget_us:g} us (one tree of each of its "
            "members takes more); pass a larger teacher budget"
        )
        logger.warning("no compiled teacher at %g us: %s", budget_us, why)
        return ShippedTeacher(None, {"latency_budget_us": float(budget_us), "left_out": why}, None)
    runtime, cut, cost_budget, one = fitted
    share = 1.0 if cut is None else cut.share
    scores = runtime.score_encoded(Z)
    info = {
        "latency_budget_us": float(budget_us),
        "tree_share": round(share, 4),
        **({} if share == 1.0 else {"member_shares": rounded_shares(cut)}),
        "cut_budget_us": round(cost_budget, 4),
        "single_row_p50_us": one["p50_us"],
        "single_row_p99_us": one["p99_us"],
        "within_budget": one["p99_us"] <= budget_us,
        "metrics": metrics.classification_metrics(y, scores),
    }
    threshold = _threshold(model, whole, Z, scores) if share < 1.0 else None
    if threshold is None:
        threshold = model.teacher_decision_threshold_
    elif threshold != model.teacher_decision_threshold_:
        info["threshold_from"] = "the whole teacher's flagged share of the holdout rows"
    return ShippedTeacher(runtime, info, threshold)


def _cut(cutter, budget_us, schema, rows, calls, whole, nominal):
    """``(runtime, cut, cost budget, latency)`` of the teacher at ``budget_us`` (``cut`` None
    for the whole teacher); None when no cut fits."""
    if nominal is not None:
        cut = cutter.cut(nominal)
        if cut is None:
            return None
        if cut.share == 1.0:
            return whole, None, nominal, steady_latency(whole, rows, calls)
        runtime = compile_teacher(cut.teacher, schema)
        return runtime, cut, nominal, steady_latency(runtime, rows, calls)
    one = steady_latency(whole, rows, calls)
    if one["p99_us"] <= budget_us:
        return whole, None, budget_us, one
    fitted = cut_within(cutter, budget_us, schema, rows, calls, one["p99_us"])
    if fitted is None:  # no tree to cut (a linear teacher) ships whole, else nothing fits
        return (whole, None, budget_us, one) if not cutter.steps else None
    cut, runtime, one, cost_budget = fitted
    return runtime, cut, cost_budget, one


def _threshold(model, whole, Z, cut_scores) -> float | None:
    """The cut's threshold flagging the share of rows ``Z`` the ``whole`` compiled teacher
    flags at its own, where the fit's rule is a target met on validation rows; None otherwise
    (K classes, or a fixed probability, which holds for the cut as it is)."""
    rule, at = model.threshold, model.teacher_decision_threshold_
    if at is None or not isinstance(rule, dict):
        return None
    flagged = int(np.sum(whole.score_encoded(Z) >= at))
    if flagged == 0:
        return float(np.inf)
    return float(np.sort(cut_scores)[::-1][flagged - 1])


def shipped_teacher_text(info: dict, rows: str = "test rows") -> str:
    """The teacher shipped at a latency budget (:attr:`ShippedTeacher.info`) in words."""
    budget = f"teacher at {info['latency_budget_us']:g} us:"
    if "left_out" in info:
        return f"{budget} none: {info['left_out']}"
    share = info["tree_share"]
    what = "the whole teacher" if share >= 1.0 else f"cut to {share:.0%} of its trees"
    over = "" if info.get("within_budget", True) else " (over its budget here)"
    return (
        f"{budget} {what}, p99 {info['single_row_p99_us']:,.1f} us{over}, ROC-AUC "
        f"{info['metrics']['roc_auc']:.4f} on the {rows} (predict --scorer teacher)"
    )
