"""What a high-cardinality column gives the teacher: kept, dropped, or as its frequency only.

The encoder keeps a categorical column of more than ``max_levels`` (100) levels as
its 100 most frequent levels plus a ``col.frequency`` feature. On the development
suite two datasets have such columns: ``flight_delays`` (``TAIL_NUM``, an aircraft
registration, ~490 levels on 1,650 training rows) and ``flights_nyc`` (``tailnum``
and ``dest``). For each, with the suite's split (``benchmarks.suite``: 25%
stratified test, flights_nyc subsampled to 40,000 rows), the default teacher is fit
on the training rows and scored on the test rows with those columns

- ``default``: as the encoder makes them today;
- ``drop``: removed;
- ``frequency``: replaced by one number, the share of training rows holding the level
  (0 for a level unseen in training);

next to AutoGluon's ensemble on the same split where ``results/peers*.json`` has it.
Writes ``results/high_cardinality[_TAG].{json,md}``. With ``--members`` the teacher gets exactly
those members: the five default names reproduce the teacher before ``lightgbm_no_high_card``
(which is added only to the default member list) fit for fit::

    python -m benchmarks.high_cardinality                       # both datasets, seeds 0 1 2
    python -m benchmarks.high_cardinality --datasets flight_delays
    python -m benchmarks.high_cardinality --members lightgbm xgboost random_forest extra_trees \
        logistic
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np

from tabdistill import TeacherEnsemble
from tabdistill.data.encoder import TabularEncoder
from tabdistill.data.target import encode_target
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.metrics import roc_auc

from .common.cli import argument_parser
from .common.datasets import load_suite
from .common.results import RESULTS, stem, write_results

DATASETS = ("flight_delays", "flights_nyc")
VARIANTS = ("default", "drop", "frequency")


def high_cardinality_columns(X) -> list[str]:
    """Columns the default encoder keeps as their top levels plus a frequency feature."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = TabularEncoder().fit(X)
    derived = encoder.schema_.derived
    return sorted(source for source, part in derived.values() if part == "frequency")


def frequency_variant(columns, X_tr, X_te):
    """Each of ``columns`` replaced by the training share of its level."""
    X_tr, X_te = X_tr.copy(), X_te.copy()
    for col in columns:
        share = X_tr[col].value_counts(normalize=True)
        X_tr[col] = X_tr[col].map(share).astype(float)
        X_te[col] = X_te[col].map(share).astype(float).fillna(0.0)
    return X_tr, X_te


def autogluon_teachers() -> dict:
    """AutoGluon's ensemble test ROC-AUC per (dataset, seed), from every peers*.json."""
    found = {}
    for path in sorted(RESULTS.glob("peers*.json")):
        for row in json.loads(path.read_text()):
            found[(row["dataset"], row["seed"])] = row["teacher_roc_auc"]
    return found


def run_one(name, seed, members=None) -> dict:
    X, y = load_suite(name, seed, 40_000, 50_000)
    y01 = encode_target(y).y
    X_tr, X_te, y_tr, y_te = stratified_split(X, y01, 0.25, seed)
    columns = high_cardinality_columns(X_tr)
    frames = {
        "default": (X_tr, X_te),
        "drop": (X_tr.drop(columns=columns), X_te.drop(columns=columns)),
        "frequency": frequency_variant(columns, X_tr, X_te),
    }
    result = {"dataset": name, "seed": seed, "columns": columns, "variants": {}}
    result["levels"] = {c: int(X_tr[c].nunique()) for c in columns}
    for v, (a, b) in frames.items():
        clock = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            teacher = TeacherEnsemble(members=members, n_jobs=1, random_state=seed).fit(a, y_tr)
        result["variants"][v] = {
            "roc_auc": roc_auc(y_te, teacher.predict_proba(b)[:, 1]),
            "fit_seconds": time.perf_counter() - clock,
            "weights": {k: round(w, 3) for k, w in teacher.weights_.items()},
        }
        print(f"{name} seed {seed} {v}: {result['variants'][v]['roc_auc']:.4f}", flush=True)
    return result


def markdown(runs, note) -> str:
    ag = autogluon_teachers()
    out = [
        "| dataset | seed | columns (training levels) | default | drop | frequency | AutoGluon |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        cols = ", ".join(f"{c} ({n:,})" for c, n in r["levels"].items())
        aucs = " | ".join(f"{r['variants'][v]['roc_auc']:.4f}" for v in VARIANTS)
        peer = ag.get((r["dataset"], r["seed"]))
        out.append(
            f"| {r['dataset']} | {r['seed']} | {cols} | {aucs} | "
            f"{'–' if peer is None else f'{peer:.4f}'} |"
        )
    for name in dict.fromkeys(r["dataset"] for r in runs):
        mine = [r for r in runs if r["dataset"] == name]
        means = {v: np.mean([r["variants"][v]["roc_auc"] for r in mine]) for v in VARIANTS}
        out.append(
            f"| {name} | mean | | " + " | ".join(f"{means[v]:.4f}" for v in VARIANTS) + " | |"
        )
    return "\n".join([*out, "", note]) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--members", nargs="+", help="the teacher's members (default: its own)")
    parser.add_argument("--tag", default="", help="suffix of the results files")
    args = parser.parse_args()
    runs = [run_one(name, seed, args.members) for name in args.datasets for seed in args.seeds]
    note = (
        f"`python -m benchmarks.high_cardinality --datasets {' '.join(args.datasets)} --seeds "
        f"{' '.join(map(str, args.seeds))}"
        + (f" --members {' '.join(args.members)}" if args.members else "")
        + "`: TeacherEnsemble (n_jobs=1) on the suite's "
        "training rows (75%), test ROC-AUC on the other 25%. AutoGluon: its ensemble on the "
        "same split (`benchmarks.peers`), where run."
    )
    name = stem("high_cardinality", args.tag)
    write_results(name, {"runs": runs, "note": note}, markdown(runs, note), indent=None)


if __name__ == "__main__":
    main()
