import functools

import numpy as np
import pytest
from conftest import FAST_DISTILLER, mixed_frame

from tabdistill import DistilledClassifier, metrics
from tabdistill.distill import frontier, long_runs
from tabdistill.distill.stopping import PlateauRule
from tabdistill.distill.students import LightGBMStudent


def _teacher_rows(n=2000, seed=3):
    """Rows, the teacher's probabilities for them and labels drawn from those."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 4))
    q = 1 / (1 + np.exp(-(1.5 * Z[:, 0] - Z[:, 1] * Z[:, 2])))
    return Z, q, (rng.random(n) < q).astype(float)


@pytest.mark.parametrize("loss", ["cross_entropy", "logit"])
def test_a_plateau_ends_a_run_as_far_past_its_best_score_as_it_took_to_reach_it(loss):
    Z, q, y = _teacher_rows()
    train, held = slice(0, 1500), slice(1500, None)
    # stopping on the teacher's probabilities: the run keeps fitting them closer long after
    # its ROC-AUC on the labels stopped improving, and early stopping (patience 600) never ends it
    spec = {"num_leaves": 7, "learning_rate": 0.5, "early_stopping_rounds": 600, "loss": loss}
    ev = (Z[held], q[held], None)
    rule = PlateauRule("roc_auc", y[held], tolerance=0.002, min_rounds=10, every=5)
    stopped = LightGBMStudent(n_estimators=600, **spec).fit(
        Z[train], q[train], None, ev, plateau=rule
    )
    long = LightGBMStudent(n_estimators=600, **spec).fit(Z[train], q[train], None, ev)
    assert long.run_end_ == "n_estimators" and long.rounds_run_ > 500
    assert stopped.run_end_ == "plateau" and stopped.rounds_run_ < 200
    # the rounds fit are the longer run's
    for rounds in (1, stopped.rounds_run_ // 2, stopped.rounds_run_):
        np.testing.assert_array_equal(
            stopped.truncated(rounds).predict(Z), long.truncated(rounds).predict(Z)
        )
    # it ended at the first check from 10 rounds on where the best score rose by no more
    # than the tolerance over the second half of the run
    best = {}
    for rounds in range(5, long.rounds_run_ + 1, 5):
        score = metrics.score("roc_auc", y[held], long.truncated(rounds).predict(Z[held]))
        best[rounds] = max(score, best.get(rounds - 5, -np.inf))
        if rounds >= 10 and best[rounds] - best.get(rounds // 2 // 5 * 5, -np.inf) <= 0.002:
            break
    assert stopped.rounds_run_ == rounds


def test_a_run_that_early_stopping_ends_first_is_left_alone():
    Z, q, y = _teacher_rows()
    spec = {"num_leaves": 7, "early_stopping_rounds": 10, "random_state": 0}
    ev = (Z[1500:], y[1500:], None)
    rule = PlateauRule("roc_auc", y[1500:], min_rounds=400)
    watched = LightGBMStudent(n_estimators=400, **spec).fit(
        Z[:1500], y[:1500], None, ev, plateau=rule
    )
    plain = LightGBMStudent(n_estimators=400, **spec).fit(Z[:1500], y[:1500], None, ev)
    assert watched.run_end_ == plain.run_end_ == "early_stopping"
    np.testing.assert_array_equal(watched.predict(Z), plain.predict(Z))


@pytest.mark.parametrize(
    "large, costly, fine",
    [
        (False, False, True),
        (True, False, False),
        (False, True, False),
        (True, False, True),
        (False, True, True),
    ],
)
def test_only_costly_long_runs_with_enough_rare_rows_end_on_a_plateau(
    monkeypatch, large, costly, fine
):
    """Costly runs are those on large data, which the search subsamples (here every row
    stands in for the subsample), or on a training set of ``COSTLY_CELLS`` or more (here:
    any); ``fine``: validation holds enough rows of the rarer class to tell a thousandth of
    ROC-AUC from noise (here: any)."""
    if large:
        monkeypatch.setattr(frontier, "search_rows", lambda n, seed: np.arange(n))
    if costly:
        monkeypatch.setattr(long_runs, "COSTLY_CELLS", 1)
    if fine:
        monkeypatch.setattr(frontier, "FINE_CHOICE_RARER_ROWS", 1)
    rules = []
    real = LightGBMStudent.fit

    @functools.wraps(real)
    def fit(self, *args, plateau=None, **kwargs):
        if self.n_estimators == long_runs.FRONTIER_ROUNDS:
            rules.append(plateau)
        return real(self, *args, plateau=plateau, **kwargs)

    monkeypatch.setattr(LightGBMStudent, "fit", fit)
    monkeypatch.setattr(long_runs, "searched_run", lambda *args, **kwargs: None)
    X, y = mixed_frame(800, seed=4)
    params = {**FAST_DISTILLER, "latency_budget": 0.5, "frontier_budgets": (0.5, 2.0)}
    model = DistilledClassifier(**params, random_state=0).fit(X, y)
    assert len(rules) >= 2 and len(model.frontier_) == 2
    if not ((large or costly) and fine):
        assert rules == [None] * len(rules)
        return
    for rule in rules:
        assert isinstance(rule, PlateauRule) and rule.metric == "roc_auc"
        assert rule.tolerance == model.size_tolerance and set(np.unique(rule.y)) <= {0, 1}
