"""``tabdistill benchmark --save``: the fitted model outlives the run."""

import json
import logging

import numpy as np
import pandas as pd
import pytest
from conftest import mixed_frame

from tabdistill.cli import main
from tabdistill.ops.persist import load_model
from tabdistill.ops.registry import Registry, load_runtime

FAST = [
    *("--members", "lightgbm", "--n-estimators", "10", "--augment-factors", "0"),
    *("--latency-calls", "200", "--batch-rows", "2000", "--bootstrap", "0", "--n-jobs", "1"),
]


def test_saved_benchmark_model_round_trips_through_predict_and_the_registry(tmp_path, capsys):
    X, y = mixed_frame(400, seed=3)
    data = tmp_path / "data.csv"
    X.assign(label=np.where(y == 1, "fraud", "ok")).to_csv(data, index=False)
    reg = tmp_path / "models"
    assert main(["benchmark", str(data), "--target", "label", "--save", str(reg), *FAST]) == 0
    out = capsys.readouterr().out
    registry = Registry(reg)
    (version,) = registry.versions()
    assert f"model saved as version {version} in {reg}" in out
    assert registry.production() == version  # the first model of a new registry
    assert sorted(p.name for p in (reg / version).iterdir()) == [
        "manifest.json",
        "manifest.sha256",
        "model.skops",
        "runtime.npz",
        "teacher_runtime.npz",
    ]
    manifest, runtime = load_runtime(reg)
    assert manifest["gate"]["passed"] is None and manifest["source"] == "tabdistill benchmark"
    assert manifest["classes"] == ["fraud", "ok"] and manifest["data"]["rows"] == 400

    scores = tmp_path / "scores.csv"
    predict = ["predict", "--model", str(reg), "--input", str(data), "--output", str(scores)]
    assert main(predict) == 0
    got = pd.read_csv(scores)
    model = load_model(reg / version / "model.skops")  # the full model, teacher included
    expected = model.predict_proba(X)[:, model.positive_index_]
    np.testing.assert_allclose(got["probability"], expected, rtol=0, atol=1e-12)
    assert (got["decision"] == model.predict(X)).all() and (got["model_version"] == version).all()
    assert model.teacher_.predict_proba(X).shape == (400, 2)
    # the compiled teacher shipped beside it scores as the teacher does
    by_teacher = tmp_path / "teacher.csv"
    assert main([*predict[:-1], str(by_teacher), "--scorer", "teacher", "-q"]) == 0
    got = pd.read_csv(by_teacher)
    assert list(got.columns) == ["probability", "decision", "model_version"]
    expected = model.teacher_.predict_proba_encoded(model.encoder_.encode(X))
    np.testing.assert_allclose(got["probability"], expected, rtol=0, atol=1e-9)
    assert (got["model_version"] == version).all()

    capsys.readouterr()
    assert main(["registry", "list", str(reg), "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["gate"] == "not run" and row["production"]
    assert main(["inspect", str(reg)]) == 0
    text = capsys.readouterr().out
    assert "gate         not run" in text and "teacher_runtime.npz (" in text
    assert "teacher      compiled: teacher_runtime.npz" in text
    # a second saved model is a new version, not production until promoted (no gate needed)
    assert main(["benchmark", str(data), "--target", "label", "--save", str(reg), *FAST]) == 0
    assert "tabdistill registry promote" in capsys.readouterr().out
    first, second = registry.versions()
    assert registry.production() == first
    assert main(["registry", "promote", str(reg), second, "-q"]) == 0
    assert main(["registry", "rollback", str(reg), "-q"]) == 0 and registry.production() == first


def test_save_refuses_a_version_folder_before_any_work(tmp_path, capsys):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "manifest.json").write_text("{}")
    (tmp_path / "d.csv").write_text("a,y\n1,0\n")
    argv = ["benchmark", str(tmp_path / "d.csv"), "--target", "y", "--save", str(tmp_path / "v")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a model version folder" in err[0]


def test_saved_benchmark_ships_the_teacher_cut_to_its_budget(tmp_path, capsys, caplog):
    X, y = mixed_frame(400, seed=3)
    data = tmp_path / "data.csv"
    X.assign(label=y).to_csv(data, index=False)
    reg, out = tmp_path / "models", tmp_path / "bench.json"
    argv = ["benchmark", str(data), "--target", "label", "--save", str(reg), "--json", str(out)]
    # 0.5 us: below the whole teacher's measured p99, so cut (as far as the cut retries go)
    argv += [*FAST, "--frontier", "none", "--teacher-budget", "0.5"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "teacher at 0.5 us: cut to " in text and "(predict --scorer teacher)" in text
    shipped = json.loads(out.read_text())["shipped_teacher"]
    manifest, runtime = load_runtime(reg, "teacher")
    cut = manifest["teacher_runtime"]["cut"]
    assert cut == shipped and 0 < cut["tree_share"] < 1
    model = load_model(reg / manifest["version"] / "model.skops")
    Z = model.encoder_.encode(X)
    expected = model.teacher_runtime_at(cut["cut_budget_us"]).score_encoded(Z)
    np.testing.assert_allclose(runtime.score_encoded(Z), expected, rtol=0, atol=1e-12)
    assert cut["metrics"]["roc_auc"] < 1.0 and manifest["decision"]["teacher_threshold"] == 0.5
    scores = tmp_path / "scores.csv"
    predict = ["predict", "--model", str(reg), "--input", str(data), "--output", str(scores)]
    with caplog.at_level(logging.INFO, logger="tabdistill.ops.scoring"):
        assert main([*predict, "--scorer", "teacher", "-q"]) == 0
    np.testing.assert_allclose(pd.read_csv(scores)["probability"], expected, atol=1e-12)
    said = f"scoring with the teacher (cut to {cut['tree_share']:.0%} of its trees for 0.5 us)"
    assert said in caplog.text
    capsys.readouterr()
    assert main(["inspect", str(reg)]) == 0
    assert "teacher at 0.5 us: cut to " in capsys.readouterr().out


def test_benchmark_and_predict_read_a_file_of_tabs_and_decimal_commas(tmp_path, capsys):
    """``--sep``/``--decimal`` read such a file to the figures of its comma copy, and
    ``predict`` with the same flags scores it to the same probabilities."""
    X, y = mixed_frame(400, seed=3)
    frame = X.assign(label=np.where(y == 1, "fraud", "ok"))
    commas, tabs = tmp_path / "commas.csv", tmp_path / "tabs.tsv"
    frame.to_csv(commas, index=False)
    frame.to_csv(tabs, sep="\t", decimal=",", index=False)
    own = ["--sep", "tab", "--decimal", ","]
    figures = {}
    for path, flags in ((commas, []), (tabs, own)):
        out = tmp_path / f"{path.stem}.json"
        args = [str(path), "--target", "label", "--json", str(out), "--frontier", "none"]
        assert main(["benchmark", *args, *flags, *FAST, "--save", str(tmp_path / "reg")]) == 0
        summary = json.loads(out.read_text())
        figures[path.stem] = {m: summary["models"][m]["roc_auc"] for m in summary["models"]}
    assert figures["tabs"] == figures["commas"]
    scores = {}
    for path, flags in ((commas, []), (tabs, own)):
        got = tmp_path / f"{path.stem}_scores.csv"
        predict = ["predict", "--model", str(tmp_path / "reg"), "--input", str(path)]
        assert main([*predict, "--output", str(got), *flags, "-q"]) == 0
        scores[path.stem] = pd.read_csv(got)["probability"]
    pd.testing.assert_series_equal(scores["tabs"], scores["commas"])


def test_benchmark_and_predict_read_and_write_parquet_as_csv(tmp_path, capsys):
    """A Parquet file benchmarks to the figures of its CSV copy, and ``predict`` scores
    it, or a folder of its parts, to the same probabilities, written as Parquet."""
    pytest.importorskip("pyarrow")
    X, y = mixed_frame(400, seed=3)
    frame = X.assign(label=np.where(y == 1, "fraud", "ok"), txn=np.arange(400))
    frame["city"] = frame["city"].astype(str).where(frame["city"].notna())  # as CSV reads it
    csv, parquet, parts = tmp_path / "t.csv", tmp_path / "t.parquet", tmp_path / "parts.pq"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    parts.mkdir()
    for i in range(2):
        frame.iloc[i * 200 : (i + 1) * 200].to_parquet(parts / f"p{i}.parquet", index=False)
    figures = {}
    for path in (csv, parquet):
        out = tmp_path / f"{path.suffix[1:]}.json"
        args = [str(path), "--target", "label", "--json", str(out), "--frontier", "none"]
        assert main(["benchmark", *args, *FAST, "--save", str(tmp_path / path.suffix[1:])]) == 0
        summary = json.loads(out.read_text())
        figures[path.suffix] = {m: summary["models"][m]["roc_auc"] for m in summary["models"]}
    assert figures[".parquet"] == figures[".csv"]
    predict = ["predict", "--model", str(tmp_path / "parquet"), "--id-column", "txn", "-q"]
    expected = tmp_path / "expected.csv"
    assert main([*predict, "--input", str(csv), "--output", str(expected)]) == 0
    for source in (parquet, parts):
        got = tmp_path / f"{source.stem}_scores.parquet"
        assert main([*predict, "--input", str(source), "--output", str(got)]) == 0
        scores = pd.read_parquet(got)
        assert scores["txn"].tolist() == list(range(400))
        np.testing.assert_array_equal(scores["probability"], pd.read_csv(expected)["probability"])
    assert main(["benchmark", str(parquet), "--target", "label", "--sep", ";", *FAST]) == 2
    assert "do not apply" in capsys.readouterr().err
