import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS, mixed_frame
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import log_loss

from tabdistill import TeacherEnsemble
from tabdistill.distill.teacher import ensemble_selection
from tabdistill.exceptions import DataError


class CoinFlip(ClassifierMixin, BaseEstimator):
    """A deliberately useless member: random probabilities."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.random.default_rng(self.random_state).uniform(0.05, 0.95, len(X))
        return np.column_stack([1 - p, p])


def test_teacher_fits_mixed_frame_and_exposes_oof(mixed):
    X, y = mixed
    t = TeacherEnsemble(members=FAST_MEMBERS, cv=3, random_state=0).fit(X, y)
    assert t.oof_proba_.shape == (len(y),)
    assert set(t.oof_member_proba_) == set(FAST_MEMBERS)
    assert abs(sum(t.weights_.values()) - 1) < 1e-9
    assert t.member_scores_["ensemble"]["roc_auc"] > 0.8
    proba = t.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(1), 1)
    assert list(t.classes_) == [0, 1]
    assert t.n_features_in_ == X.shape[1]


def test_learned_weights_beat_best_member_with_useless_member(mixed):
    X, y = mixed
    members = {**FAST_MEMBERS, "coin": CoinFlip()}
    t = TeacherEnsemble(members=list(members.items()), cv=3, random_state=0).fit(X, y)
    best_single = min(s["log_loss"] for n, s in t.member_scores_.items() if n != "ensemble")
    assert t.member_scores_["ensemble"]["log_loss"] <= best_single + 1e-12
    assert t.weights_["coin"] == 0.0
    assert "coin" not in t.estimators_  # a zero-weight member is not refit


class CountingCoinFlip(CoinFlip):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_on_large_data_a_member_without_weight_after_one_fold_is_dropped(mixed, monkeypatch):
    from tabdistill.distill import teacher

    X, y = mixed
    members = [("lightgbm", FAST_MEMBERS["lightgbm"]), ("coin", CountingCoinFlip())]
    TeacherEnsemble(members=members, cv=3, random_state=0).fit(X, y)
    assert CountingCoinFlip.fits == 3  # small data: every fold
    monkeypatch.setattr(teacher, "LARGE_DATA_ROWS", len(y) - 1)
    CountingCoinFlip.fits = 0
    t = TeacherEnsemble(members=members, cv=3, random_state=0).fit(X, y)
    assert CountingCoinFlip.fits == 1  # one fold showed it earns nothing
    assert t.weights_["coin"] == 0.0 and "coin" not in t.oof_member_proba_
    assert set(t.estimators_) == {"lightgbm"} and not t.budget_cuts_
    assert np.isfinite(t.oof_proba_).all()


def test_ensemble_selection_never_worse_than_best_member():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(y * 0.7 + 0.15 + rng.normal(0, 0.1, 400), 0.01, 0.99)
    P = np.column_stack([good, rng.uniform(size=400), np.full(400, 0.5)])
    w = ensemble_selection(P, y)
    assert w[0] == pytest.approx(1.0)
    assert log_loss(y, P @ w) <= log_loss(y, good) + 1e-12


def test_same_seed_same_probabilities(mixed):
    X, y = mixed
    a = TeacherEnsemble(members=FAST_MEMBERS, cv=3, random_state=7).fit(X, y)
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.oof_proba_, b.oof_proba_)


def test_string_target_and_sample_weight(mixed):
    X, y = mixed
    labels = np.where(y == 1, "fraud", "ok")
    w = np.where(y == 1, 3.0, 1.0)
    members = {"lightgbm": FAST_MEMBERS["lightgbm"], "logistic": {}}
    t = TeacherEnsemble(members=members, cv=3, random_state=0).fit(X, labels, sample_weight=w)
    assert list(t.classes_) == ["fraud", "ok"] and t.pos_label_ == "fraud"
    assert t.predict_proba(X)[:, 0].mean() < t.predict_proba(X)[:, 1].mean()  # fraud is rare
    unweighted = TeacherEnsemble(members=members, cv=3, random_state=0).fit(X, labels)
    assert t.predict_proba(X)[:, 0].mean() > unweighted.predict_proba(X)[:, 0].mean()
    assert set(t.predict(X)) <= {"ok", "fraud"}


def test_rare_positives_work_and_too_few_is_a_clear_error():
    X, y = mixed_frame(2_000, positive_rate=0.003)
    assert y.sum() == 6
    t = TeacherEnsemble(members={"logistic": {}}, cv=5, random_state=0).fit(X, y)
    assert np.isfinite(t.oof_proba_).all()
    with pytest.raises(DataError, match="at least 10 rows of each class"):
        TeacherEnsemble(members={"logistic": {}}, cv=10).fit(X, y)


def test_single_class_target_is_a_clear_error(mixed):
    X, _ = mixed
    with pytest.raises(DataError, match="one class only"):
        TeacherEnsemble(members={"logistic": {}}).fit(X, np.zeros(len(X)))


def test_unknown_member_is_a_clear_error(mixed):
    X, y = mixed
    with pytest.raises(ValueError, match="unknown member 'catboost'"):
        TeacherEnsemble(members=["catboost"]).fit(X, y)


def test_boosted_members_stop_early_inside_folds_and_refit_with_those_rounds(mixed):
    X, y = mixed
    members = {"lightgbm": {"n_estimators": 400}, "xgboost": {"n_estimators": 400}}
    t = TeacherEnsemble(members=members, cv=3, random_state=0).fit(X, y)
    assert set(t.rounds_) == {"lightgbm", "xgboost"}
    assert all(1 <= r < 400 for r in t.rounds_.values())  # 600 rows need far fewer rounds
    for name, est in t.estimators_.items():
        assert est.get_params()["n_estimators"] == t.rounds_[name]
    fixed = TeacherEnsemble(members=members, cv=3, early_stopping_rounds=None, random_state=0)
    fixed.fit(X, y)
    assert fixed.rounds_ == {}
    assert all(e.get_params()["n_estimators"] == 400 for e in fixed.estimators_.values())


def test_refit_encoded_refits_members_on_more_rows_keeping_what_cross_fitting_chose(mixed):
    X, y = mixed
    t = TeacherEnsemble(members={"lightgbm": {"n_estimators": 400}}, cv=3, random_state=0)
    part = np.arange(len(y)) % 4 != 0  # three quarters of the rows
    t.fit(X[part], y[part])
    weights, oof, rounds = dict(t.weights_), t.oof_proba_.copy(), dict(t.rounds_)
    before = t.predict_proba(X)
    Z = t.encoder_.encode(X)
    t.refit_encoded(Z, np.asarray(y))
    assert t.weights_ == weights and np.array_equal(t.oof_proba_, oof)
    assert t.n_refit_rows_ == len(y)
    # the rounds the folds kept, scaled by the square root of the ratio of rows
    expected = max(1, round(rounds["lightgbm"] * (len(y) / part.sum()) ** 0.5))
    assert t.rounds_["lightgbm"] == expected == t.estimators_["lightgbm"].n_estimators
    assert np.abs(t.predict_proba(X) - before).max() > 1e-6
    with pytest.raises(DataError, match="rows but y has"):
        t.refit_encoded(Z, np.asarray(y)[:-1])


def test_defaults_scale_with_rows_but_never_a_users_setting():
    from tabdistill.distill.members import (
        FOREST_FULL_ROWS,
        FOREST_ROWS,
        FOREST_TREES,
        LARGE_DATA_ROWS,
        build_member,
        scale_to_rows,
    )

    cat, big = np.zeros(3, bool), 4 * LARGE_DATA_ROWS
    for rows in (1_000, FOREST_FULL_ROWS):
        small = scale_to_rows(build_member("random_forest", None, cat, 0, 1), "x", None, rows)
        assert small.get_params()["max_samples"] is None and small.n_estimators == 200
    # between the two thresholds a forest's trees draw FOREST_ROWS rows, and keep their number
    mid = FOREST_FULL_ROWS + 1
    assert mid < LARGE_DATA_ROWS
    forest = scale_to_rows(build_member("extra_trees", None, cat, 0, 1), "x", None, mid)
    assert forest.bootstrap and forest.max_samples * mid == pytest.approx(FOREST_ROWS)
    assert forest.n_estimators == 200
    booster = scale_to_rows(build_member("lightgbm", None, cat, 0, 1), "lightgbm", None, mid)
    assert booster.learning_rate == 0.05 and booster.num_leaves == 31
    for name in ("random_forest", "extra_trees"):
        forest = scale_to_rows(build_member(name, None, cat, 0, 1), name, None, big)
        assert forest.bootstrap and forest.max_samples * big == pytest.approx(FOREST_ROWS)
        assert forest.n_estimators == FOREST_TREES
    mine = {"n_estimators": 50, "max_samples": 0.5}
    forest = scale_to_rows(build_member("random_forest", mine, cat, 0, 1), "x", mine, big)
    assert (forest.n_estimators, forest.max_samples) == (50, 0.5)
    booster = scale_to_rows(build_member("lightgbm", None, cat, 0, 1), "lightgbm", None, big)
    assert booster.learning_rate == 0.1 and booster.num_leaves == 63
    mine = {"num_leaves": 15}
    booster = scale_to_rows(build_member("lightgbm", mine, cat, 0, 1), "lightgbm", mine, big)
    assert booster.num_leaves == 15


def test_default_folds_are_fewer_on_large_data(mixed, monkeypatch):
    from tabdistill.distill import teacher

    X, y = mixed
    seen = []
    real = teacher.teacher_folds
    monkeypatch.setattr(
        teacher, "teacher_folds", lambda cv, *a, **k: seen.append(cv) or real(cv, *a, **k)
    )
    members = {"logistic": {}}
    TeacherEnsemble(members=members, random_state=0).fit(X, y)
    monkeypatch.setattr(teacher, "LARGE_DATA_ROWS", len(y) - 1)
    TeacherEnsemble(members=members, random_state=0).fit(X, y)
    TeacherEnsemble(members=members, cv=4, random_state=0).fit(X, y)  # the user's choice holds
    assert seen == [5, 3, 4]


def test_boosted_members_use_one_thread_per_50k_rows():
    from tabdistill._threads import ROWS_PER_THREAD, resolve_n_jobs, threads_for
    from tabdistill.distill.members import build_member, scale_to_rows

    assert resolve_n_jobs(None) == 1 and resolve_n_jobs(3) == 3 and resolve_n_jobs(-1) >= 1
    assert threads_for(8, 2_000) == 1  # small data: threads cost more than they save
    assert threads_for(8, 2 * ROWS_PER_THREAD + 1) == 3
    assert threads_for(2, 10 * ROWS_PER_THREAD) == 2  # never more than asked
    assert threads_for(None, 10 * ROWS_PER_THREAD) == 1
    cat = np.zeros(3, bool)
    for name in ("lightgbm", "xgboost"):
        small = scale_to_rows(build_member(name, None, cat, 0, 4), name, None, 2_000)
        assert small.get_params()["n_jobs"] == 1
        large = scale_to_rows(build_member(name, None, cat, 0, 4), name, None, 10**6)
        assert large.get_params()["n_jobs"] == 4
        # a user's own thread count is kept
        own = scale_to_rows(build_member(name, {"n_jobs": 2}, cat, 0, 4), name, {"n_jobs": 2}, 10)
        assert own.get_params()["n_jobs"] == 2


def test_boosted_members_split_many_levels_without_searching_partitions():
    """No partition search over more than PARTITION_LEVELS levels: XGBoost reads such a
    column's codes as numbers, LightGBM splits one level vs the rest; few levels: partitions."""
    from tabdistill.distill.members import PARTITION_LEVELS, build_member, category_levels

    rng = np.random.default_rng(0)
    Z = np.column_stack(
        [
            rng.normal(size=300),
            rng.integers(0, 5, 300).astype(float),
            rng.integers(0, PARTITION_LEVELS + 10, 300).astype(float),
        ]
    )
    Z[:7, 1] = np.nan
    cat = np.array([False, True, True])
    levels = category_levels(Z, cat)
    assert levels.tolist() == [0, 5, int(np.nanmax(Z[:, 2])) + 1]
    xgb = build_member("xgboost", None, cat, 0, 1, levels)
    assert xgb.get_params()["feature_types"] == ["q", "c", "q"]
    assert build_member("xgboost", None, cat, 0, 1).get_params()["feature_types"] == ["q", "c", "c"]
    lgbm = build_member("lightgbm", None, cat, 0, 1, levels)
    assert lgbm.get_params()["max_cat_to_onehot"] == levels[2] + 1  # one level vs the rest
    few = build_member("lightgbm", None, cat, 0, 1, np.array([0, 5, 5]))
    assert few.get_params().get("max_cat_to_onehot") is None  # LightGBM's default
    mine = build_member("lightgbm", {"max_cat_to_onehot": 8}, cat, 0, 1, levels)
    assert mine.get_params()["max_cat_to_onehot"] == 8
    X = pd.DataFrame(
        {
            "x": Z[:, 0],
            "few": [f"f{v:.0f}" for v in Z[:, 1]],
            "many": [f"m{v:.0f}" for v in Z[:, 2]],
        }
    )
    y = (Z[:, 0] + (Z[:, 2] % 3 == 0) > 0.5).astype(int)
    teacher = TeacherEnsemble(members=["xgboost"], cv=2, random_state=0, n_jobs=1).fit(X, y)
    assert teacher.encoder_.roles_["many"] == "categorical"
    assert teacher.estimators_["xgboost"].get_params()["feature_types"] == ["q", "c", "q"]


@pytest.mark.parametrize("name", ["lightgbm", "xgboost", "random_forest", "logistic"])
def test_fitting_on_rows_of_the_matrix_equals_fitting_on_their_copy(name):
    """``rows=`` (cross-fitting: no copy of the fold first) fits the same model as a copy."""
    from tabdistill.distill.members import build_member, fit_member

    rng = np.random.default_rng(1)
    Z = rng.normal(size=(400, 4))
    y = (Z[:, 0] + rng.normal(size=400) > 0).astype(int)
    w = rng.uniform(0.5, 2, 400)
    rows = np.sort(rng.choice(400, 300, replace=False))
    cat = np.zeros(4, dtype=bool)
    params = {"n_estimators": 20} if name != "logistic" else None
    stop = (5, 0.2, 0) if name in ("lightgbm", "xgboost") else None

    def fit(**kw):
        est = build_member(name, params, cat, 0, 1)
        return fit_member(est, kw.pop("Z"), y[rows], w[rows], cat, stop, **kw)

    a, b = fit(Z=Z, rows=rows), fit(Z=Z[rows])
    np.testing.assert_array_equal(a.predict_proba(Z), b.predict_proba(Z))


def test_folds_given_as_boolean_masks_equal_folds_given_as_positions(mixed):
    X, y = mixed
    masks, positions = [], []
    for k in range(3):
        test = np.arange(len(y)) % 3 == k
        masks.append((~test, test))
        positions.append((np.flatnonzero(~test), np.flatnonzero(test)))
    fit = [
        TeacherEnsemble(members=FAST_MEMBERS, cv=cv, random_state=0).fit(X, y)
        for cv in (masks, positions)
    ]
    np.testing.assert_array_equal(fit[0].oof_proba_, fit[1].oof_proba_)


def test_a_high_cardinality_column_adds_a_lightgbm_that_never_splits_on_it(monkeypatch):
    from tabdistill.distill import members

    monkeypatch.setattr(members, "DEFAULT_MEMBERS", ("lightgbm", "logistic"))
    X, y = mixed_frame(800, seed=3)
    rng = np.random.default_rng(0)
    with_id = X.assign(plane=[f"N{k}" for k in rng.integers(0, 300, len(X))])  # noise, 300 levels
    t = TeacherEnsemble(cv=3, random_state=0).fit(with_id, y)
    added = "lightgbm_no_high_card"
    assert set(t.oof_member_proba_) == set(t.weights_) == {"lightgbm", "logistic", added}
    # the other members' out-of-fold scores are those of a teacher without it (same folds, seeds)
    plain = TeacherEnsemble(members=["lightgbm", "logistic"], cv=3, random_state=0)
    plain.fit(with_id, y)
    for name in ("lightgbm", "logistic"):
        np.testing.assert_array_equal(plain.oof_member_proba_[name], t.oof_member_proba_[name])
    # it never splits on the column's codes nor on its frequency feature
    alone = TeacherEnsemble(members=[added], cv=3, random_state=0).fit(with_id, y)
    features = alone.encoder_.schema_.features
    assert {"plane", "plane.frequency"} <= set(features)
    gain = dict(zip(features, alone.estimators_[added].booster_.feature_importance("gain")))
    assert gain["plane"] == gain["plane.frequency"] == 0 and gain["x1"] > 0
    # the teacher does without the column where selection weighed that member above the other
    features = t.encoder_.schema_.features
    t.weights_ = {"lightgbm": 0.2, "logistic": 0.3, added: 0.5}
    assert [features[i] for i in t.ignored_features()] == ["plane", "plane.frequency"]
    t.weights_ = {"lightgbm": 0.5, "logistic": 0.3, added: 0.2}
    assert t.ignored_features() == []
    # no such column: the default members only
    assert set(TeacherEnsemble(cv=3, random_state=0).fit(X, y).weights_) == {"lightgbm", "logistic"}
