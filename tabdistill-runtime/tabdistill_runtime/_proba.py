"""Probability helpers shared by every stage, NumPy only (the runtime scores with them)."""

from __future__ import annotations

import numpy as np

#: Probabilities are kept in ``[EPS, 1 - EPS]`` wherever a log or a logit is taken.
EPS = 1e-7


def clip_proba(p) -> np.ndarray:
    """``p`` as float64, clipped to ``[EPS, 1 - EPS]``."""
    return np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)


def two_columns(p, positive_index: int = 1) -> np.ndarray:
    """scikit-learn's ``predict_proba`` layout of a positive-class probability.

    ``[1 - p, p]``, or ``[p, 1 - p]`` when the positive class is the first of
    the sorted ``classes_`` (``positive_index=0``).
    """
    p = np.asarray(p, dtype=np.float64)
    return np.column_stack([1 - p, p] if positive_index == 1 else [p, 1 - p])


def clip_distribution(P) -> np.ndarray:
    """Rows of class probabilities clipped to ``[EPS, 1]`` and rescaled to sum to 1."""
    P = np.clip(np.asarray(P, dtype=np.float64), EPS, 1.0)
    return P / P.sum(axis=-1, keepdims=True)


def softmax(raw) -> np.ndarray:
    """Softmax over the last axis, computed stably."""
    raw = np.asarray(raw, dtype=np.float64)
    e = np.exp(raw - raw.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
