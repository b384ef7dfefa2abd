"""The command line does what was typed: whole option names only, help on every option, paths
relative to where they were given."""

import argparse

import pytest

from tabdistill.cli import main
from tabdistill.cli.main import build_parser


def _parsers(parser, prog="tabdistill"):
    """Every parser of the command line with its full name (commands, registry actions)."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prog} {name}")


def _options(parser):
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        yield action


def test_every_option_and_argument_has_help():
    missing = [
        f"{prog} {'/'.join(action.option_strings) or action.dest}"
        for prog, parser in _parsers(build_parser())
        for action in _options(parser)
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert not missing, missing
    assert len(list(_parsers(build_parser()))) >= 11  # 7 commands, 4 registry actions


def test_no_parser_accepts_abbreviations():
    assert all(not parser.allow_abbrev for _, parser in _parsers(build_parser()))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["benchmark", "data.csv", "--targe", "default"], "required: --target"),
        (
            ["benchmark", "data.csv", "--target", "y", "--n-estimator", "10"],
            "unrecognized arguments: --n-estimator 10",
        ),
        (["retrain", "--conf", "job.toml"], "required: --config"),
        (["predict", "--mod", "reg", "--input", "x.csv", "--output", "o.csv"], "--model"),
        (["registry", "prune", "reg", "--kee", "2"], "--keep"),
    ],
)
def test_abbreviated_options_are_refused(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_help_says_how_paths_resolve(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["retrain", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "relative to the config file's folder" in text and "working directory" in text


def test_dask_scheduler_without_the_dask_extra_is_a_usage_error(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name)
    )
    argv = ["benchmark", "d.csv", "--target", "y", "--dask-scheduler", "local"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'tabdistill[dask]'" in err[0]


def test_latency_budget_and_frontier_options():
    from tabdistill.cli.benchmark import DEFAULT_FRONTIER
    from tabdistill.cli.main import build_parser
    from tabdistill.cli.options import distiller_params
    from tabdistill.distill.frontier import DEFAULT_BUDGETS

    assert DEFAULT_FRONTIER == DEFAULT_BUDGETS
    args = build_parser().parse_args(["benchmark", "x.csv", "--target", "y"])
    assert args.frontier == DEFAULT_BUDGETS and "latency_budget" not in distiller_params(args)
    args = build_parser().parse_args(
        ["benchmark", "x.csv", "--target", "y", "--latency-budget", "50", "--frontier", "none"]
    )
    assert distiller_params(args)["latency_budget"] == 50.0 and args.frontier == ()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["benchmark", "x.csv", "--target", "y", "--latency-budget", "0"])
