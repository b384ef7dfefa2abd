"""The frontier's long runs: one early-stopped run of each student size, read at every budget.

A budget's student is a prefix of a long run (:mod:`~tabdistill.distill.frontier`), so a
long run goes on as far as the largest budget could read: up to :data:`FRONTIER_ROUNDS`
rounds, ending by early stopping on its own loss or soon past the largest budget's tree
steps (:class:`~tabdistill.distill.stopping.StepCap`). Most are read off the search's fits
(:func:`searched_run`); :func:`fit_long_runs` fits the others through a :class:`Fitter`,
which keeps the frontier within its share of a time limit.

Where the validation rows hold enough of the rarer class to tell a thousandth of ROC-AUC from
noise, a costly run -- on large data (more training rows than the search fits, see
:func:`~tabdistill.distill.search.search_rows`), or on a training set of
:data:`COSTLY_CELLS` or more -- also ends once the second half of its rounds raised its
validation ROC-AUC by no more than the size tolerance (:func:`plateau_rule`,
:class:`~tabdistill.distill.stopping.PlateauRule`). A run towards the teacher's log-odds
otherwise fits them closer, for thousands of rounds and minutes of fitting and refitting,
while its ROC-AUC creeps up by less than any student choice counts; on smaller training sets
its runs take seconds and go on to early stopping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .context import FitContext, same_params
from .labels import soften
from .selection import Candidate, Knobs, evaluate
from .sizes import TREE_STEP_NS, round_steps
from .stopping import PlateauRule

#: Most boosting rounds of a frontier run: enough trees of depth 3 for 100 us or so.
FRONTIER_ROUNDS = 4_000

#: Cells (rows, synthetic ones included, times encoded columns) of a training set from which
#: a frontier fit on it is costly: 500 rounds of 15 leaves take about half a minute on two
#: cores, and a long run or a bag of every size several minutes. Such runs end on the
#: plateau where validation can tell (as on large data), and such bags are of one shape
#: (:mod:`~tabdistill.distill.frontier`).
COSTLY_CELLS = 20_000_000


@dataclass
class Run:
    """One long run of one size: the fitted student, its rounds' cumulative tree steps,
    whether it was fit here (False: read off a fit of the search or the final refit), and
    its prefixes scored on validation so far (rounds -> :class:`Candidate`)."""

    knobs: Knobs
    model: object
    steps: np.ndarray
    fitted: bool = True
    prefixes: dict = field(default_factory=dict, repr=False)

    def rounds_within(self, budget_us: float) -> int:
        cap = budget_us * 1000 / TREE_STEP_NS
        return max(1, min(int(np.searchsorted(self.steps, cap, side="right")), len(self.steps)))

    def prefix(self, rounds: int, validation) -> Candidate:
        """The run's first ``rounds`` rounds scored on ``validation`` (once per ``rounds``:
        budgets that take the same rounds share it)."""
        if rounds not in self.prefixes:
            params = {
                **self.knobs.student_params,
                "n_estimators": rounds,
                "early_stopping_rounds": None,
            }
            model = self.model.truncated(rounds)
            self.prefixes[rounds] = evaluate(model, self.knobs.with_params(params), validation)
        return self.prefixes[rounds]


@dataclass
class Fitter:
    """Fits the frontier's students within its stage's share of a time limit (``budget``),
    counting the fits it left out; runs that stop early also end by ``plateau`` when given,
    on every training set with ``plateau_all`` (large data), else on costly ones
    (:func:`costly`). ``rate``: the most seconds a round on one row took yet."""

    ctx: FitContext
    budget: object
    plateau: PlateauRule | None = None
    plateau_all: bool = False
    left_out: dict = field(default_factory=dict)
    cut_short: int = 0
    rate: float = 0.0

    def has_time(self, what: str, row_rounds: float = 0.0) -> bool:
        """Whether the stage has time left for a fit of ``what`` (counted when not)."""
        if self.budget.fits(self.rate * row_rounds):
            return True
        self.left_out[what] = self.left_out.get(what, 0) + 1
        return False

    def fit(self, seed, params, *fit_data, stop_steps=None):
        """A student fit that stops adding trees at the stage's end (see
        :meth:`StudentFactory.fit <tabdistill.distill.context.StudentFactory.fit>`)."""
        deadline = self.ctx.budget.fit_deadline(self.budget, required=False)
        plateau = self.plateau if self.plateau_all or costly(*fit_data[0].Z.shape) else None
        start = time.perf_counter()
        model = self.ctx.students.fit(
            seed, params, *fit_data, deadline=deadline, stop_steps=stop_steps, plateau=plateau
        )
        row_rounds = len(fit_data[0].target) * max(1, getattr(model, "rounds_run_", 1))
        self.rate = max(self.rate, (time.perf_counter() - start) / row_rounds)
        self.cut_short += getattr(model, "run_end_", None) == "deadline"
        return model

    def record(self) -> None:
        """Record what the time limit left out as one cut of the fit."""
        what = [f"left out {n} {kind}" for kind, n in self.left_out.items()]
        what += [f"cut {self.cut_short} fit(s) short"] if self.cut_short else []
        if what:
            self.budget.cut(f"frontier: the time limit {', '.join(what)}")


def fit_long_runs(fitter, sizes, sources, data, recipe, stage, reads) -> tuple[list, ...]:
    """One early-stopped run per size of each of ``sources`` (the distilled knobs, or empty
    ones for the baseline; ``sizes``: each source's list of sizes, in the same order), as
    long as the largest budget could use: read off the search's where :func:`searched_run`
    finds it there, else fit. Size by size, so that a time limit leaves out the last sizes
    of both sources."""
    ctx = fitter.ctx
    fit_data, runs = [None] * len(sources), tuple([] for _ in sources)
    for sized in zip(*sizes):
        for i, (knobs, size) in enumerate(zip(sources, sized)):
            long = {**size, "n_estimators": FRONTIER_ROUNDS, "max_steps": None}
            params = ctx.students.params(long, knobs.loss)
            run = searched_run(ctx, knobs.with_params(params), *reads)
            if run is None and fitter.has_time("long runs"):
                fit_data[i] = fit_data[i] or run_data(ctx, knobs, data, recipe)
                # no budget reads past the largest one's steps: the run ends soon after them
                model = fitter.fit(ctx.seeds.student, params, *fit_data[i], stop_steps=reads[1])
                run = Run(knobs.with_params(params), model, cumulative_steps(model))
            if run is None or getattr(run.model, "run_end_", None) == "deadline":
                short = searched_run(ctx, knobs.with_params(params), *reads, partial=True)
                run = max((r for r in (run, short) if r), key=lambda r: len(r.steps), default=None)
            if run is not None:
                runs[i].append(run)
            stage.update()
    return runs


def run_data(ctx, knobs, data, recipe) -> tuple:
    """The training set and eval set of a long run: the search's for distilled ``knobs``
    (those with an ``alpha``), the baseline's for the others."""
    students, validation = ctx.students, ctx.validation
    if knobs.alpha is not None:
        training = data.training_set(knobs, recipe)
        q_va = soften(data.validation_proba, recipe.temperature)
        alpha = knobs.alpha
        target_va = (1 - alpha) * q_va + alpha * students.hard_targets(validation.y)
    else:
        training = students.hard_set(data.Z, data.y, data.weight)
        target_va = students.hard_targets(validation.y)
    return training, (validation.Z, target_va, validation.weight)


def costly(n_rows, n_columns) -> bool:
    """Whether frontier fits on a training set of that shape are costly (:data:`COSTLY_CELLS`)."""
    return n_rows * n_columns >= COSTLY_CELLS


def run_rows(knobs, data) -> int:
    """Rows of the training set :func:`run_data` gives ``knobs`` (without building it)."""
    synthetic = data.synthetic_rows(knobs.augment_factor) if knobs.alpha is not None else 0
    return len(data.Z) + synthetic


def searched_run(ctx, knobs: Knobs, searched, max_steps, partial=False) -> Run | None:
    """The long run of ``knobs`` read off the one of ``searched`` fit with them but for its
    round and step caps, where the budgets (``max_steps`` tree steps at most) read the same
    rounds off both: that fit ended by early stopping (a run allowed more rounds stops at
    the same round), or it reached its round cap beyond ``max_steps``. None otherwise.
    ``partial``: that fit however far it went (what the frontier falls back on when the
    time limit leaves its long run out or cuts it short)."""
    long = ctx.students.new(ctx.seeds.student, knobs.student_params)
    for cand in searched:
        model = cand.model
        if data_knobs(cand.knobs) != data_knobs(knobs) or not same_spec(
            model, long, ("n_estimators", "max_steps")
        ):
            continue
        end = getattr(model, "run_end_", None)
        whole = end in ("early_stopping", "n_estimators") and model.n_estimators <= FRONTIER_ROUNDS
        if not (whole or partial):
            return None
        run = model.truncated(model.rounds_run_)
        steps = cumulative_steps(run)
        if partial or end == "early_stopping" or steps[-1] > max_steps:
            return Run(knobs, run, steps, fitted=False)
        return None
    return None


def data_knobs(knobs: Knobs) -> tuple:
    return knobs.augment_factor, knobs.alpha, knobs.loss


def same_spec(a, b, caps) -> bool:
    """Whether students ``a`` and ``b`` have the same parameters but for those in ``caps``."""
    return same_params(a.get_params(), b.get_params(), caps)


def cumulative_steps(model) -> np.ndarray:
    """Tree steps a row takes through the first 1, 2, ... rounds of a fitted student."""
    per_class = model.init_.shape[-1] if getattr(model, "init_", None) is not None else 1
    return np.cumsum(round_steps(model.booster_, model.n_estimators_, per_class))


def plateau_rule(ctx: FitContext, fine: bool, tolerance: float) -> PlateauRule | None:
    """How costly long runs end once their validation score stops paying for their trees,
    with the size ``tolerance``: only where the validation rows can tell (``fine``, see the
    module docstring)."""
    if not fine:
        return None
    validation = ctx.validation
    return PlateauRule(validation.metric, validation.y, validation.weight, tolerance)
