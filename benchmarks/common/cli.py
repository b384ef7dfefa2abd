"""The scripts' command lines: one parser for them all, and the command a result records."""

from __future__ import annotations

import argparse
import shlex
import sys


def argument_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser for script ``module`` (``__spec__.name``) whose help is the script's docstring."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def command(module: str, argv: list[str] | None = None) -> str:
    """``python -m module`` with this run's arguments (``argv``, default ``sys.argv[1:]``)."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", module, *args])  # quoted: JSON arguments paste back
