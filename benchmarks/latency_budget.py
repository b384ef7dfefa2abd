"""Single-row latency of LightGBM students against their tree steps (trees x depth).

The distiller's ``latency_budget`` turns microseconds into a cap on tree
steps with :data:`tabdistill.distill.sizes.TREE_STEP_NS`; this script
measures that cost. It fits LightGBM students of several shapes (fixed rounds,
no early stopping) on the synthetic fraud set, compiles each for the runtime
and times ``score_one`` on held-out rows, one call at a time after a warm-up:
p50 and p99 per student (the median of ``--repeats`` rounds), and nanoseconds per
tree step (p50 and p99 over the students with at least 500 steps, where the fixed
per-call cost is small).
A student's steps are its trees' depths summed: the runtime walks every tree
to its full depth. Each student's measured p99 is set against the p99 the cost
model predicts (tree steps x ``TREE_STEP_NS``), large students (255 leaves,
depth 8, the size the distiller tries above 100,000 rows) and the frontier's students of
up to 20,000 steps (100 us) included.

    python -m benchmarks.latency_budget          # -> results/latency_budget.{json,md}
    python -m benchmarks.latency_budget --calls 5000
"""

from __future__ import annotations

import numpy as np

from tabdistill.data.datasets import make_fraud
from tabdistill.data.encoder import TabularEncoder
from tabdistill.data.io import split_target
from tabdistill.distill.sizes import TREE_STEP_NS, round_steps
from tabdistill.distill.students import LightGBMStudent
from tabdistill.evaluate.cost import single_row_latency

from .common.cli import argument_parser
from .common.measure import machine_load
from .common.results import write_results

SHAPES = (
    [
        (trees, leaves, depth)
        for trees in (50, 150, 300, 500)
        for leaves, depth in ((8, 3), (15, -1), (31, -1))
    ]
    + [(trees, 255, 8) for trees in (100, 250, 500)]  # the large-data students
    # the frontier's students, up to 100 us (20,000 steps): many shallow trees, or deep ones
    + [(trees, 8, 3) for trees in (1000, 2000, 3333, 6667)]
    + [(1000, 15, -1), (2000, 15, -1), (1000, 31, -1), (1000, 255, 8), (2500, 255, 8)]
)


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y = split_target(make_fraud(args.rows, fraud_rate=0.05, random_state=0), "is_fraud")
    encoder = TabularEncoder()
    Z = encoder.fit_encode(X)
    y = y.to_numpy().astype(float)
    half = len(Z) // 2
    rows = list(np.ascontiguousarray(Z[half:], dtype=np.float64))
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
        runtime = student.compile(encoder.schema_)
        # as many untimed calls as timed ones first; the median of a few rounds, since one
        # round's p99 of calls of 50-100 us often holds a preemption by another process
        timed = [
            single_row_latency(runtime.score_one, rows, n_calls=args.calls, warmup=args.calls)
            for _ in range(args.repeats)
        ]
        lat = {q: float(np.median([t[q] for t in timed])) for q in ("p50_us", "p99_us")}
        steps = round_steps(student.booster_, trees).sum()
        runs.append(
            {
                "trees": student.booster_.num_trees(),
                "leaves": leaves,
                "max_depth": depth,
                "tree_steps": float(steps),
                "p50_us": lat["p50_us"],
                "p99_us": lat["p99_us"],
                "predicted_p99_us": float(steps) * TREE_STEP_NS / 1e3,
                "size_bytes": len(runtime.to_bytes()),
            }
        )
        print(runs[-1], flush=True)
    big = [r for r in runs if r["tree_steps"] >= 500]
    per_step = {q: [r[f"{q}_us"] * 1e3 / r["tree_steps"] for r in big] for q in ("p50", "p99")}
    per_step = {
        q: {"median": float(np.median(v)), "max": float(np.max(v))} for q, v in per_step.items()
    }
    large = [r["p99_us"] / r["predicted_p99_us"] for r in runs if r["leaves"] >= 255]
    frontier = [r["p99_us"] / r["predicted_p99_us"] for r in runs if r["tree_steps"] >= 5000]
    load = machine_load()
    lines = [
        "| trees | leaves | max depth | tree steps | size KB | single-row p50 µs | p99 µs | "
        "predicted p99 µs | measured / predicted |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['trees']} | {r['leaves']} | {r['max_depth']} | {r['tree_steps']:.0f} | "
            f"{r['size_bytes'] / 1024:,.0f} | {r['p50_us']:.2f} | {r['p99_us']:.2f} | "
            f"{r['predicted_p99_us']:.2f} | {r['p99_us'] / r['predicted_p99_us']:.2f} |"
            for r in runs
        ),
        "",
        "Large students (255 leaves, depth 8): measured p99 / predicted "
        + ", ".join(f"{v:.2f}" for v in large)
        + "; students of 5,000 steps or more (the frontier's range): "
        + ", ".join(f"{v:.2f}" for v in frontier)
        + ".",
        "ns per tree step over students with >= 500 steps (median, max): at p50 "
        f"{per_step['p50']['median']:.1f}, {per_step['p50']['max']:.1f}; at p99 "
        f"{per_step['p99']['median']:.1f}, {per_step['p99']['max']:.1f}; "
        f"the distiller assumes {TREE_STEP_NS} ns. "
        f"`python -m benchmarks.latency_budget --rows {args.rows} --calls {args.calls} "
        f"--repeats {args.repeats}` (the median of {args.repeats} rounds' p50 and p99), "
        f"compiled C kernels, load average {load:.1f} at the end (2 CPUs).",
    ]
    result = {"runs": runs, "ns_per_step": per_step, "large_measured_over_predicted": large}
    result["frontier_measured_over_predicted"] = frontier
    result["load"] = load
    write_results("latency_budget", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
