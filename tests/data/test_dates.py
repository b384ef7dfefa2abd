"""Date columns and high-cardinality categoricals: parsing, encoding, record-path parity."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS

from tabdistill import DistilledClassifier
from tabdistill.data import TabularEncoder
from tabdistill.runtime import CompiledModel
from tabdistill_runtime.dates import ISO, detect_format, parse_date
from tabdistill_runtime.schema import FeatureSchema


@pytest.mark.parametrize(
    "values, fmt",
    [
        (["2013-01-01T10:00:00Z", "2013-02-11T23:00:00Z"], ISO),
        (["2004-01-01", "2004-01-31"], ISO),
        (["1/1/13 22:33", "12/31/13 7:05"], "%m/%d/%y %H:%M"),
        (["01/01/2004", "01/31/2004"], "%m/%d/%Y"),
        (["01/02/2004", "03/04/2004"], "%m/%d/%Y"),  # ambiguous: month first
        (["01/02/2004", "31/03/2004"], "%d/%m/%Y"),  # only day-first reads every value
        (["3/1/2020 1:05 PM", "3/2/2020 11:45 AM"], "%m/%d/%Y %I:%M %p"),
        (["31.12.2020", "01.01.2021"], "%d.%m.%Y"),
    ],
)
def test_format_decided_from_the_values(values, fmt):
    assert detect_format(values) == fmt


@pytest.mark.parametrize(
    "values", [["red", "blue"], ["N940CA", "N405FJ"], ["1.5", "2.5"], ["12:30", "13:45"], []]
)
def test_text_that_is_not_dates_is_not_a_date_column(values):
    assert detect_format(values) is None


def test_parse_date_never_raises():
    for bad in (None, np.nan, pd.NaT, "garbage", "13/45/2004", 12.5, object(), ""):
        assert parse_date(bad, "%m/%d/%Y") is None
    assert parse_date("2013-01-01T10:00:00+02:00", ISO) == datetime(2013, 1, 1, 8)
    assert parse_date(pd.Timestamp("2013-01-01 10:00", tz="UTC"), "%m/%d/%Y") == datetime(
        2013, 1, 1, 10
    )
    assert parse_date(np.datetime64("2013-01-01T10:00"), ISO) == datetime(2013, 1, 1, 10)


def _bookings(n=400, seed=0):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2013-01-01")
    when = start + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    text = [f"{t.month}/{t.day}/{t.year % 100:02d} {t.hour}:{t.minute:02d}" for t in when]
    frame = pd.DataFrame(
        {
            "booked": text,
            "stay": rng.integers(1, 10, n),
            "created": when,  # a datetime64 column
            "room": rng.choice(["a", "b", "c"], n),
        }
    )
    frame.loc[::37, "booked"] = np.nan
    y = ((when.month >= 6) ^ (rng.random(n) < 0.1)).astype(int)
    return frame, pd.Series(y)


def test_text_and_datetime64_columns_become_date_features():
    X, _ = _bookings()
    enc = TabularEncoder().fit(X)
    assert enc.schema_.date_formats == {"booked": "%m/%d/%y %H:%M", "created": ISO}
    parts = ["timestamp", "month", "day", "dayofweek", "hour", "minute"]  # one year: no "year"
    assert [f for f in enc.features_ if f.startswith("booked.")] == [f"booked.{p}" for p in parts]
    Z = enc.transform(X)
    j = enc.features_.index("booked.month")
    np.testing.assert_array_equal(
        Z[1:5, j], pd.to_datetime(X["booked"][1:5], format="%m/%d/%y %H:%M").dt.month
    )
    assert np.isnan(Z[0, j])  # NaN stays missing
    ts = Z[:, enc.features_.index("created.timestamp")]
    order = np.argsort(X["created"].to_numpy())
    assert np.all(np.diff(ts[order]) >= 0)  # monotone


def test_unparseable_dates_at_predict_are_missing_and_record_path_agrees():
    X, _ = _bookings()
    enc = TabularEncoder().fit(X)
    new = X.head(6).copy()
    new["booked"] = ["garbage", "2013-01-01", None, "1/1/13 22:33", "99/99/99 1:00", "7/4/13 9:15"]
    new["created"] = [pd.NaT, *X["created"].iloc[1:6]]
    Z = enc.transform(new)
    booked = [j for j, f in enumerate(enc.features_) if f.startswith("booked.")]
    assert np.isnan(Z[[0, 1, 2, 4]][:, booked]).all()
    assert not np.isnan(Z[[3, 5]][:, booked]).any()
    # the record path (what the runtime uses) and the NumPy column path give the same numbers
    schema = FeatureSchema.from_dict(enc.schema_.to_dict())  # as saved with a model
    for i, record in enumerate(new.to_dict(orient="records")):
        np.testing.assert_array_equal(schema.encode_record(record), Z[i])
    np.testing.assert_array_equal(schema.encode_columns({c: new[c] for c in new.columns}), Z)


def test_high_cardinality_column_keeps_frequent_levels_and_gains_a_frequency():
    rng = np.random.default_rng(0)
    n = 3000
    tail = rng.zipf(1.5, n) % 2000  # a long tail of levels
    X = pd.DataFrame({"tail": [f"N{t}" for t in tail], "x": rng.normal(size=n)})
    X.loc[::50, "tail"] = np.nan
    enc = TabularEncoder(max_levels=20).fit(X)
    assert enc.features_ == ["tail", "tail.frequency", "x"]
    assert len(enc.categories_["tail"]) == 20
    new = pd.DataFrame({"tail": ["N1", "never-seen", None, X["tail"].iloc[1]], "x": 0.0})
    Z = enc.transform(new)
    share = (X["tail"] == "N1").sum() / X["tail"].notna().sum()
    assert Z[0, 1] == pytest.approx(share)
    assert Z[1, 1] == 0.0 and np.isnan(Z[1, 0])  # unseen: no level, zero frequency
    assert np.isnan(Z[2, :2]).all()  # missing
    schema = FeatureSchema.from_dict(enc.schema_.to_dict())
    for i, record in enumerate(new.to_dict(orient="records")):
        np.testing.assert_array_equal(schema.encode_record(record), Z[i])


def test_distilled_model_uses_date_features_end_to_end(tmp_path):
    X, y = _bookings(600)
    model = DistilledClassifier(
        teacher={"members": FAST_MEMBERS, "cv": 3},
        student_params={"n_estimators": 20, "num_leaves": 7},
        augment_factors=(0,),
        alphas=(0.0,),
        random_state=0,
    ).fit(X, y)
    assert model.report_["validation"]["teacher"]["roc_auc"] > 0.8  # the month is learnt
    path = tmp_path / "student.npz"
    model.runtime_.save(path)
    runtime = CompiledModel.load(path)
    expected = model.predict_proba(X.head(20))[:, 1]
    records = X.head(20).to_dict(orient="records")
    got = [runtime.score_record(r) for r in records]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
