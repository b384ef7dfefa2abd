"""``python -m benchmarks``: list the scripts; ``python -m benchmarks NAME [ARGS ...]``: run one.

``python -m benchmarks NAME ARGS`` is ``python -m benchmarks.NAME ARGS``.
"""

from __future__ import annotations

import runpy
import sys

from . import scripts

USAGE = """\
usage: python -m benchmarks NAME [ARGS ...]     (the same as python -m benchmarks.NAME [ARGS ...])

Run from the repository root. `python -m benchmarks NAME --help` says what a script measures
and its options; each writes JSON and a Markdown table to benchmarks/results/, and
benchmarks/README.md says how long each takes on 2 cores.

scripts:"""


def listing() -> str:
    """The usage line and every script with the first line of its docstring."""
    found = scripts()
    width = max(map(len, found))
    return "\n".join([USAGE, *(f"  {name:<{width}}  {line}" for name, line in found.items())])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(listing())
        return
    name, *rest = argv
    if name not in scripts():
        raise SystemExit(
            f"unknown benchmark {name!r}: expected one of {', '.join(scripts())} "
            "(python -m benchmarks lists them)."
        )
    sys.argv = [f"benchmarks.{name}", *rest]
    runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
