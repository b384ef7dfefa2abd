"""What reason codes cost: single-row and batch scoring with and without ``reasons=k``.

Fits students of several kinds and shapes on the synthetic fraud set (fixed rounds, hard
labels: the shape sets the cost, not the accuracy) and, for each, in one process:

* ``score_record`` (a dict, as a scoring API receives it) with and without ``reasons=3``,
  p50 and p99 over interleaved rounds, so that the machine's load weighs on both alike;
  the ratio of the p50s is the cost of reasons;
* the same on encoded rows (``score_one``, and ``score_one`` plus the reasons);
* batch throughput of ``score_encoded`` with and without ``reasons=3`` (one thread);
* LightGBM's own ``pred_contrib`` on one row and on the batch, side by side, and the largest
  difference between its contributions and the runtime's (LightGBM students);
* for every student, how far contributions plus expected value are from the raw score.

``--distilled`` adds the default DistilledClassifier's own student (slower: fits a teacher).
Writes ``results/reasons.json`` and ``reasons.md`` with the load average before and after
(the machine is shared: rerun on a quiet one). Run from the repository root::

    python -m benchmarks.reasons
    python -m benchmarks.reasons --distilled --rounds 7 --calls 3000
"""

from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np

from tabdistill.data.datasets import make_fraud
from tabdistill.data.encoder import TabularEncoder
from tabdistill.data.io import split_target
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.evaluate.cost import single_row_latency

from .common.cli import argument_parser, command
from .common.measure import load_averages
from .common.results import stem, write_results

K = 3
STUDENTS = {
    "lightgbm 49 trees depth 3": (
        "lightgbm",
        {"n_estimators": 49, "num_leaves": 8, "max_depth": 3},
    ),
    "lightgbm default (100 trees, 15 leaves)": ("lightgbm", {}),
    "lightgbm 100 trees, 31 leaves": ("lightgbm", {"num_leaves": 31}),
    "lightgbm 300 trees depth 4": (
        "lightgbm",
        {"n_estimators": 300, "num_leaves": 16, "max_depth": 4},
    ),
    "tree (depth 8)": ("tree", {}),
    "linear": ("linear", {}),
    "lightgbm 3 classes (30 x 3 trees, 15 leaves)": ("lightgbm", {"n_estimators": 30}),
}


def paired_latency(plain, with_reasons, rows, rounds, calls) -> dict:
    """p50/p99 of two single-row scorers, measured in alternating rounds; medians over rounds."""
    runs = {"plain": [], "reasons": []}
    for _ in range(rounds):
        for key, score in (("plain", plain), ("reasons", with_reasons)):
            runs[key].append(single_row_latency(score, rows, n_calls=calls, warmup=calls // 10))
    out = {}
    for key, results in runs.items():
        for stat in ("p50_us", "p99_us"):
            out[f"{key}_{stat}"] = statistics.median(r[stat] for r in results)
    out["ratio_p50"] = out["reasons_p50_us"] / out["plain_p50_us"]
    return out


def rows_per_second(score, Z, repeats=3) -> float:
    best = []
    for _ in range(repeats):
        start = time.perf_counter()
        score(Z)
        best.append(time.perf_counter() - start)
    return len(Z) / statistics.median(best)


def lightgbm_side(student, Z, rows, ours, calls) -> dict:
    """LightGBM's pred_contrib beside the runtime: one row, a batch, and the largest difference."""
    booster = student.booster_
    expected = booster.predict(Z, pred_contrib=True, num_threads=1)
    diff = np.abs(ours.reshape(expected.shape) - expected)
    if getattr(student, "init_", None) is not None:  # soft-label K classes: the runtime's
        base = np.arange(expected.shape[1]) % (Z.shape[1] + 1) == Z.shape[1]  # expected values
        diff[:, base] = 0.0  # hold the init scores LightGBM does not store
    one = single_row_latency(
        lambda z: booster.predict(z[None, :], pred_contrib=True, num_threads=1),
        rows,
        n_calls=max(calls // 10, 100),
        warmup=20,
    )
    return {
        "lightgbm_pred_contrib_p50_us": one["p50_us"],
        "lightgbm_pred_contrib_rows_per_s": rows_per_second(
            lambda b: booster.predict(b, pred_contrib=True, num_threads=1), Z, repeats=1
        ),
        "max_abs_diff_vs_lightgbm": float(diff.max()),
    }


def raw_scores(runtime, Z) -> np.ndarray:
    if runtime.kind == "trees":
        a = runtime.arrays
        leaves = a["value"][runtime.apply(Z)]
        raw = np.zeros((len(Z), runtime.n_outputs)) + runtime.meta["base"]
        for t, out in enumerate(a["tree_output"]):
            raw[:, out] += leaves[:, t]
        return raw
    c = runtime.contributions_encoded(Z)  # the linear score is its terms by definition
    return c.sum(axis=-1).reshape(len(Z), -1)


def measure(name, runtime, student, X_test, Z_test, args) -> dict:
    records = X_test.head(1_000).to_dict(orient="records")
    rows = [np.ascontiguousarray(z) for z in Z_test[:1_000]]
    explainer = runtime.explainer  # built before timing (once per model)
    output = 0

    def encoded_with_reasons(z):
        score = runtime.score_one(z)
        o = output if runtime.n_outputs == 1 else int(np.argmax(score))
        return score, explainer.reasons(z, K, o)

    result = {"student": name, "kind": runtime.kind, "n_trees": runtime.n_trees}
    if runtime.kind == "trees":
        result["n_leaves"] = int((runtime.arrays["feature"] < 0).sum())
        result["tabulated_blocks"] = explainer.n_tabulated
        result["leaf_tables"] = explainer.n_leaf_tables
        result["table_bytes"] = explainer.table_bytes
    result["record"] = paired_latency(
        runtime.score_record,
        lambda r: runtime.score_record(r, reasons=K),
        records,
        args.rounds,
        args.calls,
    )
    result["encoded"] = paired_latency(
        runtime.score_one, encoded_with_reasons, rows, args.rounds, args.calls
    )
    Z = np.ascontiguousarray(Z_test[: args.batch])
    result["batch_rows_per_s"] = rows_per_second(runtime.score_encoded, Z)
    result["batch_reasons_rows_per_s"] = rows_per_second(
        lambda b: runtime.score_encoded(b, reasons=K), Z
    )
    contrib = runtime.contributions_encoded(Z)
    sums = contrib.sum(axis=-1).reshape(len(Z), -1)
    result["max_abs_sum_minus_raw"] = float(np.abs(sums - raw_scores(runtime, Z)).max())
    if hasattr(student, "booster_"):
        result.update(lightgbm_side(student, Z, rows, contrib, args.calls))
    return result


def fit_students(args):
    X, y = split_target(make_fraud(args.rows, fraud_rate=0.05, random_state=0), "is_fraud")
    X_test, _ = split_target(make_fraud(max(args.batch, 1_000), random_state=1), "is_fraud")
    enc = TabularEncoder().fit(X)
    Z, Z_test = enc.transform(X), enc.transform(X_test)
    target = y.to_numpy().astype(float)
    amount = np.nan_to_num(Z[:, list(enc.schema_.features).index("amount")])
    band = np.digitize(amount, np.quantile(amount, [1 / 3, 2 / 3]))
    classes = 0.8 * np.eye(3)[band] + 0.2 * np.column_stack([target, 1 - target, 0 * target])
    for name, (kind, params) in STUDENTS.items():
        student = make_student(kind, params, categorical_mask=enc.categorical_mask_, random_state=0)
        student.fit(Z, classes if "classes" in name else target)
        yield name, compile_student(student, enc.schema_), student, X_test, Z_test
    if args.distilled:
        from tabdistill import DistilledClassifier

        model = DistilledClassifier(random_state=0).fit(X, y)
        if model.runtime_ is not None:
            yield "DistilledClassifier default student", model.runtime_, None, X_test, Z_test


def markdown(report) -> str:
    lines = [
        "| student | trees | record p50 µs | + reasons p50 µs | ratio | record p99 µs | "
        "+ reasons p99 µs | encoded p50 µs | + reasons p50 µs | ratio | batch rows/s | "
        "+ reasons rows/s | LightGBM pred_contrib p50 µs | max diff vs LightGBM | "
        "max sum - raw | tables MB |",
        "|---" * 16 + "|",
    ]
    for r in report["students"]:
        rec, enc = r["record"], r["encoded"]
        lgb = r.get("lightgbm_pred_contrib_p50_us")
        diff = r.get("max_abs_diff_vs_lightgbm")
        lines.append(
            f"| {r['student']} | {r['n_trees']} | {rec['plain_p50_us']:.1f} | "
            f"{rec['reasons_p50_us']:.1f} | **{rec['ratio_p50']:.1f}×** | "
            f"{rec['plain_p99_us']:.1f} | {rec['reasons_p99_us']:.1f} | "
            f"{enc['plain_p50_us']:.1f} | {enc['reasons_p50_us']:.1f} | {enc['ratio_p50']:.1f}× | "
            f"{r['batch_rows_per_s']:,.0f} | {r['batch_reasons_rows_per_s']:,.0f} | "
            f"{'–' if lgb is None else f'{lgb:.1f}'} | "
            f"{'–' if diff is None else f'{diff:.1e}'} | {r['max_abs_sum_minus_raw']:.1e} | "
            f"{r.get('table_bytes', 0) / 2**20:.2f} |"
        )
    lines += [
        "",
        f"reasons={K}; p50/p99 are medians over {report['rounds']} interleaved rounds of "
        f"{report['calls']} single-row calls; batch of {report['batch']:,} encoded rows, one "
        f"thread. Load average {report['load_before']} before, {report['load_after']} after; "
        f"{report['cpus']} CPUs. Tables: the explainer's tables of blocks and leaves, built when "
        "it is first used. Command: "
        f"`{report['command']}`.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", type=int, default=30_000, help="training rows")
    parser.add_argument("--batch", type=int, default=10_000, help="rows of the batch timings")
    parser.add_argument("--calls", type=int, default=2_000, help="single-row calls a round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--distilled", action="store_true")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args()
    report = {
        "command": command(__spec__.name),
        "load_before": load_averages(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "rounds": args.rounds,
        "calls": args.calls,
        "batch": args.batch,
        "students": [],
    }
    for name, runtime, student, X_test, Z_test in fit_students(args):
        result = measure(name, runtime, student, X_test, Z_test, args)
        report["students"].append(result)
        print(f"{name}: record p50 ratio {result['record']['ratio_p50']:.2f}", flush=True)
    report["load_after"] = load_averages()
    write_results(stem("reasons", args.tag), report, markdown(report))


if __name__ == "__main__":
    main()
