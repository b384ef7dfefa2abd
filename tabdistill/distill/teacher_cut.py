"""The teacher cut to a latency budget: each member keeps the first share of its trees
that its weight per tree step affords.

A boosted member's first rounds are a model of their own (boosting adds them in
order), and a forest's first trees are a smaller forest of the same kind. A cut of
the teacher keeps the first rounds or trees of every tree member (at least one),
each fold model of a fold-averaged member alike, and its linear member whole,
blended with the teacher's weights: a smaller ensemble of the same members that
scores as the teacher does where every share is 1.

Members are not cut alike: the budget's tree steps are shared among the tree members
in proportion to their blend weights, and a member whose share covers all its trees
keeps them whole and leaves the rest to the others. Member ``m`` keeps the share
``min(1, lam * w_m / C_m)`` of its trees (``w_m`` its weight, ``C_m`` its tree steps,
``lam`` the largest that fits), so a member the blend weighs little but whose trees
are deep (a forest at a twentieth of the blend and two fifths of the teacher's steps)
gives up its trees first; this is the best split where what a member adds grows as
the logarithm of the share it keeps (``docs/how-it-works.md``, the teacher cut to a
budget). No choice is made on data: the weights are the teacher's, the steps
(each kept tree's depth, summed, as the students' cost model counts them) cost
:data:`~tabdistill.distill.sizes.TREE_STEP_NS` a step.

Where the teacher's lead comes from averaging members a student cannot hold (a
forest beside two boosters on a few thousand rows), its cut keeps more of the lead
than a student of the same latency; where it comes from many rounds of one booster,
less. The benchmark puts both on the frontier (:mod:`tabdistill.evaluate.latency_frontier`).
"""

from __future__ import annotations

import copy
import json
import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble._forest import ForestClassifier
from sklearn.utils.validation import check_is_fitted

from .members import FoldAverage, boosting_rounds
from .sizes import TREE_STEP_NS


@dataclass(frozen=True)
class TeacherCut:
    """A teacher cut to a budget.

    Attributes
    ----------
    teacher : TeacherEnsemble
        A copy of the fitted teacher whose tree members keep their first rounds or trees
        (``member_shares``); it predicts and compiles
        (:func:`~tabdistill.distill.teacher_runtime.compile_teacher`) as the teacher does.
    share : float
        The share of the teacher's trees kept, all tree members counted (1.0: the whole
        teacher).
    tree_steps : float
        Tree steps of one row through it (each kept tree's depth, summed).
    member_shares : dict
        ``member -> share`` of its rounds or trees kept, for each member with weight whose
        trees cost steps (the linear member is kept whole).
    """

    teacher: object
    share: float
    tree_steps: float
    member_shares: dict = field(default_factory=dict)

    @property
    def predicted_p99_us(self) -> float:
        return self.tree_steps * TREE_STEP_NS / 1000


def cut_teacher(teacher, budget_us: float) -> TeacherCut | None:
    """The teacher cut to the largest allocation of its trees that fits ``budget_us``.

    Parameters
    ----------
    teacher : TeacherEnsemble
        Fitted; members with weight 0 are left out of the cost and kept as they are.
    budget_us : float
        Single-row latency budget in microseconds, converted to tree steps at
        :data:`~tabdistill.distill.sizes.TREE_STEP_NS` a step.

    Returns
    -------
    TeacherCut or None
        The cut teacher (the teacher itself, share 1.0, when all of it fits), or None
        when one tree of each tree member does not fit. A larger budget keeps at least
        as many trees of every member.

    Raises
    ------
    ValueError
        If ``budget_us`` is not a positive number.
    """
    return TeacherCutter(teacher).cut(budget_us)


def teacher_steps(teacher) -> float:
    """Tree steps of one row through the whole teacher (members with weight only)."""
    return TeacherCutter(teacher).steps


class TeacherCutter:
    """Cuts of one fitted teacher to any budget, its members' trees read once.

    Parameters
    ----------
    teacher : TeacherEnsemble
        Fitted.
    """

    def __init__(self, teacher):
        check_is_fitted(teacher, "estimators_")
        self.teacher = teacher
        # {member: [steps of each round, per model]} of the members with weight
        self.costs = {
            name: [_round_steps(model) for model in _models(est)]
            for name, est in teacher.estimators_.items()
            if teacher.weights_.get(name, 0) > 0
        }
        whole = {name: _steps({name: c}, 1.0) for name, c in self.costs.items()}
        # a member's priority: its weight per tree step (a member without trees is free)
        self.priority = {
            name: teacher.weights_[name] / steps if steps else np.inf
            for name, steps in whole.items()
        }

    @property
    def steps(self) -> float:
        """Tree steps of one row through the whole teacher."""
        return _steps(self.costs, 1.0)

    def shares(self, scale: float) -> dict:
        """``member -> share`` of its trees kept at ``scale`` (each member's priority times
        ``scale``, at most 1)."""
        return {
            name: 1.0 if p == np.inf else min(1.0, scale * p) for name, p in self.priority.items()
        }

    def cut(self, budget_us) -> TeacherCut | None:
        """The teacher cut to the largest scale of its members' shares whose steps fit
        ``budget_us`` (see :func:`cut_teacher`)."""
        real = isinstance(budget_us, numbers.Real) and not isinstance(budget_us, bool)
        if not real or not budget_us > 0:
            raise ValueError(
                f"budget_us must be a positive number of microseconds; got {budget_us!r}."
            )
        cap, costs, steps = budget_us * 1000 / TREE_STEP_NS, self.costs, self.steps
        if steps <= cap:
            return TeacherCut(self.teacher, 1.0, steps, self._trees(dict.fromkeys(costs, 1.0)))
        if _steps(costs, 0.0) > cap:
            return None
        # the steps grow with the scale; at 1 / (lowest priority) every share is 1
        lo, hi = 0.0, 1.0 / min(self.priority.values())  # a finite one: some trees cost steps
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if _steps(costs, self.shares(mid)) <= cap else (lo, mid)
        shares = self.shares(lo)
        cut = copy.copy(self.teacher)
        cut.estimators_ = {
            name: _cut_member(est, shares[name], costs[name]) if name in costs else est
            for name, est in self.teacher.estimators_.items()
        }
        return TeacherCut(
            cut, _tree_share(costs, shares), _steps(costs, shares), self._trees(shares)
        )

    def _trees(self, shares: dict) -> dict:
        """``shares`` of the members whose trees cost steps."""
        return {name: s for name, s in shares.items() if self.priority[name] != np.inf}


def _tree_share(costs: dict, shares: dict) -> float:
    """The share of all the tree members' trees (rounds) kept at ``shares``."""
    models = [(len(steps), shares[name]) for name, ms in costs.items() for steps in ms]
    return sum(_kept(n, s) for n, s in models) / max(1, sum(n for n, _ in models))


def _steps(costs: dict, shares) -> float:
    """Tree steps of the members' first ``shares`` of rounds (one share for all, or
    ``member -> share``; ``costs``: per model, an array of the steps of each round)."""
    share = shares.get if isinstance(shares, dict) else lambda _: shares
    return float(
        sum(
            steps[: _kept(len(steps), share(name))].sum()
            for name, models in costs.items()
            for steps in models
        )
    )


def _kept(rounds: int, share: float) -> int:
    """Rounds kept of ``rounds`` at ``share``: at least one of a model that has any."""
    return min(rounds, max(1, int(share * rounds))) if rounds else 0


def _models(est) -> list:
    return list(est.estimators) if isinstance(est, FoldAverage) else [est]


def _round_steps(model) -> np.ndarray:
    """The tree steps of each round (boosters: the K trees of a round; forests: one tree)
    a model scores with; empty for a model without trees (the linear member)."""
    kind = type(model).__name__
    if kind == "LGBMClassifier":
        dump = model.booster_.dump_model()  # the rounds it predicts with
        per_round = int(dump.get("num_tree_per_iteration", 1))
        depths = [
            _depth(t["tree_structure"], "left_child", "right_child") for t in dump["tree_info"]
        ]
        return _per_round(depths, per_round)
    if kind == "XGBClassifier":
        booster = model.get_booster()
        rounds = boosting_rounds(model) or booster.num_boosted_rounds()
        per_round = model.n_classes_ if model.n_classes_ > 2 else 1
        trees = booster.get_dump(dump_format="json")[: rounds * per_round]
        return _per_round([_xgboost_depth(json.loads(t)) for t in trees], per_round)
    if isinstance(model, ForestClassifier):
        return np.array([est.tree_.max_depth for est in model.estimators_], dtype=float)
    return np.zeros(0)


def _per_round(depths, per_round) -> np.ndarray:
    return np.asarray(depths, dtype=float).reshape(-1, per_round).sum(axis=1)


def _depth(node, left, right) -> int:
    if left not in node:
        return 0
    return 1 + max(_depth(node[left], left, right), _depth(node[right], left, right))


def _xgboost_depth(node) -> int:
    children = node.get("children")
    return 1 + max(_xgboost_depth(c) for c in children) if children else 0


def _cut_member(est, share, steps):
    """``est`` keeping the first ``share`` of each of its models' rounds (``steps``: each
    model's steps per round)."""
    if isinstance(est, FoldAverage):
        models = [_cut_model(m, _kept(len(c), share)) for m, c in zip(est.estimators, steps)]
        return FoldAverage(models, est.fold_classes, est.n_classes)
    return _cut_model(est, _kept(len(steps[0]), share))


def _cut_model(model, n):
    """A copy of ``model`` keeping its first ``n`` rounds or trees (a model without trees as
    it is)."""
    if not n:
        return model
    kind = type(model).__name__
    out = copy.copy(model)
    if kind == "LGBMClassifier":
        import lightgbm

        text = model.booster_.model_to_string(num_iteration=n)
        out._Booster = lightgbm.Booster(model_str=text)
        out._best_iteration = n if getattr(model, "best_iteration_", 0) else 0
    elif kind == "XGBClassifier":
        booster = model.get_booster()[:n]
        if boosting_rounds(model) is not None and model.get_params().get("early_stopping_rounds"):
            booster.set_attr(best_iteration=str(n - 1))
        out._Booster = booster
    else:  # a forest
        out.estimators_ = model.estimators_[:n]
        out.n_estimators = n
    return out
