"""Input checks shared by the estimators: lengths, sample weights, value ranges."""

from __future__ import annotations

import numpy as np

from .exceptions import DataError, FeatureTypeError


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


def n_rows(data) -> int:
    """Rows of a table, an array or a sequence."""
    shape = getattr(data, "shape", None)
    if shape is None:
        shape = np.asarray(data).shape
    if not len(shape):
        raise DataError(f"expected an array or a table, got the scalar {data!r}.")
    return int(shape[0])


def check_lengths(X, y, sample_weight=None, groups=None) -> None:
    """Raise a clear error unless ``X``, ``y`` (and weights, groups) have one entry per row."""
    if hasattr(X, "__dask_graph__"):
        raise FeatureTypeError(
            "X is a Dask collection; fit it with tabdistill.ops.dask_fit.fit_dataframe(model, "
            "ddf, target_column), which spreads the teacher's fits over the cluster (or fit "
            "X.compute() here)."
        )
    if y is None:
        raise DataError(
            "this estimator requires y to be passed, but the target y is None: fit(X, y) "
            "needs the labels of the rows of X."
        )
    n = n_rows(X)
    for name, values in (("y", y), ("sample_weight", sample_weight), ("groups", groups)):
        if values is not None and n_rows(values) != n:
            raise DataError(
                f"X has {n} rows but {name} has {n_rows(values)} values: they must be aligned "
                "row by row (same length, same order)."
            )


_F32_MAX = float(np.finfo(np.float32).max)


def float32_range(Z):
    """``Z`` clipped to the float32 range that scikit-learn trees accept.

    Trees compare ``float32(x) <= threshold``: a value beyond the range goes the
    same way clipped as it would as +/-inf, so clipping changes no decision.
    """
    return np.clip(np.asarray(Z, dtype=np.float64), -_F32_MAX, _F32_MAX)
