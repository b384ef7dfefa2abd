"""Peer benchmark: AutoGluon's TabularPredictor + distill() on the suite's own splits.

AutoGluon is never a dependency of tabdistill: run this script with the Python
of a separate virtual environment that has AutoGluon and tabdistill installed::

    python3 -m venv /work/venvs/autogluon
    /work/venvs/autogluon/bin/pip install "autogluon.tabular[lightgbm,xgboost]" -e .
    /work/venvs/autogluon/bin/python -m benchmarks.peers --seeds 0

For each dataset and seed of :mod:`benchmarks.suite` (same files, same
flights_nyc subsample, same 25% stratified test split) it fits a
``TabularPredictor`` restricted to our member families (LightGBM, XGBoost,
random forest, extra trees, logistic regression), 5-fold bagged, weighted
ensemble on top, then ``distill()`` into a LightGBM student, and writes each
one's test ROC-AUC and the student's single-row latency
(``predict_proba`` on a one-row DataFrame) to ``results/peers.{json,md}``, next
to tabdistill's teacher and student from ``results/suite.json`` for the same
runs. Each AutoGluon fit gets a time limit (``--time-limit``).
"""

from __future__ import annotations

import json
import tempfile
import time

from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from tabdistill.data.target import encode_target
from tabdistill.evaluate.cost import single_row_latency

from .common.cli import argument_parser
from .common.datasets import SUITE_NAMES, load_suite
from .common.results import RESULTS, stem

LABEL = "__target__"
#: The teacher's member families, in AutoGluon's names.
FAMILIES = {"GBM": {}, "XGB": {}, "RF": {}, "XT": {}, "LR": {}}


def _latency_us(predictor, model, rows, calls=200):
    """p50 and p99 microseconds of ``predict_proba`` on a one-row DataFrame, after warm-up."""
    one_row_frames = [rows.iloc[[i]] for i in range(min(calls, len(rows)))]
    lat = single_row_latency(
        lambda row: predictor.predict_proba(row, model=model),
        one_row_frames,
        n_calls=calls,
        warmup=10,
    )
    return lat["p50_us"], lat["p99_us"]


def run_one(name, seed, args) -> dict:
    from autogluon.tabular import TabularPredictor

    X, y_raw = load_suite(name, seed, args.nyc_rows, args.fraud_rows)
    y01 = encode_target(y_raw).y
    # the same call as tabdistill.evaluate.benchmark.stratified_split
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y01, test_size=0.25, stratify=y01, random_state=seed
    )
    train = X_tr.assign(**{LABEL: y_tr})
    with tempfile.TemporaryDirectory() as path:
        start = time.perf_counter()
        predictor = TabularPredictor(
            label=LABEL, eval_metric="roc_auc", path=path, verbosity=0
        ).fit(
            train,
            hyperparameters=FAMILIES,
            time_limit=args.time_limit,
            num_bag_folds=5,
            num_stack_levels=0,
        )
        fit_seconds = time.perf_counter() - start
        teacher = roc_auc_score(y_te, predictor.predict_proba(X_te)[1])
        start = time.perf_counter()
        students = predictor.distill(
            time_limit=args.distill_time_limit, hyperparameters={"GBM": {}}
        )
        distill_seconds = time.perf_counter() - start
        scores = {
            m: roc_auc_score(y_te, predictor.predict_proba(X_te, model=m)[1]) for m in students
        }
        student = max(
            scores,
            key=lambda m: predictor.leaderboard(silent=True).set_index("model").loc[m, "score_val"],
        )
        p50, p99 = _latency_us(predictor, student, X_te.reset_index(drop=True))
        best = predictor.model_best
    return {
        "dataset": name,
        "seed": seed,
        "teacher_roc_auc": float(teacher),
        "teacher_model": best,
        "student_roc_auc": float(scores[student]),
        "student_model": student,
        "students": {m: float(v) for m, v in scores.items()},
        "fit_seconds": round(fit_seconds, 1),
        "distill_seconds": round(distill_seconds, 1),
        "student_single_row_p50_us": p50,
        "student_single_row_p99_us": p99,
    }


def ours(suite="suite.json") -> dict:
    """tabdistill's test ROC-AUC per (dataset, seed) from a suite run (``results/<suite>``)."""
    path = RESULTS / suite
    if not path.exists():
        return {}
    runs = json.loads(path.read_text())["runs"]
    return {(r["dataset"], r["seed"]): r["test_roc_auc"] for r in runs}


def markdown(rows, note, suite="suite.json") -> str:
    mine = ours(suite)
    out = [
        "| dataset | seed | AutoGluon teacher | tabdistill teacher | Δ teacher | AutoGluon "
        "distilled LightGBM | tabdistill student | Δ student | AG student p50 µs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        m = mine.get((r["dataset"], r["seed"]))
        t = "–" if m is None else f"{m['teacher']:.4f}"
        s = "–" if m is None else f"{m['student']:.4f}"
        dt = "–" if m is None else f"{m['teacher'] - r['teacher_roc_auc']:+.4f}"
        ds = "–" if m is None else f"{m['student'] - r['student_roc_auc']:+.4f}"
        out.append(
            f"| {r['dataset']} | {r['seed']} | {r['teacher_roc_auc']:.4f} | {t} | {dt} | "
            f"{r['student_roc_auc']:.4f} | {s} | {ds} | {r['student_single_row_p50_us']:,.0f} |"
        )
    return "\n".join([*out, "", note]) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=SUITE_NAMES, choices=SUITE_NAMES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--nyc-rows", type=int, default=40_000)
    parser.add_argument("--fraud-rows", type=int, default=50_000)
    parser.add_argument("--time-limit", type=float, default=180)
    parser.add_argument("--distill-time-limit", type=float, default=90)
    parser.add_argument(
        "--summarize",
        action="store_true",
        help="rebuild results/peers.md from results/peers.json and the latest "
        "results/suite.json (tabdistill's side) without fitting AutoGluon",
    )
    parser.add_argument(
        "--suite-tag",
        default="",
        help="tabdistill's side from results/suite_TAG.json (with --summarize, the table "
        "goes to results/peers_TAG.md)",
    )
    parser.add_argument(
        "--tag",
        default="",
        help="without --summarize: write results/peers_TAG.{json,md} instead of peers.{json,md} "
        "(e.g. more seeds of one dataset, keeping the main table)",
    )
    args = parser.parse_args()
    rows = []
    name = "peers" if args.summarize else stem("peers", args.tag)
    out = RESULTS / f"{name}.json"
    if args.summarize:
        # the note of the AutoGluon run is the last paragraph of the Markdown it wrote
        note = (RESULTS / "peers.md").read_text().strip().split("\n\n")[-1]
        note = note.split(" tabdistill's side:")[0]
        suite = f"suite_{args.suite_tag}.json" if args.suite_tag else "suite.json"
        suite_note = json.loads((RESULTS / suite).read_text()).get("note", "")
        md = markdown(json.loads(out.read_text()), f"{note} tabdistill's side: {suite_note}", suite)
        (RESULTS / f"{stem('peers', args.suite_tag)}.md").write_text(md)
        print(md)
        return
    for dataset in args.datasets:
        for seed in args.seeds:
            r = run_one(dataset, seed, args)
            rows.append(r)
            print(
                f"{dataset} seed {seed}: AutoGluon teacher {r['teacher_roc_auc']:.4f} "
                f"({r['teacher_model']}), distilled {r['student_roc_auc']:.4f} "
                f"({r['student_model']}), fit {r['fit_seconds']:.0f} s",
                flush=True,
            )
            out.write_text(json.dumps(rows, indent=2))
    import autogluon.tabular

    note = (
        f"`python -m benchmarks.peers --seeds {' '.join(map(str, args.seeds))}` with AutoGluon "
        f"{autogluon.tabular.__version__}: members GBM, XGB, RF, XT, LR, 5-fold bagging, "
        f"weighted ensemble, time limit {args.time_limit:.0f} s; distill() into LightGBM "
        f"(soft labels, spunge augmentation), time limit {args.distill_time_limit:.0f} s. "
        "Δ = tabdistill − AutoGluon on the same test rows. AutoGluon's latency is its "
        "predict_proba on a one-row DataFrame, 200 calls after warm-up."
    )
    suite = f"suite_{args.suite_tag}.json" if args.suite_tag else "suite.json"
    md = markdown(rows, note, suite)
    (RESULTS / f"{name}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
