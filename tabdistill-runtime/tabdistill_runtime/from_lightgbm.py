"""LightGBM boosters to the runtime's node table.

A binary booster (``cross_entropy`` or ``binary`` objective) gives one output
and a sigmoid; a K-class booster (``multiclass``, or the custom soft-label
objectives of :mod:`tabdistill.distill.objectives`) gives K outputs, tree
``i`` adding to class ``i % K``, and a softmax.

Reads the booster's own JSON dump, so LightGBM is never imported here.
"""

from __future__ import annotations

import numpy as np

from .model import CompiledModel
from .rules import (
    CATEGORICAL,
    DEFAULT_LEFT,
    MISSING_NAN,
    MISSING_NONE,
    MISSING_SHIFT,
    MISSING_ZERO,
    OUT_SIGMOID,
    OUT_SOFTMAX,
)
from .trees import TreeBuilder

_MISSING = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


def _add_node(builder, node):
    if "leaf_value" in node:  # a one-leaf tree has no count: any cover will do
        return builder.node(-1, 0, float(node["leaf_value"]), node.get("leaf_count", 1))
    flags = (_MISSING[node["missing_type"]] << MISSING_SHIFT) | (
        DEFAULT_LEFT if node["default_left"] else 0
    )
    if node["decision_type"] == "==":
        cats = [int(c) for c in str(node["threshold"]).split("||")]
        idx = builder.node(
            int(node["split_feature"]), flags | CATEGORICAL, float(builder.categories(cats))
        )
    elif node["decision_type"] == "<=":
        idx = builder.node(int(node["split_feature"]), flags, float(node["threshold"]))
    else:
        raise TypeError(f"unsupported LightGBM decision type {node['decision_type']!r}")
    builder.link(
        idx, _add_node(builder, node["left_child"]), _add_node(builder, node["right_child"])
    )
    return idx


def add_tree(builder: TreeBuilder, tree: dict) -> int:
    """Add one tree of LightGBM's ``dump_model()["tree_info"]`` to ``builder``; its root node.

    Pass the root to ``builder.root(root, output)`` to make the tree add to ``output``: the
    way to assemble a tree table from several boosters (e.g. one per class).
    """
    return _add_node(builder, tree["tree_structure"])


def compile_lightgbm(booster, schema, init_score=None) -> CompiledModel:
    """Compile a fitted LightGBM ``Booster`` predicting probabilities.

    Parameters
    ----------
    booster : lightgbm.Booster
        With a ``cross_entropy``/``xentropy`` or ``binary`` objective (one
        output), or K trees a round: the ``multiclass`` objective, or a custom
        objective (``init_score`` given) whose raw scores go through a softmax.
    schema : FeatureSchema
        How records are encoded into the booster's input columns.
    init_score : array-like of shape (K,), default=None
        Raw scores the booster was trained from (LightGBM does not store them):
        added to the leaves of each class's first tree.

    Raises
    ------
    TypeError
        For an objective or a tree type the runtime does not reproduce.
    """
    dump = booster.dump_model()
    objective = str(dump.get("objective", "")).split()
    n_outputs = int(dump.get("num_tree_per_iteration", 1))
    if n_outputs > 1:
        return _compile_classes(booster, dump, objective, n_outputs, schema, init_score)
    if not objective or objective[0] not in ("cross_entropy", "binary", "xentropy"):
        raise TypeError(
            f"cannot compile a LightGBM model with objective {dump.get('objective')!r}."
        )
    _check_plain_trees(booster)
    scale = 1.0
    if objective[0] == "binary" and len(objective) > 1 and objective[1].startswith("sigmoid:"):
        scale = float(objective[1].split(":")[1])
    builder = TreeBuilder()
    for tree in dump["tree_info"]:
        builder.root(add_tree(builder, tree))
    arrays = builder.arrays()
    if scale != 1.0:  # sigmoid(scale * raw): fold the scale into the leaf values
        arrays["value"][arrays["feature"] < 0] *= scale
    meta = {"source": "lightgbm", "output": OUT_SIGMOID, "base": 0.0, "n_outputs": 1}
    return CompiledModel("trees", arrays, schema, meta)


def _check_plain_trees(booster):
    if str(booster.params.get("linear_tree", "false")).lower() in ("true", "1"):
        raise TypeError("linear-tree LightGBM models are not supported by the runtime.")


def _compile_classes(booster, dump, objective, n_outputs, schema, init_score):
    """K trees a round -> K outputs and a softmax; ``init_score`` folded into first trees."""
    name = objective[0] if objective else ""  # a custom objective leaves none in the model
    if name not in ("multiclass", "softmax", ""):
        raise TypeError(f"cannot compile a LightGBM model with objective {name!r}.")
    if not name and init_score is None:
        raise TypeError(
            "a LightGBM model with a custom objective compiles with the init_score it was "
            "trained from (a tabdistill student gives it)."
        )
    _check_plain_trees(booster)
    init = np.zeros(n_outputs) if init_score is None else np.asarray(init_score, np.float64)
    if init.shape != (n_outputs,):
        raise TypeError(f"init_score must hold {n_outputs} values, got shape {init.shape}.")
    builder = TreeBuilder()
    for i, tree in enumerate(dump["tree_info"]):
        builder.root(add_tree(builder, tree), i % n_outputs)
    arrays = builder.arrays()
    first = arrays["roots"][:n_outputs]
    ends = np.append(arrays["roots"][1:], len(arrays["feature"]))[:n_outputs]
    for k, (a, b) in enumerate(zip(first, ends)):
        leaves = np.arange(a, b)[arrays["feature"][a:b] < 0]
        arrays["value"][leaves] += init[k]
    meta = {"source": "lightgbm", "output": OUT_SOFTMAX, "base": 0.0, "n_outputs": n_outputs}
    return CompiledModel("trees", arrays, schema, meta)
