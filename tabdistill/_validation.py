"""Input checks shared by the estimators: lengths and sample weights."""

from __future__ import annotations

import numpy as np

from .exceptions import DataError


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Validate ``sample_weight``: ``n_samples`` finite, non-negative values, not all zero."""
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape[0] != n_samples:
        raise DataError(f"sample_weight has {w.shape[0]} values for {n_samples} rows.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise DataError("sample_weight must be finite, non-negative and not all zero.")
    return w


def take(values, index):
    """``values[index]``, passing ``None`` (no weights, say) through."""
    return None if values is None else values[index]
