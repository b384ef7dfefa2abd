"""compile_xgboost: XGBoost's float32 margins to the bit, every split rule, binary and K classes."""

import json

import numpy as np
import pytest
from conftest import mixed_frame

from tabdistill.data import TabularEncoder
from tabdistill.exceptions import ArtifactError
from tabdistill_runtime import CompiledModel
from tabdistill_runtime.from_xgboost import compile_xgboost

xgb = pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def data():
    """Encoded training rows (3 categorical columns, NaN) and scoring rows with more NaN."""
    X, y = mixed_frame(n=1_500, seed=3)
    X.loc[X.index[::5], "color"] = np.nan  # NaN in a categorical column: both default ways
    enc = TabularEncoder().fit(X)
    Z = enc.encode(X)
    Xt, _ = mixed_frame(n=600, seed=4)
    Xt.loc[Xt.index[::7], "city"] = "marseille"  # unseen: NaN
    Zt = enc.encode(Xt)
    rng = np.random.default_rng(0)
    Zt[rng.random(Zt.shape) < 0.15] = np.nan
    classes = np.digitize(Z[:, 0] + rng.normal(0, 0.5, len(Z)), [-0.5, 0.5])
    return enc, Z, y.to_numpy(), classes, Zt


def _fit(enc, Z, y, eval_set=None, **params):
    types = ["c" if c else "q" for c in enc.categorical_mask_]
    params = {"n_estimators": 40, "max_depth": 4, "tree_method": "hist", **params}
    model = xgb.XGBClassifier(enable_categorical=True, feature_types=types, **params)
    return model.fit(Z, y, eval_set=eval_set, verbose=False)


def _expected(model, Zt, **kw):
    """XGBoost's float32 margins, through the sigmoid or softmax in float64."""
    margin = model.predict(Zt, output_margin=True, **kw).astype(np.float64)
    if margin.ndim == 1:
        return 1 / (1 + np.exp(-margin))
    e = np.exp(margin - margin.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _categorical_defaults(model) -> set:
    trees = json.loads(model.get_booster().save_raw("json"))["learner"]["gradient_booster"]
    return {
        d
        for tree in trees["model"]["trees"]
        for d, kind in zip(tree["default_left"], tree["split_type"])
        if kind == 1
    }


@pytest.mark.parametrize("onehot", [1, 4])  # category partitions, or one level vs the rest
def test_binary_booster_scores_xgboost_float32_margins(data, onehot):
    enc, Z, y, _, Zt = data
    model = _fit(enc, Z, y, max_cat_to_onehot=onehot)
    runtime = compile_xgboost(model.get_booster(), enc.schema_)
    expected = _expected(model, Zt)
    # margins summed in float64 instead would be off by ~1e-8
    assert np.abs(runtime.score_encoded(Zt) - expected).max() < 1e-14
    assert np.abs([runtime.score_one(z) for z in Zt[:200]] - expected[:200]).max() < 1e-14
    assert runtime.meta["sum"] == "float32"
    if onehot == 1:
        assert _categorical_defaults(model) == {0, 1}  # NaN both ways at categorical splits
    # XGBoost's own predict_proba takes the sigmoid in float32
    assert np.abs(model.predict_proba(Zt)[:, 1] - expected).max() < 1e-6


def test_k_class_booster_and_its_base_scores(data):
    enc, Z, _, classes, Zt = data
    model = _fit(enc, Z, classes)
    runtime = compile_xgboost(model.get_booster(), enc.schema_)
    scores = runtime.score_encoded(Zt)
    assert scores.shape == (len(Zt), 3)
    assert np.abs(scores - _expected(model, Zt)).max() < 1e-14
    row = np.array([runtime.score_one(z) for z in Zt[:100]])
    assert np.abs(row - scores[:100]).max() < 1e-14


def test_given_base_score_and_early_stopped_rounds(data):
    enc, Z, y, _, Zt = data
    held = [(Z[1000:], y[1000:])]
    params = dict(base_score=0.3, n_estimators=300, early_stopping_rounds=5, learning_rate=0.3)
    model = _fit(enc, Z[:1000], y[:1000], eval_set=held, **params)
    rounds = model.best_iteration + 1
    assert rounds < model.get_booster().num_boosted_rounds()
    runtime = compile_xgboost(model.get_booster(), enc.schema_, rounds=rounds)
    assert np.abs(runtime.score_encoded(Zt) - _expected(model, Zt)).max() < 1e-14
    every = compile_xgboost(model.get_booster(), enc.schema_)
    assert every.n_trees == model.get_booster().num_boosted_rounds() > runtime.n_trees
    with pytest.raises(TypeError, match="rounds must be in"):
        compile_xgboost(model.get_booster(), enc.schema_, rounds=0)


def test_saved_and_loaded_to_the_bit(data, tmp_path):
    enc, Z, y, _, Zt = data
    runtime = compile_xgboost(_fit(enc, Z, y).get_booster(), enc.schema_)
    loaded = CompiledModel.load(runtime.save(tmp_path / "xgb.npz"))
    assert np.array_equal(loaded.score_encoded(Zt), runtime.score_encoded(Zt))
    assert loaded.meta["sum"] == "float32"


def test_refuses_what_it_cannot_reproduce(data, monkeypatch):
    enc, Z, y, _, _ = data
    linear = xgb.XGBClassifier(booster="gblinear", n_estimators=3).fit(np.nan_to_num(Z), y)
    with pytest.raises(TypeError, match="booster 'gblinear'"):
        compile_xgboost(linear.get_booster(), enc.schema_)
    regressor = xgb.XGBRegressor(n_estimators=3).fit(np.nan_to_num(Z), y)
    with pytest.raises(TypeError, match="objective 'reg:squarederror'"):
        compile_xgboost(regressor.get_booster(), enc.schema_)
    runtime = compile_xgboost(_fit(enc, Z, y, n_estimators=3).get_booster(), enc.schema_)
    bad = dict(runtime.meta, sum="float16")
    with pytest.raises(ArtifactError, match="meta 'sum'"):
        CompiledModel("trees", runtime.arrays, enc.schema_, bad)
    monkeypatch.setenv("TABDISTILL_KERNELS", "numba")
    with pytest.raises(ImportError, match="compiled C kernels only"):
        CompiledModel("trees", runtime.arrays, enc.schema_, runtime.meta)
