"""A retraining run that would change nothing trains or writes nothing, and says so."""

import json

from conftest import job_config, mixed_frame

from tabdistill.cli import main
from tabdistill.distill import teacher as teacher_module
from tabdistill.ops.registry import Registry


def _job(root):
    X, y = mixed_frame(300, seed=5)
    X.assign(label=y).to_csv(root / "train.csv", index=False)
    config = root / "job.toml"
    config.write_text(
        job_config(
            data={"train": "train.csv", "target": "label"},
            teacher={"members": ["lightgbm"]},
            student={"params": {"n_estimators": 10, "num_leaves": 4}},
            augment={"factors": [0], "alphas": [1.0]},
            registry={"path": "registry"},
            gate={"max_p99_us": 1e6, "min_roc_auc": 0.0, "max_teacher_gap": 1.0},
        )
    )
    return config


def _last_run(reg):
    return json.loads((reg.root / "runs.jsonl").read_text().splitlines()[-1])


def test_an_identical_retrain_is_skipped_and_says_why(tmp_path, capsys, monkeypatch):
    config = _job(tmp_path)
    reg = Registry(tmp_path / "registry")
    retrain = ["retrain", "--config", str(config), "-q"]
    assert main(retrain) == 0
    (version,) = reg.versions()
    assert reg.production() == version
    capsys.readouterr()

    real_fit = teacher_module.fit_member

    def refuse(*args, **kwargs):
        raise AssertionError("an unchanged retrain trained a model")

    monkeypatch.setattr(teacher_module, "fit_member", refuse)
    assert main([*retrain, "--n-jobs", "2"]) == 0  # where it runs is not what it trains
    out = capsys.readouterr().out
    assert "unchanged: the training data, holdout and settings are those of production " in out
    assert f"version {version}: nothing was trained; production stays {version}" in out
    assert reg.versions() == [version] and reg.production() == version
    assert _last_run(reg)["outcome"] == "unchanged" and _last_run(reg)["version"] == version

    monkeypatch.setattr(teacher_module, "fit_member", real_fit)
    # another gate setting trains again, and finds the same model: nothing is written
    assert main([*retrain, "--set", "gate.max_p99_us=1e7"]) == 0
    out = capsys.readouterr().out
    assert f"the new model is identical to production version {version}" in out
    assert reg.versions() == [version]
    # asked for: a new version even so
    assert main([*retrain, "--even-if-unchanged"]) == 0
    assert len(reg.versions()) == 2 and reg.production() == reg.versions()[-1]
    assert _last_run(reg)["outcome"] == "promoted"
    # new training data: trained and judged by the gate as usual
    X, y = mixed_frame(300, seed=6)
    X.assign(label=y).to_csv(tmp_path / "train.csv", index=False)
    assert main(retrain) in (0, 3) and len(reg.versions()) == 3
