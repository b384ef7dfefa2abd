"""XGBoost boosters to the runtime's node table, scoring as XGBoost scores, to the bit.

XGBoost rounds each feature to float32 and sends a row left at a numeric split
when ``float32(x) < threshold`` (a float32); NaN goes the node's default way.
The runtime's ``FLOAT32`` rule is ``float32(x) <= t``: with ``t`` the float32
just below XGBoost's threshold, the two agree on every value.

At a categorical split XGBoost sends the categories of the node's set right,
every other category left, and NaN the default way. The runtime's rule sends
the set *left* and NaN right, so the children are swapped; when NaN should go
to the set's side, the node keeps the complement of the set instead, over the
levels the schema knows (a category code outside them is no row the schema
encodes).

XGBoost sums the leaves of a row in float32, starting from the base margin,
tree by tree: the model's sums do the same (``meta["sum"] == "float32"``, the
base margin added to the first tree's leaves in float32, as XGBoost's first
addition does), so the raw scores are XGBoost's ``output_margin`` exactly. The
sigmoid (binary) or softmax (K classes) is then taken in float64; XGBoost's own
``predict_proba`` takes it in float32, a difference of about 1e-7.

Reads the booster's JSON model (``save_raw("json")``), so XGBoost is never
imported here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json

import numpy as np

from .model import CompiledModel
from .rules import (
    CATEGORICAL,
    DEFAULT_LEFT,
    FLOAT32,
    MISSING_NAN,
    MISSING_SHIFT,
    OUT_SIGMOID,
    OUT_SOFTMAX,
)
from .trees import TreeBuilder

_BINARY, _CLASSES = ("binary:logistic",), ("multi:softprob", "multi:softmax")


def compile_xgboost(booster, schema, rounds=None) -> CompiledModel:
    """Compile a fitted XGBoost ``Booster`` of a binary or K-class classifier.

    Parameters
    ----------
    booster : xgboost.Booster
        ``binary:logistic`` (one output, a sigmoid) or ``multi:softprob`` /
        ``multi:softmax`` (K outputs, a softmax), gradient-boosted trees of one
        value a leaf; numeric and categorical splits.
    schema : FeatureSchema
        How records are encoded into the booster's input columns; its category
        levels bound the complemented category sets (see the module docstring).
    rounds : int, default=None
        Boosting rounds to keep (``iteration_range=(0, rounds)``: what
        ``XGBClassifier`` predicts with after early stopping is ``best_iteration
        + 1``); None keeps them all.

    Raises
    ------
    TypeError
        For an objective, a booster type or a tree the runtime does not
        reproduce exactly (DART, linear boosters, multi-output trees).
    """
    arrays, meta = xgboost_table(booster, schema, rounds)
    return CompiledModel("trees", arrays, schema, meta)


def xgboost_table(booster, schema, rounds=None) -> tuple[dict, dict]:
    """``(node table, meta)`` of a booster (see :func:`compile_xgboost`)."""
    learner = json.loads(bytes(booster.save_raw("json")))["learner"]
    objective = learner["objective"]["name"]
    gbm = learner["gradient_booster"]
    if gbm.get("name") != "gbtree":
        raise TypeError(
            f"cannot compile an XGBoost model with booster {gbm.get('name')!r}: the runtime "
            "compiles gbtree models."
        )
    if objective not in _BINARY + _CLASSES:
        raise TypeError(f"cannot compile an XGBoost model with objective {objective!r}.")
    model = gbm["model"]
    n_outputs = max(1, int(learner["learner_model_param"].get("num_class", "0")))
    base = _base_margins(learner["learner_model_param"]["base_score"], objective, n_outputs)
    bounds = model.get("iteration_indptr") or _rounds_of(model, n_outputs)
    n_rounds = len(bounds) - 1
    if rounds is None:
        rounds = n_rounds
    if isinstance(rounds, bool) or not 1 <= int(rounds) <= n_rounds:
        raise TypeError(f"rounds must be in [1, {n_rounds}], got {rounds!r}.")
    n_trees = int(bounds[int(rounds)])
    levels = _levels(schema)
    builder, first = TreeBuilder(), {}
    for t in range(n_trees):
        tree, output = model["trees"][t], int(model["tree_info"][t])
        if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise TypeError("multi-output XGBoost trees are not supported by the runtime.")
        offset = base[output] if output not in first else None
        first.setdefault(output, t)
        builder.root(_add_tree(builder, tree, offset, levels), output)
    meta = {
        "source": "xgboost",
        "output": OUT_SIGMOID if n_outputs == 1 else OUT_SOFTMAX,
        "base": 0.0,
        "n_outputs": n_outputs,
        "sum": "float32",
    }
    return builder.arrays(), meta


def _rounds_of(model, n_outputs) -> list[int]:
    """Tree bounds of each round when the model does not list them (older XGBoost)."""
    per_round = n_outputs * int(model["gbtree_model_param"].get("num_parallel_tree", "1"))
    return list(range(0, len(model["trees"]) + 1, per_round))


def _base_margins(text, objective, n_outputs) -> np.ndarray:
    """The float32 margin each output's sum starts from.

    ``base_score`` is a probability for ``binary:logistic`` (its margin is the
    logit) and a margin for the softmax objectives; XGBoost 3 writes a list
    (one value an output), older versions one number for every output.
    """
    values = [float(v) for v in str(text).strip("[]").split(",")]
    if len(values) == 1:
        values *= n_outputs
    if len(values) != n_outputs:
        raise TypeError(f"base_score {text!r} does not hold {n_outputs} value(s).")
    base = np.asarray(values, dtype=np.float32)
    if objective in _BINARY:
        if not 0.0 < base[0] < 1.0:
            raise TypeError(f"binary:logistic base_score {text!r} is not a probability.")
        # XGBoost's -logf(1.0f / p - 1.0f), in float32 throughout
        odds = np.float32(1.0) / base - np.float32(1.0)
        base = -np.array([_logf(float(v)) for v in odds], dtype=np.float32)
    return base


@functools.cache
def _c_logf():
    """The C library's ``logf`` (XGBoost's base margin goes through it), or None."""
    name = ctypes.util.find_library("m") or ctypes.util.find_library("c")
    try:
        logf = ctypes.CDLL(name).logf
    except (OSError, AttributeError, TypeError):
        return None
    logf.restype, logf.argtypes = ctypes.c_float, [ctypes.c_float]
    return logf


def _logf(x: float) -> np.float32:
    """``logf(x)`` as the C library computes it; float64's log rounded to float32 without one."""
    logf = _c_logf()
    return np.float32(logf(x)) if logf is not None else np.float32(np.log(x))


def _levels(schema) -> dict:
    """Encoded column index -> levels of a categorical column."""
    categories = getattr(schema, "categories", {}) or {}
    return {j: len(categories[f]) for j, f in enumerate(schema.features) if f in categories}


def _category_sets(tree) -> dict:
    """Node id -> the categories of a categorical split (sent right by XGBoost)."""
    nodes, cats = tree.get("categories_nodes", []), tree.get("categories", [])
    segments, sizes = tree.get("categories_segments", []), tree.get("categories_sizes", [])
    return {
        int(n): [int(c) for c in cats[int(s) : int(s) + int(k)]]
        for n, s, k in zip(nodes, segments, sizes)
    }


def _add_tree(builder, tree, offset, levels) -> int:
    """Add one XGBoost tree; ``offset`` (float32, or None) is added to its leaves in float32.

    Returns the id of its root.
    """
    left, right = tree["left_children"], tree["right_children"]
    feature, cond = tree["split_indices"], tree["split_conditions"]
    default_left, kind = tree["default_left"], tree.get("split_type", [0] * len(left))
    hessian = tree.get("sum_hessian")  # a node's cover, as XGBoost's own contributions weigh it
    sets = _category_sets(tree)
    n = len(left)
    ids = [0] * n
    for i in range(n):
        if left[i] == -1:
            value = np.float32(cond[i])
            if offset is not None:
                value = np.float32(offset) + value  # float32 addition, as XGBoost's first
            cover = None if hessian is None else float(hessian[i])
            ids[i] = builder.node(-1, 0, float(value), cover)
        elif kind[i] == 1:
            ids[i] = _categorical_node(builder, i, int(feature[i]), sets.get(i, []), tree, levels)
        else:
            flags = (MISSING_NAN << MISSING_SHIFT) | FLOAT32
            flags |= DEFAULT_LEFT if default_left[i] else 0
            below = np.nextafter(np.float32(cond[i]), np.float32(-np.inf))  # x < t: x <= below
            ids[i] = builder.node(int(feature[i]), flags, float(below))
    for i in range(n):
        if left[i] == -1:
            continue
        lo, hi = ids[int(left[i])], ids[int(right[i])]
        if kind[i] == 1 and not _keeps_complement(default_left[i]):
            lo, hi = hi, lo  # the set goes right in XGBoost, left in the runtime
        builder.link(ids[i], lo, hi)
    return ids[0]


def _keeps_complement(default_left) -> bool:
    """A categorical split whose NaN goes the set's way (right) keeps the set's complement."""
    return not default_left


def _categorical_node(builder, i, feature, cats, tree, levels) -> int:
    if _keeps_complement(tree["default_left"][i]):
        top = max(levels.get(feature, 0), max(cats, default=-1) + 1)
        cats = sorted(set(range(top)) - set(cats))
    return builder.node(feature, CATEGORICAL, float(builder.categories(cats)))
