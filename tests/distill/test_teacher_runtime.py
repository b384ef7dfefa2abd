"""The whole teacher compiled: every member kind, fold averages, binary and K classes, <= 1e-9."""

import numpy as np
import pytest
from conftest import FAST_MEMBERS, mixed_frame
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit

from tabdistill import TeacherEnsemble, make_fraud
from tabdistill.data import split_target
from tabdistill.data.target import encode_target
from tabdistill.distill.members import (
    FoldAverage,
    build_member,
    category_levels,
    fit_member,
    member_proba,
)
from tabdistill.distill.teacher_runtime import compile_teacher
from tabdistill_runtime import CompiledModel

#: One member of every kind the teacher builds, small.
EVERY_MEMBER = {
    **FAST_MEMBERS,
    "extra_trees": {"n_estimators": 15, "min_samples_leaf": 5},
    "lightgbm_no_high_card": {"n_estimators": 20, "num_leaves": 6},
}


def _held_out(X):
    """Scoring rows with NaN everywhere and levels unseen at fit."""
    X = X.copy()
    X.loc[X.index[::6], "city"] = "marseille"
    X.loc[X.index[::5], "color"] = np.nan
    X.loc[X.index[::4], "x1"] = np.nan
    return X


def _records(X) -> list[dict]:
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in X.astype(object).to_dict(orient="records")
    ]


def _assert_parity(teacher, X, runtime=None):
    runtime = runtime if runtime is not None else teacher.compile()
    expected = teacher.predict_proba_encoded(teacher.encoder_.encode(X))
    Z = teacher.encoder_.encode(X)
    assert np.abs(runtime.score_encoded(Z) - expected).max() <= 1e-9
    assert np.abs(runtime.score_batch(X) - expected).max() <= 1e-9
    rows = np.array([runtime.score_one(z) for z in Z[:150]])
    assert np.abs(rows - expected[:150]).max() <= 1e-9
    records = np.array([runtime.score_record(r) for r in _records(X.iloc[:150])])
    assert np.abs(records - expected[:150]).max() <= 1e-9
    return runtime


def _with_every_member(teacher, X, y, members):
    """``teacher`` with every member of ``members`` fit on all rows and weighed alike (ensemble
    selection gives some of them no weight, and the teacher does not keep those)."""
    Z = teacher.encoder_.encode(X)
    cat = teacher.encoder_.categorical_mask_
    levels = category_levels(Z, cat)
    y = encode_target(y).y
    teacher.estimators_ = {
        name: fit_member(build_member(name, params, cat, 0, 1, levels), Z, y, None, cat)
        for name, params in members.items()
    }
    teacher.weights_ = {name: 1 / len(members) for name in members}
    return teacher


@pytest.fixture(scope="module")
def binary_teacher():
    X, y = mixed_frame(n=900, seed=12)
    teacher = TeacherEnsemble(members=EVERY_MEMBER, cv=3, random_state=0).fit(X, y)
    return _with_every_member(teacher, X, y, EVERY_MEMBER)


def test_every_member_kind_compiles_within_1e9(binary_teacher, tmp_path):
    teacher = binary_teacher
    assert set(teacher.estimators_) == set(EVERY_MEMBER)
    X = _held_out(mixed_frame(n=500, seed=13)[0])
    runtime = _assert_parity(teacher, X)
    assert [m["name"] for m in runtime.meta["members"]] == list(teacher.estimators_)
    loaded = CompiledModel.load(runtime.save(tmp_path / "teacher.npz"))
    Z = teacher.encoder_.encode(X)
    assert np.array_equal(loaded.score_encoded(Z), runtime.score_encoded(Z))
    assert loaded.kind == "blend"


def test_xgboost_member_scores_through_its_float32_margins(binary_teacher):
    # the teacher takes XGBoost's sigmoid in float64: ~1e-7 from its float32 predict_proba
    model = binary_teacher.estimators_["xgboost"]
    Z = binary_teacher.encoder_.encode(mixed_frame(n=300, seed=14)[0])
    moved = np.abs(member_proba(model, Z) - model.predict_proba(Z)).max()
    assert 0 < moved < 1e-6


def test_k_class_teacher_with_fold_averages_missing_a_class():
    # a time-limited teacher keeps the mean of its fold models; the first fold lacks class 0
    X, y = split_target(
        make_fraud(900, fraud_rate=0.3, random_state=0, fraud_type=True), "fraud_type"
    )
    codes = np.unique(y, return_inverse=True)[1]
    fold = np.where(np.arange(len(y)) % 2 == 0, 0, 1)
    fold[(codes == 0) & (fold == 1)] = 0
    members = {k: EVERY_MEMBER[k] for k in ("lightgbm", "xgboost", "random_forest", "logistic")}
    teacher = TeacherEnsemble(
        members=members, cv=PredefinedSplit(fold), time_limit=1e-3, random_state=0
    ).fit(X, y)
    averages = [e for e in teacher.estimators_.values() if isinstance(e, FoldAverage)]
    assert averages and all(a.fold_classes[0] is not None for a in averages)
    runtime = _assert_parity(teacher, X.iloc[:300])
    assert runtime.n_outputs == 4


def test_k_class_teacher_of_every_kind():
    X, y = split_target(
        make_fraud(900, fraud_rate=0.3, random_state=1, fraud_type=True), "fraud_type"
    )
    members = {k: v for k, v in EVERY_MEMBER.items() if k != "lightgbm_no_high_card"}
    teacher = TeacherEnsemble(members=members, cv=3, random_state=0).fit(X, y)
    teacher = _with_every_member(teacher, X, y, members)
    X.loc[X.index[::5], "country"] = "ZZ"
    runtime = _assert_parity(teacher, X.iloc[:300])
    # the forests' class copies are stored once, with vector leaves
    assert (runtime.arrays["tree_width"] == 4).any()


def test_a_logistic_only_teacher_and_a_custom_member():
    X, y = mixed_frame(n=300, seed=15)
    teacher = TeacherEnsemble(members=["logistic"], cv=3, random_state=0).fit(X, y)
    teacher.estimators_["logistic"] = FoldAverage([teacher.estimators_["logistic"]] * 2)
    runtime = _assert_parity(teacher, _held_out(X))
    assert runtime.n_trees == 0
    custom = TeacherEnsemble(members=[("mine", LogisticRegression())], cv=3, random_state=0)
    custom.fit(X[["x1", "count"]], y)
    with pytest.raises(TypeError, match="member 'mine' .*LogisticRegression.* cannot be compiled"):
        compile_teacher(custom)
