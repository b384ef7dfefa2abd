"""The blend kind: compiled models scored as one, as the teacher blends its members."""

import numpy as np
import pytest
from conftest import mixed_frame
from lightgbm import LGBMClassifier
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from xgboost import XGBClassifier

from tabdistill.data import TabularEncoder
from tabdistill.distill.linear import LinearDesign
from tabdistill.exceptions import ArtifactError
from tabdistill_runtime import CompiledModel, format
from tabdistill_runtime._proba import EPS, clip_distribution
from tabdistill_runtime.from_lightgbm import compile_lightgbm
from tabdistill_runtime.from_linear import compile_linear
from tabdistill_runtime.from_members import compile_blend, merge_copies
from tabdistill_runtime.from_sklearn import compile_sklearn_forest
from tabdistill_runtime.from_xgboost import compile_xgboost


@pytest.fixture(scope="module")
def data():
    X, y = mixed_frame(n=900, seed=7)
    enc = TabularEncoder().fit(X)
    Z = enc.encode(X)
    Xt, _ = mixed_frame(n=400, seed=8)
    Zt = enc.encode(Xt)
    Zt[np.random.default_rng(2).random(Zt.shape) < 0.1] = np.nan
    classes = np.digitize(Z[:, 0] - 0.2 * Z[:, 1], [-1.5, -0.5])
    return enc, Z, y.to_numpy(), classes, Zt


def _models(enc, Z, y):
    """One compiled model of each kind fit on ``(Z, y)``, with its ``predict_proba``."""
    types = ["c" if c else "q" for c in enc.categorical_mask_]
    cat = [int(j) for j in np.flatnonzero(enc.categorical_mask_)]
    lgbm = LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1).fit(
        Z, y, categorical_feature=cat
    )
    xgb = XGBClassifier(n_estimators=20, max_depth=3, enable_categorical=True, feature_types=types)
    xgb.fit(Z, y)
    forest = RandomForestClassifier(n_estimators=8, min_samples_leaf=3, random_state=0).fit(Z, y)
    design = LinearDesign(categorical_mask=enc.categorical_mask_).fit(Z)
    logistic = LogisticRegression(max_iter=500).fit(design.transform(Z), y)
    s = enc.schema_
    margin = lambda z: xgb.predict(z, output_margin=True).astype(np.float64)  # noqa: E731
    return {
        "lgbm": (compile_lightgbm(lgbm.booster_, s), lgbm.predict_proba),
        "xgb": (compile_xgboost(xgb.get_booster(), s), lambda z: _softmax_or_sigmoid(margin(z))),
        "forest": (compile_sklearn_forest(forest, s), forest.predict_proba),
        "linear": (
            compile_linear(design, logistic, s),
            lambda z: logistic.predict_proba(design.transform(z)),
        ),
    }


def _softmax_or_sigmoid(m):
    if m.ndim == 1:
        p = 1 / (1 + np.exp(-m))
        return np.column_stack([1 - p, p])
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_binary_blend_is_the_weighted_sum_of_clipped_member_means(data, tmp_path):
    enc, Z, y, _, Zt = data
    models = _models(enc, Z, y)
    halves = _models(enc, Z[::2], y[::2])
    members = [
        ("lgbm", 0.4, [(models["lgbm"][0], None)]),
        ("xgb", 0.3, [(models["xgb"][0], None), (halves["xgb"][0], None)]),  # a fold average
        ("forest", 0.2, [(models["forest"][0], None)]),
        ("linear", 0.1, [(models["linear"][0], None), (halves["linear"][0], None)]),
    ]
    blend = compile_blend(members, enc.schema_, 2)
    expected = np.zeros(len(Zt))
    for name, weight, parts in members:
        probas = [models[name][1](Zt)] + ([halves[name][1](Zt)] if len(parts) > 1 else [])
        expected += weight * np.clip(np.mean(probas, axis=0)[:, 1], EPS, 1 - EPS)
    assert np.abs(blend.score_encoded(Zt) - expected).max() < 1e-12
    assert np.abs([blend.score_one(z) for z in Zt] - expected).max() < 1e-12
    loaded = CompiledModel.load(blend.save(tmp_path / "teacher.npz"))
    assert np.array_equal(loaded.score_encoded(Zt), blend.score_encoded(Zt))
    assert loaded.header()["version"] == 4 and loaded.kind == "blend"
    assert loaded.n_trees == sum(m.n_trees for m in (models["lgbm"][0], models["forest"][0])) + (
        models["xgb"][0].n_trees + halves["xgb"][0].n_trees
    )
    # batch threads and single rows agree (the float32 sums keep their order either way)
    big = np.repeat(Zt, 3, axis=0)
    assert np.array_equal(blend._scorer.batch(big, 2), blend._scorer.batch(big, 1))


def test_k_class_blend_places_fold_models_columns(data):
    enc, Z, _, classes, Zt = data
    full = _models(enc, Z, classes)
    # a fold model that never saw class 1: fit on classes 0 and 2, coded 0 and 1
    rows = classes != 1
    pair = _models(enc, Z[rows], (classes[rows] == 2).astype(int))
    forest3 = ExtraTreesClassifier(n_estimators=6, random_state=0).fit(Z, classes)
    members = [
        ("lgbm", 0.25, [(full["lgbm"][0], None), (pair["lgbm"][0], [0, 2])]),  # sigmoid2
        ("xgb", 0.25, [(full["xgb"][0], None)]),
        ("forest", 0.2, [(pair["forest"][0], [0, 2])]),  # identity2
        ("trees", 0.2, [(compile_sklearn_forest(forest3, enc.schema_), None)]),  # vectors
        ("linear", 0.1, [(full["linear"][0], None), (pair["linear"][0], [0, 2])]),
    ]
    blend = compile_blend(members, enc.schema_, 3)
    put = lambda p, cols: np.eye(3)[:, cols] @ p.T if cols else p.T  # noqa: E731
    sources = {**{k: v[1] for k, v in full.items()}, "trees": forest3.predict_proba}
    expected = np.zeros((len(Zt), 3))
    for name, weight, parts in members:
        probas = []
        for _, cols in parts:
            source = pair[name][1] if cols else sources[name]
            probas.append(put(source(Zt), cols).T)
        expected += weight * clip_distribution(np.mean(probas, axis=0))
    scores = blend.score_encoded(Zt)
    assert scores.shape == (len(Zt), 3)
    assert np.abs(scores - expected).max() < 1e-12
    assert np.abs(np.array([blend.score_one(z) for z in Zt]) - expected).max() < 1e-12
    # the 3-class forest's class copies are stored once, with vector leaves
    assert (blend.arrays["tree_width"] == 3).sum() == 6
    assert np.array_equal(CompiledModel.load(blend.to_bytes()).score_encoded(Zt), scores)


def test_merge_copies_only_merges_identical_structures(data):
    enc, Z, _, classes, _ = data
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(Z, classes)
    table = compile_sklearn_forest(forest, enc.schema_).arrays
    merged, widths, vectors = merge_copies(table, 3)
    assert len(merged["feature"]) * 3 == len(table["feature"]) and (widths == 3).all()
    assert len(vectors) == 3 * int((merged["feature"] < 0).sum())
    table = dict(table, feature=table["feature"].copy())
    table["feature"][np.flatnonzero(table["feature"] >= 0)[-1]] += 1  # one copy differs
    assert merge_copies(table, 3)[1].tolist() == [1] * 9


@pytest.fixture(scope="module")
def binary(data):
    """A binary blend of one model of each kind."""
    enc, Z, y, _, _ = data
    members = [(n, 0.25, [(m, None)]) for n, (m, _) in _models(enc, Z, y).items()]
    return compile_blend(members, enc.schema_, 2)


def test_loader_refuses_damaged_blends(binary):
    blend = binary
    header, arrays = format.read(blend.to_bytes())

    def load(header=header, **changes):
        return CompiledModel.load(format.container(format.body(header, {**arrays, **changes}), 4))

    load()  # the file as written loads
    bad = {**header, "meta": {**header["meta"], "members": header["meta"]["members"][:3]}}
    with pytest.raises(ArtifactError, match="the members hold 3 parts"):
        load(bad)
    parts = [dict(p) for p in header["meta"]["parts"]]
    parts[0]["classes"] = [5]
    with pytest.raises(ArtifactError, match="'classes' must be"):
        load({**header, "meta": {**header["meta"], "parts": parts}})
    with pytest.raises(ArtifactError, match="weight must be a finite number"):
        members = [dict(m, weight=float("nan")) for m in header["meta"]["members"]]
        load({**header, "meta": {**header["meta"], "members": members}})
    with pytest.raises(ArtifactError, match="linear tables"):
        load(linear_values=arrays["linear_values"][:-1])
    with pytest.raises(ArtifactError, match="tree widths"):
        load(tree_width=arrays["tree_width"][:-1])
    old = format.container(format.body({**header, "version": 3}, arrays), 3)
    with pytest.raises(ArtifactError, match="format version 4"):
        CompiledModel.load(old)


def test_a_reader_of_versions_1_to_3_says_to_upgrade(binary, monkeypatch):
    blob = binary.to_bytes()
    monkeypatch.setattr(format, "READABLE_VERSIONS", (1, 2, 3))
    monkeypatch.setattr(format, "BLEND_VERSION", 3)
    with pytest.raises(ArtifactError, match="version 4; this tabdistill reads versions 1, 2, 3"):
        CompiledModel.load(blob)


def test_reasons_are_a_students(binary, data):
    _, _, _, _, Zt = data
    with pytest.raises(TypeError, match="a compiled teacher .* ask the student"):
        binary.score_encoded(Zt, reasons=3)


def test_blends_score_with_the_c_kernels_only(binary, monkeypatch):
    blend = binary
    monkeypatch.setenv("TABDISTILL_KERNELS", "numba")
    with pytest.raises(ImportError, match="compiled C kernels only"):
        CompiledModel.load(blend.to_bytes())


def test_kernels_check_what_they_are_given(binary):
    from tabdistill_runtime import _ckernels

    blend = binary
    arrays = blend._scorer._arrays
    with pytest.raises(ValueError, match="widths and vectors go together"):
        _ckernels.Forest(arrays, blend.n_features, 4, 0.0, 0, EPS, 0.0, widths=np.ones(1, "i4"))
    n_trees = len(arrays[1])
    widths = np.full(n_trees, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="out of range"):
        _ckernels.Forest(
            arrays, blend.n_features, 4, 0.0, 0, EPS, 0.0, widths=widths, vectors=np.zeros(1)
        )
    f = _ckernels.Forest(arrays, blend.n_features, 4, 0.0, 0, EPS, 0.0)
    parts = np.array([0, 3, 2, 0, -1], dtype=np.int32)  # a sigmoid of two scores
    with pytest.raises(ValueError, match="inconsistent parts"):
        _ckernels.Blend(f, (), parts, np.zeros(0, "i4"), np.array([0, 1], "i4"), np.ones(1), 1, EPS)
