"""The time limit: stages share it, degrade gracefully, and say what they cut."""

import os
import time

import numpy as np
import pytest
from conftest import mixed_frame
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from tabdistill import DistilledClassifier, TeacherEnsemble, make_fraud
from tabdistill._budget import TimeBudget
from tabdistill.data.io import split_target
from tabdistill.distill.members import FoldAverage
from tabdistill.ops.persist import load_model, save_model


class SlowNoise(ClassifierMixin, BaseEstimator):
    """A member that takes ``seconds`` to fit and predicts nothing useful."""

    def __init__(self, seconds=0.5):
        self.seconds = seconds

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.seconds)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.random.default_rng(len(X)).uniform(0.2, 0.8, len(X))
        return np.column_stack([1 - p, p])


def test_budget_shares_what_is_left_and_records_cuts():
    unlimited = TimeBudget(None)
    assert not unlimited.limited and unlimited.fits(1e9) and not unlimited.stage(1, 9).limited
    budget = TimeBudget(10.0)
    stage = budget.stage(1, 3)
    assert 2.4 < stage.seconds <= 2.5 and stage.cuts is budget.cuts
    stage.cut("something")
    assert budget.cuts == ["something"] and budget.fits(1.0) and not budget.fits(11.0)


def test_teacher_drops_a_slow_useless_member_and_keeps_every_fold():
    X, y = mixed_frame(600, seed=1)
    members = {"lightgbm": {"n_estimators": 30, "num_leaves": 8}, "slow": SlowNoise(0.5)}
    start = time.perf_counter()
    teacher = TeacherEnsemble(members=members, cv=5, time_limit=2.0, random_state=0).fit(X, y)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0 * 1.2
    assert any("'slow' dropped after 1 fold" in cut for cut in teacher.budget_cuts_)
    assert teacher.weights_ == {"lightgbm": 1.0, "slow": 0.0}
    assert not np.isnan(teacher.oof_proba_).any()  # every fold was cross-fitted
    assert teacher.member_scores_["ensemble"]["roc_auc"] > 0.85
    unlimited = TeacherEnsemble(members={"lightgbm": members["lightgbm"]}, cv=5, random_state=0)
    assert unlimited.fit(X, y).budget_cuts_ == []


def test_fold_average_member_predicts_the_mean_and_saves(tmp_path):
    X, y = mixed_frame(400, seed=2)
    teacher = TeacherEnsemble(members=["logistic"], cv=3, random_state=0).fit(X, y)
    Z = np.nan_to_num(teacher.encoder_.encode(X))
    folds = [LogisticRegression().fit(Z[i::2], y.to_numpy()[i::2]) for i in range(2)]
    expected = (folds[0].predict_proba(Z) + folds[1].predict_proba(Z)) / 2
    np.testing.assert_allclose(FoldAverage(folds).predict_proba(Z), expected)
    teacher.estimators_["logistic"] = FoldAverage([teacher.estimators_["logistic"]] * 2)
    loaded = load_model(save_model(teacher, tmp_path / "teacher.skops"))
    np.testing.assert_allclose(loaded.predict_proba(X), teacher.predict_proba(X))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_distiller_honours_its_time_limit_and_reports_the_cuts():
    X, y = split_target(make_fraud(30_000, fraud_rate=0.05, random_state=0), "is_fraud")
    limit = 8.0
    start = time.perf_counter()
    model = DistilledClassifier(time_limit=limit, random_state=0, n_jobs=1).fit(X, y)
    elapsed = time.perf_counter() - start
    # a wall-clock bound: with more runnable jobs than cores, what the budget cannot interrupt
    # (encoding, one tree batch, compiling) slows down too; the 20% holds on a quiet machine
    slack = 1.2 if os.getloadavg()[0] <= (os.cpu_count() or 1) else 1.6
    assert elapsed <= slack * limit
    budget = model.report_["time_budget"]
    assert budget["limit_seconds"] == limit and budget["cuts"] == model.budget_cuts_
    assert model.budget_cuts_  # the default run takes far longer: something was cut
    assert model.report_["validation"]["student"]["roc_auc"] > 0.7
    assert model.predict_proba(X.head(5)).shape == (5, 2)


def test_the_frontier_takes_its_share_of_the_time_limit_and_says_what_it_left_out():
    X, y = split_target(make_fraud(30_000, fraud_rate=0.05, random_state=0), "is_fraud")
    limit = 10.0
    start = time.perf_counter()
    model = DistilledClassifier(
        time_limit=limit, frontier_budgets=(2, 5, 10, 20, 50, 100), random_state=0, n_jobs=1
    ).fit(X, y)
    elapsed = time.perf_counter() - start
    slack = 1.2 if os.getloadavg()[0] <= (os.cpu_count() or 1) else 1.6
    assert elapsed <= slack * limit
    # long runs of 4,000 rounds at six budgets do not fit in what is left: the frontier
    # says what it left out, and still holds a student at each budget it got to
    assert any(cut.startswith(("frontier:", "no latency")) for cut in model.budget_cuts_)
    assert model.frontier_[0].budget_us == 2 or len(model.frontier_) == 1


def test_refits_the_time_limit_leaves_out_keep_the_long_runs_own_students(monkeypatch):
    from tabdistill.distill import long_runs

    asked = []

    def no_refits(self, what, row_rounds=0.0):
        asked.append(what)
        if what != "refits":
            return True
        self.left_out[what] = self.left_out.get(what, 0) + 1
        return False

    monkeypatch.setattr(long_runs.Fitter, "has_time", no_refits)
    X, y = mixed_frame(800, seed=4)
    params = {
        "teacher": {"members": {"lightgbm": {"n_estimators": 30}, "logistic": {}}, "cv": 3},
        "student_params": {"n_estimators": 300, "num_leaves": 7},
        "augment_factors": (0,),
        "alphas": (0.0,),
        "student": "lightgbm",  # tree students: the refits are of their rounds
        "latency_budget": 0.5,
        "frontier_budgets": (0.5, 2.0),  # 2 us takes more rounds than the shipped student has
    }
    model = DistilledClassifier(**params, random_state=0).fit(X, y)
    assert "refits" in asked
    (cut,) = [c for c in model.budget_cuts_ if c.startswith("frontier:")]
    assert cut == f"frontier: the time limit left out {asked.count('refits')} refits"
    # a point not refit is the long run's prefix: fit on the training rows only, within budget
    (point,) = [p for p in model.frontier_ if p.budget_us == 2.0]
    assert model.frontier_[0].tree_steps < point.tree_steps <= 2.0 * 1000 / 5.0
    assert point.student.predict(model.encoder_.transform(X)).shape == (len(X),)
