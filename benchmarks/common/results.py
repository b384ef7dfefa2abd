"""Where the benchmarks write, and how: the figures as JSON next to a short Markdown table.

Every script writes ``results/<stem>.json`` and ``results/<stem>.md`` (``<stem>`` is the
script's name, ``_TAG`` appended when a run is tagged) and prints the Markdown.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "results"


def stem(name: str, tag: str = "") -> str:
    """The results files' name: ``name_tag``, or ``name`` for an untagged run."""
    return f"{name}_{tag}" if tag else name


def write_results(
    name: str, data, markdown: str, out: Path = RESULTS, echo: bool = True, indent: int | None = 2
) -> None:
    """Write ``out/name.json`` (``data``) and ``out/name.md`` (``markdown``); print the
    Markdown unless ``echo`` is False."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=indent))
    (out / f"{name}.md").write_text(markdown)
    if echo:
        print(markdown)


def mean_sd(values, digits: int) -> str:
    """``"mean ± sd"`` of ``values`` (sample sd; 0 for a single value)."""
    values = np.asarray(values, dtype=float)
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {sd:.{digits}f}"


def size_text(n_bytes: float) -> str:
    """A file size for a table: KB below 1 MiB, MB above."""
    return f"{n_bytes / 1024:,.0f} KB" if n_bytes < 1024**2 else f"{n_bytes / 1024**2:,.1f} MB"
