"""Messy files as they arrive: numbers and dates written as text understood at fit, strays loud."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS

from tabdistill import DistilledClassifier
from tabdistill.data import TabularEncoder, read_csv
from tabdistill.data.datasets import make_fraud, make_loans
from tabdistill.exceptions import DataError, DataWarning


@pytest.fixture(scope="module")
def loans(tmp_path_factory):
    """The messy loan file as written to disk and read back, and its clean twin."""
    path = tmp_path_factory.mktemp("loans") / "loans.csv"
    make_loans(1_500, random_state=3).to_csv(path, index=False)
    messy = read_csv(path).drop(columns="default")
    clean = make_loans(1_500, random_state=3, messy=False).drop(columns="default")
    with pytest.warns(DataWarning, match="column 'emp_since': .* not a number"):
        encoder = TabularEncoder().fit(messy)
    return messy, clean, encoder


@pytest.mark.parametrize(
    ("column", "example", "format", "recognised"),
    [
        ("loan_amnt", "$4,650.00", {"currency": "$", "thousands": ","}, "currency '$'"),
        ("annual_inc", " $72,100 ", {"currency": "$"}, "surrounding spaces"),
        ("int_rate", "21.63%", {"percent": True}, "percent sign"),
        ("net_cashflow", "(766.82)", {"parens": True}, "accounting negatives"),
        ("emp_since", "1976A", {"currency": ""}, "3 of 1,500 values are not a number"),
    ],
)
def test_numbers_written_as_text_are_numbers(loans, column, example, format, recognised):
    messy, clean, encoder = loans
    assert encoder.roles_[column] == "numeric"
    spec = encoder.schema_.formats[column]
    assert {k: spec[k] for k in format} == format
    assert recognised in encoder.schema_.recognised[column]
    j = encoder.features_.index(column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        got = encoder.transform(messy)[:, j]
    np.testing.assert_allclose(got, clean[column].to_numpy(dtype=float), equal_nan=True)
    assert any(str(v).startswith(example[:2]) for v in messy[column].dropna())


@pytest.mark.parametrize(
    ("column", "layout", "tz"),
    [
        ("issue_d", "%d-%b-%y", "naive"),  # 28-Feb-97
        ("earliest_cr", "%b %d %Y", "naive"),  # Feb 28 1997
        ("last_pymnt", "iso8601", "aware"),  # 1997-02-28T10:15:00-05:00 and ...Z
        ("created_at", "unix_s", "aware"),  # Unix seconds, in a column named like a time
    ],
)
def test_dates_written_as_text_or_unix_seconds_are_dates(loans, column, layout, tz):
    messy, clean, encoder = loans
    assert encoder.schema_.formats[column] == {"format": "date", "layout": layout, "tz": tz}
    assert column not in encoder.roles_
    j = encoder.features_.index(f"{column}.timestamp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        got = encoder.transform(messy)[:, j]
    when = pd.to_datetime(clean[column])
    if when.dt.tz is not None:
        when = when.dt.tz_convert("UTC").dt.tz_localize(None)
    expected = (when - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    np.testing.assert_allclose(got, expected.to_numpy(dtype=float), equal_nan=True)


def test_messy_file_encodes_as_its_clean_twin(loans):
    messy, clean, encoder = loans
    twin = TabularEncoder().fit(clean)
    assert twin.features_ == encoder.features_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        np.testing.assert_array_equal(encoder.transform(messy), twin.transform(clean))


def test_record_path_reads_text_as_the_batch_does(loans):
    messy, _, encoder = loans
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        Z = encoder.transform(messy.head(50))
        for i in range(50):
            record = {k: None if pd.isna(v) else v for k, v in messy.iloc[i].items()}
            np.testing.assert_array_equal(encoder.encode_record(record), Z[i])
        np.testing.assert_array_equal(
            encoder.schema_.encode_columns({c: messy[c].head(50) for c in messy.columns}), Z
        )


def _stray(frame, column, row=7, value="abc"):
    out = frame.copy()
    out[column] = out[column].astype(object)
    out.loc[row, column] = value
    return out


def test_one_stray_keeps_a_numeric_column_and_warns():
    X = make_fraud(1_200, random_state=1).drop(columns="is_fraud")
    stray = _stray(X, "amount")
    with pytest.warns(DataWarning, match=r"'amount': 1 of 1,200 values is not a number.*'abc'"):
        encoder = TabularEncoder().fit(stray)
    assert encoder.roles_["amount"] == "numeric" and "amount" not in encoder.dropped_
    clean = TabularEncoder().fit(X)
    expected = clean.transform(X)
    expected[7, clean.features_.index("amount")] = np.nan
    with pytest.warns(DataWarning, match="'amount': 1 of 1,200"):
        np.testing.assert_array_equal(encoder.transform(stray), expected)
    with pytest.raises(DataError, match="'amount': 1 of 1,200"):
        encoder.transform(stray, strict=True)


def test_many_strays_leave_the_column_categorical():
    X = pd.DataFrame({"code": ["1", "2", "x", "y"] * 30, "v": np.arange(120.0)})
    assert TabularEncoder().fit(X).roles_["code"] == "categorical"


def test_rows_as_lists_are_understood():
    X = make_fraud(600, random_state=2).drop(columns="is_fraud")
    encoder = TabularEncoder().fit(X.values.tolist())  # mixed rows: every value becomes text
    names = {c: f"x{j}" for j, c in enumerate(X.columns)}
    for column in ("amount", "hour", "card_age_days", "distance_km", "amount_to_avg"):
        assert encoder.roles_[names[column]] == "numeric", column
    assert encoder.roles_[names["country"]] == "categorical"
    clean = TabularEncoder().fit(X)
    j, k = clean.features_.index("amount"), encoder.features_.index(names["amount"])
    np.testing.assert_allclose(encoder.transform(X.values.tolist())[:, k], clean.transform(X)[:, j])


def test_a_stray_costs_one_value_not_the_model():
    frame = make_loans(1_200, random_state=5, messy=False)
    y = frame.pop("default")
    params = dict(
        teacher={"members": FAST_MEMBERS, "cv": 3},
        student_params={"n_estimators": 30, "num_leaves": 7},
        augment_factors=(0,),
        alphas=(0.0,),
        random_state=0,
    )
    clean = DistilledClassifier(**params).fit(frame, y)
    with pytest.warns(DataWarning, match=r"'net_cashflow': 1 of 1,200 values is not a number"):
        stray = DistilledClassifier(**params).fit(_stray(frame, "net_cashflow"), y)
    assert stray.encoder_.roles_["net_cashflow"] == "numeric"  # not dropped as "ID-like"
    got = stray.report_["validation"]["student"]["roc_auc"]
    assert got == pytest.approx(clean.report_["validation"]["student"]["roc_auc"], abs=0.01)


@pytest.mark.parametrize(("sep", "what"), [(";", "semicolons"), ("\t", "tabs"), ("|", "bars")])
def test_read_csv_refuses_another_separator_unless_asked_for(tmp_path, sep, what):
    """Read with commas, a file separated otherwise would be one text column: refused with
    the fix; read with its own separator (``sep=``), it reads as it should."""
    frame = pd.DataFrame({"amount": [1.5, 2.25, 3.0], "city": ["a", "b", "c"], "y": [0, 1, 0]})
    path = tmp_path / "data.csv"
    frame.to_csv(path, sep=sep, index=False)
    with pytest.raises(DataError, match=f"separated by .*{what}, not commas.*sep="):
        read_csv(path)
    pd.testing.assert_frame_equal(read_csv(path, sep=sep), frame)


def test_read_csv_refuses_a_comma_file_read_with_another_separator(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"amount": [1.5, 2.0], "y": [0, 1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="separated by commas, not semicolons.*--sep ','"):
        read_csv(path, sep=";")
