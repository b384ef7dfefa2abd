"""Date and time values as numeric features, with the standard library only.

A date column becomes a few numeric features (:data:`PARTS`): a monotone
timestamp (days since 1970-01-01, fractional), year, month, day of month, day
of week (Monday = 0), hour and minute. The encoder keeps the parts that vary
in the training data.

Text dates are parsed with one format decided at fit from the values
(:func:`detect_format`), never guessed per row: ISO 8601 (``2013-01-01``,
``2013-01-01T10:00:00Z``, ...) or one of :data:`FORMATS` (``1/1/13 22:33``,
``01/01/2004``, ``31.12.2020``, ...). Month-first wins when day-first parses
the values equally well. :func:`parse_date` is the one function that turns a
value into a ``datetime`` for both the pandas batch path and the record path
of the schema, so the two cannot disagree. Anything it cannot parse -- NaN,
``None``, text in another format, a number -- is missing, never an error.
Time zones are converted to UTC and dropped.

NumPy and the standard library only: the compiled runtime's record path uses it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np

#: The features a date column can become, in encoded order.
PARTS = ("timestamp", "year", "month", "day", "dayofweek", "hour", "minute")

ISO = "iso8601"

#: Non-ISO formats tried at fit, in order of preference (month-first before day-first).
FORMATS = tuple(
    f"{date}{time}"
    for date in ("%m/%d/%Y", "%m/%d/%y", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")
    for time in ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
)

#: A value has to start like a date (digits, a separator, digits, a separator) to be tried.
_LOOKS_LIKE_DATE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
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


def _naive_utc(d: datetime) -> datetime:
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc).replace(tzinfo=None)
    return d


def _parse_iso(text: str) -> datetime:
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read the Z suffix
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def parse_date(value, fmt: str) -> datetime | None:
    """``value`` as a naive UTC ``datetime``, or None when it is missing or does not parse.

    Parameters
    ----------
    value : str, datetime, numpy.datetime64 or anything else
        ``datetime`` objects (pandas ``Timestamp`` included) and ``datetime64``
        values are taken as they are; text is parsed with ``fmt``; anything
        else is missing.
    fmt : str
        :data:`ISO` or a ``strptime`` format, as :func:`detect_format` returns.
    """
    if _is_missing(value):
        return None
    try:
        if isinstance(value, datetime):
            return _naive_utc(value)
        if isinstance(value, np.datetime64):
            value = value.astype("datetime64[us]").item()
            return value if isinstance(value, datetime) else None
        if not isinstance(value, str):
            return None
        text = value.strip()
        return _naive_utc(_parse_iso(text) if fmt == ISO else datetime.strptime(text, fmt))
    except (ValueError, TypeError, OverflowError, OSError):
        return None


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
    cols = [PARTS.index(p) for p in parts]
    table = np.array([date_parts(parse_date(v, fmt)) for v in values], dtype=np.float64)
    return table.reshape(len(values), len(PARTS))[:, cols]


def detect_format(values) -> str | None:
    """The one format that parses the (distinct, non-missing) text ``values``, or None.

    Tries ISO 8601, then :data:`FORMATS`, on up to 500 values spread over the
    column; a format must parse at least :data:`MIN_PARSED` of them. The
    format that parses the most wins; the earlier one wins a tie (so
    ``01/02/2004`` reads as January 2 unless some value only parses day-first).
    """
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
