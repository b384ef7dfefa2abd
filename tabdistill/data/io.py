"""Reading tabular files (CSV, or Parquet with pyarrow) and splitting off the target column."""

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
    _refuse_repeated_names(path, names)
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


#: Names read as Parquet: a file, or a folder of part files (as Spark and Dask write them).
PARQUET_ENDINGS = (".parquet", ".pq")


def is_parquet(path) -> bool:
    """Whether ``path`` is named as Parquet (``*.parquet``, ``*.pq``); anything else is CSV."""
    return Path(path).name.lower().endswith(PARQUET_ENDINGS)


def data_files(path) -> list[Path]:
    """The files a data path holds: itself, or every file under a folder of Parquet parts
    (sorted), e.g. to fingerprint the data a model was fit on."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path]


def read_table(path, sep: str = ",", decimal: str = ".") -> pd.DataFrame:
    """Read a data file: Parquet by its name (a file or a folder of parts), else CSV.

    Parameters
    ----------
    path : str or path-like
        A CSV file (plain or compressed, see :func:`read_csv`), or a Parquet file or
        folder (``*.parquet``, ``*.pq``; needs pyarrow: ``pip install 'tabdistill[parquet]'``).
    sep, decimal : str
        How a CSV file is written (see :func:`csv_options`). A Parquet file stores its
        types: giving either for one is an error, not ignored.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        If the file does not exist or cannot be read, or has no data rows.
    ConfigError
        For ``sep`` or ``decimal`` given with a Parquet file, or Parquet without pyarrow.
    """
    if not is_parquet(path):
        return read_csv(path, sep=sep, decimal=decimal)
    _no_csv_options(path, sep, decimal)
    dataset = _parquet_dataset(path)
    try:
        frame = dataset.to_table().to_pandas()
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise _parquet_error(path, exc) from None
    if frame.shape[0] == 0:
        raise DataError(f"data file '{path}' has columns but no data rows.")
    return frame


def table_columns(path, sep: str = ",", decimal: str = ".") -> list[str]:
    """The column names of a data file (:func:`read_table`'s formats), read without its rows.

    Raises
    ------
    DataError
        As :func:`header_names` for a CSV file; for a Parquet one, if it is missing,
        unreadable or names a column twice.
    ConfigError
        As :func:`read_table`.
    """
    if not is_parquet(path):
        return header_names(path, sep=sep)
    _no_csv_options(path, sep, decimal)
    names = list(_parquet_dataset(path).schema.names)
    _refuse_repeated_names(path, names)
    return names


def parquet_batches(path, rows: int):
    """The rows of a Parquet file or folder, ``rows`` at a time, as DataFrames."""
    try:
        for batch in _parquet_dataset(path).to_batches(batch_size=rows):
            yield batch.to_pandas()
    except (ValueError, OSError) as exc:
        raise _parquet_error(path, exc) from None


def _no_csv_options(path, sep, decimal) -> None:
    if (sep, decimal) != (",", "."):
        raise ConfigError(
            f"'{path}' is Parquet, which stores its own types: the CSV options sep and decimal "
            f"(--sep, --decimal, data.sep, data.decimal) do not apply to it; got sep={sep!r}, "
            f"decimal={decimal!r}. Leave them out."
        )


def _parquet_dataset(path):
    """The pyarrow dataset of a Parquet file or folder, its schema read and checked."""
    try:
        import pyarrow.dataset as ds
    except ImportError:
        raise ConfigError(
            f"reading the Parquet file '{path}' needs pyarrow, which is not installed: "
            "pip install 'tabdistill[parquet]', or export the table as CSV."
        ) from None
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: '{path}'. Check the path (it is read as given).")
    try:
        return ds.dataset(str(path), format="parquet")
    except (ValueError, OSError) as exc:
        raise _parquet_error(path, exc) from None


def _parquet_error(path, exc) -> DataError:
    return DataError(f"could not read '{path}' as Parquet: {' '.join(str(exc).split())}")


def _refuse_repeated_names(path, names) -> None:
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(
            f"'{path}' names the column(s) {twice} more than once in its header: every column "
            "needs its own name. Fix the export."
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
