"""Compression: every level within its stated error bound, pruned levels exact to their refit."""

import numpy as np
import pytest
from conftest import FAST_MEMBERS

from tabdistill import DistilledClassifier, make_fraud
from tabdistill.compress.frontier import compress, frontier
from tabdistill.compress.prune import _soft_logistic, refit_trees, tree_outputs
from tabdistill.compress.quantize import quantize_leaves
from tabdistill.data import TabularEncoder, split_target
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.runtime import CompiledModel


@pytest.fixture(scope="module")
def student():
    X, y = split_target(make_fraud(4_000, fraud_rate=0.05, random_state=5), "is_fraud")
    enc = TabularEncoder().fit(X)
    Z = enc.transform(X)
    Z[::7, 0] = np.nan
    q = np.clip(y.to_numpy() * 0.8 + 0.1 + np.random.default_rng(0).normal(0, 0.05, len(y)), 0, 1)
    model = make_student("lightgbm", categorical_mask=enc.categorical_mask_, random_state=0)
    runtime = compile_student(model.fit(Z, q), enc.schema_)
    return runtime, Z, q, y.to_numpy()


@pytest.mark.parametrize("codec", ["float64", "float32", "int16", "int8"])
def test_quantized_leaves_stay_within_their_bound_and_survive_a_round_trip(student, codec):
    runtime, Z, _, _ = student
    quantized, bound = quantize_leaves(runtime, codec)
    diff = np.abs(quantized.score_encoded(Z) - runtime.score_encoded(Z))
    assert diff.max() <= bound + 1e-12
    assert (bound == 0) == (codec == "float64")
    loaded = CompiledModel.load(quantized.to_bytes())
    np.testing.assert_array_equal(loaded.score_encoded(Z), quantized.score_encoded(Z))
    assert loaded.storage["leaf"] == codec
    if codec != "float64":
        assert len(quantized.to_bytes()) < len(runtime.to_bytes())


def test_refit_trees_scores_exactly_its_logistic_model(student):
    runtime, Z, q, _ = student
    D = tree_outputs(runtime, Z)
    fitted = _soft_logistic(D, q, np.ones(len(q)), 0.5, 0)
    pruned = refit_trees(runtime, Z, q, C=0.5)
    kept = int((fitted.coef_ != 0).sum())
    assert 0 < kept < runtime.n_trees  # some trees dropped, some kept
    assert pruned.n_trees == kept
    expected = 1 / (1 + np.exp(-(D @ fitted.coef_.ravel() + fitted.intercept_[0])))
    np.testing.assert_allclose(pruned.score_encoded(Z), expected, rtol=0, atol=1e-9)
    loaded = CompiledModel.load(pruned.to_bytes())
    np.testing.assert_array_equal(loaded.score_encoded(Z), pruned.score_encoded(Z))


def test_compress_chooses_the_smallest_level_within_tolerance(student):
    runtime, Z, q, y = student
    train, val = slice(0, 3_000), slice(3_000, None)
    levels, chosen = compress(
        runtime, (Z[train], q[train], None), (Z[val], y[val], None), tolerance=0.002, Cs=(1.0, 0.1)
    )
    exact = levels[0]
    assert exact.name == "exact" and exact.model is runtime
    ok = [lv for lv in levels if lv.roc_auc >= exact.roc_auc - 0.002]
    assert chosen.size_bytes == min(lv.size_bytes for lv in ok)
    assert chosen.size_bytes < exact.size_bytes
    assert any(lv.model.n_trees < runtime.n_trees for lv in levels)
    front = frontier(levels)
    assert chosen in front or any(lv.size_bytes <= chosen.size_bytes for lv in front)


def test_the_distiller_runs_compression_as_a_step(tmp_path):
    X, y = split_target(make_fraud(3_000, fraud_rate=0.05, random_state=2), "is_fraud")
    model = DistilledClassifier(
        teacher={"members": FAST_MEMBERS, "cv": 3},
        student_params={"n_estimators": 40},
        augment_factors=(0, 1),
        alphas=(0.0,),
        compress=True,
        random_state=0,
    ).fit(X, y)
    report = model.compression_
    assert report["chosen"] in model.compressed_levels_
    assert model.report_["compression"]["chosen"] == report["chosen"]
    chosen = CompiledModel.load(model.compressed_levels_[report["chosen"]])
    np.testing.assert_array_equal(model.predict_proba(X)[:, 1], chosen.score_batch(X))
    sizes = {lv["name"]: lv["size_bytes"] for lv in report["levels"]}
    assert sizes[report["chosen"]] <= sizes["exact"]
    from tabdistill.ops.persist import load_model, save_model  # skops: the levels are bytes

    again = load_model(save_model(model, tmp_path / "model.skops"))
    np.testing.assert_array_equal(again.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1])
