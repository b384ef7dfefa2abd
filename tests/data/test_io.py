"""Reading data files: Parquet beside CSV (``read_table``, ``table_columns``)."""

import sys

import numpy as np
import pandas as pd
import pytest
from conftest import mixed_frame

from tabdistill.data.io import data_files, parquet_batches, read_table, table_columns
from tabdistill.exceptions import ConfigError, DataError

pytest.importorskip("pyarrow")


@pytest.fixture
def frame():
    X, y = mixed_frame(300, seed=2)
    return X.assign(when=pd.date_range("2024-01-01", periods=300, freq="h"), label=y)


def test_parquet_reads_as_its_csv_copy_and_keeps_its_types(frame, tmp_path):
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    frame.to_csv(tmp_path / "t.csv", index=False)
    got = read_table(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(got, frame)  # category, bool, datetime as written
    assert table_columns(tmp_path / "t.parquet") == list(frame.columns)
    assert table_columns(tmp_path / "t.csv") == list(frame.columns)
    np.testing.assert_array_equal(read_table(tmp_path / "t.csv")["x1"], frame["x1"])


def test_a_folder_of_parts_reads_as_one_table_and_fingerprints_every_part(frame, tmp_path):
    folder = tmp_path / "rows.parquet"
    folder.mkdir()
    for i in range(3):
        frame.iloc[i * 100 : (i + 1) * 100].to_parquet(folder / f"part-{i}.parquet", index=False)
    got = read_table(folder)
    pd.testing.assert_frame_equal(got, frame)
    assert [len(b) for b in parquet_batches(folder, 64)] == [64, 36] * 3
    assert [p.name for p in data_files(folder)] == [f"part-{i}.parquet" for i in range(3)]
    assert data_files(tmp_path / "x.csv") == [tmp_path / "x.csv"]


def test_bad_parquet_inputs_are_clear_errors(frame, tmp_path):
    (tmp_path / "csv.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="could not read .* as Parquet"):
        read_table(tmp_path / "csv.parquet")
    with pytest.raises(DataError, match="not found"):
        table_columns(tmp_path / "missing.parquet")
    frame.iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    with pytest.raises(DataError, match="no data rows"):
        read_table(tmp_path / "empty.parquet")
    frame.to_parquet(tmp_path / "t.pq", index=False)
    for call in (read_table, table_columns):
        with pytest.raises(ConfigError, match="sep and decimal .* do not apply"):
            call(tmp_path / "t.pq", sep=";")


def test_parquet_without_pyarrow_says_how_to_install_it(frame, tmp_path, monkeypatch):
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    monkeypatch.setitem(sys.modules, "pyarrow.dataset", None)  # import fails
    with pytest.raises(ConfigError, match=r"pip install 'tabdistill\[parquet\]'"):
        read_table(tmp_path / "t.parquet")
