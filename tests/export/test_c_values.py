"""The exported C's raw-value encoder, compiled with -Wall -Wextra -Werror, against score_record."""

import ctypes
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

from tabdistill.data import TabularEncoder
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.export.c_source import to_c, write_c
from tabdistill_runtime.exceptions import DataWarning

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC"]
DOUBLES = ctypes.POINTER(ctypes.c_double)
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")


class Input(ctypes.Structure):
    _fields_ = [("text", ctypes.c_char_p), ("number", ctypes.c_double)]


def table(n, seed):
    """Numbers, numbers as text (currency, percent, accounting negatives), text levels, a
    high-cardinality column, numeric-looking codes, dates in three layouts; a target."""
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2, 300, n) * np.where(rng.random(n) < 0.1, -1, 1)
    when = pd.Timestamp("2022-03-01") + pd.to_timedelta(rng.integers(0, 500 * 86400, n), unit="s")
    X = pd.DataFrame(
        {
            "amount": amount,
            "fee": [f"(${-v:,.2f})" if v < 0 else f"${v:,.2f}" for v in amount / 7],
            "rate": [f"{v:.1f}%" for v in rng.uniform(0, 30, n)],
            "merchant": [f"m{k}" for k in rng.integers(0, 400, n)],
            "channel": rng.choice(["web", "pos", "atm", "Zürich"], n),
            "code": rng.choice([1, 2, 4, 7], n),
            "opened": when.strftime("%m/%d/%Y %H:%M"),
            "seen": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "issued": (when - pd.Timedelta(days=900)).strftime("%d-%b-%y"),
        }
    )
    y = ((amount > 700) ^ (when.hour < 6) ^ (X["channel"] == "atm")).to_numpy().astype(float)
    X.loc[::17, "amount"] = np.nan
    X.loc[::19, "opened"] = None
    X.loc[::23, "channel"] = None
    return X, y


def records(X):
    out = []
    for row in X.astype(object).to_dict(orient="records"):
        clean = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        out.append({k: (None if isinstance(v, float) and v != v else v) for k, v in clean.items()})
    return out


COLUMNS = ["merchant", "channel", "code", "fee", "rate", "amount", "opened", "seen", "issued"]


def odd(rng, recs):
    """Some values the model never saw, and some strays, in copies of the records."""
    out = []
    for r in recs:
        r = dict(r)
        k = rng.integers(0, 9)
        columns = [
            "merchant",
            "channel",
            "code",
            "fee",
            "rate",
            "amount",
            "opened",
            "seen",
            "issued",
        ]
        r[columns[k]] = [
            "m99999", "ZZ", "4.0", "12 dollars", " 13.5 % ", float("inf"), "13/45/2022 10:00",
            "2022-05-06 07:08:09+05:30", "nan",
        ][k]  # fmt: skip
        out.append(r)
    return out


@pytest.fixture(scope="module")
def fitted():
    X, y = table(3_000, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        enc = TabularEncoder().fit(X)
    Z = enc.transform(X)
    out = {}
    for kind in ("lightgbm", "linear"):
        student = make_student(kind, categorical_mask=enc.categorical_mask_, random_state=0)
        out[kind] = compile_student(student.fit(Z, y), enc.schema_)
    Xt, _ = table(400, 1)
    recs = records(Xt)
    return out, recs + odd(np.random.default_rng(2), recs)


def _library(tmp_path, model, name):
    write_c(model, tmp_path, name)
    lib = tmp_path / f"lib{name}.so"
    subprocess.run([CC, *FLAGS, str(tmp_path / f"{name}.c"), "-o", str(lib), "-lm"], check=True)
    return ctypes.CDLL(str(lib))


def _inputs(columns, record):
    values = (Input * len(columns))()
    for i, column in enumerate(columns):
        v = record[column]
        if isinstance(v, str):
            values[i] = Input(v.encode("utf-8"), float("nan"))
        else:
            values[i] = Input(None, float("nan") if v is None else float(v))
    return values


@pytest.mark.parametrize("kind", ["lightgbm", "linear"])
def test_exported_encoder_reads_records_as_score_record(fitted, tmp_path, kind):
    models, recs = fitted
    model = models[kind]
    name = f"v_{kind}"
    dll = _library(tmp_path, model, name)
    encode, score = getattr(dll, f"{name}_encode"), getattr(dll, f"{name}_score_values")
    encode.restype, encode.argtypes = ctypes.c_int, [ctypes.POINTER(Input), DOUBLES]
    score.restype, score.argtypes = ctypes.c_double, [ctypes.POINTER(Input)]
    columns = [c.name for c in model.schema.column_plan()]
    names = (ctypes.c_char_p * len(columns)).in_dll(dll, f"{name}_column_names")
    assert [n.decode() for n in names] == columns
    stray_rows = 0
    for record in recs:
        values = _inputs(columns, record)
        row = np.empty(model.n_features)
        strays = encode(values, row.ctypes.data_as(DOUBLES))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            want = model.schema.encode_record(record)
        assert row.tobytes() == want.tobytes(), (record, row, want)
        said = [w for w in caught if "is not a" in str(w.message)]
        assert strays == len(said), (record, [str(w.message) for w in caught])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            assert score(values) == model.score_record(record)
        stray_rows += strays > 0
    assert 0 < stray_rows < len(recs) // 4


def test_the_header_states_the_raw_value_contract(fitted):
    models, _ = fitted
    source, header = to_c(models["lightgbm"], "fraud")
    assert "typedef struct {" in header and "} fraud_input;" in header
    assert "int fraud_encode(const fraud_input *values, double *row);" in header
    assert "double fraud_score_values(const fraud_input *values);" in header
    assert "#define FRAUD_N_COLUMNS 9" in header
    assert "tdr_read_number" in source and "tdr_parse_pattern" in source
