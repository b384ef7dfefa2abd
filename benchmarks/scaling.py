"""How the cost of a default fit grows with rows: one process and a LocalCluster.

For each table -- the synthetic fraud generator at 100k, 300k, 1M and 3M rows with
100 feature columns (3.5% positives, ``make_fraud(n_features=100)``), and
``flights_nyc`` at full size (336,776 rows; ``../shared/datasets``, from the R package
nycflights13, CC0) -- and each mode:

* ``single``: ``tabdistill benchmark FILE --target T --json OUT`` with default settings;
* ``local``: the same with ``--dask-scheduler local``: the teacher's fold fits, refits
  and the labelling of synthetic rows run on a ``LocalCluster`` (one worker process
  with a thread per core), the rest in the client process (see ``tabdistill.ops.dask_fit``);

it runs the command in a fresh process and records wall seconds, the peak RSS of the
whole process tree (the client plus its Dask workers, sampled every 0.5 s), the fit's
seconds per stage, and teacher / student / baseline test ROC-AUC (25% stratified test
split, seed 0). The same fits with the same seeds run in both modes, so their AUCs
must agree (the script reports the largest difference).

Writes ``results/scaling[_TAG].json``, ``.md`` and ``.png`` (fit seconds and peak
RSS against training rows, log-log). Entries of earlier runs are kept, so sizes can
be run one at a time on a shared machine::

    python -m benchmarks.scaling --tables fraud_100k fraud_300k flights_nyc --n-jobs 1
    python -m benchmarks.scaling --tables fraud_1m fraud_3m --modes local   # the big ones

Synthetic tables are written once to ``$TABDISTILL_LARGE_DATA`` (see
``benchmarks.common.datasets``); the peak memory needs psutil (``pip install psutil``).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from .common.cli import argument_parser
from .common.datasets import SHARED, synthetic_file
from .common.measure import run_cli_benchmark
from .common.results import RESULTS, stem, write_results

STAGES = ("prepare", "teacher", "augment", "label", "baseline", "student", "refit")
WIDTH, FRAUD_RATE = 100, 0.035
#: name -> rows of a synthetic table, or (file, target) of a real one.
TABLES = {
    "fraud_100k": 100_000,
    "fraud_300k": 300_000,
    "fraud_1m": 1_000_000,
    "fraud_3m": 3_000_000,
    "flights_nyc": (SHARED / "flights_nyc.csv.gz", "late"),
}
MODES = {"single": [], "local": ["--dask-scheduler", "local"]}


def table_file(name: str) -> tuple[Path, str]:
    spec = TABLES[name]
    if isinstance(spec, tuple):
        return spec
    return synthetic_file(spec, WIDTH, FRAUD_RATE), "is_fraud"


def run_one(name, mode, extra, workdir: Path) -> dict:
    path, target = table_file(name)
    out = workdir / f"{name}-{mode}.json"
    cmd = [sys.executable, "-m", "tabdistill", "benchmark", str(path), "--target", target]
    cmd += ["--json", str(out), "--bootstrap", "0", *MODES[mode], *extra]
    print(f"{name} / {mode}: {' '.join(cmd[2:])}", flush=True)
    run = run_cli_benchmark(cmd, out, workdir / f"{name}-{mode}.log", tree=True)
    rows = run.pop("summary")["distillation"]["rows"]
    return {
        **run,
        "command": " ".join(["tabdistill", *cmd[3:]]),
        "train_rows": rows["train"] + rows["validation"],
    }


def markdown(results: dict) -> str:
    head = (
        "| table | mode | rows × features | train rows | wall s | peak RSS GiB (tree) | "
        + " | ".join(STAGES)
        + " | fit s | teacher | student | baseline | load |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, modes in results.items():
        for mode, r in modes.items():
            fit, auc = r["fit_seconds"], r["roc_auc"]
            lines.append(
                f"| {name} | {mode} | {r['rows']:,} × {r['features']} | {r['train_rows']:,} | "
                f"{r['wall_seconds']:,.0f} | {r['peak_rss_gib']} | "
                + " | ".join(f"{fit.get(s, 0):,.0f}" for s in STAGES)
                + f" | {fit['total']:,.0f} | {auc['teacher']:.4f} | {auc['student']:.4f} | "
                f"{auc['baseline']:.4f} | {r['load_before']}–{r['load_after']} |"
            )
    notes = []
    for name, modes in results.items():
        if {"single", "local"} <= set(modes):
            a, b = modes["single"]["roc_auc"], modes["local"]["roc_auc"]
            diff = max(abs(a[m] - b[m]) for m in a)
            ratio = modes["local"]["fit_seconds"]["total"] / modes["single"]["fit_seconds"]["total"]
            notes.append(
                f"- {name}: largest test ROC-AUC difference local − single {diff:.2g}; "
                f"fit time local / single {ratio:.2f}"
            )
    return "\n".join(lines + [""] + notes) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, marker in (("single", "o"), ("local", "s")):
        points = sorted(
            (r[mode]["train_rows"], r[mode]["fit_seconds"]["total"], r[mode]["peak_rss_gib"])
            for n, r in results.items()
            if n.startswith("fraud_") and mode in r
        )
        if points:
            rows, secs, rss = zip(*points)
            ax_t.plot(rows, secs, marker=marker, label=f"fraud × {WIDTH}, {mode}")
            ax_m.plot(rows, rss, marker=marker, label=f"fraud × {WIDTH}, {mode}")
        flights = results.get("flights_nyc", {}).get(mode)
        if flights:
            kw = dict(marker=marker, linestyle="none", color="k", alpha=0.6)
            ax_t.plot(flights["train_rows"], flights["fit_seconds"]["total"], **kw)
            ax_m.plot(flights["train_rows"], flights["peak_rss_gib"], **kw)
    for ax, label in ((ax_t, "fit seconds"), (ax_m, "peak RSS, GiB (process tree)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.set_xlabel("training rows (train + validation)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=8)
    ax_t.set_title("default fit, 2 cores (black: flights_nyc)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--tag", default="", help="suffix of the results files")
    parser.add_argument(
        "--n-jobs", type=int, help="the benchmark's --n-jobs (1 on a loaded machine)"
    )
    parser.add_argument("--report-only", action="store_true", help="redo .md and .png only")
    parser.add_argument("extra", nargs="*", help="more benchmark options, after --")
    args = parser.parse_args()
    name = stem("scaling", args.tag)
    out = RESULTS / f"{name}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    if args.report_only:
        (RESULTS / f"{name}.md").write_text(markdown(results))
        plot(results, RESULTS / f"{name}.png")
        return
    extra = [*args.extra, *(["--n-jobs", str(args.n_jobs)] if args.n_jobs else [])]
    with tempfile.TemporaryDirectory() as tmp:
        for table in args.tables:
            for mode in args.modes:
                entry = run_one(table, mode, extra, Path(tmp))
                results.setdefault(table, {})[mode] = entry
                write_results(name, results, markdown(results), echo=False)
                plot(results, RESULTS / f"{name}.png")
                print(markdown({table: results[table]}), flush=True)


if __name__ == "__main__":
    main()
