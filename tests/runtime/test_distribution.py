"""The runtime as its own distribution: one version, shared exceptions, a scoring path of NumPy."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import mixed_frame

import tabdistill
import tabdistill_runtime

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "sklearn", "scipy", "lightgbm", "xgboost", "numba", "tabdistill")


def _toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(path.read_text())


def test_tabdistill_pins_the_runtime_of_its_own_version():
    full = _toml(ROOT / "pyproject.toml")["project"]
    runtime = _toml(ROOT / "tabdistill-runtime" / "pyproject.toml")["project"]
    assert f"tabdistill-runtime=={full['version']}" in [
        d.split(" ")[0] for d in full["dependencies"]
    ]
    assert runtime["version"] == full["version"] == tabdistill.__version__
    assert tabdistill_runtime.__version__ == tabdistill.__version__
    assert runtime["dependencies"] == ["numpy>=1.24"]


def test_exceptions_are_the_same_classes_in_both_packages():
    from tabdistill.exceptions import ConfigError

    for name in ("TabDistillError", "DataError", "SchemaError", "FeatureTypeError"):
        assert getattr(tabdistill, name) is getattr(tabdistill_runtime, name)
    assert tabdistill.ArtifactError is tabdistill_runtime.exceptions.ArtifactError
    assert issubclass(ConfigError, tabdistill_runtime.TabDistillError)
    with pytest.raises(tabdistill.ArtifactError):
        tabdistill_runtime.CompiledModel.load(b"not a runtime file")


def test_the_former_import_paths_name_the_runtime_objects():
    import tabdistill.runtime

    assert tabdistill.CompiledModel is tabdistill_runtime.CompiledModel
    assert tabdistill.runtime.CompiledModel is tabdistill_runtime.CompiledModel
    assert tabdistill.FeatureSchema is tabdistill_runtime.FeatureSchema
    assert tabdistill.runtime.compile_lightgbm is tabdistill_runtime.compile_lightgbm


@pytest.fixture(scope="module")
def runtime_file(tmp_path_factory):
    from tabdistill.data import TabularEncoder
    from tabdistill.distill.context import make_student
    from tabdistill.distill.students import compile_student

    X, y = mixed_frame(n=400, seed=1)
    enc = TabularEncoder().fit(X)
    student = make_student("lightgbm", {"n_estimators": 5}, categorical_mask=enc.categorical_mask_)
    runtime = compile_student(
        student.fit(enc.transform(X), y.to_numpy().astype(float)), enc.schema_
    )
    path = runtime.save(tmp_path_factory.mktemp("rt") / "runtime.npz")
    values = {k: (v.item() if hasattr(v, "item") else v) for k, v in X.iloc[3].items()}
    record = {k: (None if v != v else v) for k, v in values.items()}
    return path, record, runtime.score_record(record)


def test_loading_and_scoring_imports_no_training_library_nor_numba(runtime_file, tmp_path):
    path, record, expected = runtime_file
    code = (
        "import json, sys\n"
        "from tabdistill_runtime import CompiledModel\n"
        f"m = CompiledModel.load({str(path)!r})\n"
        f"p = m.score_record(json.loads({json.dumps(json.dumps(record))}))\n"
        "print(repr(p)); print(m.backend); print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split("\n")
    assert float(out[0]) == expected
    assert out[1] == "c"
    loaded = set(out[2].split())
    assert "tabdistill_runtime.model" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_without_c_kernels_nor_numba_building_a_model_says_how_to_get_them(
    runtime_file, monkeypatch
):
    import importlib.util

    from tabdistill_runtime import scorers

    real = importlib.util.find_spec
    monkeypatch.setattr(scorers, "_ckernels", None)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "numba" else real(name, *a)
    )
    with pytest.raises(ImportError, match="C compiler is available, or pip install numba"):
        tabdistill_runtime.CompiledModel.load(runtime_file[0])


def test_a_model_saved_under_the_schema_former_module_path_still_loads(tmp_path):
    from tabdistill.data import TabularEncoder
    from tabdistill.ops.persist import DIGEST, load_model, save_model

    X, _ = mixed_frame(n=200, seed=2)
    enc = TabularEncoder().fit(X)
    new = save_model(enc, tmp_path / "new.skops")
    old = tmp_path / "old.skops"
    with zipfile.ZipFile(new) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            if item.filename == DIGEST:  # a model saved then had none
                continue
            data = src.read(item)
            if item.filename == "schema.json":
                assert b'"tabdistill_runtime.schema"' in data
                data = data.replace(b'"tabdistill_runtime.schema"', b'"tabdistill.data.schema"')
            dst.writestr(item, data)
    with pytest.warns(UserWarning, match="has no digest"):
        loaded = load_model(old)
    assert type(loaded.schema_) is tabdistill_runtime.FeatureSchema
    np.testing.assert_array_equal(loaded.transform(X), enc.transform(X))
