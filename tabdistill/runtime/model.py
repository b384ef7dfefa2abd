"""The compiled model: a student as flat arrays, scored without its training library.

A LightGBM or scikit-learn ``predict_proba`` call on one row costs tens to
hundreds of microseconds of Python and library overhead. The runtime keeps
only what scoring needs -- node feature, threshold, children, leaf values,
missing-value and categorical-split rules, or the linear coefficients -- in a
few NumPy arrays, and walks them with the numba kernels of
:mod:`tabdistill.runtime.kernels`:

* :meth:`CompiledModel.score_one` -- one encoded row (1-D float array);
* :meth:`CompiledModel.score_record` -- one ``{"column": value}`` record, as a
  fraud API receives JSON, encoded exactly like training data;
* :meth:`CompiledModel.score_batch` -- a table or an encoded 2-D array, in parallel.
"""

from __future__ import annotations

import numpy as np

from ..data.schema import FeatureSchema
from ..exceptions import ArtifactError, SchemaError
from . import format as fmt
from . import kernels

_PARALLEL_MIN_ROWS = 4_096


class CompiledModel:
    """A student compiled to flat arrays; scores rows without its training library.

    Build one with a ``compile_*`` function of :mod:`tabdistill.runtime`, or
    load one with :meth:`CompiledModel.load`.

    Parameters
    ----------
    kind : {"trees", "linear"}
    arrays : dict of ndarray
    schema : FeatureSchema
        Encodes tables and records exactly as at training.
    meta : dict
        JSON-able facts (source model type, output transform, sizes).
    """

    def __init__(self, kind, arrays, schema, meta):
        if kind not in ("trees", "linear"):
            raise ArtifactError(f"unknown runtime kind {kind!r}.")
        self.kind = kind
        self.arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        self.schema = schema
        self.meta = dict(meta)
        self.n_features = schema.n_features
        a = self.arrays
        if kind == "trees":
            self._args = (
                a["ints"],
                a["values"],
                a["cat_bounds"],
                a["cat_bits"],
                a["roots"],
                float(self.meta["base"]),
                int(self.meta["output"]),
            )
            self._one, self._serial = kernels.tree_one, kernels.tree_batch
            self._parallel = kernels.tree_batch_parallel
        else:
            self._args = (a["ints"], a["values"], a["coef"])
            self._one, self._serial = kernels.linear_one, kernels.linear_batch
            self._parallel = kernels.linear_batch

    def score_one(self, row) -> float:
        """Positive-class probability of one encoded row (1-D float64 array)."""
        if (
            type(row) is not np.ndarray
            or row.dtype != np.float64
            or row.ndim != 1
            or not row.flags.c_contiguous
        ):
            row = np.ascontiguousarray(row, dtype=np.float64).ravel()
        if row.shape[0] != self.n_features:
            raise SchemaError(
                f"expected a row of {self.n_features} encoded features, got {row.shape[0]}."
            )
        return self._one(row, *self._args)

    def score_record(self, record: dict) -> float:
        """Positive-class probability of one record ``{"column": value, ...}``.

        A missing key, ``None``, NaN or an unseen category is treated as
        missing, exactly as at training; a non-number in a numeric column
        raises :class:`~tabdistill.exceptions.FeatureTypeError`.
        """
        return self._one(self.schema.encode_record(record), *self._args)

    def score_batch(self, X) -> np.ndarray:
        """Positive-class probabilities of many rows.

        Parameters
        ----------
        X : DataFrame, dict of columns, or 2-D array
            A table (anything indexable by column name) is encoded with the
            training schema; an array must already be encoded.
        """
        if hasattr(X, "columns") or isinstance(X, dict):
            Z = self.schema.encode_columns(X)
        else:
            Z = np.ascontiguousarray(X, dtype=np.float64)
            if Z.ndim != 2 or Z.shape[1] != self.n_features:
                raise SchemaError(
                    f"expected encoded rows of shape (n, {self.n_features}), got {Z.shape}."
                )
        kernel = self._parallel if Z.shape[0] >= _PARALLEL_MIN_ROWS else self._serial
        return kernel(Z, *self._args)

    def predict_proba(self, X) -> np.ndarray:
        """Two columns ``1 - p`` and ``p``, like scikit-learn."""
        p = self.score_batch(X)
        return np.column_stack([1 - p, p])

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays that scoring reads."""
        return int(sum(a.nbytes for a in self.arrays.values()))

    # -- persistence
    def save(self, path):
        """Write the runtime as one ``.npz`` file (arrays + JSON header).

        ``path`` is a file path or a binary file object; returns it.
        """
        header = {
            "format": fmt.FORMAT,
            "version": fmt.FORMAT_VERSION,
            "kind": self.kind,
            "meta": self.meta,
            "schema": self.schema.to_dict(),
        }
        return fmt.write(path, header, self.arrays)

    @classmethod
    def load(cls, path) -> CompiledModel:
        """Load a runtime saved by :meth:`save`. Never unpickles anything.

        Raises
        ------
        ArtifactError
            If the file is missing, not a runtime file, or of another format version.
        """
        header, arrays = fmt.read(path)
        try:
            schema = FeatureSchema.from_dict(header["schema"])
            return cls(header["kind"], arrays, schema, header["meta"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"'{path}' holds an invalid runtime ({exc}).") from None
