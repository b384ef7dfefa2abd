"""OpenMP threads and wait policy: what a boosted teacher member's fit costs on a busy machine.

Fits the teacher's default LightGBM and XGBoost members (100 rounds, fixed) on
the first N rows of ``flights_nyc`` with 1 and 2 threads, each configuration
in a fresh process (the OpenMP runtime reads ``OMP_WAIT_POLICY`` once, when it
loads) under libgomp's default wait policy (spin, then sleep) and under
``PASSIVE`` (sleep at once). The load average at the start of each run is
recorded: the effect shows when other processes hold the cores.

    python -m benchmarks.threads                  # -> results/threads.{json,md}
    python -m benchmarks.threads --rows 2000 50000 --repeats 3
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from .common.cli import argument_parser
from .common.datasets import SHARED
from .common.measure import machine_load
from .common.results import write_results

CHILD = """
import sys, time, json
from tabdistill.data.io import read_csv, split_target
from tabdistill.data.encoder import TabularEncoder
from tabdistill.data.target import encode_target
from tabdistill.distill.members import build_member, fit_member
X, y = split_target(read_csv(sys.argv[1]), "late")
n, name, threads = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
enc = TabularEncoder()
Z = enc.fit_encode(X.iloc[:n])
y = encode_target(y.iloc[:n]).y
params = {"n_estimators": 100, "n_jobs": threads}
est = build_member(name, params, enc.categorical_mask_, 0, threads)
start = time.perf_counter()
fit_member(est, Z, y, None, enc.categorical_mask_)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def run(rows, member, threads, policy) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    load = machine_load()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(SHARED / "flights_nyc.csv.gz"),
            str(rows),
            member,
            str(threads),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"load": load, **json.loads(out.stdout.strip().splitlines()[-1])}


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", nargs="+", type=int, default=[2_000, 20_000, 100_000, 336_776])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    lines = []
    for rows in args.rows:
        for member in ("lightgbm", "xgboost"):
            for policy in ("default", "PASSIVE"):
                for threads in (1, 2):
                    runs = [run(rows, member, threads, policy) for _ in range(args.repeats)]
                    line = {
                        "rows": rows,
                        "member": member,
                        "policy": policy,
                        "threads": threads,
                        "median_seconds": float(np.median([r["seconds"] for r in runs])),
                        "load": float(np.mean([r["load"] for r in runs])),
                    }
                    lines.append(line)
                    print(line, flush=True)
    out = [
        "| rows | member | wait policy | 1 thread s | 2 threads s | 2 / 1 | load avg |",
        "|---|---|---|---|---|---|---|",
    ]
    for a, b in zip(lines[::2], lines[1::2]):
        out.append(
            f"| {a['rows']:,} | {a['member']} | {a['policy']} | {a['median_seconds']:.2f} | "
            f"{b['median_seconds']:.2f} | {b['median_seconds'] / a['median_seconds']:.1f}x | "
            f"{(a['load'] + b['load']) / 2:.1f} |"
        )
    out += [
        "",
        f"`python -m benchmarks.threads --rows {' '.join(map(str, args.rows))} --repeats "
        f"{args.repeats}` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}: 100 fixed "
        "rounds of the teacher's default member on the first rows of flights_nyc, each fit in "
        "a fresh process; load average (1 min) when the runs started.",
    ]
    write_results("threads", lines, "\n".join(out) + "\n")


if __name__ == "__main__":
    main()
