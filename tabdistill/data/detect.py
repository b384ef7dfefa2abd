"""How a text column's values are written, decided at fit from the values themselves.

The encoder asks this module, column by column, whether text is really
numbers (``"$60,000.00"``, ``" 13.5% "``, ``"(1,234.50)"``, ``"1976"`` next to
a few ``"1976A"``) and whether whole numbers are really times (Unix seconds
in a column named like a time). The answer is a format for the feature schema
(:mod:`tabdistill_runtime.number_formats`, :mod:`tabdistill_runtime.dates`), what
was recognised (for the fit report), and the strays: values that do not fit
the format and will read as missing, counted and shown to the user.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tabdistill_runtime.number_formats import MISSING_TEXT, SPACE, number_format, parse_numbers

#: Share of a column's non-missing rows that must read as numbers for it to be numeric.
MIN_NUMBERS = 0.95

#: (thousands, decimal) pairs tried, in order of preference: the first that reads most wins.
SEPARATORS = (
    (",", "."),
    (".", ","),
    (" ", ","),
    ("\u00a0", ","),
    ("'", "."),
    (" ", "."),
)

_SAMPLE = 2_000  # distinct values tried per candidate format
_EXAMPLES = 5
_DIGIT = re.compile(r"[0-9]")
_UNIX_NAME = re.compile(
    r"(time|date|timestamp|epoch|created|updated|modified|(^|_)ts$|_at$)", re.IGNORECASE
)
#: Unix times between 1980-01-01 and 2100-01-01, in seconds and in milliseconds.
UNIX_RANGES = {"unix_s": (315_532_800, 4_102_444_800), "unix_ms": (315_532_800e3, 4_102_444_800e3)}


@dataclass
class Reading:
    """What a column's values were read as at fit.

    Attributes
    ----------
    spec : dict
        The column's number format (see :mod:`tabdistill_runtime.number_formats`).
    recognised : list of str
        What the text held besides plain digits, for the fit report
        (``["currency '$'", "thousands separator ','"]``); empty for plain numbers.
    rows : int
        Non-missing rows.
    stray_rows : int
        Rows whose value does not read as a number (they become missing).
    strays : list
        Up to five of those values, most frequent first.
    numbers, counts : ndarray
        The column's distinct values as numbers (NaN for strays) and their rows.
    """

    spec: dict
    recognised: list = field(default_factory=list)
    rows: int = 0
    stray_rows: int = 0
    strays: list = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.empty(0))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def distinct_counts(series: pd.Series) -> tuple[list, np.ndarray]:
    """A column's distinct non-missing values and their row counts, most frequent first.

    Raises ``TypeError`` for unhashable values (lists, dicts): callers name the column.
    """
    counts = series.value_counts(dropna=True)
    return list(counts.index), counts.to_numpy(dtype=np.int64)


def _flags(texts: pd.Series) -> dict:
    """Which marks the text values use: a currency symbol, percent signs, accounting parentheses.

    The currency is the symbol (a character of Unicode category Sc) that most
    values start or end with, after signs and parentheses.
    """
    stripped = texts.str.strip(SPACE)
    core = stripped.str.strip(SPACE + "()+-%")
    ends = pd.concat([core.str[:1], core.str[-1:]]).value_counts()
    symbols = [s for s in ends.index if len(s) == 1 and unicodedata.category(s) == "Sc"]
    return {
        "currency": symbols[0] if symbols else "",
        "percent": bool(stripped.str.endswith("%").any()),
        "parens": bool((stripped.str.startswith("(") & stripped.str.endswith(")")).any()),
    }


def _rows_read(values, counts, spec) -> tuple[int, np.ndarray]:
    """Rows whose value reads as a number under ``spec``, and the stray mask of ``values``."""
    numbers, stray = parse_numbers(values, spec)
    return int(counts[~stray & ~np.isnan(numbers)].sum()), stray


def _best_format(values, counts, flags) -> tuple[dict, float]:
    """The format of :data:`SEPARATORS` (with ``flags``) that reads the most rows of a sample
    (the most frequent distinct values), and the share of the sample's rows it reads."""
    values, counts = values[:_SAMPLE], counts[:_SAMPLE]
    present = ~np.array([missing_text(v) for v in values], dtype=bool)
    total = int(counts[present].sum())
    best, best_rows = None, -1
    for thousands, decimal in SEPARATORS:
        spec = number_format(thousands=thousands, decimal=decimal, **flags)
        rows, _ = _rows_read(values, counts, spec)
        if rows > best_rows:
            best, best_rows = spec, rows
    return best, best_rows / max(total, 1)


def _recognised(texts: pd.Series, spec) -> list[str]:
    """What the column's text holds besides plain digits, in words."""
    found = []
    if spec["currency"]:
        found.append(f"currency {spec['currency']!r}")
    grouped = rf"[0-9]{re.escape(spec['thousands'])}[0-9]{{3}}"
    if texts.str.contains(grouped, regex=True).any():
        found.append(f"thousands separator {spec['thousands']!r}")
    if spec["decimal"] != ".":
        found.append(f"decimal comma {spec['decimal']!r}")
    if spec["percent"]:
        found.append("percent sign")
    if spec["parens"]:
        found.append("accounting negatives (1.5)")
    if (texts != texts.str.strip(SPACE)).any():
        found.append("surrounding spaces")
    return found


def read_numbers(series: pd.Series) -> Reading | None:
    """How ``series`` (text, or numbers mixed with text) reads as numbers, or None if it doesn't.

    The column is numeric when at least :data:`MIN_NUMBERS` of its non-missing
    rows read as numbers in one format; the others are strays. Texts in
    :data:`~tabdistill_runtime.number_formats.MISSING_TEXT` are missing, not
    strays. Values with a leading zero (``"007"``) or of 16 digits or more
    are codes, not numbers.
    """
    values, counts = distinct_counts(series)
    texts = pd.Series([v for v in values if isinstance(v, str)], dtype=object)
    if texts.empty:
        return None
    if len(texts) == len(values) and not texts[:_SAMPLE].str.contains(_DIGIT).any():
        return None
    values = np.array(values, dtype=object)
    spec, share = _best_format(values, counts, _flags(texts))
    if share < MIN_NUMBERS:
        return None
    numbers, stray = parse_numbers(values, spec)
    missing = ~stray & np.isnan(numbers)
    rows = int(counts[~missing].sum())
    stray_rows = int(counts[stray].sum())
    if rows == 0 or rows - stray_rows < MIN_NUMBERS * rows:
        return None
    return Reading(
        spec=spec,
        recognised=_recognised(texts, spec),
        rows=rows,
        stray_rows=stray_rows,
        strays=[values[i] for i in np.flatnonzero(stray)[:_EXAMPLES]],
        numbers=numbers,
        counts=counts,
    )


def unix_layout(name: str, values: np.ndarray) -> str | None:
    """``"unix_s"`` or ``"unix_ms"`` when a numeric column holds Unix times, else None.

    Decided from the name (it reads like a time: ``created_at``, ``event_time``,
    ``ts``, ...) and the values: whole numbers, all between 1980 and 2100 in
    that unit, and more than one distinct value.
    """
    if not _UNIX_NAME.search(name):
        return None
    values = values[~np.isnan(values)]
    if len(values) < 2 or np.ptp(values) == 0 or np.any(np.mod(values, 1) != 0):
        return None
    for layout, (low, high) in UNIX_RANGES.items():
        if values.min() >= low and values.max() < high:
            return layout
    return None


def missing_text(value) -> bool:
    """Whether ``value`` is text that means missing (``"NA"``, ``""``, ...)."""
    return isinstance(value, str) and value.strip(SPACE) in MISSING_TEXT
