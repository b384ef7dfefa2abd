"""Command-line interface (filled in by later stages)."""

import sys


def main(argv=None) -> int:
    print("tabdistill", file=sys.stderr)
    return 0
