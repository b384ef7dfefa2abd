"""Fraud-style accuracy, calibration and teacher-student fidelity metrics.

Pure functions of labels and scores, used by every stage that scores a model
(teacher member weights, knob selection in distillation, benchmarks, the
retraining gate). All accept an optional ``sample_weight`` where it makes sense
and raise :class:`~tabdistill.exceptions.DataError` when the labels do not hold
two classes, instead of returning NaN.

Scores come in two shapes, as everywhere in tabdistill: a binary model's
positive-class probabilities ``p`` of shape ``(n,)`` with 0/1 labels, or a
K-class model's probabilities ``P`` of shape ``(n, K)`` with labels coded
``0 .. K-1``. The functions that make sense for both take either:
ROC-AUC and PR-AUC become one-vs-rest averages (``average="macro"`` or
``"weighted"`` by class prevalence, over the classes present in the labels),
log loss the multiclass log loss, Brier score the mean squared distance to
the one-hot label (twice the binary Brier score for K = 2), ECE the top-label
ECE, and fidelity the agreement of the argmax and the mean total-variation
distance.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.stats import spearmanr
from sklearn import metrics as skm

from tabdistill_runtime._proba import clip_proba

from .exceptions import DataError


def _check(y, p, sample_weight=None):
    y = np.asarray(y).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise DataError(f"labels and scores differ in length: {y.shape[0]} vs {p.shape[0]}.")
    if not np.all(np.isfinite(p)):
        raise DataError("scores contain NaN or infinite values.")
    if not np.isin(y, (0, 1)).all():
        raise DataError("labels must be 0/1.")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    n_pos = (y == 1).sum() if w is None else w[y == 1].sum()
    n_neg = (y == 0).sum() if w is None else w[y == 0].sum()
    if n_pos == 0 or n_neg == 0:
        which = "positive" if n_pos == 0 else "negative"
        raise DataError(
            f"the labels hold no {which} rows: this metric needs both classes. "
            "Use a larger or stratified evaluation split."
        )
    return y.astype(np.int8), p, w


def is_multiclass(p) -> bool:
    """Whether scores are a K-class probability matrix (else positive-class probabilities)."""
    return np.ndim(p) == 2


def _check_multi(y, P, sample_weight=None):
    """Codes, probabilities and weights of K-class scores, checked; see the module docstring."""
    y = np.asarray(y).ravel()
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != y.shape[0]:
        raise DataError(
            f"expected probabilities of shape ({y.shape[0]}, n_classes) for {y.shape[0]} "
            f"labels, got {P.shape}."
        )
    if not np.all(np.isfinite(P)):
        raise DataError("scores contain NaN or infinite values.")
    k = P.shape[1]
    if y.size and (y.dtype.kind not in "iub" or y.min() < 0 or y.max() >= k):
        raise DataError(f"labels must be class codes 0 .. {k - 1} for {k} probability columns.")
    y = y.astype(np.int64)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if len(_present(y, k, w)) < 2:
        raise DataError(
            "the labels hold one class only: this metric needs two classes or more. "
            "Use a larger or stratified evaluation split."
        )
    return y, P, w


def _present(y, k, w=None) -> np.ndarray:
    """The classes with rows (of positive weight) among the labels."""
    return np.flatnonzero(np.bincount(y, weights=w, minlength=k) > 0)


def _one_vs_rest(func, y, P, w, average):
    """``func`` of each class against the rest, averaged over the classes present in ``y``."""
    if average not in ("macro", "weighted"):
        raise ValueError(f"average must be 'macro' or 'weighted', got {average!r}.")
    classes = _present(y, P.shape[1], w)
    values = [func((y == c).astype(np.int8), P[:, c], sample_weight=w) for c in classes]
    if average == "macro":
        return float(np.mean(values))
    support = np.bincount(y, weights=w, minlength=P.shape[1])[classes]
    return float(np.average(values, weights=support))


def roc_auc(y, p, sample_weight=None, average: str = "macro") -> float:
    """Area under the ROC curve; for K classes, one-vs-rest averaged by ``average``."""
    if is_multiclass(p):
        return _one_vs_rest(skm.roc_auc_score, *_check_multi(y, p, sample_weight), average)
    y, p, w = _check(y, p, sample_weight)
    return float(skm.roc_auc_score(y, p, sample_weight=w))


def average_precision(y, p, sample_weight=None, average: str = "macro") -> float:
    """Area under the precision-recall curve (average precision); one-vs-rest for K classes."""
    if is_multiclass(p):
        return _one_vs_rest(
            skm.average_precision_score, *_check_multi(y, p, sample_weight), average
        )
    y, p, w = _check(y, p, sample_weight)
    return float(skm.average_precision_score(y, p, sample_weight=w))


def log_loss(y, p, sample_weight=None) -> float:
    """Mean negative log-likelihood, probabilities clipped to ``[1e-7, 1 - 1e-7]``."""
    if is_multiclass(p):
        y, P, w = _check_multi(y, p, sample_weight)
        picked = clip_proba(P[np.arange(len(y)), y])
        return float(-np.average(np.log(picked), weights=w))
    y, p, w = _check(y, p, sample_weight)
    p = clip_proba(p)
    return float(-np.average(y * np.log(p) + (1 - y) * np.log(1 - p), weights=w))


def brier(y, p, sample_weight=None) -> float:
    """Mean squared difference between probability and label (summed over classes for K)."""
    if is_multiclass(p):
        y, P, w = _check_multi(y, p, sample_weight)
        return float(np.average(((P - one_hot(y, P.shape[1])) ** 2).sum(axis=1), weights=w))
    y, p, w = _check(y, p, sample_weight)
    return float(np.average((p - y) ** 2, weights=w))


def one_hot(y, n_classes: int) -> np.ndarray:
    """Class codes as rows of a ``(n, n_classes)`` 0/1 matrix."""
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), np.asarray(y, dtype=np.int64)] = 1.0
    return out


def _binned_gap(outcome, confidence, w, n_bins):
    """``sum_b (w_b / w) * |mean(outcome in b) - mean(confidence in b)|`` over equal-width bins."""
    w = np.ones_like(confidence) if w is None else w
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = w.sum()
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if w[m].sum() > 0:
            ece += (
                w[m].sum()
                / total
                * abs(
                    np.average(outcome[m], weights=w[m]) - np.average(confidence[m], weights=w[m])
                )
            )
    return float(ece)


def expected_calibration_error(y, p, sample_weight=None, n_bins: int = 10) -> float:
    """ECE over ``n_bins`` equal-width probability bins.

    ``sum_b (n_b / n) * |mean(y in b) - mean(p in b)|``; weighted when
    ``sample_weight`` is given. For K classes, the top-label ECE: the bins
    hold each row's largest probability, compared with how often that class
    is the label.
    """
    if is_multiclass(p):
        y, P, w = _check_multi(y, p, sample_weight)
        top = np.argmax(P, axis=1)
        return _binned_gap((top == y).astype(float), P[np.arange(len(y)), top], w, n_bins)
    y, p, w = _check(y, p, sample_weight)
    return _binned_gap(y, p, w, n_bins)


def threshold_at_fpr(y, p, fpr: float = 0.01, sample_weight=None) -> float:
    """The lowest score threshold whose false-positive rate is at most ``fpr``.

    Rows with ``score >= threshold`` are flagged. Ties are handled by the ROC
    curve: all rows sharing a score are flagged together.
    """
    y, p, w = _check(y, p, sample_weight)
    fprs, _, thresholds = skm.roc_curve(y, p, sample_weight=w, drop_intermediate=False)
    ok = np.flatnonzero(fprs <= fpr + 1e-12)
    return float(thresholds[ok[-1]])


def recall_at_fpr(y, p, fpr: float = 0.01, sample_weight=None) -> float:
    """Highest recall (true-positive rate) reachable with a false-positive rate <= ``fpr``."""
    y, p, w = _check(y, p, sample_weight)
    fprs, tprs, _ = skm.roc_curve(y, p, sample_weight=w, drop_intermediate=False)
    return float(tprs[fprs <= fpr + 1e-12].max())


def precision_at_top(y, p, fraction: float = 0.01, sample_weight=None) -> float:
    """Precision among the ``fraction`` highest-scored rows (at least one row).

    Rows tied at the cut-off score count with the share of them that fits in
    the top, so the result does not depend on row order.
    """
    y, p, w = _check(y, p, sample_weight)
    w = np.ones_like(p) if w is None else w
    budget = max(w.sum() * fraction, w.min())
    order = np.argsort(-p, kind="stable")
    ys, ps, ws = y[order], p[order], w[order]
    cum = np.cumsum(ws)
    cut = ps[min(np.searchsorted(cum, budget - 1e-12), len(ps) - 1)]
    above, tied = ps > cut, ps == cut
    room = budget - ws[above].sum()
    share = room / ws[tied].sum()
    hits = (ws * ys)[above].sum() + share * (ws * ys)[tied].sum()
    return float(hits / budget)


def _top_k_hits(y, P, k: int) -> np.ndarray:
    """Whether each row's label is among its ``k`` most probable classes (ties: lower code)."""
    top = np.argsort(-P, axis=1, kind="stable")[:, :k]
    return (top == y[:, None]).any(axis=1)


def accuracy(y, P, sample_weight=None) -> float:
    """Share of rows whose most probable class is the label."""
    y, P, w = _check_multi(y, _columns(P), sample_weight)
    return float(np.average(_top_k_hits(y, P, 1), weights=w))


def top_k_accuracy(y, P, k: int = 2, sample_weight=None) -> float:
    """Share of rows whose label is among their ``k`` most probable classes."""
    y, P, w = _check_multi(y, _columns(P), sample_weight)
    return float(np.average(_top_k_hits(y, P, k), weights=w))


def confusion_matrix(y, P, sample_weight=None) -> np.ndarray:
    """``(K, K)`` counts (weights): row = label, column = most probable class."""
    y, P, w = _check_multi(y, _columns(P), sample_weight)
    k = P.shape[1]
    flat = y * k + np.argmax(P, axis=1)
    return np.bincount(flat, weights=w, minlength=k * k).reshape(k, k)


def balanced_accuracy(y, P, sample_weight=None) -> float:
    """Mean recall of the classes present in the labels."""
    cm = confusion_matrix(y, P, sample_weight)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def per_class(y, P, sample_weight=None) -> dict:
    """Recall, precision and support of each class, and the confusion matrix.

    Returns
    -------
    dict
        ``recall``, ``precision``, ``support`` (lists of K numbers: precision
        is 0 for a class never predicted, recall None for a class with no
        rows) and ``confusion`` (K lists of K numbers, row = label).
    """
    cm = confusion_matrix(y, P, sample_weight)
    hits, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    return {
        "recall": [float(h / s) if s > 0 else None for h, s in zip(hits, support)],
        "precision": [float(h / p) if p > 0 else 0.0 for h, p in zip(hits, predicted)],
        "support": support.tolist(),
        "confusion": cm.tolist(),
    }


def _columns(p) -> np.ndarray:
    """Scores as a probability matrix (a binary model's ``p`` as two columns ``1 - p, p``)."""
    p = np.asarray(p, dtype=np.float64)
    return p if p.ndim == 2 else np.column_stack([1 - p, p])


def classification_metrics(y, p, sample_weight=None) -> dict:
    """Every accuracy and calibration metric of one model, as a flat dict.

    For K-class scores: log loss, macro and weighted one-vs-rest ROC-AUC,
    macro PR-AUC, accuracy, balanced accuracy, top-2 accuracy, Brier score and
    top-label ECE (see :func:`per_class` for the per-class figures).
    """
    if is_multiclass(p):
        return {
            "log_loss": log_loss(y, p, sample_weight),
            "roc_auc": roc_auc(y, p, sample_weight),
            "roc_auc_weighted": roc_auc(y, p, sample_weight, average="weighted"),
            "average_precision": average_precision(y, p, sample_weight),
            "accuracy": accuracy(y, p, sample_weight),
            "balanced_accuracy": balanced_accuracy(y, p, sample_weight),
            "top2_accuracy": top_k_accuracy(y, p, 2, sample_weight),
            "brier": brier(y, p, sample_weight),
            "ece": expected_calibration_error(y, p, sample_weight),
        }
    return {
        "roc_auc": roc_auc(y, p, sample_weight),
        "average_precision": average_precision(y, p, sample_weight),
        "log_loss": log_loss(y, p, sample_weight),
        "brier": brier(y, p, sample_weight),
        "ece": expected_calibration_error(y, p, sample_weight),
        "recall_at_1pct_fpr": recall_at_fpr(y, p, 0.01, sample_weight),
        "precision_at_top_1pct": precision_at_top(y, p, 0.01, sample_weight),
    }


def fidelity(y, teacher_p, student_p, fpr: float = 0.01) -> dict:
    """How closely a student follows its teacher.

    Returns
    -------
    dict
        ``spearman``: rank correlation of the scores; ``mean_abs_diff``: mean
        absolute probability difference; ``agreement_at_1pct_fpr``: share of
        rows on which both make the same decision at the threshold that gives
        the teacher a 1% false-positive rate. For K-class scores:
        ``agreement``, the share of rows whose most probable class is the
        same, and ``mean_tv_distance``, the mean total-variation distance
        ``0.5 * sum_k |P_t - P_s|`` between the two distributions.
    """
    teacher_p = np.asarray(teacher_p, dtype=np.float64)
    student_p = np.asarray(student_p, dtype=np.float64)
    if teacher_p.shape != student_p.shape:
        raise DataError("teacher and student scores differ in shape.")
    if is_multiclass(teacher_p):
        same = np.argmax(teacher_p, axis=1) == np.argmax(student_p, axis=1)
        return {
            "agreement": float(np.mean(same)),
            "mean_tv_distance": float(np.mean(0.5 * np.abs(teacher_p - student_p).sum(axis=1))),
        }
    t = threshold_at_fpr(y, teacher_p, fpr)
    rho = spearmanr(teacher_p, student_p).statistic
    return {
        "spearman": float(rho) if not math.isnan(rho) else 0.0,
        "mean_abs_diff": float(np.mean(np.abs(teacher_p - student_p))),
        "agreement_at_1pct_fpr": float(np.mean((teacher_p >= t) == (student_p >= t))),
    }


#: Metrics where larger is better; the others (log loss, Brier, ECE) are losses.
HIGHER_IS_BETTER = {
    "roc_auc",
    "roc_auc_weighted",
    "average_precision",
    "recall_at_1pct_fpr",
    "precision_at_top_1pct",
    "accuracy",
    "balanced_accuracy",
    "top2_accuracy",
}


def score(metric: str, y, p, sample_weight=None) -> float:
    """One metric by name, oriented so that larger is always better (losses negated)."""
    funcs = {
        "roc_auc": roc_auc,
        "average_precision": average_precision,
        "log_loss": log_loss,
        "brier": brier,
    }
    if metric not in funcs:
        raise ValueError(f"unknown selection metric {metric!r}; choose one of {sorted(funcs)}.")
    value = funcs[metric](y, p, sample_weight)
    return value if metric in HIGHER_IS_BETTER else -value


#: The targets a decision threshold can be chosen for, with what their value means.
THRESHOLD_TARGETS = {
    "fpr": "the largest false-positive rate allowed, in (0, 1)",
    "alert_rate": "the largest share of rows flagged, in (0, 1)",
    "cost_ratio": "the cost of a missed positive over that of a false alarm, > 0",
}


def check_threshold_spec(spec) -> None:
    """Raise ``ValueError`` unless ``spec`` is a probability or one ``{target: value}`` pair."""
    if isinstance(spec, dict):
        if len(spec) != 1 or next(iter(spec)) not in THRESHOLD_TARGETS:
            raise ValueError(
                f"threshold must be a probability or a dict with one key among "
                f"{sorted(THRESHOLD_TARGETS)}, got {spec!r}."
            )
        ((key, value),) = spec.items()
        upper = np.inf if key == "cost_ratio" else 1
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < upper:
            raise ValueError(f"threshold {key!r} must be {THRESHOLD_TARGETS[key]}, got {value!r}.")
        return
    if isinstance(spec, bool) or not isinstance(spec, int | float) or not 0 < spec < 1:
        raise ValueError(f"threshold must be a probability in (0, 1) or a dict, got {spec!r}.")


def decision_threshold(y, p, spec, sample_weight=None) -> float:
    """The score threshold that meets ``spec`` on labelled rows (``score >= t`` is flagged).

    Parameters
    ----------
    y, p : array-like
        0/1 labels and positive-class scores (validation rows).
    spec : float or dict
        A probability (returned as is), ``{"fpr": a}`` (the lowest threshold
        whose false-positive rate is at most ``a``), ``{"alert_rate": a}``
        (the lowest threshold flagging at most a share ``a`` of rows) or
        ``{"cost_ratio": c}`` (the threshold minimising ``c * FN + FP``; the
        highest such one on ties).
    """
    check_threshold_spec(spec)
    if not isinstance(spec, dict):
        return float(spec)
    ((key, value),) = spec.items()
    if key == "fpr":
        return threshold_at_fpr(y, p, value, sample_weight)
    y, p, w = _check(y, p, sample_weight)
    w = np.ones_like(p) if w is None else w
    order = np.argsort(-p, kind="stable")
    ps, ys, ws = p[order], y[order], w[order]
    last = np.r_[ps[1:] != ps[:-1], True]  # the last row of each run of tied scores
    thresholds = ps[last]
    flagged = np.cumsum(ws)[last] / w.sum()
    if key == "alert_rate":
        ok = np.flatnonzero(flagged <= value + 1e-12)
        return float(thresholds[ok[-1]]) if len(ok) else float(np.inf)
    tp = np.cumsum(ws * ys)[last]
    fp = np.cumsum(ws * (1 - ys))[last]
    fn = (w * y).sum() - tp
    cost = np.r_[value * (w * y).sum(), value * fn + fp]  # first: flag nothing
    best = int(np.argmin(cost))
    return float(np.inf) if best == 0 else float(thresholds[best - 1])


def decision_summary(y, p, threshold, sample_weight=None) -> dict:
    """What flagging ``p >= threshold`` does on labelled rows.

    Returns
    -------
    dict
        ``threshold`` (None when it is infinite: nothing is flagged),
        ``alerts_per_10k`` (rows flagged per 10,000), ``recall``, ``precision``
        (0 when nothing is flagged) and ``fpr``.
    """
    y, p, w = _check(y, p, sample_weight)
    w = np.ones_like(p) if w is None else w
    flag = p >= threshold
    tp, fp = (w * flag * y).sum(), (w * flag * (1 - y)).sum()
    return {
        "threshold": float(threshold) if np.isfinite(threshold) else None,
        "alerts_per_10k": float(1e4 * (w * flag).sum() / w.sum()),
        "recall": float(tp / (w * y).sum()),
        "precision": float(tp / (tp + fp)) if tp + fp > 0 else 0.0,
        "fpr": float(fp / (w * (1 - y)).sum()),
    }


class RankedScores:
    """Scores sorted once, so that ROC-AUC and PR-AUC under any row weights cost O(n).

    A bootstrap resample is a vector of row counts; scoring hundreds of them
    with :func:`roc_auc` would sort the rows each time. Here rows are sorted by
    score once and grouped by equal score; each weighting then only sums
    weights per group. The values equal scikit-learn's ``roc_auc_score`` and
    ``average_precision_score`` with the same ``sample_weight`` (ties
    included), to floating-point rounding.

    Parameters
    ----------
    y : array-like of 0/1
    p : array-like of scores
    """

    def __init__(self, y, p):
        y, p, _ = _check(y, p)
        self.order = np.argsort(-p, kind="mergesort")
        sorted_p = p[self.order]
        ends = np.flatnonzero(np.r_[sorted_p[1:] != sorted_p[:-1], True])
        self.ends = None if len(ends) == len(p) else ends  # None: no ties
        self.positive = (y[self.order] == 1).astype(np.float64)

    def _group_weights(self, w):
        """Positive and negative weight per group of equal scores, highest score first."""
        w = np.asarray(w, dtype=np.float64)[self.order]
        tp = w * self.positive
        if self.ends is None:
            return tp, w - tp
        tp_cum, all_cum = np.cumsum(tp)[self.ends], np.cumsum(w)[self.ends]
        tp = np.diff(tp_cum, prepend=0.0)
        return tp, np.diff(all_cum, prepend=0.0) - tp

    def roc_auc(self, w) -> float:
        """ROC-AUC with row weights ``w`` (a tie between a positive and a negative counts 1/2)."""
        tp, fp = self._group_weights(w)
        negatives_below = fp.sum() - np.cumsum(fp)
        return float((tp * (negatives_below + 0.5 * fp)).sum() / (tp.sum() * fp.sum()))

    def average_precision(self, w) -> float:
        """Average precision with row weights ``w``: precision at each score, weighted by the
        recall it adds."""
        tp, fp = self._group_weights(w)
        flagged_tp, flagged = np.cumsum(tp), np.cumsum(tp + fp)
        precision = np.divide(flagged_tp, flagged, out=np.zeros_like(flagged), where=flagged > 0)
        return float((tp * precision).sum() / tp.sum())


def stratified_resamples(y, n_boot: int, random_state=0):
    """Row counts of ``n_boot`` bootstrap resamples drawn within each class (each keeps the
    class counts); the same draws as indexing with ``rng.choice`` per class, highest class
    first (positives, then negatives, for 0/1 labels)."""
    y = np.asarray(y).ravel()
    rng = np.random.default_rng(random_state)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)[::-1]]
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        yield np.bincount(idx, minlength=len(y)).astype(np.float64)


def bootstrap_intervals(
    y, scores: dict, differences=(), n_boot: int = 200, level: float = 0.95, random_state=0
) -> dict:
    """Bootstrap confidence intervals of two metrics, and of paired differences.

    Rows are resampled with replacement within each class (a stratified
    bootstrap: every resample keeps the class counts, so no resample lacks
    positives); every model is scored on the same resamples, so a difference
    ``a - b`` is paired and its interval is much narrower than the two
    models' own intervals suggest.

    Parameters
    ----------
    y : array-like of 0/1, or of class codes for K-class scores
    scores : dict
        ``name -> scores`` on the rows of ``y`` (positive-class probabilities,
        or ``(n, K)`` class probabilities).
    differences : iterable of (str, str)
        Pairs ``(a, b)`` whose difference ``a - b`` gets an interval too.
    n_boot : int, default=200
    level : float, default=0.95
    random_state : int, default=0

    Returns
    -------
    dict
        ``{name or "a-b": {metric: {"estimate", "low", "high"}}}`` for the
        metrics ``roc_auc`` and ``average_precision`` (binary), or
        ``roc_auc`` (macro one-vs-rest) and ``log_loss`` (K classes).
    """
    if any(is_multiclass(p) for p in scores.values()):
        y = np.asarray(y).ravel().astype(np.int64)
        scores = {k: _check_multi(y, p)[1] for k, p in scores.items()}
        funcs = {"roc_auc": roc_auc, "log_loss": log_loss}
        scorers = {
            k: {m: functools.partial(f, y, p) for m, f in funcs.items()} for k, p in scores.items()
        }
    else:  # sorted once, O(n) per resample
        y = np.asarray(y).ravel().astype(np.int8)
        scores = {k: _check(y, p)[1] for k, p in scores.items()}
        funcs = {"roc_auc": skm.roc_auc_score, "average_precision": skm.average_precision_score}
        ranked = {k: RankedScores(y, p) for k, p in scores.items()}
        scorers = {k: {m: getattr(r, m) for m in funcs} for k, r in ranked.items()}
    draws = {k: {m: np.empty(n_boot) for m in funcs} for k in scores}
    for b, counts in enumerate(stratified_resamples(y, n_boot, random_state)):
        for name, by_metric in scorers.items():
            for metric, f in by_metric.items():
                draws[name][metric][b] = f(counts)
    tail = (1 - level) / 2 * 100

    def interval(estimate, values):
        low, high = np.percentile(values, [tail, 100 - tail])
        return {"estimate": float(estimate), "low": float(low), "high": float(high)}

    full = {k: {m: f(y, p) for m, f in funcs.items()} for k, p in scores.items()}
    out = {k: {m: interval(full[k][m], draws[k][m]) for m in funcs} for k in scores}
    for a, b in differences:
        out[f"{a}-{b}"] = {
            m: interval(full[a][m] - full[b][m], draws[a][m] - draws[b][m]) for m in funcs
        }
    return out


def threshold_table(y, scores: dict, fprs=(0.001, 0.005, 0.01, 0.02, 0.05)) -> list[dict]:
    """Per model and target false-positive rate: the threshold and what flagging at it does.

    Rows are ``{"model", "target_fpr", **decision_summary}``, for deciding
    where to cut: alerts per 10,000 rows, recall, precision and the FPR reached.
    """
    rows = []
    for name, p in scores.items():
        for fpr in fprs:
            t = threshold_at_fpr(y, p, fpr)
            rows.append({"model": name, "target_fpr": fpr, **decision_summary(y, p, t)})
    return rows
