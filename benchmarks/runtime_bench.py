"""Single-row latency and batch throughput of the default student, every way it can be scored.

On the synthetic fraud set (100k rows, 1% fraud), fits the default
DistilledClassifier and times, in one process and one run:

* the teacher (each member's ``predict_proba``, one thread);
* the student through LightGBM's own ``Booster.predict``;
* the student through the tabdistill runtime: ``score_one`` (1-D NumPy row),
  ``score_record`` (dict), ``score_encoded`` (encoded rows, 2 threads), with the compiled C
  kernels and with the numba fallback;
* the student exported by ``tabdistill export``: the C file compiled with the
  system compiler (called through ctypes), and the ONNX graph in onnxruntime;
* treelite/tl2cgen (compiled C; ``pip install -e .[bench]``); lleaves is tried too.

Every contender's probabilities are checked against LightGBM's first. Cold
start is measured in fresh processes (after one untimed run, so the disk is
warm): ``import`` + ``CompiledModel.load`` + the first ``score_one``.
Writes ``benchmarks/results/runtime.json`` and ``runtime.md``. Run from the
repository root: ``python -m benchmarks.runtime_bench`` (``--rows 30000`` for a shorter run).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from tabdistill import DistilledClassifier, make_fraud
from tabdistill.data import split_target
from tabdistill.distill.sizes import round_steps
from tabdistill.evaluate.cost import batch_throughput, single_row_latency
from tabdistill.export.c_source import write_c
from tabdistill.export.onnx_graph import to_onnx
from tabdistill.runtime import CompiledModel

from .common.cli import argument_parser
from .common.results import RESULTS, write_results


def single_thread(teacher):
    """Members predict one row fastest on one thread (thread pools cost more than the work)."""
    for est in teacher.estimators_.values():
        if "n_jobs" in est.get_params():
            est.set_params(n_jobs=1)


def onnx_contender(runtime):
    """The graph of ``tabdistill export --format onnx`` (float64 rows) in onnxruntime."""
    import onnxruntime as ort

    blob = to_onnx(runtime).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    batch_session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])

    def one(z):
        return session.run(None, {"X": z[None, :]})[0][0, 0]

    def batch(Z):
        return batch_session.run(None, {"X": Z})[0][:, 0]

    return one, batch, "tabdistill export --format onnx, onnxruntime (float64 inputs)"


def exported_c_contender(runtime):
    """The C of ``tabdistill export --format c``, compiled -O2 and called through ctypes."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler")
    folder = Path(tempfile.mkdtemp())
    write_c(runtime, folder, "student")
    lib = folder / "libstudent.so"
    subprocess.run(
        [cc, "-O2", "-shared", "-fPIC", str(folder / "student.c"), "-o", str(lib), "-lm"],
        check=True,
    )
    dll = ctypes.CDLL(str(lib))
    doubles = ctypes.POINTER(ctypes.c_double)
    score, score_batch = dll.student_score, dll.student_score_batch
    score.restype, score.argtypes = ctypes.c_double, [doubles]
    score_batch.argtypes = [doubles, ctypes.c_long, doubles]

    def one(z):
        return score(z.ctypes.data_as(doubles))

    def batch(Z):
        Z = np.ascontiguousarray(Z)
        out = np.empty(len(Z))
        score_batch(Z.ctypes.data_as(doubles), len(Z), out.ctypes.data_as(doubles))
        return out

    return one, batch, "tabdistill export --format c, gcc -O2, one thread, via ctypes"


_COLD = """
import time
t0 = time.perf_counter()
import numpy as np
from tabdistill.runtime import CompiledModel
t1 = time.perf_counter()
m = CompiledModel.load({path!r})
t2 = time.perf_counter()
m.score_one(np.zeros(m.n_features))
t3 = time.perf_counter()
import sys
heavy = sorted(k for k in ("pandas", "sklearn", "scipy", "lightgbm", "numba") if k in sys.modules)
print(t1 - t0, t2 - t1, t3 - t2, ",".join(heavy) or "-", m.backend)
"""


def cold_start(path, runs=7, backend="auto"):
    """Median seconds of import / load / first score_one in fresh processes, warm disk."""
    env = {**os.environ, "TABDISTILL_KERNELS": backend}
    code = _COLD.format(path=str(path))
    samples = []
    for i in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        if i:  # the first run warms the disk and the caches
            samples.append(out)
    parts = [statistics.median(float(s[k]) for s in samples) for k in range(3)]
    return {
        "import_s": parts[0],
        "load_s": parts[1],
        "first_score_s": parts[2],
        "total_s": sum(parts),
        "heavy_modules_imported": samples[0][3],
        "backend": samples[0][4],
        "runs": runs,
    }


def treelite_contender(booster):
    import tl2cgen
    import treelite

    model = treelite.frontend.from_lightgbm(booster)
    lib = os.path.join(tempfile.mkdtemp(), "student.so")
    tl2cgen.export_lib(model, toolchain="gcc", libpath=lib, params={"parallel_comp": 4})
    predictor = tl2cgen.Predictor(lib, nthread=os.cpu_count())
    single = tl2cgen.Predictor(lib, nthread=1)

    def one(z):
        return single.predict(tl2cgen.DMatrix(z[None, :]))[0, 0, 0]

    def batch(Z):
        return predictor.predict(tl2cgen.DMatrix(Z)).ravel()

    return one, batch, "treelite + tl2cgen (C compiled with gcc)"


def lleaves_contender(booster):
    import lleaves

    path = tempfile.mktemp(suffix=".txt")
    booster.save_model(path)
    model = lleaves.Model(model_file=path)
    model.compile()
    return (lambda z: model.predict(z[None, :])[0]), model.predict, "lleaves (LLVM compiled)"


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    X, y = split_target(make_fraud(args.rows, fraud_rate=0.01, random_state=args.seed), "is_fraud")
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=args.seed)
    model = DistilledClassifier(random_state=args.seed, n_jobs=2).fit(X_tr, y_tr)
    runtime, teacher = model.runtime_, model.teacher_
    booster = model.student_[-1].booster_
    runtime_path = Path(tempfile.mkdtemp()) / "runtime.npz"
    runtime.save(runtime_path)
    os.environ["TABDISTILL_KERNELS"] = "numba"
    fallback = CompiledModel.load(runtime_path)
    os.environ.pop("TABDISTILL_KERNELS")
    Z = model.encoder_.transform(X_te)
    rows = list(Z[:2_000])
    records = [{k: v for k, v in r.items() if v == v} for r in X_te.head(2_000).to_dict("records")]
    reference = booster.predict(Z)
    single_thread(teacher)

    contenders = {
        "teacher": (
            lambda z: teacher.predict_proba_encoded(z[None, :])[0],
            teacher.predict_proba_encoded,
            "weighted ensemble, members' predict_proba",
        ),
        "student, LightGBM predict": (
            lambda z: booster.predict(z[None, :], num_threads=1)[0],
            booster.predict,
            "lightgbm.Booster.predict",
        ),
        "student, tabdistill runtime": (
            runtime.score_one,
            runtime.score_encoded,
            f"compiled C kernels: score_one on a 1-D float64 row; score_encoded, "
            f"{runtime.n_threads} threads",
        ),
        "student, tabdistill runtime (numba fallback)": (
            fallback.score_one,
            fallback.score_encoded,
            "numba kernels (TABDISTILL_KERNELS=numba)",
        ),
    }
    for name, factory, source in (
        ("student, exported C", exported_c_contender, runtime),
        ("student, exported ONNX in onnxruntime", onnx_contender, runtime),
        ("student, treelite/tl2cgen", treelite_contender, booster),
        ("student, lleaves", lleaves_contender, booster),
    ):
        try:
            contenders[name] = factory(source)
        except Exception as exc:  # an optional package missing or failing is a finding, not a crash
            contenders[name] = (None, None, f"unavailable: {type(exc).__name__}: {str(exc)[:160]}")

    results = {
        "dataset": f"make_fraud({args.rows}, fraud_rate=0.01, random_state={args.seed})",
        "student": {
            "n_trees": runtime.n_trees,
            "runtime_bytes": runtime.nbytes,
            "file_bytes": runtime_path.stat().st_size,
            # trees per depth: the runtime walks each tree to its full depth
            "depths": np.bincount(round_steps(booster, None).astype(int)).tolist(),
        },
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "cold_start": {
            "compiled C kernels": cold_start(runtime_path),
            "numba fallback": cold_start(runtime_path, backend="numba"),
        },
        "contenders": {},
    }
    for name, (one, batch, how) in contenders.items():
        entry = {"how": how}
        if one is not None:
            is_teacher = name == "teacher"
            parity = None if is_teacher else float(np.abs(np.ravel(batch(Z)) - reference).max())
            lat = single_row_latency(
                one, rows, n_calls=args.calls // 10 if is_teacher else args.calls
            )
            thr = batch_throughput(batch, Z, min_rows=100_000 if is_teacher else args.batch_rows)
            entry.update(
                {
                    "max_abs_diff_vs_lightgbm": parity,
                    "single_row_p50_us": lat["p50_us"],
                    "single_row_p99_us": lat["p99_us"],
                    "batch_rows_per_second": thr["rows_per_second"],
                    "batch_rows": thr["rows"],
                }
            )
        results["contenders"][name] = entry
        print(name, {k: v for k, v in entry.items() if k != "how"}, flush=True)
    rec = single_row_latency(runtime.score_record, records, n_calls=args.calls)
    results["record_path"] = {
        "single_row_p50_us": rec["p50_us"],
        "single_row_p99_us": rec["p99_us"],
    }
    c = results["contenders"]
    rt = c["student, tabdistill runtime"]
    results["ratios"] = {
        "runtime_vs_lightgbm_single_row_p50": c["student, LightGBM predict"]["single_row_p50_us"]
        / rt["single_row_p50_us"],
        "runtime_vs_teacher_single_row_p50": c["teacher"]["single_row_p50_us"]
        / rt["single_row_p50_us"],
    }
    tl = c.get("student, treelite/tl2cgen", {})
    if "batch_rows_per_second" in tl:
        results["ratios"]["runtime_vs_treelite_batch"] = (
            rt["batch_rows_per_second"] / tl["batch_rows_per_second"]
        )
    write_results("runtime", results, markdown(results), args.out)


def markdown(r):
    lines = [
        "| scorer | single-row p50 µs | p99 µs | batch rows/s | max abs diff vs LightGBM |",
        "|---|---|---|---|---|",
    ]
    for name, e in r["contenders"].items():
        if "single_row_p50_us" not in e:
            lines.append(f"| {name} | – | – | – | {e['how']} |")
            continue
        diff = (
            "–" if e["max_abs_diff_vs_lightgbm"] is None else f"{e['max_abs_diff_vs_lightgbm']:.1e}"
        )
        lines.append(
            f"| {name} | {e['single_row_p50_us']:,.1f} | {e['single_row_p99_us']:,.1f} | "
            f"{e['batch_rows_per_second']:,.0f} | {diff} |"
        )
    rec = r["record_path"]
    lines.append(
        f"| student, runtime `score_record` (dict) | {rec['single_row_p50_us']:,.1f} | "
        f"{rec['single_row_p99_us']:,.1f} | – | – |"
    )
    lines += [
        "",
        "| cold start (fresh process, warm disk, median) | import | load | first score_one "
        "| total | heavy modules imported |",
        "|---|---|---|---|---|---|",
    ]
    for name, cs in r["cold_start"].items():
        lines.append(
            f"| {name} | {cs['import_s']:.3f} s | {cs['load_s']:.3f} s | "
            f"{cs['first_score_s']:.3f} s | **{cs['total_s']:.3f} s** | "
            f"{cs['heavy_modules_imported']} |"
        )
    ratios = r["ratios"]
    vs_lgb = ratios["runtime_vs_lightgbm_single_row_p50"]
    vs_teacher = ratios["runtime_vs_teacher_single_row_p50"]
    student = r["student"]
    lines += [
        "",
        f"Runtime vs LightGBM's own predict, one row (p50): **{vs_lgb:,.0f}×** faster; "
        f"vs the teacher: **{vs_teacher:,.0f}×**"
        + (
            f"; batch vs treelite: **{ratios['runtime_vs_treelite_batch']:.1f}×**"
            if "runtime_vs_treelite_batch" in ratios
            else ""
        )
        + f". Student: {student['n_trees']} trees (depths {student['depths']}), "
        f"{student['file_bytes']:,}-byte runtime file; {r['cpus']} CPUs, load average "
        f"{r['load_average'][0]:.1f} when it ran; {r['dataset']}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
