"""The feature encoder: column roles inferred from a DataFrame, one numeric encoding.

Everything downstream (teacher, augmenters, students, runtime) works on the
float matrix :class:`TabularEncoder` produces; its fitted
:class:`~tabdistill_runtime.schema.FeatureSchema` says how (numeric columns as
float64 with NaN for missing, categorical columns as level codes with NaN for
missing or unseen). Keeping one encoding lets LightGBM and XGBoost use their
native categorical and missing-value handling, lets MUNGE perturb rows in one
space, and lets the compiled runtime reproduce the same mapping for a single
JSON record.
"""

from __future__ import annotations

import logging
import re
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_timedelta64_dtype,
)
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from tabdistill_runtime.dates import ISO, PARTS, detect_format
from tabdistill_runtime.schema import (
    CATEGORICAL,
    DATE,
    FREQUENCY,
    NUMERIC,
    FeatureSchema,
    encode_date_values,
    level_key,
)

from ..exceptions import DataError, FeatureTypeError, SchemaError

logger = logging.getLogger(__name__)

_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)


def _as_frame(X, names=None) -> pd.DataFrame:
    """``X`` as a DataFrame with text column names, each name once.

    A NumPy array holds raw feature values (never encoded ones), in the column
    order of ``names`` (``x0, x1, ...`` at fit); its object columns holding
    only numbers or booleans get their natural dtype back.
    """
    if isinstance(X, pd.Series):
        raise DataError(
            "expected a 2-D table of features, got a pandas Series. Reshape your data: "
            "X.to_frame() for one feature, X.to_frame().T for one row."
        )
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise FeatureTypeError(
            "sparse input is not supported: pass a DataFrame or a dense array (X.toarray())."
        )
    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(
                f"expected a 2-D table of features, got an array of shape {arr.shape}. Reshape "
                "your data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one row."
            )
        if arr.dtype.kind == "c":
            raise DataError("Complex data not supported as feature values: pass real numbers.")
        if names is not None and arr.shape[1] != len(names):
            raise SchemaError(
                f"X has {arr.shape[1]} features, but TabularEncoder is expecting {len(names)} "
                f"features as input: pass a DataFrame with columns {list(names)}, or an array "
                "of their raw values in that order."
            )
        columns = names if names is not None else [f"x{i}" for i in range(arr.shape[1])]
        return pd.DataFrame(arr, columns=list(columns)).infer_objects()
    text = [str(c) for c in X.columns]
    if len(set(text)) != len(text):
        twice = sorted({c for c in text if text.count(c) > 1})
        raise DataError(
            f"column name(s) {twice} appear more than once (after conversion to text): every "
            "column needs its own name. Rename or drop the duplicates."
        )
    if any(type(c) is not str for c in X.columns):
        X = X.set_axis(text, axis=1)
    return X


_CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray, pd.Series)


def _one_value_each(name: str, values) -> None:
    """Refuse a column whose cells hold several values (lists, dicts, arrays)."""
    for value in values:
        if isinstance(value, _CONTAINERS):
            text = repr(value)
            raise DataError(
                f"column '{name}' holds {type(value).__name__} values (e.g. "
                f"{text if len(text) <= 40 else text[:37] + '...'}): each cell must be one "
                "number, text, date or category. Expand it into one column per element, or "
                "drop it."
            )


def _unhashable(name: str, series: pd.Series) -> DataError:
    """The error for a column pandas could not count or factorize (a TypeError)."""
    try:
        _one_value_each(name, series.to_numpy(dtype=object))
    except DataError as exc:
        return exc
    return DataError(f"column '{name}' holds values that cannot be compared: {series.dtype}.")


def _level_counts(name: str, series: pd.Series) -> dict:
    """``level key -> rows`` of a categorical column's non-missing values."""
    try:
        table = series.value_counts(dropna=True)
    except TypeError:  # unhashable cells
        raise _unhashable(name, series) from None
    if table.index.dtype == object:
        _one_value_each(name, table.index)
    counts: dict = {}
    for value, n in table.items():
        if n > 0:
            key = level_key(value)
            counts[key] = counts.get(key, 0) + int(n)
    return counts


def _frequent_levels(counts: dict, max_levels: int) -> list:
    """The ``max_levels`` most frequent levels seen at least twice (ties: by key)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, n in ranked[:max_levels] if n >= 2]


def _factorized(series: pd.Series):
    """``codes, uniques`` of a column; DataError for cells holding several values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories
    try:
        codes, uniques = pd.factorize(series)
    except TypeError:  # unhashable: lists, dicts, arrays
        raise _unhashable(str(series.name), series) from None
    if uniques.dtype == object:
        _one_value_each(str(series.name), uniques)
    return codes, uniques


def date_features(series: pd.Series, fmt: str) -> tuple[list[str], np.ndarray]:
    """The date parts of ``series`` that vary (the timestamp always), and their values."""
    codes, uniques = _factorized(series)
    values = encode_date_values(list(uniques), codes, fmt, PARTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN parts
        spread = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    keep = [j for j, p in enumerate(PARTS) if p == "timestamp" or spread[j] > 0]
    return [PARTS[j] for j in keep], values[:, keep]


def _new_name(wanted: str, taken: set) -> str:
    name = wanted
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def category_codes(series: pd.Series, schema: FeatureSchema, name: str) -> np.ndarray:
    """Codes of ``series`` among the levels of ``name``; missing and unseen values are NaN.

    pandas factorizes the column; the schema maps each distinct value, so this
    path and the schema's record path agree by construction.
    """
    codes, uniques = _factorized(series)
    if len(uniques) == 0:
        return np.full(len(series), np.nan)
    lookup = schema.level_codes(name, uniques)
    return np.where(codes >= 0, lookup[np.maximum(codes, 0)], np.nan)


def _numeric_values(name: str, series: pd.Series) -> np.ndarray:
    if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype) or series.isna().all():
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

    Roles are inferred at ``fit``: numeric dtypes are numeric; ``datetime64``
    columns and text columns whose values parse as dates in one format become
    date features (:mod:`tabdistill_runtime.dates`: ``col.timestamp``,
    ``col.year``, ... for the parts that vary); other ``object``, string,
    ``category`` and ``bool`` columns are categorical; ID-like columns (a text
    column whose values are almost all distinct, or an integer column named
    like an id whose values are all distinct) and timedelta columns are
    dropped with a warning. A categorical column with more than ``max_levels``
    levels keeps its ``max_levels`` most frequent ones (seen at least twice;
    the others read as missing) and gains a ``col.frequency`` feature: the
    share of training rows holding the row's level, 0 for a level unseen at fit.

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
    parse_dates : bool, default=True
        Whether to turn date columns into date features (else text dates are
        categorical and ``datetime64`` columns are dropped).
    max_levels : int, default=100
        Levels kept per categorical column; a column with more also gets a
        frequency feature.

    Attributes
    ----------
    schema_ : FeatureSchema
        Everything learnt at fit; the attributes below read from it.
    feature_names_in_ : ndarray of str
        The columns seen at fit.
    n_features_in_ : int
        Their number.
    features_ : list of str
        The columns kept, in the order of the encoded matrix.
    roles_ : dict
        ``feature -> "numeric" | "categorical" | "date" | "frequency"`` for encoded features.
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

    _parameter_constraints: dict = {
        "categorical_features": [None, list, tuple],
        "drop_features": [None, list, tuple],
        "drop_id_like": ["boolean"],
        "parse_dates": ["boolean"],
        "max_levels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        categorical_features=None,
        drop_features=None,
        drop_id_like=True,
        parse_dates=True,
        max_levels=100,
    ):
        self.categorical_features = categorical_features
        self.drop_features = drop_features
        self.drop_id_like = drop_id_like
        self.parse_dates = parse_dates
        self.max_levels = max_levels

    # -- fitted state, all read from the schema
    features_ = property(lambda self: self.schema_.features)
    roles_ = property(lambda self: self.schema_.roles)
    categories_ = property(lambda self: self.schema_.categories)
    dropped_ = property(lambda self: self.schema_.dropped)
    categorical_mask_ = property(lambda self: self.schema_.categorical_mask)
    integer_mask_ = property(lambda self: self.schema_.integer)
    lower_ = property(lambda self: self.schema_.lower)
    upper_ = property(lambda self: self.schema_.upper)

    # -- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn column roles, category levels and numeric ranges from ``X``.

        ``X`` is a DataFrame, or a 2-D array of raw feature values (its
        columns are then named ``x0, x1, ...``).

        Raises
        ------
        DataError
            For an empty table, duplicated column names, infinite values or
            unknown names in ``categorical_features``/``drop_features``.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit and return the encoded ``X`` (encoded once: fitting already encodes it)."""
        return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_encode(self, X) -> np.ndarray:
        """:meth:`fit_transform` as a NumPy array, whatever ``set_output`` says.

        What the estimators of this package call: a global
        ``sklearn.set_config(transform_output="pandas")`` must not change
        their internal matrices.
        """
        return self._fit(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the encoded columns: the kept features, in matrix order."""
        check_is_fitted(self, "schema_")
        return np.asarray(self.features_, dtype=object)

    def _fit(self, X) -> np.ndarray:
        frame = _as_frame(X)
        if frame.shape[0] == 0:
            raise DataError("cannot fit on an empty table (0 rows).")
        forced = set(map(str, self.categorical_features or ()))
        dropped_by_user = set(map(str, self.drop_features or ()))
        unknown = (forced | dropped_by_user) - set(frame.columns)
        if unknown:
            raise DataError(
                "columns named in categorical_features/drop_features are not in the data: "
                f"{sorted(unknown)}"
            )
        names_in = [str(c) for c in frame.columns]
        features, roles, categories, dropped = [], {}, {}, {}
        derived = {"derived": {}, "date_formats": {}, "frequencies": {}}
        taken = set(names_in)
        for col in frame.columns:
            name = str(col)
            series = frame[col]
            try:
                role, info = self._infer_role(name, series, forced, dropped_by_user)
            except TypeError:  # pandas cannot count unhashable cells
                raise _unhashable(name, series) from None
            if role is None:
                dropped[name] = info
                if info != "dropped by user":
                    warnings.warn(f"dropping column '{name}': {info}", UserWarning, stacklevel=3)
            elif role == DATE:
                derived["date_formats"][name] = info
                for part in date_features(series, info)[0]:
                    feature = _new_name(f"{name}.{part}", taken)
                    features.append(feature)
                    roles[feature] = DATE
                    derived["derived"][feature] = (name, part)
            elif role == CATEGORICAL:
                counts = _level_counts(name, series)
                levels = list(counts)
                if len(counts) > self.max_levels:
                    levels = _frequent_levels(counts, self.max_levels)
                    feature = _new_name(f"{name}.frequency", taken)
                    total = sum(counts.values())
                    derived["derived"][feature] = (name, "frequency")
                    derived["frequencies"][feature] = {k: n / total for k, n in counts.items()}
                    logger.info(
                        "column '%s': %d levels, keeping %d and a frequency feature",
                        name,
                        len(counts),
                        len(levels),
                    )
                if levels:
                    features.append(name)
                    roles[name] = CATEGORICAL
                    categories[name] = np.array(sorted(levels), dtype=object)
                if len(counts) > self.max_levels:
                    features.append(feature)
                    roles[feature] = FREQUENCY
            else:
                features.append(name)
                roles[name] = role
        if not features:
            raise DataError(
                f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required: no usable "
                "feature columns (after dropping ID-like/datetime columns)."
            )
        self.schema_ = FeatureSchema(features, roles, categories, names_in, dropped, **derived)
        self.feature_names_in_ = np.array(names_in, dtype=object)
        self.n_features_in_ = frame.shape[1]
        Z = self._encode(frame, clip=False)
        _check_finite(Z, features)
        self.schema_ = FeatureSchema(
            features,
            roles,
            categories,
            names_in,
            dropped,
            **_ranges(Z, self.categorical_mask_),
            **derived,
        )
        return Z

    def _infer_role(self, name, series, forced, dropped_by_user):
        if name in dropped_by_user:
            return None, "dropped by user"
        if name in forced:
            return CATEGORICAL, None
        dtype = series.dtype
        if is_datetime64_any_dtype(dtype) and self.parse_dates:
            return DATE, ISO
        if is_datetime64_any_dtype(dtype) or is_timedelta64_dtype(dtype):
            return None, "datetime columns are not supported; derive numeric features from it"
        n = series.notna().sum()
        if is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            return CATEGORICAL, None
        if self.parse_dates and not is_numeric_dtype(dtype):
            fmt = detect_format(series.dropna().unique())
            if fmt is not None:
                return DATE, fmt
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
        return self.encode(X)

    def encode(self, X) -> np.ndarray:
        """:meth:`transform` as a NumPy array, whatever ``set_output`` says."""
        check_is_fitted(self, "schema_")
        return self._encode(self._check_frame(X))

    def _check_frame(self, X) -> pd.DataFrame:
        X = _as_frame(X, names=list(self.feature_names_in_))
        cols = set(X.columns)
        missing = [c for c in self.schema_.input_columns if c not in cols]
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
        return X

    def _encode(self, frame: pd.DataFrame, clip: bool = True) -> np.ndarray:
        schema = self.schema_
        out = np.empty((frame.shape[0], schema.n_features), dtype=np.float64)
        for j, name in enumerate(schema.features):
            role, series = schema.roles[name], frame[schema.source(name)]
            if role in (CATEGORICAL, FREQUENCY):
                out[:, j] = category_codes(series, schema, name)
            elif role == NUMERIC:
                values = _numeric_values(name, series)
                out[:, j] = schema.clip_infinite(j, values) if clip else values
        for name, fmt, js, parts in schema.date_groups():
            codes, uniques = _factorized(frame[name])
            out[:, js] = encode_date_values(list(uniques), codes, fmt, parts)
        return out

    def inverse_transform(self, Z) -> pd.DataFrame:
        """Turn an encoded matrix back into a DataFrame with the fitted dtypes.

        Categorical columns come back as ``category`` dtype over the fitted
        levels; numeric columns as float64. Useful to inspect synthetic rows.
        """
        check_is_fitted(self, "schema_")
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

        See :meth:`FeatureSchema.encode_record`.
        """
        check_is_fitted(self, "schema_")
        return self.schema_.encode_record(record)

    @classmethod
    def from_schema(cls, schema) -> TabularEncoder:
        """A fitted encoder from a :class:`FeatureSchema` or its ``to_dict()`` output."""
        if not isinstance(schema, FeatureSchema):
            schema = FeatureSchema.from_dict(schema)
        enc = cls()
        enc.schema_ = schema
        enc.feature_names_in_ = np.array(schema.feature_names_in, dtype=object)
        enc.n_features_in_ = len(schema.feature_names_in)
        return enc


def _check_finite(Z, features) -> None:
    """Refuse +/-inf at fit: no range, scale or split can be learnt from them."""
    bad = np.isinf(Z).any(axis=0)
    if bad.any():
        names = [features[j] for j in np.flatnonzero(bad)]
        raise DataError(
            f"column(s) {names[:10]} hold infinite values (inf or -inf). Replace them with NaN "
            "(missing) or a finite number before fitting."
        )


def _ranges(Z, categorical_mask) -> dict:
    """Per column: minimum, maximum, and whether every value is whole (numeric columns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lower, upper = np.nanmin(Z, axis=0), np.nanmax(Z, axis=0)
    lower = np.where(np.isnan(lower), 0.0, lower)
    upper = np.where(np.isnan(upper), 0.0, upper)
    finite = np.where(np.isnan(Z), 0.0, Z)
    integer = ~categorical_mask & np.all(finite == np.round(finite), axis=0)
    return {"integer": integer, "lower": lower, "upper": upper}
