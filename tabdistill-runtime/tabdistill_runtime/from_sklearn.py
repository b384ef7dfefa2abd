"""scikit-learn trees and forests predicting probabilities, to the runtime's node table.

Reads the fitted ``tree_`` arrays, so scikit-learn is never imported here.
"""

from __future__ import annotations

import numpy as np

from .model import CompiledModel
from .rules import DEFAULT_LEFT, FLOAT32, MISSING_NAN, MISSING_SHIFT, OUT_CLIP
from .trees import TreeBuilder, concatenate


def compile_sklearn_tree(tree_model, schema) -> CompiledModel:
    """Compile a fitted ``DecisionTreeRegressor`` whose leaves hold probabilities.

    scikit-learn compares ``float32(x) <= threshold`` and sends NaN where
    ``missing_go_to_left`` says; the compiled nodes do the same. A node's cover
    is its weighted training sample count. A tree of K outputs (class
    distributions) becomes K copies of its structure, copy k holding output k in
    its leaves: the kernels walk them side by side.
    """
    t = tree_model.tree_
    builder = TreeBuilder()
    n_outputs = int(t.n_outputs)
    for k in range(n_outputs):
        builder.root(_add_tree(builder, t, t.value[:, k, 0]), k)
    meta = {"source": "sklearn_tree", "output": OUT_CLIP, "base": 0.0, "n_outputs": n_outputs}
    return CompiledModel("trees", builder.arrays(), schema, meta)


def compile_sklearn_forest(forest, schema) -> CompiledModel:
    """Compile a fitted ``RandomForestClassifier`` or ``ExtraTreesClassifier``.

    Scores a row as the forest's ``predict_proba`` does, the mean over its trees
    of the class distribution of the leaf the row reaches (each leaf's class
    weights divided by their sum), then kept within ``[EPS, 1 - EPS]`` like every
    runtime's probabilities: a binary forest as one output (the second class's
    probability), a forest of K classes as K outputs, each tree as K copies of
    its structure (see :func:`compile_sklearn_tree`).

    Raises
    ------
    TypeError
        For a forest of several targets or of one class.
    """
    trees = [est.tree_ for est in forest.estimators_]
    if getattr(forest, "n_outputs_", 1) != 1 or any(t.n_outputs != 1 for t in trees):
        raise TypeError("cannot compile a forest of several targets.")
    n_classes = int(trees[0].value.shape[2]) if trees else 0
    if n_classes < 2:
        raise TypeError(f"cannot compile a forest of {n_classes} class(es).")
    columns = [1] if n_classes == 2 else range(n_classes)
    tables = []
    for t in trees:
        proba = leaf_distributions(t) / len(trees)
        tables += [_table(t, proba[:, column], k) for k, column in enumerate(columns)]
    n_outputs = len(columns)
    meta = {"source": "sklearn_forest", "output": OUT_CLIP, "base": 0.0, "n_outputs": n_outputs}
    return CompiledModel("trees", concatenate(tables), schema, meta)


def leaf_distributions(t) -> np.ndarray:
    """Each node's class distribution ``(node_count, K)``, as a classifier tree's
    ``predict_proba`` gives it: class weights over their sum (1 where they sum to 0)."""
    value = np.asarray(t.value[:, 0, :], dtype=np.float64)
    total = value.sum(axis=1, keepdims=True)
    return value / np.where(total == 0.0, 1.0, total)


def _table(t, leaf_values, output) -> dict:
    """The canonical table of one fitted tree structure ``t`` with ``leaf_values`` (one a
    node) at its leaves, adding to ``output``.

    scikit-learn's depth-first builder stores a tree in pre-order already (a
    split's left child is the next node): its arrays are then the table as they
    are. Other trees go through :class:`TreeBuilder`.
    """
    left = t.children_left
    split = np.flatnonzero(left >= 0)
    if not np.array_equal(left[split], split + 1):
        builder = TreeBuilder()
        builder.root(_add_tree(builder, t, leaf_values), output)
        return builder.arrays()
    leaf = left < 0
    go_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
    flags = (MISSING_NAN << MISSING_SHIFT) | FLOAT32 | np.where(go_left != 0, DEFAULT_LEFT, 0)
    feature = np.where(leaf, -1, t.feature).astype(np.int32)
    right = np.where(leaf, -1, t.children_right).astype(np.int32)
    return {
        "feature": feature,
        "right": right,
        "value": np.where(leaf, leaf_values, t.threshold).astype(np.float64),
        "flags": np.where(leaf, 0, flags).astype(np.uint8),
        "cat_bounds": np.zeros(1, dtype=np.int32),
        "cat_bits": np.zeros(0, dtype=np.uint32),
        "roots": np.zeros(1, dtype=np.int32),
        "tree_output": np.full(1, output, dtype=np.int32),
        "cover": np.asarray(t.weighted_n_node_samples, dtype=np.float64),
    }


def _add_tree(builder, t, leaf_values) -> int:
    """Add the nodes of fitted tree structure ``t`` with ``leaf_values`` (one a node) at its
    leaves, its weighted sample counts as their covers; returns the id of its root."""
    leaf = t.children_left < 0
    flags = (MISSING_NAN << MISSING_SHIFT) | FLOAT32
    go_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
    offset = None
    for i in range(t.node_count):
        if leaf[i]:
            nid = builder.node(-1, 0, float(leaf_values[i]), t.weighted_n_node_samples[i])
        else:
            f = flags | (DEFAULT_LEFT if go_left[i] else 0)
            nid = builder.node(int(t.feature[i]), f, float(t.threshold[i]))
        offset = nid - i if offset is None else offset
    for i in np.flatnonzero(~leaf):  # children come after their parent: link once all exist
        left, right = int(t.children_left[i]), int(t.children_right[i])
        builder.link(offset + i, offset + left, offset + right)
    return offset
