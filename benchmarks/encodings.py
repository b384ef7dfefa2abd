"""Date and high-cardinality encodings compared on the suite's datasets that have such columns.

For flight_delays (``FL_DATE`` text dates, ``TAIL_NUM`` with ~550 levels) and flights_nyc
(``time_hour`` ISO timestamps, ``tailnum`` with ~4,000 levels, ``dest`` with 105) this fits
the default :class:`~tabdistill.TeacherEnsemble` on the suite's training split under each
encoding and reports its test ROC-AUC and fit seconds:

* ``dates as text, all levels`` -- the encoding before issue 10 (dates are categoricals);
* ``dates, all levels`` -- date features, every level kept natively;
* ``dates, top 100 + frequency`` -- the default;
* ``dates, top 10 + frequency`` -- aggressive grouping.

    python benchmarks/encodings.py                 # seeds 0 1 2 -> results/encodings.{json,md}
    python benchmarks/encodings.py --seeds 0 --datasets flight_delays
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import RESULTS, load  # noqa: E402

from tabdistill import TeacherEnsemble  # noqa: E402
from tabdistill.data import TabularEncoder  # noqa: E402
from tabdistill.data.target import encode_target  # noqa: E402
from tabdistill.evaluate.benchmark import stratified_split  # noqa: E402
from tabdistill.metrics import roc_auc  # noqa: E402

ENCODINGS = {
    "dates as text, all levels": {"parse_dates": False, "max_levels": 10**9},
    "dates, all levels": {"parse_dates": True, "max_levels": 10**9},
    "dates, top 100 + frequency": {"parse_dates": True, "max_levels": 100},
    "dates, top 10 + frequency": {"parse_dates": True, "max_levels": 10},
}


def run_one(name, seed, params, nyc_rows):
    X, y_raw = load(name, seed, nyc_rows, 0)
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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
        f"`python benchmarks/encodings.py --seeds {' '.join(map(str, args.seeds))}`: default "
        "TeacherEnsemble (n_jobs=2) on the suite's 75% training split (flights_nyc subsampled "
        f"to {args.nyc_rows:,} rows), mean over seeds.",
    ]
    (RESULTS / "encodings.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "encodings.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
