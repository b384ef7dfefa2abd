"""Batch scoring through Dask vs one process: rows per second, file to file.

A registered student (distilled on ``make_fraud(40,000, n_features=120)``) scores
``--rows`` rows of the same generator (3,000,000 by default) written as Parquet
parts:

* **single process**: every part read with pandas, scored with the compiled
  runtime (all cores), written back as Parquet -- what ``tabdistill predict``
  does for one file;
* **Dask**: ``tabdistill predict --input 'parts/*.parquet' --dask-scheduler local``
  (``score_files``: a ``LocalCluster`` of one single-threaded worker per core).

Both outputs are compared row for row (max abs difference of the probabilities).
Writes ``results/dask_scoring.{json,md}``. Wall times include reading and
writing; the machine's load is recorded (other jobs share the cores)::

    python -m benchmarks.dask_scoring                 # 3M rows
    python -m benchmarks.dask_scoring --rows 300000   # quick look
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tabdistill import DistilledClassifier, make_fraud
from tabdistill.ops.dask_scoring import dask_client, score_files
from tabdistill.ops.registry import Registry, load_runtime
from tabdistill.ops.scoring import FrameScorer

from .common.cli import argument_parser
from .common.measure import machine_load
from .common.results import write_results

FIT = {
    "teacher": {"members": ["lightgbm", "logistic"], "cv": 3},
    "augment_factors": (0, 1),
    "alphas": (0.0,),
}


def registered_student(root: Path, seed: int) -> Path:
    """A small distilled student on the fraud generator, written as a registry version."""
    frame = make_fraud(40_000, n_features=120, fraud_rate=0.035, random_state=seed)
    y = frame.pop("is_fraud")
    model = DistilledClassifier(**FIT, random_state=seed, n_jobs=1).fit(frame, y)
    runtime = model.runtime_
    manifest = {"schema": runtime.schema.to_dict(), "classes": ["0", "1"]}
    registry = Registry(root / "registry")
    return registry.root / registry.write_version(manifest, runtime)


def write_parts(folder: Path, rows: int, part_rows: int, seed: int) -> int:
    """``rows`` generator rows as Parquet parts of ``part_rows``; returns the parts written."""
    folder.mkdir()
    parts = 0
    for start in range(0, rows, part_rows):
        n = min(part_rows, rows - start)
        frame = make_fraud(n, n_features=120, fraud_rate=0.035, random_state=seed + 1 + parts)
        frame.drop(columns="is_fraud").to_parquet(folder / f"part-{parts:04d}.parquet")
        parts += 1
    return parts


def single_process(version: Path, parts: Path, out: Path) -> float:
    """Seconds to score every part in this process, part by part."""
    manifest, runtime = load_runtime(version)
    scorer = FrameScorer(manifest, runtime)
    out.mkdir()
    start = time.perf_counter()
    for path in sorted(parts.glob("*.parquet")):
        scorer(pd.read_parquet(path)).to_parquet(out / path.name, index=False)
    return time.perf_counter() - start


def read_parts(folder: Path) -> pd.DataFrame:
    """The Parquet parts of ``folder`` in partition order (the number in their names)."""
    files = sorted(folder.glob("*.parquet"), key=lambda p: int(re.findall(r"\d+", p.name)[-1]))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--part-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        version = registered_student(tmp, args.seed)
        n_parts = write_parts(tmp / "parts", args.rows, args.part_rows, args.seed)
        load = machine_load()
        single = single_process(version, tmp / "parts", tmp / "single")
        start = time.perf_counter()
        with dask_client("local"):
            started = time.perf_counter() - start
            passes = []
            for out in ("dask", "dask-warm"):  # the second pass finds the workers warm
                clock = time.perf_counter()
                rows = score_files(version, str(tmp / "parts" / "*.parquet"), tmp / out)
                passes.append(time.perf_counter() - clock)
        dask_seconds = started + passes[0]
        one, distributed = (
            read_parts(tmp / d)["probability"].to_numpy() for d in ("single", "dask")
        )
        result = {
            "rows": rows,
            "parts": n_parts,
            "cores": os.cpu_count(),
            "single_process": {"seconds": round(single, 2), "rows_per_s": round(rows / single)},
            "dask_local_cluster": {
                "seconds": round(dask_seconds, 2),
                "rows_per_s": round(rows / dask_seconds),
                "cluster_start_seconds": round(started, 2),
                "note": "first pass, starting the LocalCluster included",
            },
            "dask_warm": {"seconds": round(passes[1], 2), "rows_per_s": round(rows / passes[1])},
            "ratio": round(single / dask_seconds, 3),
            "ratio_warm": round(single / passes[1], 3),
            "max_abs_difference": float(np.abs(one - distributed).max()),
            "load_before": load,
            "load_after": machine_load(),
            "command": "python -m benchmarks.dask_scoring"
            + (f" --rows {args.rows}" if args.rows != 3_000_000 else ""),
        }
    md = (
        "| rows | single process rows/s | Dask rows/s (cluster start included) | ratio | "
        "Dask rows/s (warm workers) | ratio | max abs diff | load |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {rows:,} | {result['single_process']['rows_per_s']:,} | "
        f"{result['dask_local_cluster']['rows_per_s']:,} | {result['ratio']:.2f} | "
        f"{result['dask_warm']['rows_per_s']:,} | {result['ratio_warm']:.2f} | "
        f"{result['max_abs_difference']:.1e} | {result['load_before']}–{result['load_after']} |\n"
        f"\n`{result['command']}`; Parquet parts of {args.part_rows:,} rows, read + score + "
        "write, a LocalCluster of one single-threaded worker process per core; the machine is "
        "shared (load: other jobs).\n"
    )
    write_results("dask_scoring", result, md)


if __name__ == "__main__":
    main()
