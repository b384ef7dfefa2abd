"""The ``tabdistill`` command line: a parser per command, one entry point.

Exit codes: 0 success; 2 bad input, configuration, model file or output path
(one line on stderr, no traceback); 3 a retraining run that the quality gate
rejected; 1 a bug (one line; ``--verbose`` prints the traceback).
Commands import their stage lazily, so ``tabdistill --help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from .._version import __version__
from ..exceptions import TabDistillError
from . import benchmark, export, inspect, make_fraud, predict, registry, retrain
from .options import EXIT_BUG, EXIT_USAGE

#: Every command, in the order ``--help`` lists them.
COMMANDS = {
    "benchmark": benchmark,
    "make-fraud": make_fraud,
    "retrain": retrain,
    "predict": predict,
    "inspect": inspect,
    "export": export,
    "registry": registry,
}


class _Parser(argparse.ArgumentParser):
    """Usage errors as one stderr line and exit 2, like every other user error.

    Options are never abbreviated: ``--targe`` is an error, not ``--target``
    (commands and their subcommands are built with this class too).
    """

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(EXIT_USAGE, f"tabdistill: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tabdistill",
        description="Distil a tabular ensemble into a compact model that scores in microseconds.",
        epilog="Paths given on the command line are relative to the working directory; paths "
        "inside a retraining config file are relative to the config file's folder.",
    )
    parser.add_argument("--version", action="version", version=f"tabdistill {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub, common)
    return parser


def _configure_logging(args):
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    # other libraries' progress (Dask's scheduler and workers start, stop, ...) only with -v
    others = max(level, logging.INFO if args.verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(
        lambda r: r.levelno >= (level if r.name.partition(".")[0] == "tabdistill" else others)
    )
    logging.basicConfig(level=level, format="tabdistill: %(message)s", handlers=[handler])
    for noisy in ("numba", "matplotlib", "PIL", "distributed"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.simplefilter("default" if args.verbose else "ignore", DeprecationWarning)
    warnings.formatwarning = lambda msg, cat, *a, **k: f"tabdistill: warning: {msg}\n"


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code
    _configure_logging(args)
    # OpenMP threads (LightGBM, XGBoost, scikit-learn) that wait by spinning stall each other
    # when other processes hold the cores: 10x slower fits on a busy machine. Sleeping costs
    # little. Read once, when the OpenMP runtime loads, which no command has done yet.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return args.func(args)
    except TabDistillError as exc:
        return _fail(exc, EXIT_USAGE)
    except OSError as exc:  # a file system refusal: a path the user gave cannot be used
        where = f": '{exc.filename}'" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}", EXIT_USAGE)
    except KeyboardInterrupt:
        print("tabdistill: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        return _fail(
            f"internal error ({type(exc).__name__}: {exc}); this is a bug: rerun with "
            "--verbose for the traceback and report it",
            EXIT_BUG,
        )


def _fail(message, code) -> int:
    text = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"tabdistill: error: {text}", file=sys.stderr)
    return code
