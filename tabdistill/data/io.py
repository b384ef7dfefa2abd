"""Reading tabular files and splitting off the target column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import DataError


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
    if not path.exists():
        raise DataError(f"data file not found: '{path}'. Check the path (it is read as given).")
    if path.is_dir():
        raise DataError(f"expected a CSV file, got the directory '{path}'.")
    try:
        frame = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"data file '{path}' is empty: expected a header row and data rows."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataError(f"could not read '{path}' as CSV: {exc}") from None
    if frame.shape[0] == 0:
        raise DataError(f"data file '{path}' has a header but no data rows.")
    return frame


def split_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into the feature columns and the ``target`` column.

    Raises
    ------
    DataError
        If ``target`` is not a column; the message lists the columns there are.
    """
    if target not in frame.columns:
        close = [c for c in frame.columns if str(c).lower() == str(target).lower()]
        hint = f" Did you mean '{close[0]}'?" if close else ""
        cols = ", ".join(map(str, frame.columns[:30]))
        raise DataError(f"target column '{target}' not found.{hint} Columns are: {cols}.")
    X = frame.drop(columns=[target])
    if X.shape[1] == 0:
        raise DataError("the data has no feature columns besides the target.")
    return X, frame[target]
