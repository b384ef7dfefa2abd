"""Fraud-style accuracy, calibration and teacher-student fidelity metrics.

Pure functions of labels and scores, used by every stage that scores a model
(teacher member weights, knob selection in distillation, benchmarks, the
retraining gate). All accept an optional ``sample_weight`` where it makes sense
and raise :class:`~tabdistill.exceptions.DataError` when the labels do not hold
both classes, instead of returning NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import spearmanr
from sklearn import metrics as skm

from ._proba import clip_proba
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


def roc_auc(y, p, sample_weight=None) -> float:
    """Area under the ROC curve."""
    y, p, w = _check(y, p, sample_weight)
    return float(skm.roc_auc_score(y, p, sample_weight=w))


def average_precision(y, p, sample_weight=None) -> float:
    """Area under the precision-recall curve (average precision)."""
    y, p, w = _check(y, p, sample_weight)
    return float(skm.average_precision_score(y, p, sample_weight=w))


def log_loss(y, p, sample_weight=None) -> float:
    """Mean negative log-likelihood, probabilities clipped to ``[1e-7, 1 - 1e-7]``."""
    y, p, w = _check(y, p, sample_weight)
    p = clip_proba(p)
    return float(-np.average(y * np.log(p) + (1 - y) * np.log(1 - p), weights=w))


def brier(y, p, sample_weight=None) -> float:
    """Mean squared difference between probability and label."""
    y, p, w = _check(y, p, sample_weight)
    return float(np.average((p - y) ** 2, weights=w))


def expected_calibration_error(y, p, sample_weight=None, n_bins: int = 10) -> float:
    """ECE over ``n_bins`` equal-width probability bins.

    ``sum_b (n_b / n) * |mean(y in b) - mean(p in b)|``; weighted when
    ``sample_weight`` is given.
    """
    y, p, w = _check(y, p, sample_weight)
    w = np.ones_like(p) if w is None else w
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = w.sum()
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if w[m].sum() > 0:
            ece += (
                w[m].sum()
                / total
                * abs(np.average(y[m], weights=w[m]) - np.average(p[m], weights=w[m]))
            )
    return float(ece)


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


def classification_metrics(y, p, sample_weight=None) -> dict:
    """Every accuracy and calibration metric of one model, as a flat dict."""
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
        the teacher a 1% false-positive rate.
    """
    teacher_p = np.asarray(teacher_p, dtype=np.float64)
    student_p = np.asarray(student_p, dtype=np.float64)
    if teacher_p.shape != student_p.shape:
        raise DataError("teacher and student scores differ in length.")
    t = threshold_at_fpr(y, teacher_p, fpr)
    rho = spearmanr(teacher_p, student_p).statistic
    return {
        "spearman": float(rho) if not math.isnan(rho) else 0.0,
        "mean_abs_diff": float(np.mean(np.abs(teacher_p - student_p))),
        "agreement_at_1pct_fpr": float(np.mean((teacher_p >= t) == (student_p >= t))),
    }


#: Metrics where larger is better; the others (log loss, Brier, ECE) are losses.
HIGHER_IS_BETTER = {"roc_auc", "average_precision", "recall_at_1pct_fpr", "precision_at_top_1pct"}


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


def bootstrap_intervals(
    y, scores: dict, differences=(), n_boot: int = 200, level: float = 0.95, random_state=0
) -> dict:
    """Bootstrap confidence intervals of ROC-AUC and PR-AUC, and of paired differences.

    Rows are resampled with replacement within each class (a stratified
    bootstrap: every resample keeps the class counts, so no resample lacks
    positives); every model is scored on the same resamples, so a difference
    ``a - b`` is paired and its interval is much narrower than the two
    models' own intervals suggest.

    Parameters
    ----------
    y : array-like of 0/1
    scores : dict
        ``name -> positive-class scores`` on the rows of ``y``.
    differences : iterable of (str, str)
        Pairs ``(a, b)`` whose difference ``a - b`` gets an interval too.
    n_boot : int, default=200
    level : float, default=0.95
    random_state : int, default=0

    Returns
    -------
    dict
        ``{name or "a-b": {metric: {"estimate", "low", "high"}}}`` for the
        metrics ``roc_auc`` and ``average_precision``.
    """
    y = np.asarray(y).ravel().astype(np.int8)
    scores = {k: _check(y, p)[1] for k, p in scores.items()}
    rng = np.random.default_rng(random_state)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    funcs = {"roc_auc": skm.roc_auc_score, "average_precision": skm.average_precision_score}
    draws = {k: {m: np.empty(n_boot) for m in funcs} for k in scores}
    for b in range(n_boot):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        for name, p in scores.items():
            for metric, f in funcs.items():
                draws[name][metric][b] = f(y[idx], p[idx])
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
