"""Category levels compared by value: ``4``, ``4.0``, ``"4"`` and ``np.int64(4)`` are one level.

NumPy and the standard library only.
"""

from __future__ import annotations

import re

import numpy as np

#: Text that reads as a number: no exponent, no leading zeros (``"007"`` stays a code).
_NUMBER_TEXT = re.compile(r"[+-]?(0|[1-9][0-9]{0,14})(\.[0-9]+)?")
_BOOL_TEXT = {"True": "1", "False": "0", "true": "1", "false": "0"}


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


def number_of_key(key: str):
    """The number a canonical level key stands for, or None for text."""
    if _NUMBER_TEXT.fullmatch(key):
        return float(key)
    try:
        number = float(key)
    except ValueError:
        return None
    return number if np.isfinite(number) and repr(number) == key else None
