"""The ``tabdistill`` command line: a parser per command, one entry point.

Exit codes: 0 success; 2 bad input, configuration or model file (one line on
stderr, no traceback); 3 a retraining run that the quality gate rejected.
Commands import their stage lazily, so ``tabdistill --help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from .._version import __version__
from ..exceptions import TabDistillError
from . import benchmark, export, inspect, make_fraud, predict, retrain
from .options import EXIT_USAGE

#: Every command, in the order ``--help`` lists them.
COMMANDS = {
    "benchmark": benchmark,
    "make-fraud": make_fraud,
    "retrain": retrain,
    "predict": predict,
    "inspect": inspect,
    "export": export,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tabdistill",
        description="Distil a tabular ensemble into a compact model that scores in microseconds.",
    )
    parser.add_argument("--version", action="version", version=f"tabdistill {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub, common)
    return parser


def _configure_logging(args):
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="tabdistill: %(message)s", stream=sys.stderr)
    for noisy in ("numba", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.simplefilter("default" if args.verbose else "ignore", DeprecationWarning)
    warnings.formatwarning = lambda msg, cat, *a, **k: f"tabdistill: warning: {msg}\n"


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        return args.func(args)
    except TabDistillError as exc:
        print(f"tabdistill: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tabdistill: interrupted", file=sys.stderr)
        return 130
