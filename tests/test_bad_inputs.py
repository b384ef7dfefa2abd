"""The bad-input matrix: every user mistake is exit 2 or a tabdistill exception, in one line.

Each case must fail *before* any model is trained (the teacher's fitting is
replaced by a function that fails the test), with one clear stderr line and no
traceback. Retraining failures must also be a line in the registry's run log.
"""

import gzip
import json
import shutil
import zlib

import numpy as np
import pandas as pd
import pytest
from conftest import job_config, mixed_frame

from tabdistill import DistilledClassifier, TabularEncoder, TeacherEnsemble
from tabdistill.cli import main
from tabdistill.distill import teacher as teacher_module
from tabdistill.exceptions import DataWarning, TabDistillError

GOOD_CONFIG = job_config(
    data={"train": "train.csv", "target": "label"},
    teacher={"members": ["lightgbm"]},
    student={"params": {"n_estimators": 10, "num_leaves": 4}},
    augment={"factors": [0], "alphas": [1.0]},
    registry={"path": "registry"},
    gate={"max_p99_us": 1e6, "min_roc_auc": 0.0, "max_teacher_gap": 1.0},
    run=None,
)


def _corrupt_gzip(data: bytes) -> bytes:
    """``data`` gzipped, with the first byte flip after the header line that breaks the
    deflate stream itself (not only the checksum at its end)."""
    packed = gzip.compress(data, mtime=0)
    for at in range(len(packed) // 2, len(packed) - 8):
        broken = bytearray(packed)
        broken[at] ^= 0xFF
        try:
            gzip.decompress(bytes(broken))
        except zlib.error:
            return bytes(broken)
        except (OSError, EOFError):
            continue
    raise AssertionError("no corrupting flip found")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    X, y = mixed_frame(300, seed=9)
    frame = X.assign(label=np.where(y == 1, "fraud", "ok"))
    frame.to_csv(root / "train.csv", index=False)
    (root / "empty.csv").write_text("")
    (root / "header_only.csv").write_text(",".join(frame.columns) + "\n")
    frame.assign(city="Zürich").to_csv(root / "latin1.csv", index=False, encoding="latin-1")
    (root / "dup.csv").write_text(
        "x1,x1,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(40))
    )
    frame.to_csv(root / "semicolon.csv", sep=";", decimal=",", index=False)
    frame.to_parquet(root / "train.parquet", index=False)
    frame.iloc[:0].to_parquet(root / "no_rows.parquet", index=False)
    (root / "text.parquet").write_text("a,label\n1,0\n")
    frame.to_csv(root / "tabs.tsv", sep="\t", index=False)
    (root / "multi.csv").write_text("a,label\n" + "".join(f"{i},{i % 3}\n" for i in range(40)))
    (root / "single.csv").write_text("a,label\n" + "".join(f"{i},1\n" for i in range(40)))
    (root / "continuous.csv").write_text(
        "a,label\n" + "".join(f"{i},{i / 7:.3f}\n" for i in range(40))
    )
    frame.assign(x1=frame["x1"].where(frame.index != 3, np.inf)).to_csv(
        root / "inf.csv", index=False
    )
    frame.assign(x2=frame["x2"].astype(str).where(frame.index != 3, "abc")).to_csv(
        root / "text_in_numeric.csv", index=False
    )
    frame.drop(columns="x2").to_csv(root / "missing_column.csv", index=False)
    (root / "corrupt.csv.gz").write_bytes(_corrupt_gzip((root / "train.csv").read_bytes()))
    frame.to_csv(root / "train_copy.csv", index=False)  # a holdout of training rows
    X.assign(label=np.arange(len(X)) % 3).to_csv(root / "three.csv", index=False)
    (root / "latin1.toml").write_bytes((GOOD_CONFIG + "# Zürich\n").encode("latin-1"))
    (root / "a_file").write_text("not a folder")
    (root / "bad.toml").write_text("[data\ntrain = ")
    config = root / "job.toml"
    config.write_text(GOOD_CONFIG)
    assert main(["retrain", "--config", str(config), "-q"]) == 0  # a production model to use
    return root


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was trained before the bad input was refused")

    monkeypatch.setattr(teacher_module, "fit_member", refuse)


BENCHMARK = [
    (["missing.csv", "--target", "label"], "not found"),
    (["{root}", "--target", "label"], "directory"),
    (["empty.csv", "--target", "label"], "empty"),
    (["header_only.csv", "--target", "label"], "no data rows"),
    (["latin1.csv", "--target", "label"], "not UTF-8"),
    (["dup.csv", "--target", "label"], "more than once"),
    (["semicolon.csv", "--target", "label"], "separated by semicolons, not commas"),
    (["tabs.tsv", "--target", "label"], "separated by tabs"),
    (["semicolon.csv", "--target", "label", "--sep", ";;"], "must be one character"),
    (["semicolon.csv", "--target", "label", "--sep", ";", "--decimal", ";"], "must differ"),
    (["train.csv", "--target", "nope"], "target column 'nope' not found"),
    (["multi.csv", "--target", "label"], "too few rows of class 1 to split"),
    (["single.csv", "--target", "label"], "one class only"),
    (["continuous.csv", "--target", "label"], "continuous"),
    (["inf.csv", "--target", "label"], "infinite"),
    (["train.csv", "--target", "label", "--test-size", "1.5"], "--test-size"),
    (["train.csv", "--target", "label", "--test-size", "abc"], "--test-size"),
    (["train.csv", "--target", "label", "--n-jobs", "0"], "n_jobs"),
    (["train.csv", "--target", "label", "--time-limit", "0"], "positive number of seconds"),
    (["train.csv", "--target", "label", "--members", "lightgbm,catboost"], "catboost"),
    (["train.csv", "--target", "label", "--student", "forest"], "forest"),
    (["train.csv", "--target", "label", "--augmenter", "smote"], "smote"),
    (["train.csv", "--target", "label", "--augment-factors", "-1"], "non-negative"),
    (["train.csv", "--target", "label", "--n-estimators", "-1"], "n_estimators"),
    (["train.csv", "--target", "label", "--threshold", "fpr=2"], "fpr"),
    (["train.csv", "--target", "label", "--threshold", "recall=0.5"], "threshold"),
    (["train.csv", "--target", "label", "--json", "a_file/out.json"], "a_file"),
    (["train.csv", "--target", "label", "--report", "a_file/report"], "a_file"),
    (["train.csv", "--target", "label", "--latency-calls", "0"], "positive integer"),
    (["train.csv", "--target", "label", "--positive-label", "maybe"], "maybe"),
    (["train.csv", "--target", "label", "--no-such-option"], "unrecognized"),
    (["corrupt.csv.gz", "--target", "label"], "could not read 'corrupt.csv.gz' as CSV"),
    (["three.csv", "--target", "label", "--threshold", "fpr=0.01"], "3 classes"),
    (["train.csv", "--targe", "label"], "required: --target"),
    (["train.csv", "--target", "label", "--n-estimator", "10"], "unrecognized arguments"),
    (["train.csv", "--target", "lable"], "Did you mean 'label'?"),
    (["train.csv", "--target", "label", "--dask-scheduler", "bogus-address"], "with a port"),
    (["text.parquet", "--target", "label"], "could not read 'text.parquet' as Parquet"),
    (["no_rows.parquet", "--target", "label"], "no data rows"),
    (["train.parquet", "--target", "label", "--sep", ";"], "do not apply"),
    (["train.parquet", "--target", "lable"], "Did you mean 'label'?"),
]

RETRAIN = [
    ("", "missing.toml", "config file not found"),
    ("", "bad.toml", "not valid TOML"),
    ("[nonsense]\nx = 1", None, "unknown config section"),
    ("[run]\nspeed = 1", None, "unknown config key 'run.speed'"),
    ("[run]\nsed = 1", None, "unknown config key 'run.sed'. Did you mean 'seed'?"),
    ("[gates]\nmin_roc_auc = 0.5", None, "[gates]. Did you mean 'gate'?"),
    ("", ["--set", "teacher.cv='five'"], "'teacher.cv' must be an integer"),
    ("", ["--set", "teacher.cv=1"], "teacher.cv"),
    ("", ["--set", "augment.alphas=[2]"], "augment.alphas"),
    ("", ["--set", "student.params={n_estimators=-1}"], "n_estimators"),
    ("", ["--set", "teacher.members=['lightgbm','catboost']"], "catboost"),
    ("", ["--set", "student.kind='forest'"], "student.kind"),
    ("", ["--set", "augment.method='smote'"], "augment.method"),
    ("", ["--n-jobs", "0"], "run.n_jobs"),
    ("", ["--set", "run.time_limit=-5"], "run.time_limit"),
    ("", ["--set", "gate.max_roc_auc_drop=-1"], "gate.max_roc_auc_drop"),
    ("[decision]\nthreshold = { fpr = 2 }", None, "decision.threshold"),
    ("", ["--registry", "a_file"], "registry.path"),
    ("", ["--train", "nothing_*.csv"], "no file matches"),
    ("", ["--train", "inf.csv"], "infinite"),
    ("", ["--target", "nope"], "target column 'nope' not found"),
    ("", ["--set", "oops"], "section.key=value"),
    ("", "latin1.toml", "is not UTF-8"),
    ("", ["--set", "run.dask_scheduler='bogus-address'"], "run.dask_scheduler"),
    ("", ["--train", "corrupt.csv.gz"], "could not read"),
    ("", ["--train", "semicolon.csv"], "separated by semicolons"),
    ("", ["--train", "three.csv", "--set", "decision.threshold={fpr=0.01}"], "3 classes"),
    ("", ["--target", "lable"], "Did you mean 'label'?"),
    ("", ["--holdout", "train.csv"], "also a training file"),
    ("", ["--holdout", "train_copy.csv"], "300 of 300 rows of the holdout"),
    ("", ["--targe", "label"], "unrecognized arguments: --targe"),
]

PREDICT = [
    (["--model", "nowhere", "--input", "train.csv"], "neither"),
    (["--input", "missing.csv"], "not found"),
    (["--input", "header_only.csv"], "no data rows"),
    (["--input", "latin1.csv"], "not UTF-8"),
    (["--input", "dup.csv"], "more than once"),
    (["--input", "semicolon.csv"], "separated by semicolons"),
    (["--input", "semicolon.csv", "--sep", ";", "--decimal", ";"], "must differ"),
    (["--input", "missing_column.csv"], "x2"),
    (["--input", "train.csv", "--output", "no_such_dir/out.csv"], "does not exist"),
    (["--input", "train.csv", "--output", "a_file"], "exists"),
    (["--input", "train.csv", "--chunk-size", "0"], "positive"),
    (["--input", "train.csv", "--id-column", "txn"], "id column 'txn'"),
    (["--input", "train.csv", "--id-column", "colour"], "Did you mean 'color'?"),
    (["--input", "corrupt.csv.gz"], "could not read 'corrupt.csv.gz' as CSV"),
    (["--input", "text_in_numeric.csv", "--strict"], "x2"),
]


def test_predict_reads_a_stray_text_value_as_missing_and_says_so(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    argv = ["predict", "--model", "registry", "--input", "text_in_numeric.csv"]
    with pytest.warns(DataWarning, match=r"column 'x2': 1 of .* not a number \(e.g. 'abc'\)"):
        assert main([*argv, "--output", "stray.csv", "-q"]) == 0
    assert pd.read_csv(files / "stray.csv")["probability"].notna().all()


def _one_line_exit_2(argv, capsys, message):
    code = main(argv)  # returns the exit code, usage errors included
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, (argv, err)
    assert len(err) == 1 and err[0].startswith("tabdistill: error:"), err
    assert "Traceback" not in err[0] and message in err[0], err


@pytest.mark.parametrize(("args", "message"), BENCHMARK)
def test_benchmark_bad_inputs(files, args, message, capsys, monkeypatch):
    monkeypatch.chdir(files)
    argv = ["benchmark", *[a.format(root=files) for a in args], "-q"]
    _one_line_exit_2(argv, capsys, message)


@pytest.mark.parametrize(("extra", "args", "message"), RETRAIN)
def test_retrain_bad_inputs_are_logged(files, extra, args, message, capsys, monkeypatch):
    monkeypatch.chdir(files)
    config = files / "case.toml"
    config.write_text(GOOD_CONFIG + extra)
    own_file = isinstance(args, str)  # a config file of its own: it may name no registry
    if own_file:
        config, args = files / args, None
    log = files / "registry" / "runs.jsonl"
    before = log.read_text().count("\n")
    _one_line_exit_2(["retrain", "--config", str(config), *(args or []), "-q"], capsys, message)
    lines = log.read_text().splitlines()
    usage = "unrecognized" in message  # refused by the parser: no run, no config read
    if not own_file and "registry" not in message and not usage:  # the log names each failure
        assert len(lines) == before + 1
        last = json.loads(lines[-1])
        assert last["outcome"] == "failed" and message.split("'")[0] in last["error"]


@pytest.mark.parametrize(("args", "message"), PREDICT)
def test_predict_bad_inputs(files, args, message, capsys, monkeypatch):
    monkeypatch.chdir(files)
    argv = ["predict", "--model", "registry", "--output", "scores.csv", *args, "-q"]
    _one_line_exit_2(argv, capsys, message)
    assert not (files / "scores.csv").exists()


def test_inspect_and_make_fraud_bad_inputs(files, capsys):
    _one_line_exit_2(["inspect", str(files / "nowhere"), "-q"], capsys, "neither")
    out = str(files / "fraud.csv")
    _one_line_exit_2(["make-fraud", out, "--rows", "0"], capsys, "positive integer")
    _one_line_exit_2(["make-fraud", out, "--fraud-rate", "2"], capsys, "(0, 1)")
    _one_line_exit_2(["make-fraud", out, "--features", "5"], capsys, "at least 11")
    _one_line_exit_2(["make-fraud", str(files / "a_file" / "x.csv")], capsys, "a_file")
    _one_line_exit_2(["registry", "list", str(files / "nowhere")], capsys, "not a registry")
    registry = str(files / "registry")
    _one_line_exit_2(["registry", "promote", registry, "../x"], capsys, "not a plain version")


def _with_tiny_class(y):
    """Three classes, and a fourth of 2 rows: too few to cross-fit in 5 folds."""
    codes = np.arange(len(y)) % 3
    codes[:2] = 3
    return codes


def _api_cases(X, y):
    inf = X.assign(x1=np.inf)
    record = {k: None if pd.isna(v) else v for k, v in X.iloc[0].items()}
    return [
        (lambda: DistilledClassifier().fit(X, y.iloc[:-3]), "rows but y has"),
        (lambda: DistilledClassifier().fit(X, None), "requires y"),
        (lambda: DistilledClassifier().fit(inf, y), "infinite"),
        (lambda: DistilledClassifier().fit(pd.concat([X, X[["x1"]]], axis=1), y), "more than"),
        (lambda: DistilledClassifier().fit(X, y.astype(float) / 3 + np.arange(len(y))), "contin"),
        (lambda: DistilledClassifier().fit(X, _with_tiny_class(y)), "rows of class 3 (2)"),
        (lambda: DistilledClassifier().fit(X, y.where(y.index > 5)), "missing values"),
        (lambda: DistilledClassifier().fit(X, y, sample_weight=-np.ones(len(y))), "non-negative"),
        (lambda: DistilledClassifier().fit(X, y, groups=np.ones(3)), "groups has 3"),
        (lambda: DistilledClassifier(positive_label="maybe").fit(X, y), "positive_label"),
        (lambda: DistilledClassifier().fit(X.iloc[:, :0], y), "0 feature(s)"),
        (lambda: DistilledClassifier().fit(X["x1"], y), "Series"),
        (lambda: TeacherEnsemble(cv=500).fit(X, y), "500-fold"),
        (lambda: TabularEncoder(categorical_features=["nope"]).fit(X), "nope"),
        (lambda: TabularEncoder().fit(X).transform(X.drop(columns="x1")), "missing"),
        (lambda: TabularEncoder().fit(X).transform(X.assign(x2="a"), strict=True), "unusable"),
        (lambda: TabularEncoder().fit(X).transform(np.zeros((2, 3))), "X has 3 features"),
        (lambda: TabularEncoder().fit(X).encode_record({**record, "x1": [1]}), "expects a number"),
        (lambda: TabularEncoder().fit(X).encode_record({**record, "x1": 10**400}), "float64"),
        (lambda: TabularEncoder().fit(X).encode_record({**record, "city": [1]}), "category"),
        (lambda: TabularEncoder().fit(X).encode_record({"x1": 1.0}), "lacks 5 column(s)"),
        (lambda: TabularEncoder().fit(X).schema_.encode_record({"x": 1}, strict=True), "'x'"),
        (lambda: TabularEncoder().fit(X.assign(tags=[[1, 2]] * len(X))), "holds list values"),
        (lambda: TabularEncoder().fit(X.assign(meta=[{"a": 1}] * len(X))), "holds dict values"),
        (lambda: TabularEncoder().fit(X).transform(X.assign(city=[[1]] * len(X))), "list"),
        (lambda: TabularEncoder().fit(X).transform(X.assign(x1=[10**400] * len(X))), "float64"),
    ]


def test_api_bad_inputs_are_tabdistill_errors():
    X, y = mixed_frame(120, seed=1)
    cases = _api_cases(X, y)
    assert len(cases) + len(BENCHMARK) + len(RETRAIN) + len(PREDICT) >= 40
    for call, message in cases:
        with pytest.raises(TabDistillError) as info:
            call()
        text = str(info.value)
        assert message in text and "\n" not in text, text


def test_dask_predict_names_the_file_with_text_in_a_numeric_column(
    files, dask_client, capsys, monkeypatch
):
    monkeypatch.chdir(files)
    (files / "batch").mkdir(exist_ok=True)
    shutil.copy(files / "train.csv", files / "batch" / "a.csv")
    shutil.copy(files / "text_in_numeric.csv", files / "batch" / "b.csv")
    address = dask_client.scheduler.address
    argv = ["predict", "--model", "registry", "--input", "batch/*.csv", "--output", "scored"]
    message = "input 'batch/b.csv': column 'x2': 1 of"
    _one_line_exit_2([*argv, "--dask-scheduler", address, "-q"], capsys, message)
    assert not (files / "scored").exists()
