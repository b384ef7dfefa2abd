"""LightGBM boosters (``cross_entropy`` or ``binary`` objective) to the runtime's node table.

Reads the booster's own JSON dump, so LightGBM is never imported here.
"""

from __future__ import annotations

from .model import CompiledModel
from .rules import (
    CATEGORICAL,
    DEFAULT_LEFT,
    MISSING_NAN,
    MISSING_NONE,
    MISSING_SHIFT,
    MISSING_ZERO,
    OUT_SIGMOID,
)
from .trees import TreeBuilder

_MISSING = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


def _add_node(builder, node):
    if "leaf_value" in node:
        return builder.node(-1, 0, float(node["leaf_value"]))
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


def compile_lightgbm(booster, schema) -> CompiledModel:
    """Compile a fitted LightGBM ``Booster`` predicting a probability.

    Parameters
    ----------
    booster : lightgbm.Booster
        With a ``cross_entropy``/``xentropy`` or ``binary`` objective.
    schema : FeatureSchema
        How records are encoded into the booster's input columns.

    Raises
    ------
    TypeError
        For an objective or a tree type the runtime does not reproduce.
    """
    dump = booster.dump_model()
    objective = str(dump.get("objective", "")).split()
    if not objective or objective[0] not in ("cross_entropy", "binary", "xentropy"):
        raise TypeError(
            f"cannot compile a LightGBM model with objective {dump.get('objective')!r}."
        )
    if str(booster.params.get("linear_tree", "false")).lower() in ("true", "1"):
        raise TypeError("linear-tree LightGBM models are not supported by the runtime.")
    scale = 1.0
    if objective[0] == "binary" and len(objective) > 1 and objective[1].startswith("sigmoid:"):
        scale = float(objective[1].split(":")[1])
    builder = TreeBuilder()
    for tree in dump["tree_info"]:
        builder.root(_add_node(builder, tree["tree_structure"]))
    arrays = builder.arrays()
    if scale != 1.0:  # sigmoid(scale * raw): fold the scale into the leaf values
        arrays["value"][arrays["feature"] < 0] *= scale
    meta = {"source": "lightgbm", "output": OUT_SIGMOID, "base": 0.0, "n_outputs": 1}
    return CompiledModel("trees", arrays, schema, meta)
