"""The fitted feature schema: what each column is and how a value becomes a number.

:class:`FeatureSchema` is the contract between training and scoring. The
encoder (:mod:`tabdistill.data.encoder`) infers it from a DataFrame; the
compiled runtime stores it as JSON beside the model's arrays and uses it to
encode a single ``{"column": value}`` record or a table of columns. It imports
NumPy only, so a scoring process never loads pandas or scikit-learn.

The encoding:

* a numeric column is float64, NaN meaning missing;
* a categorical column is the index ``0 .. k-1`` of its value among the
  levels seen at fit (sorted, compared by :func:`level_key`), stored as
  float64; a missing **or unseen** level is NaN.

Some encoded features are *derived* from an input column (``derived``:
``feature -> (column, part)``):

* ``date`` features are parts of a date column (:mod:`tabdistill_runtime.dates`),
  parsed with the one format decided at fit (``date_formats``);
* a ``frequency`` feature is the share of training rows holding a
  high-cardinality column's level (0 for a level unseen at fit, NaN for
  missing); the column's categorical feature keeps only its frequent levels.
Levels compare **by value**: :func:`level_key` is the one function that turns a
category value into the text it is stored and looked up under, for the
pandas encoder and the record path alike, so ``4``, ``4.0``, ``"4"`` and
``np.int64(4)`` are one level, and ``True``/``"True"`` are the level ``1``.

Infinite values are refused at fit; at predict ``+inf`` and ``-inf`` in a
numeric column become the largest and smallest value seen at fit. Every
student then scores them as defined, finite inputs (a tree sends them where
the extreme value goes; the linear student does not overflow).
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from .dates import PARTS, date_parts, encode_dates, parse_date
from .exceptions import FeatureTypeError, SchemaError

NUMERIC = "numeric"
CATEGORICAL = "categorical"
DATE = "date"
FREQUENCY = "frequency"
ROLES = (NUMERIC, CATEGORICAL, DATE, FREQUENCY)

_NUMBER = (int, float, np.integer, np.floating)  # bool is an int: True -> 1.0


#: Text that reads as a number: no exponent, no leading zeros (``"007"`` stays a code).
_NUMBER_TEXT = re.compile(r"[+-]?(0|[1-9][0-9]{0,14})(\.[0-9]+)?")
_BOOL_TEXT = {"True": "1", "False": "0", "true": "1", "false": "0"}
_ABSENT = object()
_NAN = float("nan")


def _number_key(x: float) -> str:
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(x)


def level_key(value) -> str:
    """The text a categorical value is compared by: levels are stored under this key.

    Values compare by what they mean, not by their Python type: whole numbers
    are their integer text (``4``, ``4.0``, ``np.int64(4)`` and ``"4.0"`` are
    ``"4"``), other numbers their shortest ``repr``, booleans (and the texts
    ``"True"``/``"False"``) are ``"1"``/``"0"``; any other text is itself. A
    numeric text with leading zeros (``"007"``) or of 16 digits or more stays
    as written: it is a code, not a number.
    """
    if type(value) is str or isinstance(value, str):
        value = str(value)
        if _NUMBER_TEXT.fullmatch(value):
            return _number_key(float(value))
        return _BOOL_TEXT.get(value, value)
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _number_key(float(value))
    return str(value)


def is_missing(value) -> bool:
    """``None`` or a NaN of any float type."""
    return value is None or (isinstance(value, float | np.floating) and value != value)


class FeatureSchema:
    """Column roles, category levels and numeric ranges of a fitted encoder.

    Parameters
    ----------
    features : list of str
        Columns kept, in the order of the encoded matrix.
    roles : dict
        ``column -> "numeric" | "categorical"`` for every kept column.
    categories : dict
        ``column -> levels`` (the :func:`level_key` of each value seen at fit,
        sorted) for every categorical column. Their order gives the codes.
    feature_names_in : list of str
        Every column seen at fit, kept or not.
    dropped : dict, default=None
        ``column -> reason`` for columns not kept.
    integer, lower, upper : array-like, default=None
        Per encoded column: whether it held only whole numbers at fit, its
        minimum and its maximum (what augmenters keep synthetic rows within).
    derived : dict, default=None
        ``feature -> (input column, part)`` for features derived from a column:
        a date part (role ``date``) or ``"frequency"`` (role ``frequency``).
    date_formats : dict, default=None
        ``input column -> format`` of each date column (see :mod:`tabdistill_runtime.dates`).
    frequencies : dict, default=None
        ``feature -> {level key: share of training rows}`` for frequency features.

    Raises
    ------
    SchemaError
        If roles, categories and features disagree.
    """

    def __init__(
        self,
        features,
        roles,
        categories,
        feature_names_in,
        dropped=None,
        integer=None,
        lower=None,
        upper=None,
        derived=None,
        date_formats=None,
        frequencies=None,
    ):
        self.features = [str(c) for c in features]
        self.roles = {c: roles[c] for c in self.features}
        self.categories = {c: np.asarray(v, dtype=object) for c, v in categories.items()}
        self.feature_names_in = [str(c) for c in feature_names_in]
        self.dropped = dict(dropped or {})
        d = len(self.features)
        self.integer = np.zeros(d, bool) if integer is None else np.asarray(integer, bool)
        self.lower = np.zeros(d) if lower is None else np.asarray(lower, np.float64)
        self.upper = np.zeros(d) if upper is None else np.asarray(upper, np.float64)
        self.derived = {str(f): (str(c), str(p)) for f, (c, p) in (derived or {}).items()}
        self.date_formats = {str(c): str(f) for c, f in (date_formats or {}).items()}
        self.frequencies = {
            str(f): {str(k): float(v) for k, v in t.items()} for f, t in (frequencies or {}).items()
        }
        self._check()

    def _check(self):
        if set(self.roles.values()) - set(ROLES):
            raise SchemaError(f"unknown column role in {sorted(set(self.roles.values()))}")
        categorical = {c for c in self.features if self.roles[c] == CATEGORICAL}
        if set(self.categories) != categorical:
            raise SchemaError("roles and categories disagree on which columns are categorical")
        if len(set(self.features)) != len(self.features):
            raise SchemaError("a feature is named twice")
        d = len(self.features)
        if not self.integer.shape == self.lower.shape == self.upper.shape == (d,):
            raise SchemaError(f"ranges must hold one value per feature ({d})")
        derived = {c for c in self.features if self.roles[c] in (DATE, FREQUENCY)}
        if set(self.derived) != derived:
            raise SchemaError("roles and derived disagree on which features are derived")
        for feature, (column, part) in self.derived.items():
            if self.roles[feature] == DATE and (
                part not in PARTS or column not in self.date_formats
            ):
                raise SchemaError(f"date feature '{feature}' has no part or format")
            if self.roles[feature] == FREQUENCY and feature not in self.frequencies:
                raise SchemaError(f"frequency feature '{feature}' has no table")

    def source(self, feature: str) -> str:
        """The input column an encoded feature is read from."""
        return self.derived[feature][0] if feature in self.derived else feature

    @property
    def input_columns(self) -> list[str]:
        """The input columns the encoded features are read from, in first-use order."""
        return list(dict.fromkeys(self.source(f) for f in self.features))

    def date_groups(self) -> list[tuple[str, str, list[int], list[str]]]:
        """``(column, format, encoded positions, parts)`` for each date column."""
        groups = {}
        for j, name in enumerate(self.features):
            if self.roles[name] == DATE:
                column, part = self.derived[name]
                groups.setdefault(column, ([], []))
                groups[column][0].append(j)
                groups[column][1].append(part)
        return [(c, self.date_formats[c], js, parts) for c, (js, parts) in groups.items()]

    @property
    def n_features(self) -> int:
        """Width of the encoded matrix."""
        return len(self.features)

    @property
    def categorical_mask(self) -> np.ndarray:
        """Which encoded columns hold category codes."""
        return np.array([self.roles[c] == CATEGORICAL for c in self.features], dtype=bool)

    # -- encoding
    def _lookup(self, name) -> dict:
        """``value -> code`` of a categorical feature (``value -> share`` of a frequency
        feature), built on first use (not persisted).

        Keys are the levels' :func:`level_key` (older schemas stored other
        texts, such as ``"True"``: they are canonicalised here, codes unchanged)
        and, for levels that are numbers, the number itself, so a record's
        ``4``, ``4.0`` or ``True`` is found with one dict lookup.
        """
        cache = self.__dict__.setdefault("_lookups", {})
        if name not in cache:
            if self.roles[name] == FREQUENCY:
                levels = self.frequencies[name].items()
            else:
                levels = ((lev, float(i)) for i, lev in enumerate(self.categories[name]))
            table = {}
            for lev, value in levels:
                key = level_key(lev)
                table.setdefault(key, value)
                number = _as_number(key)
                if number is not None:
                    table.setdefault(number, value)
            cache[name] = table
        return cache[name]

    def _unseen(self, name) -> float:
        """What a level unseen at fit encodes to: NaN, or a share of 0 for frequencies."""
        return 0.0 if self.roles[name] == FREQUENCY else np.nan

    def level_codes(self, name: str, values) -> np.ndarray:
        """Codes of ``values`` among the levels of feature ``name``; missing or unseen is NaN.

        For a frequency feature, the share of training rows holding each value
        (0 when unseen). Called on the distinct values of a column (the encoder
        factorizes first), or on every value of a small batch.
        """
        table, unseen = self._lookup(name), self._unseen(name)
        return np.array(
            [np.nan if is_missing(v) else table.get(level_key(v), unseen) for v in values],
            dtype=np.float64,
        )

    def clip_infinite(self, j: int, values: np.ndarray) -> np.ndarray:
        """Encoded numeric column ``j`` with ``+inf``/``-inf`` as its fitted maximum/minimum."""
        infinite = np.isinf(values)
        if infinite.any():
            values = np.where(infinite, np.where(values > 0, self.upper[j], self.lower[j]), values)
        return values

    def encode_record(self, record: dict, strict: bool = False) -> np.ndarray:
        """Encode one record ``{"column": value}`` exactly as the encoder encodes a row.

        A missing key, ``None`` and NaN are missing; an unseen level is NaN;
        ``+inf``/``-inf`` in a numeric column are its fitted maximum/minimum; a
        non-number in a numeric column raises ``FeatureTypeError``. A key that
        is not a column seen at fit (a misspelling, say) warns, or raises
        ``SchemaError`` when ``strict``. Built for the single-row path: plain
        dict lookups.
        """
        plan = self.__dict__.get("_plan") or self._record_plan()
        nan, absent, number = _NAN, _ABSENT, _NUMBER  # locals: this loop is the hot path
        row = np.empty(self.n_features, dtype=np.float64)
        found = 0
        for j, name, levels, unseen, first in plan[0]:
            value = record.get(name, absent)
            if value is absent:
                row[j] = nan
                continue
            found += first
            if value is None:
                row[j] = nan
            elif levels is None:
                if type(value) is not float and not isinstance(value, number):
                    raise FeatureTypeError(
                        f"feature '{name}' expects a number, got {type(value).__name__} {value!r}."
                    )
                if value - value == 0:  # finite
                    row[j] = value
                else:  # NaN stays NaN; +/-inf is the fitted extreme
                    row[j] = value if value != value else self._infinite[value > 0][j]
            else:
                try:
                    code = levels.get(value)
                except TypeError:  # unhashable: a list, a dict
                    raise FeatureTypeError(
                        f"feature '{name}' expects a category, got {type(value).__name__}."
                    ) from None
                if code is None:
                    code = nan if is_missing(value) else levels.get(level_key(value), unseen)
                row[j] = code
        for name, fmt, js, cols in plan[1]:
            value = record.get(name, absent)
            found += value is not absent
            value = None if value is absent else value
            row[js] = np.asarray(date_parts(parse_date(value, fmt)))[cols]
        if found < len(record):
            self._check_keys(record, strict)
        return row

    def _check_keys(self, record, strict):
        known = self.__dict__.get("_known") or self.__dict__.setdefault(
            "_known", frozenset(self.feature_names_in)
        )
        unknown = [k for k in record if k not in known]
        if not unknown:
            return  # only columns dropped at fit (an id, say)
        message = (
            f"record key(s) {unknown[:10]} are not features of this model "
            f"(misspelt? features: {self.features[:20]})"
        )
        if strict:
            raise SchemaError(message + ".")
        warnings.warn(message + "; they are ignored.", UserWarning, stacklevel=3)

    def _record_plan(self):
        self._infinite = (self.lower, self.upper)  # what -inf and +inf become
        seen = set()
        simple = []
        for j, name in enumerate(self.features):
            if self.roles[name] == DATE:
                continue
            column = self.source(name)
            levels = None if self.roles[name] == NUMERIC else self._lookup(name)
            simple.append((j, column, levels, self._unseen(name), column not in seen))
            seen.add(column)
        dates = [
            (name, fmt, np.array(js), np.array([PARTS.index(p) for p in parts]))
            for name, fmt, js, parts in self.date_groups()
        ]
        self._plan = (simple, dates)
        return self._plan

    def encode_columns(self, table) -> np.ndarray:
        """Encode a table given as ``table[column] -> values`` (a DataFrame, a dict of arrays).

        The NumPy-only path: the pandas encoder is faster on large DataFrames
        and gives the same result.
        """
        missing = [c for c in self.input_columns if not _has_column(table, c)]
        if missing:
            raise SchemaError(
                f"{len(missing)} column(s) the model was fitted on are missing: {missing}. "
                "Add them (NaN is allowed for unknown values)."
            )
        columns = {c: table[c] for c in self.input_columns}
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.empty((n, self.n_features), dtype=np.float64)
        for name, values in columns.items():
            if len(values) != n:
                raise SchemaError(f"column '{name}' has {len(values)} values, expected {n}.")
        for j, name in enumerate(self.features):
            role, values = self.roles[name], columns[self.source(name)]
            if role in (CATEGORICAL, FREQUENCY):
                codes, uniques = _factorize(_as_object(values))
                out[:, j] = self.level_codes(name, uniques)[codes] if len(uniques) else np.nan
            elif role == NUMERIC:
                out[:, j] = self.clip_infinite(j, _as_float(name, values))
        for name, fmt, js, parts in self.date_groups():
            codes, uniques = _factorize(_as_object(columns[name]))
            out[:, js] = encode_date_values(uniques, codes, fmt, parts)
        return out

    # -- persistence
    def to_dict(self) -> dict:
        """The schema as plain JSON-able data; :meth:`from_dict` rebuilds it."""
        return {
            "features": list(self.features),
            "roles": dict(self.roles),
            "categories": {c: [str(v) for v in lv] for c, lv in self.categories.items()},
            "dropped": dict(self.dropped),
            "feature_names_in": list(self.feature_names_in),
            "integer": self.integer.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "derived": {f: list(cp) for f, cp in self.derived.items()},
            "date_formats": dict(self.date_formats),
            "frequencies": {f: dict(t) for f, t in self.frequencies.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSchema:
        """A schema from :meth:`to_dict` output (as saved with a model).

        Raises
        ------
        SchemaError
            If ``data`` is not a valid schema.
        """
        try:
            return cls(
                data["features"],
                data["roles"],
                data["categories"],
                data["feature_names_in"],
                dropped=data.get("dropped"),
                integer=data["integer"],
                lower=data["lower"],
                upper=data["upper"],
                derived=data.get("derived"),
                date_formats=data.get("date_formats"),
                frequencies=data.get("frequencies"),
            )
        except SchemaError as exc:
            raise SchemaError(f"invalid feature schema: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemaError(f"invalid feature schema: {type(exc).__name__}: {exc}") from None

    def __eq__(self, other):
        return isinstance(other, FeatureSchema) and self.to_dict() == other.to_dict()

    __hash__ = None  # mutable caches inside; equality is by content

    def __getstate__(self):
        # lookup caches are derived from the levels: persist only the plain state
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self):
        n_cat = int(self.categorical_mask.sum())
        return f"FeatureSchema({self.n_features} features, {n_cat} categorical)"


def _as_number(key: str):
    """The number a canonical level key stands for, or None for text."""
    if _NUMBER_TEXT.fullmatch(key):
        return float(key)
    try:
        number = float(key)
    except ValueError:
        return None
    return number if np.isfinite(number) and repr(number) == key else None


def _has_column(table, name) -> bool:
    try:
        return name in table
    except TypeError:
        return False


def _as_object(values) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=object)
    return np.asarray(values, dtype=object)


def _as_float(name, values) -> np.ndarray:
    try:
        if hasattr(values, "to_numpy"):
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise FeatureTypeError(
            f"column '{name}' was numeric at fit but holds text now. "
            "Fix the upstream data or the parsing of that column."
        ) from None


def encode_date_values(uniques, codes, fmt, parts) -> np.ndarray:
    """Date ``parts`` of a factorized column: parse each distinct value once, then gather."""
    out = np.full((len(codes), len(parts)), np.nan)
    if len(uniques):
        table = encode_dates(list(uniques), fmt, parts)
        seen = codes >= 0
        out[seen] = table[codes[seen]]
    return out


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list]:
    """``codes, uniques`` of an object array, with a dict (no pandas)."""
    table: dict = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), np.intp, len(values))
    return codes, list(table)
