"""At predict, what used to degrade silently is loud: a warning naming the column, an error
with strict=True, on the pandas path, the NumPy path and the record path alike."""

import warnings

import numpy as np
import pandas as pd
import pytest

from tabdistill.data import TabularEncoder
from tabdistill.data.datasets import make_fraud
from tabdistill.exceptions import DataError, DataWarning, SchemaError


@pytest.fixture(scope="module")
def fitted():
    X = make_fraud(800, random_state=4).drop(columns="is_fraud")
    X = X.assign(
        is_weekend=np.arange(len(X)) % 7 >= 5,
        opened=pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(X)) * 37, "min"),
    )
    return X, TabularEncoder().fit(X)


def _paths(encoder, frame, strict=False):
    """The pandas encoder and the schema's NumPy path on the same frame."""
    yield lambda: encoder.transform(frame, strict=strict)
    yield lambda: encoder.schema_.encode_columns(
        {c: frame[c].to_numpy() for c in frame.columns}, strict=strict
    )


def _unusable(X, encoder, column, frame, match):
    for encode in _paths(encoder, frame):
        with pytest.warns(DataWarning, match=rf"column '{column}' is unusable: {match}"):
            Z = encode()
        js = [j for j, f in enumerate(encoder.features_) if encoder.schema_.source(f) == column]
        assert np.isnan(Z[:, js]).all()
    for encode in _paths(encoder, frame, strict=True):
        with pytest.raises(DataError, match=rf"column '{column}' is unusable"):
            encode()


def test_categories_sent_as_integer_codes_are_unusable(fitted):
    X, encoder = fitted
    codes = X.assign(merchant_category=X["merchant_category"].cat.codes)
    _unusable(X, encoder, "merchant_category", codes, "none of its levels was seen at fit")


def test_a_boolean_sent_as_yes_no_is_unusable(fitted):
    X, encoder = fitted
    words = X.assign(is_weekend=np.where(X["is_weekend"], "yes", "no"))
    _unusable(X, encoder, "is_weekend", words, "none of its levels was seen at fit")


def test_dates_in_another_layout_are_unusable(fitted):
    X, encoder = fitted
    other = X.assign(opened=X["opened"].dt.strftime("%d.%m.%Y %H:%M"))
    _unusable(X, encoder, "opened", other, "none reads as a date")


def test_text_in_a_numeric_column_is_unusable(fitted):
    X, encoder = fitted
    _unusable(X, encoder, "amount", X.assign(amount="n/a yet"), "none reads as a number")


def test_one_unseen_level_in_a_small_batch_is_ordinary(fitted):
    X, encoder = fitted
    one = X.head(1).assign(country="ZZ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for encode in _paths(encoder, one):
            encode()


@pytest.mark.parametrize("direction", ["aware to naive", "naive to aware"])
def test_a_time_zone_mismatch_is_converted_with_a_warning(fitted, direction):
    X, encoder = fitted
    if direction == "aware to naive":
        fit_on, sent = X, X.assign(opened=X["opened"].dt.tz_localize("America/New_York"))
        expected = sent["opened"].dt.tz_convert("UTC").dt.tz_localize(None)
        match = "carry a time zone, but the column was fitted on times without one"
    else:
        fit_on = X.assign(opened=X["opened"].dt.tz_localize("UTC"))
        sent, expected = X, X["opened"]
        match = "carry no time zone, but the column was fitted on zoned times"
    encoder = TabularEncoder().fit(fit_on) if fit_on is not X else encoder
    j = encoder.features_.index("opened.hour")
    for encode in _paths(encoder, sent):
        with pytest.warns(DataWarning, match=rf"column 'opened': 800 of 800 .*{match}"):
            Z = encode()
        np.testing.assert_array_equal(Z[:, j], expected.dt.hour.to_numpy(dtype=float))
    for encode in _paths(encoder, sent, strict=True):
        with pytest.raises(DataError, match="time zone"):
            encode()
    record = {k: None if pd.isna(v) else v for k, v in sent.iloc[0].items()}
    with pytest.warns(DataWarning, match="opened"):
        assert encoder.encode_record(record)[j] == expected.dt.hour.iloc[0]


def test_records_with_missing_keys_are_refused_unless_allowed(fitted):
    X, encoder = fitted
    record = {k: None if pd.isna(v) else v for k, v in X.iloc[0].items()}
    with pytest.raises(SchemaError, match=r"lacks 13 column\(s\)"):
        encoder.encode_record({})
    partial = {k: v for k, v in record.items() if k not in ("amount", "opened")}
    with pytest.raises(SchemaError, match=r"lacks 2 column\(s\).*'amount'.*'opened'"):
        encoder.encode_record(partial)
    allowed = encoder.encode_record(partial, allow_missing=True)
    as_none = encoder.encode_record({**record, "amount": None, "opened": None})
    np.testing.assert_array_equal(allowed, as_none)
    assert np.isnan(encoder.encode_record({}, allow_missing=True)).all()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("amount", "abc", "'abc' is not a number"),
        ("amount", "$12", "'\\$12' is not a number"),
        ("opened", "yesterday", "'yesterday' is not a date"),
    ],
)
def test_a_stray_in_a_record_warns_or_fails_when_strict(fitted, column, value, message):
    X, encoder = fitted
    record = {**{k: None if pd.isna(v) else v for k, v in X.iloc[0].items()}, column: value}
    with pytest.warns(DataWarning, match=message):
        row = encoder.encode_record(record)
    js = [j for j, f in enumerate(encoder.features_) if encoder.schema_.source(f) == column]
    assert np.isnan(row[js]).all()
    with pytest.raises(DataError, match=message):
        encoder.encode_record(record, strict=True)
