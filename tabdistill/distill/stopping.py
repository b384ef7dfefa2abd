"""What ends a student's run before its round cap, besides early stopping on its own loss.

LightGBM callbacks, run after early stopping's own check (which ends the run when it can):

- :class:`StepCap` ends a run soon after its trees pass the most tree steps anything reads
  off it; the rounds within those steps are what a longer run keeps.
- :class:`Plateau` ends a run whose *selection metric* on the validation rows (ROC-AUC on
  the hard labels by default, what students are chosen by) has stopped paying for its
  trees, however far the run's own loss still falls: a run towards the teacher's log-odds
  can keep fitting them for thousands of rounds while its ROC-AUC creeps up by less than
  any student choice counts.

Each callback's ``fired`` says whether it ended the run, which then keeps every round fit,
and ``end`` names that ending (the student's ``run_end_``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import metrics
from .sizes import round_steps


def _stop(env) -> None:
    """End the run at this round, keeping every round fit so far."""
    import lightgbm

    raise lightgbm.callback.EarlyStopException(env.iteration, env.evaluation_result_list)


class StepCap:
    """A LightGBM callback ending a run that early stopping watches once its trees' steps
    passed ``max_steps`` ``patience`` rounds ago.

    The rounds within ``max_steps`` and the round early stopping keeps among them are then
    what they would be had the run gone on: a better round still to come would lie within
    ``patience`` rounds of the best so far, and the rounds past the cap are cut anyway.
    ``fired``: whether it ended the run.
    """

    order = 35  # after early stopping's own check (30), which ends the run when it can
    end = "max_steps"

    def __init__(self, max_steps, patience, trees_per_round=1):
        self.max_steps, self.patience, self.per_round = max_steps, patience, trees_per_round
        self.steps, self.passed, self.fired = 0.0, None, False

    def __call__(self, env):
        if self.passed is None:
            self.steps += round_steps(env.model, 1, self.per_round, start=env.iteration).sum()
            if self.steps > self.max_steps:
                self.passed = env.iteration
        elif env.iteration >= self.passed + self.patience:
            self.fired = True  # keep every round fit: those within the cap are the same
            _stop(env)


@dataclass(frozen=True)
class PlateauRule:
    """When a run's selection metric has stopped paying for its trees.

    Scored every ``every`` rounds on the eval set's hard labels ``y`` (``weight``) by
    ``metric`` (a name of :func:`tabdistill.metrics.score`), the run ends at the first check
    from ``min_rounds`` rounds on where its second half raised its best score by ``tolerance``
    or less: doubling its trees, and its single-row cost, bought no more than a student
    choice counts as a gain (the cheapest student within ``tolerance`` of the best is
    preferred). A run whose score peaked ends by twice its best round at the latest.
    """

    metric: str
    y: np.ndarray
    weight: np.ndarray | None = None
    tolerance: float = 0.001
    min_rounds: int = 100
    every: int = 10

    def callback(self, logit: bool) -> Plateau:
        """The callback for one run (``logit``: its predictions are log-odds)."""
        return Plateau(self, logit)


class Plateau:
    """A LightGBM callback ending a run by a :class:`PlateauRule`; ``fired``: whether it did.

    It reads the run's predictions for its (single) eval set through
    ``Booster.eval_valid``, which LightGBM keeps up to date round by round: no rows are
    predicted again.
    """

    order = 36
    end = "plateau"

    def __init__(self, rule: PlateauRule, logit: bool = False):
        self.rule, self.logit = rule, logit
        self.best, self.best_by, self.fired = -np.inf, {}, False  # check round -> best so far

    def _score(self, preds, _data):
        p = 1 / (1 + np.exp(-preds)) if self.logit else preds
        return "selection", metrics.score(self.rule.metric, self.rule.y, p, self.rule.weight), True

    def __call__(self, env):
        rounds, rule = env.iteration + 1, self.rule
        if rounds % rule.every:
            return
        score = next(r[2] for r in env.model.eval_valid(feval=self._score) if r[1] == "selection")
        self.best = self.best_by[rounds] = max(self.best, score)
        half = self.best_by.get(rounds // 2 // rule.every * rule.every, -np.inf)
        if rounds >= rule.min_rounds and self.best - half <= rule.tolerance:
            self.fired = True
            _stop(env)
