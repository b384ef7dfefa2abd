"""The whole teacher compiled for the runtime: every member, blended as the teacher blends them.

:func:`compile_teacher` turns a fitted
:class:`~tabdistill.distill.teacher.TeacherEnsemble` into one runtime of kind
``"blend"`` (:mod:`tabdistill_runtime.blend`): each member with weight becomes
one compiled part -- LightGBM boosters (``compile_lightgbm``), XGBoost boosters
(``compile_xgboost``, through the rounds its ``predict`` uses), random forests
and extra trees (``compile_sklearn_forest``), the logistic member
(``compile_linear``) -- or, for a member that is the mean of its fold models
(:class:`~tabdistill.distill.members.FoldAverage`), one part a fold model, with
the classes each was fit on. The runtime scores a row as the teacher's
``predict_proba_encoded`` does, in the compiled kernels, saved and loaded like
a student's runtime; the scoring-only install reads it.
"""

from __future__ import annotations

import logging

from sklearn.ensemble._forest import ForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from tabdistill_runtime.from_lightgbm import compile_lightgbm
from tabdistill_runtime.from_linear import compile_linear
from tabdistill_runtime.from_members import compile_blend
from tabdistill_runtime.from_sklearn import compile_sklearn_forest
from tabdistill_runtime.from_xgboost import compile_xgboost

from .linear import LinearDesign
from .members import FoldAverage

logger = logging.getLogger(__name__)


def compile_teacher(teacher, schema=None):
    """Compile a fitted teacher into one runtime that scores as ``predict_proba_encoded``.

    Parameters
    ----------
    teacher : TeacherEnsemble
        Fitted; its members with weight (``estimators_``) are compiled.
    schema : FeatureSchema, default=None
        How records are encoded; the teacher's encoder's by default.

    Returns
    -------
    CompiledModel
        Of kind ``"blend"``: the positive-class probability (binary) or the K
        class probabilities, within 1e-9 of the teacher's (the same sums and
        transforms in another order).

    Raises
    ------
    TypeError
        If a member is an estimator the runtime cannot compile (a custom
        ``(name, estimator)`` member other than LightGBM, XGBoost, a scikit-learn
        forest or the logistic pipeline), naming it.
    """
    check_is_fitted(teacher, "estimators_")
    schema = schema if schema is not None else teacher.encoder_.schema_
    n_classes = len(teacher.classes_)
    members = []
    for name, estimator in teacher.estimators_.items():
        parts = [
            (_compile_model(name, model, schema), classes)
            for model, classes in _fold_models(estimator)
        ]
        members.append((name, teacher.weights_[name], parts))
    runtime = compile_blend(members, schema, n_classes)
    logger.info(
        "teacher compiled: %d members, %d trees, %d nodes",
        len(members),
        runtime.n_trees,
        len(runtime.arrays["feature"]),
    )
    return runtime


def _fold_models(estimator) -> list:
    """``[(model, classes)]``: a member's one model, or a fold average's fold models with the
    classes each was fit on (None: all of them)."""
    if not isinstance(estimator, FoldAverage):
        return [(estimator, None)]
    classes = estimator.fold_classes or [None] * len(estimator.estimators)
    return [
        (model, None if present is None else [int(c) for c in present])
        for model, present in zip(estimator.estimators, classes)
    ]


def _compile_model(name, model, schema):
    kind = type(model).__name__
    if kind == "LGBMClassifier":
        return compile_lightgbm(model.booster_, schema)
    if kind == "XGBClassifier":
        return compile_xgboost(model.get_booster(), schema, _xgboost_rounds(model))
    if isinstance(model, ForestClassifier):
        return compile_sklearn_forest(model, schema)
    if isinstance(model, Pipeline) and isinstance(model[0], LinearDesign) and len(model) == 2:
        return compile_linear(model[0], model[-1], schema)
    raise TypeError(
        f"teacher member {name!r} ({kind}) cannot be compiled: the runtime compiles LightGBM, "
        "XGBoost, scikit-learn random forests and extra trees, and the logistic member. Leave "
        "it out of members, or score the teacher in Python (predict_proba)."
    )


def _xgboost_rounds(model):
    """The rounds ``XGBClassifier.predict`` uses: up to the best iteration after early
    stopping, else all."""
    try:
        return int(model.best_iteration) + 1
    except AttributeError:
        return None
