"""Single-row latency of LightGBM students against their tree steps (trees x depth).

The distiller's ``latency_budget`` turns microseconds into a cap on tree
steps with :data:`tabdistill.distill.students.TREE_STEP_NS`; this script
measures that cost. It fits LightGBM students of several shapes (fixed rounds,
no early stopping) on the synthetic fraud set, compiles each for the runtime
and times ``score_one`` on held-out rows, one call at a time after a warm-up:
p50 and p99 per student, and nanoseconds per tree step (p50 and p99 over the
students with at least 500 steps, where the fixed per-call cost is small).
A student's steps are its trees' depths summed: the runtime walks every tree
to its full depth.

    python benchmarks/latency_budget.py          # -> results/latency_budget.{json,md}
    python benchmarks/latency_budget.py --calls 5000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from tabdistill.data.datasets import make_fraud
from tabdistill.data.encoder import TabularEncoder
from tabdistill.data.io import split_target
from tabdistill.distill.students import TREE_STEP_NS, LightGBMStudent, round_steps

RESULTS = Path(__file__).resolve().parent / "results"
SHAPES = [
    (trees, leaves, depth)
    for trees in (50, 150, 300, 500)
    for leaves, depth in ((8, 3), (15, -1), (31, -1))
]


def time_single_rows(runtime, rows, calls) -> np.ndarray:
    """Seconds of each of ``calls`` single-row calls, after as many untimed ones."""
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    for i in range(calls):
        runtime.score_one(rows[i % len(rows)])
    out = np.empty(calls)
    for i in range(calls):
        row = rows[i % len(rows)]
        start = time.perf_counter()
        runtime.score_one(row)
        out[i] = time.perf_counter() - start
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=3_000)
    args = parser.parse_args()
    X, y = split_target(make_fraud(args.rows, fraud_rate=0.05, random_state=0), "is_fraud")
    encoder = TabularEncoder()
    Z = encoder.fit_encode(X)
    y = y.to_numpy().astype(float)
    half = len(Z) // 2
    runs = []
    for trees, leaves, depth in SHAPES:
        student = LightGBMStudent(
            n_estimators=trees,
            num_leaves=leaves,
            max_depth=depth,
            min_child_samples=5,
            categorical_mask=encoder.categorical_mask_,
            random_state=0,
            n_jobs=1,
        ).fit(Z[:half], y[:half])
        seconds = time_single_rows(student.compile(encoder.schema_), Z[half:], args.calls)
        steps = round_steps(student.booster_, trees).sum()
        runs.append(
            {
                "trees": student.booster_.num_trees(),
                "leaves": leaves,
                "max_depth": depth,
                "tree_steps": float(steps),
                "p50_us": float(np.percentile(seconds, 50) * 1e6),
                "p99_us": float(np.percentile(seconds, 99) * 1e6),
            }
        )
        print(runs[-1], flush=True)
    big = [r for r in runs if r["tree_steps"] >= 500]
    per_step = {q: [r[f"{q}_us"] * 1e3 / r["tree_steps"] for r in big] for q in ("p50", "p99")}
    per_step = {
        q: {"median": float(np.median(v)), "max": float(np.max(v))} for q, v in per_step.items()
    }
    load = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latency_budget.json").write_text(
        json.dumps({"runs": runs, "ns_per_step": per_step, "load": load}, indent=2)
    )
    lines = [
        "| trees | leaves | max depth | tree steps | single-row p50 µs | p99 µs |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['trees']} | {r['leaves']} | {r['max_depth']} | {r['tree_steps']:.0f} | "
            f"{r['p50_us']:.2f} | {r['p99_us']:.2f} |"
            for r in runs
        ),
        "",
        "ns per tree step over students with >= 500 steps (median, max): at p50 "
        f"{per_step['p50']['median']:.1f}, {per_step['p50']['max']:.1f}; at p99 "
        f"{per_step['p99']['median']:.1f}, {per_step['p99']['max']:.1f}; "
        f"the distiller assumes {TREE_STEP_NS} ns. "
        f"`python benchmarks/latency_budget.py --rows {args.rows} --calls {args.calls}`, "
        f"compiled C kernels, load average {load:.1f} at the end (2 CPUs).",
    ]
    (RESULTS / "latency_budget.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
