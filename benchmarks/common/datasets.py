"""The benchmarks' data: the development suite, the K-class sets and the large tables.

Real tables are read from the shared datasets folder, ``$TABDISTILL_SUITE_DATA`` (default:
``shared/datasets`` next to the repository; sources and licences in its ``README.md``).
Synthetic tables come from :func:`tabdistill.make_fraud`; the large ones are written once,
as gzip CSV, to ``$TABDISTILL_LARGE_DATA`` (default ``~/.cache/tabdistill-large``), outside
git.
"""

from __future__ import annotations

import os
from pathlib import Path

from tabdistill.data.datasets import make_fraud
from tabdistill.data.io import read_csv, split_target

SHARED = Path(
    os.environ.get(
        "TABDISTILL_SUITE_DATA", Path(__file__).resolve().parents[3] / "shared" / "datasets"
    )
)
LARGE_CACHE = Path(
    os.environ.get("TABDISTILL_LARGE_DATA", Path.home() / ".cache" / "tabdistill-large")
)

#: The development suite's real tables: name -> (file, target column); every binary CSV
#: of the shared folder.
SUITE = {
    "credit_default": ("credit_default.csv.gz", "default"),
    "adult": ("adult.csv.gz", "income"),
    "bank_marketing": ("bank_marketing.csv.gz", "y"),
    "islr_default": ("islr_default.csv.gz", "default"),
    "universal_bank": ("universal_bank.csv.gz", "Personal Loan"),
    "flight_delays": ("flight_delays.csv.gz", "Flight Status"),
    "hmda": ("hmda.csv.gz", "deny"),
    "flights_nyc": ("flights_nyc.csv.gz", "late"),
}
#: The suite's synthetic table, ``make_fraud(fraud_rows, fraud_rate=0.01)`` drawn anew per seed.
FRAUD = "fraud_synthetic"
#: Every dataset of the development suite, in the order its tables list them.
SUITE_NAMES = [*SUITE, FRAUD]

#: The K-class sets: name -> (file in the shared folder, target column); None: synthetic
#: (``make_fraud(50_000, fraud_rate=0.05, fraud_type=True)``, drawn anew per seed).
MULTICLASS = {
    "diamonds": ("diamonds.csv.gz", "cut"),
    "wvs": ("wvs.csv.gz", "poverty"),
    "fraud_types": (None, "fraud_type"),
}

#: The large tables: rows, feature columns and positive rate of a synthetic one (a 590k x 120
#: card-fraud-shaped table, the shape of the best-known public card-fraud set, and a
#: census-sized one from the same generator), or file and target of a real one
#: (``flights_nyc`` at full size, 336,776 rows, from the R package nycflights13, CC0; the ULB
#: card-fraud set, 284,807 rows, 0.17% fraud, Dal Pozzolo et al. 2015, DbCL v1.0: a real table
#: whose teacher lead is real, written once by the shared folder's ``get_creditcard.py``).
LARGE_TABLES = {
    "fraud_590k": {"rows": 590_000, "features": 120, "fraud_rate": 0.035},
    # mid-size: fewer training rows than the search's subsample, so every fit sees them all
    "fraud_150k": {"rows": 150_000, "features": 120, "fraud_rate": 0.035},
    "fraud_60k_wide": {"rows": 60_000, "features": 300, "fraud_rate": 0.035},
    "census_299k": {"rows": 299_000, "features": 40, "fraud_rate": 0.062},
    "flights_nyc": {"file": SHARED / "flights_nyc.csv.gz", "target": "late"},
    "creditcard": {
        "file": LARGE_CACHE / "creditcard.csv.gz",
        "target": "Class",
        "make": f"python {SHARED / 'get_creditcard.py'} {LARGE_CACHE / 'creditcard.csv.gz'}",
    },
}


def load_suite(name, seed, nyc_rows, fraud_rows):
    """``(X, y)`` of one suite dataset; flights_nyc is a fixed random subsample of ``nyc_rows``."""
    if name == FRAUD:
        frame, target = make_fraud(fraud_rows, fraud_rate=0.01, random_state=seed), "is_fraud"
    else:
        file, target = SUITE[name]
        frame = read_csv(SHARED / file)
        if name == "flights_nyc" and nyc_rows and len(frame) > nyc_rows:
            frame = frame.sample(nyc_rows, random_state=0).reset_index(drop=True)
    return split_target(frame, target)


def load_multiclass(name, seed=0):
    """``(X, y)`` of a K-class dataset (``fraud_types`` is regenerated per seed)."""
    file, target = MULTICLASS[name]
    if file is None:
        frame = make_fraud(50_000, fraud_rate=0.05, random_state=seed, fraud_type=True)
    else:
        frame = read_csv(SHARED / file)
    return split_target(frame, target)


def large_table_file(name: str, seed: int = 0) -> tuple[Path, str]:
    """``(CSV path, target column)`` of a large table, writing a synthetic one if needed."""
    spec = LARGE_TABLES[name]
    if "file" in spec:
        if not Path(spec["file"]).is_file():
            how = f"; write it once with `{spec['make']}`" if "make" in spec else ""
            raise FileNotFoundError(f"the {name} table is not at {spec['file']}{how}.")
        return Path(spec["file"]), spec["target"]
    return synthetic_file(spec["rows"], spec["features"], spec["fraud_rate"], seed), "is_fraud"


def synthetic_file(rows: int, features: int, fraud_rate: float, seed: int = 0) -> Path:
    """A ``make_fraud`` table as gzip CSV in the large-data cache folder (written once)."""
    path = LARGE_CACHE / f"fraud_{rows}x{features}_{fraud_rate}_seed{seed}.csv.gz"
    if not path.exists():
        LARGE_CACHE.mkdir(parents=True, exist_ok=True)
        frame = make_fraud(rows, fraud_rate=fraud_rate, random_state=seed, n_features=features)
        tmp = path.with_name(f".partial-{os.getpid()}-{path.name}")  # one per writing process
        frame.to_csv(tmp, index=False)
        tmp.rename(path)
    return path
