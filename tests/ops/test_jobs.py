"""End-to-end retraining: promotion, rejection, crash safety, secure loading, batch scoring."""

import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import job_config, mixed_frame

from tabdistill import load_dataset
from tabdistill.cli import main
from tabdistill.exceptions import ArtifactError
from tabdistill.ops.persist import load_model
from tabdistill.ops.registry import Registry, load_runtime, read_manifest
from tabdistill.runtime import CompiledModel

GATE = {"max_p99_us": 5000.0}
#: A gate every model passes: tests of what is read and written, not of the gate.
GATE_OFF = {"max_p99_us": 1e6, "min_roc_auc": 0.0, "max_teacher_gap": 1.0}


def _config(train, holdout, registry):
    return job_config(
        data={"train": train, "target": "y", "holdout": holdout},
        registry={"path": registry, "keep_teacher": True},
        gate=GATE,
    )


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """Bank marketing split into a training file, a shuffled-label file and a fixed holdout."""
    root = tmp_path_factory.mktemp("job")
    frame = load_dataset("bank_marketing", as_frame=True)
    frame.insert(0, "txn_id", [f"t{i:05d}" for i in range(len(frame))])
    holdout = frame.sample(frac=0.3, random_state=0)
    train = frame.drop(holdout.index)
    shuffled = train.assign(y=np.random.default_rng(0).permutation(train["y"].to_numpy()))
    paths = {name: root / f"{name}.csv" for name in ("train", "shuffled", "holdout")}
    for name, data in (("train", train), ("shuffled", shuffled), ("holdout", holdout)):
        data.drop(columns="txn_id" if name != "holdout" else []).to_csv(paths[name], index=False)
    config = root / "job.toml"
    config.write_text(_config(paths["train"], paths["holdout"], root / "registry"))
    return {"root": root, "config": config, "registry": root / "registry", **paths}


@pytest.fixture(scope="module")
def two_runs(job):
    first = main(["retrain", "--config", str(job["config"]), "-q"])
    registry = Registry(job["registry"])
    promoted = registry.production()
    second = main(
        ["retrain", "--config", str(job["config"]), "--train", str(job["shuffled"]), "-q"]
    )
    return first, second, promoted, registry


def test_good_run_promoted_shuffled_run_rejected(two_runs):
    first, second, promoted, registry = two_runs
    assert first == 0 and promoted is not None
    assert second == 3
    assert registry.production() == promoted  # production unchanged
    versions = registry.versions()
    assert len(versions) == 2 and versions[0] == promoted
    rejected = read_manifest(registry.root / versions[1])
    assert rejected["gate"]["passed"] is False
    assert any("below" in r for r in rejected["gate"]["reasons"])
    assert rejected["production_before"] == promoted
    runs = registry.runs()
    assert [r["outcome"] for r in runs[-2:]] == ["promoted", "rejected"]


def test_manifest_records_what_was_done(two_runs):
    _, _, promoted, registry = two_runs
    m = read_manifest(registry.root / promoted)
    assert set(m["metrics"]) == {"teacher", "student", "baseline"}
    assert len(m["data"]["sha256"]) == 64 and m["data"]["rows"] > 3000
    assert {"numpy", "lightgbm", "scikit-learn", "tabdistill"} <= set(m["packages"])
    assert "y" not in m["schema"]["features"] and "age" in m["schema"]["features"]
    assert set(m["files"]) == {"runtime.npz", "model.skops", "teacher_runtime.npz"}
    assert m["knobs"] and m["config"]["teacher"]["members"] == ["lightgbm", "logistic"]
    assert set(m["teacher_weights"]) == {"lightgbm", "logistic"}


def test_dry_run_writes_nothing(job, two_runs):
    _, _, promoted, registry = two_runs
    before = registry.versions()
    code = main(["retrain", "--config", str(job["config"]), "--dry-run", "-q"])
    assert code == 0
    assert registry.versions() == before and registry.production() == promoted
    assert registry.runs()[-1]["outcome"] == "dry_run_passed"


def test_retrain_through_dask_trains_the_same_model(job, two_runs, dask_client):
    from tabdistill.ops.retrain import run_job

    _, _, promoted, registry = two_runs
    where = [("run", "dask_scheduler", dask_client.scheduler.address)]
    outcome = run_job(job["config"], where, dry_run=True)
    assert outcome.manifest["config"]["run"]["dask_scheduler"] == dask_client.scheduler.address
    single = read_manifest(registry.root / promoted)
    for model in ("teacher", "student", "baseline"):
        got, expected = outcome.manifest["metrics"][model], single["metrics"][model]
        assert got["roc_auc"] == pytest.approx(expected["roc_auc"], abs=1e-12)


def test_run_killed_mid_write_leaves_registry_consistent(job, two_runs, monkeypatch):
    _, _, promoted, registry = two_runs
    before = registry.versions()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies right before the version is renamed in

    monkeypatch.setattr("tabdistill.ops.registry.os.rename", killed)
    monkeypatch.setattr("tabdistill.ops.registry.shutil.rmtree", lambda *a, **k: None)  # no cleanup
    argv = ["retrain", "--config", str(job["config"]), "--even-if-unchanged", "-q"]
    assert main(argv) == 130  # interrupted
    monkeypatch.undo()
    leftovers = [p for p in registry.root.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers  # a half-written version exists on disk...
    assert registry.versions() == before  # ...but is not a version
    assert registry.production() == promoted
    manifest, runtime = load_runtime(registry.root)  # production still loads and verifies
    assert manifest["version"] == promoted
    assert registry.clean_leftovers(older_than_s=0)
    assert not [p for p in registry.root.iterdir() if p.name.startswith(".tmp-")]


def test_predict_matches_distilled_classifier(job, two_runs, tmp_path):
    _, _, promoted, registry = two_runs
    out = tmp_path / "scores.csv"
    code = main(
        [
            "predict",
            "--model",
            str(registry.root),
            "--input",
            str(job["holdout"]),
            "--output",
            str(out),
            "--id-column",
            "txn_id",
            "--chunk-size",
            "300",
            "-q",
        ]
    )
    assert code == 0
    scores = pd.read_csv(out)
    holdout = pd.read_csv(job["holdout"])
    columns = ["txn_id", "probability", "decision", "model_version"]
    assert list(scores.columns) == columns and len(scores) == len(holdout)
    assert (scores["txn_id"] == holdout["txn_id"]).all()
    model = load_model(registry.root / promoted / "model.skops")
    features = holdout.drop(columns=["y", "txn_id"])
    expected = model.predict_proba(features)[:, model.positive_index_]
    np.testing.assert_allclose(scores["probability"], expected, rtol=0, atol=1e-12)
    assert (scores["decision"].astype(str) == model.predict(features).astype(str)).all()
    assert (scores["model_version"] == promoted).all()
    # never overwrites without --overwrite
    first = out.read_bytes()
    assert (
        main(
            [
                "predict",
                "--model",
                str(registry.root),
                "--input",
                str(job["holdout"]),
                "--output",
                str(out),
                "-q",
            ]
        )
        == 2
    )
    assert out.read_bytes() == first


def test_predict_adds_reason_codes(job, two_runs, tmp_path):
    _, _, _, registry = two_runs
    out = tmp_path / "reasons.csv"
    args = ["predict", "--model", str(registry.root), "--input", str(job["holdout"]), "-q"]
    assert main([*args, "--output", str(out), "--reasons", "3", "--chunk-size", "500"]) == 0
    scores = pd.read_csv(out)
    reasons = ["reason_1", "reason_1_value", "reason_2", "reason_2_value", "reason_3"]
    assert list(scores.columns) == [
        "probability",
        "decision",
        "model_version",
        *reasons,
        "reason_3_value",
    ]
    _, runtime = load_runtime(registry.root)
    holdout = pd.read_csv(job["holdout"])
    p, names, values = runtime.score_batch(holdout[runtime.schema.input_columns], reasons=3)
    np.testing.assert_allclose(scores["probability"], p, rtol=0, atol=1e-12)
    assert (scores[["reason_1", "reason_2", "reason_3"]].to_numpy() == names).all()
    np.testing.assert_allclose(
        scores[["reason_1_value", "reason_2_value", "reason_3_value"]], values
    )
    assert set(names.ravel()) <= set(runtime.schema.input_columns)


def test_dask_scoring_adds_reason_codes(job, two_runs):
    import dask.dataframe as dd

    from tabdistill.ops.dask_scoring import score_dataframe

    _, _, _, registry = two_runs
    _, runtime = load_runtime(registry.root)
    holdout = pd.read_csv(job["holdout"], dtype={"txn_id": str})
    ddf = dd.from_pandas(holdout, npartitions=3)
    scored = score_dataframe(str(registry.root), ddf, reasons=2).compute(scheduler="threads")
    assert list(scored.columns)[-4:] == ["reason_1", "reason_1_value", "reason_2", "reason_2_value"]
    _, names, values = runtime.score_batch(holdout[runtime.schema.input_columns], reasons=2)
    assert (scored[["reason_1", "reason_2"]].to_numpy() == names).all()
    np.testing.assert_allclose(scored[["reason_1_value", "reason_2_value"]], values)


def test_dask_scoring_is_strict_when_asked(job, two_runs):
    import dask.dataframe as dd

    from tabdistill.exceptions import DataError
    from tabdistill.ops.dask_scoring import score_dataframe

    _, _, _, registry = two_runs
    holdout = pd.read_csv(job["holdout"], dtype={"txn_id": str, "balance": object})
    holdout.loc[holdout.index[5], "balance"] = "abc"  # text in a numeric column
    ddf = dd.from_pandas(holdout, npartitions=2)
    lenient = score_dataframe(str(registry.root), ddf).compute(scheduler="threads")
    assert len(lenient) == len(holdout)
    with pytest.raises(DataError, match="balance"):
        score_dataframe(str(registry.root), ddf, strict=True).compute(scheduler="threads")


def test_predict_validates_schema(job, two_runs, tmp_path, capsys):
    _, _, _, registry = two_runs
    bad = tmp_path / "bad.csv"
    pd.read_csv(job["holdout"]).drop(columns=["age", "job"]).to_csv(bad, index=False)
    code = main(
        [
            "predict",
            "--model",
            str(registry.root),
            "--input",
            str(bad),
            "--output",
            str(tmp_path / "o.csv"),
            "-q",
        ]
    )
    assert code == 2 and "['age', 'job']" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_inspect(two_runs, capsys):
    _, _, promoted, registry = two_runs
    assert main(["inspect", str(registry.root)]) == 0
    text = capsys.readouterr().out
    assert promoted in text and "ROC-AUC" in text and "passed" in text
    assert main(["inspect", str(registry.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == promoted


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "model.skops"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    for path in (evil, tmp_path / "runtime.npz"):
        path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ArtifactError, match="not a skops model file"):
        load_model(evil)
    with pytest.raises(ArtifactError):
        CompiledModel.load(tmp_path / "runtime.npz")
    assert not marker.exists()


def test_tampered_or_foreign_versions_are_refused(two_runs, tmp_path):
    import shutil

    _, _, promoted, registry = two_runs
    copy = tmp_path / "v"
    shutil.copytree(registry.root / promoted, copy)
    blob = bytearray((copy / "runtime.npz").read_bytes())
    blob[-100] ^= 0xFF
    (copy / "runtime.npz").write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match="does not match the hash"):
        load_runtime(copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ArtifactError, match="manifest version 99"):
        load_runtime(copy)
    with pytest.raises(ArtifactError, match="neither"):
        load_runtime(tmp_path / "nowhere")


def test_untrusted_types_in_skops_file_are_refused(tmp_path):
    import skops.io as sio

    from tabdistill.evaluate.cost import single_row_latency  # any object of a type not on the list

    path = tmp_path / "foreign.skops"
    sio.dump({"fn": single_row_latency}, path)
    with pytest.raises(ArtifactError, match="not trusted"):
        load_model(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("[data]\ntrian = 'x'\n", "unknown config key 'data.trian'"),
        ("[gate]\nmin_roc_auc = 'high'\n", "'gate.min_roc_auc' must be a number"),
        ("[run]\nn_jobs = 1.5\n", "'run.n_jobs' must be an integer"),
        ("[extras]\na = 1\n", "unknown config section [extras]"),
        ("[registry]\nteacher_budget_us = 0.0\n", "'registry.teacher_budget_us' must be a"),
        ("[data]\nsep = ';;'\n", "'data.sep' / 'data.decimal': the sep of a CSV file must be"),
        ("[data]\ndecimal = ','\n", "must differ; both are ','"),
    ],
)
def test_config_errors_exit_2_naming_the_key(job, tmp_path, edit, message, capsys):
    text = job["config"].read_text()
    section = edit.split("\n")[0]
    body = edit.split("\n", 1)[1]
    config = tmp_path / "c.toml"
    config.write_text(
        text.replace(section, edit.rstrip("\n"), 1) if section in text else text + "\n" + edit
    )
    assert main(["retrain", "--config", str(config), "-q"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    del body


def test_missing_data_file_and_config_file(job, tmp_path, capsys):
    assert main(["retrain", "--config", str(tmp_path / "none.toml"), "-q"]) == 2
    assert "config file not found" in capsys.readouterr().err
    assert main(["retrain", "--config", str(job["config"]), "--train", "/nope/*.csv", "-q"]) == 2
    assert "'data.train'" in capsys.readouterr().err


def test_example_config_in_readme_is_valid():
    from tabdistill.ops.config import load_config

    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "examples" / "job.toml")
    assert config["data"]["target"] == "default"
    assert Path(config["data"]["train"]).is_file()
    assert config["gate"]["max_p99_us"] == 100.0
    assert config["student"]["latency_budget_us"] == 10.0


def test_a_job_config_sets_the_student_latency_budget(tmp_path):
    from tabdistill.ops.config import build_distiller, load_config

    train = tmp_path / "train.csv"
    train.write_text("a,y\n1,0\n2,1\n")
    config = tmp_path / "job.toml"
    config.write_text(
        f'[data]\ntrain = "{train}"\ntarget = "y"\n[registry]\npath = "{tmp_path / "reg"}"\n'
        "[student]\nlatency_budget_us = 50\n"
    )
    assert build_distiller(load_config(config)).latency_budget == 50.0


def test_a_job_fits_the_default_teacher_unless_its_config_names_members(tmp_path):
    """A config that leaves members out gets the library's default teacher (extra trees and the
    high-cardinality member included), not a list frozen when the config format was written."""
    from tabdistill.ops.config import build_distiller, load_config

    train = tmp_path / "train.csv"
    train.write_text("a,y\n1,0\n2,1\n")
    body = f'[data]\ntrain = "{train}"\ntarget = "y"\n[registry]\npath = "{tmp_path / "r"}"\n'
    config = tmp_path / "job.toml"
    config.write_text(body)
    assert "members" not in build_distiller(load_config(config)).teacher
    config.write_text(body + '[teacher]\nmembers = ["lightgbm", "logistic"]\n')
    assert build_distiller(load_config(config)).teacher["members"] == ["lightgbm", "logistic"]


def test_dask_scoring_matches_the_runtime(job, two_runs, dask_client):
    import dask.dataframe as dd

    from tabdistill.ops.dask_scoring import score_dataframe

    _, _, promoted, registry = two_runs
    manifest, runtime = load_runtime(registry.root)
    holdout = pd.read_csv(job["holdout"], dtype={"txn_id": str})
    ddf = dd.from_pandas(holdout, npartitions=3)
    scored = score_dataframe(str(registry.root), ddf, id_column="txn_id").compute()
    assert list(scored.columns) == ["txn_id", "probability", "decision", "model_version"]
    assert (scored["txn_id"].to_numpy() == holdout["txn_id"].to_numpy()).all()
    expected = runtime.score_batch(holdout[runtime.schema.input_columns])
    np.testing.assert_allclose(scored["probability"], expected, rtol=0, atol=1e-12)
    assert (scored["model_version"] == promoted).all()
    with pytest.raises(ValueError, match="lacks 1 column"):
        score_dataframe(str(registry.root), ddf.drop(columns="age"))


def test_predict_cli_scores_a_glob_through_dask(job, two_runs, dask_client, tmp_path):
    _, _, _, registry = two_runs
    holdout = pd.read_csv(job["holdout"], dtype={"txn_id": str})
    half = len(holdout) // 2
    for i, part in enumerate((holdout.iloc[:half], holdout.iloc[half:])):
        part.to_csv(tmp_path / f"batch-{i}.csv", index=False)
        part.to_parquet(tmp_path / f"batch-{i}.parquet", index=False)
    single = tmp_path / "single.csv"
    args = ["predict", "--model", str(registry.root), "--id-column", "txn_id", "-q"]
    reasons = ["--reasons", "2"]
    assert main([*args, "--input", str(job["holdout"]), "--output", str(single), *reasons]) == 0
    expected = pd.read_csv(single, dtype={"txn_id": str}).set_index("txn_id")
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"scores-{fmt}"
        pattern = str(tmp_path / f"batch-*.{fmt}")
        where = ["--dask-scheduler", dask_client.scheduler.address]  # joins the running cluster
        code = main([*args, "--input", pattern, "--output", str(out), *where, *reasons])
        assert code == 0
        read = pd.read_csv if fmt == "csv" else pd.read_parquet
        parts = sorted(out.glob(f"*.{fmt}")) if fmt == "csv" else [out]
        got = pd.concat(
            [read(p, dtype={"txn_id": str}) if fmt == "csv" else read(p) for p in parts]
        )
        got = got.set_index(got["txn_id"].astype(str)).loc[expected.index]
        np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-12)
        assert (got["decision"].astype(str) == expected["decision"].astype(str)).all()
        assert (got[["reason_1", "reason_2"]] == expected[["reason_1", "reason_2"]]).all().all()
        np.testing.assert_allclose(got["reason_2_value"], expected["reason_2_value"], atol=1e-12)
        # an existing output is never replaced without --overwrite
        before = sorted(p.name for p in out.iterdir())
        assert main([*args, "--input", pattern, "--output", str(out), *where]) == 2
        assert sorted(p.name for p in out.iterdir()) == before


def test_a_job_ships_its_teacher_cut_to_the_registry_teacher_budget(tmp_path, capsys):
    from conftest import mixed_frame

    X, y = mixed_frame(500, seed=4)
    train = tmp_path / "train.csv"
    X.assign(y=y).to_csv(train, index=False)
    config = tmp_path / "job.toml"
    config.write_text(
        job_config(
            data={"train": train, "target": "y"},
            teacher={"members": ["lightgbm"]},  # trees to cut
            registry={"path": tmp_path / "reg", "teacher_budget_us": 0.5},
            decision={"threshold": {"alert_rate": 0.2}},
            gate={"max_p99_us": 1e6, "min_roc_auc": 0.0},
        )
    )
    assert main(["retrain", "--config", str(config), "-q"]) == 0
    assert "teacher at 0.5 us: cut to " in capsys.readouterr().out
    manifest, runtime = load_runtime(tmp_path / "reg", "teacher")
    cut = manifest["teacher_runtime"]["cut"]
    assert 0 < cut["tree_share"] < 1 and cut["latency_budget_us"] == 0.5
    assert cut["member_shares"] and all(0 < v <= 1 for v in cut["member_shares"].values())
    assert cut["metrics"]["roc_auc"] > 0.5 and runtime.kind == "blend"
    # the rule is met on validation rows the version does not keep: the cut flags the share of
    # holdout rows the whole teacher flags
    assert "flagged share" in cut["threshold_from"]
    threshold = manifest["decision"]["teacher_threshold"]
    scores = tmp_path / "scores.csv"
    argv = ["predict", "--model", str(tmp_path / "reg"), "--input", str(train)]
    assert main([*argv, "--output", str(scores), "--scorer", "teacher", "-q"]) == 0
    got = pd.read_csv(scores)
    assert ((got["probability"] >= threshold) == (got["decision"] == 1)).all()
    assert main(["inspect", str(tmp_path / "reg")]) == 0
    assert "teacher at 0.5 us: cut to " in capsys.readouterr().out
    # the same student with its teacher cut to another budget is a new version, not "unchanged"
    config.write_text(
        config.read_text().replace("teacher_budget_us = 0.5", "teacher_budget_us = 0.8")
    )
    assert main(["retrain", "--config", str(config), "-q"]) == 0
    registry = Registry(tmp_path / "reg")
    assert len(registry.versions()) == 2
    assert (
        registry.manifest(registry.production())["teacher_runtime"]["cut"]["latency_budget_us"]
        == 0.8
    )


def test_a_job_reads_files_of_its_own_separator_and_decimal_mark_or_parquet(tmp_path):
    """``data.sep`` / ``data.decimal``: training and holdout files of semicolons and decimal
    commas, or Parquet files, train the model their comma copies train; read with commas,
    the run fails."""
    X, y = mixed_frame(400, seed=3)
    frame = X.assign(label=y)
    frame["color"] = frame["color"].astype(object)  # as CSV reads it
    metrics = {}
    formats = [("comma", {}), ("semicolon", {"sep": ";", "decimal": ","})]
    if importlib.util.find_spec("pyarrow") is not None:
        formats.append(("parquet", {}))
    for name, fmt in formats:
        folder = tmp_path / name
        folder.mkdir()
        ending = "parquet" if name == "parquet" else "csv"
        for rows, file in ((slice(0, 300), "train"), (slice(300, 400), "holdout")):
            path = folder / f"{file}.{ending}"
            if ending == "parquet":
                frame.iloc[rows].to_parquet(path, index=False)
            else:
                frame.iloc[rows].to_csv(path, index=False, **fmt)
        data = {"train": f"train.{ending}", "holdout": f"holdout.{ending}", "target": "label"}
        config = folder / "job.toml"
        config.write_text(job_config(data={**data, **fmt}, registry={"path": "reg"}, gate=GATE_OFF))
        assert main(["retrain", "--config", str(config), "-q"]) == 0
        (version,) = Registry(folder / "reg").versions()
        metrics[name] = read_manifest(folder / "reg" / version)["metrics"]
    for name, _ in formats[1:]:
        for model in ("student", "teacher", "baseline"):
            assert metrics[name][model] == metrics["comma"][model], name
    config = tmp_path / "semicolon" / "job.toml"
    data = {"train": "train.csv", "holdout": "holdout.csv", "target": "label"}
    as_commas = {**data, "sep": ",", "decimal": "."}
    config.write_text(job_config(data=as_commas, registry={"path": "reg"}))
    assert main(["retrain", "--config", str(config), "-q"]) == 2
