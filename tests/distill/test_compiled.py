"""The distiller's compiled models: the student's runtime_ and the whole teacher's."""

import pickle

import numpy as np

from tabdistill_runtime import CompiledModel


def test_teacher_runtime_scores_as_the_teacher_and_is_not_pickled(fitted):
    model, X, _ = fitted
    runtime = model.teacher_runtime_
    assert runtime is model.teacher_runtime_ and runtime.kind == "blend"  # built once
    X = X.copy()
    X.loc[X.index[::4], "city"] = "marseille"  # unseen
    Z = model.encoder_.encode(X)
    expected = model.teacher_.predict_proba_encoded(Z)
    assert np.abs(runtime.score_encoded(Z) - expected).max() <= 1e-9
    assert np.abs(runtime.score_batch(X) - expected).max() <= 1e-9
    assert np.array_equal(
        CompiledModel.load(runtime.to_bytes()).score_encoded(Z), runtime.score_encoded(Z)
    )
    copy = pickle.loads(pickle.dumps(model))
    assert "_teacher_runtime" not in copy.__dict__
    assert np.array_equal(copy.teacher_runtime_.score_encoded(Z), runtime.score_encoded(Z))


def test_a_refit_teacher_is_compiled_anew(fitted):
    model, _, _ = fitted
    before = model.teacher_runtime_
    model.teacher_.estimators_ = dict(model.teacher_.estimators_)  # as refit_encoded replaces it
    assert model.teacher_runtime_ is not before
