"""One input column of a batch, encoded from its distinct values, and what could not be read.

The pandas encoder and the schema's NumPy path both factorize a column
(``codes``, ``uniques``), encode the distinct values here, gather them by
code, and report strays, unusable columns and time-zone mismatches through
:class:`~tabdistill_runtime.value_issues.ValueIssues`: the two paths cannot
disagree on a value or on a warning.

NumPy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dates import read_dates
from .exceptions import DataError
from .number_formats import parse_numbers
from .value_issues import ValueIssues, count_bad

NUMBER, CATEGORY, DATE = "number", "category", "date"
#: Values that hold several values: never a cell of a table.
CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray)


@dataclass
class Column:
    """How the schema reads one input column: its kind and its encoded features."""

    name: str
    kind: str  # NUMBER, CATEGORY or DATE
    positions: list  # encoded columns it fills
    features: list  # their names
    parts: list  # date parts, for DATE


@dataclass
class Distinct:
    """A column's distinct values encoded: ``table[i]`` for ``uniques[i]``."""

    table: np.ndarray  # (k, len(positions))
    present: np.ndarray  # not missing
    usable: np.ndarray  # present and read (a number, a date, a level seen at fit)
    zone: np.ndarray | None = None  # dates whose time zone disagrees with fit


def is_missing(value) -> bool:
    """``None`` or a NaN of any float type."""
    return value is None or (isinstance(value, float | np.floating) and value != value)


def one_value_each(name: str, values) -> None:
    """:class:`DataError` if a cell of column ``name`` holds several values (a list, a dict)."""
    for value in values:
        if isinstance(value, CONTAINERS) or type(value).__name__ == "Series":
            text = repr(value)
            raise DataError(
                f"column '{name}' holds {type(value).__name__} values (e.g. "
                f"{text if len(text) <= 40 else text[:37] + '...'}): each cell must be one "
                "number, text, date or category. Expand it into one column per element, or "
                "drop it."
            )


def _numbers(schema, column: Column, uniques, clip: bool) -> Distinct:
    one_value_each(column.name, uniques)
    try:
        values, stray = parse_numbers(uniques, schema.formats[column.name])
    except OverflowError:
        raise DataError(
            f"column '{column.name}' holds an integer beyond the float64 range (about "
            "1.8e308): send numbers a float64 can hold."
        ) from None
    j = column.positions[0]
    if clip:
        values = schema.clip_infinite(j, values)
    present = stray | ~np.isnan(values)
    return Distinct(values[:, None], present, present & ~stray)


def _categories(schema, column: Column, uniques) -> Distinct:
    one_value_each(column.name, uniques)
    table = np.column_stack([schema.level_codes(f, uniques) for f in column.features])
    present = np.array([not is_missing(v) for v in uniques], dtype=bool)
    known = schema.known_levels(column.name, uniques)
    return Distinct(table, present, present & known)


def _dates(schema, column: Column, uniques) -> Distinct:
    spec = schema.formats[column.name]
    table, stray, zone = read_dates(uniques, spec["layout"], column.parts, spec["tz"])
    present = stray | ~np.isnan(table).all(axis=1)
    return Distinct(table, present, present & ~stray, zone)


def read_distinct(schema, column: Column, uniques, clip: bool = True) -> Distinct:
    """The distinct values ``uniques`` of ``column`` encoded, with what could not be read."""
    uniques = list(uniques)
    if column.kind == NUMBER:
        return _numbers(schema, column, uniques, clip)
    if column.kind == CATEGORY:
        return _categories(schema, column, uniques)
    return _dates(schema, column, uniques)


def gather(distinct: Distinct, codes: np.ndarray) -> np.ndarray:
    """Rows of the encoded column(s) from the codes (-1: missing, NaN)."""
    out = np.full((len(codes), distinct.table.shape[1]), np.nan)
    seen = codes >= 0
    if len(distinct.table):
        out[seen] = distinct.table[codes[seen]]
    return out


def check(issues: ValueIssues, schema, column: Column, uniques, distinct, codes) -> None:
    """Report what of ``column`` could not be read into ``issues``."""
    unread = distinct.present & ~distinct.usable
    zoned = distinct.zone is not None and distinct.zone.any()
    if not zoned and (not unread.any() or (column.kind == CATEGORY and distinct.usable.any())):
        return  # the common case: nothing to count
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct.present))
    rows, bad = count_bad(counts, distinct.present, distinct.usable)
    if bad:
        idx = np.flatnonzero(unread)
        idx = idx[np.argsort(-counts[idx], kind="stable")]
        strays = [uniques[int(i)] for i in idx[:5]]
        if column.kind == CATEGORY:
            if bad == rows:
                issues.unseen(column.name, rows, strays, len(idx), schema.levels_of(column.name))
        else:
            issues.strays(column.name, column.kind, bad, rows, strays)
    if zoned:
        n = int(counts[distinct.zone].sum())
        example = uniques[int(np.flatnonzero(distinct.zone)[0])]  # the first, not the most seen
        issues.time_zone(column.name, n, rows, example, schema.formats[column.name]["tz"])
