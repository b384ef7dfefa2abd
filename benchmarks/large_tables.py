"""Large tables end to end: default `tabdistill benchmark` vs the plain LightGBM users pick.

For each table of ``large_data.TABLES`` (590k x 120 card-fraud-shaped, 299k x 40
census-sized, flights_nyc at 337k rows):

1. ``tabdistill benchmark FILE --target T --json OUT`` with default settings, in a
   fresh process under ``/usr/bin/time -v``: wall time (CSV read, fit of teacher,
   student and baseline, evaluation), peak RSS, the fit's time per stage, and
   teacher / student / baseline test ROC-AUC;
2. the reference: one plain early-stopped LightGBM (``large_data.reference_lightgbm``)
   on the same split and encoding -- the teacher must reach its ROC-AUC - 0.002.

Writes ``results/large_tables[_TAG].json`` and ``.md``; entries of earlier runs of
other tables are kept. Runs one table at a time (2 cores)::

    python benchmarks/large_tables.py                          # all tables
    python benchmarks/large_tables.py --tables fraud_590k --tag before \\
        --tabdistill /path/to/other/checkout/.venv/bin/tabdistill
    python benchmarks/large_tables.py --reference-only         # just the plain LightGBM
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from large_data import TABLES, machine_load, reference_lightgbm, split_and_encode, table_file, timed

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ("prepare", "teacher", "augment", "label", "baseline", "student", "refit")


def run_benchmark(name, tabdistill, extra, workdir: Path) -> dict:
    path, target = table_file(name)
    out = workdir / f"{name}.json"
    cmd = [*tabdistill, "benchmark", str(path), "--target", target, "--json", str(out), *extra]
    print(f"{name}: {' '.join(cmd)}", flush=True)
    load = machine_load()
    run = timed(cmd, workdir / f"{name}.log")
    if run["exit_code"] != 0:
        tail = (workdir / f"{name}.log").read_text()[-2000:]
        raise SystemExit(f"{name}: benchmark failed ({run['exit_code']}):\n{tail}")
    summary = json.loads(out.read_text())
    distillation = summary["distillation"]
    return {
        **run,
        "load_before": load,
        "load_after": machine_load(),
        "command": " ".join(["tabdistill", *cmd[len(tabdistill) :]]),
        "rows": summary["rows"],
        "features": summary["features"],
        "positive_rate": summary["positive_rate"],
        "fit_seconds": distillation["timings"],
        "roc_auc": {m: summary["models"][m]["roc_auc"] for m in ("teacher", "student", "baseline")},
        "student_p99_us": summary["models"]["student"]["latency"]["single_row_p99_us"],
        "teacher_weights": distillation["teacher_weights"],
        "chosen": distillation["chosen"],
        "fallback": distillation["fallback"],
        "cuts": (distillation.get("time_budget") or {}).get("cuts", []),
        "rows_used": distillation["rows"],
    }


def run_reference(name, n_jobs=2) -> dict:
    path, target = table_file(name)
    Z_train, y_train, Z_test, y_test, encoder = split_and_encode(path, target)
    result = reference_lightgbm(
        Z_train, y_train, Z_test, y_test, encoder.categorical_mask_, n_jobs=n_jobs
    )
    print(f"{name}: reference LightGBM {result}", flush=True)
    return {**result, "n_jobs": n_jobs, "load": machine_load()}


def markdown(results: dict) -> str:
    head = (
        "| table | rows × features | pos. | wall s | peak RSS GiB | "
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
            f"{b['wall_seconds']:,.0f} | {b['peak_rss_gib']} | "
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
    return "\n".join(lines + [""] + notes) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
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
    stem = f"large_tables_{args.tag}" if args.tag else "large_tables"
    out = RESULTS / f"{stem}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tables:
            entry = results.setdefault(name, {})
            if not args.reference_only:
                extra = [*args.extra, *(["--n-jobs", str(args.n_jobs)] if args.n_jobs else [])]
                entry["benchmark"] = run_benchmark(name, tabdistill, extra, Path(tmp))
            if not args.no_reference:
                entry["reference"] = run_reference(name, args.n_jobs or 2)
            out.write_text(json.dumps(results, indent=2))
            (RESULTS / f"{stem}.md").write_text(markdown(results))
            print(markdown({name: entry}), flush=True)


if __name__ == "__main__":
    main()
