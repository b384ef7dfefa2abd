"""``tabdistill predict``'s options checked before any work: ``--scorer`` and ``--reasons``."""

import pytest

from tabdistill.cli import main


@pytest.mark.parametrize("dask", [[], ["--dask-scheduler", "local"]])
def test_reasons_for_the_teacher_exit_2_before_anything_is_read(dask, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    argv = [
        *("predict", "--model", str(tmp_path / "no-registry"), "--input", "missing.csv"),
        *("--output", str(out), "--scorer", "teacher", "--reasons", "3", *dask),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tabdistill: error: reason codes (--reasons)")
    assert "--scorer student" in err[0] and not out.exists()


def test_an_unknown_scorer_is_a_usage_error(tmp_path, capsys):
    argv = ["predict", "--model", "m", "--input", "i.csv", "--output", "o.csv"]
    assert main([*argv, "--scorer", "ensemble"]) == 2
    err = capsys.readouterr().err
    assert "--scorer: invalid choice: 'ensemble'" in err and "'teacher'" in err
