"""Cross-fitting the teacher's members fold by fold, inside a time budget.

Every member is fit on each fold's training rows and predicts its held-out
rows (out-of-fold probabilities). With a time limit, the first fold measures
what each member costs; before every later fold the plan is redone with the
time left, and degrades in the order that costs the teacher least:

1. no refit on all rows: a member becomes the mean of its fold models
   (:class:`~tabdistill.distill.members.FoldAverage`), which predicts about as
   well and is already paid for;
2. fewer members: the ones ensemble selection weighs least on the rows held
   out so far go first (the best member is never dropped);
3. fewer folds: cross-fitting stops; rows no fold held out keep their hard
   label as target, as with ``TimeSeriesSplit``.

A boosted member's fit also stops adding rounds at its share of the time left,
so a single slow fit cannot overrun the budget by much.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from .._validation import take
from .members import boosting_rounds, fit_member, fold_codes, member_scores

logger = logging.getLogger(__name__)

#: A refit on all rows costs about this many fold fits (more rows, more rounds).
REFIT_COST = 1.4


@dataclass
class CrossFit:
    """What cross-fitting produced.

    Attributes
    ----------
    members : list of str
        Members fit on every fold done (the others were dropped by the budget).
    oof : dict
        ``name -> ndarray``: out-of-fold positive-class probabilities (binary)
        or ``(n, K)`` class distributions, NaN where no fold held the row out.
    rounds : dict
        ``name -> [rounds]`` each early-stopped fold model kept.
    seconds : dict
        ``name -> [seconds]`` of each fold fit.
    fold_models : dict
        ``name -> [fitted models]`` (kept only under a time limit, for :class:`FoldAverage`).
    fold_classes : list
        Per fold, the class codes its models were fit on when the fold lacked
        a class (see :func:`~tabdistill.distill.members.fold_codes`), else None.
    n_folds : int
        Folds fit.
    refit : bool
        Whether the plan leaves time to refit members on all rows.
    """

    members: list
    oof: dict
    rounds: dict
    seconds: dict
    fold_models: dict = field(default_factory=dict)
    fold_classes: list = field(default_factory=list)
    n_folds: int = 0
    refit: bool = True

    def mean_seconds(self, name) -> float:
        return float(np.mean(self.seconds[name])) if self.seconds.get(name) else 0.0


def cross_fit(
    protos,
    splits,
    Z,
    y,
    w,
    categorical_mask,
    stop,
    budget,
    priority,
    bar=None,
    n_classes=2,
    unweighted=None,
):
    """Fit each member of ``protos`` on every split's training rows, within ``budget``.

    Parameters
    ----------
    protos : dict
        ``name -> unfitted member``, in the user's order.
    splits : list of (train, test)
    Z, y, w : the encoded rows, 0/1 labels or class codes, sample weights (or None)
    categorical_mask : ndarray of bool
    stop : tuple or None
        Early stopping settings for boosted members (see :func:`fit_member`).
    budget : TimeBudget
    priority : callable
        ``priority(names, oof, held_out) -> names`` best first (``oof`` the sums of
        out-of-fold probabilities, ``held_out`` how many folds held each row
        out so far): which members to keep when the budget cannot afford them all.
    bar : Stage, default=None
        Progress, one step per member fit.
    n_classes : int, default=2
        Classes of the target; with K > 2 the out-of-fold scores are ``(n, K)``.
    unweighted : callable, default=None
        ``unweighted(names, oof, held_out) -> names``: the members ensemble
        selection gives no weight on the rows held out so far. Given, they are
        dropped after the first fold (on large data, where one fold's held-out
        rows are enough to tell, and every further fit of a member that earns
        nothing is costly).

    Returns
    -------
    CrossFit
    """
    names = list(protos)
    keep_models = budget.limited  # for FoldAverage, should the budget rule out a refit
    result = CrossFit(
        members=names,
        oof={n: np.zeros((len(y),) if n_classes == 2 else (len(y), n_classes)) for n in names},
        rounds={n: [] for n in names},
        seconds={n: [] for n in names},
        fold_models={n: [] for n in names} if keep_models else {},
    )
    held_out = np.zeros(len(y))
    data = (Z, y, w, categorical_mask, stop)
    if not budget.limited:
        _cross_fit_parallel(result, protos, splits, data, held_out, unweighted, bar, n_classes)
        return _average(result, names, held_out, n_classes)
    for k, (train, test) in enumerate(splits):
        if k == 1:
            _drop_unweighted(result, unweighted, held_out)
        if k:
            if not _replan(result, len(splits) - k, budget, priority, held_out):
                break
        # a fold may take what one member alone could spend on it: in the first fold, which
        # measures the members' costs, later members are skipped once that is spent
        result.fold_classes.append(fold_codes(y[train], n_classes)[0])
        fold_end = time.perf_counter() + budget.remaining() / (len(splits) - k + REFIT_COST)
        for name in list(result.members):
            if k == 0 and name != names[0] and time.perf_counter() >= fold_end:
                _drop(result, [name], budget, "not fit: its first fold found no time left")
                continue
            deadline = max(fold_end, time.perf_counter() + 1e-3)
            fitted = fit_on_fold(protos[name], *data, (train, test), n_classes, deadline)
            _record(result, name, k, test, fitted, bar)
        held_out[test] += 1
        result.n_folds = k + 1
    return _average(result, names, held_out, n_classes)


def fit_on_fold(proto, Z, y, w, categorical_mask, stop, split, n_classes, deadline=None):
    """Fit a clone of ``proto`` on one split's training rows and score its held-out rows.

    ``Z``, ``y`` and ``w`` come whole and are sliced here, each its own argument: under
    joblib's Dask backend each is then sent to the workers once, not a copy per fold.
    Returns ``(fitted member, seconds, held-out scores)``.
    """
    train, test = split
    present, codes = fold_codes(y[train], n_classes)
    start = time.perf_counter()
    est = fit_member(
        clone(proto), Z, codes, take(w, train), categorical_mask, stop, deadline, rows=train
    )
    seconds = time.perf_counter() - start
    return est, seconds, member_scores(est, Z[test], n_classes, present)


def _record(result, name, k, test, fitted, bar) -> None:
    """Add one fold fit of member ``name`` to ``result``."""
    est, seconds, scores = fitted
    result.seconds[name].append(seconds)
    logger.debug("fold %d, %s: %.1f s", k, name, seconds)
    result.oof[name][test] += scores
    if boosting_rounds(est) is not None:
        result.rounds[name].append(boosting_rounds(est))
    if name in result.fold_models:
        result.fold_models[name].append(est)
    if bar is not None:
        bar.update()


def _cross_fit_parallel(result, protos, splits, data, held_out, unweighted, bar, n_classes):
    """Cross-fitting without a time limit: the fits are independent, so they run through
    ``joblib.Parallel`` -- one after another by default, on a cluster's workers inside
    ``joblib.parallel_config(backend="dask")``. The first fold comes first (its held-out
    rows tell which members earn no weight, see ``unweighted``), then every other
    (fold, member) pair at once. Same fits, same seeds, same order of results: the
    outcome does not depend on where the fits ran."""
    result.fold_classes = [fold_codes(data[1][train], n_classes)[0] for train, _ in splits]
    waves = [[0], list(range(1, len(splits)))]
    for wave, folds in enumerate(waves):
        if wave == 1:
            _drop_unweighted(result, unweighted, held_out)
        tasks = [(k, name) for k in folds for name in result.members]
        fits = Parallel(return_as="generator")(
            delayed(fit_on_fold)(protos[name], *data, splits[k], n_classes) for k, name in tasks
        )
        for (k, name), fitted in zip(tasks, fits):
            _record(result, name, k, splits[k][1], fitted, bar)
        for k in folds:
            held_out[splits[k][1]] += 1
        result.n_folds += len(folds)


def _drop_unweighted(result, unweighted, held_out) -> None:
    """Drop the members ``unweighted`` names (none without it, never the last one)."""
    if unweighted is None or len(result.members) < 2:
        return
    for name in unweighted(result.members, result.oof, held_out):
        logger.info("teacher member %r dropped: no weight after the first fold", name)
        result.members = [n for n in result.members if n != name]
        result.fold_models.pop(name, None)


def _average(result, names, held_out, n_classes) -> CrossFit:
    """Out-of-fold sums to means: a row held out by several splits gets their mean; by
    none, NaN. Members no longer in ``result.members`` lose their scores."""
    per_row = held_out if n_classes == 2 else held_out[:, None]
    for name in result.members:
        result.oof[name] = np.where(per_row > 0, result.oof[name] / np.maximum(per_row, 1), np.nan)
    for name in set(names) - set(result.members):
        del result.oof[name]
    return result


def _replan(result, folds_left, budget, priority, held_out) -> bool:
    """Choose the members (and whether to refit) that the time left affords; False: stop."""
    order = priority(result.members, {n: result.oof[n] for n in result.members}, held_out)
    left = budget.remaining()
    logger.debug(
        "teacher plan after %d fold(s), %.1f s left: %s",
        result.n_folds,
        left,
        {n: round(result.mean_seconds(n), 2) for n in order},
    )
    for size in range(len(order), 0, -1):
        per_fold = sum(result.mean_seconds(n) for n in order[:size])
        refit = REFIT_COST * per_fold if result.refit else 0.0
        if folds_left * per_fold + refit <= left:
            _drop(result, order[size:], budget)
            return True
        if folds_left * per_fold <= left:
            _no_refit(result, budget)
            _drop(result, order[size:], budget)
            return True
    _no_refit(result, budget)
    if result.mean_seconds(order[0]) <= left:  # the best member goes on; a later plan stops it
        _drop(result, order[1:], budget)
        return True
    # every member has out-of-fold rows for the folds done: keep them all, stop here
    budget.cut(
        f"teacher cross-fitting stopped after {result.n_folds} of "
        f"{result.n_folds + folds_left} folds: rows no fold held out keep their hard label"
    )
    return False


def _no_refit(result, budget) -> None:
    if result.refit:
        result.refit = False
        budget.cut("teacher members not refit on all rows: each is the mean of its fold models")


def _drop(result, names, budget, why=None) -> None:
    for name in names:
        budget.cut(f"teacher member {name!r} {why or f'dropped after {result.n_folds} fold(s)'}")
        result.members = [n for n in result.members if n != name]
        result.fold_models.pop(name, None)
