"""A time budget shared by the stages of one fit, and a record of what it cut.

A stage asks for its part of what is left (:meth:`TimeBudget.stage`): time a
stage does not use rolls forward to the next ones. Work that the budget
prevents is recorded with :meth:`TimeBudget.cut`, in words a report can show.
Without a limit every method answers "plenty of time" and nothing is cut.
"""

from __future__ import annotations

import logging
import math
import time

logger = logging.getLogger(__name__)


class TimeBudget:
    """Seconds shared by a run's stages.

    Parameters
    ----------
    seconds : float or None
        The whole budget, from now; None: unlimited.
    cuts : list, default=None
        Where cut work is recorded (shared by a budget and its stages).
    """

    def __init__(self, seconds=None, cuts=None):
        self.seconds = None if seconds is None else float(seconds)
        self.start = time.perf_counter()
        self.deadline = math.inf if seconds is None else self.start + float(seconds)
        self.cuts = [] if cuts is None else cuts

    @property
    def limited(self) -> bool:
        return self.seconds is not None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left (``inf`` without a limit, never negative)."""
        return max(0.0, self.deadline - time.perf_counter())

    def fits(self, seconds: float) -> bool:
        """Whether work expected to take ``seconds`` ends before the deadline."""
        return seconds <= self.remaining()

    def stage(self, weight: float, later: float = 0.0) -> TimeBudget:
        """The budget of a stage of ``weight``, followed by stages weighing ``later`` in all.

        It gets ``weight / (weight + later)`` of the time left now; its cuts
        are recorded here too.
        """
        if not self.limited:
            return TimeBudget(None, self.cuts)
        share = weight / (weight + later) if weight + later > 0 else 1.0
        return TimeBudget(self.remaining() * share, self.cuts)

    def cut(self, what: str) -> None:
        """Record (and log) work the budget did not allow."""
        self.cuts.append(what)
        logger.warning("time budget: %s", what)


def lightgbm_deadline(deadline: float):
    """A LightGBM callback that ends training once ``time.perf_counter()`` passes ``deadline``."""
    import lightgbm

    def guard(env):
        if time.perf_counter() > deadline:
            raise lightgbm.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    guard.order = 40  # after early stopping's own check
    return guard


def xgboost_deadline(deadline: float):
    """An XGBoost callback that ends training once ``time.perf_counter()`` passes ``deadline``."""
    from xgboost.callback import TrainingCallback

    class Deadline(TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return time.perf_counter() > deadline

    return Deadline()
