"""Leaf values on a coarser grid, with the largest score change that can follow."""

from __future__ import annotations

import numpy as np

from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.rules import OUT_SIGMOID, OUT_SOFTMAX
from tabdistill_runtime.storage import LEAF_CODECS, leaf_grid


def quantize_leaves(model: CompiledModel, codec: str) -> tuple[CompiledModel, float]:
    """``(model with leaf values on codec's grid, error bound)``.

    Parameters
    ----------
    model : CompiledModel
        A tree runtime.
    codec : {"float64", "float32", "int16", "int8"}

    Returns
    -------
    model : CompiledModel
        Same trees; stored with ``codec`` (see :mod:`tabdistill_runtime.storage`).
    bound : float
        No probability it gives differs from ``model``'s by more than this:
        each tree's leaf moves by at most its rounding error, the raw score by
        at most their sum, and a sigmoid output by at most a quarter of that
        (its steepest slope). With K outputs, each raw score moves by at most
        the sum over its own trees, ``b``; a softmax probability by at most
        ``max(b) / 2`` (``dp_k = p_k (1 - p_k) (dz_k - mean of the other dz)``),
        and leaves holding probabilities, renormalised, by at most
        ``2 sum(b) / (1 - sum(b))``.
    """
    if codec not in LEAF_CODECS:
        raise ValueError(f"codec must be one of {LEAF_CODECS}, got {codec!r}.")
    if model.kind != "trees":
        raise TypeError("only tree runtimes have leaves to quantize.")
    arrays = {k: v.copy() for k, v in model.arrays.items()}
    leaf = arrays["feature"] < 0
    values, scale = leaf_grid(arrays["value"][leaf], codec)
    change = np.abs(values - arrays["value"][leaf])
    arrays["value"][leaf] = values
    tree = np.searchsorted(arrays["roots"], np.flatnonzero(leaf), side="right") - 1
    per_tree = np.zeros(len(arrays["roots"]))
    np.maximum.at(per_tree, tree, change)
    if model.n_outputs > 1:
        per_output = np.bincount(arrays["tree_output"], per_tree, minlength=model.n_outputs)
        if model.meta["output"] == OUT_SOFTMAX:
            bound = float(per_output.max()) / 2
        else:
            total = float(per_output.sum())
            bound = 2 * total / (1 - total) if total < 1 else 1.0
    else:
        raw_bound = float(per_tree.sum())
        bound = raw_bound / 4 if model.meta["output"] == OUT_SIGMOID else raw_bound
    storage = {"leaf": codec, "leaf_scale": scale}
    return CompiledModel("trees", arrays, model.schema, model.meta, storage), bound
