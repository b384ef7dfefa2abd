"""The latency-accuracy frontier: a student at each of several latency budgets.

A boosted student's rounds are added in order, so the student a budget of
``b`` microseconds allows is a *prefix* of a longer run: its first rounds whose
tree steps fit in ``b``. :func:`fit_frontier` therefore takes, for each candidate
size, one long run of the distilled student (with the knobs the search chose)
and one of the baseline, early-stopped on validation, and reads every budget's
students off them: at each budget the cheapest size within the size tolerance
of the best, distilled or baseline as the gate's validation checks decide. The
students chosen are refit on every labelled row like the shipped one, once per
size with the most rounds any budget takes, and cut to each budget's rounds.

Most long runs are already there: the search and the baseline fit each size on the
same rows, against the same validation targets, with the same seed, and only cut
the run to the shipped budget afterwards. A run early stopping ended is the long
run (a run allowed more rounds stops at the same round); a run that reached its
round cap is one as far as any budget reads it when no budget takes all its rounds.
A long run is fit only for the other sizes. Likewise a refit is read off the fit's
own final student or baseline when that is the same fit with enough rounds.

Budgets of at least twice the shipped one also get a *bag*: the mean log-odds of
``k`` students of one shape, each within ``1/k`` of the budget, that differ by seed
and by their subsample of rows and columns (:mod:`~tabdistill.distill.bagging`). One
long run per member serves every budget, as the single students' runs do; a bag
replaces a source's single student at a budget where it scores higher on validation.
The shape that bags best is not the best single one (averaging pays most on members
of high variance), so where the validation rows hold :data:`FINE_CHOICE_RARER_ROWS` of
the rarer class or more, each size gets its bag and validation picks among them. With
fewer, a choice among several bags is mostly noise (a ROC-AUC's noise grows as the rarer
class's rows shrink), and the bag is of the best single shape at the shipped budget
(``docs/results.md#bagged-students``). A source whose training set is costly
(:data:`~tabdistill.distill.long_runs.COSTLY_CELLS`: a distilled student's with its
synthetic rows, on a table of tens of thousands of rows and a hundred columns) also bags
its best single shape only: five members of every size would take most of the fit.

Where the search's student is linear (it holds a mostly linear teacher, see
:mod:`~tabdistill.distill.search`), there are no distilled tree runs: it is the distilled
candidate at every budget (fit once, it costs no tree steps), against the baseline's
prefixes and bags there, and every budget that takes it shares one student. Where the gate
shipped it on the teacher's cross-validated lead over the baseline
(:mod:`~tabdistill.distill.gate`), that verdict stands at the budgets below the shipped one
too, whose baselines are no larger than the one it was checked against; above it, a larger
baseline (or bag) replaces the linear student only where it beats the checked baseline on
validation by more than that lead. Judged on the validation rows alone, as a tree student is,
the best of several baseline sizes and bags beats a single linear fit there by luck
(``docs/results.md#a-linear-student-for-a-linear-teacher``).

The budget the estimator was fit at (``latency_budget``) is not refit here: its
point is the shipped student itself.

The long runs are fit and read in :mod:`~tabdistill.distill.long_runs`. Under a
``time_limit`` the frontier is a stage of the fit (:class:`~tabdistill.distill.long_runs.Fitter`):
a long run it leaves out or cuts short falls back on the search's fit of that size, a refit
on its run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import take
from .bagging import BAG_MEMBERS, bag_student, member_params
from .context import FitContext, seed_of
from .gate import GateRule
from .long_runs import (
    Fitter,
    Run,
    costly,
    cumulative_steps,
    data_knobs,
    fit_long_runs,
    plateau_rule,
    run_data,
    run_rows,
    same_spec,
)
from .refit import FinalModels
from .search import SearchSpace, search_rows
from .selection import Candidate, Knobs, cheapest_within, evaluate, win_rate
from .sizes import TREE_STEP_NS, student_cost
from .soft_targets import DistillData, TargetRecipe
from .students import LightGBMStudent

#: The budgets (microseconds of single-row p99) ``tabdistill benchmark`` fits by default.
DEFAULT_BUDGETS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0)

#: Validation rows of the rarer class from which validation is trusted with fine choices:
#: every student size gets a bag and validation picks the best, and on large data a long run
#: ends once its ROC-AUC stops paying for its trees (with fewer, a gain of a thousandth is
#: mostly noise).
FINE_CHOICE_RARER_ROWS = 500


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
            "bag_members": getattr(self.student, "bag_members_", 1),
            "reason": self.reason,
        }


def fit_frontier(
    ctx: FitContext,
    budgets,
    space: SearchSpace,
    shipped: FrontierPoint,
    data: DistillData,
    final: FinalModels,
    *,
    recipe: TargetRecipe,
    rule: GateRule,
    teacher_leads: bool,
    searched=(),
    tree_knobs: Knobs | None,
    linear: Candidate | None = None,
    linear_bar: float | None = None,
) -> list[FrontierPoint]:
    """The students at each of ``budgets`` (see the module docstring), ``shipped`` at its own.

    ``data`` are the soft targets the search used, ``final`` the fit's final models (their
    refit data and whether the fit refits). ``teacher_leads``: the gate's cross-validated
    check did not rule distillation out, so a distilled student may be shipped where it
    wins on validation. ``space``: the search's sizes, size tolerance and the parameters
    every distilled student inherits (its distilled runs get them where the baseline is
    shipped too). ``searched``: the candidates the search and
    the baseline fit at each size on the rows the frontier compares on, whose runs it reads
    what it can off. ``tree_knobs``: the data knobs of the distilled tree students, None
    when the distilled student is ``linear``, the search's linear candidate (fit once, it
    costs no tree steps: every budget may take it). ``linear_bar``: where the gate shipped
    the linear student on the teacher's cross-validated lead, the validation score a baseline
    must exceed to replace it at a larger budget (:meth:`GateDecision.bar
    <tabdistill.distill.gate.GateDecision.bar>`).
    """
    sizes, tolerance = space.sizes, space.size_tolerance
    others = sorted(b for b in set(budgets) if b != shipped.budget_us)
    if not others or not hasattr(ctx.students.new(0, None), "truncated"):
        return [shipped]
    if ctx.budget.limited and not ctx.budget.fits(0.0):
        ctx.budget.cut("no latency-accuracy frontier: the time limit is spent")
        return [shipped]
    bagged = max(others) >= 2 * shipped.budget_us and _can_bag(ctx)
    fine = _rarer_class_rows(ctx.validation.y) >= FINE_CHOICE_RARER_ROWS
    rows = search_rows(len(ctx.train), ctx.seeds.student)
    compared = data if rows is None else data.subsample(rows)
    sources, source_sizes = (Knobs({}),), (sizes,)
    if tree_knobs is not None:
        sources, source_sizes = (tree_knobs, *sources), (space.distilled_sizes(), sizes)
    # the shapes each source bags, distilled and baseline
    shapes = [0] * (tree_knobs is None) + [
        _bag_shapes(fine, len(sizes), knobs, compared) for knobs in sources
    ]
    total = len(sources) * len(sizes) + BAG_MEMBERS * sum(shapes) * bagged + len(others)
    with ctx.stages.stage("frontier", total=total) as stage:
        # its fits get four fifths of the stage; scoring their prefixes on validation the rest
        share = ctx.budget.stage("frontier").stage(4, 1)
        fitter = Fitter(ctx, share, plateau_rule(ctx, fine, tolerance), rows is not None)
        reads = (list(searched), max(others) * 1000 / TREE_STEP_NS)
        *trees, hard = fit_long_runs(fitter, source_sizes, sources, compared, recipe, stage, reads)
        distilled = trees[0] if trees else []
        fixed = () if linear is None else (linear,)
        cleared = shipped.source == "distilled" and fixed and shipped.knobs == linear.knobs
        if not (distilled or fixed) or not hard:
            fitter.record()
            return [shipped]
        bags = ((), ())
        if bagged:
            floor, cap = shipped.budget_us, _Bag.most_steps(others, shipped.budget_us)
            bags = tuple(
                _Bag.fit_shapes(fitter, runs, n, (floor, cap), compared, recipe, stage)
                if runs
                else []
                for runs, n in zip((distilled, hard), shapes)
            )
        picks = []
        for budget in others:
            if cleared and budget < shipped.budget_us:
                picks.append((budget, "distilled", linear, None))
            elif cleared and linear_bar is not None:
                over = (linear, linear_bar, rule)
                picks.append(_pick_over(ctx, budget, over, hard, tolerance, bags[1]))
            else:
                runs = (distilled, hard, fixed)
                picks.append(_pick(ctx, budget, runs, rule, tolerance, teacher_leads, bags))
            stage.update()
        every_bag = [bag for source in bags for bag in source]
        bagged = [bag.picked(picks) for bag in every_bag]
        linear_picks = [p for p in picks if p[2] is linear]
        singles = [p for p in picks if p not in linear_picks and not any(p in b for b in bagged)]
        points, refits = _refit(fitter, singles, data, final, recipe, shipped)
        more, fitted = _refit_linear(fitter, linear_picks, data, final, recipe, shipped)
        points, refits = points + more, refits + fitted
        for bag, picked in zip(every_bag, bagged):
            if picked:
                more, fitted = bag.refit(fitter, picked, data, final, recipe)
                points, refits = points + more, refits + fitted
        fitter.record()
        grown = [run for run in distilled + hard if run.fitted]
        grown += [run for bag in every_bag for run in bag.runs]
        flat = sum(getattr(run.model, "run_end_", None) == "plateau" for run in grown)
        stage.detail = (
            f"{len(grown)} long runs ({flat} ended on a plateau) and {refits} refits fit; "
            + ", ".join(f"{p.budget_us:g} us {p.source}{_bag_mark(p.student)}" for p in points)
        )
    return sorted(
        [shipped, *points], key=lambda p: math.inf if p.budget_us is None else p.budget_us
    )


def _bag_mark(student) -> str:
    members = getattr(student, "bag_members_", 1)
    return f" x{members}" if members > 1 else ""


def _rarer_class_rows(y) -> int:
    """Rows of the rarer class among labels ``y`` (0 for fewer than two classes)."""
    counts = np.unique(np.asarray(y), return_counts=True)[1]
    return int(counts.min()) if len(counts) > 1 else 0


def _bag_shapes(fine: bool, n_sizes: int, knobs: Knobs, data: DistillData) -> int:
    """How many shapes a source of ``knobs`` bags (see the module docstring): every size's
    where validation is ``fine`` and the source's training set is not costly, else one."""
    if fine and not costly(run_rows(knobs, data), data.Z.shape[1]):
        return n_sizes
    return 1


def _can_bag(ctx) -> bool:
    """Whether bags apply: binary LightGBM students (a bag averages their models), training
    rows the search compares on in full (above :data:`~tabdistill.distill.search.SEARCH_ROWS`
    a single student has rows enough, and five members would cost five refits on all of
    them), and time left when the fit has a time limit."""
    if ctx.n_classes != 2 or not isinstance(ctx.students.new(0, None), LightGBMStudent):
        return False
    if search_rows(len(ctx.train), ctx.seeds.student) is not None:
        return False
    return not ctx.budget.limited or ctx.budget.fits(0.0)


@dataclass
class _Bag:
    """A bag of one shape: the long runs of its members and the bags built off them so far
    (members' rounds -> :class:`Candidate`). At a budget ``b`` the bag has
    ``k = b // floor_us`` members (at most :data:`BAG_MEMBERS`), each cut to ``b / k``."""

    runs: list
    floor_us: float
    built: dict = field(default_factory=dict, repr=False)

    @classmethod
    def fit_shapes(cls, fitter, runs, shapes, floor, data, recipe, stage) -> list[_Bag]:
        """One source's bags: one of each of ``runs``' shapes when ``shapes`` is their
        number, else one of the best single shape at ``floor_us`` on validation. ``floor``:
        ``(floor_us, stop_steps)``, the budget of one member and the most steps a member's
        run is read at (:meth:`most_steps`)."""
        floor_us, stop_steps = floor
        validation = fitter.ctx.validation
        if shapes < len(runs):
            runs = [max(runs, key=lambda r: r.prefix(r.rounds_within(floor_us), validation).value)]
        fit_data = run_data(fitter.ctx, runs[0].knobs, data, recipe)  # the sizes share it
        return [cls.fit(fitter, run, floor_us, fit_data, stage, stop_steps) for run in runs]

    @staticmethod
    def most_steps(budgets, floor_us) -> float:
        """The most tree steps any of ``budgets`` gives one member of a bag."""
        shares = [b / min(BAG_MEMBERS, b // floor_us) for b in budgets if b // floor_us >= 2]
        return max(shares, default=floor_us) * 1000 / TREE_STEP_NS

    @classmethod
    def fit(cls, fitter, shape, floor_us, fit_data, stage, stop_steps=None) -> _Bag:
        """The members' runs: ``shape``'s student fit again on ``fit_data`` (see
        :func:`run_data`) with :func:`~tabdistill.distill.bagging.member_params` and seeds
        of their own, each ending soon after ``stop_steps`` tree steps (fewer members when
        the time limit is spent)."""
        params = member_params(shape.knobs.student_params)
        members = []
        for i in range(BAG_MEMBERS):
            if not fitter.has_time("bag members"):
                continue
            seed = (fitter.ctx.seeds.student + 1 + i) % (2**31 - 1)
            model = fitter.fit(seed, params, *fit_data, stop_steps=stop_steps)
            members.append(Run(shape.knobs.with_params(params), model, cumulative_steps(model)))
            stage.update()
        return cls(members, floor_us)

    def members_at(self, budget_us) -> int:
        return min(len(self.runs), int(budget_us // self.floor_us))

    def at(self, budget_us, validation) -> Candidate | None:
        """The bag at ``budget_us`` scored on ``validation`` (None: room for one member only)."""
        k = self.members_at(budget_us)
        if k < 2:
            return None
        rounds = tuple(run.rounds_within(budget_us / k) for run in self.runs[:k])
        if rounds not in self.built:
            student = bag_student([r.model.truncated(n) for r, n in zip(self.runs, rounds)])
            params = {**self.runs[0].knobs.student_params, "n_estimators": max(rounds)}
            knobs = self.runs[0].knobs.with_params({**params, "early_stopping_rounds": None})
            self.built[rounds] = evaluate(student, knobs, validation)
        return self.built[rounds]

    def picked(self, picks) -> list:
        """The picks (of :func:`_pick`) that are bags built here."""
        built = {id(cand) for cand in self.built.values()}
        return [pick for pick in picks if id(pick[2]) in built]

    def refit(self, fitter, picks, data, final, recipe) -> tuple[list, int]:
        """The points of ``picks`` (built by this bag) with every member they use refit like
        a single student (see :func:`_refit_one`), once, with the most rounds any budget
        took; and how many members were refit."""
        rounds_of = {id(cand): rounds for rounds, cand in self.built.items()}
        most = np.zeros(len(self.runs), dtype=int)
        for pick in picks:
            rounds = rounds_of[id(pick[2])]
            most[: len(rounds)] = np.maximum(most[: len(rounds)], rounds)
        source = picks[0][1]
        refit = [
            _refit_one(
                fitter,
                Candidate(run.knobs, run.model, None, 0.0),
                int(n),
                data,
                final,
                recipe,
                source,
            )
            for run, n in zip(self.runs, most)
            if n
        ]
        points, students = [], {}
        for budget, _, cand, reason in picks:
            rounds = rounds_of[id(cand)]
            share = budget / len(rounds)
            cut = tuple(min(n, run.rounds_within(share)) for run, n in zip(refit, rounds))
            if cut not in students:  # budgets that take the same rounds share a student
                students[cut] = bag_student([r.model.truncated(n) for r, n in zip(refit, cut)])
            points.append(
                FrontierPoint(budget, students[cut], source, cand.knobs, cand.value, reason)
            )
        return points, sum(run.fitted for run in refit)


def _best_within(ctx, runs, budget, tolerance, fixed=()) -> Candidate:
    """The cheapest of the run prefixes at ``budget`` and the ``fixed`` candidates (fit
    once, within every budget) within ``tolerance`` of the best on validation."""
    fitted = [run.prefix(run.rounds_within(budget), ctx.validation) for run in runs]
    return cheapest_within(fitted + list(fixed), tolerance, student_cost)


def _pick(ctx, budget, runs, rule, tolerance, teacher_leads, bags=((), ())):
    """Distilled or baseline at ``budget``: the gate's validation checks decide. ``runs``:
    the distilled and the baseline long runs, and the distilled candidates fit once
    (:func:`_best_within`). Each side is its best single student, or its best bag
    (:class:`_Bag`) where that scores higher."""
    distilled, hard, fixed = runs
    student, baseline = (
        _with_bag(ctx, _best_within(ctx, side, budget, tolerance, extra), bag, budget)
        for side, extra, bag in zip((distilled, hard), (fixed, ()), bags)
    )
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


def _pick_over(ctx, budget, over, hard, tolerance, bags):
    """Linear student or baseline at ``budget`` where the gate shipped the linear student on
    the teacher's cross-validated lead. ``over``: ``(linear, bar, rule)``; the best baseline
    (single or bag) replaces it only where it scores above ``bar`` on validation (see the
    module docstring) and the rule is enforced."""
    linear, bar, rule = over
    baseline = _with_bag(ctx, _best_within(ctx, hard, budget, tolerance), bags, budget)
    if baseline.value > bar and rule.enforce:
        reason = "the baseline beats the teacher's cross-validated lead on validation"
        return budget, "baseline", baseline, reason
    return budget, "distilled", linear, None


def _with_bag(ctx, single: Candidate, bags, budget) -> Candidate:
    """``single``, or the best of ``bags``' students at ``budget`` where it scores higher on
    validation."""
    best = single
    for bag in bags:
        bagged = bag.at(budget, ctx.validation)
        if bagged is not None and bagged.value > best.value:
            best = bagged
    return best


def _refit(fitter, picks, data, final: FinalModels, recipe, shipped) -> tuple[list, int]:
    """Each pick refit on every labelled row (or on all training rows when the fit does not
    refit), one run per source and size with the most rounds any budget took (read off the
    fit's final models where :func:`_final_run` can); and how many refits were fit."""
    longest = {}
    for _, source, cand, _ in picks:
        key = _refit_key(source, cand)
        rounds = cand.knobs.student_params["n_estimators"]
        if rounds >= longest.get(key, (0, None))[0]:
            longest[key] = rounds, cand
    refit = {
        key: _final_run(fitter.ctx, source_cand, n, final, shipped, key[0])
        or _refit_one(fitter, source_cand, n, data, final, recipe, key[0])
        for key, (n, source_cand) in longest.items()
    }
    points, students = [], {}
    for budget, source, cand, reason in picks:
        key = _refit_key(source, cand)
        run = refit[key]
        # the refit's trees may grow deeper than the search's: cut to the budget again
        rounds = min(cand.knobs.student_params["n_estimators"], run.rounds_within(budget))
        if (key, rounds) not in students:  # budgets that take the same rounds share a student
            students[key, rounds] = run.model.truncated(rounds)
        student = students[key, rounds]
        points.append(FrontierPoint(budget, student, source, cand.knobs, cand.value, reason))
    return points, sum(run.fitted for run in refit.values())


def _refit_key(source, cand) -> tuple:
    """What a refit is shared by: the source and the knobs but for the rounds."""
    params = {k: v for k, v in cand.knobs.student_params.items() if k != "n_estimators"}
    return source, repr(cand.knobs.with_params(params))


def _final_run(ctx, cand, rounds, final: FinalModels, shipped, source) -> Run | None:
    """``cand`` refit with ``rounds`` rounds, read off the fit's final baseline (or distilled
    student) when that is the same fit -- same rows, seed and parameters but for its round and
    step caps -- with at least ``rounds`` rounds; None otherwise."""
    if not final.refit:
        return None
    if source == "baseline":
        model = final.baseline
    elif (
        shipped.source == "distilled"
        and data_knobs(shipped.knobs) == data_knobs(cand.knobs)
        and shipped.knobs.student == cand.knobs.student
    ):
        model = final.student
    else:
        return None
    params = {**cand.knobs.student_params, "n_estimators": rounds, "early_stopping_rounds": None}
    wanted = ctx.students.new(seed_of(cand), params)
    if getattr(model, "rounds_run_", 0) < rounds or not same_spec(
        model, wanted, ("n_estimators", "max_steps")
    ):
        return None
    run = model.truncated(rounds).set_params(max_steps=None)
    return Run(cand.knobs, run, cumulative_steps(run), fitted=False)


def _refit_linear(fitter, picks, data, final: FinalModels, recipe, shipped) -> tuple[list, int]:
    """The points of ``picks`` (of one linear candidate): one student for all, the shipped
    one when that is this linear student, else the candidate refit like the shipped one
    (:func:`_refit_training`); and how many refits were fit."""
    if not picks:
        return [], 0
    cand = picks[0][2]
    if shipped.source == "distilled" and shipped.knobs.student == cand.knobs.student:
        student, fitted = shipped.student, 0
    else:
        training = _refit_training(fitter.ctx, cand, data, final, recipe, "distilled")
        student, fitted = fitter.ctx.students.refit(cand, training), 1
    points = [
        FrontierPoint(budget, student, source, cand.knobs, cand.value, reason)
        for budget, source, cand, reason in picks
    ]
    return points, fitted


def _refit_training(ctx, cand, data, final: FinalModels, recipe, source):
    """The training set ``cand`` is refit on: the rows the shipped models were last fit on,
    with the targets of its ``source``."""
    students = ctx.students
    if not final.refit:
        rows = (ctx.Z_train, ctx.y_train, ctx.weight_train)
        if source == "baseline":
            return students.hard_set(*rows)
        return data.training_set(cand.knobs, recipe)
    if source == "baseline":
        labelled = ctx.labelled
        return students.hard_set(ctx.Z[labelled], ctx.y[labelled], take(ctx.weight, labelled))
    if final.refit_teacher:
        return final.data.training_set(cand.knobs, recipe)
    extra = data.validation_rows(ctx.validation.Z, ctx.validation.y, ctx.validation.weight)
    return data.training_set(cand.knobs, recipe, extra)


def _refit_one(fitter, cand, rounds, data, final: FinalModels, recipe, source):
    """``cand``'s student fit again with ``rounds`` rounds on the rows the shipped models
    were last fit on; ``cand``'s own run when the time limit is spent."""
    params = {**cand.knobs.student_params, "n_estimators": rounds, "early_stopping_rounds": None}
    training = _refit_training(fitter.ctx, cand, data, final, recipe, source)
    if fitter.has_time("refits", len(training.target) * rounds):
        model = fitter.fit(seed_of(cand), params, training)
        if model.run_end_ != "deadline":  # cut short, it has fewer rounds than cand's run
            return Run(cand.knobs, model, cumulative_steps(model))
    return Run(cand.knobs, cand.model, cumulative_steps(cand.model), fitted=False)
