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

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tabdistill_runtime import columns as col
from tabdistill_runtime.columns import one_value_each
from tabdistill_runtime.schema import CATEGORICAL, FeatureSchema
from tabdistill_runtime.value_issues import ValueIssues

from .._params import Interval, validate_params
from ..exceptions import DataError, FeatureTypeError, SchemaError
from .roles import SchemaPlan, factorized, infer_role


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


def _unhashable(name: str, series: pd.Series) -> DataError:
    """The error for a column pandas could not count or factorize (a TypeError)."""
    try:
        one_value_each(name, series.to_numpy(dtype=object))
    except DataError as exc:
        return exc
    return DataError(f"column '{name}' holds values that cannot be compared: {series.dtype}.")


def _factorized(series: pd.Series):
    """``codes, uniques`` of a column; DataError for cells holding several values."""
    try:
        codes, uniques = factorized(series)
    except TypeError:  # unhashable: lists, dicts, arrays
        raise _unhashable(str(series.name), series) from None
    if uniques.dtype == object:
        one_value_each(str(series.name), uniques)
    return codes, uniques


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

    Roles are inferred at ``fit``, per column, from its dtype and values:

    * numeric dtypes are numeric, and so is text that reads as numbers in one
      format for at least 95% of its rows: ``"$60,000.00"``, ``" 13.5% "``,
      ``"(1,234.50)"``, ``"1.234,50 €"`` (:mod:`tabdistill_runtime.number_formats`).
      The few other values (``"1976A"`` among years, one ``"abc"``) are
      *strays*: missing, with a :class:`~tabdistill.exceptions.DataWarning`
      naming the column, the count and examples;
    * ``datetime64`` columns, text whose values parse as dates in one layout
      (``2013-01-01T10:00:00Z``, ``1/1/13 22:33``, ``28-Feb-97``,
      ``Feb 28 1997``, ...), and whole numbers in a column named like a time
      that are Unix seconds or milliseconds of 1980-2100 become date features
      (:mod:`tabdistill_runtime.dates`: ``col.timestamp``, ``col.year``, ... for
      the parts that vary);
    * other ``object``, string, ``category`` and ``bool`` columns are
      categorical;
    * ID-like columns (text whose values are almost all distinct, or whole
      numbers in a column named like an id, all distinct), a row index written
      with the file (``Unnamed: 0`` or ``index``, whole numbers all distinct),
      columns missing in every row or holding one value in every row, and
      timedelta columns are dropped with a warning.

    What was recognised in a column's values is in ``schema_.recognised`` and
    logged. A categorical column with more than ``max_levels``
    levels keeps its ``max_levels`` most frequent ones (seen at least twice;
    the others read as missing) and gains a ``col.frequency`` feature: the
    share of training rows holding the row's level, 0 for a level unseen at fit.

    At ``transform``, columns are matched by name: order may differ, extra
    columns are ignored with a warning, missing columns raise
    :class:`~tabdistill.exceptions.SchemaError`. Unseen levels and missing
    values become NaN; values that cannot be read are missing and reported
    (see :meth:`transform`; ``strict=True`` raises instead). A cell holding a
    list or a dict is a :class:`~tabdistill.exceptions.DataError`.

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

    def fit_transform(self, X, y=None):
        """Fit and return the encoded ``X`` (encoded once: fitting already encodes it)."""
        return self._fit(X)

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
        validate_params(self)
        frame = _as_frame(X)
        if frame.shape[0] == 0:
            raise DataError("cannot fit on an empty table (0 rows).")
        forced = set(map(str, self.categorical_features or ()))
        dropped = set(map(str, self.drop_features or ()))
        unknown = (forced | dropped) - set(frame.columns)
        if unknown:
            raise DataError(
                "columns named in categorical_features/drop_features are not in the data: "
                f"{sorted(unknown)}"
            )
        plan = SchemaPlan(str(c) for c in frame.columns)
        for column in frame.columns:
            name, series = str(column), frame[column]
            try:
                self._plan_column(plan, name, series, forced, dropped)
            except TypeError:  # pandas cannot count unhashable cells
                raise _unhashable(name, series) from None
        if not plan.features:
            why = "; ".join(f"'{c}': {r}" for c, r in list(plan.dropped.items())[:5])
            why = f"every column was dropped ({why}{'; ...' if len(plan.dropped) > 5 else ''})."
            raise DataError(
                f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required: "
                + (why if plan.dropped else "the table has no columns.")
            )
        self.schema_ = plan.schema()
        self.feature_names_in_ = np.array(plan.names_in, dtype=object)
        self.n_features_in_ = frame.shape[1]
        issues = ValueIssues("fit")
        Z = self._encode(frame, issues, clip=False)
        _check_finite(Z, plan.features)
        plan.note(issues)
        plan.log()
        self.schema_ = plan.schema(**_ranges(Z, self.categorical_mask_))
        issues.emit(stacklevel=4)
        return Z

    def _plan_column(self, plan, name, series, forced, dropped):
        role, info = infer_role(
            name,
            series,
            forced=forced,
            dropped=dropped,
            parse_dates=self.parse_dates,
            drop_id_like=self.drop_id_like,
        )
        if role is None:
            plan.drop(name, info)
        elif role == "date":
            plan.date(name, series, info)
        elif role == CATEGORICAL:
            plan.categorical(name, series, self.max_levels)
        else:
            plan.numeric(name, info)

    # -- transform
    def transform(self, X, strict=False):
        """Encode ``X`` as a float64 matrix of shape ``(n_samples, len(features_))``.

        Values are read as at fit: numbers written as text with the column's
        format, dates with its layout. What cannot be read is missing and
        reported with a :class:`~tabdistill.exceptions.DataWarning` naming the
        column: a few strays (``"abc"`` among numbers: the count and examples),
        a column with no usable value (categories sent as integer codes, a
        boolean sent as ``"yes"``/``"no"``, dates in another layout, text in
        a numeric column), zoned times sent to a column fitted on plain ones
        (converted to UTC) or the reverse (taken as UTC).

        Parameters
        ----------
        X : DataFrame or 2-D array
            Raw feature values; columns matched by name.
        strict : bool, default=False
            Raise :class:`~tabdistill.exceptions.DataError` instead of warning.

        Raises
        ------
        SchemaError
            If columns the model needs are missing.
        DataError
            With ``strict``, for what would otherwise warn; always, for cells
            holding lists or dicts and for integers beyond float64.
        """
        return self.encode(X, strict=strict)

    def encode(self, X, strict=False) -> np.ndarray:
        """:meth:`transform` as a NumPy array, whatever ``set_output`` says."""
        check_is_fitted(self, "schema_")
        issues = ValueIssues()
        Z = self._encode(self._check_frame(X), issues)
        issues.emit(strict, stacklevel=4)
        return Z

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
                stacklevel=4,
            )
        return X

    def _encode(self, frame: pd.DataFrame, issues: ValueIssues, clip: bool = True) -> np.ndarray:
        """The encoded matrix; what could not be read goes to ``issues``."""
        schema = self.schema_
        out = np.empty((frame.shape[0], schema.n_features), dtype=np.float64)
        for column in schema.column_plan():
            series = frame[column.name]
            if column.kind == col.NUMBER and _numbers_already(series):
                j = column.positions[0]
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                out[:, j] = schema.clip_infinite(j, values) if clip else values
                continue
            codes, uniques = _factorized(series)
            uniques = np.asarray(uniques, dtype=object)
            distinct = col.read_distinct(schema, column, uniques, clip)
            out[:, column.positions] = col.gather(distinct, codes)
            col.check(issues, schema, column, uniques, distinct, codes)
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

    def encode_record(self, record: dict, strict=False, allow_missing=False) -> np.ndarray:
        """Encode one record (``{"column": value}``) exactly as ``transform`` encodes a row.

        A column absent from the record is an error unless ``allow_missing``;
        see :meth:`FeatureSchema.encode_record`.
        """
        check_is_fitted(self, "schema_")
        return self.schema_.encode_record(record, strict, allow_missing)

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


def encoding_summary(schema: FeatureSchema) -> dict:
    """What the encoder made of the columns, as JSON-able data (the benchmark's ``encoding``).

    ``date_features`` and ``frequency_features`` (encoded features by role),
    ``date_formats`` (column -> layout), ``number_formats`` (column -> format
    of the numeric columns written as text), ``recognised`` (column -> what
    fit recognised in its values, strays included), ``dropped`` (column ->
    why) and ``encoded_features`` (the encoded width).
    """
    by_role: dict = {}
    for feature in schema.features:
        by_role.setdefault(schema.roles[feature], []).append(feature)
    return {
        "date_features": by_role.get("date", []),
        "date_formats": dict(schema.date_formats),
        "number_formats": {
            c: dict(f)
            for c, f in schema.formats.items()
            if f["format"] == "number" and c in schema.recognised
        },
        "recognised": dict(schema.recognised),
        "frequency_features": by_role.get("frequency", []),
        "dropped": dict(schema.dropped),
        "encoded_features": schema.n_features,
    }


def _numbers_already(series: pd.Series) -> bool:
    """A column of numbers or booleans (not a categorical dtype): read with no parsing."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return is_numeric_dtype(dtype) or is_bool_dtype(dtype)


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
