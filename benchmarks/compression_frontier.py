"""The compression frontier on the development suite: size, latency, throughput, ROC-AUC per level.

For every binary dataset of the development suite (``benchmarks.suite``: the eight
binary CSVs of the shared folder, flights_nyc subsampled to 40,000 rows, and the
synthetic fraud set) and seeds 0, 1, 2, fits the default DistilledClassifier
with ``compress=True`` on 75% of the rows (stratified, as ``benchmarks.run_all``), and
measures every compression level on the 25% test rows: runtime file size,
single-row p50/p99 (``score_one``), batch rows/s (``score_encoded``) and ROC-AUC.
"Today's default student" is the exact student saved in runtime format 1 (the
format before compression existed), rebuilt here from the same arrays.

Each run is saved as it ends (``benchmarks/results/compression/<dataset>_seed<k>.json``,
seed 0 of every dataset first); ``compression.json`` and ``compression.md``
summarise the runs present. The HTML report reads the JSON to plot the
frontier. Run from the repository root:

    python -m benchmarks.compression_frontier
    python -m benchmarks.compression_frontier --datasets fraud_synthetic --seeds 0
    python -m benchmarks.compression_frontier --summarize-only

With ``--keep-files DIR`` every level's runtime file is kept; ``--resave DIR``
later re-saves those files in the current runtime format, updates each level's
size and chooses again by the distiller's rule (same models, same ROC-AUCs:
only the file format changed), without refitting.
"""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from sklearn.model_selection import train_test_split

from tabdistill import DistilledClassifier, metrics
from tabdistill.compress.frontier import choose
from tabdistill.data.target import encode_target
from tabdistill.evaluate.cost import batch_throughput, single_row_latency
from tabdistill.runtime import CompiledModel

from .common.cli import argument_parser
from .common.datasets import SUITE_NAMES, load_suite
from .common.results import RESULTS, write_results

#: The suite's datasets, the quickest to fit first.
QUICK_FIRST = ["hmda", "flight_delays", "universal_bank", "bank_marketing", "islr_default"]
DATASETS = QUICK_FIRST + [d for d in SUITE_NAMES if d not in QUICK_FIRST]


def version1_size(runtime) -> int:
    """Bytes of ``runtime`` saved in runtime format 1 (uncompressed npz, 24 bytes a node)."""
    a = runtime.arrays
    leaf = a["feature"] < 0
    n = len(leaf)

    def child(c):
        return np.where(leaf[c], ~c, c)

    left = np.where(leaf, -1, child(np.minimum(np.arange(n) + 1, n - 1)))
    right = np.where(leaf, -1, child(np.maximum(a["right"], 0)))
    ints = np.column_stack([a["feature"], left, right, a["flags"]]).astype(np.int32)
    header = {
        "format": "tabdistill-runtime",
        "version": 1,
        "kind": "trees",
        "meta": {**runtime.meta, "n_trees": runtime.n_trees},
        "schema": runtime.schema.to_dict(),
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        __header__=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        ints=ints,
        values=a["value"],
        cat_bounds=a["cat_bounds"],
        cat_bits=a["cat_bits"],
        roots=np.where(leaf[a["roots"]], ~a["roots"], a["roots"]).astype(np.int32),
    )
    return buffer.getbuffer().nbytes


def run_one(name, seed, fraud_rows, n_jobs, calls, keep=None):
    X, y_raw = load_suite(name, seed, 40_000, fraud_rows)
    y = encode_target(y_raw).y
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    start = time.perf_counter()
    model = DistilledClassifier(random_state=seed, n_jobs=n_jobs, compress=True).fit(X_tr, y_tr)
    fit_seconds = time.perf_counter() - start
    Z = model.encoder_.transform(X_te)
    rows = list(Z[:1_000])
    levels = []
    for summary in model.compression_["levels"]:
        runtime = CompiledModel.load(model.compressed_levels_[summary["name"]])
        lat = single_row_latency(runtime.score_one, rows, n_calls=calls)
        thr = batch_throughput(runtime.score_encoded, Z, min_rows=200_000)
        levels.append(
            {
                **summary,
                "test_roc_auc": float(metrics.roc_auc(y_te, runtime.score_encoded(Z))),
                "single_row_p50_us": lat["p50_us"],
                "single_row_p99_us": lat["p99_us"],
                "batch_rows_per_second": thr["rows_per_second"],
            }
        )
    if keep is not None:  # the level files, to re-save them in a later runtime format
        folder = keep / f"{name}_seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, blob in enumerate(model.compressed_levels_.values()):
            (folder / f"level{i:02d}.npz").write_bytes(blob)
    exact = CompiledModel.load(model.compressed_levels_["exact"])
    return {
        "dataset": name,
        "seed": seed,
        "fit_seconds": round(fit_seconds, 1),
        "chosen": model.compression_["chosen"],
        "tolerance": model.compression_["tolerance"],
        "version1_bytes": version1_size(exact),
        "levels": levels,
    }


def resave(run, kept: Path) -> dict:
    """``run`` with each level's size in the current runtime format, and the level chosen again."""
    folder = kept / f"{run['dataset']}_seed{run['seed']}"
    for i, lv in enumerate(run["levels"]):
        runtime = CompiledModel.load(folder / f"level{i:02d}.npz")
        assert runtime.n_trees == lv["n_trees"], (folder, i)
        lv["size_bytes"] = len(runtime.to_bytes())
    levels = [
        SimpleNamespace(
            name=lv["name"],
            size_bytes=lv["size_bytes"],
            roc_auc=lv["validation_roc_auc"],
            teacher_roc_auc=lv["validation_teacher_roc_auc"],
        )
        for lv in run["levels"]
    ]
    return {**run, "chosen": choose(levels, run["tolerance"]).name}


def summarize(runs) -> dict:
    """Per dataset and level: means over seeds; per run: the chosen level against the exact one."""
    table = {}
    for run in runs:
        exact = run["levels"][0]
        for lv in run["levels"]:
            row = table.setdefault(run["dataset"], {}).setdefault(lv["name"], [])
            row.append(
                {
                    "size_bytes": lv["size_bytes"],
                    "n_trees": lv["n_trees"],
                    "test_roc_auc": lv["test_roc_auc"],
                    "auc_loss": exact["test_roc_auc"] - lv["test_roc_auc"],
                    "p50": lv["single_row_p50_us"],
                    "p99": lv["single_row_p99_us"],
                    "rows_per_second": lv["batch_rows_per_second"],
                    "chosen": lv["name"] == run["chosen"],
                    "vs_v1": run["version1_bytes"] / lv["size_bytes"],
                }
            )
    means = {
        ds: {
            name: {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "chosen"}
            | {"times_chosen": sum(r["chosen"] for r in rows), "runs": len(rows)}
            for name, rows in levels.items()
        }
        for ds, levels in table.items()
    }
    chosen = [
        {
            "dataset": run["dataset"],
            "seed": run["seed"],
            "chosen": run["chosen"],
            "size_bytes": lv["size_bytes"],
            "version1_bytes": run["version1_bytes"],
            "exact_bytes": run["levels"][0]["size_bytes"],
            "test_auc_loss": run["levels"][0]["test_roc_auc"] - lv["test_roc_auc"],
        }
        for run in runs
        for lv in run["levels"]
        if lv["name"] == run["chosen"]
    ]
    return {"by_level": means, "chosen": chosen}


def markdown(summary) -> str:
    lines = []
    for ds, levels in summary["by_level"].items():
        lines += [
            f"**{ds}** (mean of {next(iter(levels.values()))['runs']} seeds)",
            "",
            "| level | trees | size | × smaller than v1 | p50 µs | p99 µs | rows/s | test ROC-AUC "
            "| loss vs exact | chosen |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, m in levels.items():
            lines.append(
                f"| {name} | {m['n_trees']:.0f} | {m['size_bytes'] / 1024:.1f} KB | "
                f"{m['vs_v1']:.1f}× | {m['p50']:.2f} | {m['p99']:.2f} | "
                f"{m['rows_per_second']:,.0f} | {m['test_roc_auc']:.4f} | "
                f"{m['auc_loss']:+.4f} | {m['times_chosen']}/{m['runs']} |"
            )
        lines.append("")
    ch = summary["chosen"]
    lines += [
        "Sizes are runtime files (`CompiledModel.save`); p50/p99 single-row and rows/s batch "
        "timings were taken on a shared 2-core machine under load: compare them within a row "
        "of levels, not across runs.",
        "",
    ]
    lines += [
        "Chosen level per dataset, worst case over seeds (smallest size ratio, largest test "
        "ROC-AUC loss against the exact student):",
        "",
        "| dataset | seeds | chosen levels | × smaller than v1, worst | × smaller than exact, "
        "worst | test ROC-AUC loss, worst |",
        "|---|---|---|---|---|---|",
    ]
    for ds in summary["by_level"]:
        mine = [c for c in ch if c["dataset"] == ds]
        names = sorted({c["chosen"] for c in mine})
        lines.append(
            f"| {ds} | {len(mine)} | {', '.join(names)} | "
            f"{min(c['version1_bytes'] / c['size_bytes'] for c in mine):.1f}× | "
            f"{min(c['exact_bytes'] / c['size_bytes'] for c in mine):.1f}× | "
            f"{max(c['test_auc_loss'] for c in mine):+.4f} |"
        )
    lines.append("")
    ratio_v1 = [c["version1_bytes"] / c["size_bytes"] for c in ch]
    ratio_exact = [c["exact_bytes"] / c["size_bytes"] for c in ch]
    loss = [c["test_auc_loss"] for c in ch]
    lines += [
        f"Chosen level (validation ROC-AUC within 0.001 of exact), over {len(ch)} runs: "
        f"{np.mean(ratio_v1):.1f}× smaller than the format-1 default student on average "
        f"(min {np.min(ratio_v1):.1f}×), {np.mean(ratio_exact):.1f}× smaller than the exact "
        f"student's file (min {np.min(ratio_exact):.1f}×); test ROC-AUC loss mean "
        f"{np.mean(loss):+.4f}, worst {np.max(loss):+.4f}.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--fraud-rows", type=int, default=100_000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--calls", type=int, default=3_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--summarize-only", action="store_true")
    parser.add_argument(
        "--keep-files", type=Path, help="folder to keep every level's runtime file in"
    )
    parser.add_argument(
        "--resave", type=Path, help="re-save the level files kept in this folder, then summarise"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    folder = args.out / "compression"
    folder.mkdir(parents=True, exist_ok=True)
    if args.resave is not None:
        for path in sorted(folder.glob("*_seed*.json")):
            path.write_text(json.dumps(resave(json.loads(path.read_text()), args.resave), indent=2))
    elif not args.summarize_only:
        for seed in args.seeds:
            for name in args.datasets:
                run = run_one(name, seed, args.fraud_rows, args.n_jobs, args.calls, args.keep_files)
                (folder / f"{name}_seed{seed}.json").write_text(json.dumps(run, indent=2))
                print(
                    f"{name} seed {seed}: chosen {run['chosen']} ({run['fit_seconds']:.0f} s fit)",
                    flush=True,
                )
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("*_seed*.json"))]
    runs.sort(key=lambda r: (DATASETS.index(r["dataset"]), r["seed"]))
    summary = summarize(runs)
    write_results("compression", {"runs": runs, "summary": summary}, markdown(summary), args.out)


if __name__ == "__main__":
    main()
