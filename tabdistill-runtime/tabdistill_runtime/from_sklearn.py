"""A scikit-learn regression tree predicting a probability, to the runtime's node table.

Reads the fitted ``tree_`` arrays, so scikit-learn is never imported here.
"""

from __future__ import annotations

import numpy as np

from .model import CompiledModel
from .rules import DEFAULT_LEFT, FLOAT32, MISSING_NAN, MISSING_SHIFT, OUT_CLIP
from .trees import TreeBuilder


def compile_sklearn_tree(tree_model, schema) -> CompiledModel:
    """Compile a fitted ``DecisionTreeRegressor`` whose leaves hold probabilities.

    scikit-learn compares ``float32(x) <= threshold`` and sends NaN where
    ``missing_go_to_left`` says; the compiled nodes do the same. A node's cover
    is its weighted training sample count. A tree of K
    outputs (class distributions) becomes K copies of its structure, copy k
    holding output k in its leaves: the kernels walk them side by side.
    """
    t = tree_model.tree_
    builder = TreeBuilder()
    leaf = t.children_left < 0
    flags = (MISSING_NAN << MISSING_SHIFT) | FLOAT32
    go_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
    n_outputs = int(t.n_outputs)
    for k in range(n_outputs):
        offset = k * t.node_count
        for i in range(t.node_count):
            if leaf[i]:
                builder.node(-1, 0, float(t.value[i, k, 0]), t.weighted_n_node_samples[i])
            else:
                f = flags | (DEFAULT_LEFT if go_left[i] else 0)
                builder.node(int(t.feature[i]), f, float(t.threshold[i]))
        for i in np.flatnonzero(~leaf):  # children come after their parent: link once all exist
            left, right = int(t.children_left[i]), int(t.children_right[i])
            builder.link(offset + i, offset + left, offset + right)
        builder.root(offset, k)
    meta = {"source": "sklearn_tree", "output": OUT_CLIP, "base": 0.0, "n_outputs": n_outputs}
    return CompiledModel("trees", builder.arrays(), schema, meta)
