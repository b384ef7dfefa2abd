"""One record ``{"column": value}`` encoded as the batch path encodes a row: the hot path.

:func:`encode_record` is what ``CompiledModel.score_record`` spends its time
in before the trees. It agrees with the batch path value for value (numbers
written as text, strays, unseen levels, dates, time zones) and refuses what
the batch path refuses: a record without a column the model needs is a
:class:`~tabdistill.exceptions.SchemaError` unless ``allow_missing``.

Two readers do it. :func:`read_record` is the rule, in Python: plain dict
lookups over a plan built once per schema. The compiled reader
(``_records.c``, built with the runtime's kernels; :func:`compiled_reader`)
reads the records that need no warning and no error -- numbers, text in the
column's number format, levels, dates in the column's layout, Unix times --
to the same bits, and hands every other record to :func:`read_record`
(a stray, an unseen key, a time-zone mismatch, an absent column, a value of
another type): what it returns is what Python computes, and what it does
not read, Python reads and reports.

NumPy and the standard library only.
"""

from __future__ import annotations

import warnings

import numpy as np

from .columns import CONTAINERS, is_missing
from .dates import (
    ISO,
    PARTS,
    UNIX_MILLISECONDS,
    UNIX_SECONDS,
    absent,
    date_parts,
    naive_utc,
    read_date,
)
from .exceptions import DataError, FeatureTypeError, SchemaError
from .levels import level_key
from .number_formats import PLAIN, parse_number
from .value_issues import ValueIssues

try:
    from . import _records
except ImportError:  # built at install time; absent where no C compiler was found
    _records = None

_NUMBER = (int, float, np.integer, np.floating)  # bool is an int: True -> 1.0
_ABSENT = object()
_NAN = float("nan")
_LAYOUTS = {ISO: 0, UNIX_SECONDS: 1, UNIX_MILLISECONDS: 2}  # _rawvalues.h; else a pattern (3)
_ZONES = {"naive": 0, "aware": 1, "any": 2}


def record_plan(schema) -> tuple:
    """``(simple, dates, known keys, (lower, upper), width)``: what :func:`encode_record`
    loops over.

    ``simple`` holds ``(position, column, levels or None, unseen, first, number format)``
    per non-date feature (``first``: the column's first feature, so each
    column is counted once); ``dates`` ``(column, layout, tz, positions, part indices)``.
    """
    seen = set()
    simple = []
    for j, name in enumerate(schema.features):
        if schema.roles[name] == "date":
            continue
        column = schema.source(name)
        numeric = schema.roles[name] == "numeric"
        levels = None if numeric else schema.lookup(name)
        spec = schema.formats[column] if numeric else None
        simple.append((j, column, levels, schema.unseen(name), column not in seen, spec))
        seen.add(column)
    dates = [
        (
            name,
            schema.formats[name]["layout"],
            schema.formats[name]["tz"],
            np.array(js),
            np.array([PARTS.index(p) for p in parts]),
        )
        for name, _, js, parts in schema.date_groups()
    ]
    infinite = (schema.lower, schema.upper)  # what -inf and +inf become
    return simple, dates, frozenset(schema.feature_names_in), infinite, schema.n_features


def _number(name, value, spec, notes):
    """A numeric column's value that is not a Python/NumPy number: text, a bool, or wrong.
    A stray is NaN and noted in ``notes``."""
    if isinstance(value, str):
        number = parse_number(value, spec)
        if number is None:
            notes.append(("stray", name, "number", value))
            return _NAN
        return number
    if isinstance(value, np.bool_):
        return float(value)
    raise FeatureTypeError(
        f"feature '{name}' expects a number, got {type(value).__name__} {value!r}."
    )


def _category(name, value, levels, unseen):
    """A categorical value's code when the direct lookup missed: missing, by key, or unseen."""
    if is_missing(value):
        return _NAN
    if isinstance(value, CONTAINERS):
        raise FeatureTypeError(f"feature '{name}' expects a category, got {type(value).__name__}.")
    return levels.get(level_key(value), unseen)


def compiled_reader(schema):
    """The compiled reader of ``schema``'s records, or None without the compiled kernels.

    ``reader(record, allow_missing)`` is the encoded row, or None where
    :func:`read_record` must read the record; ``reader.many(records, out,
    allow_missing)`` encodes a list of records into the rows of ``out`` and
    returns the indices of those left to :func:`read_record`.
    """
    if _records is None:
        return None
    simple, dates, _, (lower, upper), width = record_plan(schema)
    columns = tuple(schema.feature_names_in)
    place = {c: k for k, c in enumerate(columns)}
    spec = []
    for j, name, levels, unseen, first, number in simple:
        number = number or PLAIN
        spec.append(
            (j, place[name], name, levels, float(unseen), first, float(lower[j]), float(upper[j]))
            + tuple(number[k] for k in ("currency", "thousands", "decimal", "percent", "parens"))
        )
    days = []
    for name, layout, tz, js, cols in dates:
        code = _LAYOUTS.get(layout, 3)
        pattern = layout.encode("ascii") if code == 3 else b""
        days.append(
            (place[name], name, code, pattern, _ZONES[tz], tuple(js.tolist()), tuple(cols.tolist()))
        )
    read = {name for _, name, *_ in simple} | {name for name, *_ in dates}
    dropped = tuple(c for c in columns if c not in read)
    return _records.Reader(width, tuple(spec), tuple(days), columns, dropped, _category, np.empty)


def schema_reader(schema):
    """The schema's compiled reader, built on first use (None without the compiled kernels)."""
    reader = schema.__dict__.get("_reader", _ABSENT)
    if reader is _ABSENT:
        reader = schema.__dict__.setdefault("_reader", compiled_reader(schema))
    return reader


def encode_record(schema, record: dict, strict: bool = False, allow_missing: bool = False):
    """Encode one record; see :meth:`FeatureSchema.encode_record`."""
    reader = schema.__dict__.get("_reader", _ABSENT)
    if reader is _ABSENT:
        reader = schema_reader(schema)
    if reader is not None:
        row = reader(record, allow_missing)
        if row is not None:
            return row
    return read_record(schema, record, strict, allow_missing)


def encode_records(schema, records, strict: bool = False, allow_missing: bool = False):
    """Encode a sequence of records into rows; see :meth:`FeatureSchema.encode_records`."""
    records = records if type(records) is list else list(records)
    out = np.empty((len(records), schema.n_features), dtype=np.float64)
    reader = schema_reader(schema)
    left = range(len(records)) if reader is None else reader.many(records, out, allow_missing)
    for i in left:  # in order: the first record Python refuses is the error raised
        out[i] = read_record(schema, records[i], strict, allow_missing)
    return out


def read_record(schema, record: dict, strict: bool = False, allow_missing: bool = False):
    """Encode one record in Python (the rule the compiled reader follows); warnings included."""
    plan = schema.__dict__.get("_plan") or schema.__dict__.setdefault("_plan", record_plan(schema))
    simple, dates, known, infinite, width = plan
    nan, ab, number = _NAN, _ABSENT, _NUMBER  # locals: this loop is the hot path
    row = np.empty(width, dtype=np.float64)
    found, missing, notes = 0, [], []  # notes: strays and time zones, said once at the end
    try:
        for j, name, levels, unseen, first, spec in simple:
            value = record.get(name, ab)
            if value is ab:
                row[j] = nan
                if first and not allow_missing:
                    missing.append(name)
                continue
            found += first
            if value is None:
                row[j] = nan
            elif levels is None:
                if type(value) is not float and not isinstance(value, number):
                    value = _number(name, value, spec, notes)
                if value - value == 0:  # finite
                    row[j] = value
                else:  # NaN stays NaN; +/-inf is the fitted extreme
                    row[j] = value if value != value else infinite[value > 0][j]
            else:
                try:
                    code = levels.get(value)
                except TypeError:  # unhashable: a list, a dict
                    raise FeatureTypeError(
                        f"feature '{name}' expects a category, got {type(value).__name__}."
                    ) from None
                row[j] = _category(name, value, levels, unseen) if code is None else code
    except OverflowError:
        raise DataError(
            f"feature '{name}' got an integer beyond the float64 range (about 1.8e308): "
            "send a number a float64 can hold."
        ) from None
    for name, layout, tz, js, cols in dates:
        value = record.get(name, ab)
        if value is ab:
            if not allow_missing:
                missing.append(name)
            value = None
        else:
            found += 1
        d = read_date(value, layout)
        if d is None:
            if not absent(value):
                notes.append(("stray", name, "date", value))
        elif d.tzinfo is not None or tz == "aware":
            if tz != "any" and (d.tzinfo is not None) != (tz == "aware"):
                notes.append(("zone", name, tz, value))
            d = naive_utc(d)
        row[js] = np.asarray(date_parts(d))[cols]
    if missing:
        unknown = [k for k in record if k not in known]
        raise SchemaError(
            f"the record lacks {len(missing)} column(s) the model was fitted on: {missing[:10]}"
            + (f" (and has unknown key(s) {unknown[:10]}: misspelt?)" if unknown else "")
            + ". Send them (None for an unknown value), or pass allow_missing=True to read "
            "absent keys as missing."
        )
    if found < len(record):
        _check_keys(schema, record, known, strict)
    if notes:
        _say(notes, strict)
    return row


def _say(notes, strict):
    """Warn (or raise, when ``strict``) about a record's strays and time-zone mismatches."""
    issues = ValueIssues()
    for what, name, detail, value in notes:
        if what == "stray":
            issues.stray_value(name, detail, value)
        else:
            issues.time_zone(name, 1, 1, value, detail)
    issues.emit(strict, stacklevel=6)


def _check_keys(schema, record, known, strict):
    unknown = [k for k in record if k not in known]
    if not unknown:
        return  # only columns dropped at fit (an id, say)
    message = (
        f"record key(s) {unknown[:10]} are not features of this model "
        f"(misspelt? features: {schema.features[:20]})"
    )
    if strict:
        raise SchemaError(message + ".")
    warnings.warn(message + "; they are ignored.", UserWarning, stacklevel=5)
