"""The whole teacher compiled for the runtime: parity, latency and size next to Python's teacher.

For each dataset, fits the default ``TeacherEnsemble`` (``random_state=--seed``, members on
one thread) on a stratified 75% of the rows, compiles it (``teacher.compile()``, a runtime of
kind ``"blend"``) and, on the other 25%, in this one process:

* **parity**: the largest ``|runtime - teacher.predict_proba_encoded|`` over the held-out rows
  and the same rows with 10% of the cells of every column NaN and every categorical column's
  level unseen at fit in a tenth of the rows, scored each way the runtime offers:
  ``score_encoded``, ``score_one`` row by row, ``score_record`` record by record (up to
  ``--records``), ``score_batch`` on the raw columns; and how far the teacher moved when its
  XGBoost member started scoring through its float32 margins with the sigmoid/softmax in
  float64 (``xgboost_shift``: the teacher against the same teacher with XGBoost's own
  float32 ``predict_proba``);
* **single-row latency**: p50/p99 of the runtime's ``score_one`` (a 1-D encoded row) and
  ``score_record`` (a dict), and of the teacher's ``predict_proba_encoded`` on one row;
* **batch**: rows/s of ``score_encoded`` on one thread and on every CPU, and of the
  teacher's ``predict_proba_encoded``;
* **size**: the runtime file's bytes, trees and nodes (and whether ``CompiledModel.load``
  takes it at its default cap, ``max_bytes`` 64 MiB: about 1.4 M nodes), and the teacher
  saved with skops; compile and load seconds.

The load average is recorded before and after each dataset: the machines are shared, compare
ratios within a run.

    python -m benchmarks.teacher_runtime            # ~30 min on 2 busy cores
    python -m benchmarks.teacher_runtime --datasets bank_marketing wvs --calls 500

Writes ``results/teacher_runtime.{json,md}`` (``--tag`` appends to the name). Data: the shared
datasets folder (sources and licences in its ``README.md``).
"""

from __future__ import annotations

import os
import time

import numpy as np
from sklearn.model_selection import train_test_split

from tabdistill import TeacherEnsemble
from tabdistill.distill.members import member_proba, member_scores
from tabdistill.evaluate.cost import (
    batch_throughput,
    runtime_size,
    single_row_latency,
    skops_size,
)
from tabdistill_runtime import CompiledModel
from tabdistill_runtime.format import MAX_BYTES
from tabdistill_runtime.validation import BYTES_PER_NODE

from .common.cli import argument_parser, command
from .common.datasets import MULTICLASS, SUITE, load_multiclass, load_suite
from .common.measure import machine_load
from .common.results import size_text, stem, write_results

#: Small development sets, a larger one (credit_default, 30,000 rows), and two K-class sets.
DEFAULT = ["bank_marketing", "flight_delays", "hmda", "islr_default", "universal_bank"]
DEFAULT += ["credit_default", "wvs", "diamonds"]


def load(name, rows, seed):
    """``(X, y)`` of a suite or K-class dataset, subsampled to ``rows`` (stratified)."""
    X, y = load_multiclass(name, seed) if name in MULTICLASS else load_suite(name, seed, None, 0)
    if rows and len(X) > rows:
        keep, _ = train_test_split(
            np.arange(len(X)), train_size=rows, stratify=y, random_state=seed
        )
        X, y = X.iloc[np.sort(keep)].reset_index(drop=True), y.iloc[np.sort(keep)]
    return X, y.reset_index(drop=True)


def damaged(X, seed):
    """``X`` with 10% NaN in every column and unseen levels in a tenth of the categorical cells."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    for column in X.columns:
        cells = X[column]
        if cells.dtype.name == "category":
            X[column] = cells = cells.astype(object)
        unseen = rng.random(len(X)) < 0.1
        if cells.dtype == object:
            X.loc[unseen, column] = "level never seen at fit"
        X.loc[rng.random(len(X)) < 0.1, column] = np.nan
    return X


def _records(X) -> list[dict]:
    rows = X.astype(object).to_dict(orient="records")
    missing = lambda v: v is None or (isinstance(v, float) and v != v)  # noqa: E731
    return [{k: (None if missing(v) else v) for k, v in r.items()} for r in rows]


def parity(teacher, runtime, X, n_records) -> dict:
    """The largest difference to the teacher, each way the runtime scores (see the docstring)."""
    Z = teacher.encoder_.encode(X)
    expected = teacher.predict_proba_encoded(Z)
    out = {
        "encoded": runtime.score_encoded(Z),
        "one": np.array([runtime.score_one(z) for z in Z]),
        "batch": runtime.score_batch(X),
        "record": np.array([runtime.score_record(r) for r in _records(X.iloc[:n_records])]),
    }
    return {k: float(np.abs(v - expected[: len(v)]).max()) for k, v in out.items()}


class Float32Proba:
    """An XGBoost member seen through its own ``predict_proba`` (float32 probabilities), which
    the teacher used before scoring it through its margins."""

    def __init__(self, model):
        self.model = model

    def predict_proba(self, Z):
        return self.model.predict_proba(Z)


def xgboost_shift(teacher, Z) -> dict:
    """How far the teacher moved when its XGBoost member began scoring through its float32
    margins with the sigmoid/softmax in float64: the largest change of the member's
    probabilities and of the teacher's (its weight times the member's clipped scores')."""
    model = teacher.estimators_.get("xgboost")
    if model is None:
        return {"member": None, "teacher": None}
    k = len(teacher.classes_)
    member = np.abs(member_proba(model, Z) - model.predict_proba(Z)).max()
    scores = member_scores(model, Z, k) - member_scores(Float32Proba(model), Z, k)
    return {
        "member": float(member),
        "teacher": float(teacher.weights_["xgboost"] * np.abs(scores).max()),
    }


def timings(teacher, runtime, Z, X, calls) -> dict:
    """Single-row p50/p99 and batch rows/s of the runtime and the Python teacher."""
    rows = list(Z[: min(len(Z), 1_000)])
    records = _records(X.iloc[: len(rows)])
    teacher_calls = max(50, calls // 20)
    one = {
        "runtime_one": single_row_latency(runtime.score_one, rows, n_calls=calls, warmup=200),
        "runtime_record": single_row_latency(
            runtime.score_record, records, n_calls=calls, warmup=200
        ),
        "teacher_one": single_row_latency(
            lambda z: teacher.predict_proba_encoded(z[None, :]),
            rows,
            n_calls=teacher_calls,
            warmup=10,
        ),
    }
    threads = runtime.n_threads
    runtime.n_threads = 1
    batch = {"runtime_1_thread": batch_throughput(runtime.score_encoded, Z, min_rows=100_000)}
    runtime.n_threads = threads
    batch[f"runtime_{threads}_threads"] = batch_throughput(
        runtime.score_encoded, Z, min_rows=200_000
    )
    batch["teacher"] = batch_throughput(
        teacher.predict_proba_encoded, Z, min_rows=min(len(Z), 5_000), repeats=1
    )
    return {"single_row": one, "batch": batch}


def run_one(name, seed, rows, calls, n_records) -> dict:
    load_before = machine_load()
    X, y = load(name, rows, seed)
    train, test = train_test_split(np.arange(len(X)), test_size=0.25, stratify=y, random_state=seed)
    clock = time.perf_counter()
    teacher = TeacherEnsemble(random_state=seed, n_jobs=1).fit(X.iloc[train], y.iloc[train])
    fit_seconds = time.perf_counter() - clock  # members on one thread (n_jobs=1)
    clock = time.perf_counter()
    runtime = teacher.compile()
    compile_seconds = time.perf_counter() - clock
    blob = runtime.to_bytes()
    nodes = len(runtime.arrays["feature"])
    default_cap = nodes <= MAX_BYTES // BYTES_PER_NODE and len(blob) <= MAX_BYTES
    clock = time.perf_counter()
    CompiledModel.load(blob, max_bytes=max(MAX_BYTES, 2 * BYTES_PER_NODE * nodes))
    load_seconds = time.perf_counter() - clock
    X_test = X.iloc[test].reset_index(drop=True)
    Z_test = teacher.encoder_.encode(X_test)
    result = {
        "dataset": name,
        "classes": len(teacher.classes_),
        "rows": len(X),
        "train_rows": len(train),
        "test_rows": len(test),
        "weights": {k: round(v, 4) for k, v in teacher.weights_.items() if v > 0},
        "members": {k: type(v).__name__ for k, v in teacher.estimators_.items()},
        "trees": runtime.n_trees,
        "nodes": int(nodes),
        "loads_within_default_cap": bool(default_cap),
        "file_bytes": runtime_size(runtime),
        "skops_bytes": skops_size(teacher),
        "fit_seconds": round(fit_seconds, 1),
        "compile_seconds": round(compile_seconds, 2),
        "load_seconds": round(load_seconds, 3),
        "parity": {
            "held_out": parity(teacher, runtime, X_test, n_records),
            "nan_and_unseen": parity(teacher, runtime, damaged(X_test, seed), n_records),
        },
        "xgboost_shift": xgboost_shift(teacher, Z_test),
        **timings(teacher, runtime, Z_test, X_test, calls),
    }
    result["max_abs_diff"] = max(max(p.values()) for p in result["parity"].values())
    result["load_average"] = {"before": load_before, "after": machine_load()}
    return result


def markdown(result) -> str:
    lines = [
        "| dataset | classes | train rows | members (weight) | trees / nodes | file | max abs diff "
        "| runtime p50 / p99 µs | record p50 / p99 µs | teacher p50 / p99 µs | p50 speed-up "
        "| batch rows/s runtime 1 thread / teacher | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["datasets"]:
        one, batch = r["single_row"], r["batch"]
        weights = ", ".join(f"{k} {v:.2f}" for k, v in r["weights"].items())
        speedup = one["teacher_one"]["p50_us"] / one["runtime_one"]["p50_us"]
        lines.append(
            f"| {r['dataset']} | {r['classes']} | {r['train_rows']:,} | {weights} | "
            f"{r['trees']:,} / {r['nodes']:,} | {size_text(r['file_bytes'])} | "
            f"{r['max_abs_diff']:.1e} | "
            f"{one['runtime_one']['p50_us']:.1f} / {one['runtime_one']['p99_us']:.1f} | "
            f"{one['runtime_record']['p50_us']:.1f} / {one['runtime_record']['p99_us']:.1f} | "
            f"{one['teacher_one']['p50_us']:,.0f} / {one['teacher_one']['p99_us']:,.0f} | "
            f"{speedup:,.0f}x | {batch['runtime_1_thread']['rows_per_second']:,.0f} / "
            f"{batch['teacher']['rows_per_second']:,.0f} | "
            f"{r['load_average']['before']} - {r['load_average']['after']} |"
        )
    shifts = [
        f"{r['dataset']} {r['xgboost_shift']['teacher']:.1e}"
        for r in result["datasets"]
        if r["xgboost_shift"]["teacher"] is not None
    ]
    lines += [
        "",
        "Max abs diff: the compiled teacher against `predict_proba_encoded` on the held-out rows "
        "and on the same rows with NaN and unseen levels, scored by `score_encoded`, "
        "`score_one`, `score_record` and `score_batch`. The teacher's own move when its XGBoost "
        "member began scoring through float32 margins with a float64 sigmoid/softmax (was "
        f"XGBoost's float32 `predict_proba`): {', '.join(shifts) or 'no XGBoost member'}.",
        "",
        f"`{result['command']}`; {os.cpu_count()} CPUs, load averages before - after each "
        "dataset (a shared machine: compare within a run).",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=DEFAULT, choices=[*SUITE, *MULTICLASS])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rows", type=int, default=20_000, help="tables above this are subsampled (stratified)"
    )
    parser.add_argument("--calls", type=int, default=3_000, help="timed single-row calls")
    parser.add_argument("--records", type=int, default=1_000, help="records scored for parity")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    result = {"command": command(__spec__.name), "seed": args.seed, "datasets": []}
    for name in args.datasets:
        result["datasets"].append(run_one(name, args.seed, args.rows, args.calls, args.records))
        r = result["datasets"][-1]
        print(
            f"{name}: max abs diff {r['max_abs_diff']:.1e}, runtime p50 "
            f"{r['single_row']['runtime_one']['p50_us']:.1f} us, teacher p50 "
            f"{r['single_row']['teacher_one']['p50_us']:,.0f} us, file "
            f"{size_text(r['file_bytes'])}",
            flush=True,
        )
        write_results(stem("teacher_runtime", args.tag), result, markdown(result), echo=False)
    print(markdown(result))


if __name__ == "__main__":
    main()
