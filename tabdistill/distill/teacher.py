"""The teacher: a heterogeneous ensemble weighted on out-of-fold predictions.

``fit`` cross-fits every member over stratified K folds, which gives each
training row a probability from models that never saw it (``oof_proba_``:
the soft labels distillation uses). Member weights come from greedy ensemble
selection with replacement on those out-of-fold probabilities (Caruana et al.,
ICML 2004), keeping the best round, so the ensemble's OOF log loss is never
above its best member's. Members that get no weight are not refit.

With K > 2 classes every member is fit in its multiclass form (LightGBM and
XGBoost softmax, forests, multinomial logistic regression); probabilities are
``(n, K)`` and the selection minimises the multiclass log loss.
"""

from __future__ import annotations

import logging
import os
import time
from functools import partial
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tabdistill_runtime._proba import clip_proba
from tabdistill_runtime.schema import FREQUENCY

from .. import metrics
from .._budget import TimeBudget
from .._params import Interval, validate_params
from .._progress import progress
from .._validation import check_lengths, check_sample_weight, take
from ..data.encoder import TabularEncoder, TabularInputMixin
from ..data.target import encode_target
from ..exceptions import DataError
from .classes import ClassesMixin
from .crossfit import REFIT_COST, cross_fit
from .members import (
    LARGE_DATA_ROWS,
    WITHOUT_HIGH_CARDINALITY,
    FoldAverage,
    build_member,
    category_levels,
    check_members,
    fit_member,
    member_scores,
    normalize_members,
    scale_to_rows,
)
from .splits import DEFAULT_FOLDS, teacher_folds
from .teacher_cache import TeacherCache

logger = logging.getLogger(__name__)

#: Folds of the default ``cv`` on more than ``LARGE_DATA_ROWS`` rows.
LARGE_DATA_FOLDS = 3


def ensemble_selection(P, y, sample_weight=None, n_rounds=50):
    """Greedy ensemble selection with replacement (Caruana et al., 2004) on log loss.

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_members) or (n_samples, n_classes, n_members)
        Out-of-fold probabilities of the positive class, or of each class,
        one slice per member (last axis).
    y : ndarray of shape (n_samples,)
        0/1 labels, or class codes.
    sample_weight : ndarray, default=None
    n_rounds : int, default=50
        Members added (with replacement) at most.

    Returns
    -------
    weights : ndarray of shape (n_members,)
        Non-negative, summing to 1; those of the round with the lowest loss,
        which is never above the best single member's.
    """
    P = clip_proba(P)

    def loss(p):
        return metrics.log_loss(y, p, sample_weight)

    counts = np.zeros(P.shape[-1])
    total = np.zeros(P.shape[:-1])
    best_loss, best_counts = np.inf, counts.copy()
    for k in range(1, n_rounds + 1):
        trial = [loss((total + P[..., m]) / k) for m in range(P.shape[-1])]
        m = int(np.argmin(trial))
        counts[m] += 1
        total += P[..., m]
        if trial[m] < best_loss - 1e-12:
            best_loss, best_counts = trial[m], counts.copy()
    return best_counts / best_counts.sum()


class TeacherEnsemble(ClassesMixin, TabularInputMixin, ClassifierMixin, BaseEstimator):
    """A weighted ensemble of LightGBM, XGBoost, forests and logistic regression.

    Parameters
    ----------
    members : list or dict, default=None
        The members. None means ``("lightgbm", "xgboost", "random_forest",
        "extra_trees", "logistic")``, plus ``"lightgbm_no_high_card"`` when the
        table has a categorical column of more than the encoder's
        ``max_levels`` levels: a LightGBM that never splits on such columns
        (nor their frequency features), so that ensemble selection can weigh
        a column whose levels are too rare to learn from against one that
        helps. Items are built-in names (``"lightgbm"``, ``"xgboost"``,
        ``"random_forest"``, ``"extra_trees"``, ``"logistic"``,
        ``"lightgbm_no_high_card"``), or
        ``(name, params)`` to override defaults, or ``(name, estimator)`` for
        any scikit-learn classifier (it receives the encoded float matrix).
        A dict ``{name: params}`` works too.
    cv : int, cross-validation splitter, iterable or None, default=None
        The cross-fitting that yields out-of-fold probabilities: a number of
        stratified shuffled folds (stratified *group* folds when ``fit`` gets
        ``groups``), or any scikit-learn splitter (``TimeSeriesSplit``,
        ``GroupKFold``...) or iterable of ``(train, test)`` index pairs. Rows
        that no split holds out (the first block of ``TimeSeriesSplit``) have
        no out-of-fold probability (NaN in ``oof_proba_``). None: 5 folds, or
        3 above 100,000 rows (each fold model still sees two thirds of a large
        table; 40% fewer rows fit in all).
    early_stopping_rounds : int or None, default=50
        LightGBM and XGBoost members stop adding rounds inside each fold once
        the log loss on an inner split of that fold's training rows (never its
        test rows) has not improved for this many rounds; the refit on all
        rows uses the folds' mean number of rounds, scaled up by the extra
        rows it sees. ``n_estimators`` becomes a cap. None: fixed rounds.
    inner_fraction : float, default=0.15
        Share of each fold's training rows held out for early stopping.
    n_selection_rounds : int, default=50
        Rounds of greedy ensemble selection.
    time_limit : float or None, default=None
        Seconds the fit may take. The first fold measures each member's cost;
        when the rest would not fit, the teacher degrades in this order: the
        members are not refit on all rows (each becomes the mean of its fold
        models), the members ensemble selection weighs least are dropped (never
        the best), cross-fitting stops early (rows no fold held out have no
        out-of-fold probability). Boosted members also stop adding rounds at
        their share of the time left. ``budget_cuts_`` says what was cut.
    categorical_features : list of str, default=None
        Columns to treat as categorical whatever their dtype.
    positive_label : object, default=None
        Label of the positive class of a binary target; see
        :func:`tabdistill.data.encode_target`.
    random_state : int, RandomState or None, default=None
        Seeds the folds and every member.
    n_jobs : int, default=None
        Threads each member may use.
    memory : str, path-like or None, default=None
        A folder where fitted teachers are kept: fitting the same teacher on the
        same encoded rows, labels, weights and groups again (with the same
        tabdistill code) reads the earlier fit instead
        (:mod:`~tabdistill.distill.teacher_cache`). Not used with a
        ``time_limit``. The entries are pickles: a folder you trust only.

    Attributes
    ----------
    encoder_ : TabularEncoder
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted (``predict_proba`` columns follow this order).
    pos_label_ : object or None
        The positive class of a binary target (see ``positive_label``); None
        for more than two classes.
    feature_names_in_, n_features_in_
    oof_proba_ : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Out-of-fold ensemble probability of the positive class (binary), or
        of each class (K > 2), for each training row; NaN for rows that no
        split held out.
    oof_member_proba_ : dict
        ``name -> ndarray``: each member's out-of-fold probabilities.
    weights_ : dict
        ``name -> weight`` learned by ensemble selection (zero for dropped members).
    estimators_ : dict
        ``name -> fitted estimator`` for members with a non-zero weight.
    member_scores_ : dict
        ``name -> {"log_loss", "roc_auc", "average_precision", "weight"}`` out of fold,
        with an ``"ensemble"`` entry for the weighted blend.
    rounds_ : dict
        ``name -> boosting rounds`` each early-stopped member was refit with.
    budget_cuts_ : list of str
        What ``time_limit`` cut (empty without one, or when everything fit).
    fit_seconds_ : float
    refit_seconds_ : float
        Seconds the refit of the weighted members on all rows took (0 when
        the budget kept the mean of their fold models instead).
    n_refit_rows_ : int
        Rows the members of ``estimators_`` were last fit on (see :meth:`refit_encoded`).
    from_cache_ : bool
        Whether the fit was read from ``memory``.
    """

    _parameter_constraints: dict = {
        "members": [None, list, tuple, dict],
        "cv": ["cv_object"],
        "early_stopping_rounds": [None, Interval(Integral, 1, None, closed="left")],
        "inner_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_selection_rounds": [Interval(Integral, 1, None, closed="left")],
        "time_limit": [None, Interval(Real, 0, None, closed="neither")],
        "categorical_features": [None, list, tuple],
        "positive_label": "no_validation",
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "memory": [None, str, os.PathLike],
    }

    def __init__(
        self,
        members=None,
        cv=None,
        early_stopping_rounds=50,
        inner_fraction=0.15,
        n_selection_rounds=50,
        time_limit=None,
        categorical_features=None,
        positive_label=None,
        random_state=None,
        n_jobs=None,
        memory=None,
    ):
        self.members = members
        self.cv = cv
        self.early_stopping_rounds = early_stopping_rounds
        self.inner_fraction = inner_fraction
        self.n_selection_rounds = n_selection_rounds
        self.time_limit = time_limit
        self.categorical_features = categorical_features
        self.positive_label = positive_label
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.memory = memory

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-fit the members, learn their weights, and refit the useful ones.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Target with any two or more labels.
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware cross-fitting (see ``cv``).

        Returns
        -------
        self
        """
        self.check_params()
        check_lengths(X, y, sample_weight, groups)
        encoder = TabularEncoder(categorical_features=self.categorical_features)
        Z = encoder.fit_encode(X)
        target = encode_target(y, self.positive_label)
        return self.fit_encoded(
            Z, target.y, sample_weight, encoder=encoder, target=target, groups=groups
        )

    def check_params(self):
        """Validate every parameter, members included, without fitting anything.

        Returns
        -------
        self

        Raises
        ------
        ValueError or TypeError
            Naming the parameter, for the first invalid value.
        """
        validate_params(self)
        check_members(normalize_members(self.members))
        return self

    def fit_encoded(self, Z, y, sample_weight=None, *, encoder, target, groups=None):
        """Fit on rows already encoded by ``encoder``, with labels coded by ``target``.

        For callers that encode the data once for several models (such as
        :class:`tabdistill.DistilledClassifier`); most users want :meth:`fit`.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_encoded_features)
            ``encoder.encode(X)``.
        y : array-like of shape (n_samples,)
            Codes of ``target``: 0/1 (1 meaning ``target.pos_label``) for a
            binary target, else class codes ``0 .. K-1``.
        sample_weight : array-like of shape (n_samples,), default=None
        encoder : TabularEncoder
            The fitted encoder that produced ``Z``; kept to encode rows at predict.
        target : Target
            The labels' classes and positive class (``encode_target``'s result).
        groups : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        start = time.perf_counter()
        y, w = self._accept(Z, y, sample_weight, encoder, target)
        cache = TeacherCache.of(self, Z, y, w, groups)
        if cache is not None and cache.load(self):
            return self
        rng = check_random_state(self.random_state)
        protos = self._prototypes(Z, len(y), rng)
        folds, splits, budget = self._cross_fit(protos, Z, y, w, groups, rng)
        self._weigh(protos, folds, splits, y, w)
        clock = time.perf_counter()
        self.estimators_ = self._refit(
            protos, folds, Z, y, w, self.encoder_.categorical_mask_, budget
        )
        self.refit_seconds_ = time.perf_counter() - clock
        self.n_refit_rows_ = len(y)
        self.budget_cuts_ = list(budget.cuts)
        self.fit_seconds_ = time.perf_counter() - start
        self.from_cache_ = False
        if cache is not None:
            cache.save(self)
        return self

    def _accept(self, Z, y, sample_weight, encoder, target):
        """Keep the encoder and classes; return the labels as codes and checked weights."""
        self.encoder_ = encoder
        self.classes_, self.pos_label_ = target.classes, target.pos_label
        y = np.asarray(y, dtype=np.int8 if len(target.classes) == 2 else np.int64)
        if len(y) != Z.shape[0]:
            raise DataError(f"X has {Z.shape[0]} rows but y has {len(y)}.")
        w = None if sample_weight is None else check_sample_weight(sample_weight, len(y))
        self.feature_names_in_ = self.encoder_.feature_names_in_
        self.n_features_in_ = self.encoder_.n_features_in_
        return y, w

    def _prototypes(self, Z, n_rows, rng) -> dict:
        """An unfitted estimator per member (``name -> estimator``), each seeded from ``rng``,
        with the high-cardinality-blind LightGBM added by default when the table needs it."""
        specs = normalize_members(self.members)
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(specs))
        cat = self.encoder_.categorical_mask_
        levels = category_levels(Z, cat)
        ignored = _high_cardinality_mask(self.encoder_.schema_)
        if self.members is None and ignored.any():
            # seeded from the first member's seed: the other members and the folds keep theirs
            specs = [*specs, (WITHOUT_HIGH_CARDINALITY, None)]
            seeds = np.append(seeds, (int(seeds[0]) + 1) % np.iinfo(np.int32).max)
        return {
            name: clone(spec)
            if hasattr(spec, "fit")
            else scale_to_rows(
                build_member(name, spec, cat, int(s), self.n_jobs, levels, ignored),
                name,
                spec,
                n_rows,
            )
            for (name, spec), s in zip(specs, seeds)
        }

    def _cross_fit(self, protos, Z, y, w, groups, rng):
        """Every member fit on each fold's training rows and scored on its held-out rows
        (within ``time_limit``); returns the folds' results, the splits and the budget."""
        cv = self.cv
        if cv is None:
            cv = LARGE_DATA_FOLDS if len(y) > LARGE_DATA_ROWS else DEFAULT_FOLDS
        splits = teacher_folds(cv, y, groups, int(rng.randint(2**31 - 1)), classes=self.classes_)
        stop = None
        if self.early_stopping_rounds:
            stop = (self.early_stopping_rounds, self.inner_fraction, int(rng.randint(2**31 - 1)))
        budget = TimeBudget(self.time_limit)
        bar = progress(total=len(splits) * len(protos), desc="teacher folds")
        folds = cross_fit(
            protos,
            splits,
            Z,
            y,
            w,
            self.encoder_.categorical_mask_,
            stop,
            budget,
            partial(_priority, y=y, w=w),
            bar,
            n_classes=len(self.classes_),
            unweighted=partial(_unweighted, y=y, w=w) if len(y) > LARGE_DATA_ROWS else None,
        )
        bar.close()
        return folds, splits, budget

    def _weigh(self, protos, folds, splits, y, w) -> None:
        """Members' weights by ensemble selection on the out-of-fold probabilities, the
        ensemble's out-of-fold probabilities, the scores, and the rounds to refit with."""
        covered = ~np.isnan(folds.oof[folds.members[0]])
        if covered.ndim == 2:
            covered = covered[:, 0]
        self.oof_mask_ = covered
        y_c, w_c = y[covered], take(w, covered)
        # The refit sees all rows where an early-stopped fold model saw a share of them (its
        # fold's training rows less the inner split); more rows carry more rounds: scale by
        # the square root of the ratio.
        share = np.mean([len(train) for train, _ in splits]) / len(y) * (1 - self.inner_fraction)
        self.rounds_ = {
            n: max(1, int(round(np.mean(r) / share**0.5)))
            for n, r in folds.rounds.items()
            if r and n in folds.members
        }
        names = folds.members
        P = np.stack([folds.oof[n][covered] for n in names], axis=-1)
        weights = ensemble_selection(P, y_c, w_c, self.n_selection_rounds)
        self.weights_ = {n: 0.0 for n in protos} | dict(zip(names, weights.tolist()))
        self.oof_member_proba_ = folds.oof
        self.oof_proba_ = np.full(folds.oof[names[0]].shape, np.nan)
        self.oof_proba_[covered] = P @ weights
        self.member_scores_ = {
            n: {**_scores(y_c, folds.oof[n][covered], w_c), "weight": self.weights_[n]}
            for n in names
        }
        self.member_scores_["ensemble"] = {
            **_scores(y_c, self.oof_proba_[covered], w_c),
            "weight": 1.0,
        }
        logger.info("teacher weights: %s", {n: round(v, 3) for n, v in self.weights_.items()})

    def _refit(self, protos, folds, Z, y, w, cat, budget) -> dict:
        """Members with weight, refit on all rows -- or, when the budget cannot afford
        that, the mean of their fold models."""
        estimators = {}
        kept = sorted((n for n in folds.members if self.weights_[n] > 0), key=self.weights_.get)
        kept = kept[::-1]
        if not budget.limited:
            # independent fits: one after another by default, on a cluster's workers inside
            # joblib.parallel_config(backend="dask")
            fits = Parallel(return_as="generator")(
                delayed(fit_member)(self._refit_member(protos, name), Z, y, w, cat) for name in kept
            )
            estimators = dict(zip(kept, progress(fits, total=len(kept), desc="teacher refit")))
            return {n: estimators[n] for n in folds.members if n in estimators}
        for name in progress(kept, desc="teacher refit"):
            cost = REFIT_COST * folds.mean_seconds(name)
            if folds.refit and budget.fits(cost):
                deadline = time.perf_counter() + budget.remaining()
                est = self._refit_member(protos, name)
                estimators[name] = fit_member(est, Z, y, w, cat, deadline=deadline)
            else:
                if folds.refit:
                    budget.cut(f"teacher member {name!r} not refit: the mean of its fold models")
                estimators[name] = _fold_average(folds, name, len(self.classes_))
        return {n: estimators[n] for n in folds.members if n in estimators}

    def refit_encoded(self, Z, y, sample_weight=None):
        """Refit the weighted members on other rows, keeping everything cross-fitting chose.

        For a caller that held rows out of ``fit`` to select on them (as
        :class:`tabdistill.DistilledClassifier` does) and, once done, wants the
        teacher to learn from every row. Weights, out-of-fold probabilities and
        member scores stay those of ``fit``; boosted members get the rounds
        their folds kept, scaled by the square root of the ratio of rows (as
        the refit of ``fit`` is). Members that are the mean of their fold
        models (a time limit ruled out their refit) are kept as they are.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_encoded_features)
            Rows encoded by ``encoder_``, usually ``fit``'s rows plus held-out ones.
        y : array-like of shape (n_samples,)
            Their class codes (as in :meth:`fit_encoded`).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        check_is_fitted(self, "estimators_")
        y = np.asarray(y, dtype=np.int8 if len(self.classes_) == 2 else np.int64)
        if len(y) != Z.shape[0]:
            raise DataError(f"Z has {Z.shape[0]} rows but y has {len(y)}.")
        w = None if sample_weight is None else check_sample_weight(sample_weight, len(y))
        scale = (len(y) / self.n_refit_rows_) ** 0.5
        cat = self.encoder_.categorical_mask_
        names = [n for n, est in self.estimators_.items() if not isinstance(est, FoldAverage)]
        protos = {name: self._refit_member(self.estimators_, name, scale) for name in names}
        clock = time.perf_counter()
        fits = Parallel(return_as="generator")(
            delayed(fit_member)(protos[name], Z, y, w, cat) for name in names
        )
        self.estimators_ = {**self.estimators_, **dict(zip(names, fits))}
        self.rounds_ = {
            n: int(self.estimators_[n].get_params()["n_estimators"]) if n in names else r
            for n, r in self.rounds_.items()
        }
        self.refit_seconds_ = time.perf_counter() - clock
        self.n_refit_rows_ = len(y)
        return self

    def ignored_features(self) -> list[int]:
        """Encoded columns the ensemble learned to do without: its high-cardinality columns
        (their codes and frequency features) when ensemble selection weighed the LightGBM
        member that never splits on them (``"lightgbm_no_high_card"``) above the one that
        does; else none."""
        check_is_fitted(self, "weights_")
        without = self.weights_.get(WITHOUT_HIGH_CARDINALITY, 0.0)
        if without <= self.weights_.get("lightgbm", 0.0):
            return []
        return np.flatnonzero(_high_cardinality_mask(self.encoder_.schema_)).tolist()

    def _refit_member(self, protos, name, scale=1.0):
        """An unfitted member for the refit on all rows, with the rounds its folds kept
        (times ``scale``, for a refit on more rows than those)."""
        est = clone(protos[name])
        if name in self.rounds_:
            est.set_params(n_estimators=max(1, round(self.rounds_[name] * scale)))
        return est

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        check_is_fitted(self, "estimators_")
        p = self.predict_proba_encoded(self.encoder_.encode(X))
        return self.proba_from_scores(p)

    def predict_proba_encoded(self, Z) -> np.ndarray:
        """Scores of rows already encoded by ``encoder_``: the positive-class probability
        (binary), or the ``(n, K)`` class probabilities."""
        check_is_fitted(self, "estimators_")
        k = len(self.classes_)
        p = np.zeros(Z.shape[0] if k == 2 else (Z.shape[0], k))
        for name, est in self.estimators_.items():
            p += self.weights_[name] * member_scores(est, Z, k)
        return p

    def compile(self, schema=None):
        """The whole teacher compiled for the runtime: a ``CompiledModel`` (kind ``"blend"``)
        scoring encoded rows, records and tables as :meth:`predict_proba_encoded` scores
        encoded rows, to within 1e-9, in microseconds (see
        :func:`tabdistill.distill.teacher_runtime.compile_teacher`)."""
        from .teacher_runtime import compile_teacher

        return compile_teacher(self, schema)

    def predict(self, X):
        """Predicted labels: the positive class where its probability is at least 0.5
        (binary), the most probable class (K > 2)."""
        check_is_fitted(self, "estimators_")
        return self.labels_from_scores(self.predict_proba_encoded(self.encoder_.encode(X)))


def _high_cardinality_mask(schema) -> np.ndarray:
    """Encoded columns that stand for a high-cardinality column: its frequency feature and
    the codes of its most frequent levels (see ``TabularEncoder(max_levels=...)``)."""
    frequency = {f for f in schema.features if schema.roles[f] == FREQUENCY}
    sources = {schema.derived[f][0] for f in frequency}
    return np.array([f in frequency or f in sources for f in schema.features], dtype=bool)


def _fold_average(folds, name, n_classes):
    """A member as the mean of its fold models (K classes: columns put back in place)."""
    fold_classes = folds.fold_classes[: len(folds.fold_models[name])]
    if all(c is None for c in fold_classes):
        return FoldAverage(folds.fold_models[name])
    return FoldAverage(folds.fold_models[name], fold_classes, n_classes)


def _held_out(names, oof, held_out, y, w):
    """Members' mean probabilities ``(rows, [K,] members)``, labels and weights of the rows
    held out so far, with each member's ensemble-selection weight on them."""
    rows = held_out > 0
    held = held_out[rows] if oof[names[0]].ndim == 1 else held_out[rows][:, None]
    P = np.stack([oof[n][rows] / held for n in names], axis=-1)
    y_r, w_r = y[rows], take(w, rows)
    return P, y_r, w_r, ensemble_selection(P, y_r, w_r)


def _priority(names, oof, held_out, y, w):
    """Members best first, by their ensemble-selection weight on the rows held out so far
    (ties: lower out-of-fold log loss)."""
    P, y_r, w_r, weights = _held_out(names, oof, held_out, y, w)
    losses = [metrics.log_loss(y_r, P[..., j], w_r) for j in range(len(names))]
    order = sorted(range(len(names)), key=lambda j: (-weights[j], losses[j]))
    return [names[j] for j in order]


def _unweighted(names, oof, held_out, y, w):
    """The members ensemble selection gives no weight on the rows held out so far."""
    weights = _held_out(names, oof, held_out, y, w)[3]
    return [n for n, weight in zip(names, weights) if weight == 0]


def _scores(y, p, w=None):
    return {
        "log_loss": metrics.log_loss(y, p, w),
        "roc_auc": metrics.roc_auc(y, p, w),
        "average_precision": metrics.average_precision(y, p, w),
    }
