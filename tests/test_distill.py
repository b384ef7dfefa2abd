import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS, mixed_frame
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KNeighborsClassifier

from tabdistill import DistilledClassifier, TeacherEnsemble
from tabdistill.distill import DistillationWarning
from tabdistill.exceptions import DataError, SchemaError

FAST = {
    "teacher": {"members": FAST_MEMBERS, "cv": 3},
    "student_params": {"n_estimators": 30, "num_leaves": 7},
    "augment_factors": (0, 1),
    "alphas": (0.0,),
}


@pytest.fixture(scope="module")
def fitted():
    X, y = mixed_frame(800, seed=1)
    return DistilledClassifier(**FAST, random_state=0).fit(X, y), X, y


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


def test_size_candidates_are_searched_for_student_and_baseline():
    X, y = mixed_frame(600, seed=9)
    sizes = [
        {"n_estimators": 20, "num_leaves": 4},
        {"n_estimators": 20, "num_leaves": 8, "max_depth": 3},
    ]
    params = {**FAST, "student_params": sizes}
    model = DistilledClassifier(**params, random_state=0).fit(X, y)
    report = model.report_
    # data knobs at the first size (2 augment factors x 2 losses), then the other size
    assert len(report["candidates"]) == 2 * 2 + 1

    def size(params):
        return {k: params[k] for k in ("n_estimators", "num_leaves") if k in params}

    seen = {tuple(sorted(size(c["student_params"]).items())) for c in report["candidates"]}
    assert seen == {tuple(sorted(size(s).items())) for s in sizes}
    assert size(report["chosen"]["student_params"]) in [size(s) for s in sizes]
    assert size(report["baseline_params"]) in [size(s) for s in sizes]
    assert model.baseline_[-1].num_leaves == report["baseline_params"]["num_leaves"]


def test_large_data_compares_candidates_on_a_subsample_and_fits_the_chosen_on_all_rows(
    monkeypatch,
):
    from tabdistill.distill import search

    X, y = mixed_frame(600, seed=9)
    sizes = [{"n_estimators": 20, "num_leaves": 4}, {"n_estimators": 20, "num_leaves": 8}]
    params = {**FAST, "student_params": sizes}
    full = DistilledClassifier(**params, random_state=0).fit(X, y)
    assert len(full.report_["candidates"]) == 2 * 2 + 1
    monkeypatch.setattr(search, "SEARCH_ROWS", 150)  # "large": more training rows than this
    searched = DistilledClassifier(**params, random_state=0).fit(X, y)
    n_train = searched.report_["rows"]["train"]
    candidates = searched.report_["candidates"]
    # 2 augment factors x 2 losses, then the other size, on the subsample; the chosen on all rows
    assert len(candidates) == 2 * 2 + 1 + 1
    compared, final = candidates[:-1], candidates[-1]
    # the subsample keeps the synthetic rows seeded from its own rows: a share of them
    assert all(c["synthetic_rows"] == 0 for c in compared if c["augment_factor"] == 0)
    assert all(0 < c["synthetic_rows"] < n_train for c in compared if c["augment_factor"] == 1)
    assert final["synthetic_rows"] == final["augment_factor"] * n_train
    chosen = searched.report_["chosen"]
    assert {k: chosen[k] for k in ("augment_factor", "alpha")} == {
        k: final[k] for k in ("augment_factor", "alpha")
    }
    assert searched.report_["rows"]["refit"] == len(X)


def test_search_subsample_keeps_each_factor_s_share_of_synthetic_rows():
    from tabdistill.distill.search import search_rows
    from tabdistill.distill.soft_targets import DistillData

    rng = np.random.default_rng(0)
    n, n_syn = 1_000, 2_000
    data = DistillData(
        Z=rng.normal(size=(n, 3)),
        y=rng.integers(0, 2, n),
        oof_proba=rng.random(n),
        weight=None,
        synthetic=rng.normal(size=(n_syn, 3)),
        synthetic_proba=rng.random(n_syn),
        synthetic_seeds=rng.integers(0, n, n_syn),
        validation_proba=None,
        n_train=n,
    )
    assert search_rows(n, 0, n_rows=n) is None
    sub = data.subsample(search_rows(n, 0, n_rows=250))
    assert len(sub.y) == 250 and len(sub.synthetic) == len(sub.synthetic_kept)
    # each kept synthetic row's seed points at the same original row inside the subsample
    np.testing.assert_array_equal(
        sub.Z[sub.synthetic_seeds], data.Z[data.synthetic_seeds[sub.synthetic_kept]]
    )
    # factor 1 (the first 1,000 synthetic rows) keeps about a quarter of them
    first = np.searchsorted(sub.synthetic_kept, 1_000)
    assert 180 < first < 320 and (sub.synthetic_kept[:first] < 1_000).all()


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


def test_a_tie_with_the_baseline_goes_to_the_baseline():
    X, y = mixed_frame(600, seed=6)
    # alpha=1 without synthetic rows is the baseline's own recipe: a tie on validation
    params = {**FAST, "augment_factors": (0,), "alphas": (1.0,), "losses": ("cross_entropy",)}
    with pytest.warns(DistillationWarning, match="did not beat the baseline"):
        model = DistilledClassifier(**params, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), model.baseline_.predict_proba(X))


def test_win_rate_is_the_share_of_paired_resamples_won():
    from tabdistill.distill.selection import win_rate

    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.2).astype(int)
    good = y + rng.normal(0, 0.5, 400)
    noisy = y + rng.normal(0, 2.0, 400)
    assert win_rate("roc_auc", y, good, noisy) == 1.0
    assert win_rate("roc_auc", y, noisy, good) == 0.0
    assert win_rate("roc_auc", y, good, good) == 0.0  # a tie is no win
    slightly = good + rng.normal(0, 0.05, 400)
    assert 0.0 < win_rate("roc_auc", y, slightly, good) < 1.0


def test_student_must_beat_the_baseline_reliably():
    X, y = mixed_frame(800, seed=1)
    strict = DistilledClassifier(**FAST, baseline_confidence=1.0, random_state=0)
    with pytest.warns(DistillationWarning, match="bootstrap resamples, 100% needed"):
        strict.fit(X, y)
    rate = strict.report_["student_win_rate"]
    assert rate < 1.0 and strict.fallback_ and f"{rate:.0%}" in strict.fallback_
    np.testing.assert_array_equal(strict.predict_proba(X), strict.baseline_.predict_proba(X))
    # no student learns from the teacher, yet it still learns from every labelled row: its
    # members are refit on them, keeping the weights and out-of-fold labels of cross-fitting
    teacher = strict.teacher_
    assert strict.report_["refit_teacher"] and teacher.n_refit_rows_ == len(X)
    assert teacher.oof_proba_.shape[0] == len(strict.train_index_)
    kept = DistilledClassifier(**FAST, baseline_confidence=1.0, refit_teacher=False)
    with pytest.warns(DistillationWarning):
        kept.set_params(random_state=0).fit(X, y)
    assert kept.teacher_.n_refit_rows_ == len(kept.train_index_)
    assert kept.teacher_.weights_ == teacher.weights_
    assert np.abs(kept.teacher_.predict_proba(X) - teacher.predict_proba(X)).max() > 1e-6


def test_a_student_that_wins_on_a_minority_of_resamples_keeps_the_baseline(monkeypatch):
    """By default a validation win must hold on most bootstrap resamples: a win by a hair
    (hmda seed 1 of the suite at another model seed: 47% of resamples) is no win."""
    import tabdistill.distill.gate as gate_module

    assert DistilledClassifier().baseline_confidence == 0.5
    X, y = mixed_frame(800, seed=1)
    monkeypatch.setattr(gate_module, "win_rate", lambda *a, **k: 0.49)
    model = DistilledClassifier(**FAST, random_state=0)
    with pytest.warns(DistillationWarning, match="49% of bootstrap resamples, 50% needed"):
        model.fit(X, y)
    assert model.report_["student_win_rate"] == 0.49
    np.testing.assert_array_equal(model.predict_proba(X), model.baseline_.predict_proba(X))
    # the same fit with a majority of resamples keeps the distilled student
    monkeypatch.setattr(gate_module, "win_rate", lambda *a, **k: 0.51)
    model = DistilledClassifier(**FAST, random_state=0).fit(X, y)
    assert model.fallback_ is None


def test_teacher_is_checked_against_the_baseline_on_cross_validated_rows(fitted):
    model, _, _ = fitted
    pooled = model.report_["cross_validated"]
    assert pooled["folds"] == 5 and not model.fallback_
    assert pooled["teacher"] > pooled["baseline"]  # else the baseline would be the student
    # every labelled row scored: not the validation rows' scores alone
    assert pooled["teacher"] != model.report_["validation"]["teacher"]["roc_auc"]
    assert pooled["baseline"] != model.report_["validation"]["baseline"]["roc_auc"]


def test_a_teacher_no_better_than_the_baseline_keeps_the_baseline(monkeypatch):
    from tabdistill.distill import gate

    X, y = mixed_frame(800, seed=1)
    monkeypatch.setattr(
        gate, "cross_validated", lambda *args: {"teacher": 0.70, "baseline": 0.71}
    )
    model = DistilledClassifier(**FAST, random_state=0)
    with pytest.warns(DistillationWarning, match="5-fold cross-validated.*nothing to distil"):
        model.fit(X, y)
    assert model.report_["cross_validated"] == {"teacher": 0.70, "baseline": 0.71, "folds": 5}
    np.testing.assert_array_equal(model.predict_proba(X), model.baseline_.predict_proba(X))
    plain = DistilledClassifier(**FAST, selection_folds=0, random_state=0).fit(X, y)
    assert plain.report_["cross_validated"] is None and not plain.fallback_


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
