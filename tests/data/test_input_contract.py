"""One input contract for DataFrames, arrays and records (issue 11, item 2)."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import mixed_frame

from tabdistill import DistilledClassifier, TabularEncoder
from tabdistill.exceptions import DataError, SchemaError
from tabdistill_runtime.schema import level_key

SMALL = dict(
    teacher={"members": {"lightgbm": {"n_estimators": 20, "num_leaves": 8}}, "cv": 3},
    student_params={"n_estimators": 20, "num_leaves": 8},
    augment_factors=(0, 1),
    alphas=(0.5,),
    random_state=0,
)


@pytest.fixture(scope="module")
def coded():
    """A frame with an integer-coded categorical column, a bool column and a linear student."""
    X, y = mixed_frame(600, seed=8)
    X["merchant"] = (np.arange(len(X)) * 7) % 6
    y = y | (X["merchant"] == 4)
    params = {**SMALL, "categorical_features": ["merchant"]}
    models = {
        "lightgbm": DistilledClassifier(**params).fit(X, y),
        "linear": DistilledClassifier(**{**params, "student_params": None}, student="linear").fit(
            X, y
        ),
    }
    return X, y, models


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ([4, 4.0, "4", "4.0", np.int64(4), np.float32(4)], "4"),
        ([True, 1, 1.0, "True", "true", np.True_], "1"),
        ([2.5, "2.5", "2.50"], "2.5"),
        (["007"], "007"),  # a code with leading zeros stays text
        (["1234567890123456789"], "1234567890123456789"),  # too long to be a float
        (["red"], "red"),
    ],
)
def test_level_keys_compare_by_value(values, key):
    assert {level_key(v) for v in values} == {key}


def test_numpy_input_is_raw_values_in_fitted_order(coded):
    X, _, models = coded
    model = models["lightgbm"]
    np.testing.assert_array_equal(model.predict_proba(X.to_numpy()), model.predict_proba(X))
    Z = model.encoder_.transform(X)
    np.testing.assert_array_equal(model.predict_proba_encoded(Z), model.predict_proba(X)[:, 1])


def test_integer_coded_category_arriving_as_float_or_text(coded):
    X, _, models = coded
    model = models["lightgbm"]
    expected = model.predict_proba(X)
    for cast in (float, str):
        other = X.assign(merchant=X["merchant"].astype(cast))
        np.testing.assert_array_equal(model.predict_proba(other), expected)
    rt = model.runtime_
    record = {k: (None if pd.isna(v) else v) for k, v in X.iloc[3].to_dict().items()}
    score = rt.score_record(record)
    assert score == pytest.approx(expected[3, 1], abs=1e-12)
    for value in (4, 4.0, "4", np.int64(4)):
        assert rt.score_record({**record, "merchant": value}) == rt.score_record(
            {**record, "merchant": 4}
        )
    # a JSON round trip turns ints into floats and keeps the score
    assert rt.score_record(json.loads(json.dumps(record))) == pytest.approx(score, abs=1e-12)


def test_score_record_of_a_row_equals_predict_proba(coded):
    X, _, models = coded
    model = models["lightgbm"]
    expected = model.predict_proba(X.head(50))[:, 1]
    got = [
        model.runtime_.score_record(X.iloc[i].to_dict())  # numpy scalars, NaN, bools
        for i in range(50)
    ]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_bool_column_fed_as_0_1(coded):
    X, _, models = coded
    model = models["lightgbm"]
    as_int = X.assign(flag=X["flag"].astype(int))
    np.testing.assert_array_equal(model.predict_proba(as_int), model.predict_proba(X))
    as_text = X.assign(flag=X["flag"].astype(str))
    np.testing.assert_array_equal(model.predict_proba(as_text), model.predict_proba(X))


def test_infinite_values_refused_at_fit_defined_at_predict(coded):
    X, y, models = coded
    bad = X.copy()
    bad.loc[5, "x1"] = np.inf
    with pytest.raises(DataError, match=r"\['x1'\] hold infinite values"):
        DistilledClassifier(**SMALL).fit(bad, y)
    for kind, model in models.items():
        top, low = X["x1"].max(), X["x1"].min()
        plus = X.head(20).assign(x1=np.inf)
        minus = X.head(20).assign(x1=-np.inf)
        p_plus, p_minus = model.predict_proba(plus), model.predict_proba(minus)
        assert np.isfinite(p_plus).all() and np.isfinite(p_minus).all(), kind
        np.testing.assert_allclose(p_plus, model.predict_proba(X.head(20).assign(x1=top)))
        np.testing.assert_allclose(p_minus, model.predict_proba(X.head(20).assign(x1=low)))
        record = {**X.iloc[0].to_dict(), "x1": float("inf")}
        assert model.runtime_.score_record(record) == pytest.approx(p_plus[0, 1], abs=1e-12)


def test_integer_column_names_work():
    X, y = mixed_frame(400, seed=2)
    X.columns = range(X.shape[1])
    model = DistilledClassifier(**SMALL, categorical_features=[2]).fit(X, y)
    assert model.feature_names_in_.tolist() == ["0", "1", "2", "3", "4", "5"]
    assert model.encoder_.roles_["2"] == "categorical"
    np.testing.assert_array_equal(
        model.predict_proba(X), model.predict_proba(X.rename(columns=str))
    )


def test_duplicated_column_names_are_a_clear_error():
    X, y = mixed_frame(100)
    dup = pd.concat([X, X[["x1"]]], axis=1)
    with pytest.raises(DataError, match=r"\['x1'\] appear more than once"):
        TabularEncoder().fit(dup)
    enc = TabularEncoder().fit(X)
    with pytest.raises(DataError, match="more than once"):
        enc.transform(dup)
    mixed_types = X.rename(columns={"x1": 1}).assign(**{"1": 0.0})
    with pytest.raises(DataError, match="more than once"):
        TabularEncoder().fit(mixed_types)


def test_unknown_record_keys_warn_or_fail_when_strict(coded):
    X, _, models = coded
    rt = models["lightgbm"].runtime_
    record = X.iloc[0].to_dict()
    typo = {**{k: v for k, v in record.items() if k != "city"}, "cty": record["city"]}
    with pytest.raises(SchemaError, match=r"lacks 1 column\(s\).*\['city'\].*\['cty'\]"):
        rt.score_record(typo)
    with pytest.warns(UserWarning, match=r"\['cty'\] are not features"):
        rt.score_record(typo, allow_missing=True)
    with pytest.raises(SchemaError, match="cty"):
        rt.score_record(typo, strict=True, allow_missing=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rt.score_record(record)  # known keys only: silent
