"""Soft-target losses of K-class students, with the gradients and Hessians boosting needs.

A K-class student's raw output for a row is a vector ``f`` of K scores; its
class probabilities are ``softmax(f)``. Each loss here is fit to *soft*
targets ``q`` (the teacher's class distribution, or one-hot labels for the
baseline) with row weights ``w``:

* :class:`SoftmaxCrossEntropy` -- ``-sum_k q_k log softmax(f)_k``: the
  multiclass cross-entropy with soft labels (Hinton, Vinyals & Dean, 2015).
  Its gradient is ``w (p - q)``; its Hessian diagonal is ``w p (1 - p)``,
  scaled by ``K / (K - 1)`` as LightGBM's own ``multiclass`` objective does
  (Friedman, Hastie & Tibshirani, 2000): with one-hot targets the two are
  the same objective.
* :class:`CenteredLogitSquares` -- ``0.5 sum_k (f_k - t_k)^2`` with
  ``t = log q - mean(log q)``, the teacher's centred log-probabilities
  clipped to ``+/- LOGIT_CLIP``: logit matching (Ba & Caruana, 2014), the
  K-class form of the binary ``logit`` loss; ``softmax(t)`` is ``q``.

Both give the constant raw scores a model starts from (``init_score``), as
LightGBM does for its built-in objectives, and their weighted mean loss, which
early stopping watches. :func:`check_targets` checks any student's targets, and
:func:`logit_targets` gives the binary ``logit`` loss its log-odds.
"""

from __future__ import annotations

import re

import numpy as np

from tabdistill_runtime._proba import clip_distribution, softmax

from .._budget import lightgbm_deadline

#: Log-odds targets of the ``logit`` loss (binary, and the K-class centred log-probabilities)
#: are clipped to +/- this (probabilities 1e-4 .. 1-1e-4): beyond it a least-squares fit would
#: spend its trees on the teacher's most certain rows.
LOGIT_CLIP = 9.2


def logit_targets(q) -> np.ndarray:
    """Binary probabilities as the clipped log-odds the ``logit`` loss fits."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.clip(np.log(q) - np.log1p(-q), -LOGIT_CLIP, LOGIT_CLIP)


def as_cross_entropy(text: str) -> str:
    """A binary ``logit`` student's model text, fit by least squares on log-odds: its leaves
    sum to a logit, so the same trees read as a cross-entropy model, whose output LightGBM
    and the runtime take through a sigmoid."""
    return re.sub(r"^objective=.*$", "objective=cross_entropy", text, flags=re.M)


def check_targets(target, sample_weight):
    """Student targets as floats, checked: probabilities (one a row, binary) or class
    distributions ``(n, K)``; with the weights as floats (or None). Raises ``ValueError``."""
    target = np.asarray(target, dtype=np.float64)
    if np.any(~np.isfinite(target)) or target.min() < 0 or target.max() > 1:
        raise ValueError("student targets must be probabilities in [0, 1].")
    if target.ndim == 2:
        if target.shape[1] < 3:
            raise ValueError(
                f"K-class targets need 3 columns or more, got {target.shape[1]}; a binary "
                "target is one probability a row."
            )
        if np.abs(target.sum(axis=1) - 1).max() > 1e-6:
            raise ValueError("K-class student targets must be distributions (rows summing to 1).")
    elif target.ndim != 1:
        raise ValueError(f"student targets must be 1-D or (n, K), got shape {target.shape}.")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return target, w


class SoftmaxCrossEntropy:
    """Soft-label multiclass cross-entropy of raw scores (see the module docstring).

    Parameters
    ----------
    target : ndarray of shape (n, K)
        Class distributions (rows sum to 1).
    weight : ndarray of shape (n,), default=None
    """

    name = "soft_cross_entropy"

    def __init__(self, target, weight=None):
        self.target = np.asarray(target, dtype=np.float64)
        n, self.n_classes = self.target.shape
        self.weight = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)

    def init_score(self) -> np.ndarray:
        """The best constant raw scores: log of the weighted mean distribution, centred."""
        prior = clip_distribution(np.average(self.target, axis=0, weights=self.weight))
        log = np.log(prior)
        return log - log.mean()

    def gradient_hessian(self, raw) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and (scaled) Hessian diagonal with respect to ``raw``, each ``(n, K)``."""
        p = softmax(raw)
        w = self.weight[:, None]
        factor = self.n_classes / (self.n_classes - 1.0)
        return w * (p - self.target), w * factor * p * (1.0 - p)

    def loss(self, raw) -> float:
        """Weighted mean of ``-sum_k q_k log softmax(raw)_k``."""
        raw = np.asarray(raw, dtype=np.float64)
        shifted = raw - raw.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(np.average(-(self.target * log_p).sum(axis=1), weights=self.weight))


class CenteredLogitSquares:
    """Least squares on the teacher's centred log-probabilities (see the module docstring).

    Parameters
    ----------
    target : ndarray of shape (n, K)
        Class distributions (rows sum to 1).
    weight : ndarray of shape (n,), default=None
    """

    name = "logit_squares"

    def __init__(self, target, weight=None):
        log = np.log(clip_distribution(target))
        self.logits = np.clip(log - log.mean(axis=1, keepdims=True), -LOGIT_CLIP, LOGIT_CLIP)
        n, self.n_classes = self.logits.shape
        self.weight = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)

    def init_score(self) -> np.ndarray:
        """The best constant raw scores: the weighted mean target."""
        return np.average(self.logits, axis=0, weights=self.weight)

    def gradient_hessian(self, raw) -> tuple[np.ndarray, np.ndarray]:
        w = np.broadcast_to(self.weight[:, None], self.logits.shape)
        return w * (np.asarray(raw, dtype=np.float64) - self.logits), np.array(w)

    def loss(self, raw) -> float:
        """Weighted mean of ``0.5 * sum_k (raw_k - t_k)^2``."""
        sq = 0.5 * ((np.asarray(raw, dtype=np.float64) - self.logits) ** 2).sum(axis=1)
        return float(np.average(sq, weights=self.weight))


#: Student ``loss`` name -> the K-class objective it means.
OBJECTIVES = {"cross_entropy": SoftmaxCrossEntropy, "logit": CenteredLogitSquares}


def _raw_matrix(raw, n_classes):
    """LightGBM's raw scores of K classes as ``(n, K)`` (older versions pass them flat)."""
    raw = np.asarray(raw, dtype=np.float64)
    return raw if raw.ndim == 2 else raw.reshape(n_classes, -1).T


def train_soft_classes(
    params,
    Z,
    target,
    w,
    *,
    loss,
    n_rounds,
    categorical,
    feature_names,
    eval_set=None,
    early_stopping_rounds=None,
    deadline=None,
):
    """Boost K LightGBM trees a round on class distributions ``target`` with ``loss``.

    ``params`` are the booster's parameters (without the objective); with
    ``eval_set`` ``(Z, target, weight)`` and ``early_stopping_rounds``, rounds stop
    once the loss there has not improved for that many; with ``deadline`` (a
    ``time.perf_counter()`` value), once it has passed, as a binary student's do.
    Returns the booster, the constant raw scores every row starts from, and the
    rounds kept.
    """
    import lightgbm as lgb

    objective = OBJECTIVES[loss](target, w)
    k = target.shape[1]
    init = objective.init_score()

    def data(rows, **kw):
        start = np.tile(init, (len(rows), 1))
        return lgb.Dataset(
            rows, label=np.zeros(len(rows)), init_score=start, categorical_feature=categorical, **kw
        )

    train = data(Z, feature_name=feature_names)
    params = {
        **params,
        "objective": lambda raw, _: objective.gradient_hessian(_raw_matrix(raw, k)),
        "num_class": k,
        "metric": "None",
    }
    kwargs, stopping = {}, early_stopping_rounds and eval_set is not None
    if stopping:
        Z_ev, t_ev, w_ev = eval_set
        watched = OBJECTIVES[loss](np.asarray(t_ev, dtype=np.float64), w_ev)
        kwargs = {
            "valid_sets": [data(np.asarray(Z_ev, dtype=np.float64), reference=train)],
            "feval": lambda raw, _: (watched.name, watched.loss(_raw_matrix(raw, k)), False),
            "callbacks": [lgb.early_stopping(early_stopping_rounds, verbose=False)],
        }
    if deadline is not None:
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), lightgbm_deadline(deadline)]
    booster = lgb.train(params, train, num_boost_round=n_rounds, **kwargs)
    rounds = booster.best_iteration if stopping and booster.best_iteration else None
    return booster, init, rounds or booster.current_iteration()
