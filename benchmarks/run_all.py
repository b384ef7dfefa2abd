"""Benchmark teacher vs student vs baseline on every bundled dataset and synthetic fraud.

Writes one JSON per dataset and seed to ``benchmarks/results/`` plus
``summary.json`` and ``summary.md`` (mean ± sd over seeds, and whether each
dataset meets the distillation bars). Run from the repository root:

    python -m benchmarks.run_all                    # all datasets, seeds 0 1 2
    python -m benchmarks.run_all --datasets bank_marketing --seeds 0
    python -m benchmarks.run_all --summarize-only   # rebuild the summary from the JSON files
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from tabdistill.data.datasets import BUNDLED, load_dataset, make_fraud
from tabdistill.evaluate.benchmark import run_benchmark

from .common.cli import argument_parser
from .common.datasets import FRAUD
from .common.results import RESULTS, mean_sd, size_text, write_results

METRICS = [
    ("roc_auc", "ROC-AUC", 4),
    ("average_precision", "PR-AUC", 4),
    ("recall_at_1pct_fpr", "recall@1%FPR", 4),
]


def load(name, seed, fraud_rows):
    if name == FRAUD:
        # the fraud set is regenerated per seed: a different sample of the same process
        return make_fraud(fraud_rows, fraud_rate=0.01, random_state=seed), "is_fraud"
    return load_dataset(name, as_frame=True), BUNDLED[name][1]


def run(datasets, seeds, fraud_rows, n_jobs, out):
    out.mkdir(parents=True, exist_ok=True)
    for name in datasets:
        for seed in seeds:
            frame, target = load(name, seed, fraud_rows)
            start = time.perf_counter()
            result = run_benchmark(
                frame, target, dataset=name, seed=seed, distiller_params={"n_jobs": n_jobs}
            )
            path = out / f"{name}_seed{seed}.json"
            path.write_text(json.dumps(result.summary, indent=2))
            m = result.summary["models"]
            print(
                f"{name} seed {seed}: teacher {m['teacher']['roc_auc']:.4f} student "
                f"{m['student']['roc_auc']:.4f} baseline {m['baseline']['roc_auc']:.4f} "
                f"({time.perf_counter() - start:.0f} s) -> {path}",
                flush=True,
            )


def read_runs(out) -> dict:
    """``dataset -> [benchmark summaries]`` of the per-run JSON files in ``out``."""
    runs = {}
    for path in sorted(out.glob("*_seed*.json")):
        summary = json.loads(path.read_text())
        runs.setdefault(summary["dataset"], []).append(summary)
    return runs


def summarize(out):
    runs = read_runs(out)
    table, bars = {}, {}
    for name, items in runs.items():

        def col(model, key, items=items):
            return [r["models"][model][key] for r in items]

        def lat(model, key, items=items):
            return [r["models"][model]["latency"][key] for r in items]

        t_auc, s_auc, b_auc = (
            np.array(col(m, "roc_auc")) for m in ("teacher", "student", "baseline")
        )
        s_ap, b_ap = (
            np.array(col("student", "average_precision")),
            np.array(col("baseline", "average_precision")),
        )
        size_ratio = np.array(col("student", "size_bytes")) / np.array(col("teacher", "size_bytes"))
        bars[name] = {
            "seeds": [r["seed"] for r in items],
            "student_auc_ge_baseline": bool(s_auc.mean() >= b_auc.mean()),
            "student_auc_within_0.005_of_teacher": bool(t_auc.mean() - s_auc.mean() <= 0.005),
            "student_pr_auc_ge_baseline": bool(s_ap.mean() >= b_ap.mean()),
            "student_size_le_5pct_of_teacher": bool(size_ratio.max() <= 0.05),
            "per_seed_student_auc_ge_baseline": int((s_auc >= b_auc).sum()),
            "mean_teacher_minus_student_auc": float(t_auc.mean() - s_auc.mean()),
            "max_size_ratio": float(size_ratio.max()),
        }
        table[name] = {
            model: {
                **{key: mean_sd(col(model, key), d) for key, _, d in METRICS},
                "p99_us": mean_sd(lat(model, "single_row_p99_us"), 1),
                "rows_per_second": float(np.median(lat(model, "batch_rows_per_second"))),
                "size_bytes": float(np.median(col(model, "size_bytes"))),
            }
            for model in ("teacher", "student", "baseline")
        }
        table[name]["_rows"] = items[0]["rows"]
        table[name]["_positive_rate"] = items[0]["positive_rate"]
    write_results("summary", {"table": table, "bars": bars}, markdown(table, bars), out)


def markdown(table, bars):
    lines = [
        "| dataset | model | ROC-AUC | PR-AUC | recall@1%FPR | p99 µs | rows/s | size |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, models in table.items():
        for model in ("teacher", "student", "baseline"):
            m = models[model]
            label = f"{name} ({models['_rows']:,} rows, {models['_positive_rate']:.1%} pos.)"
            lines.append(
                f"| {label if model == 'teacher' else ''} | {model} | {m['roc_auc']} | "
                f"{m['average_precision']} | {m['recall_at_1pct_fpr']} | {m['p99_us']} | "
                f"{m['rows_per_second']:,.0f} | {size_text(m['size_bytes'])} |"
            )
    lines += [
        "",
        "| dataset | seeds | student ≥ baseline (ROC-AUC) | teacher − student ROC-AUC "
        "(bar ≤ 0.005) | student ≥ baseline (PR-AUC) | student size / teacher (bar ≤ 5%) |",
        "|---|---|---|---|---|---|",
    ]
    for name, b in bars.items():
        ok = "yes" if b["student_auc_ge_baseline"] else "**no**"
        within = "yes" if b["student_auc_within_0.005_of_teacher"] else "**no**"
        pr = "yes" if b["student_pr_auc_ge_baseline"] else "**no**"
        size = "yes" if b["student_size_le_5pct_of_teacher"] else "**no**"
        lines.append(
            f"| {name} | {len(b['seeds'])} | {ok} ({b['per_seed_student_auc_ge_baseline']}"
            f"/{len(b['seeds'])} seeds) | {b['mean_teacher_minus_student_auc']:+.4f}: {within} | "
            f"{pr} | {b['max_size_ratio']:.2%}: {size} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=[*BUNDLED, FRAUD])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--fraud-rows", type=int, default=100_000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--summarize-only", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.summarize_only:
        run(args.datasets, args.seeds, args.fraud_rows, args.n_jobs, args.out)
    summarize(args.out)


if __name__ == "__main__":
    main()
