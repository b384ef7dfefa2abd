"""The teacher's decision threshold: the student's rule, met by the teacher's probabilities."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS, mixed_frame

from tabdistill import DistilledClassifier, metrics
from tabdistill.distill.thresholds import decision_thresholds

pytestmark = pytest.mark.filterwarnings("ignore::tabdistill.DistillationWarning")


def _ctx(y, n_classes=2):
    validation = SimpleNamespace(y=np.asarray(y), weight=None)
    return SimpleNamespace(n_classes=n_classes, validation=validation)


def test_each_model_meets_the_rule_with_its_own_probabilities():
    y = np.array([0, 0, 0, 0, 1, 0, 1, 1])
    student = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    teacher = student / 4  # the same ranking on another scale
    got = decision_thresholds(_ctx(y), {"fpr": 0.2}, student, teacher)
    assert got == (0.5, 0.125)
    assert decision_thresholds(_ctx(y), 0.3, student, teacher) == (0.3, 0.3)
    assert decision_thresholds(_ctx([0, 1, 2], n_classes=3), 0.5, None, None) == (None, None)


def test_a_fit_records_the_teachers_threshold_by_the_same_rule():
    X, y = mixed_frame(1_500, seed=12, positive_rate=0.1)
    y = pd.Series(np.where(y == 1, "fraud", "ok"))
    model = DistilledClassifier(
        teacher={"members": {"lightgbm": FAST_MEMBERS["lightgbm"]}, "cv": 3},
        student_params={"n_estimators": 30, "num_leaves": 8},
        augment_factors=(0,),
        alphas=(0.5,),
        threshold={"fpr": 0.02},
        refit=False,  # the teacher scored now is the one that scored the validation rows
        refit_teacher=False,
        random_state=0,
    ).fit(X, y)
    va = model.validation_index_
    y_va = (y.iloc[va] == "fraud").to_numpy().astype(int)
    p_va = model.teacher_.predict_proba_encoded(model.encoder_.encode(X.iloc[va]))
    t = model.teacher_decision_threshold_
    assert t == metrics.decision_threshold(y_va, p_va, {"fpr": 0.02})
    assert t != model.decision_threshold_
    assert metrics.decision_summary(y_va, p_va, t)["fpr"] <= 0.02
