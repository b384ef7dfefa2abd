"""Candidates ranked, knobs in words."""

from tabdistill.evaluate.leaderboard import knob_rows, knobs_text, ranked, size_text

SIZE = {"num_leaves": 15, "max_depth": -1, "n_estimators": 500, "early_stopping_rounds": 30}


def _candidate(factor, alpha, auc, size=SIZE):
    return {
        "student_params": size,
        "augment_factor": factor,
        "alpha": alpha,
        "loss": "cross_entropy",
        "synthetic_rows": 100 * factor,
        "roc_auc": auc,
    }


def test_ranked_marks_the_chosen_one_even_below_the_top():
    candidates = [
        _candidate(f, a, 0.7 + 0.01 * i)
        for i, (f, a) in enumerate([(0, 0.0), (1, 0.0), (2, 0.0), (0, 0.5), (1, 0.5)])
    ]
    chosen = {k: candidates[0][k] for k in ("student_params", "augment_factor", "alpha", "loss")}
    metric, rows, total = ranked({"candidates": candidates, "chosen": chosen}, top=2)
    assert metric == "roc_auc" and total == 5
    assert [r["rank"] for r in rows] == [1, 2, 5] and [r["chosen"] for r in rows] == [
        False,
        False,
        True,
    ]
    assert rows[0]["behind"] == 0 and abs(rows[-1]["behind"] - 0.04) < 1e-12
    assert rows[0]["size"] == "15 leaves, up to 500 trees"


def test_knobs_in_words():
    assert size_text({"max_depth": 3, "n_estimators": 100}) == "depth 3, 100 trees"
    assert size_text(None) == "default"
    assert size_text({"num_leaves": 15, "ignored_features": [3]}) == "15 leaves"  # a row of its own
    distillation = {
        "student": "lightgbm",
        "chosen": {"student_params": SIZE, "augment_factor": 1, "alpha": 0.5, "loss": "logit"},
        "teacher_weights": {"lightgbm": 0.75, "logistic": 0.25},
        "fallback": None,
    }
    rows = dict(knob_rows(distillation))
    assert rows["synthetic rows per training row"] == "1" and rows["loss"] == "logit"
    assert rows["teacher members (weights)"] == "lightgbm 0.75, logistic 0.25"
    assert "teacher" not in knobs_text(distillation) and "alpha) 0.5" in knobs_text(distillation)
    assert "without the columns" not in rows
    rows = dict(knob_rows({**distillation, "student_ignores": ["plane", "plane.frequency"]}))
    assert rows["without the columns"].startswith("plane, plane.frequency (the teacher learned")


def test_a_linear_candidate_is_named_by_its_kind_and_ranked():
    linear = {
        "student_params": {},
        "augment_factor": 0,
        "alpha": 0.0,
        "student": "linear",
        "synthetic_rows": 0,
        "roc_auc": 0.81,
    }
    chosen = {k: v for k, v in linear.items() if k not in ("synthetic_rows", "roc_auc")}
    metric, rows, total = ranked({"candidates": [linear], "chosen": chosen})
    assert metric == "roc_auc" and total == 1
    assert rows[0]["size"] == "linear student" and rows[0]["chosen"]
    words = dict(knob_rows({"student": "linear", "chosen": chosen, "fallback": None}))
    assert words["student"] == "linear" and words["student size"] == "linear student"
