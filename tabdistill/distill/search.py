"""The candidate search: distilled students over the knob grid, then over the sizes.

The data knobs (augmentation factor, ``alpha``, loss) are compared at the first
student size; the best of them is then fit at every other size, and the
cheapest size within ``size_tolerance`` of the best on validation is chosen.
Where the teacher is mostly its linear member (``SearchSpace.linear``), a linear student,
fit on the teacher's labels of the original rows, is tried first. Where it *holds the
teacher* -- scores within ``size_tolerance`` of the teacher on the validation rows -- it is
the student and no tree student is searched: ensemble selection has compared a linear model
with the teacher's tree members out of fold on every training row (several times the
validation rows) and found the linear one better, which a tree student smaller than those
members would overturn only by the luck of the validation rows. Where it does not (the
teacher's tree members carry more than it can hold), the trees are searched as usual.
Above :data:`SEARCH_ROWS` training rows the comparison runs on a random
subsample of that many rows (and the synthetic rows drawn from them), and only
the chosen candidate is fit on all rows.

A candidate of ``alpha=1`` without synthetic rows (nor ``rare_weight``) learns the
hard labels of the original rows: it is the baseline of its size, fit on the same
rows with the same seed and validation targets, bit for bit. Its fit is read off
the baseline's instead of being fit again.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .. import metrics
from .context import FitContext, same_params
from .labels import soften
from .selection import Candidate, Knobs, best, cheapest_within, evaluate, knob_grid
from .sizes import student_cost
from .soft_targets import DistillData, TargetRecipe

logger = logging.getLogger(__name__)

#: Original training rows above which the student's data knobs and sizes are compared on a
#: random subsample of this many rows (and the synthetic rows seeded from them); only the
#: chosen student and baseline are fit on all rows. Ranking candidates needs far fewer rows
#: than fitting the final model does.
SEARCH_ROWS = 100_000


def search_rows(n_train, seed, n_rows=None):
    """``n_rows`` (default :data:`SEARCH_ROWS`) random positions among ``n_train`` training
    rows, sorted; None when there are not more rows than that."""
    n_rows = SEARCH_ROWS if n_rows is None else n_rows
    if n_train <= n_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_train, n_rows, replace=False))


def check_knobs(augment_factors, alphas, losses) -> None:
    """Check the candidate knob lists of a distiller; raises ``ValueError`` naming the
    first that is not a non-empty list of allowed values."""
    for name, values in (("augment_factors", augment_factors), ("alphas", alphas)):
        values = np.asarray(values)
        if values.ndim != 1 or not len(values) or values.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be a non-empty list of numbers, got {values!r}.")
        if not np.all(np.isfinite(values)) or values.min() < 0:
            raise ValueError(f"{name} must be non-negative numbers, got {values.tolist()}.")
    if max(alphas) > 1:
        raise ValueError(f"alphas must be numbers in [0, 1], got {list(alphas)}.")
    if not losses or set(losses) - {"cross_entropy", "logit"}:
        raise ValueError(
            f"losses must be a non-empty list of 'cross_entropy' and/or 'logit', "
            f"got {list(losses)}."
        )


@dataclass(frozen=True)
class SearchSpace:
    """The candidates to try: student sizes (the first is where the data knobs are
    compared), augmentation factors, ``alpha`` values and losses, and how close to the best
    a cheaper size must score to be preferred. ``inherited``: the student parameters every
    distilled candidate takes from the teacher on top of its size (see
    :meth:`~tabdistill.distill.context.StudentFactory.inherited_from`; the baseline's sizes
    are ``sizes``). ``linear``: a linear student is tried first (see the module docstring
    and :meth:`~tabdistill.distill.context.StudentFactory.linear_for`)."""

    sizes: list
    augment_factors: tuple
    alphas: tuple
    losses: tuple
    size_tolerance: float
    inherited: dict = field(default_factory=dict)
    linear: bool = False

    def distilled_sizes(self) -> list[dict]:
        """The sizes of the distilled candidates: ``sizes`` with what they inherit."""
        return [{**self.inherited, **size} for size in self.sizes]

    def grid(self) -> list[Knobs]:
        """The data knobs' candidates, at the first size."""
        sizes = self.distilled_sizes()[:1]
        return knob_grid(sizes, self.augment_factors, self.alphas, self.losses)


@dataclass
class SearchResult:
    """Every candidate fit (in order, for the report), the chosen one, and the candidates of
    the chosen data knobs at each size tried, fit on the rows candidates are compared on
    (what the latency-accuracy frontier reads its runs off; none for a linear student)."""

    candidates: list
    chosen: Candidate
    sized: list = field(default_factory=list)

    @property
    def tree_knobs(self) -> Knobs | None:
        """The data knobs of the distilled tree students (None: the student is linear)."""
        return self.sized[0].knobs if self.sized else None

    @property
    def linear(self) -> Candidate | None:
        """The linear student, where the search fit one instead of tree students."""
        return None if self.sized else self.chosen


def search_candidates(
    ctx: FitContext,
    space: SearchSpace,
    data: DistillData,
    recipe: TargetRecipe,
    rows=None,
    baselines=None,
) -> SearchResult:
    """Fit the distilled candidates of ``space`` on ``data`` and choose one.

    ``rows`` (large data): the training rows to compare candidates on, see
    :func:`search_rows`. With a time limit, candidates are fit while the stage's
    share lasts (at least one). ``baselines``
    (:class:`~tabdistill.distill.baseline.BaselineFit`, fit with the same ``rows``): the
    fits a candidate learning the hard labels reads off (see the module docstring).
    """
    linear = _linear_candidate(ctx, space, data, recipe)
    if linear is not None and _holds_teacher(ctx, linear, data, space.size_tolerance):
        return SearchResult([linear], linear)
    grid = space.grid()
    compared = data if rows is None else data.subsample(rows)
    total = len(grid) + len(space.sizes) - 1 + (rows is not None)
    with ctx.stages.stage("student", total=total) as stage:
        fit = _CandidateFitter(ctx, data, recipe, stage)
        twins = () if baselines is None else baselines.sized
        first = fit.each(grid, compared, required=1, twins=twins)
        top = best(first)
        others = [top.knobs.with_params(size) for size in space.distilled_sizes()[1:]]
        sized = [top, *fit.each(others, compared, twins=twins)]
        tried, wanted = len(first) + len(sized) - 1, len(grid) + len(others)
        if tried < wanted:
            fit.budget.cut(f"student: {tried} of {wanted} candidates fit")
        chosen = cheapest_within(sized, space.size_tolerance, student_cost)
        candidates = ([] if linear is None else [linear]) + first + sized[1:]
        if rows is not None:
            twins = () if baselines is None else [baselines.chosen]
            final = fit.each([chosen.knobs], data, required=1, twins=twins)
            candidates, chosen = candidates + final, final[0]
        stage.detail = f"{len(candidates)} candidates"
    return SearchResult(candidates, chosen, sized)


#: The linear student's knobs: the teacher's labels of the original rows.
LINEAR_KNOBS = Knobs({}, augment_factor=0, alpha=0.0, student="linear")


def _linear_candidate(ctx: FitContext, space: SearchSpace, data, recipe) -> Candidate | None:
    """The linear student (:data:`LINEAR_KNOBS`) fit on every training row where
    ``space.linear``, else None."""
    if not space.linear:
        return None
    with ctx.stages.stage("linear student") as stage:
        linear = fit_candidate(ctx, LINEAR_KNOBS, data, recipe)
        stage.detail = f"validation {abs(linear.value):.4f}"
    return linear


def _holds_teacher(ctx: FitContext, linear: Candidate, data: DistillData, tolerance) -> bool:
    """Whether ``linear`` scores within ``tolerance`` of the teacher on the validation rows
    (logged either way)."""
    validation = ctx.validation
    teacher = metrics.score(
        validation.metric, validation.y, data.validation_proba, validation.weight
    )
    holds = linear.value >= teacher - tolerance
    logger.info(
        "the linear student scores %.4f on validation against the teacher's %.4f: %s",
        abs(linear.value),
        abs(teacher),
        "it is the student" if holds else "tree students are searched",
    )
    return holds


class _CandidateFitter:
    """Fits candidates one after another within the student stage's share of the time."""

    def __init__(self, ctx: FitContext, data: DistillData, recipe: TargetRecipe, stage):
        self.ctx, self.recipe, self.stage = ctx, recipe, stage
        self.budget = ctx.budget.stage("student")
        self.validation_proba = data.validation_proba
        self.spent = []

    def each(self, grid, data: DistillData, required=0, twins=()) -> list:
        """Fit the candidates of ``grid`` in order while the budget affords another (the
        first ``required`` ones whatever the budget); ``twins``: baselines fit on ``data``'s
        rows (see :func:`fit_candidate`)."""
        fitted = []
        for knobs in grid:
            mandatory = len(fitted) < required
            if not mandatory and not self.budget.fits(np.mean(self.spent) if self.spent else 0.0):
                break
            clock = time.perf_counter()
            deadline = self.ctx.budget.fit_deadline(self.budget, required=mandatory)
            fitted.append(fit_candidate(self.ctx, knobs, data, self.recipe, deadline, twins))
            fitted[-1].seconds = time.perf_counter() - clock
            self.spent.append(fitted[-1].seconds)
            self.stage.update()
        return fitted


def fit_candidate(
    ctx: FitContext,
    knobs: Knobs,
    data: DistillData,
    recipe: TargetRecipe,
    deadline=None,
    twins=(),
) -> Candidate:
    """Fit one distilled student and score it on validation.

    It stops early against the validation rows' targets made the way its
    training targets are: the teacher's probabilities there, mixed with the
    labels by ``alpha``. ``twins``: baselines fit on ``data``'s original rows, whose
    fit a candidate learning their hard labels takes (:func:`baseline_twin`).
    """
    students, validation = ctx.students.of(knobs), ctx.validation
    training = data.training_set(knobs, recipe)
    q_va = soften(data.validation_proba, recipe.temperature)
    eval_target = (1 - knobs.alpha) * q_va + knobs.alpha * students.hard_targets(validation.y)
    params = students.params(knobs.student_params, knobs.loss)
    eval_set = (validation.Z, eval_target, validation.weight)
    model = baseline_twin(ctx, knobs, params, training, recipe, twins)
    if model is None:
        model = students.fit(ctx.seeds.student, params, training, eval_set, deadline)
    return evaluate(
        model,
        knobs.with_params(params),
        validation,
        synthetic_rows=training.n_synthetic,
        soft_labels=training.target[: training.n_original],
    )


def baseline_twin(ctx: FitContext, knobs: Knobs, params, training, recipe, twins):
    """The fitted model of the baseline in ``twins`` that the candidate of ``knobs`` and
    student ``params`` would be, else None.

    A candidate of ``alpha=1`` whose ``training`` set has no synthetic rows learns the
    hard labels of the original rows with their own weights (a ``rare_weight`` of 1 adds
    none), and stops early on the validation rows' hard labels: with the same student
    parameters and seed, that is the baseline fit on those rows. A baseline that a time
    limit cut short is not taken.
    """
    if knobs.alpha != 1 or training.n_synthetic or recipe.rare_weight != 1:
        return None
    wanted = ctx.students.new(ctx.seeds.student, params).get_params()
    for twin in twins:
        model = twin.model
        if getattr(model, "run_end_", None) != "deadline" and same_params(
            model.get_params(), wanted
        ):
            return copy.deepcopy(model)  # its own object, as a fit's would be
    return None
