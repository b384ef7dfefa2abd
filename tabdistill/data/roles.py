"""What each column is, inferred at fit: numbers, categories or dates, and how they are written.

:func:`infer_role` decides a column's role from its dtype and values (see
:class:`~tabdistill.data.encoder.TabularEncoder` for the rules);
:class:`SchemaPlan` gathers the roles, levels, formats and what was recognised
into the :class:`~tabdistill_runtime.schema.FeatureSchema`.
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_timedelta64_dtype,
)

from tabdistill_runtime.columns import one_value_each
from tabdistill_runtime.dates import (
    ISO,
    PARTS,
    UNIX_SECONDS,
    date_format,
    detect_format,
    encode_dates,
    zone_of,
)
from tabdistill_runtime.schema import (
    CATEGORICAL,
    DATE,
    FREQUENCY,
    NUMERIC,
    FeatureSchema,
    level_key,
)
from tabdistill_runtime.value_issues import ValueIssues

from .detect import read_numbers, unix_layout

logger = logging.getLogger(__name__)

_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)
# the name pandas gives a written row index (``to_csv`` with its default ``index=True``, read back)
_INDEX_NAME = re.compile(r"^(Unnamed: \d+|index)$")
_ZONE_SAMPLE = 2_000
_CONSTANT_ROWS = 20  # fewer rows are too few to call a column constant
_LAYOUT_WORDS = {ISO: "ISO 8601", UNIX_SECONDS: "Unix seconds", "unix_ms": "Unix milliseconds"}


def factorized(series: pd.Series):
    """``codes, uniques`` of a column (a categorical dtype's own codes and categories)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories
    return pd.factorize(series)


def _id_like_numbers(
    name: str, values: np.ndarray, counts: np.ndarray | None, n: int
) -> str | None:
    """Why an integer column whose values are all distinct is an id (its name), or None."""
    if _INDEX_NAME.match(name):
        why = "a row index written with the file (an unnamed integer column, every value distinct)"
    elif _ID_NAME.search(name):
        why = "ID-like (an integer column named like an id, every value distinct)"
    else:
        return None
    distinct = len(values) == n if counts is None else bool(np.all(counts == 1))
    return why if n >= 20 and distinct and np.all(np.mod(values, 1) == 0) else None


def _uninformative(series: pd.Series) -> str | None:
    """Why a column holds nothing to learn from (missing in every row, or one value in
    every row of at least ``_CONSTANT_ROWS``), or None. A single value beside missing
    rows is kept: missingness may carry the signal."""
    if len(series) < _CONSTANT_ROWS:
        return "empty (missing in every training row)" if series.isna().all() else None
    if is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).all():
            return "empty (missing in every training row)"
        if np.isfinite(values).all() and values.min() == values.max():  # inf: refused later
            return f"constant (the value {values[0]:g} in every training row)"
        return None
    present = series.dropna()
    if present.empty:
        return "empty (missing in every training row)"
    if len(present) == len(series) and present.nunique() == 1:
        return f"constant (the value {str(present.iloc[0])!r} in every training row)"
    return None


def infer_role(name, series, *, forced=(), dropped=(), parse_dates=True, drop_id_like=True):
    """``(role, info)`` of a column: ``(None, why dropped)``, ``("categorical", None)``,
    ``("date", date format)`` or ``("numeric", Reading or None)`` (a Reading when the
    numbers were written as text, see :func:`tabdistill.data.detect.read_numbers`).

    Raises ``TypeError`` when pandas cannot count the values (lists, dicts).
    """
    if name in dropped:
        return None, "dropped by user"
    empty_or_constant = _uninformative(series)
    if empty_or_constant is not None:
        return None, empty_or_constant
    if name in forced:
        return CATEGORICAL, None
    dtype = series.dtype
    if is_datetime64_any_dtype(dtype) and parse_dates:
        return DATE, date_format(ISO, "naive" if series.dt.tz is None else "aware")
    if is_datetime64_any_dtype(dtype) or is_timedelta64_dtype(dtype):
        return None, "datetime columns are not supported; derive numeric features from it"
    if is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL, None
    reading = None
    if not is_numeric_dtype(dtype):
        distinct = series.dropna().unique()
        if parse_dates:
            layout = detect_format(distinct)
            if layout is not None:
                return DATE, date_format(layout, zone_of(distinct[:_ZONE_SAMPLE], layout))
        reading = read_numbers(series)
        if reading is None:
            n = series.notna().sum()
            if drop_id_like and n >= 20 and len(distinct) > 0.9 * n:
                return None, "ID-like (more than 90% of its values are distinct)"
            return CATEGORICAL, None
        values, counts, n = reading.numbers, reading.counts, reading.rows - reading.stray_rows
    else:
        values = series.dropna().unique().astype(np.float64)
        counts, n = None, int(series.notna().sum())
    values = values[~np.isnan(values)]
    id_like = _id_like_numbers(name, values, counts, n) if drop_id_like else None
    if id_like is not None:
        return None, id_like
    layout = unix_layout(name, values) if parse_dates else None
    if layout is not None:
        return DATE, date_format(layout, "aware")
    return NUMERIC, reading


def parts_that_vary(series: pd.Series, layout: str) -> list[str]:
    """The date parts of ``series`` that vary (the timestamp always)."""
    uniques = list(factorized(series)[1])
    values = encode_dates(uniques, layout, PARTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN parts
        spread = np.nanmax(values, axis=0) - np.nanmin(values, axis=0) if uniques else None
    return [p for j, p in enumerate(PARTS) if p == "timestamp" or (uniques and spread[j] > 0)]


def level_counts(name: str, series: pd.Series) -> dict:
    """``level key -> rows`` of a categorical column's non-missing values.

    Raises ``DataError`` for cells holding several values (``TypeError`` when
    pandas cannot even count them).
    """
    table = series.value_counts(dropna=True)
    if table.index.dtype == object:
        one_value_each(name, table.index)
    counts: dict = {}
    for value, n in table.items():
        if n > 0:
            key = level_key(value)
            counts[key] = counts.get(key, 0) + int(n)
    return counts


def frequent_levels(counts: dict, max_levels: int) -> list:
    """The ``max_levels`` most frequent levels seen at least twice (ties: by key)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, n in ranked[:max_levels] if n >= 2]


class SchemaPlan:
    """The parts of a :class:`FeatureSchema` as fit decides them, column by column."""

    def __init__(self, names_in):
        self.names_in = list(names_in)
        self.features, self.roles, self.categories, self.dropped = [], {}, {}, {}
        self.derived, self.frequencies, self.formats, self.recognised = {}, {}, {}, {}
        self.taken = set(self.names_in)

    def _new_name(self, wanted: str) -> str:
        name = wanted
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def _add(self, feature, role, source=None, part=None):
        self.features.append(feature)
        self.roles[feature] = role
        if source is not None:
            self.derived[feature] = (source, part)

    def drop(self, name, why):
        self.dropped[name] = why
        if why != "dropped by user":
            warnings.warn(f"dropping column '{name}': {why}", UserWarning, stacklevel=4)

    def numeric(self, name, reading):
        self._add(name, NUMERIC)
        if reading is not None:
            self.formats[name] = reading.spec
            marks = ", ".join(reading.recognised)
            self.recognised[name] = "numbers written as text" + (f" ({marks})" if marks else "")

    def date(self, name, series, spec):
        self.formats[name] = spec
        for part in parts_that_vary(series, spec["layout"]):
            self._add(self._new_name(f"{name}.{part}"), DATE, name, part)
        if not is_datetime64_any_dtype(series.dtype):
            layout = _LAYOUT_WORDS.get(spec["layout"], repr(spec["layout"]))
            zone = {"aware": ", with time zones (read in UTC)", "any": ", some with time zones"}
            self.recognised[name] = f"dates written as text: {layout}{zone.get(spec['tz'], '')}"
            if spec["layout"] in ("unix_s", "unix_ms"):
                self.recognised[name] = f"dates written as {layout}"

    def categorical(self, name, series, max_levels):
        counts = level_counts(name, series)
        levels = list(counts)
        if len(counts) > max_levels:
            levels = frequent_levels(counts, max_levels)
            logger.info(
                "column '%s': %d levels, keeping %d and a frequency feature",
                name,
                len(counts),
                len(levels),
            )
        if levels:
            self._add(name, CATEGORICAL)
            self.categories[name] = np.array(sorted(levels), dtype=object)
        if len(counts) > max_levels:
            feature = self._new_name(f"{name}.frequency")
            total = sum(counts.values())
            self._add(feature, FREQUENCY, name, "frequency")
            self.frequencies[feature] = {k: n / total for k, n in counts.items()}

    def note(self, issues: ValueIssues) -> None:
        """Add what could not be read at fit to what was recognised."""
        for column, line in issues.lines().items():
            said = [self.recognised[column]] if column in self.recognised else []
            self.recognised[column] = "; ".join([*said, line.split(": ", 1)[-1]])

    def log(self) -> None:
        """A line per column whose values were recognised, and per dropped column."""
        for column, text in self.recognised.items():
            logger.info("column '%s': %s", column, text)

    def schema(self, **ranges) -> FeatureSchema:
        return FeatureSchema(
            self.features,
            self.roles,
            self.categories,
            self.names_in,
            self.dropped,
            derived=self.derived,
            frequencies=self.frequencies,
            formats=self.formats,
            recognised=self.recognised,
            **ranges,
        )
