"""scikit-learn citizenship: estimator checks, scorers, meta-estimators, splitters (issue 11)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import mixed_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score, get_scorer, roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    TimeSeriesSplit,
    cross_val_score,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from tabdistill import DistilledClassifier, TabularEncoder, TeacherEnsemble

TINY = {"n_estimators": 5, "num_leaves": 4, "min_child_samples": 1}
TINY_TEACHER = {"members": {"lightgbm": TINY, "logistic": {}}, "cv": 2}
SMALL_TEACHER = {
    "members": {"lightgbm": {"n_estimators": 20, "num_leaves": 8}, "logistic": {}},
    "cv": 3,
}


def small_distiller(**kw):
    params = dict(
        teacher=SMALL_TEACHER,
        student_params={"n_estimators": 20, "num_leaves": 8},
        augment_factors=(0, 1),
        alphas=(0.5,),
        random_state=0,
    )
    return DistilledClassifier(**{**params, **kw})


# Why each check is expected to fail; everything else must pass.
_CROSS_FIT = (
    "cross-fitting shuffles rows into folds: repeating a row (or weighting it by 2) changes "
    "the folds, so weights and repetitions give different, equally valid, teachers"
)
_TINY_DATA = (
    "the check's data has 1-2 rows of one class; the distiller holds out a stratified "
    "validation split and cross-fits a teacher on the rest, which needs >= 3 rows of each "
    "class (the same invariance is tested on adequate data below)"
)
_TINY_CLASSES = (
    "the check's multiclass data has a class of 1 row; cross-fitting needs as many rows of "
    "each class as folds and says so, naming the class (multiclass fits are tested on "
    "adequate data in test_multiclass.py)"
)
_TINY_CHECKS = [
    "check_dont_overwrite_parameters",
    "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_dict_unchanged",
    "check_fit2d_predict1d",
]
TEACHER_XFAILS = {
    "check_sample_weight_equivalence_on_dense_data": _CROSS_FIT,
    **dict.fromkeys(_TINY_CHECKS, _TINY_CLASSES),
}
DISTILLER_XFAILS = {
    "check_sample_weight_equivalence_on_dense_data": _CROSS_FIT,
    **dict.fromkeys([*_TINY_CHECKS, "check_fit2d_1feature"], _TINY_DATA),
}


def _xfails(estimator):
    if isinstance(estimator, DistilledClassifier):
        return DISTILLER_XFAILS
    if isinstance(estimator, TeacherEnsemble):
        return TEACHER_XFAILS
    return {}


@parametrize_with_checks(
    [
        TabularEncoder(),
        TeacherEnsemble(**TINY_TEACHER, random_state=0),
        DistilledClassifier(
            teacher=TINY_TEACHER,
            student_params=TINY,
            augment_factors=(0,),
            alphas=(0.0,),
            validation_fraction=0.5,
            random_state=0,
        ),
    ],
    expected_failed_checks=_xfails,
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


@pytest.fixture(scope="module")
def fraud_ok():
    """String labels whose positive class ("fraud") sorts first."""
    X, y = mixed_frame(700, seed=4)
    labels = pd.Series(np.where(y == 1, "fraud", "ok"))
    return X, labels, small_distiller().fit(X, labels)


def test_classes_are_sorted_labels_and_the_positive_class_is_kept(fraud_ok):
    X, labels, model = fraud_ok
    assert model.classes_.tolist() == ["fraud", "ok"]
    assert model.pos_label_ == "fraud" and model.positive_index_ == 0
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert set(model.predict(X)) <= {"fraud", "ok"}
    # the "fraud" column is the one that ranks fraud first
    assert roc_auc_score(labels == "fraud", proba[:, 0]) > 0.9


def test_string_labels_give_the_right_auc_through_the_scorer(fraud_ok):
    X, labels, model = fraud_ok
    manual = roc_auc_score(labels == "fraud", model.predict_proba(X)[:, 0])
    assert manual > 0.9  # fraud is ranked first: not the inverted AUC of an unsorted classes_
    assert get_scorer("roc_auc")(model, X, labels) == pytest.approx(manual)
    assert 0 < f1_score(labels, model.predict(X), pos_label="fraud") <= 1
    assert 0 <= model.score(X, labels) <= 1


@pytest.mark.parametrize("kind", ["0/1", "fraud/ok"])
def test_cross_val_score_and_grid_search_are_finite_and_match_manual(kind):
    X, y = mixed_frame(500, seed=2)
    labels = y if kind == "0/1" else pd.Series(np.where(y == 1, "fraud", "ok"))
    positive = 1 if kind == "0/1" else "fraud"
    cv = [(np.arange(0, 350), np.arange(350, 500))]
    model = small_distiller()
    scores = cross_val_score(model, X, labels, cv=cv, scoring="roc_auc")
    manual = clone(model).fit(X.iloc[:350], labels.iloc[:350])
    p = manual.predict_proba(X.iloc[350:])[:, manual.positive_index_]
    expected = roc_auc_score(labels.iloc[350:] == positive, p)
    assert expected > 0.9 and scores[0] == pytest.approx(expected)

    grid = GridSearchCV(model, {"alphas": [(0.0,), (1.0,)]}, cv=cv, scoring="roc_auc")
    grid.fit(X, labels)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all() and grid.best_score_ > 0.9


def test_threshold_meta_estimators_work():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV

    X, y = mixed_frame(500, seed=3)
    model = small_distiller().fit(X, y)
    fixed = FixedThresholdClassifier(model, threshold=0.3).fit(X, y)
    assert fixed.predict(X).shape == (len(X),)
    calibrated = CalibratedClassifierCV(small_distiller(), cv=2).fit(X, y)
    assert calibrated.predict_proba(X).shape == (len(X), 2)
    tuned = TunedThresholdClassifierCV(small_distiller(), cv=2, scoring="f1").fit(X, y)
    assert 0 < tuned.best_threshold_ < 1 and set(tuned.predict(X)) <= {0, 1}
    result = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=2, random_state=0)
    assert np.isfinite(result.importances_mean).all()


def test_misaligned_lengths_are_refused_before_training():
    X, y = mixed_frame(300)
    with pytest.raises(ValueError, match="X has 300 rows but y has 295"):
        small_distiller().fit(X, y.iloc[:295])
    with pytest.raises(ValueError, match="sample_weight"):
        TeacherEnsemble(**TINY_TEACHER).fit(X, y, sample_weight=np.ones(10))


def test_bad_parameters_fail_before_any_training(monkeypatch):
    from tabdistill.distill import teacher as teacher_module

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(teacher_module, "fit_member", no_training)
    X, y = mixed_frame(200)
    bad = [
        {"alphas": [2]},
        {"augment_factors": [-1]},
        {"student": "forest"},
        {"augmenter": "smote"},
        {"n_jobs": 0},
        {"student_params": {"n_estimators": -1}},
        {"teacher": {"cv": 1}},
        {"teacher": {"members": ["lightgbm", "catboost"]}},
        {"teacher": {"members": {"random_forest": {"n_estimators": 0}}}},
        {"threshold": {"fpr": 2}},
        {"threshold": {"recall": 0.5}},
    ]
    for params in bad:
        with pytest.raises((ValueError, TypeError)):
            DistilledClassifier(**params).fit(X, y)


def test_not_fitted_errors():
    X, _ = mixed_frame(50)
    for est in (DistilledClassifier(), TeacherEnsemble(), TabularEncoder()):
        method = est.transform if isinstance(est, TabularEncoder) else est.predict_proba
        with pytest.raises(NotFittedError):
            method(X)
    with pytest.raises(NotFittedError):
        DistilledClassifier().runtime_  # noqa: B018


def test_encoder_feature_names_out_and_set_output():
    X, _ = mixed_frame(100)
    enc = TabularEncoder(drop_features=["city"]).fit(X)
    assert enc.get_feature_names_out().tolist() == ["x1", "x2", "color", "flag", "count"]
    out = enc.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == enc.features_
    np.testing.assert_array_equal(
        out.to_numpy(), clone(enc).set_output(transform="default").fit(X).transform(X)
    )


def test_student_booster_keeps_real_feature_names():
    X, y = mixed_frame(400)
    X = X.rename(columns={"x1": "amount [EUR]"})
    model = small_distiller().set_params(student="lightgbm").fit(X, y)
    names = model.student_[-1].booster_.feature_name()
    assert names[:2] == ["amount_EUR_", "x2"] and "color" in names


def test_time_series_and_group_splits_reach_teacher_and_validation():
    X, y = mixed_frame(600, seed=6)
    model = small_distiller(
        teacher={**SMALL_TEACHER, "cv": TimeSeriesSplit(3)}, validation_split=TimeSeriesSplit(4)
    ).fit(X, y)
    # validation = the most recent rows; training strictly before them
    assert model.validation_index_.min() > model.train_index_.max()
    oof = model.teacher_.oof_proba_
    assert np.isnan(oof[:10]).all() and np.isfinite(oof[-10:]).all()  # first block never held out
    assert np.isfinite(model.predict_proba(X)).all()

    groups = np.arange(len(y)) // 10
    grouped = small_distiller(teacher={**SMALL_TEACHER, "cv": GroupKFold(3)}).fit(
        X, y, groups=groups
    )
    train_groups = set(groups[grouped.train_index_])
    assert not train_groups & set(groups[grouped.validation_index_])
    with pytest.raises(ValueError, match="groups"):
        small_distiller().fit(X, y, groups=groups[:10])


def test_invariances_the_tiny_check_data_cannot_test(fraud_ok):
    """What the xfailed estimator checks verify, on data large enough to distil."""
    X, labels, model = fraud_ok
    state = {k: v for k, v in model.__dict__.items() if not k.startswith("_")}
    full = model.predict_proba(X)
    # predicting on a subset, or in another row order, changes nothing
    np.testing.assert_array_equal(model.predict_proba(X.iloc[:37]), full[:37])
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(model.predict_proba(X.iloc[order]), full[order])
    # predicting does not change the fitted state
    assert set(state) == {k for k in model.__dict__ if not k.startswith("_")}
    assert model.decision_threshold_ == state["decision_threshold_"]
    # a 1-D row is a clear error; Fortran-ordered arrays are the same values
    with pytest.raises(ValueError, match="Reshape your data"):
        model.predict(X.to_numpy()[0])
    np.testing.assert_array_equal(model.predict_proba(np.asfortranarray(X.to_numpy())), full)
    # fitting does not overwrite constructor parameters
    params = small_distiller().get_params()
    refit = small_distiller().fit(X, labels)
    assert refit.get_params() == params


def test_global_pandas_output_does_not_reach_internal_matrices():
    import sklearn

    X, y = mixed_frame(300, seed=7)
    plain = small_distiller().fit(X, y)
    with sklearn.config_context(transform_output="pandas"):
        model = small_distiller().fit(X, y)
        np.testing.assert_array_equal(model.predict_proba(X), plain.predict_proba(X))
        assert isinstance(model.encoder_.transform(X), pd.DataFrame)  # the public transform obeys
