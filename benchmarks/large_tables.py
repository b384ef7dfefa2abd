"""Large tables end to end: default `tabdistill benchmark` vs the plain LightGBM users pick.

For each table of ``benchmarks.common.datasets.LARGE_TABLES`` (590k x 120
card-fraud-shaped, and at 150k x 120 and 60k x 300, 299k x 40 census-sized, flights_nyc at
337k rows, the ULB card-fraud set at 285k rows):

1. ``tabdistill benchmark FILE --target T --json OUT`` with default settings, in a
   fresh process under ``/usr/bin/time -v``: wall and CPU time (CSV read, fit of teacher,
   student and baseline, evaluation), peak RSS, the fit's time per stage, the evaluation's
   per stage (from the log), and teacher / student / baseline test ROC-AUC;
2. the reference: what a user would pick instead of distillation, one plain LightGBM
   (:func:`reference_lightgbm`: 63 leaves, learning rate 0.05, up to 2,000 rounds, row and
   column subsampling 0.8, early stopping with patience 100 on 20% of the training rows,
   2 threads) on the same split and encoding -- the teacher must reach its ROC-AUC - 0.002.

Writes ``results/large_tables[_TAG].json`` and ``.md``; entries of earlier runs of
other tables are kept. Runs one table at a time (2 cores)::

    python -m benchmarks.large_tables                          # all tables
    python -m benchmarks.large_tables --tables fraud_590k --tag before \\
        --tabdistill /path/to/other/checkout/.venv/bin/tabdistill
    python -m benchmarks.large_tables --reference-only         # just the plain LightGBM

Synthetic tables are written once to ``$TABDISTILL_LARGE_DATA`` (see
``benchmarks.common.datasets``).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tabdistill.evaluate.latency_frontier import point_budget, point_source

from .common.cli import argument_parser
from .common.datasets import LARGE_TABLES, large_table_file
from .common.measure import machine_load, run_cli_benchmark
from .common.results import RESULTS, stem, write_results

STAGES = ("prepare", "teacher", "augment", "label", "baseline", "student", "refit", "frontier")
#: A stage's line in the benchmark's log: ``tabdistill: <stage>: <seconds> s (<detail>)``.
STAGE_LINE = re.compile(r"^tabdistill: ([\w -]+): ([\d.]+) s(?: \((.*)\))?$", re.M)
#: What a frontier point keeps of the benchmark's measures.
POINT = (
    "kind",
    "latency_budget_us",
    "source",
    "roc_auc",
    "average_precision",
    "single_row_p50_us",
    "single_row_p99_us",
    "size_bytes",
    "within_budget",
    "tree_share",
)


def run_benchmark(name, tabdistill, extra, workdir: Path) -> dict:
    path, target = large_table_file(name)
    out = workdir / f"{name}.json"
    cmd = [*tabdistill, "benchmark", str(path), "--target", target, "--json", str(out), *extra]
    print(f"{name}: {' '.join(cmd)}", flush=True)
    run = run_cli_benchmark(cmd, out, workdir / f"{name}.log")
    summary = run.pop("summary")
    evaluation, frontier = logged_stages((workdir / f"{name}.log").read_text())
    distillation = summary["distillation"]
    return {
        **run,
        "command": " ".join(["tabdistill", *cmd[len(tabdistill) :]]),
        "positive_rate": summary["positive_rate"],
        "student_p99_us": summary["models"]["student"]["latency"]["single_row_p99_us"],
        "teacher_weights": distillation["teacher_weights"],
        "chosen": distillation["chosen"],
        "cuts": (distillation.get("time_budget") or {}).get("cuts", []),
        "rows_used": distillation["rows"],
        "average_precision": {
            m: summary["models"][m].get("average_precision")
            for m in ("teacher", "student", "baseline")
        },
        "teacher_lead": summary.get("teacher_lead"),
        "frontier": [{k: p.get(k) for k in POINT} for p in summary.get("frontier") or []],
        "frontier_stage": frontier,
        "evaluation_seconds": evaluation,
    }


def logged_stages(log: str) -> tuple[dict, str | None]:
    """From a benchmark's log: the seconds of each stage after the fit (test scores,
    latency, bootstrap, frontier...), and the detail of the fit's frontier stage."""
    done = log.find("distillation done")
    evaluation, frontier = {}, None
    for line in STAGE_LINE.finditer(log):
        name, seconds, detail = line.groups()
        if 0 <= done < line.start():
            evaluation[name] = round(evaluation.get(name, 0.0) + float(seconds), 1)
        elif name == "frontier":
            frontier = detail
    return evaluation, frontier


def split_and_encode(path: Path, target: str, seed: int = 0, test_size: float = 0.25):
    """The benchmark's split of a CSV (stratified, same seed) and its encoding on the train part."""
    from tabdistill.data.encoder import TabularEncoder
    from tabdistill.data.io import read_csv, split_target
    from tabdistill.data.target import encode_target
    from tabdistill.evaluate.benchmark import stratified_split

    X, y_raw = split_target(read_csv(path), target)
    y = encode_target(y_raw).y
    X_train, X_test, y_train, y_test = stratified_split(X, y, test_size, seed)
    encoder = TabularEncoder()
    Z_train = encoder.fit_encode(X_train)
    return Z_train, np.asarray(y_train), encoder.encode(X_test), np.asarray(y_test), encoder


def reference_lightgbm(Z_train, y_train, Z_test, y_test, categorical_mask, seed=0, n_jobs=2):
    """The plain early-stopped LightGBM on encoded rows: test ROC-AUC, rounds, fit seconds."""
    import lightgbm as lgb

    from tabdistill.distill.members import fit_member
    from tabdistill.metrics import roc_auc

    model = lgb.LGBMClassifier(
        n_estimators=2_000,
        learning_rate=0.05,
        num_leaves=63,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=n_jobs,
        random_state=seed,
        verbose=-1,
    )
    start = time.perf_counter()
    # early stopping with patience 100 on a stratified 20% of the training rows
    fit_member(model, Z_train, y_train, None, categorical_mask, early_stopping=(100, 0.2, seed))
    seconds = time.perf_counter() - start
    return {
        "roc_auc": roc_auc(y_test, model.predict_proba(Z_test)[:, 1]),
        "rounds": int(model.best_iteration_ or model.n_estimators),
        "fit_seconds": round(seconds, 1),
    }


def run_reference(name, n_jobs=2) -> dict:
    path, target = large_table_file(name)
    Z_train, y_train, Z_test, y_test, encoder = split_and_encode(path, target)
    result = reference_lightgbm(
        Z_train, y_train, Z_test, y_test, encoder.categorical_mask_, n_jobs=n_jobs
    )
    print(f"{name}: reference LightGBM {result}", flush=True)
    return {**result, "n_jobs": n_jobs, "load": machine_load()}


def markdown(results: dict) -> str:
    head = (
        "| table | rows × features | pos. | wall s | CPU s | peak RSS GiB | "
        + " | ".join(STAGES)
        + " | evaluation s | teacher | student | baseline | plain LightGBM (s) | load |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in results.items():
        b, ref = r.get("benchmark"), r.get("reference")
        if not b:
            continue
        fit = b["fit_seconds"]
        evaluation = b["wall_seconds"] - fit["total"]
        auc = b["roc_auc"]
        plain = f"{ref['roc_auc']:.4f} ({ref['fit_seconds']:.0f})" if ref else "–"
        lines.append(
            f"| {name} | {b['rows']:,} × {b['features']} | {b['positive_rate']:.1%} | "
            f"{b['wall_seconds']:,.0f} | {_number(b.get('cpu_seconds'))} | {b['peak_rss_gib']} | "
            + " | ".join(f"{fit.get(s, 0):,.0f}" for s in STAGES)
            + f" | {evaluation:,.0f} | {auc['teacher']:.4f} | {auc['student']:.4f} | "
            f"{auc['baseline']:.4f} | {plain} | {b['load_before']}–{b['load_after']} |"
        )
    notes = []
    for name, r in results.items():
        b = r.get("benchmark") or {}
        if b.get("fallback"):
            notes.append(f"- {name}: the baseline was kept ({b['fallback']})")
        if b.get("cuts"):
            notes.append(f"- {name}: time limit cut: {'; '.join(b['cuts'])}")
        if b:
            weights = ", ".join(f"{k} {v:.2f}" for k, v in b["teacher_weights"].items())
            notes.append(f"- {name}: teacher weights {weights}; `{b['command']}`")
        if b.get("evaluation_seconds"):
            stages = ", ".join(f"{k} {v:,.0f}" for k, v in b["evaluation_seconds"].items())
            notes.append(f"- {name}: evaluation stages (s): {stages}")
        if b.get("frontier_stage"):
            notes.append(f"- {name}: frontier stage of the fit: {b['frontier_stage']}")
        lead = b.get("teacher_lead")
        if lead:
            notes.append(
                f"- {name}: teacher - baseline {lead['metric']} {lead['estimate']:+.4f} "
                f"[{lead['low']:+.4f}, {lead['high']:+.4f}]: {lead['text']}"
            )
        notes.extend(_frontier_lines(name, b.get("frontier") or []))
    return "\n".join(lines + [""] + notes) + "\n"


def _number(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _frontier_lines(name, points) -> list[str]:
    """The frontier of one table as indented lines: budget, source, accuracy, latency, size."""
    if not points:
        return []
    out = [
        f"- {name}: latency-accuracy frontier on the test rows (single-row latency as measured):"
    ]
    for p in points:
        over = "" if p.get("within_budget") in (True, None) else " (over its budget)"
        out.append(
            f"  - {point_budget(p)}: {point_source(p)}, ROC-AUC {p['roc_auc']:.4f}, PR-AUC "
            f"{p['average_precision']:.4f}, p50 {p['single_row_p50_us']:,.1f} us, p99 "
            f"{p['single_row_p99_us']:,.1f} us{over}, {p['size_bytes'] / 1024:,.0f} KB"
        )
    return out


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument(
        "--tables", nargs="+", default=list(LARGE_TABLES), choices=list(LARGE_TABLES)
    )
    parser.add_argument("--tag", default="", help="suffix of the results files")
    parser.add_argument(
        "--tabdistill",
        help="tabdistill executable to run (default: this checkout's, via python -m)",
    )
    parser.add_argument("--reference-only", action="store_true")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument(
        "--n-jobs",
        type=int,
        help="threads of the benchmark (its --n-jobs) and of the reference (default 2); "
        "1 on a loaded machine, where 2 OpenMP threads fight other jobs for the cores",
    )
    parser.add_argument("extra", nargs="*", help="more benchmark options, after --")
    args = parser.parse_args()
    tabdistill = [args.tabdistill] if args.tabdistill else [sys.executable, "-m", "tabdistill"]
    name = stem("large_tables", args.tag)
    out = RESULTS / f"{name}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for table in args.tables:
            entry = results.setdefault(table, {})
            if not args.reference_only:
                extra = [*args.extra, *(["--n-jobs", str(args.n_jobs)] if args.n_jobs else [])]
                entry["benchmark"] = run_benchmark(table, tabdistill, extra, Path(tmp))
            if not args.no_reference:
                entry["reference"] = run_reference(table, args.n_jobs or 2)
            write_results(name, results, markdown(results), echo=False)
            print(markdown({table: entry}), flush=True)


if __name__ == "__main__":
    main()
