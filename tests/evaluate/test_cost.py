"""How a model's cost is timed: a slow model's batch is cut to a time budget (never below a
floor of rows), a fast one scores every row; the teacher is timed on fewer calls."""

import time

import numpy as np
import pytest

from tabdistill.evaluate.benchmark import TEACHER_WARMUP_CALLS, _timing
from tabdistill.evaluate.cost import MIN_BATCH_ROWS, WARMUP_ROWS, batch_throughput


class _Scorer:
    """Scores ``seconds_per_row`` a row (a sleep) and records each batch's rows."""

    def __init__(self, seconds_per_row=0.0):
        self.seconds_per_row = seconds_per_row
        self.rows = []

    def __call__(self, batch):
        self.rows.append(len(batch))
        if self.seconds_per_row:
            time.sleep(len(batch) * self.seconds_per_row)
        return np.zeros(len(batch))


X = np.arange(5_000 * 3, dtype=float).reshape(5_000, 3)


def test_batch_is_tiled_to_min_rows_without_a_time_budget():
    score = _Scorer()
    out = batch_throughput(score, X, min_rows=30_000, repeats=3)
    assert score.rows == [WARMUP_ROWS, 30_000, 30_000, 30_000]
    assert out["rows"] == 30_000 and out["rows_per_second"] > 0


def test_slow_model_scores_the_rows_of_its_time_budget():
    # 100,000 rows a second: a 0.15 s budget is about 15,000 rows, far below min_rows
    score = _Scorer(seconds_per_row=1e-5)
    out = batch_throughput(score, X, min_rows=200_000, repeats=3, max_seconds=0.15)
    timed = score.rows[1:]
    assert len(set(timed)) == 1 and out["rows"] == timed[0]
    assert MIN_BATCH_ROWS <= out["rows"] <= 16_000
    assert out["rows_per_second"] == pytest.approx(1e5, rel=0.5)


def test_very_slow_model_still_scores_the_floor_of_rows():
    score = _Scorer(seconds_per_row=1e-6)
    out = batch_throughput(score, X, min_rows=50_000, repeats=1, max_seconds=1e-4)
    assert out["rows"] == score.rows[-1] == MIN_BATCH_ROWS


def test_fast_model_is_not_cut_by_a_time_budget():
    score = _Scorer()
    out = batch_throughput(score, X, min_rows=20_000, repeats=2, max_seconds=10.0)
    assert out["rows"] == 20_000 and score.rows[1:] == [20_000, 20_000]


def test_teacher_is_timed_on_fewer_calls_and_a_cut_batch_students_as_before():
    student_one, student_batch = _timing("student", 2_000)
    assert student_one == {"n_calls": 2_000} and student_batch == {}
    assert _timing("baseline", 2_000) == (student_one, student_batch)
    teacher_one, teacher_batch = _timing("teacher", 2_000)
    assert teacher_one == {"n_calls": 200, "warmup": TEACHER_WARMUP_CALLS}
    assert TEACHER_WARMUP_CALLS < 200 and teacher_batch["max_seconds"] <= 2.0
    assert _timing("teacher", 100)[0]["n_calls"] == 200  # p99 needs calls enough
