"""Reading tabular files and splitting off the target column."""

from __future__ import annotations

import lzma
import warnings
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from .._suggest import did_you_mean
from ..exceptions import ConfigError, DataError

#: How a separator may be named where a tab is hard to type (``--sep tab``, ``--sep '\t'``).
SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t"}


def csv_options(sep: str = ",", decimal: str = ".") -> dict:
    """The :func:`read_csv` options of a file's separator and decimal mark, checked.

    Parameters
    ----------
    sep : str, default ","
        One character (``"tab"``, or a backslash and ``t`` as typed in a shell, name the
        tab).
    decimal : str, default "."
        One character, other than ``sep``.

    Returns
    -------
    dict
        ``{"sep": ..., "decimal": ...}``.

    Raises
    ------
    ConfigError
        If either is not one character, or they are the same.
    """
    sep = SEPARATOR_NAMES.get(sep, sep)
    for name, value in (("sep", sep), ("decimal", decimal)):
        if not isinstance(value, str) or len(value) != 1 or value in '"\r\n':
            raise ConfigError(
                f"the {name} of a CSV file must be one character, such as "
                f"{';' if name == 'sep' else ','!r}; got {value!r}."
            )
    if sep == decimal:
        raise ConfigError(f"the sep and decimal of a CSV file must differ; both are {sep!r}.")
    return {"sep": sep, "decimal": decimal}


def read_csv(path, **kwargs) -> pd.DataFrame:
    """Read a CSV file (plain or gzip/bz2/zip/xz compressed) into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        The file. Compression is inferred from the extension.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        If the file does not exist, is empty, or cannot be parsed as CSV.
    """
    path = Path(path)
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    header_names(path, sep=sep)  # exists, readable, one name per column
    frame = _parse(path, **kwargs)
    if frame.shape[0] == 0:
        raise DataError(f"data file '{path}' has a header but no data rows.")
    return frame


#: What reading a damaged, truncated or foreign file may raise (a corrupt gzip stream raises
#: ``zlib.error`` mid-file; ``OSError`` covers a bad gzip header, ``EOFError`` a truncated one).
READ_ERRORS = (
    pd.errors.ParserError,
    UnicodeDecodeError,
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
)


def _parse(path, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` with every parsing failure as one clear ``DataError``.

    pandas' "mixed types" warning is silenced: a column of numbers with a few
    text values is the encoder's to judge, and it says what it found in words
    (see :mod:`tabdistill.data.detect`).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"data file '{path}' is empty: expected a header row and data rows."
        ) from None
    except READ_ERRORS as exc:
        raise csv_error(path, exc) from None


def csv_error(path, exc) -> DataError:
    """The one-line error for a file that cannot be parsed as CSV."""
    if isinstance(exc, UnicodeDecodeError):
        return DataError(
            f"'{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}): re-export it as "
            "UTF-8 CSV."
        )
    return DataError(f"could not read '{path}' as CSV: {' '.join(str(exc).split())}")


def header_names(path, sep: str = ",") -> list[str]:
    """The column names of a CSV file as written in its first line.

    pandas renames a repeated name (``amount, amount.1``), which would score a
    column under another column's name; the raw header is checked instead.

    Parameters
    ----------
    path : str or path-like
    sep : str, default ","
        The file's separator. A read of a file separated by another of commas,
        semicolons, tabs or vertical bars is refused rather than read as one text column.

    Raises
    ------
    DataError
        If the file is missing, a directory, not text in UTF-8, empty, separated by
        another of commas, semicolons, tabs or vertical bars than ``sep``, or names a
        column twice.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: '{path}'. Check the path (it is read as given).")
    if path.is_dir():
        raise DataError(f"expected a CSV file, got the directory '{path}'.")
    first = _parse(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    names = [str(v) for v in first.iloc[0]] if len(first) else []
    if len(names) == 1:
        _refuse_other_separator(path, names[0], sep)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(
            f"'{path}' names the column(s) {twice} more than once in its header: every column "
            "needs its own name. Fix the export."
        )
    return names


#: The separators exports use, as the error names them.
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _refuse_other_separator(path, name: str, sep: str) -> None:
    """Refuse a file whose one header name holds another separator than ``sep``: the file is
    not written that way, and read so it would be one text column (never guessed)."""
    for other, what in SEPARATORS.items():
        if other != sep and other in name:
            option = "tab" if other == "\t" else other
            decimal = " (and --decimal ',' where numbers are written 1,5)" if other == ";" else ""
            expected = SEPARATORS.get(sep, repr(sep))
            raise DataError(
                f"'{path}' reads as a single column ({name[:60]!r}): its header is separated "
                f"by {what}, not {expected}. Pass its separator: --sep '{option}'{decimal} on "
                f"the command line, data.sep in a job config, or sep={other!r} to read_csv."
            )


def split_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into the feature columns and the ``target`` column.

    Raises
    ------
    DataError
        If ``target`` is not a column; the message lists the columns there are.
    """
    if target not in frame.columns:
        hint = did_you_mean(target, frame.columns)
        cols = ", ".join(map(str, frame.columns[:30]))
        raise DataError(f"target column '{target}' not found.{hint} Columns are: {cols}.")
    X = frame.drop(columns=[target])
    if X.shape[1] == 0:
        raise DataError("the data has no feature columns besides the target.")
    return X, frame[target]
