"""The linear design matrix: imputation, scaling and one-hot encoding.

Shared by the logistic-regression teacher member, the linear student and the
linear runtime, so the three can never disagree on how a row becomes a vector.
It works on the encoded matrix of :class:`tabdistill.data.TabularEncoder`:

* a numeric column becomes ``(x - mean) / scale`` with NaN replaced by the
  fitted median, plus a 0/1 "was missing" column when NaN was seen at fit;
* a categorical column with ``k`` levels becomes ``k`` one-hot columns; a
  missing or unseen level is all zeros.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


class LinearDesign(TransformerMixin, BaseEstimator):
    """Turn an encoded matrix into a standardized, one-hot design matrix.

    Parameters
    ----------
    categorical_mask : array-like of bool, default=None
        Which encoded columns hold category codes. None means all numeric.
    n_levels : array-like of int, default=None
        Number of levels per column (ignored for numeric ones). None infers it
        from the largest code seen at fit.

    Attributes
    ----------
    median_, mean_, scale_ : ndarray
        Per column imputation value and standardization (numeric columns).
    has_missing_ : ndarray of bool
        Numeric columns that get a missing-indicator column.
    n_levels_ : ndarray of int
        One-hot width per categorical column (0 for numeric ones).
    offsets_ : ndarray of int
        Where each input column's block starts in the design matrix.
    n_output_ : int
        Width of the design matrix.
    """

    def __init__(self, categorical_mask=None, n_levels=None):
        self.categorical_mask = categorical_mask
        self.n_levels = n_levels

    def fit(self, Z, y=None):
        Z = np.asarray(Z, dtype=np.float64)
        d = Z.shape[1]
        cat = (
            np.zeros(d, bool)
            if self.categorical_mask is None
            else np.asarray(self.categorical_mask, bool)
        )
        self.n_features_in_ = d
        self.categorical_mask_ = cat
        nan = np.isnan(Z)
        with warnings.catch_warnings():  # all-NaN columns are expected; they impute to 0
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(Z, axis=0)
        median = np.where(np.isnan(median), 0.0, median)
        filled = np.where(nan, median, Z)
        mean = filled.mean(axis=0)
        scale = filled.std(axis=0)
        self.median_ = np.where(cat, 0.0, median)
        self.mean_ = np.where(cat, 0.0, mean)
        self.scale_ = np.where(cat | (scale == 0), 1.0, scale)
        self.has_missing_ = ~cat & nan.any(axis=0)
        if self.n_levels is not None:
            levels = np.asarray(self.n_levels, dtype=np.int64)
        else:
            top = np.where(nan, -1, Z).max(axis=0, initial=-1)
            levels = (top + 1).astype(np.int64)
        self.n_levels_ = np.where(cat, levels, 0).astype(np.int64)
        widths = np.where(cat, self.n_levels_, 1 + self.has_missing_.astype(np.int64))
        self.offsets_ = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        self.n_output_ = int(widths.sum())
        return self

    def transform(self, Z):
        """The design matrix of ``Z``, dense: ``(n_rows, n_output_)``."""
        Z = self._checked(Z)
        out = np.zeros((Z.shape[0], self.n_output_), dtype=np.float64)
        for rows, columns, values in self._entries(Z):
            out[slice(None) if rows is None else rows, columns] = values
        return out

    def _checked(self, Z):
        check_is_fitted(self, "offsets_")
        return np.asarray(Z, dtype=np.float64)

    def _entries(self, Z):
        """Per block of the design, the ``(rows, columns, values)`` of its entries that can
        be nonzero: every row of a numeric column (``rows`` None, one column), the missing
        rows of its indicator (one column), the known levels of a categorical one."""
        every = np.arange(Z.shape[0], dtype=np.int32)
        for j in range(self.n_features_in_):
            col, at = Z[:, j], int(self.offsets_[j])
            if self.categorical_mask_[j]:
                known = every[~np.isnan(col) & (col >= 0) & (col < self.n_levels_[j])]
                yield known, (at + col[known]).astype(np.int32), np.ones(len(known))
                continue
            missing = np.isnan(col)
            filled = np.where(missing, self.median_[j], col)
            yield None, at, (filled - self.mean_[j]) / self.scale_[j]
            if self.has_missing_[j]:
                flagged = every[missing]
                yield flagged, at + 1, np.ones(len(flagged))


#: Rows :class:`SparseLinearDesign` encodes at a time.
SPARSE_BLOCK_ROWS = 50_000


class SparseLinearDesign(LinearDesign):
    """:class:`LinearDesign` whose ``transform`` returns a CSR matrix.

    The same design, entry for entry: the logistic teacher member fits on it, as a row
    holds one entry per numeric column and one per categorical column, however many
    levels those have, so the solver's products and the memory grow with the columns
    rather than with the levels.
    """

    def transform(self, Z):
        """The design matrix of ``Z`` as ``scipy.sparse.csr_matrix``."""
        Z = self._checked(Z)
        if len(Z) <= SPARSE_BLOCK_ROWS:
            return self._block(Z)
        # block by block: the entries' coordinates of every row at once would outweigh the
        # dense design they replace
        blocks = range(0, len(Z), SPARSE_BLOCK_ROWS)
        return sparse.vstack([self._block(Z[i : i + SPARSE_BLOCK_ROWS]) for i in blocks], "csr")

    def _block(self, Z):
        shape = (Z.shape[0], self.n_output_)
        every = np.arange(Z.shape[0], dtype=np.int32)
        parts = [
            (
                every if rows is None else rows,
                np.broadcast_to(np.int32(columns), len(values)),
                values,
            )
            for rows, columns, values in self._entries(Z)
        ]
        if not parts:
            return sparse.csr_matrix(shape)
        rows, columns, values = (np.concatenate(block) for block in zip(*parts, strict=True))
        return sparse.csr_matrix((values, (rows, columns)), shape=shape)
