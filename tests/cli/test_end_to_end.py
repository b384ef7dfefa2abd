import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import mixed_frame

from tabdistill.cli import main

SCHEMA_MODEL_KEYS = {
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
    "ece",
    "recall_at_1pct_fpr",
    "precision_at_top_1pct",
    "fit_seconds",
    "size_bytes",
    "latency",
}
FAST = [
    "--student",
    "lightgbm",
    "--members",
    "lightgbm,logistic",
    "--n-estimators",
    "20",
    "--augment-factors",
    "0,1",
    "--latency-calls",
    "200",
    "--batch-rows",
    "5000",
    "--bootstrap",
    "50",
    "--n-jobs",
    "1",  # all cores oversubscribe a busy machine: 4x slower under load
    "--time-limit",
    "600",
    "-q",
]


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    X, y = mixed_frame(1_200, seed=11, positive_rate=0.2)
    path = tmp_path_factory.mktemp("data") / "toy.csv.gz"
    X.assign(label=np.where(y == 1, "fraud", "ok")).to_csv(path, index=False)
    return path


def test_benchmark_writes_json_and_report(csv, tmp_path, capsys):
    out, rep = tmp_path / "out.json", tmp_path / "rep"
    code = main(
        [
            "benchmark",
            str(csv),
            "--target",
            "label",
            "--json",
            str(out),
            "--report",
            str(rep),
            "--compress",
            *FAST,
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "teacher" in printed and "student" in printed and "baseline" in printed
    result = json.loads(out.read_text())
    assert {"dataset", "rows", "features", "positive_rate", "seed", "models", "fidelity"} <= set(
        result
    )
    assert result["rows"] == 1_200 and result["features"] == 6 and result["dataset"] == "toy"
    assert result["positive_rate"] == pytest.approx(0.2, abs=0.01)
    assert set(result["models"]) == {"teacher", "student", "baseline"}
    for model in result["models"].values():
        assert SCHEMA_MODEL_KEYS <= set(model)
        assert {"single_row_p50_us", "single_row_p99_us", "batch_rows_per_second"} <= set(
            model["latency"]
        )
        assert model["latency"]["single_row_p99_us"] >= model["latency"]["single_row_p50_us"] > 0
    assert set(result["fidelity"]) == {"spearman", "mean_abs_diff", "agreement_at_1pct_fpr"}
    for file in ("index.html", "roc.png", "pr.png", "calibration.png", "tradeoff.png"):
        assert (rep / file).stat().st_size > 1_000
    levels = result["compression"]["levels"]
    assert levels[0]["name"] == "exact" and result["compression"]["chosen"] in {
        lv["name"] for lv in levels
    }
    assert all(0 < lv["test_roc_auc"] <= 1 and lv["size_bytes"] > 0 for lv in levels)
    assert (rep / "frontier.png").stat().st_size > 1_000
    assert "data:image/png;base64," in (rep / "index.html").read_text()
    # issue 11: decisions a fraud team can act on
    assert (rep / "scores.png").stat().st_size > 1_000
    assert result["schema_version"] == 6 and result["positive_label"] == "fraud"
    budget = result["distillation"]["time_budget"]  # issue 14: a time limit and its cuts
    assert budget["limit_seconds"] == 600 and budget["cuts"] == [] and budget["used_seconds"] > 0
    assert "time limit 600 s" in printed and "fit seconds: prepare" in printed
    assert result["task"] == "binary" and result["classes"] == ["fraud", "ok"]
    assert {"threshold", "alerts_per_10k", "recall", "precision", "fpr"} <= set(result["decision"])
    table = result["thresholds"]
    assert {r["model"] for r in table} == {"teacher", "student"} and len(table) == 10
    assert all(r["fpr"] <= r["target_fpr"] + 1e-9 for r in table)
    ci = result["intervals"]
    for name in ("teacher", "student", "baseline", "student-baseline", "teacher-baseline"):
        for metric in ("roc_auc", "average_precision"):
            v = ci[name][metric]
            assert v["low"] <= v["estimate"] <= v["high"]
    # issue 25: whether the teacher's lead is real, in words
    lead = result["teacher_lead"]
    assert lead["verdict"] in ("real", "noise", "behind")
    assert (lead["verdict"] == "real") == (ci["teacher-baseline"]["roc_auc"]["low"] > 0)
    assert f"teacher - baseline (roc_auc) {lead['estimate']:+.4f}" in printed
    top = [f["feature"] for f in result["feature_importance"]]
    assert set(top) <= {"x1", "x2", "color", "flag", "count", "city"} and "x1" in top[:3]
    page = (rep / "index.html").read_text()
    assert "Thresholds at target false-positive rates" in page and "bootstrap" in page
    documented = (Path(__file__).parents[2] / "docs" / "benchmark-json.md").read_text()
    for key in [*result, *result["models"]["student"], *result["decision"]]:
        assert f"`{key}`" in documented, key


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--target", "y"], "not found"),
        (["{csv}", "--target", "nope"], "target column 'nope' not found"),
        (["{empty}", "--target", "y"], "empty"),
        (["{multi}", "--target", "y"], "too few rows of class"),
        (["{rare}", "--target", "y"], "too few rows of the rarer class"),
        (["{single}", "--target", "y"], "one class only"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, csv, tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "multi.csv").write_text("a,y\n" + "".join(f"{i},{i % 3}\n" for i in range(30)))
    (tmp_path / "rare.csv").write_text("a,y\n" + "".join(f"{i},{int(i == 0)}\n" for i in range(30)))
    (tmp_path / "single.csv").write_text("a,y\n" + "".join(f"{i},1\n" for i in range(30)))
    paths = {k: str(tmp_path / f"{k}.csv") for k in ("empty", "multi", "rare", "single")}
    args = [a.format(csv=csv, **paths) for a in args]
    assert main(["benchmark", *args, "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tabdistill: error:") and message in err[0]


def test_console_script_and_module_entry_points():
    for cmd in (["tabdistill", "--version"], [sys.executable, "-m", "tabdistill", "--version"]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "tabdistill" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "tabdistill", "benchmark", "nope.csv", "--target", "y"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_make_fraud_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "fraud.csv"
    assert main(["make-fraud", str(out), "--rows", "500", "-q"]) == 0
    first = out.read_bytes()
    assert main(["make-fraud", str(out), "--rows", "600", "-q"]) == 2
    assert out.read_bytes() == first


@pytest.mark.parametrize("given", [None, "ACTIVE"])
def test_cli_makes_openmp_threads_sleep_unless_told_otherwise(tmp_path, monkeypatch, given):
    import os

    if given is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", given)
    assert main(["make-fraud", str(tmp_path / "f.csv"), "--rows", "500", "-q"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == (given or "PASSIVE")
