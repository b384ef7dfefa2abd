"""Student sizes: the candidates tried when the user gives none, and what each costs a row.

A size is a dict of student parameters (``num_leaves``, ``max_depth``,
``n_estimators``...). The distiller tries every candidate size and keeps the
cheapest one that does about as well on validation; cost is counted in tree
steps (one split on a row's path), which single-row latency grows with
(:data:`TREE_STEP_NS` each; ``docs/results.md#latency-budget``).
"""

from __future__ import annotations

import numpy as np

from .members import LARGE_DATA_ROWS

#: Candidate sizes tried when the user gives none: accuracy and speed trade places by dataset
#: (docs/trials.md#student-shapes-teacher-members-encodings), so all are tried and validation
#: decides; the number of
#: trees (at most 500) is found by early stopping. The first size is where the other knobs are
#: chosen.
DEFAULT_SIZES = {
    "lightgbm": [
        {"num_leaves": 15, "max_depth": -1, "n_estimators": 500},
        {"num_leaves": 8, "max_depth": 3, "n_estimators": 500},
        {"num_leaves": 31, "max_depth": -1, "n_estimators": 500},
    ],
}
DEFAULT_SIZES["auto"] = DEFAULT_SIZES["lightgbm"]  # the default kind's trees

#: Sizes added above :data:`~tabdistill.distill.members.LARGE_DATA_ROWS` training rows. The
#: latency budget counts every tree's full depth, so full trees (``2**depth`` leaves) give the
#: most leaves a step (docs/results.md#large-data). On small data such trees stop after a few
#: rounds, look cheapest, and win validation by chance
#: (docs/trials.md#depth-8-students-on-small-data), hence large data only.
LARGE_DATA_SIZES = {
    "lightgbm": [{"num_leaves": 255, "max_depth": 8, "n_estimators": 500}],
}
LARGE_DATA_SIZES["auto"] = LARGE_DATA_SIZES["lightgbm"]


#: Nanoseconds a tree step (one split on a row's path) costs the compiled runtime scoring one
#: row at p99: how a latency budget becomes tree steps, with a margin over the quiet machine's
#: measure (docs/results.md#latency-budget).
TREE_STEP_NS = 5.0


def round_steps(booster, rounds, trees_per_round=1, start=0) -> np.ndarray:
    """Tree steps one row takes through each of ``rounds`` boosting rounds from round
    ``start`` (None: to the last): the runtime walks every tree to its full depth, so a
    round costs its trees' depths.

    Read off the booster's model text (each tree's child lists), several times faster than
    its JSON dump for trees of hundreds of leaves."""
    depths, left = [], None
    text = booster.model_to_string(num_iteration=rounds, start_iteration=start)
    for line in text.splitlines():
        if line.startswith("Tree="):
            depths.append(0)  # a tree of one leaf: empty child lists, or none
        elif line.startswith("left_child="):
            left = line[len("left_child=") :].split()
        elif line.startswith("right_child="):
            depths[-1] = _depth(left, line[len("right_child=") :].split())
        elif line == "end of trees":
            break
    return np.asarray(depths, dtype=float).reshape(-1, trees_per_round).sum(axis=1)


def _depth(left, right) -> int:
    """The depth of a LightGBM tree from its child lists (a child >= 0 is a split, < 0 a
    leaf): the most splits on a path from the root to a leaf."""
    deepest, stack = 0, [(0, 1)] if left else []  # (split, depth of its children)
    while stack:
        node, d = stack.pop()
        for child in (int(left[node]), int(right[node])):
            if child >= 0:
                stack.append((child, d + 1))
            else:
                deepest = max(deepest, d)
    return deepest


def student_cost(student) -> float:
    """Tree steps one row takes through a fitted student: what single-row latency grows with.

    Its trees' depths summed for LightGBM (the runtime walks each tree to its
    full depth, see :func:`round_steps`), the depth for one tree, 0 for a
    linear student or a model without trees.
    """
    steps = getattr(student, "tree_steps", None)
    return float(steps()) if steps is not None else 0.0


def student_sizes(student, params=None, n_rows=None) -> list[dict]:
    """Candidate parameter sets for ``student``: ``params`` as given, else the defaults.

    ``params`` may be one dict (one candidate) or a list of dicts. The defaults
    include :data:`LARGE_DATA_SIZES` when ``n_rows`` (training rows) is above
    :data:`~tabdistill.distill.members.LARGE_DATA_ROWS`.
    """
    if params is None:
        if not isinstance(student, str):
            return [{}]
        sizes = DEFAULT_SIZES.get(student, [{}])
        if n_rows is not None and n_rows > LARGE_DATA_ROWS:
            sizes = sizes + LARGE_DATA_SIZES.get(student, [])
        return [dict(p) for p in sizes]
    if isinstance(params, dict):
        return [dict(params)]
    if isinstance(params, list | tuple) and params and all(isinstance(p, dict) for p in params):
        return [dict(p) for p in params]
    raise ValueError(f"student_params must be a dict or a non-empty list of dicts, got {params!r}.")
