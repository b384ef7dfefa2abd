"""Shared by the large-data benchmarks: the tables, a timed process, the plain-LightGBM reference.

* :data:`TABLES` -- the large tables: a 590k x 120 card-fraud-shaped synthetic table
  (3.5% positives, the shape of the best-known public card-fraud set), a census-sized
  one (299k x 40, 6.2%) from the same generator, and ``flights_nyc`` at full size
  (336,776 rows; ``../shared/datasets``, from the R package nycflights13, CC0).
  Synthetic tables are written once to ``$TABDISTILL_LARGE_DATA`` (default
  ``~/.cache/tabdistill-large``), outside git.
* :func:`timed` -- run a command in a fresh process under ``/usr/bin/time -v``: wall
  seconds and peak RSS, as a user would see them.
* :func:`reference_lightgbm` -- what a user would pick instead of distillation: one
  LightGBM with 63 leaves, learning rate 0.05, up to 2,000 rounds, row and column
  subsampling (0.8), early stopping (patience 100) on 20% of the training rows,
  2 threads, on the same split and encoding as the benchmark.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("TABDISTILL_SUITE_DATA", ROOT.parents[1] / "shared" / "datasets"))
CACHE = Path(os.environ.get("TABDISTILL_LARGE_DATA", Path.home() / ".cache" / "tabdistill-large"))

#: name -> rows, feature columns, positive rate of a synthetic table; or file, target of a real one.
TABLES = {
    "fraud_590k": {"rows": 590_000, "features": 120, "fraud_rate": 0.035},
    "census_299k": {"rows": 299_000, "features": 40, "fraud_rate": 0.062},
    "flights_nyc": {"file": SHARED / "flights_nyc.csv.gz", "target": "late"},
}


def table_file(name: str, seed: int = 0) -> tuple[Path, str]:
    """``(CSV path, target column)`` of a large table, writing a synthetic one if needed."""
    spec = TABLES[name]
    if "file" in spec:
        return Path(spec["file"]), spec["target"]
    return synthetic_file(spec["rows"], spec["features"], spec["fraud_rate"], seed), "is_fraud"


def synthetic_file(rows: int, features: int, fraud_rate: float, seed: int = 0) -> Path:
    """A make_fraud table as gzip CSV in the cache folder (written once)."""
    from tabdistill import make_fraud

    path = CACHE / f"fraud_{rows}x{features}_{fraud_rate}_seed{seed}.csv.gz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        frame = make_fraud(rows, fraud_rate=fraud_rate, random_state=seed, n_features=features)
        tmp = path.with_name(f".partial-{os.getpid()}-{path.name}")  # one per writing process
        frame.to_csv(tmp, index=False)
        tmp.rename(path)
    return path


def timed(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``; its output goes to ``log``.

    Returns ``{"wall_seconds", "peak_rss_gib", "exit_code"}``.
    """
    start = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    text = log.read_text()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {
        "wall_seconds": round(wall, 1),
        "peak_rss_gib": round(int(rss.group(1)) / 2**20, 2) if rss else None,
        "exit_code": done.returncode,
    }


def machine_load() -> float:
    """The 1-minute load average (other jobs sharing the cores)."""
    return round(os.getloadavg()[0], 1)


def reference_lightgbm(Z_train, y_train, Z_test, y_test, categorical_mask, seed=0, n_jobs=2):
    """The plain early-stopped LightGBM on encoded rows: test ROC-AUC, rounds, fit seconds."""
    import lightgbm as lgb
    from sklearn.model_selection import train_test_split

    from tabdistill._compat import lightgbm_eval_kwargs
    from tabdistill.metrics import roc_auc

    fit_idx, stop_idx = train_test_split(
        np.arange(len(y_train)), test_size=0.2, stratify=y_train, random_state=seed
    )
    model = lgb.LGBMClassifier(
        n_estimators=2_000,
        learning_rate=0.05,
        num_leaves=63,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=n_jobs,
        random_state=seed,
        verbose=-1,
    )
    start = time.perf_counter()
    model.fit(
        Z_train[fit_idx],
        y_train[fit_idx],
        categorical_feature=[int(i) for i in np.flatnonzero(categorical_mask)],
        callbacks=[lgb.early_stopping(100, verbose=False)],
        **lightgbm_eval_kwargs(Z_train[stop_idx], y_train[stop_idx]),
    )
    seconds = time.perf_counter() - start
    return {
        "roc_auc": roc_auc(y_test, model.predict_proba(Z_test)[:, 1]),
        "rounds": int(model.best_iteration_ or model.n_estimators),
        "fit_seconds": round(seconds, 1),
    }


def split_and_encode(path: Path, target: str, seed: int = 0, test_size: float = 0.25):
    """The benchmark's split of a CSV (stratified, same seed) and its encoding on the train part."""
    from tabdistill.data.encoder import TabularEncoder
    from tabdistill.data.io import read_csv, split_target
    from tabdistill.data.target import encode_target
    from tabdistill.evaluate.benchmark import stratified_split

    X, y_raw = split_target(read_csv(path), target)
    y = encode_target(y_raw).y
    X_train, X_test, y_train, y_test = stratified_split(X, y, test_size, seed)
    encoder = TabularEncoder()
    Z_train = encoder.fit_encode(X_train)
    return Z_train, np.asarray(y_train), encoder.encode(X_test), np.asarray(y_test), encoder
