"""Decisions, not just scores: thresholds chosen on validation (issue 11, item 4)."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS, mixed_frame

from tabdistill import DistilledClassifier, metrics


def _model(**kw):
    return DistilledClassifier(
        teacher={"members": {"lightgbm": FAST_MEMBERS["lightgbm"]}, "cv": 3},
        student_params={"n_estimators": 30, "num_leaves": 8},
        augment_factors=(0, 1),
        alphas=(0.5,),
        random_state=0,
        **kw,
    )


@pytest.fixture(scope="module")
def data():
    X, y = mixed_frame(1_500, seed=12, positive_rate=0.1)
    return X, pd.Series(np.where(y == 1, "fraud", "ok"))


def test_default_threshold_is_half_and_predict_uses_it(data):
    X, y = data
    model = _model().fit(X, y)
    assert model.decision_threshold_ == 0.5
    p = model.predict_proba(X)[:, model.positive_index_]
    np.testing.assert_array_equal(model.predict(X) == "fraud", p >= 0.5)


@pytest.mark.parametrize("spec", [{"fpr": 0.02}, {"alert_rate": 0.05}, {"cost_ratio": 20}, 0.2])
def test_threshold_targets_are_met_on_validation(data, spec):
    X, y = data
    # refit=False: the threshold is chosen on the validation predictions of the student before
    # its refit on training + validation rows; without the refit those are the final model's
    model = _model(threshold=spec, refit=False).fit(X, y)
    t = model.decision_threshold_
    va = model.validation_index_
    y_va = (y.iloc[va] == "fraud").to_numpy().astype(int)
    p_va = model.predict_proba(X.iloc[va])[:, model.positive_index_]
    got = metrics.decision_summary(y_va, p_va, t)
    if "fpr" in spec if isinstance(spec, dict) else False:
        assert got["fpr"] <= 0.02
    elif isinstance(spec, dict) and "alert_rate" in spec:
        assert got["alerts_per_10k"] <= 500 + 1e-9
    elif isinstance(spec, dict):  # cost: no other threshold on validation is cheaper
        cost = lambda th: (  # noqa: E731
            20 * ((p_va < th) & (y_va == 1)).sum() + ((p_va >= th) & (y_va == 0)).sum()
        )
        assert cost(t) <= min(cost(th) for th in np.unique(p_va))
    else:
        assert t == 0.2
    flagged = model.predict(X) == "fraud"
    np.testing.assert_array_equal(flagged, model.predict_proba(X)[:, 0] >= t)
    assert model.report_["decision"]["threshold"] == t


def test_decision_threshold_rules():
    y = np.array([0, 0, 0, 0, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    assert metrics.decision_threshold(y, p, {"fpr": 0.2}) == 0.5  # 1 of 5 negatives flagged
    assert metrics.decision_threshold(y, p, {"fpr": 0.1}) == 0.7
    assert metrics.decision_threshold(y, p, {"alert_rate": 0.25}) == 0.7
    assert metrics.decision_threshold(y, p, {"cost_ratio": 10}) == 0.5  # miss none
    assert metrics.decision_threshold(y, p, {"alert_rate": 0.01}) == np.inf  # flag nothing
    with pytest.raises(ValueError, match="one key among"):
        metrics.decision_threshold(y, p, {"recall": 0.9})
