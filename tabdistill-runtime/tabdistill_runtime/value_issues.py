"""What could not be read as it was fitted, column by column: warned, or an error when strict.

Encoding a batch (the pandas encoder, the schema's NumPy path) or a record
collects what went wrong per input column in a :class:`ValueIssues`, then
:meth:`ValueIssues.emit` says it once: a :class:`~tabdistill.exceptions.DataWarning`
per column, or with ``strict`` one :class:`~tabdistill.exceptions.DataError`.
Three things are reported:

* *strays*: values of a numeric or date column that do not read in the
  column's format (``"abc"`` among numbers): read as missing;
* *unusable* columns: every value present is a stray, or (for a category) a
  level unseen at fit -- categories sent as integer codes, a boolean sent as
  ``"yes"``/``"no"``, dates in another layout: the whole column reads as missing;
* *time-zone* mismatches: zoned times sent to a column fitted on plain ones
  (converted to UTC), or the reverse (taken as UTC).

NumPy and the standard library only.
"""

from __future__ import annotations

import warnings

import numpy as np

from .exceptions import DataError, DataWarning

#: A categorical column counts as unusable only with this many values present, or two levels:
#: one unseen level in a small batch is ordinary.
MIN_UNSEEN_ROWS = 10
_EXAMPLES = 3


def _examples(values) -> str:
    shown = [repr(v) for v in list(values)[:_EXAMPLES]]
    return ", ".join(shown) + (", ..." if len(values) > _EXAMPLES else "")


def _of(bad: int, rows: int) -> str:
    return f"{bad:,} of {rows:,} value{'s' if rows != 1 else ''}"


class ValueIssues:
    """Problems found while reading a batch, one message per input column.

    Parameters
    ----------
    stage : {"fit", "predict"}
        At fit, strays are reported with how to keep the column as categories.
    """

    def __init__(self, stage: str = "predict"):
        self.stage = stage
        #: column -> [(what was found, what was done about it, how to fix it)]
        self.found: dict[str, list[tuple[str, str, str]]] = {}

    def __bool__(self):
        return bool(self.found)

    def add(self, column: str, what: str, done: str, fix: str = "") -> None:
        self.found.setdefault(column, []).append((what, done, fix))

    def strays(self, column: str, kind: str, bad: int, rows: int, examples) -> None:
        """``bad`` of ``rows`` present values of a ``kind`` column ("number", "date") are strays."""
        if bad == rows:
            self.unusable(column, rows, examples, f"none reads as a {kind} in the format of fit")
            return
        verb = "is" if bad == 1 else "are"
        fix = ""
        if self.stage == "fit" and kind == "number":
            fix = (
                f"To keep the column as categories instead, pass categorical_features=['{column}']"
            )
        self.add(
            column,
            f"column '{column}': {_of(bad, rows)} {verb} not a {kind} (e.g. {_examples(examples)})",
            "read as missing",
            fix,
        )

    def stray_value(self, column: str, kind: str, value) -> None:
        """One record's value of ``column`` is a stray."""
        self.add(
            column,
            f"column '{column}': {value!r} is not a {kind} in the format of fit",
            "read as missing",
        )

    def unusable(self, column: str, rows: int, examples, why: str) -> None:
        """No present value of ``column`` is usable: the model sees it as missing throughout."""
        self.add(
            column,
            f"column '{column}' is unusable: {why} (e.g. {_examples(examples)}; "
            f"{rows:,} value{'s' if rows != 1 else ''})",
            "the whole column reads as missing",
            "Send the values as they were at fit",
        )

    def unseen(self, column: str, rows: int, examples, n_levels: int, known) -> None:
        """Every present value of a categorical ``column`` (``n_levels`` distinct ones) is a
        level unseen at fit."""
        if rows >= MIN_UNSEEN_ROWS or n_levels >= 2:
            self.unusable(
                column,
                rows,
                examples,
                f"none of its levels was seen at fit (fit saw {_examples(known)})",
            )

    def time_zone(self, column: str, n: int, rows: int, example, fitted: str) -> None:
        """``n`` values of a date column disagree with the zone of fit ``fitted``."""
        what = f"column '{column}': {_of(n, rows)} (e.g. {example!r})"
        if fitted == "naive":
            self.add(
                column,
                f"{what} carry a time zone, but the column was fitted on times without one",
                "they were converted to UTC",
                "If the training times were local times, convert to that zone and drop it "
                "first (pandas: s.dt.tz_convert(zone).dt.tz_localize(None))",
            )
        else:
            self.add(
                column,
                f"{what} carry no time zone, but the column was fitted on zoned times",
                "they were taken as UTC",
                "Give them their zone (pandas: s.dt.tz_localize(zone))",
            )

    def lines(self, strict: bool = False) -> dict[str, str]:
        """``column -> one line`` saying what was found (and done, unless ``strict``)."""
        out = {}
        for column, found in self.found.items():
            parts = []
            for what, done, fix in found:
                text = what if strict else f"{what}; {done}"
                parts.append(f"{text}. {fix}" if fix else text)
            out[column] = "; ".join(parts)
        return out

    def emit(self, strict: bool = False, stacklevel: int = 3) -> None:
        """Warn once per column, or raise one :class:`DataError` when ``strict``."""
        if not self.found:
            return
        lines = self.lines(strict)
        if strict:
            raise DataError(" | ".join(lines.values()) + " (refused: strict=True).")
        for line in lines.values():
            warnings.warn(line + ".", DataWarning, stacklevel=stacklevel)


def count_bad(counts: np.ndarray, present: np.ndarray, usable: np.ndarray) -> tuple[int, int]:
    """Rows present and rows present but not usable, from per-distinct-value masks."""
    return int(counts[present].sum()), int(counts[present & ~usable].sum())
