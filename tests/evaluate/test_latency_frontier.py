"""The frontier in the benchmark: each budget's student measured on the test rows."""

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import mixed_frame

from tabdistill.evaluate.benchmark import run_benchmark
from tabdistill.evaluate.latency_frontier import frontier_advice
from tabdistill.evaluate.summary_text import format_table

KEYS = {
    "kind",
    "latency_budget_us",
    "roc_auc",
    "average_precision",
    "single_row_p50_us",
    "single_row_p99_us",
    "size_bytes",
}


@pytest.fixture(scope="module")
def result():
    X, y = mixed_frame(600, seed=5)
    return run_benchmark(
        X.assign(label=y),
        "label",
        distiller_params={
            "teacher": {"members": ["lightgbm", "logistic"], "cv": 3},
            "student_params": {"n_estimators": 100, "num_leaves": 7},
            "augment_factors": (0, 1),
            "latency_budget": 1.0,
            "n_jobs": 1,
        },
        latency_calls=100,
        batch_rows=1_000,
        n_bootstrap=50,
        frontier_budgets=(0.3, 1.0, 3.0),
    )


def test_the_json_frontier_has_a_point_per_budget_and_the_shipped_one(result):
    points = result.summary["frontier"]
    students = [p for p in points if p["kind"] == "student"]
    assert [p["latency_budget_us"] for p in students] == [0.3, 1.0, 3.0]
    assert all(KEYS <= set(p) for p in points)
    shipped = [p for p in students if p["shipped"]]
    assert len(shipped) == 1 and shipped[0]["latency_budget_us"] == 1.0
    assert shipped[0]["roc_auc"] == pytest.approx(result.summary["models"]["student"]["roc_auc"])
    assert all(
        p["within_budget"] == (p["single_row_p99_us"] <= p["latency_budget_us"]) for p in students
    )
    assert "latency-accuracy frontier" in format_table(result.summary)


def test_advice_points_to_the_cheapest_student_keeping_half_a_real_lead():
    summary = {
        "teacher_lead": {"verdict": "real"},
        "models": {
            m: {"roc_auc": v} for m, v in (("teacher", 0.90), ("student", 0.86), ("baseline", 0.85))
        },
        "frontier": [
            {"kind": "student", "latency_budget_us": 10, "roc_auc": 0.86, "single_row_p99_us": 9.0},
            {
                "kind": "student",
                "latency_budget_us": 50,
                "roc_auc": 0.88,
                "single_row_p99_us": 41.0,
            },
            {
                "kind": "student",
                "latency_budget_us": 100,
                "roc_auc": 0.89,
                "single_row_p99_us": 80.0,
            },
        ],
    }
    assert "the 50 us student keeps 60%" in frontier_advice(summary)
    summary["teacher_lead"]["verdict"] = "noise"
    assert frontier_advice(summary) is None


def _real_lead(points, student=0.86):
    return {
        "teacher_lead": {"verdict": "real"},
        "models": {
            m: {"roc_auc": v}
            for m, v in (("teacher", 0.90), ("student", student), ("baseline", 0.85))
        },
        "frontier": points,
    }


def test_advice_names_the_compiled_teacher_when_no_student_keeps_half():
    students = [
        {"kind": "student", "latency_budget_us": b, "roc_auc": 0.86, "single_row_p99_us": b * 0.8}
        for b in (10, 50)
    ]
    teacher = {"kind": "teacher", "latency_budget_us": None, "roc_auc": 0.90}
    advice = frontier_advice(_real_lead([*students, {**teacher, "single_row_p99_us": 30.0}]))
    assert "no student up to the largest budget keeps half" in advice
    assert "compiled teacher keeps all of it at p99 30.0 us" in advice
    assert "--scorer teacher" in advice
    # a teacher within the largest budget is itself a model of that size: no "capacity" claim
    assert "capacity" not in advice
    slow = frontier_advice(_real_lead([*students, {**teacher, "single_row_p99_us": 80.0}]))
    assert "capacity a small model cannot hold" in slow
    assert "compiled teacher keeps all of it at p99 80.0 us" in slow
    # without a compiled teacher (a member that does not compile) only the students are named
    assert "compiled teacher" not in frontier_advice(_real_lead(students))


def test_advice_names_the_compiled_teacher_only_when_no_slower_than_the_student():
    points = [
        {"kind": "student", "latency_budget_us": 20, "roc_auc": 0.88, "single_row_p99_us": 15.0},
        {"kind": "teacher", "latency_budget_us": None, "roc_auc": 0.90, "single_row_p99_us": 90.0},
    ]
    advice = frontier_advice(_real_lead(points))
    assert "the 20 us student keeps 60%" in advice
    assert "compiled teacher" not in advice
    points[1]["single_row_p99_us"] = 12.0
    assert "compiled teacher keeps all of it at p99 12.0 us" in frontier_advice(_real_lead(points))
    # a shipped student keeping half already: no advice
    assert frontier_advice(_real_lead(points, student=0.88)) is None


def test_the_summary_names_the_kind_of_student_auto_chose(result):
    """The default ``student="auto"`` reads as the kind shipped: here a linear student
    (the teacher is mostly its logistic member), at every budget below the shipped one."""
    distillation = result.summary["distillation"]
    assert distillation["student"] == "linear" == distillation["chosen"]["student"]
    below = [p for p in result.summary["frontier"] if p["latency_budget_us"] == 0.3]
    assert below[0]["tree_steps"] == 0 and not below[0]["shipped"]


def test_the_frontier_holds_the_teacher_cut_to_each_budget_it_does_not_fit():
    X, y = mixed_frame(600, seed=6)
    result = run_benchmark(
        X.assign(label=y),
        "label",
        distiller_params={
            "teacher": {
                "members": {"lightgbm": {}, "random_forest": {"n_estimators": 60}},
                "cv": 3,
            },
            "student": "lightgbm",
            "student_params": {"n_estimators": 60, "num_leaves": 7},
            "augment_factors": (0,),
            "latency_budget": 1.0,
            "n_jobs": 1,
        },
        latency_calls=100,
        batch_rows=1_000,
        n_bootstrap=20,
        frontier_budgets=(1.0, 2.0),
    )
    points = result.summary["frontier"]
    whole = [p for p in points if p["source"] == "teacher"]
    cuts = [p for p in points if p["source"] == "teacher cut"]
    assert len(whole) == 1 and whole[0]["latency_budget_us"] is None
    assert [p["latency_budget_us"] for p in cuts] == [1.0, 2.0]
    assert all(KEYS <= set(p) and p["kind"] == "teacher" for p in cuts)
    assert all(0 < p["tree_share"] < 1 for p in cuts)
    # each tree member's share of its trees; a larger budget keeps at least as many of each
    assert all(0 < s <= 1 for p in cuts for s in p["member_shares"].values())
    small, large = (p["member_shares"] for p in cuts)
    assert small.keys() == large.keys() and all(large[m] >= small[m] for m in small)
    assert all(p["predicted_p99_us"] <= p["latency_budget_us"] for p in cuts)
    assert all(p["tree_steps"] < whole[0]["tree_steps"] for p in cuts)
    assert all(
        p["within_budget"] == (p["single_row_p99_us"] <= p["latency_budget_us"]) for p in cuts
    )
    assert "teacher cut" in format_table(result.summary)


def test_advice_names_a_cut_teacher_faster_than_any_student_keeping_half():
    points = [
        {"kind": "student", "latency_budget_us": 50, "roc_auc": 0.88, "single_row_p99_us": 40.0},
        {
            "kind": "teacher",
            "latency_budget_us": 10,
            "source": "teacher cut",
            "tree_share": 0.4,
            "roc_auc": 0.88,
            "single_row_p99_us": 9.0,
        },
        {"kind": "teacher", "latency_budget_us": None, "roc_auc": 0.90, "single_row_p99_us": 30.0},
    ]
    advice = frontier_advice(_real_lead(points))
    assert "the 50 us student keeps 60%" in advice
    assert "the teacher cut to 40% of its trees keeps 60% at p99 9.0 us" in advice
    assert "(benchmark --save --teacher-budget 10; teacher_runtime_at(10))" in advice
    points[1]["cut_budget_us"] = 6.5  # cut again smaller where it measured over 10 us
    assert "teacher_runtime_at(6.5)" in frontier_advice(_real_lead(points))
    assert "compiled teacher" not in advice  # slower than the cut that keeps half
    points[1]["single_row_p99_us"] = 45.0  # slower than the student: not named
    assert "teacher cut" not in frontier_advice(_real_lead(points))


def test_a_point_is_named_by_its_source_bag_and_share_of_trees():
    from tabdistill.evaluate.latency_frontier import point_budget, point_source

    assert (
        point_source({"source": "baseline", "bag_members": 5, "tree_share": None}) == "baseline x5"
    )
    assert point_source({"source": "teacher cut", "tree_share": 0.314}) == "teacher cut 31%"
    assert point_budget({"kind": "teacher", "latency_budget_us": None}) == "teacher"
    assert point_budget({"kind": "teacher", "latency_budget_us": 20.0}, "µs") == "20 µs"


def test_a_cut_measured_over_its_budget_is_cut_again_smaller(monkeypatch):
    from tabdistill.evaluate import latency_frontier as lf

    class Cutter:  # the cost model fits the whole teacher in 5 us; it takes 10 us here
        def __init__(self):
            self.asked = []

        def cut(self, budget_us):
            self.asked.append(budget_us)
            share = min(1.0, budget_us / 5.0)
            return SimpleNamespace(
                share=share, teacher=None, predicted_p99_us=5.0 * share, tree_steps=1000 * share
            )

    # a cut's runtime "scores" in 10 us times its share of the trees
    monkeypatch.setattr(
        lf, "compile_teacher", lambda teacher, schema: SimpleNamespace(score_one=None)
    )
    monkeypatch.setattr(
        lf, "single_row_latency", lambda score, rows, n_calls: {"p99_us": 10.0 * cutter_share[0]}
    )
    cutter_share = [None]
    real_cut = Cutter.cut

    def tracked(self, budget_us):
        cut = real_cut(self, budget_us)
        cutter_share[0] = cut.share
        return cut

    monkeypatch.setattr(Cutter, "cut", tracked)
    cutter = Cutter()
    cut, _, one, nominal = lf.cut_within(cutter, 2.0, None, [], 10, whole_p99=10.0)
    # 2 us by the cost model measures 4 us: cut again to 2 * 0.9 * 2 / 4 = 0.9 us
    assert cutter.asked == [2.0, pytest.approx(0.9)] and one["p99_us"] <= 2.0
    assert nominal == pytest.approx(0.9)  # what teacher_runtime_at takes to make it again
    # the whole teacher measured within the budget: no cut
    assert lf.cut_within(Cutter(), 20.0, None, [], 10, whole_p99=10.0) is None
    # the cost model fits it whole in 8 us, but it measures 10: cut
    cut, _, one, _ = lf.cut_within(Cutter(), 8.0, None, [], 10, whole_p99=10.0)
    assert cut.share < 1.0 and one["p99_us"] <= 8.0

    class Linear(Cutter):  # no trees: nothing to cut, however slow the whole teacher is
        def cut(self, budget_us):
            assert budget_us > 0  # as TeacherCutter.cut checks
            return SimpleNamespace(share=1.0, teacher=None, predicted_p99_us=0.0, tree_steps=0)

    assert lf.cut_within(Linear(), 0.3, None, [], 10, whole_p99=2.0) is None


def test_a_cut_that_fits_far_under_its_budget_is_grown_again(monkeypatch):
    from tabdistill.evaluate import latency_frontier as lf

    asked, timed = [], []

    class Cutter:  # the cost model says 5 us for the whole teacher
        def cut(self, budget_us):
            asked.append(budget_us)
            share = min(1.0, budget_us / 5.0)
            return SimpleNamespace(
                share=share, teacher=share, predicted_p99_us=5.0 * share, tree_steps=1000 * share
            )

    def latency(score, rows, n_calls):  # 40 us times the share squared (caches outgrown)
        timed.append(score)
        spike = 10.0 if len(timed) % 3 == 1 else 1.0  # one round in three preempted
        return {"p99_us": 40.0 * score**2 * spike}

    monkeypatch.setattr(
        lf, "compile_teacher", lambda share, schema: SimpleNamespace(score_one=share)
    )
    monkeypatch.setattr(lf, "single_row_latency", latency)
    cut, _, one, nominal = lf.cut_within(Cutter(), 2.0, None, [], 10, whole_p99=30.0)
    # 2 us measures 6.4 (the round of median p99 of three): cut to 0.9 * 2 * 2 / 6.4 = 0.5625 us,
    # 0.51 us, a quarter of 2; grown to halfway to 2, 1.28 us, over (2.62); then halfway to
    # that, 0.92 us: 1.35 us, within the budget
    assert asked == pytest.approx([2.0, 0.5625, 1.28125, 0.921875])
    assert len(timed) == 3 * len(asked)
    assert cut.share == pytest.approx(0.184375) and one["p99_us"] == pytest.approx(1.3598, abs=1e-4)
    assert nominal == pytest.approx(0.921875)


def test_k_classes_get_the_teachers_cuts_on_their_frontier_too():
    X, _ = mixed_frame(900, seed=3)
    rng = np.random.default_rng(0)
    y = np.digitize(X["x2"].to_numpy() + rng.normal(size=len(X)), [3.3, 6.6])
    teacher = {"members": {"lightgbm": {"n_estimators": 40}, "random_forest": {"n_estimators": 30}}}
    result = run_benchmark(
        X.assign(label=y),
        "label",
        distiller_params={"teacher": {**teacher, "cv": 3}, "student": "lightgbm", "n_jobs": 1},
        latency_calls=100,
        batch_rows=1_000,
        n_bootstrap=20,
        frontier_budgets=(1.0, 10.0),
    )
    cuts = [p for p in result.summary["frontier"] if p["source"] == "teacher cut"]
    assert cuts and all(0 < p["tree_share"] < 1 and "log_loss" in p for p in cuts)
    assert "teacher cut" in format_table(result.summary)
