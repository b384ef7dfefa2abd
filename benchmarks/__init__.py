"""The benchmarks behind every figure tabdistill reports: one script a question.

Run a script from the repository root as a module, ``python -m benchmarks.NAME`` (for
example ``python -m benchmarks.suite``); ``python -m benchmarks`` lists the scripts and
``python -m benchmarks NAME ...`` runs one. Each writes JSON and a short Markdown table to
``benchmarks/results/``; ``benchmarks/README.md`` says what each measures and how long it
takes. Helpers the scripts share live in :mod:`benchmarks.common`.
"""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> dict[str, str]:
    """``name -> first line of its docstring`` of every script, by name (read, not imported)."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        found[path.stem] = doc.split("\n")[0]
    return found
