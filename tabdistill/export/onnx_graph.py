"""A runtime as an ONNX graph on encoded rows: ``TreeEnsemble`` (``ai.onnx.ml`` 5) or ``MatMul``.

``X`` (float64, ``[n, n_features]``, encoded rows) -> ``TreeEnsemble`` (sum of
leaf values) -> ``Add`` (base score) -> ``Sigmoid`` or ``Clip`` ->
``probability`` (``[n, 1]``). A model of K classes has K targets (each tree
adds to its class) and ends in ``Softmax``, or ``Clip`` and a division by the
row sum, giving ``probabilities`` (``[n, K]``, the estimator's ``classes_``
order). Thresholds stay float64, so onnxruntime's scores equal the runtime's;
every decision rule is mapped exactly:

* numeric splits: ``BRANCH_LEQ``, NaN following the node's missing-value rule;
* scikit-learn's float32 comparisons: the threshold becomes the largest double
  whose float32 rounding is <= the float32 threshold, an equivalent float64 test;
* categorical splits: ``BRANCH_MEMBER`` with the node's category set (NaN and
  categories outside the set go right, as in LightGBM).

A zero-as-missing split whose threshold lies within LightGBM's zero band has
no exact ONNX form and is refused.

A linear runtime becomes its design matrix, built in the graph exactly as the
runtime encodes a row, times the coefficients: ``X`` -> numeric features
standardised (NaN -> the training median) ++ missing indicators (``IsNaN``) ++
one-hot codes (``Equal`` of each categorical code, floored, with its levels;
NaN, unseen and out-of-range codes match none) -> ``MatMul`` -> ``Add``
(intercepts) -> ``Sigmoid`` or ``Softmax``, with the same outputs as a tree graph.

Float32 input (``input_type="float32"``): ``X`` is float32 and a ``Cast`` widens
it to float64 before the same graph, so the scores (float64) are the runtime's
on the float32-rounded rows (``score_encoded(X.astype(float32).astype(float64))``)
to the last bit. Against the float64 rows they differ only where rounding to
float32 (24 significant bits) moves a value across a split threshold, or by the
rounded input times a linear coefficient: category codes and whole numbers below
2**24 are exact, a date's timestamp part (days since 1970) is rounded to about
3 minutes, large amounts to 7 significant digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tabdistill_runtime._proba import EPS
from tabdistill_runtime.layout import NAN_LEFT, NAN_RIGHT, float32_cuts, node_kinds
from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.rules import CATEGORICAL, FLOAT32, OUT_SIGMOID, OUT_SOFTMAX, nan_goes_right

from .supported import check_exportable

BRANCH_LEQ, BRANCH_MEMBER = 0, 6
INPUT_TYPES = ("float64", "float32")


def float32_cut(threshold: float) -> float:
    """The double ``c`` with ``v <= c`` exactly when ``float64(float32(v)) <= threshold``
    (:func:`tabdistill_runtime.layout.float32_cuts`, which the runtime's kernels use)."""
    if np.isnan(threshold):
        raise ValueError("a NaN threshold has no cut")
    return float(float32_cuts(np.array([threshold]))[0])


def _category_set(arrays, k) -> list[float]:
    bounds, bits = arrays["cat_bounds"], arrays["cat_bits"]
    words = bits[bounds[k] : bounds[k + 1]].astype(np.uint64)
    return [float(32 * w + b) for w, word in enumerate(words) for b in range(32) if word >> b & 1]


def _tree_attributes(model: CompiledModel) -> dict:
    a = model.arrays
    feature, right, value, flags = a["feature"], a["right"], a["value"], a["flags"]
    kinds = node_kinds(a)
    nan_right = nan_goes_right(flags.astype(np.int64), value)
    split = feature >= 0
    node_of = np.cumsum(split) - 1  # canonical index -> nodes_* position
    leaf_of = np.cumsum(~split) - 1  # canonical index -> leaf_* position
    att = {k: [] for k in ("feat", "split", "mode", "true", "false", "tleaf", "fleaf", "miss")}
    members, roots = [], []
    for i in np.flatnonzero(split):
        fl = int(flags[i])
        if fl & CATEGORICAL:
            mode, cut, missing_left = BRANCH_MEMBER, 0.0, 0
            members += [*_category_set(a, int(value[i])), np.nan]
        else:
            if kinds[i] not in (NAN_LEFT, NAN_RIGHT) and not fl & FLOAT32:
                raise ValueError(
                    f"node {i}: a zero-as-missing split with threshold {value[i]!r} near 0 "
                    "has no exact ONNX form."
                )
            cut = float32_cut(float(value[i])) if fl & FLOAT32 else float(value[i])
            mode, missing_left = BRANCH_LEQ, int(not nan_right[i])
        children = [(i + 1, "true"), (int(right[i]), "false")]
        for child, side in children:
            is_leaf = feature[child] < 0
            att[side].append(int(leaf_of[child] if is_leaf else node_of[child]))
            att["tleaf" if side == "true" else "fleaf"].append(int(is_leaf))
        att["feat"].append(int(feature[i]))
        att["split"].append(cut)
        att["mode"].append(mode)
        att["miss"].append(missing_left)
    for root in a["roots"].tolist():
        if feature[root] >= 0:
            roots.append(int(node_of[root]))
            continue
        roots.append(len(att["feat"]))  # a one-leaf tree: one node, both ways to its leaf
        for key, v in (("feat", 0), ("split", 0.0), ("mode", BRANCH_LEQ), ("miss", 0)):
            att[key].append(v)
        for key in ("true", "false"):
            att[key].append(int(leaf_of[root]))
        att["tleaf"].append(1)
        att["fleaf"].append(1)
    leaf_tree = np.searchsorted(a["roots"], np.flatnonzero(~split), side="right") - 1
    return {
        **att,
        "members": members,
        "roots": roots,
        "leaf_weights": value[~split].astype(np.float64),
        "leaf_targets": a["tree_output"][leaf_tree].astype(np.int64).tolist(),
    }


def to_onnx(model: CompiledModel, name: str = "tabdistill_model", input_type: str = "float64"):
    """The ONNX ``ModelProto`` of a tree or linear runtime (needs the ``onnx`` package).

    Parameters
    ----------
    model : CompiledModel
    name : str, default="tabdistill_model"
        The graph's name.
    input_type : {"float64", "float32"}, default="float64"
        The type of the input ``X``. Float32 rows are widened to float64 in the
        graph: the scores are the runtime's on the rounded rows (see the module
        docstring for what rounding changes).

    Raises
    ------
    ImportError
        If ``onnx`` is not installed (``pip install tabdistill[onnx]``).
    ValueError
        For a split that has no exact ONNX form, or a model ONNX cannot score as
        the runtime does (a compiled teacher, float32 sums: see
        :mod:`tabdistill.export.supported`).
    """
    try:
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'tabdistill[onnx]'."
        ) from None
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}.")
    check_exportable(model, "ONNX")
    if model.kind == "linear":
        nodes, initializers = _linear_nodes(model, helper, numpy_helper)
        return _model(model, name, nodes, initializers, input_type)
    t = _tree_attributes(model)
    k = model.n_outputs

    def tensor(values, dtype, key):
        return numpy_helper.from_array(np.asarray(values, dtype=dtype), key)

    ensemble = helper.make_node(
        "TreeEnsemble",
        ["X"],
        ["raw"],
        domain="ai.onnx.ml",
        n_targets=k,
        aggregate_function=1,
        post_transform=0,
        tree_roots=t["roots"],
        nodes_featureids=t["feat"],
        nodes_splits=tensor(t["split"], np.float64, "nodes_splits"),
        nodes_modes=tensor(t["mode"], np.uint8, "nodes_modes"),
        nodes_truenodeids=t["true"],
        nodes_falsenodeids=t["false"],
        nodes_trueleafs=t["tleaf"],
        nodes_falseleafs=t["fleaf"],
        nodes_missing_value_tracks_true=t["miss"],
        leaf_targetids=t["leaf_targets"],
        leaf_weights=tensor(t["leaf_weights"], np.float64, "leaf_weights"),
        **(
            {"membership_values": tensor(t["members"], np.float64, "membership_values")}
            if t["members"]
            else {}
        ),
    )
    base = numpy_helper.from_array(np.array([[model.meta["base"]]]), "base")
    nodes = [ensemble, helper.make_node("Add", ["raw", "base"], ["score"])]
    initializers = [base]
    out = "probability" if k == 1 else "probabilities"
    if model.meta["output"] == OUT_SIGMOID:
        nodes.append(helper.make_node("Sigmoid", ["score"], [out]))
    elif model.meta["output"] == OUT_SOFTMAX:
        nodes.append(helper.make_node("Softmax", ["score"], [out], axis=1))
    else:
        initializers += [
            numpy_helper.from_array(np.array(EPS), "lo"),
            numpy_helper.from_array(np.array(1 - EPS if k == 1 else 1.0), "hi"),
        ]
        clipped = "probability" if k == 1 else "clipped"
        nodes.append(helper.make_node("Clip", ["score", "lo", "hi"], [clipped]))
        if k > 1:  # leaves holding distributions: clipped, then rescaled to sum to 1
            initializers.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis"))
            nodes += [
                helper.make_node("ReduceSum", ["clipped", "axis"], ["total"], keepdims=1),
                helper.make_node("Div", ["clipped", "total"], [out]),
            ]
    return _model(model, name, nodes, initializers, input_type)


def _model(model: CompiledModel, name: str, nodes, initializers, input_type: str):
    """The checked ``ModelProto`` of ``nodes``: ``X`` in, ``probability(ies)`` out. The nodes
    read ``X`` as float64: float32 input is widened first."""
    import onnx
    from onnx import TensorProto, helper

    k = model.n_outputs
    out = "probability" if k == 1 else "probabilities"
    x_type = TensorProto.DOUBLE
    if input_type == "float32":
        x_type = TensorProto.FLOAT
        for node in nodes:
            node.input[:] = ["X64" if i == "X" else i for i in node.input]
        nodes = [helper.make_node("Cast", ["X"], ["X64"], to=TensorProto.DOUBLE), *nodes]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("X", x_type, [None, model.n_features])],
        [helper.make_tensor_value_info(out, TensorProto.DOUBLE, [None, k])],
        initializers,
        doc_string=f"Encoded columns, in order: {', '.join(model.schema.features)}",
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)],
        producer_name="tabdistill",
    )
    proto.ir_version = 10
    onnx.checker.check_model(proto)
    return proto


def _linear_nodes(model: CompiledModel, helper, numpy_helper) -> tuple[list, list]:
    """The nodes and initializers of a linear runtime's graph (see the module docstring)."""
    ints, values = model.arrays["ints"], model.arrays["values"]
    coef = model.arrays["coef"].reshape(model.n_outputs, -1)  # K x (n_design + 1)
    at, n_levels, has_missing = ints[:, 0], ints[:, 1], ints[:, 2].astype(bool)
    numeric = n_levels == 0
    n_features, k = len(ints), coef.shape[0]
    # weights of the three blocks of the design matrix, one row per column of the block
    w_value = np.where(numeric[:, None], coef[:, np.where(numeric, at, 0)].T, 0.0)
    w_missing = np.where(
        (numeric & has_missing)[:, None], coef[:, np.where(numeric & has_missing, at + 1, 0)].T, 0.0
    )
    slot_feature = np.repeat(np.arange(n_features), np.maximum(n_levels, 0))
    slot_level = np.concatenate([np.arange(n) for n in n_levels.tolist()] + [np.zeros(0)])
    w_level = coef[:, at[slot_feature] + slot_level.astype(np.int64)].T
    # numeric columns standardised as the runtime does; categorical ones get weight 0
    center = np.where(numeric, values[:, 1], 0.0)
    scale = np.where(numeric, values[:, 2], 1.0)
    fill = np.where(numeric, values[:, 0], 0.0)

    def const(values, key, dtype=np.float64):
        return numpy_helper.from_array(np.asarray(values, dtype=dtype), key)

    initializers = [
        const(fill, "median"),
        const(center, "mean"),
        const(scale, "scale"),
        const(np.vstack([w_value, w_missing, w_level]), "weights"),
        const(coef[:, -1][None, :], "intercepts"),
    ]
    nodes = [
        helper.make_node("IsNaN", ["X"], ["missing"]),
        helper.make_node("Where", ["missing", "median", "X"], ["filled"]),
        helper.make_node("Sub", ["filled", "mean"], ["centered"]),
        helper.make_node("Div", ["centered", "scale"], ["standard"]),
        helper.make_node("Cast", ["missing"], ["indicators"], to=11),  # DOUBLE
    ]
    blocks = ["standard", "indicators"]
    if len(slot_feature):
        initializers += [
            const(slot_feature, "slot_feature", np.int64),
            const(slot_level, "slot_level"),
        ]
        nodes += [
            helper.make_node("Floor", ["X"], ["codes"]),
            helper.make_node("Gather", ["codes", "slot_feature"], ["slot_codes"], axis=1),
            helper.make_node("Equal", ["slot_codes", "slot_level"], ["hot"]),
            helper.make_node("Cast", ["hot"], ["one_hot"], to=11),
        ]
        blocks.append("one_hot")
    out = "probability" if k == 1 else "probabilities"
    nodes += [
        helper.make_node("Concat", blocks, ["design"], axis=1),
        helper.make_node("MatMul", ["design", "weights"], ["product"]),
        helper.make_node("Add", ["product", "intercepts"], ["score"]),
        helper.make_node("Sigmoid", ["score"], [out])
        if k == 1
        else helper.make_node("Softmax", ["score"], [out], axis=1),
    ]
    return nodes, initializers


def write_onnx(
    model: CompiledModel, path, name: str = "tabdistill_model", input_type: str = "float64"
) -> Path:
    """Write the ONNX graph of ``model`` (input ``X`` of ``input_type``) to ``path``; returns it."""
    path = Path(path)
    path.write_bytes(to_onnx(model, name, input_type).SerializeToString())
    return path
