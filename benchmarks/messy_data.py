"""Messy files as they arrive: is anything lost between a clean table and its messy twin?

Four cases, each fitted with the same small distiller and seed on both sides:

* ``loans``: :func:`tabdistill.data.datasets.make_loans` written as a loan file
  export writes it (``"$60,000.00"``, ``"13.56%"``, ``"(1,234.50)"``,
  ``28-Feb-97``, ``Feb 28 1997``, ISO times with offsets, Unix seconds, a year
  column with a few ``"1976A"``), through a CSV file, against the clean twin;
* ``stray``: 1,200 clean loans, then the same with one ``"abc"`` in ``net_cashflow``
  (continuous, every value distinct: the column an "ID-like" rule would drop) -- it must
  stay numeric;
* ``fraud_stray``: the synthetic fraud table with one ``"abc"`` in ``amount``;
* ``rows_as_text``: the clean loans passed as ``np.array(X.values.tolist())``
  (every value text).

For each: validation ROC-AUC of the teacher and the student (``report_``),
test ROC-AUC of the student, the columns kept numeric / as dates, and what
the encoder warned. Writes results/messy_data.{json,md}.

    python -m benchmarks.messy_data                  # seeds 0 1 2
    python -m benchmarks.messy_data --seeds 0 --rows 3000
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

from tabdistill import DistilledClassifier
from tabdistill.data import read_csv
from tabdistill.data.datasets import make_fraud, make_loans
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.metrics import roc_auc

from .common.cli import argument_parser, command
from .common.results import stem, write_results

MEMBERS = {"lightgbm": {"n_estimators": 200, "num_leaves": 15}, "logistic": {}}


def _distiller(seed):
    return DistilledClassifier(
        teacher={"members": MEMBERS, "cv": 3},
        augment_factors=(0, 1),
        alphas=(0.0,),
        random_state=seed,
        n_jobs=1,
    )


def fit_and_score(X, y, seed):
    """Validation and test ROC-AUC of one fit, the roles, and the data warnings."""
    X_tr, X_te, y_tr, y_te = stratified_split(X, y, 0.25, seed)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _distiller(seed).fit(X_tr, y_tr)
        test = roc_auc(y_te, model.predict_proba(X_te)[:, 1])
    schema = model.encoder_.schema_
    return {
        "validation_teacher": model.report_["validation"]["teacher"]["roc_auc"],
        "validation_student": model.report_["validation"]["student"]["roc_auc"],
        "test_student": test,
        "fit_seconds": round(time.perf_counter() - start, 1),
        "numeric": sorted(f for f, r in schema.roles.items() if r == "numeric"),
        "dates": sorted(schema.date_formats),
        "dropped": dict(schema.dropped),
        "recognised": dict(schema.recognised),
        "warnings": sorted({str(w.message)[:160] for w in caught if "column" in str(w.message)}),
    }


def _with_stray(X, column, row=7):
    out = X.copy()
    out[column] = out[column].astype(object)
    out.loc[row, column] = "abc"
    return out


def cases(seed, rows):
    """``name -> (clean X, messy X, y)``."""
    loans = make_loans(rows, random_state=seed)
    with tempfile.TemporaryDirectory() as tmp:  # through a file, as a user gets it
        path = os.path.join(tmp, "loans.csv")
        loans.to_csv(path, index=False)
        messy = read_csv(path)
    clean = make_loans(rows, random_state=seed, messy=False)
    small = make_loans(1_200, random_state=seed, messy=False)
    fraud = make_fraud(max(rows, 20_000), fraud_rate=0.02, random_state=seed)
    y_fraud = fraud.pop("is_fraud")
    y_small = small.pop("default")
    text = pd.DataFrame(np.array(small.values.tolist()).astype(str), columns=small.columns)
    return {
        "loans": (clean.drop(columns="default"), messy.drop(columns="default"), clean["default"]),
        "stray": (small, _with_stray(small, "net_cashflow"), y_small),
        "fraud_stray": (fraud, _with_stray(fraud, "amount"), y_fraud),
        "rows_as_text": (small, text, y_small),
    }


def _markdown(results, argv_command, load) -> str:
    lines = [
        "| case | seed | side | val teacher | val student | test student | numeric | dates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for side in ("clean", "messy"):
            s = r[side]
            lines.append(
                f"| {r['case']} | {r['seed']} | {side} | {s['validation_teacher']:.4f} | "
                f"{s['validation_student']:.4f} | {s['test_student']:.4f} | "
                f"{len(s['numeric'])} | {len(s['dates'])} |"
            )
    lines += [
        "",
        f"`{argv_command}` (load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}): a small "
        "distiller (LightGBM 200 trees + logistic teacher, 3 folds; augment factors 0, 1) on "
        "75% of the rows, the same seed on both sides; numeric/dates count the columns kept "
        "as numbers / dates.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="data/model seeds")
    parser.add_argument("--rows", type=int, default=5_000, help="rows of the loan table")
    parser.add_argument("--tag", default="", help="appended to the results' file name")
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        for name, (clean, messy, y) in cases(seed, args.rows).items():
            row = {"case": name, "seed": seed}
            row["clean"] = fit_and_score(clean, y, seed)
            row["messy"] = fit_and_score(messy, y, seed)
            gap = row["messy"]["validation_student"] - row["clean"]["validation_student"]
            row["validation_student_gap"] = gap
            results.append(row)
            print(f"{name} seed {seed}: messy - clean validation ROC-AUC {gap:+.4f}", flush=True)
    load = os.getloadavg()
    data = {"command": command(__spec__.name), "load_average": load, "runs": results}
    write_results(
        stem("messy_data", args.tag), data, _markdown(results, data["command"], load), indent=1
    )


if __name__ == "__main__":
    main()
