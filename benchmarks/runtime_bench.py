"""Single-row latency and batch throughput of the default student, every way it can be scored.

On the synthetic fraud set (100k rows, 1% fraud), fits the default
DistilledClassifier and times, in one process and one run:

* the teacher (each member's ``predict_proba``, one thread);
* the student through LightGBM's own ``Booster.predict``;
* the student through the tabdistill runtime: ``score_one`` (1-D NumPy row),
  ``score_record`` (dict), ``score_batch``;
* where they install from the package registry (``pip install -e .[bench]``):
  onnxruntime (via onnxmltools) and treelite/tl2cgen (compiled C); lleaves
  is tried too.

Every contender's probabilities are checked against LightGBM's first.
Writes ``benchmarks/results/runtime.json`` and ``runtime.md``. Run from the
repository root: ``python benchmarks/runtime_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from tabdistill import DistilledClassifier, make_fraud
from tabdistill.data import split_target
from tabdistill.evaluate.benchmark import _single_thread
from tabdistill.evaluate.cost import batch_throughput, single_row_latency

RESULTS = Path(__file__).resolve().parent / "results"


def _lightgbm_as_binary(booster):
    """The same model declared with objective ``binary sigmoid:1``.

    onnxmltools refuses ``cross_entropy``; both objectives turn the raw score
    into a probability with the same sigmoid, so predictions are identical
    (checked below).
    """
    import lightgbm as lgb

    text = booster.model_to_string()
    text = text.replace("objective=cross_entropy", "objective=binary sigmoid:1")
    text = text.replace("[objective: cross_entropy]", "[objective: binary]")  # parameters block
    return lgb.Booster(model_str=text)


def onnx_contender(booster, n_features):
    import onnxmltools
    import onnxruntime as ort
    from onnxmltools.convert.common.data_types import FloatTensorType

    onx = onnxmltools.convert_lightgbm(
        _lightgbm_as_binary(booster),
        zipmap=False,
        target_opset=15,
        initial_types=[("x", FloatTensorType([None, n_features]))],
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    batch_session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name

    def one(z):
        return session.run(None, {name: z[None, :].astype(np.float32)})[1][0, 1]

    def batch(Z):
        return batch_session.run(None, {name: Z.astype(np.float32)})[1][:, 1]

    return one, batch, "onnxruntime (float32 inputs, as ONNX trees take)"


def treelite_contender(booster, n_features):
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


def lleaves_contender(booster, n_features):
    import lleaves

    path = tempfile.mktemp(suffix=".txt")
    booster.save_model(path)
    model = lleaves.Model(model_file=path)
    model.compile()
    return (lambda z: model.predict(z[None, :])[0]), model.predict, "lleaves (LLVM compiled)"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    Z = model.encoder_.transform(X_te)
    rows = list(Z[:2_000])
    records = [{k: v for k, v in r.items() if v == v} for r in X_te.head(2_000).to_dict("records")]
    reference = booster.predict(Z)
    _single_thread(teacher)

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
            runtime.score_batch,
            "score_one on a 1-D float64 row; score_batch",
        ),
    }
    for name, factory in (
        ("student, onnxruntime", onnx_contender),
        ("student, treelite/tl2cgen", treelite_contender),
        ("student, lleaves", lleaves_contender),
    ):
        try:
            contenders[name] = factory(booster, Z.shape[1])
        except Exception as exc:  # an optional package missing or failing is a finding, not a crash
            contenders[name] = (None, None, f"unavailable: {type(exc).__name__}: {str(exc)[:160]}")

    results = {
        "dataset": f"make_fraud({args.rows}, fraud_rate=0.01, random_state={args.seed})",
        "student": {"n_trees": runtime.n_trees, "runtime_bytes": runtime.nbytes},
        "cpus": os.cpu_count(),
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
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "runtime.json").write_text(json.dumps(results, indent=2))
    (args.out / "runtime.md").write_text(markdown(results))
    print(markdown(results))


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
    ratios = r["ratios"]
    vs_lgb = ratios["runtime_vs_lightgbm_single_row_p50"]
    vs_teacher = ratios["runtime_vs_teacher_single_row_p50"]
    student = r["student"]
    lines += [
        "",
        f"Runtime vs LightGBM's own predict, one row (p50): **{vs_lgb:,.0f}×** faster; "
        f"vs the teacher: **{vs_teacher:,.0f}×**. Student: {student['n_trees']} trees, "
        f"{student['runtime_bytes']:,} bytes of arrays; {r['cpus']} CPUs; {r['dataset']}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
