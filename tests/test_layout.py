"""The package layout's promises: public names, cheap imports, files that load back."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import mixed_frame

import tabdistill
from tabdistill.distill.members import build_member, fit_member
from tabdistill.ops.persist import load_model, save_model
from tabdistill.runtime import CompiledModel

PUBLIC = [
    "DistilledClassifier",
    "TeacherEnsemble",
    "TabularEncoder",
    "FeatureSchema",
    "CompiledModel",
    "encode_target",
    "read_csv",
    "read_table",
    "load_dataset",
    "make_fraud",
    "save_model",
    "load_model",
    "DataError",
    "SchemaError",
    "ArtifactError",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_import_from_the_package(name):
    assert name in tabdistill.__all__
    assert getattr(tabdistill, name) is not None
    assert name in dir(tabdistill)


@pytest.mark.parametrize("name", ["compile_lightgbm", "compile_sklearn_tree", "compile_linear"])
def test_lazy_exports_stay_functions_after_their_module_is_imported(name):
    # a submodule named like a lazy export would replace it on the package once imported
    import tabdistill.distill.students  # noqa: F401  (imports every compiler module)
    import tabdistill.runtime as runtime

    assert callable(getattr(runtime, name))
    assert not isinstance(getattr(runtime, name), type(runtime))


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tabdistill.nope  # noqa: B018


def _modules_after(statement):
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "statement",
    ["import tabdistill", "from tabdistill.runtime import CompiledModel"],
)
def test_scoring_imports_neither_pandas_nor_sklearn(statement):
    loaded = _modules_after(statement)
    heavy = {"pandas", "sklearn", "lightgbm", "xgboost", "tabdistill.distill.distiller"}
    assert not heavy & loaded
    # numba imports scipy's top-level package for a version check: none of its subpackages
    scipy_parts = {m.split(".")[1] for m in loaded if m.startswith("scipy.")}
    assert not {p for p in scipy_parts if not p.startswith("_")} - {"version"}


def test_default_teacher_model_saves_and_loads_with_identical_scores(tmp_path):
    from tabdistill import DistilledClassifier

    X, y = mixed_frame(n=500, seed=3)
    small = {
        "lightgbm": {"n_estimators": 10},
        "xgboost": {"n_estimators": 10},
        "random_forest": {"n_estimators": 5},
        "extra_trees": {"n_estimators": 5},
        "logistic": {},
    }
    model = DistilledClassifier(
        teacher={"members": small}, augment_factors=(0,), alphas=(0.0,), random_state=0
    )
    model.fit(X, y)
    # every kind of member the package ships must survive the trip, weighted or not
    teacher, cat = model.teacher_, model.encoder_.categorical_mask_
    Z, y01 = model.encoder_.transform(X), (y == model.classes_[1]).to_numpy().astype(int)
    for name, params in small.items():
        if name not in teacher.estimators_:
            member = build_member(name, params, cat, 0, 1)
            teacher.estimators_[name] = fit_member(member, Z, y01, None, cat)
    teacher.weights_ = dict.fromkeys(small, 1 / len(small))

    path = save_model(model, tmp_path / "model.skops")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.teacher_.predict_proba(X), model.teacher_.predict_proba(X))

    runtime = CompiledModel.load(model.runtime_.save(tmp_path / "runtime.npz"))
    np.testing.assert_array_equal(runtime.score_batch(X), model.predict_proba(X)[:, 1])
    assert runtime.schema == model.encoder_.schema_
