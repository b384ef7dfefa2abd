"""The distiller's stages called one by one, as an experiment would (docs/how-it-works.md)."""

import numpy as np
from conftest import FAST_DISTILLER, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.distill.baseline import fit_baseline
from tabdistill.distill.context import prepare
from tabdistill.distill.gate import GateRule, check_gate
from tabdistill.distill.labelling import fit_teacher, make_synthetic
from tabdistill.distill.search import SearchSpace, search_candidates
from tabdistill.distill.sizes import student_sizes
from tabdistill.distill.soft_targets import TargetRecipe, soft_targets


def test_the_stages_called_one_by_one_reproduce_the_fit():
    X, y = mixed_frame(600, seed=3)
    est = DistilledClassifier(**FAST_DISTILLER, random_state=0, refit=False)
    ctx = prepare(est, X, y)
    taught = fit_teacher(ctx)
    synthetic = make_synthetic(ctx, taught, est.augmenter, est.augment_factors, "auto")
    data = soft_targets(
        taught, synthetic, ctx.Z_train, ctx.y_train, ctx.weight_train, len(ctx.train)
    )
    sizes = student_sizes(est.student, est.student_params, len(ctx.train))
    baseline = fit_baseline(ctx, sizes, est.size_tolerance).chosen
    space = SearchSpace(
        sizes, est.augment_factors, est.alphas, ctx.students.losses(est.losses), 0.001
    )
    search = search_candidates(ctx, space, data, TargetRecipe())
    decision = check_gate(ctx, search.chosen, baseline, taught.teacher, data, GateRule())

    fitted = est.fit(X, y)
    report = fitted.report_
    assert [c.summary("roc_auc") for c in search.candidates] == report["candidates"]
    assert decision.win_rate == report["student_win_rate"]
    assert (decision.reason is not None) == (fitted.fallback_ is not None)
    np.testing.assert_array_equal(
        baseline.validation_proba, fitted.baseline_[-1].predict(ctx.validation.Z)
    )
