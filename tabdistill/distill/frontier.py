"""The latency-accuracy frontier: a student at each of several latency budgets.

A boosted student's rounds are added in order, so the student a budget of
``b`` microseconds allows is a *prefix* of a longer run: its first rounds whose
tree steps fit in ``b``. :func:`fit_frontier` therefore fits, for each candidate
size, one long run of the distilled student (with the knobs the search chose)
and one of the baseline, early-stopped on validation, and reads every budget's
students off them: at each budget the cheapest size within the size tolerance
of the best, distilled or baseline as the gate's validation checks decide. The
students chosen are refit on every labelled row like the shipped one, once per
size with the most rounds any budget takes, and cut to each budget's rounds.

The budget the estimator was fit at (``latency_budget``) is not refit here: its
point is the shipped student itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import take
from .context import FitContext, seed_of
from .gate import GateRule
from .labels import soften
from .refit import FinalModels
from .search import search_rows
from .selection import Candidate, Knobs, cheapest_within, evaluate, win_rate
from .sizes import TREE_STEP_NS, round_steps, student_cost
from .soft_targets import DistillData, TargetRecipe

#: The budgets (microseconds of single-row p99) ``tabdistill benchmark`` fits by default.
DEFAULT_BUDGETS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0)

#: Most boosting rounds of a frontier run: enough trees of depth 3 for 100 us or so.
FRONTIER_ROUNDS = 4_000


@dataclass
class FrontierPoint:
    """The student shipped at one latency budget.

    Attributes
    ----------
    budget_us : float
    student : Student
        Fitted (refit on every labelled row when the fit refits).
    source : {"distilled", "baseline"}
    knobs : Knobs
        What made it (its ``student_params`` hold the rounds kept).
    validation : float
        Its selection metric on the validation rows before the refit (larger is better).
    reason : str or None
        Why the baseline is shipped at this budget (None for a distilled student).
    """

    budget_us: float
    student: object
    source: str
    knobs: Knobs
    validation: float
    reason: str | None = None

    @classmethod
    def shipped(cls, budget_us, student, candidate: Candidate, fallback) -> FrontierPoint:
        """The point of the student a fit ships (``fallback``: why it is the baseline)."""
        source = "baseline" if fallback else "distilled"
        return cls(budget_us, student, source, candidate.knobs, candidate.value, fallback)

    @property
    def tree_steps(self) -> float:
        return student_cost(self.student)

    @property
    def predicted_p99_us(self) -> float:
        return self.tree_steps * TREE_STEP_NS / 1000

    def summary(self) -> dict:
        """The JSON-able line of this point in ``report_["frontier"]``."""
        return {
            "latency_budget_us": self.budget_us,
            "source": self.source,
            "tree_steps": self.tree_steps,
            "predicted_p99_us": round(self.predicted_p99_us, 3),
            "validation": abs(self.validation),
            "student_params": self.knobs.student_params,
            "reason": self.reason,
        }


@dataclass
class _Run:
    """One long run of one size: the fitted student and its rounds' cumulative tree steps."""

    knobs: Knobs
    model: object
    steps: np.ndarray

    def rounds_within(self, budget_us: float) -> int:
        cap = budget_us * 1000 / TREE_STEP_NS
        return max(1, min(int(np.searchsorted(self.steps, cap, side="right")), len(self.steps)))


def fit_frontier(
    ctx: FitContext,
    budgets,
    sizes,
    shipped: FrontierPoint,
    data: DistillData,
    final: FinalModels,
    *,
    recipe: TargetRecipe,
    rule: GateRule,
    tolerance: float,
    teacher_leads: bool,
) -> list[FrontierPoint]:
    """The students at each of ``budgets`` (see the module docstring), ``shipped`` at its own.

    ``data`` are the soft targets the search used, ``final`` the fit's final models (their
    refit data and whether the fit refits). ``teacher_leads``: the gate's cross-validated
    check did not rule distillation out, so a distilled student may be shipped where it
    wins on validation.
    """
    others = sorted(b for b in set(budgets) if b != shipped.budget_us)
    if not others or not hasattr(ctx.students.new(0, None), "truncated"):
        return [shipped]
    if ctx.budget.limited and not ctx.budget.fits(0.0):
        ctx.budget.cut("no latency-accuracy frontier: the time limit is spent")
        return [shipped]
    with ctx.stages.stage("frontier", total=2 * len(sizes) + len(others)) as stage:
        rows = search_rows(len(ctx.train), ctx.seeds.student)
        compared = data if rows is None else data.subsample(rows)
        distilled = _long_runs(ctx, sizes, shipped.knobs, compared, recipe, True, stage)
        hard = _long_runs(ctx, sizes, Knobs({}), compared, recipe, False, stage)
        picks = []
        for budget in others:
            picks.append(_pick(ctx, budget, distilled, hard, rule, tolerance, teacher_leads))
            stage.update()
        points = _refit(ctx, picks, data, final, recipe)
        stage.detail = ", ".join(f"{p.budget_us:g} us {p.source}" for p in points)
    return sorted(
        [shipped, *points], key=lambda p: math.inf if p.budget_us is None else p.budget_us
    )


def _long_runs(ctx, sizes, knobs, data, recipe, soft, stage) -> list[_Run]:
    """One early-stopped run per size, as long as the largest budget could use."""
    students, validation = ctx.students, ctx.validation
    if soft:
        training = data.training_set(knobs, recipe)
        q_va = soften(data.validation_proba, recipe.temperature)
        alpha = knobs.alpha or 0.0
        target_va = (1 - alpha) * q_va + alpha * students.hard_targets(validation.y)
    else:
        training = students.hard_set(data.Z, data.y, data.weight)
        target_va = students.hard_targets(validation.y)
    eval_set = (validation.Z, target_va, validation.weight)
    runs = []
    for size in sizes:
        long = {**size, "n_estimators": FRONTIER_ROUNDS, "max_steps": None}
        params = students.params(long, knobs.loss)
        model = students.fit(ctx.seeds.student, params, training, eval_set)
        runs.append(_Run(knobs.with_params(params), model, _cumulative_steps(model)))
        stage.update()
    return runs


def _cumulative_steps(model) -> np.ndarray:
    """Tree steps a row takes through the first 1, 2, ... rounds of a fitted student."""
    per_class = model.init_.shape[-1] if getattr(model, "init_", None) is not None else 1
    return np.cumsum(round_steps(model.booster_, model.n_estimators_, per_class))


def _best_within(ctx, runs, budget, tolerance) -> Candidate:
    """The cheapest run prefix within ``tolerance`` of the best on validation at ``budget``."""
    fitted = []
    for run in runs:
        rounds = run.rounds_within(budget)
        model = run.model.truncated(rounds)
        params = {**run.knobs.student_params, "n_estimators": rounds, "early_stopping_rounds": None}
        fitted.append(evaluate(model, run.knobs.with_params(params), ctx.validation))
    return cheapest_within(fitted, tolerance, student_cost)


def _pick(ctx, budget, distilled, hard, rule, tolerance, teacher_leads):
    """Distilled or baseline at ``budget``: the gate's validation checks decide."""
    student = _best_within(ctx, distilled, budget, tolerance)
    baseline = _best_within(ctx, hard, budget, tolerance)
    validation = ctx.validation
    wins = win_rate(
        validation.metric,
        validation.y,
        student.validation_proba,
        baseline.validation_proba,
        validation.weight,
        random_state=ctx.seeds.student % (2**32),
    )
    reason = None
    if student.value <= baseline.value or wins < rule.confidence:
        reason = f"the baseline wins on validation ({wins:.0%} of resamples for the student)"
    elif not teacher_leads:
        reason = "the teacher does not beat the baseline cross-validated"
    if reason is not None and rule.enforce:
        return budget, "baseline", baseline, reason
    return budget, "distilled", student, reason


def _refit(ctx, picks, data, final: FinalModels, recipe) -> list[FrontierPoint]:
    """Each pick refit on every labelled row (or on all training rows when the fit does not
    refit), one run per source and size with the most rounds any budget took."""
    longest = {}
    for _, source, cand, _ in picks:
        key = (source, repr(cand.knobs))
        rounds = cand.knobs.student_params["n_estimators"]
        longest[key] = max(longest.get(key, (0, cand))[0], rounds), cand
    refit = {
        key: _refit_one(ctx, source_cand, n, data, final, recipe, key[0])
        for key, (n, source_cand) in longest.items()
    }
    points = []
    for budget, source, cand, reason in picks:
        run = refit[(source, repr(cand.knobs))]
        # the refit's trees may grow deeper than the search's: cut to the budget again
        rounds = min(cand.knobs.student_params["n_estimators"], run.rounds_within(budget))
        model = run.model.truncated(rounds)
        points.append(FrontierPoint(budget, model, source, cand.knobs, cand.value, reason))
    return points


def _refit_one(ctx, cand, rounds, data, final: FinalModels, recipe, source):
    """``cand``'s student fit again with ``rounds`` rounds on the rows the shipped models
    were last fit on."""
    students = ctx.students
    params = {**cand.knobs.student_params, "n_estimators": rounds, "early_stopping_rounds": None}
    if not final.refit:
        rows = (ctx.Z_train, ctx.y_train, ctx.weight_train)
        training = (
            students.hard_set(*rows)
            if source == "baseline"
            else data.training_set(cand.knobs, recipe)
        )
    elif source == "baseline":
        labelled = ctx.labelled
        training = students.hard_set(ctx.Z[labelled], ctx.y[labelled], take(ctx.weight, labelled))
    elif final.refit_teacher:
        training = final.data.training_set(cand.knobs, recipe)
    else:
        extra = data.validation_rows(ctx.validation.Z, ctx.validation.y, ctx.validation.weight)
        training = data.training_set(cand.knobs, recipe, extra)
    model = students.fit(seed_of(cand), params, training)
    return _Run(cand.knobs, model, _cumulative_steps(model))
