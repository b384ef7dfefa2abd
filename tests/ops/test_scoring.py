"""Batch scoring with a version's compiled student or its compiled teacher (``scorer=``)."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_MEMBERS, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.distill.compiled import compiled_teacher
from tabdistill.exceptions import ArtifactError, ConfigError
from tabdistill.ops.registry import Registry, load_runtime
from tabdistill.ops.retrain import decision_of
from tabdistill.ops.scoring import FrameScorer, decision_threshold, score_csv

# the baseline may win on these few rows: the student scores either way
pytestmark = pytest.mark.filterwarnings("ignore::tabdistill.DistillationWarning")

#: A teacher of trees of two kinds (the rows are linear enough that a logistic member would
#: take all the weight), so the compiled teacher is a blend of trees.
PARAMS = dict(
    teacher={"members": {k: FAST_MEMBERS[k] for k in ("lightgbm", "random_forest")}},
    student_params={"n_estimators": 20, "num_leaves": 7},
    augment_factors=(0,),
    alphas=(0.0,),
    random_state=0,
    n_jobs=1,
)


@pytest.fixture(scope="module")
def version(tmp_path_factory):
    """A version written with its compiled teacher, the model, and a CSV of fresh rows."""
    root = tmp_path_factory.mktemp("scoring")
    X, y = mixed_frame(500, seed=2)
    model = DistilledClassifier(**PARAMS).fit(X, y)
    manifest = {
        "schema": model.encoder_.schema_.to_dict(),
        "classes": [str(c) for c in model.classes_],
        "decision": decision_of(model),
    }
    registry = Registry(root / "registry")
    name = registry.write_version(manifest, model.runtime_, teacher=compiled_teacher(model))
    fresh, _ = mixed_frame(300, seed=9)
    fresh.insert(0, "txn_id", [f"t{i}" for i in range(len(fresh))])
    fresh.to_csv(root / "rows.csv", index=False)
    return {"path": registry.root / name, "name": name, "model": model, "rows": root / "rows.csv"}


def _teacher_proba(model, frame):
    return model.teacher_.predict_proba_encoded(model.encoder_.encode(frame))


def test_the_teacher_scores_the_teachers_probabilities_in_the_students_columns(version, tmp_path):
    model, rows = version["model"], version["rows"]
    assert version["model"].teacher_runtime_.n_trees > 0  # trees, not only the line
    student, teacher = tmp_path / "student.csv", tmp_path / "teacher.csv"
    assert score_csv(version["path"], rows, student, id_column="txn_id") == 300
    assert score_csv(version["path"], rows, teacher, id_column="txn_id", scorer="teacher") == 300
    by_student, by_teacher = pd.read_csv(student), pd.read_csv(teacher)
    assert list(by_teacher.columns) == list(by_student.columns)
    assert list(by_teacher.columns) == ["txn_id", "probability", "decision", "model_version"]
    frame = pd.read_csv(rows)
    expected = _teacher_proba(model, frame.drop(columns="txn_id"))
    np.testing.assert_allclose(by_teacher["probability"], expected, rtol=0, atol=1e-9)
    assert not np.allclose(by_teacher["probability"], by_student["probability"])
    assert (by_teacher["model_version"] == version["name"]).all()
    labels = np.where(expected >= model.decision_threshold_, model.classes_[1], model.classes_[0])
    assert (by_teacher["decision"].astype(str) == labels.astype(str)).all()


def test_reasons_are_refused_for_the_teacher_before_any_work(version, tmp_path):
    out = tmp_path / "out.csv"
    with pytest.raises(ConfigError, match="computed for the student"):
        score_csv(tmp_path / "nowhere", tmp_path / "missing.csv", out, scorer="teacher", reasons=2)
    with pytest.raises(ConfigError, match=r"scorer must be one of \['student', 'teacher'\]"):
        score_csv(version["path"], version["rows"], out, scorer="ensemble")
    assert not out.exists()
    manifest, teacher = load_runtime(version["path"], scorer="teacher")
    assert teacher.kind == "blend"
    with pytest.raises(ConfigError, match="computed for the student"):
        FrameScorer(manifest, teacher, reasons=1)  # a teacher runtime handed in directly


def test_a_version_without_the_teacher_refuses_it_and_says_how_to_get_one(version, tmp_path):
    model = version["model"]
    registry = Registry(tmp_path / "registry")
    manifest = {"schema": model.encoder_.schema_.to_dict(), "classes": ["0", "1"]}
    name = registry.write_version(manifest, model.runtime_)  # no compiled teacher given
    registry.promote(name, force=True)  # no gate ran
    assert load_runtime(registry.root / name)[1].kind != "blend"  # the student still loads
    with pytest.raises(ArtifactError, match="holds no compiled teacher") as err:
        score_csv(registry.root, version["rows"], tmp_path / "out.csv", scorer="teacher")
    assert name in str(err.value) and "--scorer student" in str(err.value)
    assert not (tmp_path / "out.csv").exists()


def test_dask_scores_the_teacher_as_one_process_does(version, dask_client, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    from tabdistill.ops.dask_scoring import score_dataframe, score_files

    one = tmp_path / "one.csv"
    score_csv(version["path"], version["rows"], one, id_column="txn_id", scorer="teacher")
    expected = pd.read_csv(one)
    out = tmp_path / "parts"
    n = score_files(
        version["path"], str(version["rows"]), out, id_column="txn_id", scorer="teacher"
    )
    parts = pd.concat(pd.read_csv(p) for p in sorted(out.glob("*.csv")))
    assert n == 300 and list(parts.columns) == list(expected.columns)
    np.testing.assert_allclose(parts["probability"], expected["probability"], rtol=0, atol=1e-15)
    frame = pd.read_csv(version["rows"], dtype={"txn_id": str})
    ddf = dd.from_pandas(frame, npartitions=2)
    lazy = score_dataframe(str(version["path"]), ddf, scorer="teacher")
    scored = lazy.compute(scheduler="threads")
    np.testing.assert_allclose(scored["probability"], expected["probability"], rtol=0, atol=1e-15)
    with pytest.raises(ConfigError, match="computed for the student"):
        score_files(version["path"], "nothing-*.csv", out, scorer="teacher", reasons=1)


@pytest.fixture(scope="module")
def fpr_version(tmp_path_factory):
    """A version whose threshold meets a false-positive rate: the teacher's differs."""
    root = tmp_path_factory.mktemp("fpr")
    X, y = mixed_frame(500, seed=2)
    model = DistilledClassifier(**PARAMS, threshold={"fpr": 0.05}).fit(X, y)
    registry = Registry(root / "registry")
    name = registry.write_version(
        _manifest_of(model), model.runtime_, teacher=compiled_teacher(model)
    )
    fresh, _ = mixed_frame(300, seed=9)
    fresh.to_csv(root / "rows.csv", index=False)
    return {"registry": registry, "name": name, "model": model, "rows": root / "rows.csv"}


def _manifest_of(model, **decision):
    return {
        "schema": model.encoder_.schema_.to_dict(),
        "classes": [str(c) for c in model.classes_],
        "decision": {**decision_of(model), **decision},
    }


def _labels(model, p, threshold):
    return np.where(p >= threshold, model.classes_[1], model.classes_[0]).astype(str)


def test_the_teacher_decides_at_its_own_threshold_by_the_students_rule(fpr_version, tmp_path):
    model, rows = fpr_version["model"], fpr_version["rows"]
    manifest = fpr_version["registry"].manifest(fpr_version["name"])
    assert manifest["decision"]["teacher_threshold"] == model.teacher_decision_threshold_
    out = tmp_path / "teacher.csv"
    score_csv(fpr_version["registry"].root / fpr_version["name"], rows, out, scorer="teacher")
    expected = _teacher_proba(model, pd.read_csv(rows))
    decision = pd.read_csv(out)["decision"].astype(str)
    assert (decision == _labels(model, expected, model.teacher_decision_threshold_)).all()
    # the student's threshold gives other decisions on these rows: the test can tell them apart
    assert (decision != _labels(model, expected, model.decision_threshold_)).any()


def test_a_version_without_the_teachers_threshold_refuses_a_rule_it_cannot_meet(
    fpr_version, tmp_path
):
    model, registry = fpr_version["model"], fpr_version["registry"]
    old = _manifest_of(model)
    del old["decision"]["teacher_threshold"]  # as written before the teacher's was recorded
    name = registry.write_version(old, model.runtime_, teacher=compiled_teacher(model))
    out = tmp_path / "out.csv"
    with pytest.raises(ArtifactError, match="records no decision threshold for its compiled"):
        score_csv(registry.root / name, fpr_version["rows"], out, scorer="teacher")
    assert not out.exists()
    assert score_csv(registry.root / name, fpr_version["rows"], out) == 300  # the student's


def test_a_version_without_the_teachers_threshold_keeps_a_fixed_probability(fpr_version, tmp_path):
    model, registry = fpr_version["model"], fpr_version["registry"]
    old = _manifest_of(model, threshold=0.3, rule=0.3)
    del old["decision"]["teacher_threshold"]
    name = registry.write_version(old, model.runtime_, teacher=compiled_teacher(model))
    manifest, teacher = load_runtime(registry.root / name, scorer="teacher")
    assert decision_threshold(manifest, teacher) == 0.3


def test_scoring_with_reasons_prepares_the_explainer_before_any_row(version):
    manifest, runtime = load_runtime(version["path"])
    FrameScorer(manifest, runtime)
    assert runtime._explainer is None  # no reasons asked: nothing built
    FrameScorer(manifest, runtime, reasons=2)
    assert runtime._explainer is not None
    _, teacher = load_runtime(version["path"], scorer="teacher")
    with pytest.raises(TypeError, match="computed for a student"):
        teacher.prepare_reasons()


def test_a_file_of_semicolons_and_decimal_commas_scores_as_its_comma_copy(
    version, dask_client, tmp_path
):
    """``read_options`` (``--sep ';' --decimal ','``) reads such a file to the same scores, in
    one process and through Dask; read with commas it is refused before anything is scored."""
    from tabdistill.data.io import csv_options
    from tabdistill.exceptions import DataError

    frame = pd.read_csv(version["rows"])
    rows = tmp_path / "rows_semicolon.csv"
    frame.to_csv(rows, sep=";", decimal=",", index=False)
    assert "," in rows.read_text().splitlines()[1]  # decimal commas are written
    expected, got = tmp_path / "expected.csv", tmp_path / "got.csv"
    score_csv(version["path"], version["rows"], expected, id_column="txn_id")
    csv = csv_options(";", ",")
    assert score_csv(version["path"], rows, got, id_column="txn_id", read_options=csv) == 300
    pd.testing.assert_frame_equal(pd.read_csv(got), pd.read_csv(expected))
    with pytest.raises(DataError, match="separated by semicolons"):
        score_csv(version["path"], rows, tmp_path / "refused.csv")
    assert not (tmp_path / "refused.csv").exists()
    pytest.importorskip("dask.dataframe")
    from tabdistill.ops.dask_scoring import score_files

    out = tmp_path / "parts"
    assert score_files(version["path"], str(rows), out, id_column="txn_id", read_options=csv) == 300
    parts = pd.concat(pd.read_csv(p) for p in sorted(out.glob("*.csv")))
    np.testing.assert_allclose(
        parts["probability"], pd.read_csv(expected)["probability"], rtol=0, atol=1e-15
    )
