"""Per-row contributions and reason codes: exact TreeSHAP against LightGBM and a brute-force
Shapley reference, linear terms, grouping by input column, files, compressed students."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from tabdistill.compress.prune import reweight
from tabdistill.compress.quantize import quantize_leaves
from tabdistill.data import TabularEncoder
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.exceptions import ArtifactError
from tabdistill_runtime import CompiledModel, explain
from tabdistill_runtime.explain import ABOVE, Explainer, leaf_paths, tree_links
from tabdistill_runtime.from_lightgbm import compile_lightgbm
from tabdistill_runtime.rules import CATEGORICAL, DEFAULT_LEFT, FLOAT32, ZERO, missing_type

pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def _lgb(Z, y, cat=(), rounds=12, **params):
    import lightgbm as lgb

    base = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 0}
    base.update(min_data_per_group=5, cat_smooth=1, max_cat_to_onehot=2)
    data = lgb.Dataset(Z, y, categorical_feature=list(cat), free_raw_data=False)
    return lgb.train({**base, **params}, data, num_boost_round=rounds)


@pytest.fixture(scope="module")
def rule_data():
    """NaN, zero-as-missing, 100-level and 5-level categories, numbers far outside the range."""
    rng = np.random.default_rng(0)
    n = 3_000
    Z = np.column_stack(
        [
            rng.normal(size=n),
            np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),
            rng.integers(0, 100, n).astype(float),
            rng.integers(0, 5, n).astype(float),
            rng.normal(size=n),
        ]
    )
    Z[rng.random(n) < 0.1, 0] = np.nan
    Z[rng.random(n) < 0.05, 3] = np.nan
    y = ((Z[:, 2] % 7 < 3) ^ (np.nan_to_num(Z[:, 0]) > 0.3) ^ (Z[:, 1] == 0)).astype(float)
    probe = np.vstack([Z[:400], rng.normal(size=(100, 5)) * 50, np.full((1, 5), np.nan)])
    probe[::13, 2] = 250.0  # a category never seen
    probe[::17, 3] = -1.0
    return Z, y, TabularEncoder().fit(Z), probe


SHAPES = {
    "deep": {"num_leaves": 100, "min_data_in_leaf": 5},  # walked, many repeated features
    "zero_as_missing": {"zero_as_missing": True},
    "shallow": {"num_leaves": 8, "max_depth": 3},  # tabulated
    "bagged": {"num_leaves": 31, "bagging_fraction": 0.5, "bagging_freq": 1},
    "stumps": {"num_leaves": 2},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_tree_contributions_match_lightgbm_pred_contrib(rule_data, shape):
    Z, y, enc, probe = rule_data
    booster = _lgb(Z, y, cat=[2, 3], **SHAPES[shape])
    runtime = compile_lightgbm(booster, enc.schema_)
    got = runtime.contributions_encoded(probe)
    expected = booster.predict(probe, pred_contrib=True)
    assert got.shape == expected.shape == (len(probe), 6)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    raw = booster.predict(probe, raw_score=True)
    np.testing.assert_allclose(got.sum(axis=1), raw, rtol=0, atol=1e-9)
    # tables of blocks (all, or as many as 2 kB hold), leaf by leaf, the walk: the same values
    for tables, leaves in ((2_048, True), (False, True), (False, False)):
        other = Explainer(runtime, runtime._depth, tables=tables, leaves=leaves)
        np.testing.assert_allclose(other.encoded(probe)[:, 0], got, rtol=0, atol=1e-12)


def test_deep_trees_over_many_features_match_lightgbm():
    # paths of up to 14 distinct features: 7 quadrature points, the walk's general case
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(4_000, 14))
    Z[rng.random(Z.shape) < 0.05] = np.nan
    y = (np.nansum(Z[:, :7] * Z[:, 7:], axis=1) > 0).astype(float)
    booster = _lgb(Z, y, rounds=4, num_leaves=300, min_data_in_leaf=2, max_depth=-1)
    runtime = compile_lightgbm(booster, TabularEncoder().fit(Z).schema_)
    assert runtime.explainer._c.n_points() == 7
    probe = np.vstack([Z[:300], rng.normal(size=(50, 14)) * 10])
    got = runtime.contributions_encoded(probe)
    np.testing.assert_allclose(got, booster.predict(probe, pred_contrib=True), rtol=0, atol=1e-9)


def _every_way(runtime, probe, monkeypatch):
    """The contributions of the first output, computed every way the explainer has: its
    default tables (blocks, then leaves), leaves' tables only (no blocks), tables of 2 kB
    (most leaves over the cap: computed), no tables, and walked; with the explainers."""
    ways = {}
    with monkeypatch.context() as m:
        m.setattr(explain, "BLOCK_BITS", 0)
        ways["leaf tables"] = Explainer(runtime, runtime._depth)
    ways["default"] = Explainer(runtime, runtime._depth)
    ways["2 kB"] = Explainer(runtime, runtime._depth, tables=2_048)
    ways["computed"] = Explainer(runtime, runtime._depth, tables=False)
    ways["walked"] = Explainer(runtime, runtime._depth, leaves=False)
    assert ways["leaf tables"].n_tabulated == 0 and ways["computed"].n_leaf_tables == 0
    assert 0 < ways["2 kB"].n_leaf_tables < ways["leaf tables"].n_leaf_tables
    return {name: e.encoded(probe)[:, 0] for name, e in ways.items()}, ways


def test_leaf_tables_agree_with_the_walk_and_lightgbm_on_deep_trees(monkeypatch):
    # 6 features under 100 leaves: features repeat along the paths, and trees of more than
    # 64 splits are passed over node by node rather than walked
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(5_000, 6))
    Z[rng.random(Z.shape) < 0.05] = np.nan
    y = (np.nansum(Z[:, :3] * Z[:, 3:], axis=1) + np.nan_to_num(Z[:, 0]) > 0).astype(float)
    booster = _lgb(Z, y, rounds=5, num_leaves=100, min_data_in_leaf=3, max_depth=-1)
    runtime = compile_lightgbm(booster, TabularEncoder().fit(Z).schema_)
    a = runtime.arrays
    assert (tree_links(a)[0] & ABOVE).any()
    assert (np.diff(np.append(a["roots"], len(a["feature"]))) > 2 * 64 + 1).all()
    probe = np.vstack([Z[:300], rng.normal(size=(50, 6)) * 10, np.full((1, 6), np.nan)])
    expected = booster.predict(probe, pred_contrib=True)
    got, ways = _every_way(runtime, probe, monkeypatch)
    assert ways["default"].n_tabulated > 0  # blocks of trees over 64 splits too
    assert ways["leaf tables"].n_leaf_tables == len(leaf_paths(a, explain.shares(a))[2])
    for name, values in got.items():
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(values, got["walked"], rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("leaves", [31, 100])  # trees of up to 64 splits, and more
def test_zero_cover_children_are_computed_exactly(rule_data, monkeypatch, leaves):
    # covers counted on 60 rows: children no row reached have zero fractions, whose leaves
    # have no table ((1 - z) / z does not exist) and are computed on their own
    Z, y, enc, probe = rule_data
    booster = _lgb(Z, y, cat=[2, 3], rounds=3, num_leaves=leaves, min_data_in_leaf=5)
    runtime = compile_lightgbm(booster, enc.schema_)
    sizes = np.diff(np.append(runtime.arrays["roots"], len(runtime.arrays["feature"])))
    assert (sizes > 2 * 64 + 1).any() == (leaves > 65)
    sparse = runtime.with_covers(Z[:60])
    assert (sparse.arrays["cover"] == 0).any()
    got, ways = _every_way(sparse, probe, monkeypatch)
    n_leaves = int((sparse.arrays["feature"] < 0).sum())
    assert 0 < ways["leaf tables"].n_leaf_tables < n_leaves
    for name, values in got.items():
        np.testing.assert_allclose(values, got["walked"], rtol=0, atol=1e-12, err_msg=name)
    for row, phi in zip(probe[:4], got["leaf tables"][:4]):
        np.testing.assert_allclose(phi, _shapley(sparse, row), rtol=0, atol=1e-9)


def test_xgboost_runtimes_explain_as_xgboost_does():
    # XGBoost weighs paths by hessian sums and adds in float32: agreement to float32 rounding
    import xgboost as xgb

    from tabdistill_runtime.from_xgboost import compile_xgboost

    rng = np.random.default_rng(6)
    X = rng.normal(size=(2_000, 5))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 1]) * X[:, 2] > 0).astype(int)
    booster = xgb.XGBClassifier(n_estimators=20, max_depth=5).fit(X, y).get_booster()
    runtime = compile_xgboost(booster, TabularEncoder().fit(X).schema_)
    got = runtime.contributions_encoded(X[:300])
    expected = booster.predict(xgb.DMatrix(X[:300]), pred_contribs=True)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_covers_are_lightgbm_counts_and_count_the_training_rows(rule_data):
    Z, y, enc, _ = rule_data
    booster = _lgb(Z, y, cat=[2, 3], num_leaves=15)
    runtime = compile_lightgbm(booster, enc.schema_)
    root_counts = [t["tree_structure"]["internal_count"] for t in booster.dump_model()["tree_info"]]
    np.testing.assert_array_equal(runtime.arrays["cover"][runtime.arrays["roots"]], root_counts)
    # without bagging, LightGBM's counts are the training rows reaching each node
    recounted = runtime.with_covers(Z)
    np.testing.assert_array_equal(recounted.arrays["cover"], runtime.arrays["cover"])


def test_multiclass_contributions_match_lightgbm(rule_data, monkeypatch):
    Z, _, enc, probe = rule_data
    y = (np.nan_to_num(Z[:, 0]) > 0).astype(int) + (Z[:, 2] > 50)
    booster = _lgb(Z, y, cat=[2, 3], rounds=6, objective="multiclass", num_class=3, num_leaves=12)
    runtime = compile_lightgbm(booster, enc.schema_)
    got = runtime.contributions_encoded(probe)
    assert got.shape == (len(probe), 3, 6)
    expected = booster.predict(probe, pred_contrib=True).reshape(len(probe), 3, 6)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    with monkeypatch.context() as m:  # every class's leaves from their tables
        m.setattr(explain, "BLOCK_BITS", 0)
        leaf_tables = Explainer(runtime, runtime._depth)
    assert leaf_tables.n_leaf_tables == int((runtime.arrays["feature"] < 0).sum())
    np.testing.assert_allclose(leaf_tables.encoded(probe), expected, rtol=0, atol=1e-9)


def test_a_soft_label_multiclass_student_adds_its_init_score_to_the_expected_value():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(1_500, 4))
    q = np.exp(np.column_stack([Z[:, 0], Z[:, 1] * Z[:, 2], -Z[:, 0]]))
    q /= q.sum(axis=1, keepdims=True)
    student = make_student("lightgbm", {"n_estimators": 8, "num_leaves": 6}, random_state=0)
    student.fit(Z, q)
    runtime = compile_student(student, TabularEncoder().fit(Z).schema_)
    got = runtime.contributions_encoded(Z[:200])
    lgb_contrib = student.booster_.predict(Z[:200], pred_contrib=True).reshape(200, 3, 5)
    np.testing.assert_allclose(got[..., :-1], lgb_contrib[..., :-1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        got[..., -1], lgb_contrib[..., -1] + student.init_, rtol=0, atol=1e-9
    )
    logits = got.sum(axis=2)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        p / p.sum(axis=1, keepdims=True), student.predict(Z[:200]), atol=1e-9
    )


# -- a brute-force reference: Shapley values of the path-dependent conditional expectation


def _goes_left(a, node, v):
    """The decision rules of tabdistill_runtime.rules, node by node (the reference's own)."""
    fl, t = int(a["flags"][node]), a["value"][node]
    if fl & CATEGORICAL:
        if not (-1.0 < v < 2**31):
            return False
        k, iv = int(t), int(v)
        start, stop = a["cat_bounds"][k], a["cat_bounds"][k + 1]
        return (iv >> 5) < stop - start and bool(
            (a["cat_bits"][start + (iv >> 5)] >> (iv & 31)) & 1
        )
    if fl & FLOAT32:
        v = float(np.float32(v))
    miss = int(missing_type(fl))
    if math.isnan(v) and miss != 2:
        v = 0.0
    if (miss == 1 and -ZERO <= v <= ZERO) or (miss == 2 and math.isnan(v)):
        return bool(fl & DEFAULT_LEFT)
    return v <= t


def _expectation(a, node, x, known):
    """E[tree(x) | features in known], each unknown split weighted by its children's covers."""
    f = a["feature"][node]
    if f < 0:
        return a["value"][node]
    left, right = node + 1, a["right"][node]
    if f in known:
        return _expectation(a, left if _goes_left(a, node, x[f]) else right, x, known)
    c = a["cover"]
    w_left, w_right = (c[left] / c[node], c[right] / c[node]) if c[node] > 0 else (0.5, 0.5)
    return w_left * _expectation(a, left, x, known) + w_right * _expectation(a, right, x, known)


def _shapley(model, x, output=0):
    a, d = model.arrays, model.n_features
    trees = [r for r, o in zip(a["roots"], a["tree_output"]) if o == output]

    def value(known):
        return sum(_expectation(a, r, x, known) for r in trees)

    phi = np.zeros(d + 1)
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for size in range(d):
            weight = math.factorial(size) * math.factorial(d - size - 1) / math.factorial(d)
            for s in itertools.combinations(others, size):
                phi[i] += weight * (value(set(s) | {i}) - value(set(s)))
    phi[d] = value(set()) + model.meta["base"]
    return phi


@pytest.mark.parametrize("max_depth", [2, 5, 9])
def test_sklearn_tree_contributions_are_exact_shapley_values(max_depth):
    rng = np.random.default_rng(max_depth)
    Z = rng.normal(size=(800, 4))
    Z[rng.random(800) < 0.1, 1] = np.nan
    q = 1 / (1 + np.exp(-(Z[:, 0] * 2 - np.nan_to_num(Z[:, 1]) + Z[:, 2] * Z[:, 3])))
    student = make_student("tree", {"max_depth": max_depth, "min_samples_leaf": 5}).fit(Z, q)
    runtime = compile_student(student, TabularEncoder().fit(Z).schema_)
    probe = np.vstack([Z[:12], [[np.nan, np.nan, 0.0, 1e30]]])
    got = runtime.contributions_encoded(probe)
    for row, phi in zip(probe, got):
        np.testing.assert_allclose(phi, _shapley(runtime, row), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        got.sum(axis=1), student.tree_model_.predict(np.clip(probe, -3e38, 3e38)), atol=1e-12
    )


def test_multi_output_sklearn_tree_explains_each_class():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(600, 3))
    q = np.exp(np.column_stack([Z[:, 0], Z[:, 1], np.zeros(600)]))
    q /= q.sum(axis=1, keepdims=True)
    student = make_student("tree", {"max_depth": 4, "min_samples_leaf": 5}).fit(Z, q)
    runtime = compile_student(student, TabularEncoder().fit(Z).schema_)
    got = runtime.contributions_encoded(Z[:5])
    assert got.shape == (5, 3, 4)
    for row, phi in zip(Z[:5], got):
        for k in range(3):
            np.testing.assert_allclose(phi[k], _shapley(runtime, row, k), atol=1e-12)


def test_categorical_lightgbm_splits_against_the_reference(rule_data):
    Z, y, enc, probe = rule_data
    booster = _lgb(Z[:, :4], y, cat=[2, 3], rounds=3, num_leaves=10)
    runtime = compile_lightgbm(booster, TabularEncoder().fit(Z[:, :4]).schema_)
    got = runtime.contributions_encoded(probe[:, :4])
    for row, phi in zip(probe[:40, :4], got[:40]):
        np.testing.assert_allclose(phi, _shapley(runtime, row), rtol=0, atol=1e-9)


# -- compressed students: contributions sum to the runtime's own raw score


def _raw(model, Z):
    a = model.arrays
    return a["value"][model.apply(Z)].sum(axis=1) + model.meta["base"]


def test_quantized_and_pruned_students_stay_exact(rule_data):
    Z, y, enc, probe = rule_data
    runtime = compile_lightgbm(_lgb(Z, y, cat=[2, 3], num_leaves=15), enc.schema_)
    rng = np.random.default_rng(0)
    weights = np.where(rng.random(runtime.n_trees) < 0.3, 0.0, rng.uniform(0.5, 1.5, 12))
    pruned = reweight(runtime, weights, base=-0.25)
    models = [quantize_leaves(runtime, "int8")[0], pruned, quantize_leaves(pruned, "int16")[0]]
    for model in models:
        assert "cover" in model.arrays
        got = model.contributions_encoded(probe)
        np.testing.assert_allclose(got.sum(axis=1), _raw(model, probe), rtol=0, atol=1e-9)
        loaded = CompiledModel.load(model.to_bytes())
        np.testing.assert_array_equal(loaded.contributions_encoded(probe), got)
    for row, phi in zip(probe[:5], pruned.contributions_encoded(probe[:5])):
        np.testing.assert_allclose(phi, _shapley(pruned, row), rtol=0, atol=1e-9)


# -- linear students


def test_linear_terms_are_coefficient_times_standardised_value(rule_data):
    Z, y, enc, probe = rule_data
    mask = [False, False, True, True, False]  # columns 2 and 3 one-hot
    student = make_student("linear", categorical_mask=mask).fit(Z, y)
    runtime = compile_student(student, enc.schema_)
    got = runtime.contributions_encoded(probe)
    logit = student.model_.decision_function(student.design_.transform(probe))
    np.testing.assert_allclose(got.sum(axis=1), logit, rtol=0, atol=1e-9)
    d, coef = student.design_, student.model_.coef_.ravel()
    np.testing.assert_allclose(got[:, -1], student.model_.intercept_[0])
    row = probe[1]
    at = d.offsets_[4]
    assert got[1, 4] == pytest.approx(coef[at] * (row[4] - d.mean_[4]) / d.scale_[4])
    unseen = probe[:, 2] == 250.0  # an unseen category is no level: its term is 0
    assert unseen.any() and (got[unseen, 2] == 0).all()


def test_multiclass_linear_terms_sum_to_each_class_logit():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(500, 3))
    q = np.exp(np.column_stack([Z[:, 0], Z[:, 1], -Z[:, 0]]))
    q /= q.sum(axis=1, keepdims=True)
    student = make_student("linear").fit(Z, q)
    runtime = compile_student(student, TabularEncoder().fit(Z).schema_)
    got = runtime.contributions_encoded(Z[:50])
    logits = student.model_.decision_function(student.design_.transform(Z[:50]))
    np.testing.assert_allclose(got.sum(axis=2), logits, atol=1e-9)


# -- reasons by input column


@pytest.fixture(scope="module")
def bookings():
    """A date column (six encoded parts), a high-cardinality code (code + frequency), numbers."""
    rng = np.random.default_rng(0)
    n = 2_000
    when = pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")
    tail = rng.zipf(1.5, n) % 500
    X = pd.DataFrame(
        {
            "booked": [f"{t.month}/{t.day}/{t.year % 100:02d} {t.hour}:00" for t in when],
            "tail": [f"N{t}" for t in tail],
            "amount": rng.lognormal(3, 1, n),
            "country": rng.choice(["FR", "DE", "US"], n),
        }
    )
    X.loc[::29, "amount"] = np.nan
    y = ((when.month >= 6) ^ (X["amount"].fillna(0) > 40) ^ (tail < 3)).astype(float)
    enc = TabularEncoder(max_levels=20).fit(X)
    student = make_student(
        "lightgbm", {"n_estimators": 20, "num_leaves": 8}, categorical_mask=enc.categorical_mask_
    )
    runtime = compile_student(student.fit(enc.transform(X), y.to_numpy()), enc.schema_)
    return X, runtime


def test_reasons_name_input_columns_and_sum_their_encoded_features(bookings):
    X, runtime = bookings
    assert runtime.reason_names == ("booked", "tail", "amount", "country")
    assert len(runtime.schema.features) > 4  # date parts, the frequency feature
    grouped = runtime.contributions(X.head(50))
    encoded = runtime.contributions_encoded(runtime.schema.encode_columns(X.head(50)))
    np.testing.assert_allclose(grouped.sum(axis=1), encoded.sum(axis=1), atol=1e-12)
    parts = [
        j for j, f in enumerate(runtime.schema.features) if runtime.schema.source(f) == "booked"
    ]
    np.testing.assert_allclose(grouped[:, 0], encoded[:, parts].sum(axis=1), atol=1e-12)
    for i, record in enumerate(X.head(20).to_dict(orient="records")):
        score, reasons = runtime.score_record(record, reasons=3)
        assert score == runtime.score_record(record)
        order = np.argsort(-grouped[i, :-1], kind="stable")[:3]
        assert [name for name, _ in reasons] == [runtime.reason_names[j] for j in order]
        np.testing.assert_allclose([v for _, v in reasons], grouped[i, order], atol=1e-12)


def test_batch_reasons_equal_the_record_reasons(bookings):
    X, runtime = bookings
    scores, names, values = runtime.score_batch(X.head(30), reasons=2)
    np.testing.assert_array_equal(scores, runtime.score_batch(X.head(30)))
    assert names.shape == values.shape == (30, 2)
    for i, record in enumerate(X.head(30).to_dict(orient="records")):
        _, reasons = runtime.score_record(record, reasons=2)
        assert list(names[i]) == [n for n, _ in reasons]
        np.testing.assert_allclose(values[i], [v for _, v in reasons], atol=1e-12)
    _, names, _ = runtime.score_batch(X.head(3), reasons=10)  # more than there are columns
    assert names.shape == (3, 4)


def test_a_multiclass_model_explains_its_most_probable_class(rule_data):
    Z, _, enc, probe = rule_data
    y = (np.nan_to_num(Z[:, 0]) > 0).astype(int) + (Z[:, 2] > 50)
    booster = _lgb(Z, y, cat=[2, 3], rounds=6, objective="multiclass", num_class=3, num_leaves=12)
    runtime = compile_lightgbm(booster, enc.schema_)
    P, names, values = runtime.score_encoded(probe, reasons=5)
    contrib = runtime.contributions_encoded(probe)
    top = np.argmax(P, axis=1)
    for i in range(0, len(probe), 25):
        phi = contrib[i, top[i], :-1]
        assert list(names[i]) == [runtime.reason_names[j] for j in np.argsort(-phi, kind="stable")]
        np.testing.assert_allclose(values[i], np.sort(phi)[::-1], atol=1e-12)


def test_reasons_survive_a_file_and_a_file_without_covers_says_what_to_do(bookings, tmp_path):
    X, runtime = bookings
    path = runtime.save(tmp_path / "m.tdr")
    loaded = CompiledModel.load(path)
    record = X.iloc[3].to_dict()
    assert loaded.score_record(record, reasons=3) == runtime.score_record(record, reasons=3)
    arrays = {k: v for k, v in runtime.arrays.items() if k != "cover"}
    old = CompiledModel("trees", arrays, runtime.schema, runtime.meta)
    assert old.score_record(record) == runtime.score_record(record)
    with pytest.raises(ArtifactError, match="with_covers"):
        old.score_record(record, reasons=3)
    with pytest.raises(ValueError, match="reasons must be"):
        runtime.score_record(record, reasons=-1)


@pytest.mark.parametrize(
    "cover, message",
    [(-1.0, "negative"), (np.nan, "not finite"), (None, "one value a node")],
)
def test_bad_covers_are_refused(bookings, cover, message):
    _, runtime = bookings
    arrays = dict(runtime.arrays)
    arrays["cover"] = arrays["cover"][:-1] if cover is None else arrays["cover"].copy()
    if cover is not None:
        arrays["cover"][3] = cover
    with pytest.raises(ArtifactError, match=message):
        CompiledModel("trees", arrays, runtime.schema, runtime.meta)
