"""Progress where no bar is drawn: periodic log lines with the time left."""

import logging

import pytest

from tabdistill import _progress
from tabdistill._progress import LoggedProgress, Stages, progress


@pytest.fixture
def log_every_update(monkeypatch):
    monkeypatch.setattr(_progress, "LOG_EVERY", 0.0)
    monkeypatch.setattr(_progress.sys.stderr, "isatty", lambda: False, raising=False)


def _lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "tabdistill._progress"]


def test_a_long_stage_logs_what_is_done_and_the_time_left(log_every_update, caplog):
    caplog.set_level(logging.INFO, logger="tabdistill")
    items = list(progress(range(4), desc="teacher folds"))
    assert items == [0, 1, 2, 3]
    lines = _lines(caplog)
    assert len(lines) == 4
    assert lines[1].startswith("teacher folds: 2 of 4 (50%) in ")
    assert lines[1].endswith(" s left")
    assert lines[-1].endswith("about 0 s left")


def test_without_a_total_a_line_counts_and_none_comes_before_the_first_update(
    log_every_update, caplog
):
    caplog.set_level(logging.INFO, logger="tabdistill")
    stages = Stages(logging.getLogger("tabdistill.test"))
    with stages.stage("scoring", unit="chunks"):
        pass
    assert _lines(caplog) == []
    bar = progress(desc="scoring", unit="chunks")
    bar.update(3)
    assert _lines(caplog)[0].startswith("scoring: 3 chunks in ")


def test_lines_wait_for_the_interval(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="tabdistill")
    monkeypatch.setattr(_progress, "LOG_EVERY", 3600.0)
    bar = LoggedProgress(total=10, desc="student")
    for _ in range(10):
        bar.update()
    assert _lines(caplog) == []
    assert bar.line(50.0) == "student: 10 of 10 (100%) in 50 s, about 0 s left"
    assert LoggedProgress(total=4, desc="x").line(1.0) == "x: 0 of 4 in 1 s"
