"""Numba kernels that score encoded rows from the runtime's flat arrays.

Tree ensembles are one node table for all trees: ``ints[node]`` is
``(feature, left, right, flags)`` and ``values[node]`` the threshold (or the
index of a categorical bitset); a child ``c < 0`` is the leaf whose value is
``values[~c]``. Decision rules follow the source library exactly: LightGBM's
missing types (NaN, zero, none), default directions and categorical bitsets;
scikit-learn's float32 comparison and ``missing_go_to_left``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._proba import EPS

# node flag bits
DEFAULT_LEFT = 1
CATEGORICAL = 8
FLOAT32 = 16
# missing types, as LightGBM numbers them (bits 1-2 of the flags)
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
_ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold, a float
_NAN_RIGHT = MISSING_NAN << 1  # numeric split, NaN missing, default right
# output transforms
OUT_SIGMOID, OUT_CLIP = 0, 1


@njit(cache=True, nogil=True, inline="always")
def _leaf_value(x, node, ints, values, cat_bounds, cat_bits):
    """Value of the leaf that row ``x`` reaches from ``node``.

    ``ints[node]`` is ``(feature, left, right, flags)``; a child ``c < 0`` is the
    leaf whose value is ``values[~c]``, so reaching a leaf costs no extra load.
    """
    while node >= 0:
        flags = ints[node, 3]
        v = x[ints[node, 0]]
        if flags == _NAN_RIGHT:  # the common case: NaN goes right, and NaN <= t is False
            left = v <= values[node]
        elif flags & CATEGORICAL:
            left = False
            if 0.0 <= v < 2147483648.0:  # also False for NaN
                iv = np.int64(v)
                k = np.int64(values[node])
                start = cat_bounds[k]
                word = iv >> 5
                if word < cat_bounds[k + 1] - start:
                    left = (cat_bits[start + word] >> (iv & 31)) & 1 == 1
        else:
            if flags & FLOAT32:
                v = np.float64(np.float32(v))
            missing = (flags >> 1) & 3
            if np.isnan(v) and missing != MISSING_NAN:
                v = 0.0
            if (missing == MISSING_ZERO and -_ZERO <= v <= _ZERO) or (
                missing == MISSING_NAN and np.isnan(v)
            ):
                left = flags & DEFAULT_LEFT == DEFAULT_LEFT
            else:
                left = v <= values[node]
        node = ints[node, 2 - np.int64(left)]  # an indexed load, not a branch to mispredict
    return values[~node]


@njit(cache=True, nogil=True)
def _tree_raw(x, ints, values, cat_bounds, cat_bits, roots):
    """Sum over trees of the leaf values reached by row ``x``."""
    total = 0.0
    for t in range(roots.shape[0]):
        total += _leaf_value(x, roots[t], ints, values, cat_bounds, cat_bits)
    return total


@njit(cache=True, nogil=True)
def _output(raw, kind):
    if kind == OUT_SIGMOID:
        return 1.0 / (1.0 + np.exp(-raw))
    return min(max(raw, EPS), 1.0 - EPS)


@njit(cache=True, nogil=True)
def tree_one(x, ints, values, cat_bounds, cat_bits, roots, base, kind):
    return _output(base + _tree_raw(x, ints, values, cat_bounds, cat_bits, roots), kind)


@njit(cache=True, nogil=True)
def tree_batch(X, ints, values, cat_bounds, cat_bits, roots, base, kind):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = _output(base + _tree_raw(X[i], ints, values, cat_bounds, cat_bits, roots), kind)
    return out


@njit(cache=True, nogil=True, parallel=True)
def tree_batch_parallel(X, ints, values, cat_bounds, cat_bits, roots, base, kind):
    out = np.empty(X.shape[0])
    for i in prange(X.shape[0]):
        out[i] = _output(base + _tree_raw(X[i], ints, values, cat_bounds, cat_bits, roots), kind)
    return out


@njit(cache=True, nogil=True)
def _linear_raw(x, ints, values, coef):
    """``intercept + coef . design(x)``; see :class:`tabdistill.distill.linear.LinearDesign`."""
    z = coef[coef.shape[0] - 1]
    for j in range(x.shape[0]):
        v = x[j]
        at, n_levels, has_missing = ints[j, 0], ints[j, 1], ints[j, 2]
        if n_levels > 0:  # categorical: one-hot, unseen or missing is all zeros
            if not np.isnan(v) and 0.0 <= v < n_levels:
                z += coef[at + np.int64(v)]
        else:
            median, mean, scale = values[j, 0], values[j, 1], values[j, 2]
            if np.isnan(v):
                z += coef[at] * (median - mean) / scale
                if has_missing:
                    z += coef[at + 1]
            else:
                z += coef[at] * (v - mean) / scale
    return z


@njit(cache=True, nogil=True)
def linear_one(x, ints, values, coef):
    return 1.0 / (1.0 + np.exp(-_linear_raw(x, ints, values, coef)))


@njit(cache=True, nogil=True, parallel=True)
def linear_batch(X, ints, values, coef):
    out = np.empty(X.shape[0])
    for i in prange(X.shape[0]):
        out[i] = 1.0 / (1.0 + np.exp(-_linear_raw(X[i], ints, values, coef)))
    return out
