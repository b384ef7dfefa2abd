"""Soft labels and sample weights for the student's training set.

Original rows are labelled with the teacher's **out-of-fold** probabilities:
an in-sample prediction of a flexible teacher (a forest, a boosted model)
memorises the hard labels, and a student fit on it learns the noise. Synthetic
rows are labelled by the fitted teacher, which never saw them.

Soft labels are positive-class probabilities ``(n,)`` for a binary target and
class distributions ``(n, K)`` for K > 2 classes; every function here takes
either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tabdistill_runtime._proba import clip_distribution, clip_proba, softmax

from .. import metrics


def soften(q, temperature: float = 1.0) -> np.ndarray:
    """Temper probabilities: ``sigmoid(logit(q) / temperature)``, or for class
    distributions ``softmax(log(q) / temperature)`` (the same for K = 2).

    ``temperature > 1`` pulls targets towards 0.5, or towards the uniform
    distribution (Hinton, Vinyals & Dean, 2015); ``temperature == 1`` returns
    ``q`` unchanged (clipped away from 0 and 1).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}.")
    if np.ndim(q) == 2:
        q = clip_distribution(q)
        return q if temperature == 1 else softmax(np.log(q) / temperature)
    q = clip_proba(q)
    if temperature == 1:
        return q
    return 1.0 / (1.0 + np.exp(-np.log(q / (1 - q)) / temperature))


def _logit(q):
    q = clip_proba(q)
    return np.log(q) - np.log1p(-q)


def platt_scaling(p, y, sample_weight=None):
    """Fit ``q -> sigmoid(a * logit(q) + b)`` to labels ``y``; return it as a function.

    Fit on the teacher's out-of-fold probabilities, it recalibrates every soft
    label (original, validation and synthetic rows alike) without changing
    their order, so the teacher's ROC-AUC is the same. For class
    distributions, its multiclass form (matrix scaling): a multinomial
    logistic regression on ``log(q)``.
    """
    from sklearn.linear_model import LogisticRegression

    if np.ndim(p) == 2:
        logs = np.log(clip_distribution(p))
        model = LogisticRegression(C=1e6, max_iter=1000)
        model.fit(logs, np.asarray(y), sample_weight=sample_weight)
        if len(model.classes_) != logs.shape[1]:
            raise ValueError("calibration needs out-of-fold rows of every class.")
        return lambda q: clip_distribution(model.predict_proba(np.log(clip_distribution(q))))
    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit(_logit(p).reshape(-1, 1), np.asarray(y), sample_weight=sample_weight)
    a, b = float(model.coef_[0, 0]), float(model.intercept_[0])
    return lambda q: clip_proba(1.0 / (1.0 + np.exp(-(a * _logit(q) + b))))


@dataclass(frozen=True)
class TrainingSet:
    """The student's training data: encoded rows, targets in [0, 1], weights."""

    Z: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    n_original: int

    @property
    def n_synthetic(self) -> int:
        return self.Z.shape[0] - self.n_original


def build_training_set(
    Z,
    y,
    oof_proba,
    sample_weight=None,
    *,
    synthetic=None,
    synthetic_proba=None,
    synthetic_seeds=None,
    temperature=1.0,
    alpha=0.0,
    synthetic_weight=1.0,
    rare_weight=1.0,
) -> TrainingSet:
    """Assemble targets and weights for original and synthetic rows.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Encoded original rows.
    y : ndarray of shape (n,)
        Their 0/1 labels, or class codes (K > 2).
    oof_proba : ndarray of shape (n,) or (n, K)
        The teacher's out-of-fold probabilities for them.
    sample_weight : ndarray of shape (n,), default=None
        The user's weights. Synthetic rows inherit their seed row's weight.
    synthetic, synthetic_proba, synthetic_seeds : ndarray, default=None
        Synthetic rows, the fitted teacher's probabilities for them, and the
        original row each came from.
    temperature : float, default=1.0
        Applied to every soft label (see :func:`soften`).
    alpha : float, default=0.0
        Original rows' target is ``(1 - alpha) * soft + alpha * y`` (``y``
        one-hot for K classes).
    synthetic_weight : float, default=1.0
        Weight of a synthetic row relative to an original one.
    rare_weight : float, default=1.0
        Extra weight on the rare class: a row's weight is multiplied by
        ``1 + (rare_weight - 1) * target`` (binary: the positive class), or
        by ``1 + (rare_weight - 1) * (1 - target[majority])`` for K classes,
        the majority being the most frequent label of the original rows.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
    multiclass = np.ndim(oof_proba) == 2
    y = metrics.one_hot(y, oof_proba.shape[1]) if multiclass else np.asarray(y, dtype=np.float64)
    base = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    targets = [(1 - alpha) * soften(oof_proba, temperature) + alpha * y]
    weights = [base]
    rows = [np.asarray(Z, dtype=np.float64)]
    if synthetic is not None and len(synthetic):
        rows.append(synthetic)
        targets.append(soften(synthetic_proba, temperature))
        weights.append(synthetic_weight * base[synthetic_seeds])
    target = np.concatenate(targets)
    rare = target
    if multiclass:
        rare = 1 - target[:, int(np.argmax(y.sum(axis=0)))]
    weight = np.concatenate(weights) * (1 + (rare_weight - 1) * rare)
    return TrainingSet(np.vstack(rows), target, weight, len(y))
