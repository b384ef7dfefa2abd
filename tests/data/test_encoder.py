import gzip
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import mixed_frame

from tabdistill import make_fraud
from tabdistill.data import TabularEncoder, encode_target, read_csv, split_target
from tabdistill.exceptions import DataError, DataWarning, FeatureTypeError, SchemaError


def test_roles_inferred_from_dtypes(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    assert enc.roles_ == {
        "x1": "numeric",
        "x2": "numeric",
        "color": "categorical",
        "flag": "categorical",
        "count": "numeric",
        "city": "categorical",
    }
    assert list(enc.categories_["color"]) == ["blue", "green", "red"]
    assert list(enc.categories_["flag"]) == ["0", "1"]  # booleans compare as 0/1
    assert enc.integer_mask_.tolist() == [False, False, False, False, True, False]
    assert enc.n_features_in_ == 6


def test_id_like_and_timedelta_columns_are_dropped_with_warning(mixed):
    X, _ = mixed
    X = X.assign(
        customer_id=np.arange(len(X)),
        ref=[f"r{i}" for i in range(len(X))],
        wait=pd.Timedelta("1h"),
    )
    with pytest.warns(UserWarning, match="dropping column"):
        enc = TabularEncoder().fit(X)
    assert set(enc.dropped_) == {"customer_id", "ref", "wait"}
    assert "customer_id" not in enc.features_
    # dropped columns are not required at predict time
    assert enc.transform(X.drop(columns=["customer_id", "ref", "wait"])).shape == (len(X), 6)


def test_columns_matched_by_name_extra_ignored_with_warning(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    expected = enc.transform(X)
    shuffled = X[X.columns[::-1]].assign(extra=1.0)
    with pytest.warns(UserWarning, match="ignoring 1 column"):
        got = enc.transform(shuffled)
    np.testing.assert_array_equal(got, expected)


def test_missing_columns_named_in_error(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    with pytest.raises(SchemaError, match=r"missing: \['x2', 'city'\]"):
        enc.transform(X.drop(columns=["x2", "city"]))


def test_unseen_categories_and_nan_become_nan(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    new = X.head(3).copy()
    new["city"] = ["atlantis", None, "paris"]
    new["color"] = pd.Categorical(["purple", "red", None])
    Z = enc.transform(new)
    city, color = enc.features_.index("city"), enc.features_.index("color")
    assert np.isnan(Z[0, city]) and np.isnan(Z[1, city])
    assert Z[2, city] == list(enc.categories_["city"]).index("paris")
    assert np.isnan(Z[0, color]) and np.isnan(Z[2, color])
    assert Z[1, color] == 2


def test_numbers_read_as_strings_are_read_and_text_is_loud(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    drift = X.assign(x1=X["x1"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(enc.transform(drift), enc.transform(X))
    text = X.assign(x1="abc")
    with pytest.warns(DataWarning, match="column 'x1' is unusable: none reads as a number"):
        Z = enc.transform(text)
    assert np.isnan(Z[:, enc.features_.index("x1")]).all()
    with pytest.raises(DataError, match="column 'x1' is unusable"):
        enc.transform(text, strict=True)


def test_inverse_transform_round_trips(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    back = enc.inverse_transform(enc.transform(X))
    assert list(back.columns) == enc.features_
    assert isinstance(back["city"].dtype, pd.CategoricalDtype)
    np.testing.assert_array_equal(enc.transform(back), enc.transform(X))


def test_encode_record_matches_transform(mixed):
    X, _ = mixed
    enc = TabularEncoder().fit(X)
    for i in range(5):
        record = {k: (None if pd.isna(v) else v) for k, v in X.iloc[i].items()}
        np.testing.assert_array_equal(enc.encode_record(record), enc.transform(X.iloc[[i]])[0])
    assert enc.encode_record({**record, "x1": "12"})[0] == 12.0
    with pytest.raises(FeatureTypeError, match="'x1' expects a number"):
        enc.encode_record({**record, "x1": [12]})


def test_numpy_input_is_all_numeric():
    enc = TabularEncoder().fit(np.arange(12.0).reshape(4, 3))
    assert enc.features_ == ["x0", "x1", "x2"]
    with pytest.raises(SchemaError, match="X has 2 features, but TabularEncoder is expecting 3"):
        enc.transform(np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("y", "positive", "pos_label"),
    [
        (["no", "yes", "no", "no"], None, "yes"),
        ([False, True, True, False], None, True),
        ([0, 1, 1, 1], None, 1),
        (["good", "bad", "good", "good"], None, "bad"),  # rarer class is positive
        (["good", "bad", "good", "good"], "good", "good"),
    ],
)
def test_binary_targets(y, positive, pos_label):
    target = encode_target(y, positive_label=positive)
    assert list(target.classes) == sorted(set(y))  # scikit-learn's order, whatever is positive
    assert target.pos_label == pos_label
    assert target.classes[target.positive_index] == pos_label
    assert target.y.tolist() == [int(v == pos_label) for v in y]


@pytest.mark.parametrize(
    ("y", "match"),
    [
        ([1, 1, 1], "one class only"),
        (pd.Series(["a", 1, 2], dtype=object), "mixes label types"),
        ([0, 1, None], "missing"),
    ],
)
def test_bad_targets(y, match):
    with pytest.raises(DataError, match=match):
        encode_target(y)


def test_unknown_positive_label():
    with pytest.raises(DataError, match="not one of the target's labels"):
        encode_target(["a", "b"], positive_label="c")


def test_read_csv_gzip_and_errors(tmp_path):
    frame, y = mixed_frame(50)
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wt") as fh:
        frame.assign(target=y).to_csv(fh, index=False)
    X, target = split_target(read_csv(path), "target")
    assert X.shape == (50, 6) and target.sum() == y.sum()
    with pytest.raises(DataError, match="not found"):
        read_csv(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_csv(tmp_path / "empty.csv")
    with pytest.raises(DataError, match="Did you mean 'target'"):
        split_target(read_csv(path), "TARGET")


def test_fraud_generator_is_deterministic_and_fraud_shaped():
    a = make_fraud(20_000, fraud_rate=0.01, random_state=3)
    b = make_fraud(20_000, fraud_rate=0.01, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert 0.006 < a["is_fraud"].mean() < 0.014
    assert a["device"].isna().any() and a["distance_km"].isna().any()
    assert not make_fraud(1_000, random_state=4).equals(make_fraud(1_000, random_state=5))


def test_wide_fraud_table_keeps_the_basic_columns_and_adds_fraud_like_ones():
    narrow = make_fraud(5_000, fraud_rate=0.035, random_state=7)
    wide = make_fraud(5_000, fraud_rate=0.035, random_state=7, n_features=60)
    assert wide.shape == (5_000, 61) and wide.columns[-1] == "is_fraud"
    basic = list(narrow.columns[:-1])
    pd.testing.assert_frame_equal(wide[basic], narrow[basic])
    extra = wide.drop(columns=[*basic, "is_fraud"])
    categorical = [c for c in extra if c.startswith("cat")]
    assert len(categorical) == 7 and extra["cat01"].nunique() > 300  # a BIN-like code
    missing = extra.drop(columns=categorical).isna().mean()
    assert missing.max() > 0.5 and (missing == 0).sum() >= 8  # blocks missing together
    assert 0.025 < wide["is_fraud"].mean() < 0.045
    pd.testing.assert_frame_equal(wide, make_fraud(5_000, 0.035, 7, n_features=60))
    with pytest.raises(DataError, match="at least 11"):
        make_fraud(100, n_features=10)


def test_fit_transform_equals_fit_then_transform(mixed):
    X, _ = mixed
    np.testing.assert_array_equal(
        TabularEncoder().fit_transform(X), TabularEncoder().fit(X).transform(X)
    )


def test_empty_constant_and_written_index_columns_are_dropped_with_warning(mixed):
    X, _ = mixed
    n = len(X)
    flag = np.where(np.arange(n) % 3 == 0, "Y", None)  # one value beside missing rows: kept
    X = X.assign(
        **{"Unnamed: 0": np.arange(n) + 5},
        empty=np.nan,
        empty_text=pd.Series([None] * n, dtype=object),
        currency="EUR",
        version=2,
        chargeback=flag,
    )
    with pytest.warns(UserWarning, match="dropping column") as record:
        enc = TabularEncoder().fit(X)
    assert enc.dropped_ == {
        "Unnamed: 0": "a row index written with the file (an unnamed integer column, every value "
        "distinct)",
        "empty": "empty (missing in every training row)",
        "empty_text": "empty (missing in every training row)",
        "currency": "constant (the value 'EUR' in every training row)",
        "version": "constant (the value 2 in every training row)",
    }
    assert sum("dropping column" in str(w.message) for w in record) == 5
    assert enc.roles_["chargeback"] == "categorical"
    assert enc.transform(X[list(mixed[0].columns) + ["chargeback"]]).shape == (n, 7)


def test_a_table_of_dropped_columns_says_why_each_was_dropped():
    X = pd.DataFrame({"status": ["open"] * 30, "notes": [np.nan] * 30})
    with pytest.raises(
        DataError, match=r"every column was dropped \('status': constant .*'notes': empty"
    ):
        TabularEncoder().fit(X)


def test_few_rows_are_too_few_to_call_a_column_constant():
    X = pd.DataFrame({"a": [1.0] * 5, "b": [0.0, 1.0, 2.0, 3.0, 4.0]})
    assert TabularEncoder().fit(X).features_ == ["a", "b"]
