"""The latency-accuracy frontier: a student at each budget, read off one long run per size."""

import functools

import numpy as np
import pytest
from conftest import FAST_DISTILLER, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.distill import frontier, long_runs
from tabdistill.distill.bagging import MEMBER_PARAMS
from tabdistill.distill.context import StudentFactory
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


def _frontier_fit(monkeypatch, X, y, params, force=False):
    """A fit with a frontier, and the long runs and refits its frontier fit; ``force``: one
    that fits every long run and refit instead of reading them off the search and the final
    refit (what the frontier did before it read them)."""
    calls, real = [], StudentFactory.fit

    def fit(self, seed, student_params, data, eval_set=None, deadline=None, **stops):
        calls.append({**student_params, "stops_early": eval_set is not None})
        return real(self, seed, student_params, data, eval_set, deadline, **stops)

    with monkeypatch.context() as patch:
        patch.setattr(StudentFactory, "fit", fit)
        if force:
            patch.setattr(long_runs, "searched_run", lambda *args: None)
            patch.setattr(frontier, "_final_run", lambda *args: None)
        model = DistilledClassifier(**params, random_state=0).fit(X, y)
        n_long = sum(
            c["stops_early"] and c["n_estimators"] == long_runs.FRONTIER_ROUNDS and not _bagged(c)
            for c in calls
        )
    # the fit's own refits keep the latency cap; the frontier's are fit without it
    refits = sum(c.get("max_steps") is None and not c["stops_early"] for c in calls)
    return model, n_long, refits


def _bagged(params) -> bool:
    """Whether student parameters are a bag member's."""
    return all(params.get(k) == v for k, v in MEMBER_PARAMS.items())


def _assert_same_frontier(a, b, X):
    assert a.report_["frontier"] == b.report_["frontier"]
    Z = a.encoder_.transform(X)
    for p, q in zip(a.frontier_, b.frontier_, strict=True):
        np.testing.assert_array_equal(p.student.predict(Z), q.student.predict(Z))


def test_runs_early_stopping_ended_and_the_final_refit_are_read_not_fit_again(monkeypatch):
    X, y = mixed_frame(800, seed=4)
    params = {
        **FAST_DISTILLER,
        "student_params": {"n_estimators": 300, "num_leaves": 7},
        "latency_budget": 0.5,
        "frontier_budgets": (0.2, 0.3, 0.5),
    }
    model, n_long, refits = _frontier_fit(monkeypatch, X, y, params)
    assert n_long == 0 and refits == 0
    forced, n_long, refits = _frontier_fit(monkeypatch, X, y, params, force=True)
    # one size: one refit per source, however many budgets take its rounds
    assert n_long == 2 and refits == len({p.source for p in forced.frontier_[:2]})
    _assert_same_frontier(model, forced, X)


def test_a_long_run_is_fit_only_where_a_budget_could_take_more_rounds(monkeypatch):
    """Without early stopping every search run ends at its round cap: a budget that takes
    fewer rounds reads it, one that could take more needs the long run."""
    monkeypatch.setattr(long_runs, "FRONTIER_ROUNDS", 200)
    X, y = mixed_frame(800, seed=4)
    params = {
        **FAST_DISTILLER,
        "student_params": {"n_estimators": 40, "num_leaves": 7},
        "early_stopping_rounds": None,
        "latency_budget": 0.1,
    }
    for budgets, fit_here in (((0.05, 0.1, 0.2), 0), ((0.1, 10.0, 20.0), 2)):
        params["frontier_budgets"] = budgets
        model, n_long, _ = _frontier_fit(monkeypatch, X, y, params)
        assert n_long == fit_here
        forced, n_long, _ = _frontier_fit(monkeypatch, X, y, params, force=True)
        assert n_long == 2
        _assert_same_frontier(model, forced, X)
    # 200 rounds of at most 6 steps fit in 10 us and in 20 us: both budgets hold one student
    assert model.frontier_[1].student is model.frontier_[2].student


def test_long_runs_end_past_the_largest_budget_with_the_same_frontier(monkeypatch):
    """No budget reads a long run past the largest budget's steps: it ends soon after them
    (StepCap), and the frontier is the one of runs that went on to early stopping."""
    monkeypatch.setattr(long_runs, "FRONTIER_ROUNDS", 1_000)
    X, y = mixed_frame(800, seed=4)
    params = {
        **FAST_DISTILLER,
        "student_params": {"n_estimators": 40, "num_leaves": 7},
        "early_stopping_rounds": 300,  # the runs would go on long past the budgets
        "latency_budget": 0.1,
        "frontier_budgets": (0.1, 1.0),  # 200 tree steps at most
    }
    real = LightGBMStudent.fit

    def fitting(ends, capped):
        @functools.wraps(real)
        def fit(self, *args, stop_steps=None, **kwargs):
            out = real(self, *args, stop_steps=stop_steps if capped else None, **kwargs)
            if self.n_estimators == long_runs.FRONTIER_ROUNDS:
                ends.append((stop_steps, out.run_end_))
            return out

        return fit

    models, ends = [], {True: [], False: []}
    for capped in (True, False):
        monkeypatch.setattr(LightGBMStudent, "fit", fitting(ends[capped], capped))
        models.append(DistilledClassifier(**params, random_state=0).fit(X, y))
    # two long runs (a source each) read up to 1 us, then five bag members a source, read
    # up to 1 us / 5 members = 0.2 us = 40 steps each
    assert [steps for steps, _ in ends[True]] == [200.0] * 2 + [40.0] * 10
    # each ended past its cap, before early stopping or the round cap ended it uncapped
    assert {end for _, end in ends[True]} == {"max_steps"}
    assert "max_steps" not in {end for _, end in ends[False]}
    _assert_same_frontier(*models, X)
