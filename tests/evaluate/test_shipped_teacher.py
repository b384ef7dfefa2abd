"""The teacher a saved version ships at a latency budget: its cut, threshold and account."""

import copy
import warnings

import numpy as np
import pytest
from conftest import mixed_frame

from tabdistill import DistillationWarning, DistilledClassifier, metrics
from tabdistill.distill.sizes import TREE_STEP_NS
from tabdistill.distill.teacher_cut import TeacherCutter
from tabdistill.evaluate.shipped_teacher import shipped_teacher_text, teacher_at_budget


@pytest.fixture(scope="module")
def fitted():
    """A small distiller whose teacher is trees (a boosted member alone), with its rows."""
    X, y = mixed_frame(600, seed=2)
    model = DistilledClassifier(
        teacher={"members": {"lightgbm": {"n_estimators": 40, "num_leaves": 8}}, "cv": 3},
        student="lightgbm",
        student_params={"n_estimators": 20, "num_leaves": 7},
        augment_factors=(0,),
        alphas=(0.0,),
        random_state=0,
    )
    with warnings.catch_warnings():  # the baseline may be kept: the teacher is what counts
        warnings.simplefilter("ignore", DistillationWarning)
        return model.fit(X, y), X, y


def _encoded(fitted):
    model, X, y = fitted
    return model, model.encoder_.encode(X), np.asarray(y)


def _half_the_teacher_us(model) -> float:
    return TeacherCutter(model.teacher_).steps * TREE_STEP_NS / 1000 / 2


def test_a_measured_cut_is_shipped_as_teacher_runtime_at_makes_it(fitted):
    model, Z, y = _encoded(fitted)
    nominal = _half_the_teacher_us(model)
    shipped = teacher_at_budget(model, 100.0, Z, y, calls=50, nominal=nominal)
    assert 0 < shipped.info["tree_share"] < 1 and shipped.info["cut_budget_us"] == round(nominal, 4)
    assert shipped.info["member_shares"] and "logistic" not in shipped.info["member_shares"]
    scores = shipped.runtime.score_encoded(Z)
    again = model.teacher_runtime_at(nominal).score_encoded(Z)
    np.testing.assert_allclose(scores, again, rtol=0, atol=1e-12)
    assert shipped.info["metrics"]["roc_auc"] == metrics.roc_auc(y, scores)
    assert shipped.info["single_row_p99_us"] >= shipped.info["single_row_p50_us"] > 0
    # the fit's rule is a fixed probability (0.5): the cut decides at it too
    assert shipped.threshold == model.teacher_decision_threshold_ == 0.5
    assert "threshold_from" not in shipped.info
    text = shipped_teacher_text(shipped.info)
    assert text.startswith("teacher at 100 us: cut to ") and "of its trees" in text


def test_a_rule_met_on_validation_flags_as_many_rows_as_the_whole_teacher(fitted):
    model, Z, y = _encoded(fitted)
    whole = model.teacher_runtime_.score_encoded(Z)
    model = copy.copy(model)  # the session's model keeps its own threshold
    model.threshold = {"alert_rate": 0.2}
    model.teacher_decision_threshold_ = float(np.quantile(whole, 0.8))
    nominal = _half_the_teacher_us(model)
    shipped = teacher_at_budget(model, 100.0, Z, y, calls=50, nominal=nominal)
    cut = shipped.runtime.score_encoded(Z)
    assert shipped.threshold != model.teacher_decision_threshold_
    assert (cut >= shipped.threshold).sum() == (whole >= model.teacher_decision_threshold_).sum()
    assert "flagged share" in shipped.info["threshold_from"]


def test_the_whole_teacher_where_it_fits_and_none_below_one_tree_a_member(fitted):
    model, Z, y = _encoded(fitted)
    whole = teacher_at_budget(model, 1e6, Z, y, calls=50)
    assert whole.runtime is model.teacher_runtime_ and whole.info["tree_share"] == 1.0
    assert whole.threshold == model.teacher_decision_threshold_
    none = teacher_at_budget(model, 1e-6, Z, y, calls=50)
    assert none.runtime is None and none.threshold is None
    assert "no cut of its teacher fits 1e-06 us" in none.info["left_out"]
    assert shipped_teacher_text(none.info).startswith("teacher at 1e-06 us: none: no cut")
