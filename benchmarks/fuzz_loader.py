"""Fuzz the loaders: thousands of mutated and crafted files, each loaded in a watched process.

Case classes, in this order (shares of ``--files``):

* **mutations** (60%; ``tests/fuzzing.py``): byte flips, truncation, flips inside
  a well-formed container, well-formed files with random arrays or a damaged
  JSON header, byte flips of the same model in the old format version 2; of a
  LightGBM student with categorical splits and of a linear student;
* **sparse** (5%), **zeros** (10%), **declared** (10%), **bombs** (5%)
  (``tests/crafted.py``): sparse files of 1-8 GiB, zero-filled bodies with a
  valid CRC-32 up to 384 MiB, files whose declared sizes lie, header bombs and
  well-formed tree models of 0.5-2.5 M nodes;
* **skops** (10%): saved full models (LightGBM, scikit-learn tree) with or without
  their digest, a digit edited in a LightGBM model string, a byte flipped in any
  member or the file cut short, loaded with ``load_model``.

A worker process loads each file (``CompiledModel.load`` from its path or
bytes, or ``load_model``) and, if it loads, scores rows, reporting each file
before and after, with the peak resident memory of loading and scoring that
file (the process's high-water mark, reset before each file: it includes the
worker's own ~35-40 MB, and LightGBM's and scikit-learn's for **skops**). The
parent waits at most ``--timeout`` seconds per file: a file that times out is a
**hang**, a worker killed by a signal (an abort, a segfault) is a **crash**;
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
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"

CLASSES = (
    ("mutations", 0.6),
    ("sparse", 0.05),
    ("zeros", 0.1),
    ("declared", 0.1),
    ("bombs", 0.05),
    ("skops", 0.1),
)
#: Tree models of many nodes for the "bombs" class: (trees, leaves a tree).
BIG_MODELS = (
    (4_000, 64),
    (5_400, 128),
    (10_000, 128),
)  # 0.5 M, 1.38 M (the cap: 1.40 M), 2.55 M nodes


def plan(n_files: int) -> list[tuple[str, int, int]]:
    """``(class, first index, end)`` of each case class for ``n_files`` files."""
    out, at = [], 0
    for i, (name, share) in enumerate(CLASSES):
        end = n_files if i == len(CLASSES) - 1 else at + round(share * n_files)
        out.append((name, at, end))
        at = end
    return out


def build_models(folder: Path) -> None:
    """The fuzzed models: runtime files, saved full models, large tree models, rows."""
    import lightgbm as lgb
    from sklearn.tree import DecisionTreeClassifier

    from tabdistill import make_fraud
    from tabdistill.data import TabularEncoder, split_target
    from tabdistill.distill.context import make_student
    from tabdistill.distill.students import compile_student
    from tabdistill.ops.persist import save_model
    from tabdistill_runtime import CompiledModel
    from tests.crafted import tiled_trees

    X, y = split_target(make_fraud(3_000, fraud_rate=0.05, random_state=1), "is_fraud")
    enc = TabularEncoder().fit(X)
    Z = enc.transform(X)
    Z[::9, 0] = np.nan
    np.save(folder / "rows.npy", Z[:500])
    for name, params in (("lightgbm", {"n_estimators": 30}), ("linear", {})):
        student = make_student(name, params, categorical_mask=enc.categorical_mask_)
        runtime = compile_student(student.fit(Z, y.to_numpy().astype(float)), enc.schema_)
        runtime.save(folder / f"{name}.npz")
    Zf = np.nan_to_num(Z)
    save_model(
        lgb.LGBMClassifier(n_estimators=20, num_leaves=15, verbose=-1).fit(Zf, y),
        folder / "lightgbm.skops",
    )
    save_model(DecisionTreeClassifier(max_depth=6).fit(Zf, y), folder / "sklearn_tree.skops")
    meta = {"source": "lightgbm", "output": 1, "base": 0.0, "n_outputs": 1}
    for trees, leaves in BIG_MODELS:
        arrays = tiled_trees(trees, leaves, enc.schema_.n_features)
        nodes = len(arrays["feature"])
        big = CompiledModel("trees", arrays, enc.schema_, meta)
        big.save(folder / f"big_{nodes // 1000}k_nodes.npz")


def _peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # the high-water mark back to the current resident size


def _peak_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) / 1024 for x in fh if x.startswith("VmHWM"))


class Scorer:
    """Loads one crafted or mutated file and scores it; knows the good scores."""

    def __init__(self, folder: Path, seed: int):
        from tabdistill_runtime import CompiledModel
        from tests.crafted import CraftedRuntime
        from tests.fuzzing import Mutator

        self.folder, self.seed = folder, seed
        self.rows = np.load(folder / "rows.npy")
        models = [CompiledModel.load(folder / f"{n}.npz") for n in ("lightgbm", "linear")]
        self.expected = [m.score_encoded(self.rows) for m in models]
        self.mutators = [Mutator(m, seed) for m in models]
        big = sorted(folder.glob("big_*.npz"))
        self.crafted = CraftedRuntime(models[0], big=big, seed=seed)
        self.skops = None

    def make(self, case: str, i: int):
        """``(kind, file path or bytes, which good model it was made from)``."""
        if case == "mutations":
            which = 0 if i % 5 else 1  # one file in five is the linear student's
            kind, blob = self.mutators[which](i)
            return kind, blob, which
        if case == "skops":
            return (*self.skops_maker()(i, self.folder), None)
        kind, source = self.crafted(case, i, self.folder)
        return kind, source, 0

    def skops_maker(self):
        if self.skops is None:
            from tests.crafted import CraftedSkops

            names = ("lightgbm", "sklearn_tree")
            self.skops = CraftedSkops({n: self.folder / f"{n}.skops" for n in names}, self.seed)
            self.skops_rows = np.nan_to_num(self.rows)
            self.skops_expected = {}
        return self.skops

    def outcome(self, source, which) -> str:
        from tabdistill.exceptions import ArtifactError

        try:
            if which is None:
                return self.skops_outcome(source)
            from tabdistill_runtime import CompiledModel

            model = CompiledModel.load(source)
        except ArtifactError:
            return "refused"
        rows = self.rows
        if model.n_features != rows.shape[1]:  # the big models: their own width
            rows = np.zeros((500, model.n_features))
        scores = model.score_encoded(rows)
        one = model.score_one(rows[1])
        if not (np.isfinite(scores).all() and np.isfinite(one).all()):
            return "non-finite scores"
        if model.n_features == self.rows.shape[1] and np.array_equal(scores, self.expected[which]):
            return "identical"
        return "loaded, other scores"

    def skops_outcome(self, path) -> str:
        from tabdistill.ops.persist import load_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # files without a digest warn
            model = load_model(path)
            scores = model.predict_proba(self.skops_rows)
        if not np.isfinite(scores).all():
            return "non-finite scores"
        good = "lightgbm" if "LGBM" in type(model).__name__ else "sklearn_tree"
        if good not in self.skops_expected:
            expected = load_model(self.folder / f"{good}.skops").predict_proba(self.skops_rows)
            self.skops_expected[good] = expected
        same = np.array_equal(scores, self.skops_expected[good])
        return "identical" if same else "loaded, other scores"


def worker(folder: Path, start: int, stop: int, seed: int, n_files: int):
    """Load and score files ``start .. stop-1``, one line on stdout before and after each."""
    scorer = Scorer(folder, seed)
    cases = plan(n_files)
    for i in range(start, stop):
        case = next(name for name, lo, hi in cases if lo <= i < hi)
        kind, source, which = scorer.make(case, i)
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        print(f"start {i}", flush=True)
        _peak_reset()
        outcome = scorer.outcome(source, which)
        peak = _peak_mb()
        if isinstance(source, Path) and source.name.startswith(("crafted-", "tampered-")):
            source.unlink()
        label = f"{case}:{kind.split(' ')[0]}"
        print(f"done {i} {peak:.1f} {size} {label}|{outcome}", flush=True)


def _spawn(folder, nxt, n_files, seed):
    stderr = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would block
    proc = subprocess.Popen(
        [sys.executable, "-m", __spec__.name, "--worker"]
        + [str(folder), str(nxt), str(n_files), str(seed)],
        cwd=ROOT.parent,  # the repository root: the worker imports tests.fuzzing
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    return proc, stderr


def run(n_files, timeout, seed, folder):
    counts, peaks, sizes = Counter(), defaultdict(float), defaultdict(int)
    crashes, hangs, errors, nxt = [], [], [], 0
    started = time.perf_counter()
    while nxt < n_files:
        proc, stderr = _spawn(folder, nxt, n_files, seed)
        current = None
        while True:
            # a worker starting (imports, models) or making the next file gets 10x the time
            wait = timeout if current is not None else 10 * timeout
            ready, _, _ = select.select([proc.stdout], [], [], wait)
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
            word, index, *rest = line.strip().split(maxsplit=4)
            if word == "start":
                current = int(index)
                continue
            peak, size, (label, outcome) = float(rest[0]), int(rest[1]), rest[2].split("|")
            case = label.split(":")[0]
            counts[(label, outcome)] += 1
            peaks[case], sizes[case] = max(peaks[case], peak), max(sizes[case], size)
            if size <= 10 << 20:
                peaks[f"{case} (files <= 10 MB)"] = max(peaks[f"{case} (files <= 10 MB)"], peak)
            current, nxt = None, int(index) + 1
    return {
        "files": n_files,
        "seed": seed,
        "timeout_s": timeout,
        "seconds": round(time.perf_counter() - started, 1),
        "uptime": os.getloadavg(),
        "crashes": crashes,
        "hangs": hangs,
        "uncaught_errors": errors,
        "classes": {name: hi - lo for name, lo, hi in plan(n_files)},
        "peak_mb": {k: round(v, 1) for k, v in peaks.items()},
        "largest_file_bytes": dict(sizes),
        "outcomes": {f"{k} / {o}": c for (k, o), c in sorted(counts.items())},
    }


def markdown(r) -> str:
    lines = [
        f"{r['files']:,} mutated and crafted files (seed {r['seed']}), each loaded and scored "
        f"in a watched worker process, {r['timeout_s']} s timeout per file, "
        f"{r['seconds']:.0f} s in all (load average {r['uptime'][0]:.1f}): "
        f"**{len(r['crashes'])} crashes (aborts included), {len(r['hangs'])} hangs, "
        f"{len(r['uncaught_errors'])} errors other than ArtifactError** "
        f"(`python -m benchmarks.fuzz_loader --files {r['files']} --seed {r['seed']}`).",
        "",
        "Peak resident memory of the worker while it loads and scores one file (its own "
        "baseline included: ~40 MB, and LightGBM's and scikit-learn's for skops), the largest "
        "per case class; the runtime loader's files are refused unread above 64 MiB:",
        "",
        "| case class | files | largest file | peak MB, any file | peak MB, files <= 10 MB |",
        "|---|---|---|---|---|",
    ]
    for name, n in r["classes"].items():
        size = r["largest_file_bytes"].get(name, 0)
        shown = f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"
        small = r["peak_mb"].get(f"{name} (files <= 10 MB)")
        small = "–" if small is None else f"{small:.0f}"
        lines.append(f"| {name} | {n:,} | {shown} | {r['peak_mb'].get(name, 0):.0f} | {small} |")
    lines += ["", "| case class: kind / outcome | files |", "|---|---|"]
    lines += [f"| {k} | {c:,} |" for k, c in r["outcomes"].items()]
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        folder, start, stop, seed = sys.argv[2:6]
        worker(Path(folder), int(start), int(stop), int(seed), int(stop))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=60.0)
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
    sys.exit(1 if result["crashes"] or result["hangs"] or result["uncaught_errors"] else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
