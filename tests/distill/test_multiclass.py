"""K-class distillation end to end: targets, teacher, objectives, students, runtime, metrics."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS, job_config
from sklearn import metrics as skm
from sklearn.base import clone
from sklearn.model_selection import PredefinedSplit

from tabdistill import DistilledClassifier, TeacherEnsemble, make_fraud, metrics
from tabdistill._budget import TimeBudget
from tabdistill.data import TabularEncoder, split_target
from tabdistill.data.target import encode_target
from tabdistill.distill.augment import class_shares, seed_indices
from tabdistill.distill.context import make_student
from tabdistill.distill.labels import build_training_set, soften
from tabdistill.distill.objectives import CenteredLogitSquares, SoftmaxCrossEntropy
from tabdistill.distill.students import STUDENTS, compile_student
from tabdistill.exceptions import ConfigError, DataError
from tabdistill.runtime import CompiledModel

TYPES = ["account_takeover", "card_not_present", "friendly_fraud", "none"]


def fraud_types(n=3_000, seed=0):
    """The synthetic fraud set with a 4-class target (``fraud_type``)."""
    return split_target(
        make_fraud(n, fraud_rate=0.3, random_state=seed, fraud_type=True), "fraud_type"
    )


def small_distiller(**kw):
    params = dict(
        teacher={"members": {"lightgbm": FAST_MEMBERS["lightgbm"], "logistic": {}}, "cv": 3},
        student_params={"n_estimators": 40, "num_leaves": 7},
        augment_factors=(0, 1),
        alphas=(0.0, 1.0),
        random_state=0,
    )
    return DistilledClassifier(**{**params, **kw})


@pytest.fixture(scope="module")
def fitted():
    X, y = fraud_types()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = small_distiller().fit(X.iloc[:2_400], y.iloc[:2_400])
    return X.iloc[2_400:], y.iloc[2_400:], model


# ---------------------------------------------------------------- targets
def test_target_codes_follow_sorted_classes():
    t = encode_target(pd.Series(["b", "c", "a", "b"]))
    assert t.classes.tolist() == ["a", "b", "c"] and t.pos_label is None
    assert t.y.tolist() == [1, 2, 0, 1] and t.n_classes == 3
    assert t.codes_of(["c", "a"]).tolist() == [2, 0]
    with pytest.raises(DataError, match="'z'"):
        t.codes_of(["a", "z"])
    with pytest.raises(DataError, match="binary target"):
        encode_target([1, 2, 3], positive_label=2)


def test_a_class_too_small_to_cross_fit_is_named():
    X, y = fraud_types(1_200)
    y = y.copy()
    y.iloc[np.flatnonzero(y == "account_takeover")[4:]] = "none"  # 4 rows of that class left
    with pytest.raises(DataError, match="'account_takeover'"):
        TeacherEnsemble(members=["logistic"], cv=5).fit(X, y)
    with pytest.raises(DataError, match="'account_takeover'"):
        small_distiller().fit(X, y)


# ---------------------------------------------------------------- metrics
def test_multiclass_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    P = rng.dirichlet(np.ones(4), 400)
    P[np.arange(400), y] += 0.5
    P /= P.sum(axis=1, keepdims=True)
    w = rng.uniform(0.5, 2, 400)
    ovr = dict(multi_class="ovr", sample_weight=w)
    assert metrics.roc_auc(y, P, w) == pytest.approx(skm.roc_auc_score(y, P, **ovr))
    assert metrics.roc_auc(y, P, w, average="weighted") == pytest.approx(
        skm.roc_auc_score(y, P, average="weighted", **ovr)
    )
    assert metrics.log_loss(y, P, w) == pytest.approx(skm.log_loss(y, P, sample_weight=w))
    pred = P.argmax(axis=1)
    assert metrics.accuracy(y, P) == pytest.approx(skm.accuracy_score(y, pred))
    assert metrics.balanced_accuracy(y, P) == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert metrics.top_k_accuracy(y, P, 2) == pytest.approx(skm.top_k_accuracy_score(y, P, k=2))
    np.testing.assert_array_equal(metrics.confusion_matrix(y, P), skm.confusion_matrix(y, pred))
    per = metrics.per_class(y, P)
    np.testing.assert_allclose(per["recall"], skm.recall_score(y, pred, average=None))
    np.testing.assert_allclose(per["precision"], skm.precision_score(y, pred, average=None))
    fid = metrics.fidelity(y, P, P)
    assert fid == {"agreement": 1.0, "mean_tv_distance": 0.0}


def test_top_label_ece_and_a_class_absent_from_the_labels():
    P = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    y = np.array([0, 1, 1, 0])  # class 2 has no rows: averages skip it, metrics still defined
    # top-label confidences 0.9 (right), 0.8 (wrong), 0.7 (right), 0.4 (wrong), one bin each
    assert metrics.expected_calibration_error(y, P) == pytest.approx((0.1 + 0.8 + 0.3 + 0.4) / 4)
    auc = np.mean([skm.roc_auc_score(y == k, P[:, k]) for k in (0, 1)])
    assert metrics.roc_auc(y, P) == pytest.approx(auc)
    assert metrics.per_class(y, P)["recall"][2] is None
    with pytest.raises(DataError, match="one class"):
        metrics.roc_auc(np.zeros(4, int), P)


# ---------------------------------------------------------------- objectives
def _numeric_derivatives(f, raw, eps=1e-4):
    """Brute force: central first and second differences of ``f`` in each cell of ``raw``."""
    first, second = np.zeros_like(raw), np.zeros_like(raw)
    base = f(raw)
    for idx in np.ndindex(raw.shape):
        up, down = raw.copy(), raw.copy()
        up[idx] += eps
        down[idx] -= eps
        first[idx] = (f(up) - f(down)) / (2 * eps)
        second[idx] = (f(up) - 2 * base + f(down)) / eps**2
    return first, second


@pytest.mark.parametrize("objective", [SoftmaxCrossEntropy, CenteredLogitSquares])
def test_soft_target_objectives_match_brute_force_derivatives(objective):
    rng = np.random.default_rng(1)
    n, k = 6, 4
    q = rng.dirichlet(np.ones(k), n)
    w = rng.uniform(0.5, 2.0, n)
    raw = rng.normal(size=(n, k))
    obj = objective(q, w)

    def total(r):  # the summed (not averaged) loss, whose derivatives boosting uses
        return obj.loss(r) * w.sum()

    grad, hess = obj.gradient_hessian(raw)
    first, second = _numeric_derivatives(total, raw)
    np.testing.assert_allclose(grad, first, atol=1e-6)
    factor = k / (k - 1) if objective is SoftmaxCrossEntropy else 1.0
    np.testing.assert_allclose(hess, factor * second, rtol=1e-4, atol=1e-6)
    # the loss itself, by a loop over rows
    p = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    if objective is SoftmaxCrossEntropy:
        rows = [-(q[i] * np.log(p[i])).sum() for i in range(n)]
    else:
        t = np.log(q) - np.log(q).mean(axis=1, keepdims=True)
        rows = [0.5 * ((raw[i] - t[i]) ** 2).sum() for i in range(n)]
    assert obj.loss(raw) == pytest.approx(np.average(rows, weights=w))
    # the init score is the best constant: the summed gradient vanishes there
    g0, _ = obj.gradient_hessian(np.tile(obj.init_score(), (n, 1)))
    np.testing.assert_allclose(g0.sum(axis=0), 0, atol=1e-9)


def test_soft_cross_entropy_on_one_hot_labels_is_lightgbm_multiclass():
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1_500, 4))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)
    obj = SoftmaxCrossEntropy(np.eye(4)[y])
    init = np.tile(obj.init_score(), (len(y), 1))
    params = {"num_leaves": 7, "verbose": -1, "deterministic": True, "num_threads": 1}
    own = lgb.train(
        {**params, "objective": "multiclass", "num_class": 4},
        lgb.Dataset(X, label=y, init_score=init),
        15,
    )
    ours = lgb.train(
        {**params, "objective": lambda raw, _: obj.gradient_hessian(raw), "num_class": 4},
        lgb.Dataset(X, label=np.zeros(len(y)), init_score=init),
        15,
    )
    np.testing.assert_allclose(
        ours.predict(X, raw_score=True), own.predict(X, raw_score=True), atol=1e-9
    )


# ---------------------------------------------------------------- soft labels, augmentation
def test_soften_tempers_distributions_and_training_targets_mix_one_hot():
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(soften(q, 1.0), q)
    hot = soften(q, 3.0)
    np.testing.assert_allclose(hot.sum(axis=1), 1)
    assert hot.max() < q.max() and hot.min() > q.min()  # towards uniform
    p = np.array([0.2, 0.9])  # for K = 2 the softmax form is the binary one
    two = soften(np.column_stack([1 - p, p]), 2.5)[:, 1]
    np.testing.assert_allclose(two, soften(p, 2.5))
    data = build_training_set(np.zeros((2, 1)), np.array([0, 2]), q, alpha=0.5)
    np.testing.assert_allclose(data.target, [[0.85, 0.1, 0.05], [0.05, 0.05, 0.9]])


def test_class_shares_raise_rare_classes_and_seeds_follow_them():
    y = np.repeat([0, 1, 2], [900, 80, 20])
    shares = class_shares(y, 3, floor=0.1)
    np.testing.assert_allclose(shares, [0.8, 0.1, 0.1])
    seeds = seed_indices(5_000, len(y), y, rng=0, shares=shares)
    np.testing.assert_allclose(np.bincount(y[seeds]) / 5_000, shares, atol=1e-3)


# ---------------------------------------------------------------- teacher and students
def test_teacher_out_of_fold_distributions_and_selection():
    X, y = fraud_types(1_500)
    teacher = TeacherEnsemble(members=FAST_MEMBERS, cv=3, random_state=0).fit(X, y)
    assert teacher.classes_.tolist() == TYPES and teacher.pos_label_ is None
    assert teacher.oof_proba_.shape == (1_500, 4)
    np.testing.assert_allclose(teacher.oof_proba_.sum(axis=1), 1)
    codes = encode_target(y).y
    ensemble = teacher.member_scores_["ensemble"]["log_loss"]
    assert ensemble <= min(s["log_loss"] for n, s in teacher.member_scores_.items()) + 1e-12
    assert ensemble == pytest.approx(metrics.log_loss(codes, teacher.oof_proba_))
    proba = teacher.predict_proba(X)
    assert proba.shape == (1_500, 4) and set(teacher.predict(X)) <= set(TYPES)


def test_a_fold_without_a_class_still_gives_full_distributions():
    X, y = fraud_types(1_200)
    codes = encode_target(y).y
    fold = np.where(np.arange(len(y)) % 2 == 0, 0, 1)
    fold[(codes == 0) & (fold == 1)] = 0  # split 2 trains on no account_takeover row
    teacher = TeacherEnsemble(members=FAST_MEMBERS, cv=PredefinedSplit(fold), random_state=0)
    teacher.fit(X, y)
    held = fold == 0  # rows scored by the model that never saw class 0
    assert np.all(teacher.oof_proba_[held, 0] < 1e-3)
    np.testing.assert_allclose(teacher.oof_proba_.sum(axis=1), 1)


def test_a_time_limited_teacher_averages_fold_models_with_classes_in_place():
    # issue 14's time budget on a K-class target: members that are not refit on all rows
    # become the mean of their fold models, whose columns must line up with classes_ even
    # when a fold lacked a class
    X, y = fraud_types(1_200)
    codes = encode_target(y).y
    fold = np.where(np.arange(len(y)) % 2 == 0, 0, 1)
    fold[(codes == 0) & (fold == 1)] = 0
    members = {"lightgbm": FAST_MEMBERS["lightgbm"], "logistic": {}}
    teacher = TeacherEnsemble(
        members=members, cv=PredefinedSplit(fold), time_limit=1e-3, random_state=0
    ).fit(X, y)
    assert any("mean of its fold models" in c for c in teacher.budget_cuts_)
    average = next(iter(teacher.estimators_.values()))
    assert type(average).__name__ == "FoldAverage"
    proba = teacher.predict_proba(X)
    assert proba.shape == (1_200, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    # the first fold's model never saw class 0: its 3 columns are classes 1-3, and class 0
    # gets no probability from it
    per_fold = [est.predict_proba(teacher.encoder_.encode(X)) for est in average.estimators]
    assert per_fold[0].shape[1] == 3
    if len(per_fold) == 1:
        assert np.all(proba[:, 0] < 1e-3)


def _soft_classes(n=1_500, k=3, seed=0):
    rng = np.random.default_rng(seed)
    Z = np.column_stack(
        [rng.normal(size=n), rng.integers(0, 4, n).astype(float), rng.normal(size=n)]
    )
    Z[rng.random(n) < 0.05, 2] = np.nan
    logits = np.column_stack([Z[:, 0] * j + (Z[:, 1] == j) for j in range(k)])
    Q = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return Z, Q


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_students_learn_soft_distributions_not_their_argmax(name):
    Z, Q = _soft_classes()
    student = make_student(name, categorical_mask=[False, True, False], random_state=0)
    P = student.fit(Z, Q).predict(Z)
    assert P.shape == Q.shape
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert np.mean(0.5 * np.abs(P - Q).sum(axis=1)) < 0.12
    hard = make_student(name, categorical_mask=[False, True, False], random_state=0)
    P_hard = hard.fit(Z, np.eye(3)[Q.argmax(axis=1)]).predict(Z)
    # fit to the argmax instead, the same student is far from the distributions
    assert np.mean(np.abs(P - Q)) < 0.5 * np.mean(np.abs(P_hard - Q))


def test_linear_student_multinomial_soft_cross_entropy_recovers_logits():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(3_000, 2))
    logits = np.column_stack([0 * Z[:, 0], 2 * Z[:, 0] - Z[:, 1], Z[:, 1] + 0.3])
    Q = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    model = make_student("linear", {"C": 1e6}).fit(Z, Q)
    np.testing.assert_allclose(model.predict(Z), Q, atol=2e-3)


# ---------------------------------------------------------------- runtime
@pytest.fixture(params=["c", "numba"])
def backend(request, monkeypatch):
    monkeypatch.setenv("TABDISTILL_KERNELS", request.param)
    return request.param


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_runtime_parity_for_k_classes_with_nan_and_unseen_levels(name, k, backend):
    rng = np.random.default_rng(k)
    n = 4_000
    X = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n),
            "shop": rng.choice(list("abcdefgh"), n),
            "hour": rng.integers(0, 24, n).astype(float),
        }
    )
    raw = np.column_stack(
        [
            np.log(X.amount) * (j - 1) + (X.shop == "abcdefgh"[j]) + (X.hour > 20) * j
            for j in range(k)
        ]
    )
    Q = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    enc = TabularEncoder().fit(X)
    student = make_student(
        name,
        {"max_depth": 6} if name == "tree" else None,
        categorical_mask=enc.categorical_mask_,
        random_state=0,
    )
    student.fit(enc.transform(X), Q)
    runtime = compile_student(student, enc.schema_)
    assert runtime.n_outputs == k
    Xt = X.sample(2_000, random_state=1, replace=True).reset_index(drop=True)
    Xt.loc[::5, "shop"] = "unseen"
    Xt.loc[::7, "amount"] = np.nan
    Xt.loc[::11, "hour"] = np.nan
    Xt.loc[::13, "amount"] = 1e300
    Zt = enc.transform(Xt)
    expected = student.predict(Zt)
    np.testing.assert_allclose(runtime.score_encoded(Zt), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(runtime.predict_proba(Xt), expected, rtol=0, atol=1e-6)
    for i in range(0, 100, 9):
        np.testing.assert_allclose(runtime.score_one(Zt[i]), expected[i], rtol=0, atol=1e-6)
    record = {c: v for c, v in Xt.iloc[5].items() if not (isinstance(v, float) and np.isnan(v))}
    np.testing.assert_allclose(runtime.score_record(record), expected[5], rtol=0, atol=1e-6)
    loaded = CompiledModel.load(runtime.to_bytes())
    np.testing.assert_allclose(loaded.score_encoded(Zt), expected, rtol=0, atol=1e-6)


# ---------------------------------------------------------------- the distiller
def test_distiller_predicts_k_class_distributions(fitted):
    X, y, model = fitted
    assert model.classes_.tolist() == TYPES and model.n_classes_ == 4
    assert model.pos_label_ is None and model.decision_threshold_ is None
    assert model.teacher_decision_threshold_ is None
    with pytest.raises(AttributeError, match="binary"):
        model.positive_index_  # noqa: B018
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(
        model.student_[-1].predict(model.encoder_.transform(X)), proba, atol=1e-9
    )
    codes = encode_target(y).y
    assert metrics.roc_auc(codes, proba) > 0.7
    assert model.soft_labels_.ndim == 2
    assert set(model.report_["validation"]["student"]) >= {"roc_auc", "log_loss"}
    assert model.report_["decision"] is None


def test_distiller_never_worse_than_baseline_on_validation_log_loss(fitted):
    _, _, model = fitted
    val = model.report_["validation"]
    # selection is on macro ROC-AUC; the chosen student is at least the baseline's there
    assert val["student"]["roc_auc"] >= val["baseline"]["roc_auc"]


def test_a_class_missing_from_the_validation_split(fitted):
    X, y = fraud_types(1_500)
    codes = encode_target(y).y
    fold = np.full(len(y), -1)
    fold[(np.arange(len(y)) % 4 == 0) & (codes != 0)] = 0  # validation rows: no class 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = small_distiller(validation_split=PredefinedSplit(fold)).fit(X, y)
    assert not np.any(codes[model.validation_index_] == 0)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 4) and proba[codes == 0, 0].mean() > proba[codes != 0, 0].mean()
    # the training side must hold every class: a split that leaves none of one is an error
    fold = np.where(codes == 0, 0, -1)
    fold[::5] = 0
    with pytest.raises(DataError, match="'account_takeover'"):
        small_distiller(validation_split=PredefinedSplit(fold)).fit(X, y)


def test_the_final_student_learns_from_a_teacher_refit_on_every_labelled_row(monkeypatch):

    X, y = fraud_types(1_200)
    codes = encode_target(y).y
    params = dict(augment_factors=(0,), alphas=(0.0,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refit = small_distiller(**params).fit(X, y)  # "auto": 1,200 labelled rows
        kept = small_distiller(**params, refit_teacher=False).fit(X, y)
    assert refit.report_["refit_teacher"] and not kept.report_["refit_teacher"]
    assert not refit.fallback_
    # knobs chosen on the same validation rows by the same teacher: only the refit differs
    assert refit.report_["validation"] == kept.report_["validation"]
    assert refit.report_["chosen"] == kept.report_["chosen"]
    rows = np.concatenate([refit.train_index_, refit.validation_index_])
    assert kept.teacher_.oof_proba_.shape == (len(refit.train_index_), 4)
    assert refit.teacher_.oof_proba_.shape == (len(X), 4)  # cross-fitted on every row
    # the refit student is the chosen spec fit on that teacher's out-of-fold distributions
    Z = refit.encoder_.encode(X.iloc[rows])
    data = build_training_set(Z, codes[rows], refit.teacher_.oof_proba_)
    again = clone(refit.student_[-1]).fit(data.Z, data.target, data.weight)
    np.testing.assert_array_equal(again.predict(Z), refit.student_[-1].predict(Z))
    assert np.abs(kept.student_[-1].predict(Z) - refit.student_[-1].predict(Z)).max() > 1e-3
    # the refit baseline is the same either way
    np.testing.assert_array_equal(kept.baseline_.predict_proba(X), refit.baseline_.predict_proba(X))

    # "auto" refits the teacher only on small data; True at any size
    from tabdistill.distill import refit as refit_module

    teacher, n_train = refit.teacher_, len(refit.train_index_)

    def refits(wanted, budget, members_only=False):
        return refit_module.refits_teacher(
            teacher, wanted, len(X), n_train, budget, members_only=members_only
        )

    no_limit = TimeBudget(None)
    assert refits("auto", no_limit)
    monkeypatch.setattr(refit_module, "REFIT_TEACHER_ROWS", len(X) - 1)
    assert not refits("auto", no_limit)
    assert refits(True, no_limit)
    # a teacher cv of fixed index pairs cannot extend to the validation rows
    teacher.set_params(cv=[(np.arange(100), np.arange(100, 200))])
    assert not refits(True, no_limit)
    # under a time limit, a kept baseline budgets the members' refit, not a second cross-fit
    teacher.set_params(cv=None)
    teacher.fit_seconds_, teacher.refit_seconds_ = 1_000.0, 1.0
    assert refits(True, TimeBudget(60.0), members_only=True)
    short = TimeBudget(60.0)
    assert not refits(True, short)
    assert short.cuts == ["teacher not refit on the validation rows"]


def test_a_threshold_is_refused_for_k_classes():
    X, y = fraud_types(600)
    with pytest.raises(ConfigError, match="binary target"):
        small_distiller(threshold={"fpr": 0.01}).fit(X, y)


# ---------------------------------------------------------------- CLI, jobs, export
FAST_CLI = [
    "--members",
    "lightgbm,logistic",
    "--n-estimators",
    "30",
    "--augment-factors",
    "0,1",
    "--latency-calls",
    "200",
    "--batch-rows",
    "5000",
    "--bootstrap",
    "30",
    "-q",
]


@pytest.fixture(scope="module")
def fraud_csv(tmp_path_factory):
    root = tmp_path_factory.mktemp("multi")
    frame = make_fraud(2_400, fraud_rate=0.3, random_state=3, fraud_type=True)
    frame.insert(0, "txn_id", [f"t{i:05d}" for i in range(len(frame))])
    paths = {"all": root / "types.csv.gz", "train": root / "train.csv", "holdout": root / "ho.csv"}
    frame.drop(columns="txn_id").to_csv(paths["all"], index=False)
    frame.iloc[:1_800].drop(columns="txn_id").to_csv(paths["train"], index=False)
    frame.iloc[1_800:].to_csv(paths["holdout"], index=False)
    return {"root": root, **paths}


def test_cli_benchmark_on_a_multiclass_csv(fraud_csv, tmp_path, capsys):
    from pathlib import Path

    from tabdistill.cli import main

    out, rep, reg = tmp_path / "out.json", tmp_path / "rep", tmp_path / "reg"
    args = ["benchmark", str(fraud_csv["all"]), "--target", "fraud_type"]
    args += ["--save", str(reg), "--teacher-budget", "0.5"]  # the teacher cut ships, K classes
    assert main([*args, "--json", str(out), "--report", str(rep), *FAST_CLI]) == 0
    printed = capsys.readouterr().out
    assert "4 classes" in printed and "confusion matrix" in printed and "top2" in printed
    result = __import__("json").loads(out.read_text())
    assert result["task"] == "multiclass" and result["classes"] == TYPES
    assert "positive_rate" not in result and "decision" not in result
    assert sum(result["class_shares"].values()) == pytest.approx(1)
    student = result["models"]["student"]
    assert {"log_loss", "roc_auc", "roc_auc_weighted", "accuracy", "balanced_accuracy"} <= set(
        student
    )
    assert {"top2_accuracy", "ece", "latency"} <= set(student)
    assert set(result["fidelity"]) == {"agreement", "mean_tv_distance"}
    cm = np.asarray(result["per_class"]["student"]["confusion"])
    assert cm.shape == (4, 4) and cm.sum() == result["test_rows"]
    assert result["intervals"]["student-baseline"]["log_loss"]["low"] <= 0.5
    for file in ("index.html", "pr_by_class.png", "confusion.png", "calibration.png"):
        assert (rep / file).stat().st_size > 1_000
    page = (rep / "index.html").read_text()
    assert "Per class" in page and "most probable class" in page
    documented = (Path(__file__).parents[2] / "docs" / "benchmark-json.md").read_text()
    for key in [*result, *student, *result["per_class"]["student"], *result["fidelity"]]:
        assert f"`{key}`" in documented, key
    cut = result["shipped_teacher"]
    assert 0 < cut["tree_share"] < 1 and "threshold_from" not in cut  # the most probable class
    scores = tmp_path / "teacher.csv"
    argv = ["predict", "--model", str(reg), "--input", str(fraud_csv["all"]), "--output"]
    assert main([*argv, str(scores), "--scorer", "teacher", "-q"]) == 0
    from tabdistill.ops.persist import load_model
    from tabdistill.ops.registry import Registry

    version = Registry(reg).production()
    model = load_model(reg / version / "model.skops")
    X = pd.read_csv(fraud_csv["all"]).drop(columns="fraud_type")
    expected = model.teacher_runtime_at(cut["cut_budget_us"]).score_batch(X)
    names = [f"probability_{c}" for c in TYPES]
    np.testing.assert_allclose(pd.read_csv(scores)[names], expected, rtol=0, atol=1e-12)


def test_retraining_job_and_predict_on_a_multiclass_csv(fraud_csv, tmp_path, capsys):
    from tabdistill.cli import main
    from tabdistill.ops.persist import load_model
    from tabdistill.ops.registry import Registry, read_manifest

    registry = tmp_path / "registry"
    holdout = fraud_csv["holdout"]
    config = tmp_path / "job.toml"
    config.write_text(
        job_config(
            data={
                "train": fraud_csv["train"],
                "target": "fraud_type",
                "holdout": holdout.with_name("ho_y.csv"),
            },
            registry={"path": registry, "keep_teacher": True},
            gate={"max_p99_us": 5000.0, "max_log_loss_increase": 0.02},
        )
    )
    pd.read_csv(holdout).drop(columns="txn_id").to_csv(holdout.with_name("ho_y.csv"), index=False)
    assert main(["retrain", "--config", str(config), "-q"]) == 0
    again = ["retrain", "--config", str(config), "--even-if-unchanged", "-q"]
    assert main(again) == 0  # compared with production
    reg = Registry(registry)
    version = reg.production()
    m = read_manifest(reg.root / version)
    assert m["classes"] == TYPES and m["decision"]["rule"] == "most probable class"
    assert set(m["data"]["class_shares"]) == set(TYPES)
    assert "max_log_loss_increase" in m["gate"]["checks"]
    assert m["production_metrics"]["log_loss"] > 0
    assert main(["inspect", str(registry)]) == 0
    assert "account_takeover" in capsys.readouterr().out
    out = tmp_path / "scores.csv"
    args = ["predict", "--model", str(registry), "--input", str(holdout), "--output", str(out)]
    assert main([*args, "--id-column", "txn_id", "--chunk-size", "250", "-q"]) == 0
    scores = pd.read_csv(out)
    names = [f"probability_{c}" for c in TYPES]
    assert list(scores.columns) == ["txn_id", *names, "decision", "model_version"]
    model = load_model(reg.root / version / "model.skops")
    features = pd.read_csv(holdout).drop(columns=["txn_id", "fraud_type"])
    np.testing.assert_allclose(scores[names], model.predict_proba(features), atol=1e-12)
    assert (scores["decision"] == model.predict(features)).all()


@pytest.fixture(scope="module")
def class_runtimes():
    X, y = fraud_types(2_000)
    enc = TabularEncoder().fit(X)
    Z, codes = enc.transform(X), encode_target(y).y
    Xt, _ = fraud_types(3_000, seed=5)
    Xt.loc[::7, "country"] = "ZZ"  # unseen
    Xt.loc[::9, "merchant_category"] = np.nan
    Xt.loc[::11, "amount"] = np.nan
    out = {}
    for name in ("lightgbm", "tree"):
        student = make_student(name, categorical_mask=enc.categorical_mask_, random_state=0)
        out[name] = compile_student(student.fit(Z, np.eye(4)[codes]), enc.schema_)
    return out, enc.transform(Xt)


@pytest.mark.parametrize("kind", ["lightgbm", "tree"])
def test_k_class_export_to_c_and_onnx_matches_the_runtime(class_runtimes, kind, tmp_path):
    import ctypes
    import shutil
    import subprocess

    from tabdistill.export.c_source import write_c

    runtimes, Zt = class_runtimes
    model, rows = runtimes[kind], np.ascontiguousarray(Zt)
    expected = model.score_encoded(rows)
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is not None:
        write_c(model, tmp_path, "types")
        lib = tmp_path / "libtypes.so"
        flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC"]
        subprocess.run([cc, *flags, str(tmp_path / "types.c"), "-o", str(lib), "-lm"], check=True)
        doubles = ctypes.POINTER(ctypes.c_double)
        dll = ctypes.CDLL(str(lib))
        dll.types_proba_batch.argtypes = [doubles, ctypes.c_long, doubles]
        dll.types_proba.argtypes = [doubles, doubles]
        out = np.empty_like(expected)
        dll.types_proba_batch(rows.ctypes.data_as(doubles), len(rows), out.ctypes.data_as(doubles))
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)
        one = np.empty(4)
        dll.types_proba(rows[3].ctypes.data_as(doubles), one.ctypes.data_as(doubles))
        np.testing.assert_allclose(one, expected[3], rtol=0, atol=1e-9)
        assert "#define TYPES_N_CLASSES 4" in (tmp_path / "types.h").read_text()
    ort = pytest.importorskip("onnxruntime")
    from tabdistill.export.onnx_graph import to_onnx

    session = ort.InferenceSession(
        to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    np.testing.assert_allclose(session.run(None, {"X": rows})[0], expected, rtol=0, atol=1e-9)


def test_k_class_single_row_walk_groups_trees_by_depth(class_runtimes):
    """score_one walks the K-class trees ordered by depth (the classes' trees interleave and
    differ in depth; lockstep groups walk as deep as their deepest tree) -- same scores."""
    from tabdistill_runtime.scorers import _by_depth

    runtimes, Zt = class_runtimes
    model = runtimes["lightgbm"]
    if model.backend != "c":
        pytest.skip("the compiled kernels are not built")
    stored = model._scorer._arrays
    walked = _by_depth(stored)
    assert np.any(np.diff(stored[2]) < 0) and np.all(np.diff(walked[2]) >= 0)
    # every tree kept once, with its own depth and class
    assert sorted(zip(*walked[1:4], strict=True)) == sorted(zip(*stored[1:4], strict=True))
    rows = np.ascontiguousarray(Zt[:300])
    one = np.array([model.score_one(z) for z in rows])
    np.testing.assert_allclose(one, model.score_encoded(rows), rtol=0, atol=1e-12)


def test_quantized_k_class_leaves_stay_within_their_error_bound(class_runtimes):
    from tabdistill.compress.quantize import quantize_leaves

    runtimes, Zt = class_runtimes
    for model in runtimes.values():
        exact = model.score_encoded(Zt)
        for codec in ("int16", "int8"):
            quantized, bound = quantize_leaves(model, codec)
            got = CompiledModel.load(quantized.to_bytes()).score_encoded(Zt)
            assert 0 < np.abs(got - exact).max() <= bound
