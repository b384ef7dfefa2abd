"""Date and high-cardinality encodings compared on the suite's datasets that have such columns.

For flight_delays (``FL_DATE`` text dates, ``TAIL_NUM`` with ~550 levels) and flights_nyc
(``time_hour`` ISO timestamps, ``tailnum`` with ~4,000 levels, ``dest`` with 105) this fits
the default :class:`~tabdistill.TeacherEnsemble` on the suite's training split under each
encoding and reports its test ROC-AUC and fit seconds:

* ``dates as text, all levels`` -- the encoding before issue 10 (dates are categoricals);
* ``dates, all levels`` -- date features, every level kept natively;
* ``dates, top 100 + frequency`` -- the default;
* ``dates, top 10 + frequency`` -- aggressive grouping.

    python -m benchmarks.encodings                 # seeds 0 1 2 -> results/encodings.{json,md}
    python -m benchmarks.encodings --seeds 0 --datasets flight_delays
"""

from __future__ import annotations

import time
import warnings

from tabdistill import TeacherEnsemble
from tabdistill.data import TabularEncoder
from tabdistill.data.target import encode_target
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.metrics import roc_auc

from .common.cli import argument_parser
from .common.datasets import load_suite
from .common.results import write_results

ENCODINGS = {
    "dates as text, all levels": {"parse_dates": False, "max_levels": 10**9},
    "dates, all levels": {"parse_dates": True, "max_levels": 10**9},
    "dates, top 100 + frequency": {"parse_dates": True, "max_levels": 100},
    "dates, top 10 + frequency": {"parse_dates": True, "max_levels": 10},
}


def run_one(name, seed, params, nyc_rows):
    X, y_raw = load_suite(name, seed, nyc_rows, 0)
    target = encode_target(y_raw)
    X_tr, X_te, y_tr, y_te = stratified_split(X, target.y, 0.25, seed)
    encoder = TabularEncoder(**params)
    start = time.perf_counter()
    Z = encoder.fit_transform(X_tr)
    teacher = TeacherEnsemble(random_state=seed, n_jobs=2)
    teacher.fit_encoded(Z, y_tr, encoder=encoder, target=target)
    seconds = time.perf_counter() - start
    auc = roc_auc(y_te, teacher.predict_proba_encoded(encoder.transform(X_te)))
    return {"roc_auc": auc, "fit_seconds": seconds, "features": encoder.schema_.n_features}


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=["flight_delays", "flights_nyc"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--nyc-rows", type=int, default=40_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for name in args.datasets:
        for label, params in ENCODINGS.items():
            runs = [run_one(name, s, params, args.nyc_rows) for s in args.seeds]
            row = {
                "dataset": name,
                "encoding": label,
                "roc_auc": sum(r["roc_auc"] for r in runs) / len(runs),
                "fit_seconds": sum(r["fit_seconds"] for r in runs) / len(runs),
                "encoded_features": runs[0]["features"],
                "per_seed": runs,
            }
            rows.append(row)
            print(
                f"{name} | {label}: teacher test ROC-AUC {row['roc_auc']:.4f}, "
                f"fit {row['fit_seconds']:.0f} s",
                flush=True,
            )
    md = [
        "| dataset | encoding | encoded features | teacher test ROC-AUC | teacher fit s |",
        "|---|---|---|---|---|",
        *(
            f"| {r['dataset']} | {r['encoding']} | {r['encoded_features']} | "
            f"{r['roc_auc']:.4f} | {r['fit_seconds']:.0f} |"
            for r in rows
        ),
        "",
        f"`python -m benchmarks.encodings --seeds {' '.join(map(str, args.seeds))}`: default "
        "TeacherEnsemble (n_jobs=2) on the suite's 75% training split (flights_nyc subsampled "
        f"to {args.nyc_rows:,} rows), mean over seeds.",
    ]
    write_results("encodings", rows, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
