"""The HTML report a reviewer reads in a minute: leaderboard, knobs table, importance chart,
a warning for latency measured on a busy machine, a latency axis that survives an outlier."""

import copy

import pytest
from conftest import mixed_frame

from tabdistill.evaluate.benchmark import BenchmarkResult, run_benchmark
from tabdistill.evaluate.plots import _tradeoff, pyplot
from tabdistill.evaluate.report import write_report
from tabdistill.evaluate.summary_text import format_table

BUSY = {
    "load_average_before": [7.9, 6.0, 5.1],
    "load_average_after": [8.6, 6.2, 5.2],
    "cpus": 2,
    "cpu_steal_share": 0.031,
    "seconds": 3.2,
    "busy": True,
}


@pytest.fixture(scope="module")
def result():
    X, y = mixed_frame(500, seed=4)
    return run_benchmark(
        X.assign(label=y),
        "label",
        distiller_params={
            "teacher": {"members": ["lightgbm", "logistic"], "cv": 3},
            "augment_factors": (0, 1),
            "n_jobs": 1,
        },
        latency_calls=100,
        batch_rows=1_000,
        n_bootstrap=0,
    )


def _with_load(result, load):
    summary = copy.deepcopy(result.summary)
    summary["environment"]["load"] = load
    return BenchmarkResult(summary, result.y_test, result.scores)


def test_page_has_leaderboard_knob_table_and_importance_chart(result, tmp_path):
    page = write_report(_with_load(result, {**BUSY, "busy": False}), tmp_path).read_text()
    candidates = result.summary["distillation"]["candidates"]
    assert f"Candidates tried: {len(candidates)} distilled students" in page
    assert page.count('<tr class="chosen">') == 1 and "validation ROC-AUC" in page
    assert "<h2>Chosen student</h2>" in page and "synthetic rows per training row" in page
    assert "'student_params'" not in page and '"student_params"' not in page  # no raw JSON
    assert (tmp_path / "importance.png").stat().st_size > 1_000
    assert 'alt="importance.png"' in page
    assert "busy machine" not in page


def test_busy_machine_is_said_in_page_and_terminal(result, tmp_path):
    busy = _with_load(result, BUSY)
    page = write_report(busy, tmp_path).read_text()
    assert "Latency was measured on a busy machine (load average 8.6 on 2 cores, CPU steal" in page
    assert "NOTE: Latency was measured on a busy machine" in format_table(busy.summary)
    assert result.summary["environment"]["load"]["cpus"] >= 1  # recorded in the JSON


def test_latency_axis_stays_readable_with_an_outlier(result):
    summary = copy.deepcopy(result.summary)
    summary["models"]["teacher"]["latency"]["single_row_p99_us"] = 1.97e6  # a 1.97 s p99
    plt = pyplot()
    fig, ax = plt.subplots()
    _tradeoff(ax, BenchmarkResult(summary, result.y_test, result.scores))
    lo, hi = ax.get_xlim()
    fastest = min(m["latency"]["single_row_p50_us"] for m in summary["models"].values())
    assert hi <= 1.97e6 * 3.01 and lo >= fastest / 3.01  # half a decade of room, not 10^8
    labels = [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)
    assert any(label.endswith(" s") for label in labels) and any("µs" in x for x in labels)


def test_the_teacher_shipped_at_a_budget_is_said_under_the_frontier(result, tmp_path):
    summary = copy.deepcopy(result.summary)
    summary["shipped_teacher"] = {
        "latency_budget_us": 20.0,
        "tree_share": 0.65,
        "single_row_p99_us": 15.3,
        "within_budget": True,
        "metrics": {"roc_auc": 0.9056},
    }
    page = write_report(BenchmarkResult(summary, result.y_test, result.scores), tmp_path)
    words = (
        "Teacher at 20 us: cut to 65% of its trees, p99 15.3 us, ROC-AUC 0.9056 on the test rows"
    )
    assert words in page.read_text() and "t" + words[1:] in format_table(summary)
