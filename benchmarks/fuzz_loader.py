"""Fuzz the runtime loader: thousands of mutated files, each loaded and scored in a watched process.

Mutations (``tests/fuzzing.py``): byte flips, truncation, flips inside a
well-formed container, well-formed files with random arrays or a damaged JSON
header, byte flips of the same model in the old format version 2; of a
LightGBM student with categorical splits and of a linear student. A worker
process loads each file (``CompiledModel.load`` on the bytes) and, if it
loads, scores 500 encoded rows (``score_encoded`` and ``score_one``), reporting
each file before and after. The parent waits at most ``--timeout`` seconds per
file: a file that times out is a **hang**, a worker that dies is a **crash**;
either way a new worker resumes at the next file. Outcomes: refused (an
``ArtifactError``), identical scores, or loaded with other (finite) scores,
which only a well-formed change of values may give.

Writes ``benchmarks/results/fuzz.json`` and ``fuzz.md``. Run from the
repository root: ``python -m benchmarks.fuzz_loader --files 10000``.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"


def build_models(folder: Path) -> list[Path]:
    """A LightGBM and a linear student of a small fraud set, saved as runtime files."""
    from tabdistill import make_fraud
    from tabdistill.data import TabularEncoder, split_target
    from tabdistill.distill.students import compile_student, make_student

    X, y = split_target(make_fraud(3_000, fraud_rate=0.05, random_state=1), "is_fraud")
    enc = TabularEncoder().fit(X)
    Z = enc.transform(X)
    Z[::9, 0] = np.nan
    np.save(folder / "rows.npy", Z[:500])
    paths = []
    for name, params in (("lightgbm", {"n_estimators": 30}), ("linear", {})):
        student = make_student(name, params, categorical_mask=enc.categorical_mask_)
        runtime = compile_student(student.fit(Z, y.to_numpy().astype(float)), enc.schema_)
        paths.append(runtime.save(folder / f"{name}.npz"))
    return paths


def worker(folder: Path, start: int, stop: int, seed: int):
    """Load and score files ``start .. stop-1``, one line on stdout before and after each."""
    from tabdistill.exceptions import ArtifactError
    from tabdistill.runtime import CompiledModel
    from tests.fuzzing import Mutator

    rows = np.load(folder / "rows.npy")
    models = [CompiledModel.load(folder / name) for name in ("lightgbm.npz", "linear.npz")]
    expected = [m.score_encoded(rows) for m in models]
    mutators = [Mutator(m, seed) for m in models]
    for i in range(start, stop):
        which = 0 if i % 5 else 1  # one file in five is the linear student's
        kind, blob = mutators[which](i)
        print(f"start {i}", flush=True)
        try:
            model = CompiledModel.load(blob)
        except ArtifactError:
            outcome = "refused"
        else:
            scores = model.score_encoded(rows)
            one = model.score_one(rows[1])
            if not (np.isfinite(scores).all() and np.isfinite(one)):
                outcome = "non-finite scores"
            elif np.array_equal(scores, expected[which]):
                outcome = "identical"
            else:
                outcome = "loaded, other scores"
        print(f"done {i} {kind} {outcome}", flush=True)


def run(n_files, timeout, seed, folder):
    counts, crashes, hangs, errors = Counter(), [], [], []
    nxt = 0
    started = time.perf_counter()
    while nxt < n_files:
        stderr = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would block
        proc = subprocess.Popen(
            [sys.executable, "-m", __spec__.name, "--worker"]
            + [str(folder), str(nxt), str(n_files), str(seed)],
            cwd=ROOT.parent,  # the repository root: the worker imports tests.fuzzing
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        current = None
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:  # no line for `timeout` seconds: the current file hangs
                proc.kill()
                proc.wait()
                hangs.append(current)
                nxt = (current if current is not None else nxt) + 1
                break
            line = proc.stdout.readline()
            if not line:  # the worker ended
                code = proc.wait()
                if code == 0:
                    nxt = n_files
                else:  # died: while loading/scoring `current`, or making the next file
                    at = current if current is not None else nxt
                    stderr.seek(0)
                    tail = stderr.read()[-400:].decode(errors="replace")
                    (crashes if code < 0 else errors).append(
                        {"file": at, "code": code, "stderr": tail}
                    )
                    nxt = at + 1
                break
            word, index, *rest = line.strip().split(maxsplit=3)
            if word == "start":
                current = int(index)
            else:
                counts[(rest[0], rest[1])] += 1
                current = None
                nxt = int(index) + 1
    seconds = time.perf_counter() - started
    return {
        "files": n_files,
        "seed": seed,
        "timeout_s": timeout,
        "seconds": round(seconds, 1),
        "crashes": crashes,
        "hangs": hangs,
        "uncaught_errors": errors,
        "outcomes": {f"{k} / {o}": c for (k, o), c in sorted(counts.items())},
    }


def markdown(r) -> str:
    lines = [
        f"{r['files']:,} mutated runtime files (seed {r['seed']}), each loaded and scored in "
        f"a watched worker process, {r['timeout_s']} s timeout per file, "
        f"{r['seconds']:.0f} s in all: "
        f"**{len(r['crashes'])} crashes, {len(r['hangs'])} hangs, "
        f"{len(r['uncaught_errors'])} errors other than ArtifactError**.",
        "",
        "| mutation / outcome | files |",
        "|---|---|",
    ]
    lines += [f"| {k} | {c:,} |" for k, c in r["outcomes"].items()]
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        folder, start, stop, seed = sys.argv[2:6]
        worker(Path(folder), int(start), int(stop), int(seed))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_models(Path(tmp))
        result = run(args.files, args.timeout, args.seed, Path(tmp))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fuzz.json").write_text(json.dumps(result, indent=2))
    (args.out / "fuzz.md").write_text(markdown(result))
    print(markdown(result))
    sys.exit(1 if result["crashes"] or result["hangs"] else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
