"""Tabular data: reading CSV files, the binary target, and the feature encoder.

Everything downstream (teacher, augmenters, students, runtime) works on one
numeric encoding of the features, produced by :class:`TabularEncoder`:

* numeric columns are float64, NaN meaning missing;
* categorical columns are integer codes ``0 .. k-1`` into the levels seen at fit
  time, stored as float64; a missing **or unseen** level is NaN.

Keeping one encoding lets LightGBM and XGBoost use their native categorical and
missing-value handling, lets MUNGE perturb rows in one space, and lets the
compiled runtime reproduce the exact same mapping for a single JSON record.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_timedelta64_dtype,
)
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .exceptions import DataError, FeatureTypeError, SchemaError

logger = logging.getLogger(__name__)

NUMERIC = "numeric"
CATEGORICAL = "categorical"

# Labels read as "the positive class" when the user does not say which one is.
_POSITIVE_TOKENS = ("1", "true", "yes", "y", "positive", "pos", "fraud", "default", ">50k")
_NUMBER = (int, float, np.integer, np.floating)  # bool is an int: True -> 1.0
_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)


# --------------------------------------------------------------------------- files


def read_csv(path, **kwargs) -> pd.DataFrame:
    """Read a CSV file (plain or gzip/bz2/zip/xz compressed) into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        The file. Compression is inferred from the extension.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        If the file does not exist, is empty, or cannot be parsed as CSV.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: '{path}'. Check the path (it is read as given).")
    if path.is_dir():
        raise DataError(f"expected a CSV file, got the directory '{path}'.")
    try:
        frame = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"data file '{path}' is empty: expected a header row and data rows."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataError(f"could not read '{path}' as CSV: {exc}") from None
    if frame.shape[0] == 0:
        raise DataError(f"data file '{path}' has a header but no data rows.")
    return frame


def split_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into the feature columns and the ``target`` column.

    Raises
    ------
    DataError
        If ``target`` is not a column; the message lists the columns there are.
    """
    if target not in frame.columns:
        close = [c for c in frame.columns if str(c).lower() == str(target).lower()]
        hint = f" Did you mean '{close[0]}'?" if close else ""
        cols = ", ".join(map(str, frame.columns[:30]))
        raise DataError(f"target column '{target}' not found.{hint} Columns are: {cols}.")
    X = frame.drop(columns=[target])
    if X.shape[1] == 0:
        raise DataError("the data has no feature columns besides the target.")
    return X, frame[target]


# --------------------------------------------------------------------------- target


@dataclass(frozen=True)
class BinaryTarget:
    """A binary target mapped to 0/1.

    Attributes
    ----------
    y : ndarray of shape (n_samples,)
        0/1 labels (int8), 1 meaning the positive class.
    classes : ndarray of shape (2,)
        The original labels, ``classes[1]`` being the positive class.
    """

    y: np.ndarray
    classes: np.ndarray


def encode_target(y, positive_label=None) -> BinaryTarget:
    """Map a binary target with any two labels to 0/1.

    The positive class (mapped to 1) is, in this order: ``positive_label`` when
    given; the label that reads as positive (``1``, ``True``, ``"yes"``, ``"y"``,
    ``"true"``, ``"positive"``, ``"fraud"``, ...); otherwise the rarer label.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target. Missing values are not allowed.
    positive_label : object, default=None
        The label of the positive class, to override the rule above.

    Returns
    -------
    BinaryTarget

    Raises
    ------
    DataError
        If the target has missing values, one class only, or more than two.
    """
    values = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if values.isna().any():
        raise DataError(
            f"the target has {int(values.isna().sum())} missing values: "
            "drop those rows or fill the target before fitting."
        )
    counts = values.value_counts()
    if len(counts) < 2:
        only = counts.index[0] if len(counts) else "nothing"
        raise DataError(
            f"the target has a single class ({only!r}): a binary classifier needs rows of two "
            "classes. Check the target column and any filtering applied before fitting."
        )
    if len(counts) > 2:
        shown = ", ".join(repr(v) for v in counts.index[:6])
        raise DataError(
            f"the target must be binary, got {len(counts)} distinct values ({shown}, ...). "
            "Map it to two classes first."
        )
    labels = list(counts.index)
    if positive_label is not None:
        matches = [
            lab for lab in labels if lab == positive_label or str(lab) == str(positive_label)
        ]
        if not matches:
            raise DataError(
                f"positive_label={positive_label!r} is not one of the target's labels {labels}."
            )
        positive = matches[0]
    else:
        tokens = [lab for lab in labels if str(lab).strip().lower() in _POSITIVE_TOKENS]
        positive = tokens[0] if len(tokens) == 1 else counts.index[-1]  # rarer label
    negative = labels[1] if labels[0] == positive else labels[0]
    y01 = (values == positive).to_numpy().astype(np.int8)
    return BinaryTarget(y=y01, classes=np.array([negative, positive], dtype=object))


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Validate ``sample_weight``: ``n_samples`` finite, non-negative values, not all zero."""
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape[0] != n_samples:
        raise DataError(f"sample_weight has {w.shape[0]} values for {n_samples} rows.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise DataError("sample_weight must be finite, non-negative and not all zero.")
    return w


# --------------------------------------------------------------------------- features


def _as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        raise DataError("expected a 2-D table of features, got a pandas Series.")
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D table of features, got an array of shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _level_strings(series: pd.Series) -> np.ndarray:
    """The non-missing values of a categorical column, as the strings levels are keyed by."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        used = series.cat.remove_unused_categories().cat.categories
        return np.array(sorted(map(str, used)), dtype=object)
    return np.array(sorted(set(map(str, series.dropna().unique()))), dtype=object)


def category_codes(series: pd.Series, levels: pd.Index) -> np.ndarray:
    """Codes of ``series`` into ``levels`` as float64; missing and unseen values are NaN."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        lookup = levels.get_indexer(series.cat.categories.astype(str))
        raw = series.cat.codes.to_numpy()
        codes = np.where(raw >= 0, lookup[np.maximum(raw, 0)], -1)
    else:
        missing = series.isna().to_numpy()
        codes = levels.get_indexer(series.astype(str).to_numpy())
        codes[missing] = -1
    out = codes.astype(np.float64)
    out[codes < 0] = np.nan
    return out


class TabularInputMixin:
    """scikit-learn tags of estimators that take DataFrames with NaN, text and categories."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


class TabularEncoder(TabularInputMixin, TransformerMixin, BaseEstimator):
    """Infer column roles from a DataFrame and encode it as a float matrix.

    Roles are inferred at ``fit``: numeric dtypes are numeric; ``object``,
    string, ``category`` and ``bool`` columns are categorical; datetime columns
    and ID-like columns (a text column whose values are almost all distinct, or
    an integer column named like an id whose values are all distinct) are
    dropped with a warning.

    At ``transform``, columns are matched by name: order may differ, extra
    columns are ignored with a warning, missing columns raise
    :class:`~tabdistill.exceptions.SchemaError`. Unseen levels and missing
    values become NaN. Text in a numeric column raises
    :class:`~tabdistill.exceptions.FeatureTypeError`.

    Parameters
    ----------
    categorical_features : list of str, default=None
        Columns to treat as categorical whatever their dtype (e.g. integer codes).
    drop_features : list of str, default=None
        Columns to ignore.
    drop_id_like : bool, default=True
        Whether to drop ID-like columns detected at fit.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The columns seen at fit.
    n_features_in_ : int
        Their number.
    features_ : list of str
        The columns kept, in the order of the encoded matrix.
    roles_ : dict
        ``column -> "numeric" | "categorical"`` for kept columns.
    categories_ : dict
        ``column -> ndarray of levels`` (strings) for categorical columns.
    dropped_ : dict
        ``column -> reason`` for dropped columns.
    categorical_mask_ : ndarray of bool
        Which encoded columns are categorical.
    integer_mask_ : ndarray of bool
        Which numeric columns held only whole numbers at fit.
    lower_, upper_ : ndarray of float
        Per encoded column, the minimum and maximum seen at fit.
    """

    def __init__(self, categorical_features=None, drop_features=None, drop_id_like=True):
        self.categorical_features = categorical_features
        self.drop_features = drop_features
        self.drop_id_like = drop_id_like

    # -- fit
    def fit(self, X, y=None):
        """Learn column roles, category levels and numeric ranges from ``X``."""
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit and return the encoded ``X`` (encoded once: fitting already encodes it)."""
        return self._fit(X)

    def _fit(self, X) -> np.ndarray:
        frame = _as_frame(X)
        if frame.shape[0] == 0:
            raise DataError("cannot fit on an empty table (0 rows).")
        self.__dict__.pop("_record_plan", None)
        forced = set(self.categorical_features or ())
        dropped_by_user = set(self.drop_features or ())
        unknown = (forced | dropped_by_user) - set(map(str, frame.columns))
        if unknown:
            raise DataError(
                "columns named in categorical_features/drop_features are not in the data: "
                f"{sorted(unknown)}"
            )
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.features_, self.roles_, self.categories_, self.dropped_ = [], {}, {}, {}
        for col in frame.columns:
            name = str(col)
            series = frame[col]
            role, reason = self._infer_role(name, series, forced, dropped_by_user)
            if role is None:
                self.dropped_[name] = reason
                if reason != "dropped by user":
                    warnings.warn(f"dropping column '{name}': {reason}", UserWarning, stacklevel=3)
                continue
            self.features_.append(name)
            self.roles_[name] = role
            if role == CATEGORICAL:
                self.categories_[name] = _level_strings(series)
        if not self.features_:
            raise DataError(
                "no usable feature columns left after dropping ID-like/datetime columns."
            )
        self.__dict__.pop("_levels", None)
        self.categorical_mask_ = np.array([self.roles_[c] == CATEGORICAL for c in self.features_])
        Z = self._encode(frame)
        finite = np.where(np.isnan(Z), 0.0, Z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.lower_ = np.nanmin(Z, axis=0)
            self.upper_ = np.nanmax(Z, axis=0)
        self.lower_ = np.where(np.isnan(self.lower_), 0.0, self.lower_)
        self.upper_ = np.where(np.isnan(self.upper_), 0.0, self.upper_)
        self.integer_mask_ = ~self.categorical_mask_ & np.all(finite == np.round(finite), axis=0)
        return Z

    def _infer_role(self, name, series, forced, dropped_by_user):
        if name in dropped_by_user:
            return None, "dropped by user"
        if name in forced:
            return CATEGORICAL, None
        dtype = series.dtype
        if is_datetime64_any_dtype(dtype) or is_timedelta64_dtype(dtype):
            return None, "datetime columns are not supported; derive numeric features from it"
        n = series.notna().sum()
        if is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            return CATEGORICAL, None
        if is_numeric_dtype(dtype):
            if (
                self.drop_id_like
                and _ID_NAME.search(name)
                and n >= 20
                and series.nunique() == n
                and np.all(np.mod(series.dropna().to_numpy(dtype=float), 1) == 0)
            ):
                return None, "ID-like (an integer column named like an id, every value distinct)"
            return NUMERIC, None
        if self.drop_id_like and n >= 20 and series.nunique() > 0.9 * n:
            return None, "ID-like (more than 90% of its values are distinct)"
        return CATEGORICAL, None

    # -- transform
    def transform(self, X):
        """Encode ``X`` as a float64 matrix of shape ``(n_samples, len(features_))``.

        Raises
        ------
        SchemaError
            If columns the model needs are missing.
        FeatureTypeError
            If a numeric column holds text.
        """
        check_is_fitted(self, "features_")
        return self._encode(self._check_frame(X))

    def _check_frame(self, X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise SchemaError(f"expected a 2-D table of features, got shape {arr.shape}.")
            if arr.shape[1] != self.n_features_in_:
                raise SchemaError(
                    f"expected {self.n_features_in_} feature columns, got {arr.shape[1]}. "
                    f"Pass a DataFrame with columns {list(self.feature_names_in_)}."
                )
            return pd.DataFrame(arr, columns=list(self.feature_names_in_))
        cols = {str(c) for c in X.columns}
        missing = [c for c in self.features_ if c not in cols]
        if missing:
            raise SchemaError(
                f"{len(missing)} column(s) the model was fitted on are missing: {missing}. "
                "Add them (NaN is allowed for unknown values)."
            )
        extra = cols - set(self.feature_names_in_)
        if extra:
            warnings.warn(
                f"ignoring {len(extra)} column(s) not seen at fit: {sorted(extra)[:10]}",
                UserWarning,
                stacklevel=3,
            )
        if not all(isinstance(c, str) for c in X.columns):
            X = X.rename(columns=str)
        return X

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((frame.shape[0], len(self.features_)), dtype=np.float64)
        for j, name in enumerate(self.features_):
            series = frame[name]
            if self.roles_[name] == CATEGORICAL:
                out[:, j] = category_codes(series, self._level_index(name))
            else:
                out[:, j] = _numeric_values(name, series)
        return out

    def _level_index(self, name) -> pd.Index:
        """Lookup index of a categorical column's levels, built on first use (not persisted)."""
        cache = self.__dict__.setdefault("_levels", {})
        if name not in cache:
            cache[name] = pd.Index(self.categories_[name])
        return cache[name]

    def inverse_transform(self, Z) -> pd.DataFrame:
        """Turn an encoded matrix back into a DataFrame with the fitted dtypes.

        Categorical columns come back as ``category`` dtype over the fitted
        levels; numeric columns as float64. Useful to inspect synthetic rows.
        """
        check_is_fitted(self, "features_")
        Z = np.asarray(Z, dtype=np.float64)
        cols = {}
        for j, name in enumerate(self.features_):
            if self.roles_[name] == CATEGORICAL:
                codes = np.where(np.isnan(Z[:, j]), -1, Z[:, j]).astype(np.int64)
                cols[name] = pd.Categorical.from_codes(codes, categories=self.categories_[name])
            else:
                cols[name] = Z[:, j]
        return pd.DataFrame(cols)

    def encode_record(self, record: dict) -> np.ndarray:
        """Encode one record (``{"column": value}``) exactly as ``transform`` encodes a row.

        A missing key, ``None`` and NaN are missing; an unseen level is NaN;
        a non-number in a numeric column raises ``FeatureTypeError``. Built for
        the single-row path: plain dict lookups, no pandas.
        """
        plan = self.__dict__.get("_record_plan") or self._build_record_plan()
        row = np.empty(len(plan), dtype=np.float64)
        for j, (name, levels) in enumerate(plan):
            value = record.get(name)
            if value is None:
                row[j] = np.nan
            elif levels is None:
                if type(value) is not float and not isinstance(value, _NUMBER):
                    raise FeatureTypeError(
                        f"feature '{name}' expects a number, got {type(value).__name__} {value!r}."
                    )
                row[j] = value
            elif value != value:  # NaN
                row[j] = np.nan
            else:
                row[j] = levels.get(value if type(value) is str else str(value), np.nan)
        return row

    def _build_record_plan(self):
        self._record_plan = [
            (
                name,
                {lev: float(i) for i, lev in enumerate(self.categories_[name])}
                if self.roles_[name] == CATEGORICAL
                else None,
            )
            for name in self.features_
        ]
        return self._record_plan

    def schema(self) -> dict:
        """The fitted schema as plain JSON-able data; :meth:`from_schema` rebuilds the encoder."""
        check_is_fitted(self, "features_")
        return {
            "features": list(self.features_),
            "roles": dict(self.roles_),
            "categories": {c: [str(v) for v in lv] for c, lv in self.categories_.items()},
            "dropped": dict(self.dropped_),
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "integer": self.integer_mask_.tolist(),
            "lower": self.lower_.tolist(),
            "upper": self.upper_.tolist(),
        }

    @classmethod
    def from_schema(cls, schema: dict) -> TabularEncoder:
        """A fitted encoder from :meth:`schema` output (as saved with a model)."""
        try:
            enc = cls()
            enc.features_ = list(schema["features"])
            enc.roles_ = {c: schema["roles"][c] for c in enc.features_}
            enc.categories_ = {
                c: np.array(v, dtype=object) for c, v in schema["categories"].items()
            }
            enc.dropped_ = dict(schema.get("dropped", {}))
            enc.feature_names_in_ = np.array(schema["feature_names_in"], dtype=object)
            enc.n_features_in_ = len(enc.feature_names_in_)
            enc.categorical_mask_ = np.array([enc.roles_[c] == CATEGORICAL for c in enc.features_])
            enc.integer_mask_ = np.array(schema["integer"], dtype=bool)
            enc.lower_ = np.array(schema["lower"], dtype=np.float64)
            enc.upper_ = np.array(schema["upper"], dtype=np.float64)
            if set(enc.roles_.values()) - {NUMERIC, CATEGORICAL} or set(enc.categories_) != {
                c for c in enc.features_ if enc.roles_[c] == CATEGORICAL
            }:
                raise ValueError("roles and categories disagree")
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"invalid feature schema: {exc}") from None
        return enc

    def __getstate__(self):
        # lookup caches are derived from categories_: persist only the plain state
        state = super().__getstate__()
        state.pop("_levels", None)
        state.pop("_record_plan", None)
        return state


def _numeric_values(name: str, series: pd.Series) -> np.ndarray:
    if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(series, errors="coerce")
    bad = series[converted.isna() & series.notna()]
    if len(bad):
        example = bad.iloc[0]
        raise FeatureTypeError(
            f"column '{name}' was numeric at fit but holds text now (e.g. {example!r}). "
            "Fix the upstream data or the CSV parsing for that column."
        )
    raise FeatureTypeError(
        f"column '{name}' was numeric at fit but arrives as {series.dtype} (numbers stored as "
        f"text, e.g. {series.dropna().iloc[0]!r}). Convert it with pandas.to_numeric first."
    )
