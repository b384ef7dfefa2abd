"""The latency-accuracy frontier: a student at each budget, read off one long run per size."""

import numpy as np
import pytest
from conftest import FAST_DISTILLER, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.distill.sizes import TREE_STEP_NS
from tabdistill.distill.students import LightGBMStudent


def test_a_truncated_student_is_the_student_of_that_many_rounds():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(400, 4))
    q = 1 / (1 + np.exp(-Z[:, 0] - Z[:, 1] * Z[:, 2]))
    long = LightGBMStudent(n_estimators=60, num_leaves=7, random_state=0).fit(Z, q)
    short = LightGBMStudent(n_estimators=25, num_leaves=7, random_state=0).fit(Z, q)
    cut = long.truncated(25)
    assert cut.n_estimators_ == 25 and long.n_estimators_ == 60
    np.testing.assert_allclose(cut.predict(Z), short.predict(Z), rtol=0, atol=1e-12)


def test_the_frontier_has_a_student_per_budget_within_its_steps():
    X, y = mixed_frame(800, seed=4)
    params = {**FAST_DISTILLER, "student_params": {"n_estimators": 200, "num_leaves": 7}}
    budgets = (0.2, 0.5, 2.0)
    model = DistilledClassifier(
        **params, latency_budget=0.5, frontier_budgets=budgets, random_state=0
    ).fit(X, y)
    points = model.frontier_
    assert [p.budget_us for p in points] == sorted(budgets)
    shipped = [p for p in points if p.budget_us == 0.5]
    assert shipped[0].student is model.student_[-1]
    for p in points:
        assert p.tree_steps <= p.budget_us * 1000 / TREE_STEP_NS
        assert p.source in ("distilled", "baseline")
        assert (p.reason is None) == (p.source == "distilled") or p.source == "distilled"
    steps = [p.tree_steps for p in points]
    assert steps == sorted(steps)  # a larger budget never holds a smaller student
    report = model.report_["frontier"]
    assert [r["latency_budget_us"] for r in report] == sorted(budgets)
    assert model.frontier_runtime(0.5) is model.runtime_
    Z = model.encoder_.transform(X)
    for p in points:
        np.testing.assert_allclose(
            model.frontier_runtime(p.budget_us).score_encoded(Z), p.student.predict(Z), atol=1e-12
        )
    with pytest.raises(ValueError, match=r"the budgets \[0.2, 0.5, 2.0\]"):
        model.frontier_runtime(5.0)


def test_no_frontier_unless_asked():
    X, y = mixed_frame(400, seed=4)
    model = DistilledClassifier(**FAST_DISTILLER, random_state=0).fit(X, y)
    assert model.frontier_ is None and model.report_["frontier"] is None
    with pytest.raises(ValueError, match="fit with frontier_budgets"):
        model.frontier_runtime(10.0)
