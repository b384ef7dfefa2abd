"""Numba kernels: the fallback scorer where the compiled C kernels could not be built.

They read the canonical node table of :mod:`tabdistill_runtime.trees` and
follow the decision rules of :mod:`tabdistill_runtime.rules` exactly, like the
C kernels (``_ckernels.c``); the runtime's tests check both against the source
libraries. Importing this module imports numba (~0.2 s) and the first call of
each kernel compiles it (~1 s, cached on disk where writable): the compiled C
kernels avoid both.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._proba import EPS
from .rules import (
    CATEGORICAL,
    DEFAULT_LEFT,
    FLOAT32,
    MISSING_NAN,
    MISSING_ZERO,
    OUT_SIGMOID,
    OUT_SOFTMAX,
    ZERO,
)

_NAN_RIGHT = MISSING_NAN << 1  # numeric split, NaN missing, default right


@njit(cache=True, nogil=True, inline="always")
def _leaf_node(x, node, feature, right, value, flags, cat_bounds, cat_bits):
    """The leaf that row ``x`` reaches from ``node`` (pre-order: left is node + 1)."""
    while feature[node] >= 0:
        fl = flags[node]
        v = x[feature[node]]
        if fl == _NAN_RIGHT:  # the common case: NaN goes right, and NaN <= t is False
            left = v <= value[node]
        elif fl & CATEGORICAL:
            left = False
            if -1.0 < v < 2147483648.0:  # also False for NaN
                iv = np.int64(v)
                k = np.int64(value[node])
                start = cat_bounds[k]
                word = iv >> 5
                if word < cat_bounds[k + 1] - start:
                    left = (cat_bits[start + word] >> (iv & 31)) & 1 == 1
        else:
            if fl & FLOAT32:
                v = np.float64(np.float32(v))
            missing = (fl >> 1) & 3
            if np.isnan(v) and missing != MISSING_NAN:
                v = 0.0
            if (missing == MISSING_ZERO and -ZERO <= v <= ZERO) or (
                missing == MISSING_NAN and np.isnan(v)
            ):
                left = fl & DEFAULT_LEFT == DEFAULT_LEFT
            else:
                left = v <= value[node]
        node = node + 1 if left else right[node]
    return node


@njit(cache=True, nogil=True, inline="always")
def _leaf_value(x, node, feature, right, value, flags, cat_bounds, cat_bits):
    return value[_leaf_node(x, node, feature, right, value, flags, cat_bounds, cat_bits)]


@njit(cache=True, nogil=True)
def tree_apply(X, feature, right, value, flags, cat_bounds, cat_bits, roots):
    """The leaf each row of ``X`` reaches in each tree."""
    out = np.empty((X.shape[0], roots.shape[0]), dtype=np.int32)
    for i in range(X.shape[0]):
        for t in range(roots.shape[0]):
            out[i, t] = _leaf_node(
                X[i], roots[t], feature, right, value, flags, cat_bounds, cat_bits
            )
    return out


@njit(cache=True, nogil=True)
def _tree_raw(x, feature, right, value, flags, cat_bounds, cat_bits, roots):
    """Sum over trees of the leaf values reached by row ``x``."""
    total = 0.0
    for t in range(roots.shape[0]):
        total += _leaf_value(x, roots[t], feature, right, value, flags, cat_bounds, cat_bits)
    return total


@njit(cache=True, nogil=True)
def _output(raw, kind):
    if kind == OUT_SIGMOID:
        return 1.0 / (1.0 + np.exp(-raw))
    return min(max(raw, EPS), 1.0 - EPS)


@njit(cache=True, nogil=True)
def tree_one(x, feature, right, value, flags, cat_bounds, cat_bits, roots, base, kind):
    return _output(
        base + _tree_raw(x, feature, right, value, flags, cat_bounds, cat_bits, roots), kind
    )


@njit(cache=True, nogil=True)
def tree_batch(X, feature, right, value, flags, cat_bounds, cat_bits, roots, base, kind):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = _output(
            base + _tree_raw(X[i], feature, right, value, flags, cat_bounds, cat_bits, roots), kind
        )
    return out


@njit(cache=True, nogil=True, parallel=True)
def tree_batch_parallel(X, feature, right, value, flags, cat_bounds, cat_bits, roots, base, kind):
    out = np.empty(X.shape[0])
    for i in prange(X.shape[0]):
        out[i] = _output(
            base + _tree_raw(X[i], feature, right, value, flags, cat_bounds, cat_bits, roots), kind
        )
    return out


@njit(cache=True, nogil=True)
def _finish_classes(raw, base, kind, out):
    """K raw scores to probabilities: softmax, or clipped to [EPS, 1] and rescaled."""
    total = 0.0
    if kind == OUT_SOFTMAX:
        top = raw.max()
        for k in range(raw.shape[0]):
            out[k] = np.exp(raw[k] - top)  # base is common to every class: it cancels
            total += out[k]
    else:
        for k in range(raw.shape[0]):
            out[k] = min(max(raw[k] + base, EPS), 1.0)
            total += out[k]
    for k in range(raw.shape[0]):
        out[k] /= total


@njit(cache=True, nogil=True)
def _tree_raw_classes(x, feature, right, value, flags, cat_bounds, cat_bits, roots, outputs, raw):
    """Per output, the sum over its trees of the leaf values reached by row ``x``."""
    raw[:] = 0.0
    for t in range(roots.shape[0]):
        raw[outputs[t]] += _leaf_value(
            x, roots[t], feature, right, value, flags, cat_bounds, cat_bits
        )


@njit(cache=True, nogil=True)
def tree_proba(
    x, feature, right, value, flags, cat_bounds, cat_bits, roots, outputs, n_outputs, base, kind
):
    """The K class probabilities of one row."""
    raw = np.empty(n_outputs)
    _tree_raw_classes(x, feature, right, value, flags, cat_bounds, cat_bits, roots, outputs, raw)
    out = np.empty(n_outputs)
    _finish_classes(raw, base, kind, out)
    return out


@njit(cache=True, nogil=True, parallel=True)
def tree_proba_batch(
    X, feature, right, value, flags, cat_bounds, cat_bits, roots, outputs, n_outputs, base, kind
):
    """The ``(n, K)`` class probabilities of the rows of ``X``."""
    out = np.empty((X.shape[0], n_outputs))
    for i in prange(X.shape[0]):
        raw = np.empty(n_outputs)
        _tree_raw_classes(
            X[i], feature, right, value, flags, cat_bounds, cat_bits, roots, outputs, raw
        )
        _finish_classes(raw, base, kind, out[i])
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


@njit(cache=True, nogil=True)
def linear_proba(x, ints, values, coef):
    """The K class probabilities of one row: softmax of one linear score a class."""
    raw = np.empty(coef.shape[0])
    for k in range(coef.shape[0]):
        raw[k] = _linear_raw(x, ints, values, coef[k])
    out = np.empty(coef.shape[0])
    _finish_classes(raw, 0.0, OUT_SOFTMAX, out)
    return out


@njit(cache=True, nogil=True, parallel=True)
def linear_proba_batch(X, ints, values, coef):
    out = np.empty((X.shape[0], coef.shape[0]))
    for i in prange(X.shape[0]):
        raw = np.empty(coef.shape[0])
        for k in range(coef.shape[0]):
            raw[k] = _linear_raw(X[i], ints, values, coef[k])
        _finish_classes(raw, 0.0, OUT_SOFTMAX, out[i])
    return out
