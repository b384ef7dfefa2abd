"""Records at encoded speed: ``score_record`` (a dict) and batches of records vs ``score_one``.

For every binary set of the development suite (flights_nyc subsampled), the synthetic fraud
set and a 100-column synthetic table with dates (ISO with a zone, three text layouts) and
categoricals (text levels, a high-cardinality column, yes/no flags) and numbers written as
text (currency, thousands, percent), fits the encoder and the default LightGBM student (hard
labels: the student's shape sets the cost, not its accuracy) and takes held-out rows as a
JSON service receives them (``None`` for missing, text as in the file). In one process, in
interleaved rounds after warm-up:

* ``score_one`` on the rows already encoded (the target);
* ``score_record`` on the records (the compiled reader, Python for what it leaves);
* the same records read by the Python reader alone, then ``score_one`` (what it was);
* ``score_records`` on batches of records, per record.

Each single-row input is made just before its timed call, outside the timing: a record is
parsed from its JSON text, an encoded row copied, so that it is fresh in the cache as in a
service that has just received it (cycling through 1,000 records already in memory would time
cache misses of the benchmark's own making). p50 and p99 are medians over the rounds; a set is
within the target when the record p50 (and the batch's, a record) is at most 3 µs above the
encoded p50. Also recorded: the share of records the compiled reader reads itself, and whether
every score equals the Python reader's to the bit. Writes
``results/records.json`` and ``records.md`` with the load average (the machine is shared:
rerun on a quiet one). Run from the repository root::

    python -m benchmarks.records
    python -m benchmarks.records --datasets hmda wide_100 --rounds 3 --tag smoke
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd

from tabdistill.data.encoder import TabularEncoder
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.evaluate.cost import single_row_latency
from tabdistill_runtime.records import compiled_reader, read_record

from .common.cli import argument_parser, command
from .common.datasets import SUITE_NAMES, load_suite
from .common.measure import load_averages
from .common.results import stem, write_results

WIDE = "wide_100"
TARGET_US = 3.0


def wide_table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A 100-column table: 55 numbers, 5 numbers as text, 30 text categories (one of 2,000
    levels), 5 yes/no flags, 5 dates (ISO with a zone, %m/%d/%Y %H:%M, %d-%b-%y, %Y/%m/%d,
    ISO dates); and a 0/1 target."""
    rng = np.random.default_rng(seed)
    cols, logit = {}, np.zeros(n)
    for k in range(55):
        x = rng.normal(size=n) * 10 ** rng.integers(0, 4)
        logit += x / np.abs(x).max() * (k % 5 == 0)
        x[rng.random(n) < 0.03] = np.nan
        cols[f"num_{k}"] = x
    for k in range(5):
        x = rng.gamma(2, 500, n)
        logit += (x > 1500) * 0.3 * (k == 0)
        cols[f"text_{k}"] = (
            [f"${v:,.2f}" for v in x] if k % 2 == 0 else [f"{v / 100:.1f}%" for v in x]
        )
    for k in range(30):
        levels = 2000 if k == 0 else int(rng.integers(3, 60))
        codes = rng.integers(0, levels, n)
        logit += (codes % 3 == 0) * 0.4 * (k < 3)
        cols[f"cat_{k}"] = [f"L{k}_{c}" for c in codes]
    for k in range(5):
        cols[f"flag_{k}"] = np.where(rng.random(n) < 0.3, "yes", "no")
    base = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, n), unit="s")
    logit += (base.hour.to_numpy() < 6) * 0.8
    layouts = ["%Y-%m-%dT%H:%M:%SZ", "%m/%d/%Y %H:%M", "%d-%b-%y", "%Y/%m/%d", "%Y-%m-%d"]
    for k, layout in enumerate(layouts):
        cols[f"date_{k}"] = (base + pd.Timedelta(days=17 * k)).strftime(layout)
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit - 1.5)))).astype(int)
    return pd.DataFrame(cols), y


def as_records(X: pd.DataFrame) -> list[dict]:
    """Rows as a JSON service receives them: Python values, ``None`` for missing."""
    out = []
    for row in X.astype(object).to_dict(orient="records"):
        record = {}
        for key, v in row.items():
            v = v.item() if hasattr(v, "item") else v
            record[key] = None if v is None or (isinstance(v, float) and v != v) else v
        out.append(record)
    return out


def load(name: str, args):
    if name == WIDE:
        X, y = wide_table(args.train + args.held_out, seed=0)
        return X, y
    X, y = load_suite(name, 0, args.nyc_rows, args.train + args.held_out)
    return X, np.asarray(y).astype(int) if y.dtype.kind in "biuf" else pd.factorize(y)[0]


def fit(name, args):
    X, y = load(name, args)
    if len(X) > args.train + args.held_out:
        X = X.sample(args.train + args.held_out, random_state=0)
        y = y[X.index] if isinstance(y, np.ndarray) else y.loc[X.index]
        X = X.reset_index(drop=True)
    y = np.asarray(y)
    cut = len(X) - min(args.held_out, len(X) // 4)
    enc = TabularEncoder().fit(X.iloc[:cut])
    student = make_student("lightgbm", categorical_mask=enc.categorical_mask_, random_state=0)
    student.fit(enc.transform(X.iloc[:cut]), (y[:cut] == y.max()).astype(float))
    return compile_student(student, enc.schema_), as_records(X.iloc[cut:])


def per_record(score_many, batches, repeats):
    """p50/p99 (µs a record) of ``score_many`` over ``batches`` (JSON texts of lists of
    records, each parsed just before its timed call), each timed once per repeat."""
    times = []
    for _ in range(repeats):
        for text in batches:
            batch = json.loads(text)
            start = time.perf_counter_ns()
            score_many(batch)
            times.append((time.perf_counter_ns() - start) / 1e3 / len(batch))
    return {"p50_us": float(np.percentile(times, 50)), "p99_us": float(np.percentile(times, 99))}


def measure(name, runtime, records, args) -> dict:
    schema = runtime.schema
    reader = compiled_reader(schema)
    rows = [read_record(schema, r) for r in records]
    python_scores = np.array([runtime.score_one(z) for z in rows])
    scores = np.array([runtime.score_record(json.loads(json.dumps(r))) for r in records])
    batch = runtime.score_records(records)
    texts = [json.dumps(r) for r in records]
    contenders = {
        "encoded": (runtime.score_one, np.copy, rows),
        "record": (runtime.score_record, json.loads, texts),
        "python_record": (lambda r: runtime.score_one(read_record(schema, r)), json.loads, texts),
    }
    batches = [json.dumps(records[i : i + args.batch]) for i in range(0, len(records), args.batch)]
    runs = {key: [] for key in [*contenders, "batch_of_records"]}
    for _ in range(args.rounds):
        for key, (score, make, items) in contenders.items():
            runs[key].append(
                single_row_latency(score, items, args.calls, args.calls // 10, prepare=make)
            )
        runs["batch_of_records"].append(per_record(runtime.score_records, batches, 3))
    result = {
        "dataset": name,
        "columns": len(schema.feature_names_in),
        "features": schema.n_features,
        "date_columns": len(schema.date_formats),
        "categorical_columns": int(schema.categorical_mask.sum()),
        "records": len(records),
        "read_in_c": None if reader is None else sum(reader(r, False) is not None for r in records),
        "identical_to_python": bool(scores.tobytes() == python_scores.tobytes() == batch.tobytes()),
    }
    for key, results in runs.items():
        for stat in ("p50_us", "p99_us"):
            result[f"{key}_{stat}"] = statistics.median(r[stat] for r in results)
    result["record_minus_encoded_p50_us"] = result["record_p50_us"] - result["encoded_p50_us"]
    result["batch_minus_encoded_p50_us"] = (
        result["batch_of_records_p50_us"] - result["encoded_p50_us"]
    )
    result["within_target"] = bool(
        max(result["record_minus_encoded_p50_us"], result["batch_minus_encoded_p50_us"])
        <= TARGET_US
    )
    return result


def markdown(report) -> str:
    lines = [
        "| dataset | columns (dates, categorical features) | encoded p50 / p99 µs | record "
        "p50 / p99 µs | record - encoded p50 µs | batch of records p50 / p99 µs a record | "
        "Python reader p50 / p99 µs | read in C | bit-identical | within 3 µs |",
        "|---" * 10 + "|",
    ]
    for r in report["datasets"]:
        lines.append(
            f"| {r['dataset']} | {r['columns']} ({r['date_columns']}, "
            f"{r['categorical_columns']}) | {r['encoded_p50_us']:.2f} / {r['encoded_p99_us']:.2f} "
            f"| {r['record_p50_us']:.2f} / {r['record_p99_us']:.2f} | "
            f"**{r['record_minus_encoded_p50_us']:+.2f}** | {r['batch_of_records_p50_us']:.2f} / "
            f"{r['batch_of_records_p99_us']:.2f} | {r['python_record_p50_us']:.2f} / "
            f"{r['python_record_p99_us']:.2f} | {r['read_in_c']}/{r['records']} | "
            f"{'yes' if r['identical_to_python'] else 'NO'} | "
            f"{'yes' if r['within_target'] else 'no'} |"
        )
    lines += [
        "",
        f"Default LightGBM student a set; {report['held_out']} held-out records; p50/p99 are "
        f"medians over {report['rounds']} interleaved rounds of {report['calls']} single-row "
        f"calls (batches of {report['batch']} records: per record). Load average "
        f"{report['load_before']} before, {report['load_after']} after; {report['cpus']} CPUs; "
        f"Python {report['python']}. Command: `{report['command']}`.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=[*SUITE_NAMES, WIDE])
    parser.add_argument("--train", type=int, default=20_000, help="training rows at most")
    parser.add_argument("--held-out", type=int, default=1_000, help="records scored")
    parser.add_argument("--nyc-rows", type=int, default=40_000)
    parser.add_argument("--calls", type=int, default=3_000, help="single-row calls a round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="records a batch")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args()
    report = {
        "command": command(__spec__.name),
        "load_before": load_averages(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "rounds": args.rounds,
        "calls": args.calls,
        "batch": args.batch,
        "held_out": args.held_out,
        "datasets": [],
    }
    for name in args.datasets:
        runtime, records = fit(name, args)
        result = measure(name, runtime, records, args)
        report["datasets"].append(result)
        print(
            f"{name}: record {result['record_p50_us']:.2f} vs encoded "
            f"{result['encoded_p50_us']:.2f} us p50",
            flush=True,
        )
    report["load_after"] = load_averages()
    write_results(stem("records", args.tag), report, markdown(report))


if __name__ == "__main__":
    main()
