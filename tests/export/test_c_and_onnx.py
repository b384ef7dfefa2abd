"""Export: the C code compiled with the system compiler, and ONNX through onnxruntime."""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from tabdistill import make_fraud
from tabdistill.compress.quantize import quantize_leaves
from tabdistill.data import TabularEncoder, split_target
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.export.c_source import to_c, write_c

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
DOUBLES = ctypes.POINTER(ctypes.c_double)


@pytest.fixture(scope="module")
def fraud_rows():
    X, y = split_target(make_fraud(5_000, fraud_rate=0.05, random_state=4), "is_fraud")
    enc = TabularEncoder().fit(X)
    Xt, _ = split_target(make_fraud(10_000, random_state=9), "is_fraud")
    Xt.loc[::7, "country"] = "ZZ"  # unseen
    Xt.loc[::9, "merchant_category"] = np.nan
    Xt.loc[::11, "amount"] = np.nan
    Xt.loc[::13, "amount"] = 1e300
    return enc, enc.transform(X), y.to_numpy().astype(float), enc.transform(Xt)


@pytest.fixture(scope="module")
def students(fraud_rows):
    enc, Z, y, _ = fraud_rows
    out = {}
    for name in ("lightgbm", "tree"):
        student = make_student(name, categorical_mask=enc.categorical_mask_, random_state=0)
        out[name] = compile_student(student.fit(Z, y), enc.schema_)
    out["lightgbm int8"] = quantize_leaves(out["lightgbm"], "int8")[0]
    linear = make_student("linear", categorical_mask=enc.categorical_mask_, random_state=0)
    out["linear"] = compile_student(linear.fit(Z, y), enc.schema_)
    return out


@pytest.fixture(scope="module")
def linear_3_classes(fraud_rows):
    """A 3-class linear student (soft targets from the amount's tertiles and the label)."""
    enc, Z, y, _ = fraud_rows
    amount = np.nan_to_num(Z[:, list(enc.schema_.features).index("amount")])
    band = np.digitize(amount, np.quantile(amount, [1 / 3, 2 / 3]))
    Q = 0.8 * np.eye(3)[band] + 0.2 * np.column_stack([y, 1 - y, np.zeros_like(y)])
    student = make_student("linear", categorical_mask=enc.categorical_mask_, random_state=0)
    return compile_student(student.fit(Z, Q), enc.schema_)


def _compile(tmp_path, runtime, name):
    write_c(runtime, tmp_path, name)
    lib = tmp_path / f"lib{name}.so"
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC"]
    subprocess.run([CC, *flags, str(tmp_path / f"{name}.c"), "-o", str(lib), "-lm"], check=True)
    dll = ctypes.CDLL(str(lib))
    score = getattr(dll, f"{name}_score")
    score.restype = ctypes.c_double
    score.argtypes = [DOUBLES]
    batch = getattr(dll, f"{name}_score_batch")
    batch.argtypes = [DOUBLES, ctypes.c_long, DOUBLES]
    return score, batch


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.parametrize("kind", ["lightgbm", "tree", "lightgbm int8", "linear"])
def test_exported_c_matches_the_runtime_on_10k_rows(fraud_rows, students, tmp_path, kind):
    _, _, _, Zt = fraud_rows
    model = students[kind]
    score, batch = _compile(tmp_path, model, "m_" + kind.replace(" ", "_"))
    rows = np.ascontiguousarray(Zt)
    out = np.empty(len(rows))
    batch(rows.ctypes.data_as(DOUBLES), len(rows), out.ctypes.data_as(DOUBLES))
    expected = model.score_encoded(rows)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)
    one = [score(np.ascontiguousarray(r).ctypes.data_as(DOUBLES)) for r in rows[:300]]
    np.testing.assert_allclose(one, expected[:300], rtol=0, atol=1e-9)


def test_exported_c_states_its_contract(students):
    runtime = students["lightgbm"]
    source, header = to_c(runtime, "fraud_model")
    assert "double fraud_model_score(const double *row);" in header
    assert "void fraud_model_score_batch(const double *rows, long n_rows, double *out);" in header
    assert f"#define FRAUD_MODEL_N_FEATURES {runtime.n_features}" in header
    assert "country: categorical, code = 0=" in header
    assert "#include <math.h>" in source
    with pytest.raises(ValueError, match="C identifier"):
        to_c(runtime, "1bad-name")


@pytest.mark.parametrize("kind", ["lightgbm", "tree", "lightgbm int8", "linear"])
def test_onnx_export_matches_the_runtime_in_onnxruntime(fraud_rows, students, kind):
    ort = pytest.importorskip("onnxruntime")
    from tabdistill.export.onnx_graph import to_onnx

    _, _, _, Zt = fraud_rows
    model = students[kind]
    session = ort.InferenceSession(
        to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {"X": Zt})[0][:, 0]
    np.testing.assert_allclose(got, model.score_encoded(Zt), rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", ["lightgbm", "tree", "linear"])
def test_onnx_export_on_float32_rows_scores_the_rounded_rows(fraud_rows, students, kind):
    """Float32 input is widened in the graph: the runtime's scores of the float32-rounded rows,
    to float64 rounding; against the float64 rows, only where rounding crosses a split."""
    ort = pytest.importorskip("onnxruntime")
    from tabdistill.export.onnx_graph import to_onnx

    _, _, _, Zt = fraud_rows
    model = students[kind]
    proto = to_onnx(model, input_type="float32")
    assert proto.graph.input[0].type.tensor_type.elem_type == 1  # FLOAT
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    with np.errstate(over="ignore"):  # 1e300 is inf in float32, in the graph and here alike
        rows32 = Zt.astype(np.float32)
    got = session.run(None, {"X": rows32})[0][:, 0]
    rounded = model.score_encoded(rows32.astype(np.float64))
    np.testing.assert_allclose(got, rounded, rtol=0, atol=1e-9)
    exact = model.score_encoded(Zt)
    moved = np.abs(got - exact) > 1e-9
    assert moved.mean() < 0.05  # few rows sit within float32 rounding of a threshold
    with pytest.raises(ValueError, match="input_type"):
        to_onnx(model, input_type="float16")


def test_the_linear_test_rows_hit_every_encoding_branch(fraud_rows, students):
    """NaN numbers, NaN (unseen) codes and huge values are in the rows the exports see."""
    enc, _, _, Zt = fraud_rows
    ints = students["linear"].arrays["ints"]
    numeric, categorical = ints[:, 1] == 0, ints[:, 1] > 0
    assert np.isnan(Zt[:, numeric]).any() and np.isnan(Zt[:, categorical]).any()
    assert (ints[numeric, 2] == 1).any()  # a missing indicator is scored
    assert (Zt[:, numeric] > 1e299).any()


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_exported_c_of_a_3_class_linear_student_matches_the_runtime(
    fraud_rows, linear_3_classes, tmp_path
):
    _, _, _, Zt = fraud_rows
    model = linear_3_classes
    assert model.n_outputs == 3
    source, header = to_c(model, "lin3")
    assert "#define LIN3_N_CLASSES 3" in header and "void lin3_proba(" in header
    write_c(model, tmp_path, "lin3")
    lib = tmp_path / "liblin3.so"
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC"]
    subprocess.run([CC, *flags, str(tmp_path / "lin3.c"), "-o", str(lib), "-lm"], check=True)
    dll = ctypes.CDLL(str(lib))
    dll.lin3_proba_batch.argtypes = [DOUBLES, ctypes.c_long, DOUBLES]
    rows = np.ascontiguousarray(Zt)
    out = np.empty((len(rows), 3))
    dll.lin3_proba_batch(rows.ctypes.data_as(DOUBLES), len(rows), out.ctypes.data_as(DOUBLES))
    np.testing.assert_allclose(out, model.score_encoded(rows), rtol=0, atol=1e-9)


def test_onnx_export_of_a_3_class_linear_student_matches_the_runtime(fraud_rows, linear_3_classes):
    ort = pytest.importorskip("onnxruntime")
    from tabdistill.export.onnx_graph import to_onnx

    _, _, _, Zt = fraud_rows
    proto = to_onnx(linear_3_classes)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"X": Zt})[0]
    np.testing.assert_allclose(got, linear_3_classes.score_encoded(Zt), rtol=0, atol=1e-9)


def test_float32_cut_is_the_float32_comparison():
    from tabdistill.export.onnx_graph import float32_cut

    rng = np.random.default_rng(0)
    thresholds = np.concatenate(
        [rng.normal(size=200), rng.normal(size=50) * 1e30, [0.0, -0.0, 1.5, 3.4e38, -3.4e38]]
    )
    for t in thresholds:
        cut = float32_cut(float(t))
        probes = np.array([cut, np.nextafter(cut, np.inf), np.nextafter(cut, -np.inf), t])
        probes = np.concatenate([probes, t + rng.normal(size=20) * max(abs(t), 1e-30) * 1e-7])
        with np.errstate(over="ignore"):
            rounded = probes.astype(np.float32).astype(np.float64)
        np.testing.assert_array_equal(probes <= cut, rounded <= t)


def test_export_command_writes_c_and_onnx(students, tmp_path, capsys):
    from tabdistill.cli.main import main

    path = students["lightgbm"].save(tmp_path / "runtime.npz")
    assert main(["export", str(path), "--format", "c", "--out", str(tmp_path / "c")]) == 0
    linear = students["linear"].save(tmp_path / "linear.npz")
    assert main(["export", str(linear), "--format", "c", "--out", str(tmp_path / "lc")]) == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "tabdistill_model.c",
        "tabdistill_model.h",
    ]
    if CC is not None:
        subprocess.run(
            [CC, "-std=c99", "-c", str(tmp_path / "c" / "tabdistill_model.c"), "-o", "/dev/null"],
            check=True,
        )
    pytest.importorskip("onnx")
    onnx_path = tmp_path / "m.onnx"
    assert main(["export", str(path), "--format", "onnx", "--out", str(onnx_path)]) == 0
    assert onnx_path.stat().st_size > 0
    assert main(["export", str(linear), "--format", "onnx", "--out", str(tmp_path / "l.onnx")]) == 0
    f32 = tmp_path / "f32.onnx"
    argv = ["export", str(path), "--format", "onnx", "--out", str(f32), "--onnx-input", "float32"]
    assert main(argv) == 0
    assert b"Cast" in f32.read_bytes()
    capsys.readouterr()
    assert main(["export", str(tmp_path / "nope.npz"), "--format", "c", "--out", "x"]) == 2
    assert "no model at" in capsys.readouterr().err
