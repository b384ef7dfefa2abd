"""Reason codes in the exported C: compiled warning-free, equal to the runtime's."""

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
from tabdistill_runtime import CompiledModel

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
DOUBLES = ctypes.POINTER(ctypes.c_double)
INTS = ctypes.POINTER(ctypes.c_int)
FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC"]


@pytest.fixture(scope="module")
def fraud():
    X, y = split_target(make_fraud(3_000, fraud_rate=0.05, random_state=4), "is_fraud")
    enc = TabularEncoder().fit(X)
    Xt, _ = split_target(make_fraud(400, random_state=9), "is_fraud")
    Xt.loc[::7, "country"] = "ZZ"  # unseen
    Xt.loc[::9, "merchant_category"] = np.nan
    Xt.loc[::11, "amount"] = np.nan
    return enc, enc.transform(X), y.to_numpy().astype(float), enc.transform(Xt)


@pytest.fixture(scope="module")
def students(fraud):
    enc, Z, y, _ = fraud
    out = {}
    specs = {"lightgbm": {"n_estimators": 30}, "shallow": {"max_depth": 3, "num_leaves": 8}}
    for name, params in specs.items():
        student = make_student("lightgbm", params, categorical_mask=enc.categorical_mask_)
        out[name] = compile_student(student.fit(Z, y), enc.schema_)
    out["int8"] = quantize_leaves(out["lightgbm"], "int8")[0]
    for name in ("tree", "linear"):
        student = make_student(name, categorical_mask=enc.categorical_mask_, random_state=0)
        out[name] = compile_student(student.fit(Z, y), enc.schema_)
    amount = np.nan_to_num(Z[:, list(enc.schema_.features).index("amount")])
    band = np.digitize(amount, np.quantile(amount, [1 / 3, 2 / 3]))
    Q = 0.8 * np.eye(3)[band] + 0.2 * np.column_stack([y, 1 - y, np.zeros_like(y)])
    for name, params in (("lightgbm", {"n_estimators": 10, "num_leaves": 6}), ("linear", {})):
        student = make_student(name, params, categorical_mask=enc.categorical_mask_)
        out[f"{name} 3 classes"] = compile_student(student.fit(Z, Q), enc.schema_)
    return out


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.parametrize(
    "kind",
    ["lightgbm", "shallow", "int8", "tree", "linear", "lightgbm 3 classes", "linear 3 classes"],
)
def test_exported_reasons_are_the_runtimes(fraud, students, tmp_path, kind):
    _, _, _, Zt = fraud
    model = students[kind]
    name = "m_" + kind.replace(" ", "_")
    write_c(model, tmp_path, name)
    lib = tmp_path / f"lib{name}.so"
    subprocess.run([CC, *FLAGS, str(tmp_path / f"{name}.c"), "-o", str(lib), "-lm"], check=True)
    dll = ctypes.CDLL(str(lib))
    contributions, reasons = getattr(dll, f"{name}_contributions"), getattr(dll, f"{name}_reasons")
    contributions.argtypes = [DOUBLES, DOUBLES]
    reasons.argtypes = [DOUBLES, ctypes.c_int, INTS, DOUBLES]
    n_names = len(model.reason_names)
    names = (ctypes.c_char_p * n_names).in_dll(dll, f"{name}_reason_names")
    assert [names[j].decode() for j in range(n_names)] == list(model.reason_names)

    rows = np.ascontiguousarray(Zt)
    expected = model.contributions_encoded(rows).reshape(len(rows), -1)
    _, top_names, top_values = model.score_encoded(rows, reasons=4)
    out = np.empty(expected.shape[1])
    idx, val = np.empty(4, dtype=np.int32), np.empty(4)
    for i, row in enumerate(rows):
        contributions(row.ctypes.data_as(DOUBLES), out.ctypes.data_as(DOUBLES))
        np.testing.assert_allclose(out, expected[i], rtol=0, atol=1e-12)
        got = reasons(
            row.ctypes.data_as(DOUBLES), 4, idx.ctypes.data_as(INTS), val.ctypes.data_as(DOUBLES)
        )
        assert got == 4
        assert [names[j].decode() for j in idx] == list(top_names[i])
        np.testing.assert_allclose(val, top_values[i], rtol=0, atol=1e-12)


def test_the_header_states_the_reasons_contract(students):
    source, header = to_c(students["lightgbm"], "fraud")
    assert "void fraud_contributions(const double *row, double *out);" in header
    assert "int fraud_reasons(const double *row, int k, int *index, double *value);" in header
    assert "extern const char *const fraud_reason_names[FRAUD_N_REASON_NAMES];" in header
    assert "log-odds" in header and "KB of stack" in header


def test_a_runtime_without_covers_exports_without_reasons(students):
    model = students["lightgbm"]
    arrays = {k: v for k, v in model.arrays.items() if k != "cover"}
    old = CompiledModel("trees", arrays, model.schema, model.meta)
    source, header = to_c(old, "fraud")
    assert "fraud_score" in header and "fraud_reasons" not in header + source
