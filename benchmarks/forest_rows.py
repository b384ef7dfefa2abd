"""The default teacher between 50k and 100k rows: forests on row samples, or on every row.

Above :data:`~tabdistill.distill.members.FOREST_FULL_ROWS` training rows the teacher's
forest members grow each tree on a bootstrap sample of about
:data:`~tabdistill.distill.members.FOREST_ROWS` rows. This script fits the default
:class:`~tabdistill.TeacherEnsemble` (one thread) on three 100k-row tables, once that way
and once with forests on every row (the rule before), the two fits of a table side by side
in two processes so that they share the machine's load. Forests on every row are asked for
through the members' parameters (``max_samples=None``, which turns the rule off); that list
names every default member, and for flights_nyc the high-cardinality-blind LightGBM, which
the default teacher adds by itself (seeded one after the first member's seed, where a listed
one takes its own). Each fit gets the rows a distiller's teacher would see (80% of a 75%
training split: 60,000) and is scored on the 25% test split.

Tables: ``make_fraud`` at 100k rows (1% positives, default columns) and at
100k x 100 columns (3.5% positives, the ``benchmarks.scaling`` generator), and 100k
rows of ``flights_nyc`` (see ``../shared/datasets/README.md`` for its source).

    python -m benchmarks.forest_rows          # -> results/forest_rows.{json,md}
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from tabdistill import TeacherEnsemble
from tabdistill.data.datasets import make_fraud
from tabdistill.data.io import read_csv, split_target
from tabdistill.data.target import encode_target
from tabdistill.distill import members
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.metrics import roc_auc

from .common.cli import argument_parser
from .common.datasets import SHARED, synthetic_file
from .common.measure import machine_load
from .common.results import write_results

ROWS = 100_000
TABLES = ("fraud_100k", "fraud_100k_x100", "flights_nyc_100k")
#: The default members with forests grown on every row (a forest given ``max_samples``
#: keeps it, see :func:`tabdistill.distill.members.scale_to_rows`).
EVERY_ROW = {
    **{name: {} for name in members.DEFAULT_MEMBERS},
    "random_forest": {"max_samples": None},
    "extra_trees": {"max_samples": None},
}


def load(name):
    """``(X, y)`` of table ``name``."""
    if name == "fraud_100k":
        return split_target(make_fraud(ROWS, fraud_rate=0.01, random_state=0), "is_fraud")
    if name == "fraud_100k_x100":
        return split_target(read_csv(synthetic_file(ROWS, 100, 0.035)), "is_fraud")
    frame = read_csv(SHARED / "flights_nyc.csv.gz").sample(n=ROWS, random_state=0)
    return split_target(frame, "late")


def fit_one(name, forests):
    """Fit the default teacher on ``name`` with forests ``"sampled"`` or on ``"every row"``."""
    X, y_raw = load(name)
    y = encode_target(y_raw).y
    X_tr, X_te, y_tr, y_te = stratified_split(X, y, 0.25, 0)
    n = int(0.8 * len(y_tr))  # the share of the training rows a distiller's teacher sees
    start = time.perf_counter()
    listed = None
    if forests == "every row":
        listed = dict(EVERY_ROW)
        if name.startswith("flights_nyc"):
            listed[members.WITHOUT_HIGH_CARDINALITY] = {}
    teacher = TeacherEnsemble(members=listed, random_state=0, n_jobs=1)
    teacher.fit(X_tr.iloc[:n], np.asarray(y_tr)[:n])
    seconds = time.perf_counter() - start
    return {
        "table": name,
        "forests": forests,
        "teacher_rows": n,
        "seconds": round(seconds, 1),
        "test_roc_auc": round(float(roc_auc(y_te, teacher.predict_proba(X_te)[:, 1])), 4),
        "weights": {k: round(float(v), 2) for k, v in teacher.weights_.items()},
    }


def main():
    argument_parser(__spec__.name, __doc__).parse_args()
    synthetic_file(ROWS, 100, 0.035)  # written once, here: not by two workers at a time
    runs = []
    for name in TABLES:
        with ProcessPoolExecutor(2) as pool:
            pair = [pool.submit(fit_one, name, f) for f in ("every row", "sampled")]
            runs += [p.result() for p in pair]
        print(json.dumps(runs[-2:]), flush=True)
    load_avg = machine_load()
    md = [
        "| table | teacher rows | forests | teacher s | test ROC-AUC | forest weights |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        w = r["weights"]
        md.append(
            f"| {r['table']} | {r['teacher_rows']:,} | {r['forests']} | {r['seconds']:.0f} | "
            f"{r['test_roc_auc']:.4f} | {w.get('random_forest', 0):.2f} / "
            f"{w.get('extra_trees', 0):.2f} |"
        )
    md.append("")
    for before, after in zip(runs[::2], runs[1::2]):
        ratio = after["seconds"] / before["seconds"]
        change = after["test_roc_auc"] - before["test_roc_auc"]
        md.append(
            f"- {before['table']}: time sampled / every row {ratio:.2f}, ROC-AUC {change:+.4f}"
        )
    md.append(
        f"\n`python -m benchmarks.forest_rows`: default teacher, one thread, the two fits of a "
        f"table side by side in two processes; load average {load_avg:.1f} at the end (2 CPUs)."
    )
    write_results("forest_rows", {"runs": runs, "load": load_avg}, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
