"""K-class LightGBM students: one softmax booster vs K one-vs-rest boosters, on soft labels.

The issue left the K-class LightGBM student open between two designs, both fit
on the teacher's class distributions (never their argmax):

* ``softmax``: one booster, K trees a round, the soft-label softmax
  cross-entropy as a custom objective (what ``LightGBMStudent`` does);
* ``ovr``: K boosters, booster k fit with LightGBM's ``cross_entropy`` on
  ``q_k`` (the teacher's probability of class k), the K probabilities
  rescaled to sum to 1.

Same rows, same soft labels (the teacher's out-of-fold distributions; no
synthetic rows, alpha 0), same tree shape (15 leaves, learning rate 0.1, up to
500 rounds, early stopping on the teacher's distributions of the validation
rows), same teacher (cached, as in ``benchmarks.suite``). Reported on the 25% test
rows: log loss, macro ROC-AUC, accuracy; trees; single-row p50 and batch
rows/s through the compiled runtime (the one-vs-rest trees are compiled into
one K-output table, timed with a softmax output: the same tree walk, and K
exponentials either way).

    python -m benchmarks.multiclass_students              # diamonds and wvs, seeds 0 1 2
    python -m benchmarks.multiclass_students --datasets wvs --seeds 0

Data: ``diamonds`` (ggplot2, MIT) and ``WVS`` (carData, GPL-2/3), see
``../shared/datasets/README.md``.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np

from tabdistill import DistilledClassifier, metrics
from tabdistill.data.target import encode_target
from tabdistill.distill.students import LightGBMStudent
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.evaluate.cost import batch_throughput, single_row_latency
from tabdistill_runtime.from_lightgbm import add_tree
from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.rules import OUT_SOFTMAX
from tabdistill_runtime.trees import TreeBuilder

from .common.cli import argument_parser, command
from .common.datasets import MULTICLASS, load_multiclass
from .common.results import write_results
from .suite import CACHE

SIZE = {"num_leaves": 15, "n_estimators": 500, "early_stopping_rounds": 30}


def _ovr_runtime(students, schema):
    """K binary boosters as one K-output tree table (tree of booster k adds to output k)."""
    builder = TreeBuilder()
    for k, student in enumerate(students):
        for tree in student.booster_.dump_model()["tree_info"]:
            builder.root(add_tree(builder, tree), k)
    meta = {"source": "lightgbm", "output": OUT_SOFTMAX, "base": 0.0, "n_outputs": len(students)}
    return CompiledModel("trees", builder.arrays(), schema, meta)


def run_one(name, seed, n_jobs):
    X, y = load_multiclass(name, seed)
    target = encode_target(y)
    X_tr, X_te, y_tr, y_te = stratified_split(X, target.y, 0.25, seed, target.classes)
    model = DistilledClassifier(
        teacher={"memory": str(CACHE)},
        augment_factors=(0,),
        alphas=(0.0,),
        losses=("cross_entropy",),
        student_params=[{"num_leaves": 15, "n_estimators": 20}],
        refit=False,
        random_state=seed,
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_tr, y_tr)
    enc, tr, va = model.encoder_, model.train_index_, model.validation_index_
    Z = enc.transform(X_tr)
    Z_te = enc.transform(X_te)
    q_tr = model.teacher_.oof_proba_
    q_va = model.teacher_.predict_proba_encoded(Z[va])
    common = dict(categorical_mask=enc.categorical_mask_, random_state=seed, n_jobs=n_jobs, **SIZE)
    out = {}
    clock = time.perf_counter()
    softmax = LightGBMStudent(**common).fit(Z[tr], q_tr, eval_set=(Z[va], q_va, None))
    fit_softmax = time.perf_counter() - clock
    clock = time.perf_counter()
    ovr = [
        LightGBMStudent(**common).fit(Z[tr], q_tr[:, k], eval_set=(Z[va], q_va[:, k], None))
        for k in range(q_tr.shape[1])
    ]
    fit_ovr = time.perf_counter() - clock
    runtimes = {"softmax": softmax.compile(enc.schema_), "ovr": _ovr_runtime(ovr, enc.schema_)}
    probas = {"softmax": softmax.predict(Z_te)}
    raw = np.column_stack([s.predict(Z_te) for s in ovr])
    probas["ovr"] = raw / raw.sum(axis=1, keepdims=True)
    fits = {"softmax": fit_softmax, "ovr": fit_ovr}
    rows = list(Z_te[:1_000])
    for kind in ("softmax", "ovr", "softmax", "ovr"):  # interleaved, the second pass kept
        runtime = runtimes[kind]
        one = single_row_latency(runtime.score_one, rows, n_calls=5_000)
        batch = batch_throughput(runtime.score_encoded, Z_te, min_rows=100_000)
        out[kind] = {
            "test_log_loss": metrics.log_loss(y_te, probas[kind]),
            "test_roc_auc": metrics.roc_auc(y_te, probas[kind]),
            "test_accuracy": metrics.accuracy(y_te, probas[kind]),
            "trees": runtime.n_trees,
            "fit_seconds": round(fits[kind], 2),
            "single_row_p50_us": one["p50_us"],
            "single_row_p99_us": one["p99_us"],
            "batch_rows_per_second": batch["rows_per_second"],
        }
    teacher_p = model.teacher_.predict_proba_encoded(Z_te)
    out["teacher"] = {
        "test_log_loss": metrics.log_loss(y_te, teacher_p),
        "test_roc_auc": metrics.roc_auc(y_te, teacher_p),
        "test_accuracy": metrics.accuracy(y_te, teacher_p),
    }
    return {"dataset": name, "seed": seed, "classes": len(target.classes), "results": out}


def markdown(runs, command):
    lines = [
        "| dataset | seed | student | test log loss | macro ROC-AUC | accuracy | trees | "
        "single-row p50 µs | batch rows/s | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        for kind in ("softmax", "ovr"):
            m = r["results"][kind]
            lines.append(
                f"| {r['dataset']} ({r['classes']} classes) | {r['seed']} | {kind} | "
                f"{m['test_log_loss']:.4f} | {m['test_roc_auc']:.4f} | {m['test_accuracy']:.4f} | "
                f"{m['trees']} | {m['single_row_p50_us']:.1f} | "
                f"{m['batch_rows_per_second']:,.0f} | {m['fit_seconds']:.0f} |"
            )
    wins = sum(
        r["results"]["softmax"]["test_log_loss"] <= r["results"]["ovr"]["test_log_loss"]
        for r in runs
    )
    speed = [
        r["results"]["ovr"]["single_row_p50_us"] / r["results"]["softmax"]["single_row_p50_us"]
        for r in runs
    ]
    lines += [
        "",
        f"softmax has the lower test log loss in {wins} of {len(runs)} runs; one-vs-rest "
        f"single-row p50 / softmax: median {np.median(speed):.2f}x.",
        "",
        f"`{command}` (timings on a shared 2-core machine: compare within a run).",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=["diamonds", "wvs"], choices=MULTICLASS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runs = []
    for name in args.datasets:
        for seed in args.seeds:
            runs.append(run_one(name, seed, args.n_jobs))
            s, o = runs[-1]["results"]["softmax"], runs[-1]["results"]["ovr"]
            print(
                f"{name} seed {seed}: log loss softmax {s['test_log_loss']:.4f} ovr "
                f"{o['test_log_loss']:.4f}; p50 {s['single_row_p50_us']:.1f} vs "
                f"{o['single_row_p50_us']:.1f} us",
                flush=True,
            )
    write_results("multiclass_students", runs, markdown(runs, command(__spec__.name)))


if __name__ == "__main__":
    main()
