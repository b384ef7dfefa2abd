"""``tabdistill retrain``: where its paths point."""

from conftest import job_config, mixed_frame

from tabdistill.cli import main


def _last_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_command_line_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch, capsys):
    X, y = mixed_frame(60, seed=2)
    X.assign(label=y).to_csv(tmp_path / "train.csv", index=False)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "job.toml").write_text(
        job_config(data={"train": "../train.csv", "target": "label"}, registry={"path": "reg"})
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # inside the config: relative to its folder (jobs/../train.csv is found)
    assert main(["retrain", "--config", "../jobs/job.toml", "--target", "lable", "-q"]) == 2
    assert "Did you mean 'label'?" in _last_error(capsys)
    # on the command line: relative to the working directory
    assert main(["retrain", "--config", "../jobs/job.toml", "--train", "train.csv", "-q"]) == 2
    assert f"no file matches '{elsewhere / 'train.csv'}'" in _last_error(capsys)
    monkeypatch.chdir(tmp_path)
    argv = ["retrain", "--config", "jobs/job.toml", "--train", "train.csv", "--target", "lable"]
    assert main([*argv, "-q"]) == 2
    assert f"not found in '{tmp_path / 'train.csv'}'. Did you mean 'label'?" in _last_error(capsys)
    argv = ["retrain", "--config", "jobs/job.toml", "--holdout", "held.csv", "-q"]
    assert main(argv) == 2
    assert f"file not found: '{tmp_path / 'held.csv'}'" in _last_error(capsys)
    (tmp_path / "a_file").write_text("")
    assert main(["retrain", "--config", "jobs/job.toml", "--registry", "a_file", "-q"]) == 2
    assert f"'{tmp_path / 'a_file'}' exists and is not a folder" in _last_error(capsys)
    argv = ["retrain", "--config", "jobs/job.toml", "--set", "data.holdout='held.csv'", "-q"]
    assert main(argv) == 2
    assert f"file not found: '{tmp_path / 'held.csv'}'" in _last_error(capsys)
