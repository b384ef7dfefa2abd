"""``student="auto"``: a linear student where the teacher is mostly its linear member."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_DISTILLER, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.distill import gate, search
from tabdistill.distill.context import StudentFactory
from tabdistill.distill.selection import Candidate, Knobs
from tabdistill.distill.students import LightGBMStudent, LinearStudent
from tabdistill.distill.teacher import TeacherEnsemble

#: ``FAST_DISTILLER`` with the default student.
AUTO = {
    **FAST_DISTILLER,
    "student": "auto",
    "teacher": {"members": ["lightgbm", "logistic"], "cv": 3},
}


def linear_frame(n=1000, seed=1):
    """A target whose log-odds are linear in its columns (numeric and categorical): the
    teacher weighs its logistic member above its LightGBM one."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    color = rng.choice(["red", "green", "blue"], n)
    z = 1.5 * x1 - x2 + 0.5 * x3 + np.select([color == "red", color == "green"], [0.8, -0.4]) - 1
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "color": pd.Categorical(color)}), y


@pytest.fixture(scope="module")
def linear_fit():
    X, y = linear_frame()
    model = DistilledClassifier(
        **AUTO, latency_budget=1.0, frontier_budgets=(0.5, 1.0, 4.0), random_state=0
    )
    return model.fit(X, y), X


@pytest.mark.parametrize(
    ("spec", "weights", "expected"),
    [
        ("auto", {"lightgbm": 0.4, "logistic": 0.6}, True),
        ("auto", {"lightgbm": 0.5, "logistic": 0.5}, False),
        ("auto", {"lightgbm": 1.0}, False),
        ("lightgbm", {"logistic": 1.0}, False),
    ],
)
def test_auto_is_linear_where_the_teacher_is_mostly_its_logistic_member(spec, weights, expected):
    teacher = TeacherEnsemble()
    teacher.weights_ = weights
    factory = StudentFactory(spec, np.zeros(2, bool), ["a", "b"], 2)
    assert factory.linear_for(teacher) is expected


def test_auto_distils_a_linear_student_of_a_mostly_linear_teacher(linear_fit):
    model, X = linear_fit
    assert model.teacher_.weights_["logistic"] > 0.5
    report = model.report_
    assert report["chosen"]["student"] == "linear" and report["fallback"] is None
    assert isinstance(model.student_[-1], LinearStudent)
    assert isinstance(model.baseline_[-1], LightGBMStudent)  # the baseline stays LightGBM
    assert [c.get("student") for c in report["candidates"]] == ["linear"]  # no tree search
    # it holds the teacher on validation, and the teacher's cross-validated lead is its gate
    validation = report["validation"]
    assert validation["student"]["roc_auc"] >= validation["teacher"]["roc_auc"] - 0.001
    assert report["cross_validated"]["teacher"] > report["cross_validated"]["baseline"]
    np.testing.assert_allclose(
        model.runtime_.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1], atol=1e-9
    )


def test_the_linear_student_stands_at_the_budgets_below_the_shipped_one(linear_fit):
    model, _ = linear_fit
    points = {p.budget_us: p for p in model.frontier_}
    shipped = model.student_[-1]
    assert points[1.0].student is shipped
    assert points[0.5].source == "distilled" and points[0.5].student is shipped
    assert points[4.0].source in {"distilled", "baseline"}
    shipped_lines = [line for line in model.report_["frontier"] if line["tree_steps"] == 0]
    assert shipped_lines and all(line["source"] == "distilled" for line in shipped_lines)


@pytest.mark.parametrize(("bar", "above"), [(np.inf, "distilled"), (-np.inf, "baseline")])
def test_above_the_shipped_budget_a_baseline_must_clear_the_teachers_lead(monkeypatch, bar, above):
    # the bar: the checked baseline's validation score plus the teacher's cross-validated lead
    monkeypatch.setattr(gate.GateDecision, "bar", lambda self, baseline: bar)
    X, y = linear_frame()
    model = DistilledClassifier(
        **AUTO, latency_budget=1.0, frontier_budgets=(0.5, 1.0, 4.0, 8.0), random_state=0
    ).fit(X, y)
    assert model.report_["chosen"]["student"] == "linear"
    points = {p.budget_us: p for p in model.frontier_}
    assert {points[b].source for b in (4.0, 8.0)} == {above}
    if above == "distilled":
        assert all(points[b].student is model.student_[-1] for b in (4.0, 8.0))
    else:
        assert all(isinstance(points[b].student, LightGBMStudent) for b in (4.0, 8.0))


def test_the_bar_is_the_checked_baseline_plus_the_teachers_cross_validated_lead():
    checked = Candidate(Knobs({}), None, np.zeros(2), 0.80)
    decision = gate.GateDecision(None, 0.7, {"teacher": 0.83, "baseline": 0.81}, 0.02)
    assert decision.bar(checked) == pytest.approx(0.82)
    assert gate.GateDecision(None, 0.7).bar(checked) is None  # no cross-check, no bar


def test_an_explicit_lightgbm_student_is_never_swapped():
    X, y = linear_frame()
    model = DistilledClassifier(**{**AUTO, "student": "lightgbm"}, random_state=0).fit(X, y)
    assert model.teacher_.weights_["logistic"] > 0.5
    assert isinstance(model.student_[-1], LightGBMStudent)
    assert all("student" not in c for c in model.report_["candidates"])


def test_a_linear_student_that_does_not_hold_the_teacher_leaves_it_to_the_trees(monkeypatch):
    monkeypatch.setattr(search, "_holds_teacher", lambda *args: False)
    X, y = linear_frame()
    model = DistilledClassifier(**AUTO, fallback_to_baseline=False, random_state=0).fit(X, y)
    kinds = [c.get("student") for c in model.report_["candidates"]]
    assert kinds[0] == "linear" and kinds[1:] and set(kinds[1:]) == {None}
    assert isinstance(model.student_[-1], LightGBMStudent)
    assert "student" not in model.report_["chosen"]


def test_a_linear_student_of_a_teacher_no_better_than_the_baseline_keeps_the_baseline(
    monkeypatch,
):
    real = gate.cross_validated

    def behind(*args, **kwargs):
        pooled = real(*args, **kwargs)
        return {**pooled, "teacher": pooled["baseline"] - 0.01}

    monkeypatch.setattr(gate, "cross_validated", behind)
    X, y = linear_frame()
    with pytest.warns(UserWarning, match="the teacher does not beat the baseline"):
        model = DistilledClassifier(**AUTO, random_state=0).fit(X, y)
    assert model.report_["fallback"].startswith("the teacher does not beat")
    assert isinstance(model.student_[-1], LightGBMStudent)
    assert "student" not in model.report_["chosen"]


def test_too_few_rows_of_a_class_to_cross_validate_fall_back_on_the_validation_check(
    monkeypatch,
):
    monkeypatch.setattr(StudentFactory, "linear_for", lambda self, teacher: True)
    X, _ = mixed_frame(400, seed=3)
    y = (np.arange(len(X)) < 5).astype(int)  # 4 positives in training: 5 folds cannot hold them
    X = X.assign(x1=X["x1"] + 3 * y)
    model = DistilledClassifier(**AUTO, selection_folds=5, random_state=0)
    model.fit(X, y)  # no error from a cross-fit of 5 folds over 4 positives
    assert model.report_["cross_validated"] is None
    assert model.report_["chosen"]["student"] == "linear"
    assert model.report_["student_win_rate"] > 0.5  # it won the validation check instead
