"""Numbers written as text (``"$60,000.00"``, ``"13.5%"``, ``"(1,234.50)"``), read with one format.

A column's number format is decided at fit from its values (by
:mod:`tabdistill.data.detect`) and stored in the feature schema; scoring reads
every text value of that column with it, on the batch and the record path
alike, through :func:`parse_number`. A format is a plain dict::

    {"format": "number", "currency": "$", "thousands": ",", "decimal": ".",
     "percent": False, "parens": True}

How a text value is read (the whole rule, so that another implementation
agrees value for value). After surrounding whitespace (:data:`SPACE`) is
removed, a text in :data:`MISSING_TEXT` (``""``, ``"NA"``, ``"null"``, ...) is
missing. Otherwise the text must be, with any whitespace between the parts::

    [(] [sign] [currency] [sign] [(] number [%] [currency] [)]

1. ``sign`` is ``-`` or ``+``, at most one; ``currency`` is the format's
   ``currency`` text (when not empty), at most once, before or after the number.
2. ``(`` and ``)`` come together, at most one pair, only when ``parens`` is
   true, never with a sign: ``(1,234.50)`` is -1234.5. ``%`` only when
   ``percent`` is true; the value stays in percent points (``"13.5%"`` is 13.5,
   as ``"13.5"`` is).
3. ``number`` is ``inf`` or ``infinity`` (any case), or an integer part --
   ``0``, or up to 15 digits not starting with 0, or (when ``thousands`` is
   set) 1-3 digits not starting with 0 followed by groups of ``thousands`` and
   3 digits -- then optionally ``decimal`` and digits, then optionally an
   exponent (``e`` or ``E``, an optional sign, digits). A fraction alone
   (``.5``) is a number too.
4. The value is that number with the thousands separators removed and the
   decimal mark read as a point, negated for ``-`` or parentheses.

Anything else is a *stray*: text that is not a number in this format
(``"abc"``, ``"1976A"``, ``"007"`` -- a leading zero makes a code, not a
number). Strays are read as missing and reported by the caller.

NumPy and the standard library only: the compiled runtime reads records with it.
"""

from __future__ import annotations

import re

import numpy as np

from .exceptions import SchemaError

NUMBER = "number"

#: Characters stripped around a value (ASCII whitespace and the no-break space).
SPACE = " \t\r\n\v\f\u00a0"

#: Texts that mean "no value" (compared after stripping, case-sensitive).
MISSING_TEXT = frozenset(
    ["", "NA", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "Null", "None", "none", "-"]
)

#: Thousands separators a format may have ("" for none) and the decimal marks.
THOUSANDS = ("", ",", ".", " ", "'", "\u00a0")
DECIMALS = (".", ",")

#: The format of a column that arrived as numbers: text sent at predict is read with it.
PLAIN = {
    "format": NUMBER,
    "currency": "",
    "thousands": ",",
    "decimal": ".",
    "percent": False,
    "parens": False,
}

_MAX_DIGITS = 15  # an integer part of 16+ digits is a code (a card number), as in level_key
_INFINITY = frozenset(["inf", "infinity"])
_PATTERNS: dict = {}


def number_format(currency="", thousands=",", decimal=".", percent=False, parens=False) -> dict:
    """A number format (checked): see the module docstring for what each part means."""
    return check_number_format(
        {
            "format": NUMBER,
            "currency": currency,
            "thousands": thousands,
            "decimal": decimal,
            "percent": bool(percent),
            "parens": bool(parens),
        }
    )


def check_number_format(spec) -> dict:
    """``spec`` if it is a valid number format, else :class:`SchemaError` naming the fault."""
    if not isinstance(spec, dict) or spec.get("format") != NUMBER:
        raise SchemaError(f"not a number format: {spec!r}")
    if set(spec) != set(PLAIN):
        raise SchemaError(f"number format keys must be {sorted(PLAIN)}, got {sorted(spec)}")
    currency = spec["currency"]
    if (
        not isinstance(currency, str)
        or len(currency) > 5
        or any(c in "0123456789" for c in currency)
    ):
        raise SchemaError(
            f"number format currency must be a short non-digit text, got {currency!r}"
        )
    if currency.strip(SPACE + "()+-%.,'") != currency:
        raise SchemaError(f"number format currency {currency!r} must not start or end with a mark")
    if spec["thousands"] not in THOUSANDS or spec["decimal"] not in DECIMALS:
        raise SchemaError(
            f"number format separators must be thousands in {THOUSANDS} and decimal in "
            f"{DECIMALS}, got {spec['thousands']!r} and {spec['decimal']!r}"
        )
    if spec["thousands"] == spec["decimal"]:
        raise SchemaError(f"thousands and decimal separators are both {spec['decimal']!r}")
    if type(spec["percent"]) is not bool or type(spec["parens"]) is not bool:
        raise SchemaError("number format percent and parens must be true or false")
    return spec


def _pattern(spec: dict) -> re.Pattern:
    """The compiled form of the rule above for ``spec`` (cached)."""
    key = (spec["currency"], spec["thousands"], spec["decimal"])
    if key not in _PATTERNS:
        currency, thousands, decimal = (re.escape(part) for part in key)
        integer = rf"0|[1-9][0-9]{{0,{_MAX_DIGITS - 1}}}"
        if thousands:
            integer += rf"|[1-9][0-9]{{0,2}}(?:{thousands}[0-9]{{3}})+"
        number = (
            rf"(?:(?:{integer})(?:{decimal}[0-9]*)?|{decimal}[0-9]+)(?:[eE][+-]?[0-9]+)?"
            r"|(?i:inf|infinity)"
        )
        cur = rf"(?:{currency})" if currency else "(?!)"  # (?!) never matches
        s = f"[{re.escape(SPACE)}]*"
        _PATTERNS[key] = re.compile(
            rf"(?P<open>\()?{s}(?P<sign>[-+])?{s}(?P<cur>{cur})?{s}(?P<sign2>[-+])?{s}"
            rf"(?P<open2>\()?{s}(?P<number>{number}){s}(?P<pct>%)?{s}(?P<cur2>{cur})?{s}"
            rf"(?P<close>\))?"
        )
    return _PATTERNS[key]


def _signed(match: re.Match, spec: dict) -> float | None:
    """The value of a text ``match`` of :func:`_pattern`, or None if its marks do not agree."""
    parens = (match["open"] is not None) + (match["open2"] is not None)
    sign = match["sign"] or match["sign2"]
    if (
        parens > 1
        or (parens == 1) != (match["close"] is not None)
        or (parens and (not spec["parens"] or sign))
        or (match["sign"] and match["sign2"])
        or (match["pct"] and not spec["percent"])
        or (match["cur"] and match["cur2"])
    ):
        return None
    number = match["number"]
    if spec["thousands"]:
        number = number.replace(spec["thousands"], "")
    if spec["decimal"] != ".":
        number = number.replace(spec["decimal"], ".")
    value = float(number)
    return -value if parens or sign == "-" else value


def parse_number(text: str, spec: dict) -> float | None:
    """The number ``text`` stands for in format ``spec``; NaN if it means missing; None if a stray.

    ``text`` must be a ``str``; see the module docstring for the rule.
    """
    text = text.strip(SPACE)
    if text in MISSING_TEXT:
        return np.nan
    match = _pattern(spec).fullmatch(text)
    return None if match is None else _signed(match, spec)


def parse_numbers(values, spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (distinct values of a column) as float64, and which of them are strays.

    Numbers (``bool`` included) are taken as they are, ``None`` and NaN are
    missing, text is read with :func:`parse_number`; anything else (a date,
    an object) is a stray. Strays read as NaN.
    """
    out = np.empty(len(values), dtype=np.float64)
    stray = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        number = to_number(value, spec)
        if number is None:
            stray[i] = True
            number = np.nan
        out[i] = number
    return out, stray


def to_number(value, spec: dict) -> float | None:
    """One value as a float (NaN for missing), or None for a stray (see :func:`parse_numbers`).

    Raises ``OverflowError`` for an integer beyond the float64 range.
    """
    if value is None:
        return np.nan
    if isinstance(value, str):
        return parse_number(value, spec)
    if isinstance(value, int | float | np.integer | np.floating | np.bool_):
        return float(value)  # OverflowError for an int beyond float64 (10**400): callers say so
    return None
