"""The decision thresholds of a fit: one rule, met by the student and by the teacher.

A :class:`~tabdistill.distill.distiller.DistilledClassifier`'s ``threshold`` is a
rule -- a probability, or a target such as ``{"fpr": 0.01}`` -- met on the
validation rows. The student's threshold (``decision_threshold_``) meets it with
the student's validation probabilities, the teacher's
(``teacher_decision_threshold_``) with the teacher's: the two models' scores are
on different scales, so decisions by the compiled teacher (``tabdistill predict
--scorer teacher``) need a threshold of their own, chosen by the same rule.
"""

from __future__ import annotations

from .. import metrics
from .context import FitContext


def decision_thresholds(ctx: FitContext, rule, student_proba, teacher_proba) -> tuple:
    """``(student, teacher)`` thresholds meeting ``rule`` on the validation rows.

    Parameters
    ----------
    ctx : FitContext
        The fit, whose validation rows (labels and weights) the rule is met on.
    rule : float or dict
        The estimator's ``threshold`` (see :func:`tabdistill.metrics.decision_threshold`).
    student_proba, teacher_proba : ndarray of shape (n_validation,)
        The student's and the teacher's positive-class probabilities of the
        validation rows.

    Returns
    -------
    (float, float) or (None, None)
        Flag a row where a model's probability is at least its threshold;
        ``(None, None)`` for K > 2 classes, whose decision is the most probable class.
    """
    if ctx.n_classes != 2:
        return None, None
    validation = ctx.validation
    return tuple(
        metrics.decision_threshold(validation.y, p, rule, validation.weight)
        for p in (student_proba, teacher_proba)
    )
