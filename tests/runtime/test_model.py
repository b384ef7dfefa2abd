import numpy as np
import pytest

from tabdistill import make_fraud
from tabdistill.data import TabularEncoder, split_target
from tabdistill.distill.context import make_student
from tabdistill.distill.students import STUDENTS, compile_student
from tabdistill.exceptions import ArtifactError, FeatureTypeError, SchemaError
from tabdistill.runtime import CompiledModel
from tabdistill_runtime.from_lightgbm import compile_lightgbm


@pytest.fixture(scope="module")
def fraud():
    X, y = split_target(make_fraud(6_000, fraud_rate=0.05, random_state=1), "is_fraud")
    enc = TabularEncoder().fit(X)
    # 100k scoring rows with NaN, unseen categories and extreme values
    Xt, _ = split_target(make_fraud(100_000, random_state=2), "is_fraud")
    Xt.loc[::7, "country"] = "ZZ"
    Xt.loc[::9, "merchant_category"] = np.nan
    Xt.loc[::11, "amount"] = np.nan
    Xt.loc[::13, "amount"] = 1e300
    Xt["hour"] = Xt["hour"].astype(float)
    Xt.loc[::17, "hour"] = -1e300
    Xt.loc[::19, "card_age_days"] = 0.0
    return X, y, enc, Xt


@pytest.fixture(params=["c", "numba"])
def backend(request, monkeypatch):
    """Every parity test runs on the compiled C kernels and on the numba fallback."""
    from tabdistill_runtime import scorers

    if request.param == "c" and scorers._ckernels is None:
        pytest.skip("the C kernels were not built (no C compiler at install)")
    monkeypatch.setenv("TABDISTILL_KERNELS", request.param)
    return request.param


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_runtime_matches_source_model_on_100k_rows(name, fraud, backend):
    X, y, enc, Xt = fraud
    student = make_student(name, categorical_mask=enc.categorical_mask_, random_state=0)
    student.fit(enc.transform(X), y.to_numpy().astype(float))
    runtime = compile_student(student, enc.schema_)
    assert runtime.backend == backend
    Zt = enc.transform(Xt)
    expected = student.predict(Zt)
    np.testing.assert_allclose(runtime.score_encoded(Zt), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(runtime.score_batch(Xt), expected, rtol=0, atol=1e-6)
    for i in range(0, 200, 7):
        assert runtime.score_one(Zt[i]) == pytest.approx(expected[i], abs=1e-6)


@pytest.fixture(scope="module")
def rule_boosters():
    """Big trees (walked, not bit-vectors), zero-as-missing, 100-level categories, NaN."""
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    n = 6_000
    Z = np.column_stack(
        [
            rng.normal(size=n),
            np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),
            rng.integers(0, 100, n).astype(float),
            rng.integers(0, 5, n).astype(float),
        ]
    )
    Z[rng.random(n) < 0.1, 0] = np.nan
    y = (Z[:, 2] % 7 < 3) ^ (np.nan_to_num(Z[:, 0]) > 0.3) ^ (Z[:, 1] == 0)
    enc = TabularEncoder().fit(Z)
    boosters = []
    for params in ({"num_leaves": 100, "min_data_in_leaf": 5}, {"zero_as_missing": True}):
        boosters.append(
            lgb.train(
                {
                    "objective": "binary",
                    "verbose": -1,
                    "min_data_per_group": 5,
                    "cat_smooth": 1,
                    "max_cat_to_onehot": 2,
                    "num_threads": 1,
                    **params,
                },
                lgb.Dataset(Z, y.astype(float), categorical_feature=[2, 3]),
                num_boost_round=15,
            )
        )
    probe = np.vstack([Z[:2_000], rng.normal(size=(500, 4)) * 50, np.full((1, 4), np.nan)])
    probe[::13, 2] = 250.0  # a category never seen
    return enc, boosters, probe


def test_every_decision_rule_matches_lightgbm(backend, rule_boosters):
    enc, boosters, probe = rule_boosters
    for booster in boosters:
        runtime = compile_lightgbm(booster, enc.schema_)
        expected = booster.predict(probe)
        np.testing.assert_allclose(runtime.score_encoded(probe), expected, rtol=0, atol=1e-12)
        got = [runtime.score_one(r) for r in probe[:300]]
        np.testing.assert_allclose(got, expected[:300], rtol=0, atol=1e-12)
    assert runtime.n_trees == 15
    leaves = [t["num_leaves"] for t in boosters[0].dump_model()["tree_info"]]
    assert max(leaves) > 64  # trees the batch kernel walks instead of bit-vectors


def test_float32_threshold_semantics_of_sklearn_trees():
    # values within float32 precision of a threshold go the way sklearn sends them
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2_000, 1))
    q = (Z[:, 0] > 0.1).astype(float)
    student = make_student("tree", {"max_depth": 1, "min_samples_leaf": 1}).fit(Z, q)
    enc = TabularEncoder().fit(Z)
    runtime = compile_student(student, enc.schema_)
    t = student.tree_model_.tree_.threshold[0]
    probe = np.array([[t], [np.nextafter(t, 1)], [t + 1e-9], [t - 1e-9], [np.nan]])
    np.testing.assert_array_equal(runtime.score_encoded(probe), student.predict(probe))


def test_an_array_is_raw_values_and_encoded_rows_have_their_own_method(fraud):
    # issue 11's input contract, in the runtime too: a 2-D array holds raw values in the
    # fitted column order (as for the estimators), never silently "already encoded"
    X, y, enc, Xt = fraud
    student = make_student("lightgbm", categorical_mask=enc.categorical_mask_, random_state=0)
    runtime = compile_student(
        student.fit(enc.transform(X), y.to_numpy().astype(float)), enc.schema_
    )
    rows = Xt.head(400)
    expected = runtime.score_encoded(enc.transform(rows))
    raw = rows[runtime.schema.feature_names_in].to_numpy(dtype=object)
    np.testing.assert_array_equal(runtime.score_batch(raw), expected)
    np.testing.assert_array_equal(runtime.predict_proba(raw)[:, 1], expected)
    with pytest.raises(SchemaError, match="raw rows of shape .* score_encoded"):
        runtime.score_batch(raw[:, :-1])
    with pytest.raises(SchemaError, match="encoded rows of shape .* score_batch"):
        runtime.score_encoded(enc.transform(rows)[:, :-1])


def test_record_path_matches_batch_and_handles_missing(fraud):
    X, y, enc, Xt = fraud
    student = make_student("lightgbm", categorical_mask=enc.categorical_mask_, random_state=0)
    runtime = compile_student(
        student.fit(enc.transform(X), y.to_numpy().astype(float)), enc.schema_
    )
    batch = runtime.score_batch(Xt.head(300))
    for i in range(300):
        record = {
            k: None if (isinstance(v, float) and np.isnan(v)) else v for k, v in Xt.iloc[i].items()
        }
        assert runtime.score_record(record) == pytest.approx(batch[i], abs=1e-12)
    full = Xt.iloc[0].to_dict()
    missing_key = {k: v for k, v in full.items() if k != "device"}
    with pytest.raises(SchemaError, match=r"lacks 1 column\(s\).*\['device'\].*allow_missing"):
        runtime.score_record(missing_key)
    as_none, as_nan = {**full, "device": None}, {**full, "device": float("nan")}
    unseen = {**full, "device": "toaster"}
    scores = {runtime.score_record(r) for r in (as_none, as_nan, unseen)}
    scores.add(runtime.score_record(missing_key, allow_missing=True))
    assert len(scores) == 1  # all four are "missing" for the model
    frame = Xt.head(1).assign(device=np.nan)
    assert runtime.score_batch(frame)[0] == pytest.approx(scores.pop(), abs=1e-12)
    assert runtime.score_record({**full, "amount": "12.50"}) == runtime.score_record(
        {**full, "amount": 12.5}
    )
    with pytest.raises(FeatureTypeError, match="'amount' expects a number"):
        runtime.score_record({**full, "amount": [12.5]})
    with pytest.raises(SchemaError, match="expected a row of"):
        runtime.score_one(np.zeros(3))


def test_save_and_load_round_trip_without_pickle(fraud, tmp_path):
    X, y, enc, Xt = fraud
    student = make_student("lightgbm", categorical_mask=enc.categorical_mask_, random_state=0)
    runtime = compile_student(
        student.fit(enc.transform(X), y.to_numpy().astype(float)), enc.schema_
    )
    path = runtime.save(tmp_path / "model.npz")
    loaded = CompiledModel.load(path)
    np.testing.assert_array_equal(
        loaded.score_batch(Xt.head(500)), runtime.score_batch(Xt.head(500))
    )
    one = {k: None for k in Xt.columns} | {"amount": 10.0}
    assert loaded.score_record(one) == runtime.score_record(one)


def test_load_refuses_foreign_files(tmp_path):
    pickled = tmp_path / "evil.npz"
    np.savez(pickled, __header__=np.array([{"format": "x"}], dtype=object))  # needs pickle
    with pytest.raises(ArtifactError, match="not a tabdistill runtime"):
        CompiledModel.load(pickled)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ArtifactError, match="not a tabdistill runtime"):
        CompiledModel.load(other)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ArtifactError):
        CompiledModel.load(tmp_path / "text.npz")
    with pytest.raises(ArtifactError, match="not found"):
        CompiledModel.load(tmp_path / "absent.npz")


def test_prepare_reasons_builds_the_tables_at_load_and_changes_no_value(fraud):
    X, y, enc, Xt = fraud
    Z = enc.transform(X)
    student = make_student("lightgbm", {"n_estimators": 20, "num_leaves": 31}).fit(Z, y)
    blob = compile_student(student, enc.schema_).to_bytes()
    prepared, lazy = CompiledModel.load(blob), CompiledModel.load(blob)
    assert prepared._explainer is None  # loading alone builds nothing
    assert prepared.prepare_reasons() is prepared
    explainer = prepared._explainer
    assert explainer is not None and explainer.table_bytes > 0 and explainer.n_tabulated > 0
    assert prepared.prepare_reasons()._explainer is explainer  # built once
    rows = Xt.iloc[:500]
    np.testing.assert_array_equal(prepared.contributions(rows), lazy.contributions(rows))
    for a, b in zip(prepared.score_batch(rows, reasons=3), lazy.score_batch(rows, reasons=3)):
        np.testing.assert_array_equal(a, b)
    record = Xt.iloc[0].to_dict()
    assert prepared.score_record(record, reasons=2) == lazy.score_record(record, reasons=2)
