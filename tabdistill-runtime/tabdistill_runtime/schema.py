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
  parsed with the one format decided at fit (its ``formats`` entry, below);
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

How values are read: ``formats``
--------------------------------
Every numeric and date input column has a *format*, decided at fit from its
values and stored as plain JSON (``formats``: ``column -> format``); every
implementation of scoring reads a value with it, and nothing else. There are
two named formats:

``{"format": "number", "currency": "$", "thousands": ",", "decimal": ".", "percent": false,
"parens": true}``
    A number arrives as a number (taken as it is; ``true``/``false`` are 1/0)
    or as text, read by the rule of :mod:`tabdistill_runtime.number_formats`:
    ``"$60,000.00"``, ``"(1,234.50)"`` (-1234.5), ``"13.5%"`` (13.5). A column
    that held numbers at fit has ``currency ""``, ``thousands ","``,
    ``decimal "."``, no percent, no parentheses.
``{"format": "date", "layout": "%d-%b-%y", "tz": "naive"}``
    ``layout`` is ``"iso8601"``, a ``strptime`` pattern of
    :data:`tabdistill_runtime.dates.FORMATS`, ``"unix_s"`` or ``"unix_ms"``; ``tz``
    says whether the training values carried a time zone (see
    :mod:`tabdistill_runtime.dates`). The column's features are the parts
    (``derived``) of the value as a naive UTC time.

Text means missing when, stripped of :data:`~tabdistill_runtime.number_formats.SPACE`,
it is one of :data:`~tabdistill_runtime.number_formats.MISSING_TEXT` (numbers and dates alike).
Schemas saved before ``formats`` existed load with a plain number format for every numeric
column and ``tz: "any"`` for their ``date_formats`` layouts.

A value that does not read in its column's format is a *stray*: it is
missing for the model and reported (:mod:`tabdistill_runtime.value_issues`):
a warning naming the column, the count and examples, or an error with
``strict=True``; so is a column none of whose values is usable, and a time
zone that disagrees with fit. ``recognised`` (``column -> text``) says in words
what fit recognised in a column's values, for reports.
"""

from __future__ import annotations

import numpy as np

from . import columns as col
from .columns import is_missing
from .dates import DATE as DATE_FORMAT
from .dates import PARTS, check_date_format, date_format, encode_dates
from .exceptions import SchemaError
from .levels import level_key, number_of_key
from .number_formats import NUMBER as NUMBER_FORMAT
from .number_formats import PLAIN, check_number_format
from .records import encode_record, encode_records
from .value_issues import ValueIssues

NUMERIC = "numeric"
CATEGORICAL = "categorical"
DATE = "date"
FREQUENCY = "frequency"
ROLES = (NUMERIC, CATEGORICAL, DATE, FREQUENCY)


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
        ``input column -> layout`` of each date column: how schemas saved before
        ``formats`` name them (their time zone is then ``"any"``).
    frequencies : dict, default=None
        ``feature -> {level key: share of training rows}`` for frequency features.
    formats : dict, default=None
        ``input column -> format`` (see "How values are read" above); a numeric
        column without one reads text as plain numbers.
    recognised : dict, default=None
        ``input column -> text``: what fit recognised in the column's values.

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
        formats=None,
        recognised=None,
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
        self.frequencies = {
            str(f): {str(k): float(v) for k, v in t.items()} for f, t in (frequencies or {}).items()
        }
        self.formats = {str(c): dict(f) for c, f in (formats or {}).items()}
        for column, layout in (date_formats or {}).items():
            self.formats.setdefault(str(column), date_format(str(layout)))
        for name in self.features:
            if self.roles[name] == NUMERIC:
                self.formats.setdefault(name, dict(PLAIN))
        self.recognised = {str(c): str(t) for c, t in (recognised or {}).items()}
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
                part not in PARTS or self.formats.get(column, {}).get("format") != DATE_FORMAT
            ):
                raise SchemaError(f"date feature '{feature}' has no part or date format")
            if self.roles[feature] == FREQUENCY and feature not in self.frequencies:
                raise SchemaError(f"frequency feature '{feature}' has no table")
        for column, spec in self.formats.items():
            kind = spec.get("format")
            if kind == NUMBER_FORMAT:
                check_number_format(spec)
            elif kind == DATE_FORMAT:
                check_date_format(spec)
            else:
                raise SchemaError(f"column '{column}' has an unknown format {spec!r}")
        for name in self.features:
            if self.roles[name] == NUMERIC and self.formats[name]["format"] != NUMBER_FORMAT:
                raise SchemaError(f"numeric column '{name}' has no number format")

    @property
    def date_formats(self) -> dict:
        """``column -> layout`` of each date column (the layouts of ``formats``)."""
        return {c: f["layout"] for c, f in self.formats.items() if f["format"] == DATE_FORMAT}

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
    def lookup(self, name) -> dict:
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
                number = number_of_key(key)
                if number is not None:
                    table.setdefault(number, value)
            cache[name] = table
        return cache[name]

    def unseen(self, name) -> float:
        """What a level unseen at fit encodes to: NaN, or a share of 0 for frequencies."""
        return 0.0 if self.roles[name] == FREQUENCY else np.nan

    def level_codes(self, name: str, values) -> np.ndarray:
        """Codes of ``values`` among the levels of feature ``name``; missing or unseen is NaN.

        For a frequency feature, the share of training rows holding each value
        (0 when unseen). Called on the distinct values of a column (the encoder
        factorizes first), or on every value of a small batch.
        """
        table, unseen = self.lookup(name), self.unseen(name)
        return np.array(
            [np.nan if is_missing(v) else table.get(level_key(v), unseen) for v in values],
            dtype=np.float64,
        )

    def known_levels(self, column: str, values) -> np.ndarray:
        """Which ``values`` of a categorical input column are levels seen at fit (its
        frequency table when it has one: it knows the rare levels too)."""
        features = [f for f in self.features if self.source(f) == column]
        name = next((f for f in features if self.roles[f] == FREQUENCY), features[0])
        table = self.lookup(name)
        return np.array([level_key(v) in table for v in values], dtype=bool)

    def levels_of(self, column: str) -> list:
        """A few levels of a categorical input column seen at fit (for messages)."""
        if column in self.categories and len(self.categories[column]):
            return list(self.categories[column][:4])
        frequency = next(f for f in self.frequencies if self.source(f) == column)
        return sorted(self.frequencies[frequency], key=self.frequencies[frequency].get)[-4:]

    def clip_infinite(self, j: int, values: np.ndarray) -> np.ndarray:
        """Encoded numeric column ``j`` with ``+inf``/``-inf`` as its fitted maximum/minimum."""
        infinite = np.isinf(values)
        if infinite.any():
            values = np.where(infinite, np.where(values > 0, self.upper[j], self.lower[j]), values)
        return values

    def encode_record(
        self, record: dict, strict: bool = False, allow_missing: bool = False
    ) -> np.ndarray:
        """Encode one record ``{"column": value}`` exactly as the encoder encodes a row.

        ``None`` and NaN are missing; an unseen level is NaN; ``+inf``/``-inf``
        in a numeric column are its fitted maximum/minimum; text in a numeric
        or date column is read with the column's format (a stray reads as
        missing, with a :class:`~tabdistill.exceptions.DataWarning`); a list,
        a dict or another non-scalar raises ``FeatureTypeError``, an integer
        beyond float64 ``DataError``. Built for the single-row path: read in C
        where the compiled kernels are built, in Python what needs a warning or
        an error (:mod:`tabdistill_runtime.records`), with the same result.

        Parameters
        ----------
        record : dict
            ``column -> value``.
        strict : bool, default=False
            Raise instead of warning: ``SchemaError`` for a key that is not a
            column seen at fit (a misspelling, say), ``DataError`` for a stray
            or a time-zone mismatch.
        allow_missing : bool, default=False
            Read a column absent from the record as missing. By default an
            absent column is a ``SchemaError``, as in a batch.
        """
        return encode_record(self, record, strict, allow_missing)

    def encode_records(
        self, records, strict: bool = False, allow_missing: bool = False
    ) -> np.ndarray:
        """Encode a list of records into rows ``(n, n_features)``, each exactly as
        :meth:`encode_record` encodes it (warnings and errors included)."""
        return encode_records(self, records, strict, allow_missing)

    def column_plan(self) -> list:
        """How each input column is read: a :class:`~tabdistill_runtime.columns.Column` each."""
        if "_columns" not in self.__dict__:
            kinds = {NUMERIC: col.NUMBER, CATEGORICAL: col.CATEGORY, FREQUENCY: col.CATEGORY}
            plan: dict = {}
            for j, name in enumerate(self.features):
                column = self.source(name)
                kind = kinds.get(self.roles[name], col.DATE)
                entry = plan.setdefault(column, col.Column(column, kind, [], [], []))
                entry.positions.append(j)
                entry.features.append(name)
                if kind == col.DATE:
                    entry.parts.append(self.derived[name][1])
            self._columns = list(plan.values())
        return self._columns

    def encode_columns(self, table, strict: bool = False) -> np.ndarray:
        """Encode a table given as ``table[column] -> values`` (a DataFrame, a dict of arrays).

        The NumPy-only path: the pandas encoder is faster on large DataFrames
        and gives the same result, warnings included (strays, unusable
        columns, time zones; errors with ``strict``, see :meth:`encode_record`).
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
        issues = ValueIssues()
        for column in self.column_plan():
            values = columns[column.name]
            if column.kind == col.NUMBER and _numeric_array(values):
                j = column.positions[0]
                out[:, j] = self.clip_infinite(j, np.asarray(values, dtype=np.float64))
                continue
            codes, uniques = _factorize(_as_object(values))
            distinct = col.read_distinct(self, column, uniques)
            out[:, column.positions] = col.gather(distinct, codes)
            col.check(issues, self, column, uniques, distinct, codes)
        issues.emit(strict)
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
            "date_formats": dict(self.date_formats),  # for readers older than formats
            "frequencies": {f: dict(t) for f, t in self.frequencies.items()},
            "formats": {c: dict(f) for c, f in self.formats.items()},
            "recognised": dict(self.recognised),
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
                formats=data.get("formats"),
                recognised=data.get("recognised"),
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

    def __setstate__(self, state):
        state = dict(state)
        layouts = state.pop("date_formats", None) or {}  # a schema pickled before formats
        self.__dict__.update(state)
        if "formats" not in state:
            self.formats = {c: date_format(layout) for c, layout in layouts.items()}
            for name in self.features:
                if self.roles[name] == NUMERIC:
                    self.formats[name] = dict(PLAIN)
            self.recognised = {}

    def __repr__(self):
        n_cat = int(self.categorical_mask.sum())
        return f"FeatureSchema({self.n_features} features, {n_cat} categorical)"


def _has_column(table, name) -> bool:
    try:
        return name in table
    except TypeError:
        return False


def _as_object(values) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=object)
    return np.asarray(values, dtype=object)


def _numeric_array(values) -> bool:
    """Whether a column's values are a NumPy (or pandas) array of numbers or booleans."""
    kind = getattr(getattr(values, "dtype", None), "kind", None)
    return kind in ("f", "i", "u", "b") and not hasattr(values, "cat")


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
