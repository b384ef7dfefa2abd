"""The teacher cut to a latency budget: each member's first trees, as many as its weight per
tree step affords."""

import copy

import numpy as np
import pytest
from conftest import FAST_DISTILLER, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.distill.members import FoldAverage
from tabdistill.distill.sizes import TREE_STEP_NS
from tabdistill.distill.teacher import TeacherEnsemble
from tabdistill.distill.teacher_cut import TeacherCutter, cut_teacher, teacher_steps
from tabdistill.distill.teacher_runtime import compile_teacher
from tabdistill_runtime.trees import walk_structure

MEMBERS = {
    "lightgbm": {"n_estimators": 60},
    "xgboost": {"n_estimators": 60},
    "random_forest": {"n_estimators": 40},
    "logistic": {},
}


def _teacher(y_kind="binary", fold_average=False):
    X, y = mixed_frame(900, seed=7)
    if y_kind == "multiclass":
        y = np.digitize(X["x2"].to_numpy(), [3.3, 6.6])
    teacher = TeacherEnsemble(members=MEMBERS, cv=3, random_state=0, n_jobs=1).fit(X, y)
    # every member weighed, whatever ensemble selection chose: each kind is cut
    teacher.weights_ = dict.fromkeys(MEMBERS, 0.25)
    teacher.estimators_ = {name: teacher.estimators_.get(name) for name in MEMBERS}
    for name in [n for n, est in teacher.estimators_.items() if est is None]:
        refit = TeacherEnsemble(members={name: MEMBERS[name]}, cv=2, random_state=0, n_jobs=1)
        teacher.estimators_[name] = refit.fit(X, y).estimators_[name]
    if fold_average:
        teacher.estimators_["lightgbm"] = FoldAverage([teacher.estimators_["lightgbm"]] * 2)
    return teacher, teacher.encoder_.transform(X)


@pytest.fixture(scope="module")
def binary():
    return _teacher()


def _walked_steps(runtime) -> float:
    a = runtime.arrays
    return float(walk_structure(a["feature"], a["right"], a["roots"]).sum())


@pytest.mark.parametrize(("y_kind", "fold_average"), [("binary", True), ("multiclass", False)])
def test_a_cut_teacher_compiles_to_what_it_predicts_within_its_budget(y_kind, fold_average):
    teacher, Z = _teacher(y_kind, fold_average)
    budget = teacher_steps(teacher) * TREE_STEP_NS / 1000 / 3
    cut = cut_teacher(teacher, budget)
    assert 0 < cut.share < 1 and cut.tree_steps <= budget * 1000 / TREE_STEP_NS
    assert cut.predicted_p99_us <= budget
    runtime = compile_teacher(cut.teacher)
    assert _walked_steps(runtime) == cut.tree_steps  # the cost counted is the one compiled
    np.testing.assert_allclose(
        runtime.score_encoded(Z), cut.teacher.predict_proba_encoded(Z), rtol=0, atol=1e-9
    )
    whole = teacher.predict_proba_encoded(Z)
    assert np.abs(cut.teacher.predict_proba_encoded(Z) - whole).max() > 1e-3
    np.testing.assert_array_equal(teacher.predict_proba_encoded(Z), whole)  # left as it was


def test_members_keep_their_first_rounds_and_trees_and_the_linear_one_whole(binary):
    teacher, Z = binary
    cut = cut_teacher(teacher, teacher_steps(teacher) * TREE_STEP_NS / 1000 / 2)
    members = cut.teacher.estimators_
    lgbm, forest = teacher.estimators_["lightgbm"], teacher.estimators_["random_forest"]
    n = members["lightgbm"].booster_.current_iteration()
    assert 1 <= n < lgbm.booster_.current_iteration()
    np.testing.assert_allclose(
        members["lightgbm"].predict_proba(Z), lgbm.predict_proba(Z, num_iteration=n)
    )
    assert (
        members["random_forest"].estimators_
        == forest.estimators_[: len(members["random_forest"].estimators_)]
    )
    assert members["logistic"] is teacher.estimators_["logistic"]
    assert cut.teacher.weights_ == teacher.weights_


def test_a_member_weighed_little_for_its_steps_gives_up_its_trees_first(binary):
    teacher, _ = binary
    teacher = copy.copy(teacher)
    teacher.weights_ = {"lightgbm": 0.6, "xgboost": 0.3, "random_forest": 0.05, "logistic": 0.05}
    cutter = TeacherCutter(teacher)
    steps = cutter.steps
    cuts = [cutter.cut(steps * TREE_STEP_NS / 1000 * f) for f in (0.2, 0.4, 0.7)]
    for cut in cuts:
        s = cut.member_shares
        assert s["random_forest"] < s["xgboost"] and s["random_forest"] < s["lightgbm"]
        assert "logistic" not in s  # no trees: kept whole
        kept = sum(len(est.estimators_) for est in [cut.teacher.estimators_["random_forest"]])
        assert kept == max(1, int(s["random_forest"] * 40))
    # a larger budget keeps at least as many trees of every member
    for small, large in zip(cuts, cuts[1:]):
        assert all(large.member_shares[m] >= small.member_shares[m] for m in small.member_shares)
        assert large.share > small.share and large.tree_steps > small.tree_steps


def test_the_whole_teacher_where_it_fits_none_where_one_tree_each_does_not(binary):
    teacher, _ = binary
    steps = teacher_steps(teacher)
    whole = cut_teacher(teacher, steps * TREE_STEP_NS / 1000)
    assert whole.share == 1.0 and whole.teacher is teacher and whole.tree_steps == steps
    assert whole.member_shares == dict.fromkeys(["lightgbm", "xgboost", "random_forest"], 1.0)
    assert cut_teacher(teacher, 0.001) is None  # 0.2 steps: not one tree
    for bad in (0, -5.0, "10"):
        with pytest.raises(ValueError, match="budget_us must be a positive number"):
            cut_teacher(teacher, bad)


def test_the_distiller_compiles_its_teacher_cut_to_a_budget():
    X, y = mixed_frame(600, seed=3)
    teacher = {"members": {"lightgbm": {"n_estimators": 40}, "random_forest": {}}, "cv": 3}
    model = DistilledClassifier(**{**FAST_DISTILLER, "teacher": teacher}, random_state=0)
    model.fit(X, y)
    steps = teacher_steps(model.teacher_)
    assert model.teacher_runtime_at(steps * TREE_STEP_NS / 1000) is model.teacher_runtime_
    runtime = model.teacher_runtime_at(steps * TREE_STEP_NS / 1000 / 4)
    assert _walked_steps(runtime) <= steps / 4
    Z = model.encoder_.transform(X)
    cut = cut_teacher(model.teacher_, steps * TREE_STEP_NS / 1000 / 4).teacher
    np.testing.assert_allclose(
        runtime.score_encoded(Z), cut.predict_proba_encoded(Z), rtol=0, atol=1e-9
    )
    with pytest.raises(ValueError, match="no cut of the teacher fits 0.001 us"):
        model.teacher_runtime_at(0.001)


def test_a_member_whose_trees_cost_no_steps_is_kept_whole():
    X, y = mixed_frame(400, seed=5)
    members = {
        "lightgbm": {"n_estimators": 5, "min_child_samples": 10_000},  # no split: depth 0
        "xgboost": {"n_estimators": 30},
    }
    teacher = TeacherEnsemble(members=members, cv=2, random_state=0, n_jobs=1).fit(X, y)
    teacher.weights_ = {"lightgbm": 0.5, "xgboost": 0.5}
    for name in [n for n in members if teacher.estimators_.get(n) is None]:
        one = TeacherEnsemble(members={name: members[name]}, cv=2, random_state=0, n_jobs=1)
        teacher.estimators_[name] = one.fit(X, y).estimators_[name]
    cutter = TeacherCutter(teacher)
    assert cutter.priority["lightgbm"] == np.inf  # its trees cost no steps
    cut = cutter.cut(cutter.steps * TREE_STEP_NS / 1000 / 2)
    assert cut is not None and 0 < cut.member_shares["xgboost"] < 1
    assert "lightgbm" not in cut.member_shares  # free: all its rounds kept
    rounds = teacher.estimators_["lightgbm"].booster_.current_iteration()
    assert cut.teacher.estimators_["lightgbm"].booster_.current_iteration() == rounds
