"""The canonical node table packed for the compiled kernels (``_ckernels.c``).

One 24-byte record per node: a split's threshold or category mask, its feature,
its *kind* (how to decide, resolved once here rather than per row) and both
children. A leaf's children are the leaf itself and its value sits in the
threshold slot, so a kernel walks each tree for exactly ``depth`` steps and
reads the leaf it stands on, with no "is this a leaf" branch.

Kinds:

* ``NAN_LEFT`` / ``NAN_RIGHT``: numeric, go right iff ``v > threshold``, NaN
  going the stated way (LightGBM's NaN and None missing types both reduce to this,
  and so does a float32 comparison -- scikit-learn's, XGBoost's -- with its threshold
  replaced by the double where float32 rounding flips: :func:`float32_cuts`);
* ``CAT64``: categorical with every category below 64: one 64-bit mask;
* ``SLOW``: anything else (larger category sets, zero-as-missing with a
  threshold near 0): the kernel applies the full rules of
  :mod:`tabdistill_runtime.rules`.
"""

from __future__ import annotations

import numpy as np

from .rules import CATEGORICAL, FLOAT32, MISSING_NAN, MISSING_NONE, ZERO, missing_type

NAN_LEFT, NAN_RIGHT, CAT64, SLOW = 0, 1, 2, 3

NODE_DTYPE = np.dtype(
    [("u", "<f8"), ("f", "<i4"), ("kind", "<i4"), ("left", "<i4"), ("right", "<i4")]
)


def node_kinds(arrays) -> np.ndarray:
    flags = arrays["flags"].astype(np.int64)
    value = arrays["value"]
    split = arrays["feature"] >= 0
    miss = missing_type(flags)
    default_left = (flags & 1) == 1
    numeric = split & ((flags & (CATEGORICAL | FLOAT32)) == 0)
    kind = np.full(len(flags), SLOW, dtype=np.int32)
    # MISSING_NONE compares NaN as 0.0: NaN goes right iff 0 > threshold
    none = numeric & (miss == MISSING_NONE)
    kind[none] = np.where(value[none] < 0.0, NAN_RIGHT, NAN_LEFT)
    nan = numeric & (miss == MISSING_NAN)
    kind[nan] = np.where(default_left[nan], NAN_LEFT, NAN_RIGHT)
    # zero-as-missing: a fast numeric node when the zero band falls the default way anyway
    zero = numeric & (miss == 1)
    kind[zero & default_left & (value >= ZERO)] = NAN_LEFT
    kind[zero & ~default_left & (value < -ZERO)] = NAN_RIGHT
    rounded = _float32_nodes(arrays)
    kind[rounded] = np.where(default_left[rounded], NAN_LEFT, NAN_RIGHT)
    kind[~split] = NAN_LEFT
    return kind


def _float32_nodes(arrays) -> np.ndarray:
    """Numeric splits comparing ``float32(v)``, NaN going the default way."""
    flags = arrays["flags"].astype(np.int64)
    numeric = (arrays["feature"] >= 0) & ((flags & CATEGORICAL) == 0)
    return numeric & ((flags & FLOAT32) != 0) & (missing_type(flags) == MISSING_NAN)


_F32_MAX = float(np.finfo(np.float32).max)


def float32_cuts(thresholds) -> np.ndarray:
    """Per threshold ``t``, the double ``c`` with ``v <= c`` exactly when
    ``float64(float32(v)) <= t``, for every ``v`` but NaN.

    Rounding to float32 is monotone, so the values passing the float32 test
    form a half-line; ``c`` is its upper end: the midpoint between the largest
    float32 ``s <= t`` and the next float32 (2**128 after the largest finite
    one, -2**128 standing for -inf), or the double just below it when a tie at
    the midpoint rounds up (round half to even); +inf for ``t = +inf``.
    """
    t = np.asarray(thresholds, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        s = t.astype(np.float32)
        s = np.where(s.astype(np.float64) > t, np.nextafter(s, np.float32(-np.inf)), s)
        lo = s.astype(np.float64)
        hi = np.nextafter(s, np.float32(np.inf)).astype(np.float64)
        hi = np.where(np.isposinf(hi) & np.isfinite(lo), 2.0**128, hi)
        lo = np.where(np.isneginf(lo), -(2.0**128), lo)
        mid = (lo + hi) / 2.0  # exact: two neighbouring float32 values, in float64
    even = (s.view(np.uint32) & 1) == 0
    cut = np.where(even, mid, np.nextafter(mid, -np.inf))
    return np.where(np.isposinf(s), np.inf, cut)


def _category_masks(arrays, kind):
    """Mark categorical splits whose set fits in 64 bits as CAT64; return their masks."""
    bounds, bits = arrays["cat_bounds"].astype(np.int64), arrays["cat_bits"].astype(np.uint64)
    cat = (arrays["feature"] >= 0) & ((arrays["flags"] & CATEGORICAL) != 0)
    masks = np.zeros(len(kind), dtype=np.uint64)
    for i in np.flatnonzero(cat):
        k = int(arrays["value"][i])
        words = bits[bounds[k] : bounds[k + 1]]
        if len(words) > 2 and words[2:].any():
            continue
        lo = int(words[0]) if len(words) > 0 else 0
        hi = int(words[1]) if len(words) > 1 else 0
        masks[i] = np.uint64(lo | (hi << 32))
        kind[i] = CAT64
    return masks


def pack(arrays) -> np.ndarray:
    """The packed node records of a validated canonical table (see module docstring)."""
    feature, right = arrays["feature"], arrays["right"]
    n = len(feature)
    kind = node_kinds(arrays)
    masks = _category_masks(arrays, kind)
    nodes = np.zeros(n, dtype=NODE_DTYPE)
    nodes["u"] = arrays["value"]
    rounded = _float32_nodes(arrays)
    nodes["u"][rounded] = float32_cuts(arrays["value"][rounded])
    cat = kind == CAT64
    nodes["u"][cat] = masks[cat].view(np.float64)
    split = feature >= 0
    idx = np.arange(n, dtype=np.int32)
    nodes["f"] = np.where(split, feature, 0)
    nodes["kind"] = kind
    nodes["left"] = np.where(split, idx + 1, idx)
    nodes["right"] = np.where(split, right, idx)
    return nodes


def bit_vectors(arrays, nodes) -> dict:
    """Each tree's splits as QuickScorer bit-vector tables (for trees of <= 64 leaves).

    Leaves are numbered left to right within their tree (pre-order meets them
    in that order). When a row goes right at a split, the leaves of its left
    subtree cannot be reached: ``qs_mask`` holds them, and the kernel clears
    them from the row's leaf set. After all of a tree's splits, the lowest
    leaf still set is the one the row reaches. Every split of a tree is tested
    independently, so a block of rows is scored by vector instructions, split
    by split, without walking.
    """
    feature, right, roots = arrays["feature"], arrays["right"], arrays["roots"]
    n = len(feature)
    split = feature >= 0
    tree = np.searchsorted(roots, np.arange(n), side="right") - 1
    cum = np.concatenate([[0], np.cumsum(~split)])  # leaves before each node
    first = cum[roots][tree]  # leaves before each node's tree
    idx = np.flatnonzero(split)
    lo = (cum[idx + 1] - first[idx]).astype(np.uint64)
    hi = (cum[right[idx]] - first[idx]).astype(np.uint64)

    def low_bits(k):  # (1 << k) - 1 for k in [0, 64]
        return np.where(k >= 64, ~np.uint64(0), (np.uint64(1) << np.minimum(k, 63)) - np.uint64(1))

    mask = low_bits(hi) & ~low_bits(lo)  # only used for trees of <= 64 leaves
    starts = np.append(roots, n)
    return {
        "qs_start": np.searchsorted(idx, starts).astype(np.int32),
        "qs_node": idx.astype(np.int32),
        "qs_f": nodes["f"][idx].astype(np.int32),
        "qs_kind": nodes["kind"][idx].astype(np.int32),
        "qs_u": np.ascontiguousarray(nodes["u"][idx]),
        "qs_mask": mask.astype(np.uint64),
        "leaf_start": cum[starts].astype(np.int32),
        "leaf_val": np.ascontiguousarray(arrays["value"][~split]),
    }
