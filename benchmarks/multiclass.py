"""Multiclass distillation: teacher vs student vs baseline on the two K-class datasets.

``diamonds`` (target ``cut``, 5 classes, Fair 3% ... Ideal 40%) and ``wvs``
(target ``poverty``, 3 classes), seeds 0 1 2, a 25% stratified test split,
default :class:`~tabdistill.DistilledClassifier` settings, through
:func:`tabdistill.evaluate.benchmark.run_benchmark` (what ``tabdistill
benchmark`` runs). One JSON per run goes to ``results/multiclass/``; the
summary (mean ± sd over seeds, and the issue's bars per seed: student test log
loss <= baseline's, student macro ROC-AUC >= baseline's - 0.002) to
``results/multiclass.{json,md}``.

Fitted teachers are cached on disk as in ``benchmarks.suite`` (``--cache``; a cached
teacher's fit time is that of its original fit); ``--no-cache`` refits.

    python -m benchmarks.multiclass
    python -m benchmarks.multiclass --datasets wvs --seeds 0
    python -m benchmarks.multiclass --summarize-only

Data: ``diamonds`` from the R package ggplot2 (MIT) and ``WVS`` from carData
(GPL-2/3); ``fraud_types`` is ``make_fraud(50_000, fraud_rate=0.05,
fraud_type=True)``. See ``../shared/datasets/README.md``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np

from tabdistill.evaluate.benchmark import run_benchmark

from .common.cli import argument_parser
from .common.datasets import MULTICLASS, load_multiclass
from .common.results import RESULTS, mean_sd, size_text, write_results
from .run_all import read_runs
from .suite import CACHE

#: The issue's bar: the student's macro ROC-AUC may trail the baseline's by this much.
AUC_SLACK = 0.002
COLUMNS = [
    ("log_loss", "log loss", 4),
    ("roc_auc", "macro ROC-AUC", 4),
    ("accuracy", "accuracy", 4),
    ("balanced_accuracy", "balanced acc.", 4),
]


def run(datasets, seeds, n_jobs, cache, out):
    out.mkdir(parents=True, exist_ok=True)
    for name in datasets:
        for seed in seeds:
            X, y = load_multiclass(name, seed)
            frame = X.assign(**{MULTICLASS[name][1]: y})
            teacher = {"memory": None if cache is None else str(cache)}
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = run_benchmark(
                    frame,
                    MULTICLASS[name][1],
                    dataset=name,
                    seed=seed,
                    distiller_params={"n_jobs": n_jobs, "teacher": teacher},
                )
            path = out / f"{name}_seed{seed}.json"
            path.write_text(json.dumps(result.summary, indent=2))
            m = result.summary["models"]
            print(
                f"{name} seed {seed}: log loss teacher {m['teacher']['log_loss']:.4f} student "
                f"{m['student']['log_loss']:.4f} baseline {m['baseline']['log_loss']:.4f}; "
                f"macro AUC {m['teacher']['roc_auc']:.4f} / {m['student']['roc_auc']:.4f} / "
                f"{m['baseline']['roc_auc']:.4f} ({time.perf_counter() - start:.0f} s) -> {path}",
                flush=True,
            )


def summarize(out):
    runs = read_runs(out)
    table, bars = {}, {}
    for name, items in runs.items():
        items.sort(key=lambda r: r["seed"])

        def col(model, key, items=items):
            return np.array([r["models"][model][key] for r in items], dtype=float)

        def lat(model, key, items=items):
            return np.array([r["models"][model]["latency"][key] for r in items], dtype=float)

        s_ll, b_ll = col("student", "log_loss"), col("baseline", "log_loss")
        s_auc, b_auc = col("student", "roc_auc"), col("baseline", "roc_auc")
        bars[name] = {
            "seeds": [r["seed"] for r in items],
            "student_minus_baseline_log_loss": (s_ll - b_ll).tolist(),
            "student_minus_baseline_roc_auc": (s_auc - b_auc).tolist(),
            "log_loss_bar": bool(np.all(s_ll <= b_ll)),
            "roc_auc_bar": bool(np.all(s_auc >= b_auc - AUC_SLACK)),
            "fallbacks": sum(r["distillation"]["fallback"] is not None for r in items),
            "agreement": float(np.mean([r["fidelity"]["agreement"] for r in items])),
        }
        table[name] = {
            model: {
                **{key: mean_sd(col(model, key), d) for key, _, d in COLUMNS},
                "p50_us": mean_sd(lat(model, "single_row_p50_us"), 1),
                "rows_per_second": float(np.median(lat(model, "batch_rows_per_second"))),
                "size_bytes": float(np.median(col(model, "size_bytes"))),
            }
            for model in ("teacher", "student", "baseline")
        }
        table[name]["_rows"] = items[0]["rows"]
        table[name]["_classes"] = len(items[0]["classes"])
    write_results("multiclass", {"table": table, "bars": bars}, markdown(table, bars), out.parent)


def markdown(table, bars):
    head = " | ".join(label for _, label, _ in COLUMNS)
    lines = [
        f"| dataset | model | {head} | p50 µs | rows/s | size |",
        "|---|---|" + "---|" * len(COLUMNS) + "---|---|---|",
    ]
    for name, models in table.items():
        for model in ("teacher", "student", "baseline"):
            m = models[model]
            label = f"{name} ({models['_rows']:,} rows, {models['_classes']} classes)"
            cells = " | ".join(m[key] for key, _, _ in COLUMNS)
            lines.append(
                f"| {label if model == 'teacher' else ''} | {model} | {cells} | {m['p50_us']} | "
                f"{m['rows_per_second']:,.0f} | {size_text(m['size_bytes'])} |"
            )
    lines += [
        "",
        "| dataset | seeds | student − baseline log loss per seed (bar ≤ 0) | student − baseline "
        f"macro ROC-AUC per seed (bar ≥ −{AUC_SLACK}) | fallbacks to the baseline | "
        "same top class as the teacher |",
        "|---|---|---|---|---|---|",
    ]
    for name, b in bars.items():
        ll = " ".join(f"{v:+.4f}" for v in b["student_minus_baseline_log_loss"])
        auc = " ".join(f"{v:+.4f}" for v in b["student_minus_baseline_roc_auc"])
        lines.append(
            f"| {name} | {len(b['seeds'])} | {ll}: {'yes' if b['log_loss_bar'] else '**no**'} | "
            f"{auc}: {'yes' if b['roc_auc_bar'] else '**no**'} | {b['fallbacks']} | "
            f"{b['agreement']:.2%} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=["diamonds", "wvs"], choices=MULTICLASS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "multiclass")
    parser.add_argument("--summarize-only", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TQDM_DISABLE", "1")
    if not args.summarize_only:
        cache = None if args.no_cache else args.cache
        run(args.datasets, args.seeds, args.n_jobs, cache, args.out)
    summarize(args.out)


if __name__ == "__main__":
    main()
