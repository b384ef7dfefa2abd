"""The baseline: the student spec fit directly on hard labels, at the cheapest size that does
as well as the best on validation.

It is what a distilled student must beat (see :mod:`~tabdistill.distill.gate`) and
what is shipped when none does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .context import FitContext
from .selection import Candidate, Knobs, cheapest_within, evaluate
from .sizes import student_cost


@dataclass
class BaselineFit:
    """The baseline chosen, and the one of each size tried, fit on the rows sizes are
    compared on (what the latency-accuracy frontier reads its runs off)."""

    chosen: Candidate
    sized: list


def fit_baseline(ctx: FitContext, sizes, size_tolerance, search_rows=None) -> BaselineFit:
    """Fit the baseline at each of ``sizes`` and keep the cheapest within
    ``size_tolerance`` of the best on validation.

    The first size is always fit, the others while the stage's share of a time
    limit lasts. With ``search_rows`` (large data, see
    :func:`~tabdistill.distill.search.search_rows`) the sizes are compared on those
    training rows, and the chosen one is then fit on all of them.
    """
    with ctx.stages.stage("baseline", total=len(sizes) + (search_rows is not None)) as stage:
        budget = ctx.budget.stage("baseline")
        students, validation = ctx.students, ctx.validation
        eval_set = (validation.Z, students.hard_targets(validation.y), validation.weight)
        Z, y, w = ctx.Z_train, ctx.y_train, ctx.weight_train
        rows = slice(None) if search_rows is None else search_rows
        compared = students.hard_set(Z[rows], y[rows], None if w is None else w[rows])
        fitted = []
        for size in sizes:
            if fitted and not budget.fits(float(np.mean([c.seconds for c in fitted]))):
                budget.cut(f"baseline: {len(fitted)} of {len(sizes)} student sizes tried")
                break
            params = students.params(size)
            clock = time.perf_counter()
            deadline = ctx.budget.fit_deadline(budget, required=not fitted)
            model = students.fit(ctx.seeds.student, params, compared, eval_set, deadline)
            fitted.append(evaluate(model, Knobs(params), validation))
            fitted[-1].seconds = time.perf_counter() - clock
            stage.update()
        chosen = cheapest_within(fitted, size_tolerance, student_cost)
        if search_rows is None:
            return BaselineFit(chosen, fitted)
        clock = time.perf_counter()
        deadline = ctx.budget.fit_deadline(budget, required=True)
        params = chosen.knobs.student_params
        model = students.fit(
            ctx.seeds.student, params, students.hard_set(Z, y, w), eval_set, deadline
        )
        final = evaluate(model, chosen.knobs, validation)
        final.seconds = time.perf_counter() - clock
        stage.update()
        return BaselineFit(final, fitted)
