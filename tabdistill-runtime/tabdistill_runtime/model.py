"""The compiled model: a student as flat arrays, scored without its training library.

A LightGBM or scikit-learn ``predict_proba`` call on one row costs tens to
hundreds of microseconds of Python and library overhead. The runtime keeps
only what scoring needs -- node feature, threshold, children, leaf values,
missing-value and categorical-split rules, or the linear coefficients -- in a
few NumPy arrays, and walks them with kernels compiled ahead of time
(:mod:`tabdistill_runtime.scorers`):

* :meth:`CompiledModel.score_one` -- one encoded row (1-D float array);
* :meth:`CompiledModel.score_record` -- one ``{"column": value}`` record, as a
  fraud API receives JSON, encoded exactly like training data;
* :meth:`CompiledModel.score_records` -- a list of such records, scored together;
* :meth:`CompiledModel.score_batch` -- a table or a 2-D array of raw values, in parallel;
  :meth:`CompiledModel.score_encoded` -- rows already encoded (the fastest path).

Each takes ``reasons=k`` to return the ``k`` input columns that pushed each score
up most, with their contributions (:mod:`tabdistill_runtime.explain`);
:meth:`CompiledModel.contributions` gives every column's.
:meth:`CompiledModel.prepare_reasons` builds what they need at load time rather
than on the first request that asks for them.

A binary model scores a row as the positive class's probability (a float); a
model of K classes (``n_outputs == K``) as its K class probabilities, in the
order of the estimator's ``classes_``: K raw scores, then a softmax.
"""

from __future__ import annotations

import os

import numpy as np

from . import blend, scorers, validation
from . import format as fmt
from .exceptions import ArtifactError, SchemaError
from .records import schema_reader
from .schema import FeatureSchema

_PARALLEL_MIN_ROWS = 16_384


def _count(reasons) -> int:
    """``reasons=k``, checked: a positive whole number."""
    if type(reasons) is int and reasons >= 0:  # the usual case, checked first: a record's
        return reasons  # reasons take a few microseconds in all
    if isinstance(reasons, bool) or not isinstance(reasons, int | np.integer) or reasons < 0:
        raise ValueError(f"reasons must be a whole number >= 0 (how many), got {reasons!r}.")
    return int(reasons)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class CompiledModel:
    """A student compiled to flat arrays; scores rows without its training library.

    Build one with a ``compile_*`` function of :mod:`tabdistill.runtime`, or
    load one with :meth:`CompiledModel.load`. The arrays are checked when the
    model is built (indices in range, trees acyclic), so no input file can
    make scoring read out of bounds or loop.

    Parameters
    ----------
    kind : {"trees", "linear", "blend"}
    arrays : dict of ndarray
        For trees, the canonical table of :mod:`tabdistill_runtime.trees`; a
        blend (several models scored as one) is described in
        :mod:`tabdistill_runtime.blend`.
    schema : FeatureSchema
        Encodes tables and records exactly as at training.
    meta : dict
        JSON-able facts: source model type, output transform, base score.
    storage : dict, default=None
        How the leaf values are stored on disk (see :mod:`tabdistill_runtime.storage`);
        None stores them losslessly as float64.

    Attributes
    ----------
    n_threads : int
        Threads :meth:`score_batch` uses on large batches (default: the CPUs
        this process may run on).
    backend : {"c", "numba"}
        Which kernels score.

    Raises
    ------
    ArtifactError
        If the arrays or meta are inconsistent (names the problem).
    """

    def __init__(self, kind, arrays, schema, meta, storage=None):
        self.kind = kind
        self.schema = schema
        self.n_features = schema.n_features
        self.n_threads = _available_cpus()
        try:
            if kind == blend.BLEND:
                self.meta = blend.check_meta(meta)
            else:
                self.meta = validation.check_meta(kind, meta)
            self.storage = validation.check_storage(storage)
            if kind == "trees":
                self.arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
                self._depth = validation.check_trees(
                    self.arrays, self.n_features, self.meta["n_outputs"]
                )
                scorer = scorers.tree_scorer(self.arrays, self.meta, self._depth, self.n_features)
            elif kind == blend.BLEND:
                self.arrays, self._depth = blend.check_arrays(arrays, self.meta, self.n_features)
                scorer = blend.scorer(self.arrays, self.meta, self._depth, self.n_features)
            elif kind == "linear":
                validation.check_linear(
                    arrays, self.n_features, self.meta.get("n_design"), self.n_outputs
                )
                self.arrays = {
                    "ints": np.ascontiguousarray(arrays["ints"], dtype=np.int64),
                    "values": np.ascontiguousarray(arrays["values"], dtype=np.float64),
                    "coef": np.ascontiguousarray(arrays["coef"], dtype=np.float64),
                }
                scorer = scorers.linear_scorer(self.arrays, self.meta, self.n_features)
            else:
                raise ValueError(f"unknown runtime kind {kind!r}")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ArtifactError(f"invalid runtime: {exc}.") from None
        self._scorer = scorer
        self._one = scorer.one
        self.backend = scorer.backend
        self._explainer = None
        self._reader = False

    @property
    def n_outputs(self) -> int:
        """1 for a binary model (one probability a row), K for K classes."""
        return self.meta.get("n_outputs", 1)

    @property
    def n_trees(self) -> int:
        """Trees in the ensemble (0 for a linear runtime)."""
        return len(self.arrays["roots"]) if "roots" in self.arrays else 0

    def score_one(self, row):
        """Positive-class probability (a float) of one encoded row (1-D float64 array),
        or its K class probabilities (an array) for a K-class model."""
        try:
            return self._one(row)
        except TypeError:  # not a 1-D C-contiguous float64 array: convert, then score
            row = np.ascontiguousarray(row, dtype=np.float64).ravel()
            try:
                return self._one(row)
            except ValueError as exc:
                raise SchemaError(str(exc)) from None
        except ValueError as exc:
            raise SchemaError(str(exc)) from None

    def score_record(
        self, record: dict, strict: bool = False, allow_missing: bool = False, reasons: int = 0
    ):
        """Positive-class probability (or K class probabilities) of one record
        ``{"column": value, ...}``.

        Read exactly as a row of :meth:`score_batch`: ``None``, NaN or an
        unseen category is missing; text in a numeric or date column is read
        with the column's format, and a value that does not read is missing
        with a :class:`~tabdistill_runtime.exceptions.DataWarning`; a list or a
        dict raises :class:`~tabdistill_runtime.exceptions.FeatureTypeError`. A
        column absent from the record is a
        :class:`~tabdistill_runtime.exceptions.SchemaError`, as in a batch,
        unless ``allow_missing``.

        Parameters
        ----------
        record : dict
        strict : bool, default=False
            Raise instead of warning: for a key that is no column of the model
            (``SchemaError``), a value that does not read or a time-zone
            mismatch (``DataError``).
        allow_missing : bool, default=False
            Read absent columns as missing values.
        reasons : int, default=0
            With ``k > 0``, return ``(score, [(column, contribution), ...])``: the
            ``k`` input columns with the largest contributions to the raw score
            (log-odds for LightGBM and linear students), largest first; for K
            classes, those of the most probable class (see
            :mod:`tabdistill_runtime.explain`).

        See :meth:`FeatureSchema.encode_record`.
        """
        reader = self._reader
        if reader is False:  # the first record: the schema's compiled reader (None without it)
            reader = self._reader = schema_reader(self.schema)
        row = None if reader is None else reader(record, allow_missing)
        if row is None:  # what the compiled reader leaves to Python (strays, absent keys, ...)
            row = self.schema.encode_record(record, strict, allow_missing)
        if not reasons:
            return self._one(row)
        score = self._one(row)
        output = 0 if self.n_outputs == 1 else int(np.argmax(score))
        return score, self.explainer.reasons(row, _count(reasons), output)

    def score_records(
        self, records, strict: bool = False, allow_missing: bool = False, reasons: int = 0
    ):
        """Scores of a list of records ``[{"column": value, ...}, ...]``: ``(n,)``, or ``(n, K)``
        class probabilities.

        Each record is read exactly as :meth:`score_record` reads it (warnings and
        errors included), then the rows are scored together. ``reasons=k`` returns
        ``(scores, names, values)`` as :meth:`score_batch` does.
        """
        return self.score_encoded(
            self.schema.encode_records(records, strict, allow_missing), reasons
        )

    def score_batch(self, X, strict: bool = False, reasons: int = 0):
        """Positive-class probabilities ``(n,)``, or class probabilities ``(n, K)``, of many rows.

        Parameters
        ----------
        X : DataFrame, dict of columns, or 2-D array
            Raw feature values, encoded with the training schema: a table
            (anything indexable by column name), or an array whose columns
            are the fitted columns in order (``schema.feature_names_in``),
            as for the estimators. Rows already encoded go to
            :meth:`score_encoded`.
        strict : bool, default=False
            Raise :class:`~tabdistill_runtime.exceptions.DataError` where values
            would otherwise be read as missing with a warning (strays, a column
            with no usable value, a time-zone mismatch).
        reasons : int, default=0
            With ``k > 0``, returns ``(scores, names, values)``: each row's ``k``
            input columns with the largest contributions, largest first, as two
            ``(n, k)`` arrays (column names, contributions); see :meth:`score_record`.
        """
        return self.score_encoded(self._encode(X, strict), reasons)

    def _encode(self, X, strict: bool = False) -> np.ndarray:
        if not (hasattr(X, "columns") or isinstance(X, dict)):
            X = self._raw_columns(X)
        return self.schema.encode_columns(X, strict)

    def score_encoded(self, Z, reasons: int = 0):
        """Scores of rows already encoded by the schema (the fastest path).

        Parameters
        ----------
        Z : 2-D array of shape (n, n_features)
            Encoded rows (``schema.encode_columns(X)``, or the estimator's
            ``encoder_.encode(X)``): category codes, date parts, frequencies.
        reasons : int, default=0
            As for :meth:`score_batch`.
        """
        Z = self._check_encoded(Z)
        threads = self.n_threads if Z.shape[0] >= _PARALLEL_MIN_ROWS else 1
        scores = self._scorer.batch(Z, threads)
        if not reasons:
            return scores
        outputs = None if self.n_outputs == 1 else np.argmax(scores, axis=1)
        return (scores, *self.explainer.reasons_batch(Z, _count(reasons), outputs))

    def _check_encoded(self, Z) -> np.ndarray:
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.n_features:
            raise SchemaError(
                f"expected encoded rows of shape (n, {self.n_features}), got {Z.shape}; "
                "raw feature values go to score_batch."
            )
        return Z

    # -- reasons
    @property
    def explainer(self):
        """The :class:`~tabdistill_runtime.explain.Explainer` of this model (built on first use).

        Raises ``TypeError`` for a blend (a compiled teacher): reasons are a student's."""
        if self.kind == blend.BLEND:
            raise TypeError(
                "reasons and contributions are computed for a student's tree or linear runtime; "
                f"a compiled teacher (a blend of {len(self.meta['members'])} members) has none: "
                "ask the student (model.runtime_) for them."
            )
        if self._explainer is None:
            from .explain import Explainer

            self._explainer = Explainer(self, getattr(self, "_depth", None))
        return self._explainer

    def prepare_reasons(self) -> CompiledModel:
        """Build what reasons and contributions need now, instead of on the first request.

        A tree runtime's explainer tabulates the TreeSHAP contributions of its trees'
        blocks and leaves (:mod:`tabdistill_runtime.explain`) when reasons are first
        asked for, which makes that first request slow: about a fifth of a second for
        100 trees of 31 leaves, against microseconds afterwards. A service that
        returns reasons calls this once after :meth:`load`, before taking requests;
        ``tabdistill predict --reasons K`` does. The reasons and contributions are the
        same either way; calling it again does nothing.

        Returns
        -------
        CompiledModel
            This model, so ``CompiledModel.load(path).prepare_reasons()`` reads as one step.

        Raises
        ------
        TypeError
            For a compiled teacher (a blend): reasons are a student's.
        ArtifactError
            For a tree runtime without node covers (see :meth:`with_covers`).
        """
        self.explainer  # noqa: B018 - built and kept on first access
        return self

    @property
    def reason_names(self) -> tuple:
        """The input columns contributions are reported by, in the order of
        :meth:`contributions` (``schema.input_columns``)."""
        return tuple(self.schema.input_columns)

    def contributions(self, X) -> np.ndarray:
        """Each input column's contribution to each row's raw score, then the expected value.

        Parameters
        ----------
        X : DataFrame, dict of columns, or 2-D array
            Raw feature values, as for :meth:`score_batch`.

        Returns
        -------
        ndarray of shape (n, n_columns + 1), or (n, K, n_columns + 1) for K classes
            Columns in :attr:`reason_names` order, the expected value (baseline)
            last; each row sums to its raw score (log-odds for LightGBM and
            linear students: ``sigmoid(sum)`` is the probability). Trees give
            exact TreeSHAP values; see :mod:`tabdistill_runtime.explain`.
        """
        c = self.contributions_encoded(self._encode(X))
        return self.explainer.groups.sum(c)

    def contributions_encoded(self, Z) -> np.ndarray:
        """Contributions of each encoded feature (``schema.features``), then the expected value.

        Shaped ``(n, n_features + 1)``, or ``(n, K, n_features + 1)`` for K
        classes; for a LightGBM student, what LightGBM's ``pred_contrib`` gives.
        """
        c = self.explainer.encoded(self._check_encoded(Z))
        return c[:, 0] if self.n_outputs == 1 else c

    def with_covers(self, Z) -> CompiledModel:
        """This tree model with node covers counted on encoded rows ``Z`` (its training rows).

        Contributions need covers; runtimes compiled by this tabdistill carry
        their training library's. Use this for a runtime saved without them.
        """
        if self.kind != "trees":
            raise TypeError("only tree runtimes have node covers.")
        from .trees import node_covers

        leaves = self.apply(Z)
        counts = np.bincount(leaves.ravel(), minlength=len(self.arrays["feature"]))
        leaf = self.arrays["feature"] < 0
        arrays = dict(self.arrays)
        arrays["cover"] = node_covers(arrays["feature"], arrays["right"], counts[leaf])
        return CompiledModel(self.kind, arrays, self.schema, self.meta, self.storage)

    def _raw_columns(self, X) -> dict:
        """A 2-D array of raw values as ``{fitted column: values}``."""
        X = np.asarray(X)
        names = self.schema.feature_names_in
        if X.ndim != 2 or X.shape[1] != len(names):
            raise SchemaError(
                f"expected raw rows of shape (n, {len(names)}) with the fitted columns in order "
                f"({names[:5]}{' ...' if len(names) > 5 else ''}), got shape {X.shape}; pass a "
                "DataFrame to match columns by name, or encoded rows to score_encoded."
            )
        return {name: X[:, j] for j, name in enumerate(names)}

    def apply(self, Z) -> np.ndarray:
        """The leaf (node index) each encoded row reaches in each tree, shape ``(n, n_trees)``."""
        if self.kind != "trees":
            raise TypeError("apply() needs a tree runtime.")
        return self._scorer.apply(self._check_encoded(Z))

    def predict_proba(self, X) -> np.ndarray:
        """Two columns ``1 - p`` and ``p``, like scikit-learn (K columns for K classes)."""
        p = self.score_batch(X)
        return p if p.ndim == 2 else np.column_stack([1 - p, p])

    @property
    def nbytes(self) -> int:
        """Bytes of the model's arrays in memory (canonical layout)."""
        return int(sum(a.nbytes for a in self.arrays.values()))

    # -- persistence
    def _file_arrays(self) -> dict:
        if self.kind == "trees":
            from .storage import encode

            return encode(self.arrays, self.storage)
        if self.kind == blend.BLEND:
            return blend.file_arrays(self.arrays, self.storage)
        return self.arrays

    def header(self) -> dict:
        """The JSON header of the runtime file: format, version, kind, meta, storage, schema."""
        return {
            "format": fmt.FORMAT,
            "version": fmt.BLEND_VERSION if self.kind == blend.BLEND else fmt.FORMAT_VERSION,
            "kind": self.kind,
            "meta": self.meta,
            "storage": self.storage,
            "schema": self.schema.to_dict(),
        }

    def save(self, path):
        """Write the runtime as one ``.npz`` file (arrays + JSON header).

        ``path`` is a file path (written atomically) or a binary file object;
        returns it.
        """
        return fmt.write(path, self.header(), self._file_arrays())

    def to_bytes(self) -> bytes:
        """The runtime file as bytes (what :meth:`save` writes)."""
        import io

        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()

    @classmethod
    def load(cls, source, max_bytes: int = fmt.MAX_BYTES) -> CompiledModel:
        """Load a runtime saved by :meth:`save`. Never unpickles anything.

        Every size the file declares is checked before it is read, so no file
        makes loading use much more memory than ``max_bytes`` (a few hundred
        megabytes at the default, whatever the file holds).

        Parameters
        ----------
        source : str, path, bytes or binary file object
        max_bytes : int, default=64 MiB
            Largest file, and largest uncompressed content, read. Raise it to
            load a larger model you trust.

        Raises
        ------
        ArtifactError
            If the file is missing, larger than ``max_bytes``, not a runtime
            file, damaged, inconsistent (any array, index or tree structure out
            of order: the message names it), or of a format version this
            runtime cannot read.
        """
        header, stored = fmt.read(source, max_bytes)
        where = fmt.describe(source)
        try:
            schema = FeatureSchema.from_dict(header["schema"])
            decode = blend.decode if header.get("kind") == blend.BLEND else validation.decode
            meta, storage, arrays = decode(header, stored, max_bytes)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArtifactError(f"{where} holds an invalid runtime ({exc}).") from None
        try:
            return cls(header["kind"], arrays, schema, meta, storage)
        except ArtifactError as exc:
            raise ArtifactError(f"{where} holds an {exc}") from None
