"""How a tree table is stored in a file: lossless packing, and the quantized leaf codecs.

The model in memory always holds the canonical arrays of
:mod:`tabdistill_runtime.trees`. On disk:

* integer arrays take the smallest integer type that holds their values;
* ``right`` and ``roots`` are not stored (since format version 3): the
  pre-order layout fixes them (:func:`~tabdistill_runtime.trees.preorder_links`);
* split values (thresholds, category-set indices) are stored as a table of
  distinct values plus one uint8/uint16/int32 code per split (``"split": "table"``);
* leaf values are stored as ``float64``, as ``float32``, or as ``int16``/``int8``
  codes times a scale (``"leaf"`` and ``"leaf_scale"``);
* node covers, where the table has them, are stored for the leaves only
  (``leaf_cover``: the smallest integer type when they are whole numbers, as
  LightGBM's counts are, else float64); a split's cover is its children's sum.

Every codec is exact *for the model it stores*: a quantized model's leaf values
are already on the codec's grid (:mod:`tabdistill.compress` puts them there),
so saving and loading give back the same doubles, and the same scores.
"""

from __future__ import annotations

import numpy as np

from .trees import node_covers, preorder_links

LEAF_CODECS = ("float64", "float32", "int16", "int8")
DEFAULT_STORAGE = {"leaf": "float64", "leaf_scale": 1.0}
_INT_TYPES = (np.uint8, np.int8, np.uint16, np.int16, np.int32)


def smallest_int(values) -> np.ndarray:
    """``values`` in the smallest integer type holding them all (int32 at most)."""
    values = np.asarray(values)
    if values.size == 0:
        return values.astype(np.uint8)
    lo, hi = int(values.min()), int(values.max())
    for t in _INT_TYPES:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return values.astype(t)
    return values.astype(np.int64)


def leaf_grid(values, codec: str):
    """``(quantized values, scale)``: ``values`` rounded onto ``codec``'s grid.

    For ``int16``/``int8`` the scale maps the largest absolute value to the
    largest code; ``float32`` rounds to the nearest float32.
    """
    values = np.asarray(values, dtype=np.float64)
    if codec == "float64":
        return values.copy(), 1.0
    if codec == "float32":
        return values.astype(np.float32).astype(np.float64), 1.0
    top = np.iinfo(np.int16 if codec == "int16" else np.int8).max
    peak = float(np.abs(values).max()) if values.size else 0.0
    scale = peak / top if peak > 0 else 1.0
    return np.round(values / scale) * scale, scale


def encode(arrays: dict, storage: dict, links: bool = False) -> dict:
    """File arrays of a canonical tree table under ``storage``.

    ``links=True`` stores ``right`` and ``roots`` too, as format version 2 did.

    Raises
    ------
    ValueError
        If the leaf values are not on the codec's grid (quantize them first
        with :func:`leaf_grid`).
    """
    codec, scale = storage["leaf"], float(storage.get("leaf_scale", 1.0))
    leaf = arrays["feature"] < 0
    out = {k: smallest_int(arrays[k]) for k in (LINK_KEYS if links else ()) + PACKED_KEYS}
    out["cat_bits"] = arrays["cat_bits"]  # bitsets: uint32 words as they are
    table, codes = np.unique(arrays["value"][~leaf], return_inverse=True)
    out["split_table"] = table
    out["split_code"] = smallest_int(codes.ravel())
    leaves = arrays["value"][leaf]
    if codec == "float64":
        out["leaf_value"] = leaves
    elif codec == "float32":
        out["leaf_value"] = leaves.astype(np.float32)
    else:
        codes = np.round(leaves / scale)
        kind = np.int16 if codec == "int16" else np.int8
        if codes.size and np.abs(codes).max() > np.iinfo(kind).max:
            raise ValueError(f"leaf values are not on the {codec!r} grid; quantize them first.")
        out["leaf_code"] = codes.astype(kind)
    if not np.array_equal(decode_leaves(out, storage), leaves):
        raise ValueError(f"leaf values are not on the {codec!r} grid; quantize them first.")
    if "cover" in arrays:
        out["leaf_cover"] = _leaf_covers(arrays["cover"][leaf])
    return out


def _leaf_covers(cover) -> np.ndarray:
    """Leaf covers in the smallest integer type if they are whole numbers, else float64."""
    if cover.size and np.all(cover == np.round(cover)) and cover.max() <= np.iinfo(np.int32).max:
        return smallest_int(cover.astype(np.int64))
    return cover.astype(np.float64)


def decode_leaves(stored: dict, storage: dict) -> np.ndarray:
    if storage["leaf"] in ("int16", "int8"):
        return stored["leaf_code"].astype(np.float64) * float(storage["leaf_scale"])
    return stored["leaf_value"].astype(np.float64)


#: file arrays by leaf codec (besides the integer arrays and the split table)
STORED_KEYS = {
    "float64": ("leaf_value",),
    "float32": ("leaf_value",),
    "int16": ("leaf_code",),
    "int8": ("leaf_code",),
}
PACKED_KEYS = ("feature", "flags", "cat_bounds", "cat_bits", "tree_output")
#: stored when the table has node covers
COVER_KEYS = ("leaf_cover",)
#: stored by format version 2 only
LINK_KEYS = ("right", "roots")


def decode(stored: dict, storage: dict) -> dict:
    """The canonical arrays of a stored tree table (checked by the caller)."""
    feature = stored["feature"].astype(np.int32)
    leaf = feature < 0
    value = np.empty(len(feature), dtype=np.float64)
    value[~leaf] = stored["split_table"].astype(np.float64)[stored["split_code"].astype(np.int64)]
    value[leaf] = decode_leaves(stored, storage)
    out = {"feature": feature, "value": value}
    if "right" in stored:  # format version 2
        out["right"], out["roots"] = stored["right"], stored["roots"]
    else:
        out["right"], out["roots"] = preorder_links(feature, len(stored["tree_output"]))
    for k in ("right", "cat_bounds", "roots", "tree_output"):
        out[k] = (out[k] if k in out else stored[k]).astype(np.int32)
    out["flags"] = stored["flags"].astype(np.uint8)
    out["cat_bits"] = stored["cat_bits"].astype(np.uint32)
    if "leaf_cover" in stored and len(out["right"]) == len(feature):  # else refused later
        leaf_cover = stored["leaf_cover"].astype(np.float64)
        out["cover"] = node_covers(feature, out["right"], leaf_cover)
    return out
