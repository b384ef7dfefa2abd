"""Bagged students: several boosted students averaged in log-odds, shipped as one student.

A teacher's lead over a single student is partly variance: its members are many
models, averaged. Where a larger latency budget allows it, the average of ``k``
students that differ by their seed and their subsample of rows and columns holds
more of that lead than one student with ``k`` times the rounds, which early
stopping ends long before (``docs/results.md#bagged-students``).

The average of LightGBM boosters' raw scores is itself a booster: every tree of
every member, each leaf value divided by ``k``. :func:`bag_student` builds it, so
a bag is a :class:`~tabdistill.distill.students.LightGBMStudent` like any other:
the runtime, reasons, exports and the registry take it unchanged, and its tree
steps (its cost) are its members' summed.
"""

from __future__ import annotations

import re

from sklearn.base import clone

#: Most members of a bag.
BAG_MEMBERS = 5

#: What makes the members differ (each also has its own seed): LightGBM's bagging of rows,
#: redrawn every tree, and of columns, with a light L2 penalty on leaf values.
MEMBER_PARAMS = {"subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0}


def member_params(params: dict) -> dict:
    """A bag member's student parameters: ``params`` with :data:`MEMBER_PARAMS`."""
    return {**params, **MEMBER_PARAMS}


def bag_student(members):
    """One fitted :class:`LightGBMStudent` whose output is the mean of ``members``' log-odds.

    ``members`` are fitted binary LightGBM students on the same encoded columns; the
    result takes the first member's parameters (``n_estimators``: the trees of all).
    """
    import lightgbm as lgb

    if any(getattr(m, "init_", None) is not None for m in members):
        raise ValueError("bag_student averages binary students; got a K-class student.")
    booster = lgb.Booster(model_str=merge_models([m.booster_.model_to_string() for m in members]))
    trees = booster.num_trees()
    out = clone(members[0]).set_params(n_estimators=trees, early_stopping_rounds=None)
    out.booster_, out.init_, out.n_features_in_ = booster, None, members[0].n_features_in_
    out.n_estimators_ = out.rounds_run_ = trees
    out.run_end_ = "n_estimators"
    out.bag_members_ = len(members)
    return out


def merge_models(texts: list[str]) -> str:
    """LightGBM model texts of one objective and one set of columns merged into the model
    text of their raw scores' mean: every tree of each, leaf values divided by their count."""
    k = len(texts)
    first = texts[0]
    head = re.sub(r"^tree_sizes=.*\n", "", first[: first.index("\nTree=")], flags=re.M)
    tail = first[first.index("end of trees") :]
    trees = [tree for text in texts for tree in _trees(text)]
    body = "".join(_scaled(tree, i, k) for i, tree in enumerate(trees))
    return f"{head}\n{body}{tail}"


def _trees(text: str) -> list[str]:
    """The ``Tree=`` blocks of a model text, in order."""
    body = text[text.index("\nTree=") + 1 : text.index("end of trees")]
    return [block for block in re.split(r"\n(?=Tree=)", body) if block.strip()]


def _scaled(tree: str, index: int, k: int) -> str:
    """One tree block renumbered ``index``, its leaf and node values divided by ``k``."""

    def divide(match):
        values = " ".join(repr(float(v) / k) for v in match.group(2).split())
        return match.group(1) + values

    tree = re.sub(r"^Tree=\d+", f"Tree={index}", tree)
    tree = re.sub(r"^(leaf_value=|internal_value=)(.*)$", divide, tree, flags=re.M)
    return tree.rstrip("\n") + "\n\n"
