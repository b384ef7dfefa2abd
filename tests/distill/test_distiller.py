import numpy as np
import pandas as pd
import pytest
from conftest import FAST_DISTILLER, mixed_frame
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KNeighborsClassifier

from tabdistill import DistilledClassifier, TeacherEnsemble
from tabdistill.distill import DistillationWarning
from tabdistill.exceptions import DataError, SchemaError

FAST = FAST_DISTILLER


def test_fit_exposes_teacher_student_baseline_and_report(fitted):
    model, X, y = fitted
    for part in (model.teacher_, model.student_, model.baseline_):
        p = part.predict_proba(X)
        assert p.shape == (len(X), 2) and np.allclose(p.sum(1), 1)
    np.testing.assert_array_equal(model.predict_proba(X), model.student_.predict_proba(X))
    report = model.report_
    assert set(report["timings"]) >= {"teacher", "augment", "label", "student", "total"}
    assert set(report["validation"]) == {"teacher", "student", "baseline"}
    assert report["rows"]["synthetic"] == report["rows"]["train"]
    # 2 augmentation factors x 2 losses (cross-entropy, logit matching) at alpha 0
    assert len(report["candidates"]) == 4 and report["chosen"]["alpha"] == 0.0
    assert {c["loss"] for c in report["candidates"]} == {"cross_entropy", "logit"}
    assert model.report_["validation"]["student"]["roc_auc"] > 0.8


def test_never_worse_than_baseline_on_validation(fitted):
    model, _, _ = fitted
    val = model.report_["validation"]
    assert val["student"]["roc_auc"] >= val["baseline"]["roc_auc"]


def test_soft_labels_of_original_rows_are_out_of_fold():
    # A 1-nearest-neighbour teacher memorises: in-sample, its probabilities are the labels.
    X, y = mixed_frame(600, seed=2)
    X = X.fillna({"x2": 0.0, "city": "paris"})  # KNeighborsClassifier does not take NaN
    y = y.to_numpy().copy()
    y[np.random.default_rng(0).random(len(y)) < 0.15] ^= 1  # label noise to memorise
    teacher = TeacherEnsemble(members=[("knn", KNeighborsClassifier(1))], cv=3)
    rest = {k: v for k, v in FAST.items() if k != "teacher"}
    model = DistilledClassifier(teacher=teacher, **rest, random_state=0).fit(X, y)
    train = model.train_index_
    in_sample = model.teacher_.predict_proba_encoded(model.encoder_.transform(X.iloc[train]))
    np.testing.assert_array_equal(np.round(in_sample), y[train])  # memorised
    np.testing.assert_allclose(model.soft_labels_, model.teacher_.oof_proba_, atol=1e-6)
    # labels taken in-sample would equal the hard labels; out-of-fold ones often do not
    assert np.mean(np.abs(model.soft_labels_ - in_sample) > 0.5) > 0.15


def test_sample_weight_reaches_the_student():
    X, y = mixed_frame(800, seed=3)
    w = np.where(X["x1"] > 0, 5.0, 0.2)
    a = DistilledClassifier(**FAST, random_state=0).fit(X, y)
    b = DistilledClassifier(**FAST, random_state=0).fit(X, y, sample_weight=w)
    assert np.abs(a.predict_proba(X)[:, 1] - b.predict_proba(X)[:, 1]).max() > 1e-3


class CoinFlip(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.random.default_rng(len(X)).uniform(0.01, 0.99, len(X))
        return np.column_stack([1 - p, p])


def test_fallback_to_baseline_when_distillation_fails():
    X, y = mixed_frame(800, seed=4)
    teacher = TeacherEnsemble(members=[("coin", CoinFlip())], cv=3)
    model = DistilledClassifier(
        teacher=teacher, **{k: v for k, v in FAST.items() if k != "teacher"}, random_state=0
    )
    with pytest.warns(DistillationWarning, match="did not beat the baseline"):
        model.fit(X, y)
    assert model.fallback_ and model.report_["fallback"] == model.fallback_
    np.testing.assert_array_equal(model.predict_proba(X), model.baseline_.predict_proba(X))


def test_estimator_conventions(fitted):
    model, X, y = fitted
    params = model.get_params()
    assert params["random_state"] == 0 and "student_params" in params
    fresh = clone(model)
    assert not hasattr(fresh, "student_")
    with pytest.raises(NotFittedError):
        fresh.predict_proba(X)
    again = fresh.fit(X, y)  # idempotent: same seed, same data, same model
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    again.fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert list(model.feature_names_in_) == list(X.columns) and model.n_features_in_ == X.shape[1]
    assert set(model.predict(X)) <= set(model.classes_)


def test_pandas_input_with_unseen_levels_and_missing_columns(fitted):
    model, X, _ = fitted
    new = X.head(5).copy()
    new["city"] = ["atlantis", None, "paris", "lyon", "nice"]
    assert np.isfinite(model.predict_proba(new)).all()
    with pytest.raises(SchemaError, match="missing"):
        model.predict_proba(new.drop(columns=["x1"]))


def test_too_few_positives_for_validation_is_a_clear_error():
    X, y = mixed_frame(400, seed=5, positive_rate=0.005)
    with pytest.raises(DataError, match="too few positive rows"):
        DistilledClassifier(**FAST).fit(X, y)


def test_bad_parameters_are_clear_errors():
    X, y = mixed_frame(200)
    with pytest.raises(ValueError, match="validation_fraction"):
        DistilledClassifier(validation_fraction=1.5).fit(X, y)
    with pytest.raises(ValueError, match="selection_metric"):
        DistilledClassifier(selection_metric="f1").fit(X, y)
    with pytest.raises(TypeError, match="teacher"):
        DistilledClassifier(teacher="big", **{k: v for k, v in FAST.items() if k != "teacher"}).fit(
            X, y
        )


def test_string_labels_round_trip():
    X, y = mixed_frame(600, seed=6)
    labels = pd.Series(np.where(y == 1, "yes", "no"))
    model = DistilledClassifier(**FAST, random_state=0).fit(X, labels)
    assert list(model.classes_) == ["no", "yes"]
    assert set(model.predict(X)) <= {"no", "yes"}


def test_no_augmentation_works():
    X, y = mixed_frame(500, seed=8)
    params = {**FAST, "augment_factors": (0,)}
    model = DistilledClassifier(**params, random_state=0).fit(X, y)
    assert model.report_["rows"]["synthetic"] == 0
    assert np.isfinite(model.predict_proba(X)).all()


def test_chosen_student_and_baseline_are_refit_on_training_and_validation_rows():
    X, y = mixed_frame(800, seed=5)
    params = {**FAST, "student_params": {"n_estimators": 200, "num_leaves": 7}}
    refit = DistilledClassifier(**params, random_state=0).fit(X, y)
    held = DistilledClassifier(**params, refit=False, random_state=0).fit(X, y)
    assert refit.report_["rows"]["refit"] == len(X)  # training + validation rows
    assert "refit" not in held.report_["rows"]
    for a, b in ((refit, held), (refit.baseline_, held.baseline_)):
        a, b = (m[-1] if hasattr(m, "steps") else m.student_[-1] for m in (a, b))
        # same knobs and the rounds early stopping chose, but more rows: another model
        assert a.n_estimators_ == b.n_estimators_ <= 200
        assert (
            np.abs(
                a.predict(refit.encoder_.transform(X)) - b.predict(held.encoder_.transform(X))
            ).max()
            > 1e-6
        )
    # the validation report still describes the models before the refit: both runs agree
    assert refit.report_["validation"] == held.report_["validation"]


def test_latency_budget_caps_student_and_baseline():
    from tabdistill.distill.sizes import TREE_STEP_NS, student_cost

    X, y = mixed_frame(800, seed=1)
    params = {**FAST, "student_params": {"n_estimators": 200, "num_leaves": 15}}
    model = DistilledClassifier(**params, latency_budget=0.5, random_state=0).fit(X, y)
    steps = 0.5 * 1000 / TREE_STEP_NS
    for part in (model.student_, model.baseline_):
        assert student_cost(part[-1]) <= steps
    assert model.report_["latency"]["tree_steps"] == student_cost(model.student_[-1])
    assert model.report_["latency"]["predicted_p99_us"] <= 0.5


def test_nested_teacher_parameters_are_settable_whatever_form_the_teacher_has():
    model = DistilledClassifier()
    model.set_params(teacher__cv=2)
    assert model.teacher == {"cv": 2} and model.get_params()["teacher__cv"] == 2
    model.set_params(teacher__early_stopping_rounds=5, alphas=(0.0,))
    assert model.teacher == {"cv": 2, "early_stopping_rounds": 5} and model.alphas == (0.0,)
    assert clone(model).teacher == model.teacher
    given = DistilledClassifier(teacher=TeacherEnsemble(cv=4)).set_params(teacher__cv=3)
    assert given.teacher.cv == 3
    with pytest.raises(ValueError, match="unknown teacher parameter"):
        DistilledClassifier().set_params(teacher__folds=3)


def test_feature_importances_are_by_input_column(fitted):
    model, X, _ = fitted
    importances = model.feature_importances_
    assert importances.shape == (X.shape[1],)
    assert np.isclose(importances.sum(), 1.0) and (importances >= 0).all()


def test_predict_warns_or_refuses_an_unusable_column_and_reports_what_was_recognised(fitted):
    from tabdistill.exceptions import DataError

    model, X, _ = fitted
    assert "recognised" in model.report_["encoding"]
    bad = X.head(20).copy()
    bad["x1"] = "text"
    with pytest.warns(UserWarning, match="x1"):
        model.predict_proba(bad)
    with pytest.raises(DataError, match="x1"):
        model.predict(bad, strict=True)
