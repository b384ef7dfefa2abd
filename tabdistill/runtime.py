"""The scoring runtime: a fitted student as flat arrays, scored by compiled kernels.

A LightGBM or scikit-learn ``predict_proba`` call on one row costs tens to
hundreds of microseconds of Python and library overhead. The runtime keeps
only what scoring needs -- node feature, threshold, children, leaf values,
missing-value and categorical-split rules, or the linear coefficients -- in a
few NumPy arrays, and walks them with numba-compiled functions:

* :meth:`CompiledModel.score_one` -- one encoded row (1-D float array);
* :meth:`CompiledModel.score_record` -- one ``{"column": value}`` record, as a
  fraud API receives JSON, encoded exactly like training data;
* :meth:`CompiledModel.score_batch` -- a DataFrame or 2-D array, in parallel.

Decision rules follow the source library exactly: LightGBM's missing types
(NaN, zero, none), default directions and categorical bitsets; scikit-learn's
float32 comparison and ``missing_go_to_left``. A saved runtime is one ``.npz``
file of arrays plus a JSON header, loaded with ``allow_pickle=False``: it cannot
run code, and it needs neither LightGBM nor XGBoost to load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numba import njit, prange

from .data import TabularEncoder
from .exceptions import ArtifactError, SchemaError

FORMAT = "tabdistill-runtime"
FORMAT_VERSION = 1
EPS = 1e-7

# node flag bits
_DEFAULT_LEFT = 1
_CATEGORICAL = 8
_FLOAT32 = 16
# missing types, as LightGBM numbers them (bits 1-2 of the flags)
_MISSING_NONE, _MISSING_ZERO, _MISSING_NAN = 0, 1, 2
_ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold, a float
_NAN_RIGHT = _MISSING_NAN << 1  # numeric split, NaN missing, default right
_OUT_SIGMOID, _OUT_CLIP = 0, 1
_PARALLEL_MIN_ROWS = 4_096


# ----------------------------------------------------------------------------- kernels
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
        elif flags & _CATEGORICAL:
            left = False
            if 0.0 <= v < 2147483648.0:  # also False for NaN
                iv = np.int64(v)
                k = np.int64(values[node])
                start = cat_bounds[k]
                word = iv >> 5
                if word < cat_bounds[k + 1] - start:
                    left = (cat_bits[start + word] >> (iv & 31)) & 1 == 1
        else:
            if flags & _FLOAT32:
                v = np.float64(np.float32(v))
            missing = (flags >> 1) & 3
            if np.isnan(v) and missing != _MISSING_NAN:
                v = 0.0
            if (missing == _MISSING_ZERO and -_ZERO <= v <= _ZERO) or (
                missing == _MISSING_NAN and np.isnan(v)
            ):
                left = flags & _DEFAULT_LEFT == _DEFAULT_LEFT
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
    if kind == _OUT_SIGMOID:
        return 1.0 / (1.0 + np.exp(-raw))
    return min(max(raw, EPS), 1.0 - EPS)


@njit(cache=True, nogil=True)
def _tree_one(x, ints, values, cat_bounds, cat_bits, roots, base, kind):
    return _output(base + _tree_raw(x, ints, values, cat_bounds, cat_bits, roots), kind)


@njit(cache=True, nogil=True)
def _tree_batch(X, ints, values, cat_bounds, cat_bits, roots, base, kind):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = _output(base + _tree_raw(X[i], ints, values, cat_bounds, cat_bits, roots), kind)
    return out


@njit(cache=True, nogil=True, parallel=True)
def _tree_batch_parallel(X, ints, values, cat_bounds, cat_bits, roots, base, kind):
    out = np.empty(X.shape[0])
    for i in prange(X.shape[0]):
        out[i] = _output(base + _tree_raw(X[i], ints, values, cat_bounds, cat_bits, roots), kind)
    return out


@njit(cache=True, nogil=True)
def _linear_raw(x, ints, values, coef):
    """``intercept + coef . design(x)``; see :class:`tabdistill.linear.LinearDesign`."""
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
def _linear_one(x, ints, values, coef):
    return 1.0 / (1.0 + np.exp(-_linear_raw(x, ints, values, coef)))


@njit(cache=True, nogil=True, parallel=True)
def _linear_batch(X, ints, values, coef):
    out = np.empty(X.shape[0])
    for i in prange(X.shape[0]):
        out[i] = 1.0 / (1.0 + np.exp(-_linear_raw(X[i], ints, values, coef)))
    return out


# ----------------------------------------------------------------------------- the model
class CompiledModel:
    """A student compiled to flat arrays; scores rows without its training library.

    Build one with :func:`compile_student`, or load one with
    :meth:`CompiledModel.load`.

    Attributes
    ----------
    kind : {"trees", "linear"}
    encoder : TabularEncoder
        Encodes DataFrames and records exactly as at training.
    arrays : dict of ndarray
    meta : dict
        JSON-able facts (source model type, output transform, sizes).
    """

    def __init__(self, kind, arrays, encoder, meta):
        if kind not in ("trees", "linear"):
            raise ArtifactError(f"unknown runtime kind {kind!r}.")
        self.kind = kind
        self.arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        self.encoder = encoder
        self.meta = dict(meta)
        self.n_features = len(encoder.features_)
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
            self._one, self._serial = _tree_one, _tree_batch
            self._parallel = _tree_batch_parallel
        else:
            self._args = (a["ints"], a["values"], a["coef"])
            self._one, self._serial = _linear_one, _linear_batch
            self._parallel = _linear_batch

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
        return self._one(self.encoder.encode_record(record), *self._args)

    def score_batch(self, X) -> np.ndarray:
        """Positive-class probabilities of many rows.

        Parameters
        ----------
        X : DataFrame or 2-D array
            A DataFrame is encoded with the training schema; an array must
            already be encoded (as ``encoder.transform`` returns).
        """
        if hasattr(X, "columns"):
            Z = self.encoder.transform(X)
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
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": self.kind,
            "meta": self.meta,
            "schema": self.encoder.schema(),
        }
        blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        if hasattr(path, "write"):
            np.savez(path, __header__=blob, **self.arrays)
            return path
        path = Path(path)
        with open(path, "wb") as fh:
            np.savez(fh, __header__=blob, **self.arrays)
        return path

    @classmethod
    def load(cls, path) -> CompiledModel:
        """Load a runtime saved by :meth:`save`. Never unpickles anything.

        Raises
        ------
        ArtifactError
            If the file is missing, not a runtime file, or of another format version.
        """
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(f"runtime file not found: '{path}'.")
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["__header__"]).decode())
                arrays = {k: data[k] for k in data.files if k != "__header__"}
        except (ValueError, KeyError, OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"'{path}' is not a tabdistill runtime file ({exc}).") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ArtifactError(f"'{path}' is not a tabdistill runtime file.")
        if header.get("version") != FORMAT_VERSION:
            raise ArtifactError(
                f"'{path}' has runtime format version {header.get('version')}, this tabdistill "
                f"reads version {FORMAT_VERSION}. Re-export the model with this version."
            )
        return cls(
            header["kind"], arrays, TabularEncoder.from_schema(header["schema"]), header["meta"]
        )


# ----------------------------------------------------------------------------- compilers
class _TreeBuilder:
    """Accumulates trees into the flat node table the kernels read."""

    def __init__(self):
        self.ints, self.values, self.roots = [], [], []
        self.cat_bounds, self.cat_bits = [0], []

    def node(self, feature, flags, value):
        self.ints.append([feature, -1, -1, flags])
        self.values.append(value)
        return len(self.ints) - 1

    def link(self, node, left, right):
        """Point ``node`` at its children; a leaf child is stored as ``~index``."""
        self.ints[node][1] = ~left if self.ints[left][0] < 0 else left
        self.ints[node][2] = ~right if self.ints[right][0] < 0 else right

    def root(self, node):
        self.roots.append(~node if self.ints[node][0] < 0 else node)

    def categories(self, cats):
        """Store a left-going category set as a bitset; returns its index."""
        words = np.zeros(max(cats) // 32 + 1 if cats else 1, dtype=np.uint32)
        for c in cats:
            words[c >> 5] |= np.uint32(1) << np.uint32(c & 31)
        self.cat_bits.extend(words.tolist())
        self.cat_bounds.append(len(self.cat_bits))
        return len(self.cat_bounds) - 2

    def arrays(self):
        return {
            "ints": np.array(self.ints, dtype=np.int32).reshape(-1, 4),
            "values": np.array(self.values, dtype=np.float64),
            "cat_bounds": np.array(self.cat_bounds, dtype=np.int32),
            "cat_bits": np.array(self.cat_bits, dtype=np.uint32),
            "roots": np.array(self.roots, dtype=np.int32),
        }


_MISSING = {"None": _MISSING_NONE, "Zero": _MISSING_ZERO, "NaN": _MISSING_NAN}


def _add_lightgbm_node(builder, node):
    if "leaf_value" in node:
        return builder.node(-1, 0, float(node["leaf_value"]))
    flags = (_MISSING[node["missing_type"]] << 1) | (_DEFAULT_LEFT if node["default_left"] else 0)
    if node["decision_type"] == "==":
        cats = [int(c) for c in str(node["threshold"]).split("||")]
        idx = builder.node(
            int(node["split_feature"]), flags | _CATEGORICAL, float(builder.categories(cats))
        )
    elif node["decision_type"] == "<=":
        idx = builder.node(int(node["split_feature"]), flags, float(node["threshold"]))
    else:
        raise ValueError(f"unsupported LightGBM decision type {node['decision_type']!r}")
    builder.link(
        idx,
        _add_lightgbm_node(builder, node["left_child"]),
        _add_lightgbm_node(builder, node["right_child"]),
    )
    return idx


def compile_lightgbm(booster, encoder) -> CompiledModel:
    """Compile a LightGBM booster with a ``cross_entropy`` or ``binary`` objective."""
    dump = booster.dump_model()
    objective = str(dump.get("objective", "")).split()
    if not objective or objective[0] not in ("cross_entropy", "binary", "xentropy"):
        raise TypeError(
            f"cannot compile a LightGBM model with objective {dump.get('objective')!r}."
        )
    if str(booster.params.get("linear_tree", "false")).lower() in ("true", "1"):
        raise TypeError("linear-tree LightGBM models are not supported by the runtime.")
    scale = 1.0
    if objective[0] == "binary" and len(objective) > 1 and objective[1].startswith("sigmoid:"):
        scale = float(objective[1].split(":")[1])
    builder = _TreeBuilder()
    for tree in dump["tree_info"]:
        builder.root(_add_lightgbm_node(builder, tree["tree_structure"]))
    arrays = builder.arrays()
    if scale != 1.0:  # sigmoid(scale * raw): fold the scale into the leaf values
        leaves = arrays["ints"][:, 0] < 0
        arrays["values"][leaves] *= scale
    meta = {
        "source": "lightgbm",
        "output": _OUT_SIGMOID,
        "base": 0.0,
        "n_trees": len(builder.roots),
    }
    return CompiledModel("trees", arrays, encoder, meta)


def compile_sklearn_tree(tree_model, encoder) -> CompiledModel:
    """Compile a fitted scikit-learn ``DecisionTreeRegressor`` predicting probabilities."""
    t = tree_model.tree_
    builder = _TreeBuilder()
    leaf = t.children_left < 0
    flags = (_MISSING_NAN << 1) | _FLOAT32
    go_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
    for i in range(t.node_count):
        if leaf[i]:
            builder.node(-1, 0, float(t.value[i, 0, 0]))
        else:
            f = flags | (_DEFAULT_LEFT if go_left[i] else 0)
            builder.node(int(t.feature[i]), f, float(t.threshold[i]))
    for i in np.flatnonzero(~leaf):  # children come after their parent: link once all exist
        builder.link(i, int(t.children_left[i]), int(t.children_right[i]))
    builder.root(0)
    meta = {"source": "sklearn_tree", "output": _OUT_CLIP, "base": 0.0, "n_trees": 1}
    return CompiledModel("trees", builder.arrays(), encoder, meta)


def compile_linear(design, logistic, encoder) -> CompiledModel:
    """Compile a :class:`~tabdistill.linear.LinearDesign` + logistic regression pair."""
    ints = np.column_stack([design.offsets_, design.n_levels_, design.has_missing_]).astype(
        np.int64
    )
    values = np.column_stack([design.median_, design.mean_, design.scale_]).astype(np.float64)
    coef = np.concatenate([logistic.coef_.ravel(), logistic.intercept_.ravel()]).astype(np.float64)
    meta = {"source": "linear", "output": _OUT_SIGMOID, "n_design": int(design.n_output_)}
    return CompiledModel("linear", {"ints": ints, "values": values, "coef": coef}, encoder, meta)


def compile_student(student, encoder) -> CompiledModel:
    """Compile a fitted tabdistill student (LightGBM, tree or linear).

    Raises
    ------
    TypeError
        For a model the runtime cannot compile.
    """
    from .student import LightGBMStudent, LinearStudent, TreeStudent

    if isinstance(student, LightGBMStudent):
        return compile_lightgbm(student.booster_, encoder)
    if isinstance(student, TreeStudent):
        return compile_sklearn_tree(student.tree_model_, encoder)
    if isinstance(student, LinearStudent):
        return compile_linear(student.design_, student.model_, encoder)
    raise TypeError(f"the runtime cannot compile a {type(student).__name__}.")
