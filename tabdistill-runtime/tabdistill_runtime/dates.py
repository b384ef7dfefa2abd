"""Date and time values as numeric features, with the standard library only.

A date column becomes a few numeric features (:data:`PARTS`): a monotone
timestamp (days since 1970-01-01, fractional), year, month, day of month, day
of week (Monday = 0), hour and minute. The encoder keeps the parts that vary
in the training data.

A date column's format is decided at fit from its values, never guessed per
row, and stored in the feature schema as ``{"format": "date", "layout": ...,
"tz": ...}`` (:func:`date_format`):

``layout``
    :data:`ISO` (ISO 8601 as Python's ``datetime.fromisoformat`` reads it:
    ``2013-01-01``, ``2013-01-01 10:00``, ``1997-02-28T10:15:00Z``,
    ``...T10:15:00.250+05:30``); one of :data:`FORMATS`, a ``strptime``
    pattern using only ``%Y %y %m %d %b %H %M %S %I %p`` (``%b`` is an English
    month abbreviation, any case; ``%y`` 69-99 is 1969-1999 and 00-68 is
    2000-2068); or :data:`UNIX_SECONDS` / :data:`UNIX_MILLISECONDS` (a number,
    or its text, counted from 1970-01-01 UTC).
``tz``
    Whether the training values carried a time zone: ``"naive"`` (none did),
    ``"aware"`` (all did; Unix times are UTC) or ``"any"`` (both, or a schema
    saved before this was recorded). Zoned values are converted to UTC and the
    zone dropped. A zoned value sent to a ``"naive"`` column, or a plain one to
    an ``"aware"`` column (taken as UTC), is still read, and reported as a
    time-zone mismatch (:func:`zone_mismatch`).

:func:`parse_date` is the one function that turns a value into a ``datetime``
for the pandas batch path and the record path of the schema, so the two
cannot disagree. Anything it cannot parse -- text in another layout, a
number in a text layout -- is None; callers count such values as strays.

NumPy and the standard library only: the compiled runtime's record path uses it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import numpy as np

from .exceptions import SchemaError
from .number_formats import MISSING_TEXT, SPACE

#: The features a date column can become, in encoded order.
PARTS = ("timestamp", "year", "month", "day", "dayofweek", "hour", "minute")

ISO = "iso8601"
UNIX_SECONDS = "unix_s"
UNIX_MILLISECONDS = "unix_ms"
_UNIX = {UNIX_SECONDS: 1.0, UNIX_MILLISECONDS: 1e-3}  # seconds per unit
DATE = "date"
ZONES = ("naive", "aware", "any")

_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
#: Non-ISO layouts tried at fit, in order of preference (month-first before day-first).
FORMATS = tuple(
    f"{date}{time}"
    for date in (
        "%m/%d/%Y",
        "%m/%d/%y",
        "%d/%m/%Y",
        "%d/%m/%y",
        "%d.%m.%Y",
        "%d-%m-%Y",
        "%Y/%m/%d",
        "%d-%b-%y",  # 28-Feb-97
        "%d-%b-%Y",  # 28-Feb-1997
        "%d %b %Y",  # 28 Feb 1997
        "%b %d %Y",  # Feb 28 1997
        "%b %d, %Y",  # Feb 28, 1997
    )
    for time in _TIMES
) + ("%b-%Y", "%b-%y")  # Dec-2011, Dec-11: months

#: A value has to start like a date to be tried: digits, a separator, digits or a month name,
#: a separator; or a month name, a separator, digits.
_LOOKS_LIKE_DATE = re.compile(
    r"^\s*(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}[- ][A-Za-z]{3}[- ]\d|[A-Za-z]{3}[- ]\d)"
)
_EPOCH = datetime(1970, 1, 1)
_DAY_SECONDS = 86_400.0
#: Share of a column's distinct values that must parse for it to count as dates.
MIN_PARSED = 0.95
_SAMPLE = 500


def _is_missing(value) -> bool:
    try:
        return value is None or bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return False


def naive_utc(d: datetime) -> datetime:
    """``d`` as a naive UTC time: a zoned time converted to UTC, a plain one as it is."""
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc).replace(tzinfo=None)
    return d


def _parse_iso(text: str) -> datetime:
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read the Z suffix
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _from_unix(value, unit: float) -> datetime | None:
    """A number (or its text) of seconds/milliseconds since 1970 as an aware UTC datetime."""
    if isinstance(value, str):
        value = float(value.strip())
    elif isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return None
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=float(value) * unit)


def read_date(value, fmt: str) -> datetime | None:
    """``value`` as a ``datetime`` with its time zone, if it had one; None when it is
    missing or does not parse (see :func:`parse_date`)."""
    if _is_missing(value):
        return None
    try:
        if isinstance(value, datetime):
            return value
        if isinstance(value, np.datetime64):
            value = value.astype("datetime64[us]").item()
            return value if isinstance(value, datetime) else None
        if fmt in _UNIX:
            return _from_unix(value, _UNIX[fmt])
        if not isinstance(value, str):
            return None
        text = value.strip()
        return _parse_iso(text) if fmt == ISO else datetime.strptime(text, fmt)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


def parse_date(value, fmt: str) -> datetime | None:
    """``value`` as a naive UTC ``datetime``, or None when it is missing or does not parse.

    Parameters
    ----------
    value : str, number, datetime, numpy.datetime64 or anything else
        ``datetime`` objects (pandas ``Timestamp`` included) and ``datetime64``
        values are taken as they are; text is parsed with ``fmt``; numbers
        (and their text) are read as Unix times by the Unix layouts; anything
        else is None.
    fmt : str
        A layout: :data:`ISO`, a ``strptime`` pattern, or a Unix layout.
    """
    d = read_date(value, fmt)
    return None if d is None else naive_utc(d)


def date_format(layout: str, tz: str = "any") -> dict:
    """A date column's format for the feature schema (checked, see the module docstring)."""
    return check_date_format({"format": DATE, "layout": layout, "tz": tz})


def check_date_format(spec) -> dict:
    """``spec`` if it is a valid date format, else :class:`SchemaError` naming the fault."""
    if (
        not isinstance(spec, dict)
        or spec.get("format") != DATE
        or set(spec)
        != {
            "format",
            "layout",
            "tz",
        }
    ):
        raise SchemaError(f"not a date format: {spec!r}")
    if spec["layout"] not in (ISO, *_UNIX, *FORMATS):
        raise SchemaError(f"unknown date layout {spec['layout']!r}")
    if spec["tz"] not in ZONES:
        raise SchemaError(f"date format tz must be one of {ZONES}, got {spec['tz']!r}")
    return spec


def zone_of(values, fmt: str) -> str:
    """``"naive"``, ``"aware"`` or ``"any"``: whether the parsed ``values`` carry a time zone."""
    parsed = [read_date(v, fmt) for v in values]
    zoned = {d.tzinfo is not None for d in parsed if d is not None}
    return "any" if len(zoned) != 1 else ("aware" if zoned.pop() else "naive")


def zone_mismatch(d: datetime | None, tz: str) -> bool:
    """Whether a value read by :func:`read_date` disagrees with a column's ``tz``."""
    if d is None or tz == "any":
        return False
    return (d.tzinfo is not None) != (tz == "aware")


def date_parts(d: datetime | None) -> tuple:
    """The :data:`PARTS` of one parsed value, as floats (NaN for None)."""
    if d is None:
        return (np.nan,) * len(PARTS)
    days = (d - _EPOCH).total_seconds() / _DAY_SECONDS
    return (
        days,
        float(d.year),
        float(d.month),
        float(d.day),
        float(d.weekday()),
        float(d.hour),
        float(d.minute),
    )


def encode_dates(values, fmt: str, parts) -> np.ndarray:
    """The ``parts`` (names from :data:`PARTS`) of each value: shape ``(len(values), len(parts))``.

    Meant for a column's distinct values: callers factorize first.
    """
    return read_dates(values, fmt, parts)[0]


def read_dates(values, fmt: str, parts, tz: str = "any"):
    """:func:`encode_dates` of ``values``, which of them did not parse though present
    (strays), and which disagree with the column's time zone ``tz``."""
    cols = [PARTS.index(p) for p in parts]
    read = [read_date(v, fmt) for v in values]
    table = np.array(
        [date_parts(None if d is None else naive_utc(d)) for d in read], dtype=np.float64
    )
    stray = np.array([d is None and not absent(v) for d, v in zip(read, values)], dtype=bool)
    zone = np.array([zone_mismatch(d, tz) for d in read], dtype=bool)
    return table.reshape(len(values), len(PARTS))[:, cols], stray, zone


def absent(value) -> bool:
    """Whether ``value`` is missing: None, NaN, NaT or text of :data:`MISSING_TEXT`."""
    if isinstance(value, str):
        return value.strip(SPACE) in MISSING_TEXT
    return _is_missing(value)


def detect_format(values) -> str | None:
    """The one format that parses the (distinct, non-missing) text ``values``, or None.

    Tries ISO 8601, then :data:`FORMATS`, on up to 500 values spread over the
    column; a format must parse at least :data:`MIN_PARSED` of them. The
    format that parses the most wins; the earlier one wins a tie (so
    ``01/02/2004`` reads as January 2 unless some value only parses day-first).
    """
    values = [v for v in values if not absent(v)]
    text = [v for v in values if isinstance(v, str)]
    if not text or len(text) < len(values) * MIN_PARSED:
        return None
    if len(text) > _SAMPLE:
        text = [text[i] for i in np.linspace(0, len(text) - 1, _SAMPLE).astype(int)]
    if sum(bool(_LOOKS_LIKE_DATE.match(t)) for t in text) < MIN_PARSED * len(text):
        return None
    best, best_count = None, 0
    for fmt in (ISO, *FORMATS):
        count = sum(parse_date(t, fmt) is not None for t in text)
        if count > best_count:
            best, best_count = fmt, count
            if count == len(text):
                break
    return best if best_count >= MIN_PARSED * len(text) else None
