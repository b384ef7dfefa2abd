"""Probability helpers shared by every stage, NumPy only (the runtime imports them too)."""

from __future__ import annotations

import numpy as np

#: Probabilities are kept in ``[EPS, 1 - EPS]`` wherever a log or a logit is taken.
EPS = 1e-7


def clip_proba(p) -> np.ndarray:
    """``p`` as float64, clipped to ``[EPS, 1 - EPS]``."""
    return np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)


def two_columns(p) -> np.ndarray:
    """scikit-learn's ``predict_proba`` layout of a positive-class probability: ``[1 - p, p]``."""
    p = np.asarray(p, dtype=np.float64)
    return np.column_stack([1 - p, p])
