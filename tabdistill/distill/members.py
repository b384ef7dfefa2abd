"""The teacher's built-in members: defaults, construction and fitting on the encoded matrix.

Every member sees the matrix of :class:`~tabdistill.data.encoder.TabularEncoder`
(category codes, NaN for missing). LightGBM and XGBoost split on the codes
natively; the forests see the codes as numbers; logistic regression gets the
one-hot design of :class:`~tabdistill.distill.linear.LinearDesign`, as a sparse matrix.
"""

from __future__ import annotations

import inspect
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tabdistill_runtime._proba import clip_distribution, clip_proba, softmax

from .._budget import lightgbm_deadline, xgboost_deadline
from .._compat import lightgbm_eval_kwargs
from .._threads import resolve_n_jobs, threads_for
from ..exceptions import DataError
from .linear import SparseLinearDesign

#: Levels above which a categorical column is too many for the boosted members' search of
#: partitions of its levels (see :func:`build_member`).
PARTITION_LEVELS = 32

#: Default parameters of each built-in member, sized for 1k-1M rows. The boosted members'
#: ``n_estimators`` is a cap: the teacher stops them early inside each fold (see
#: :func:`fit_member`) and refits them with the rounds the folds needed.
#: The forest classifiers whose rows per tree scale with the data (see :func:`scale_to_rows`).
FORESTS = (RandomForestClassifier, ExtraTreesClassifier)
MEMBER_DEFAULTS = {
    "lightgbm": dict(
        n_estimators=1000,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
    ),
    "xgboost": dict(
        n_estimators=1000,
        learning_rate=0.05,
        max_depth=6,
        min_child_weight=1.0,
        subsample=0.8,
        colsample_bytree=0.8,
        max_cat_to_onehot=4,
    ),
    "random_forest": dict(n_estimators=200, min_samples_leaf=3, max_features="sqrt"),
    "extra_trees": dict(n_estimators=200, min_samples_leaf=3, max_features="sqrt"),
    "logistic": dict(C=1.0, max_iter=2000),
}
#: A LightGBM member that never splits on high-cardinality columns (a categorical column
#: of more than the encoder's ``max_levels`` levels, and its frequency feature): such a
#: column can be an identifier whose levels are too rare to learn from, or informative. The
#: teacher adds it next to the default members when a table has such a column and lets
#: ensemble selection weigh the two (measured: docs/results.md#the-high-cardinality-member).
WITHOUT_HIGH_CARDINALITY = "lightgbm_no_high_card"
MEMBER_DEFAULTS[WITHOUT_HIGH_CARDINALITY] = MEMBER_DEFAULTS["lightgbm"]
DEFAULT_MEMBERS = ("lightgbm", "xgboost", "random_forest", "extra_trees", "logistic")
#: Rows above which defaults scale with data size (see :func:`scale_to_rows`).
LARGE_DATA_ROWS = 100_000
#: Leaves of the LightGBM member above that many rows.
LARGE_DATA_LEAVES = 63
#: On large data, the trees of a forest member and the rows each draws (with replacement):
#: a forest costs the most of the members there while it earns the least weight
#: (docs/results.md#large-data).
FOREST_TREES, FOREST_ROWS = 100, 20_000
#: Rows above which a forest member's trees each draw about :data:`FOREST_ROWS` rows (with
#: replacement), below :data:`LARGE_DATA_ROWS` too: with forests on every row, a teacher of
#: 60k rows took longer than one of 180k rows (docs/results.md#large-data).
FOREST_FULL_ROWS = 50_000


def _kind(name) -> str:
    """The library behind built-in member ``name``."""
    return "lightgbm" if name == WITHOUT_HIGH_CARDINALITY else name


def build_member(name, params, categorical_mask, seed, n_jobs, n_levels=None, ignored=None):
    """An unfitted estimator for built-in member ``name`` working on the encoded matrix.

    ``n_levels`` (per encoded column, the levels of a categorical one; see
    :func:`category_levels`) keeps the boosted members from searching partitions
    of more than :data:`PARTITION_LEVELS` levels, a search that finds chance
    groupings, while on few levels it does best (``docs/results.md#categorical-splits``).
    XGBoost reads the codes
    of such a column as ordered numbers; LightGBM, whose choice is per model, splits
    every categorical column one level vs the rest when the table has such a
    column. None: partitions everywhere (the libraries' defaults).

    ``ignored`` (a mask over encoded columns) are the columns member
    ``"lightgbm_no_high_card"`` never splits on (their gain is scaled by 0).
    """
    many = n_levels is not None and np.max(n_levels, initial=0) > PARTITION_LEVELS
    kind = _kind(name)
    if kind == "lightgbm" and many and "max_cat_to_onehot" not in (params or {}):
        # LightGBM counts a column's levels plus a bin for missing values
        params = {**(params or {}), "max_cat_to_onehot": int(np.max(n_levels)) + 1}
    if name == WITHOUT_HIGH_CARDINALITY and ignored is not None and np.any(ignored):
        params = {**(params or {}), "feature_contri": list(np.where(ignored, 0.0, 1.0))}
    params = {**MEMBER_DEFAULTS[name], **(params or {})}
    if kind == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            **{
                "random_state": seed,
                "n_jobs": resolve_n_jobs(n_jobs),
                "verbose": -1,
                "deterministic": True,
                "force_row_wise": True,
                **params,
            }
        )
    if name == "xgboost":
        from xgboost import XGBClassifier

        partition = np.asarray(categorical_mask, dtype=bool)
        if n_levels is not None:
            partition = partition & (np.asarray(n_levels) <= PARTITION_LEVELS)
        types = ["c" if c else "q" for c in partition]
        return XGBClassifier(
            **{
                "random_state": seed,
                "n_jobs": resolve_n_jobs(n_jobs),
                "tree_method": "hist",
                "enable_categorical": True,
                "feature_types": types,
                **params,
            }
        )
    if name == "random_forest":
        return RandomForestClassifier(**{"random_state": seed, "n_jobs": n_jobs, **params})
    if name == "extra_trees":
        return ExtraTreesClassifier(**{"random_state": seed, "n_jobs": n_jobs, **params})
    if name == "logistic":
        return Pipeline(
            [
                ("design", SparseLinearDesign(categorical_mask=categorical_mask)),
                ("model", LogisticRegression(**{"random_state": seed, **params})),
            ]
        )
    raise ValueError(f"unknown member {name!r}")


#: Value checks for the parameters of the boosting members (they validate only when fit).
_BOOSTING_LIMITS = {
    "n_estimators": (1, "a positive integer"),
    "num_leaves": (2, "an integer >= 2"),
    "max_depth": (-1, "an integer (-1 or 0: no limit)"),
    "min_child_samples": (0, "a non-negative integer"),
}


def check_members(specs) -> None:
    """Check built-in members' parameters before any fitting; raise naming the bad one."""
    for name, spec in specs:
        if not isinstance(spec, dict | type(None)):
            continue  # the user's own estimator: validated by its own fit
        params = {**MEMBER_DEFAULTS[name], **(spec or {})}
        if _kind(name) in ("lightgbm", "xgboost"):
            for key, (low, text) in _BOOSTING_LIMITS.items():
                value = params.get(key)
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, int | np.integer)
                    or value < low
                ):
                    raise ValueError(f"member {name!r}: {key} must be {text}, got {value!r}.")
            rate = params.get("learning_rate")
            if rate is not None and (isinstance(rate, bool) or not rate > 0):
                raise ValueError(f"member {name!r}: learning_rate must be > 0, got {rate!r}.")
        else:
            try:
                est = build_member(name, spec, np.zeros(0, bool), 0, None)
                model = est.steps[-1][1] if isinstance(est, Pipeline) else est
                model._validate_params()
            except (ValueError, TypeError) as exc:
                raise ValueError(f"member {name!r}: {exc}") from None


def category_levels(Z, categorical_mask) -> np.ndarray:
    """Per encoded column, the levels of a categorical one (its largest code + 1), else 0."""
    levels = np.zeros(Z.shape[1], dtype=np.int64)
    for j in np.flatnonzero(categorical_mask):
        codes = Z[:, j][~np.isnan(Z[:, j])]
        levels[j] = int(codes.max()) + 1 if len(codes) else 0
    return levels


def is_boosted(estimator) -> bool:
    """Whether a member is a LightGBM or XGBoost classifier (it can stop early)."""
    return type(estimator).__name__ in ("LGBMClassifier", "XGBClassifier")


def boosting_rounds(estimator) -> int | None:
    """Rounds a boosted member kept after early stopping, else None."""
    name = type(estimator).__name__
    if name == "LGBMClassifier" and getattr(estimator, "best_iteration_", 0):
        return int(estimator.best_iteration_)
    if name == "XGBClassifier" and estimator.get_params().get("early_stopping_rounds"):
        try:
            return int(estimator.best_iteration) + 1
        except AttributeError:  # stopped by a time limit before early stopping kept a round
            return int(estimator.get_booster().num_boosted_rounds())
    return None


def scale_to_rows(estimator, name, params, n_rows):
    """Defaults that scale with data size. Above :data:`FOREST_FULL_ROWS` rows a forest's
    trees each grow on a bootstrap sample of about :data:`FOREST_ROWS` rows (a share of the
    rows, so a fold's trees see a share of its rows). Above :data:`LARGE_DATA_ROWS` rows the
    boosted members learn twice as fast, LightGBM grows :data:`LARGE_DATA_LEAVES` leaves, and
    a forest grows :data:`FOREST_TREES` trees. On small data the boosted members use one
    thread (see :func:`tabdistill._threads.threads_for`). A parameter the user set is never
    changed."""
    params = params or {}
    if is_boosted(estimator) and "n_jobs" not in params:
        estimator.set_params(n_jobs=threads_for(estimator.get_params()["n_jobs"], n_rows))
    forest = isinstance(estimator, FORESTS) and not {"bootstrap", "max_samples"} & set(params)
    if forest and n_rows > FOREST_FULL_ROWS:
        estimator.set_params(bootstrap=True, max_samples=FOREST_ROWS / n_rows)
    if n_rows <= LARGE_DATA_ROWS:
        return estimator
    if is_boosted(estimator) and "learning_rate" not in params:
        estimator.set_params(learning_rate=2 * MEMBER_DEFAULTS[name]["learning_rate"])
    if _kind(name) == "lightgbm" and "num_leaves" not in params:
        # more rows carry more interactions (docs/results.md#large-data)
        estimator.set_params(num_leaves=LARGE_DATA_LEAVES)
    if forest and "n_estimators" not in params:
        estimator.set_params(n_estimators=FOREST_TREES)
    return estimator


def fit_member(
    estimator, Z, y, sample_weight, categorical_mask, early_stopping=None, deadline=None, rows=None
):
    """Fit one member, routing ``sample_weight`` and categorical columns the way it expects.

    Parameters
    ----------
    early_stopping : tuple (patience, inner_fraction, seed), default=None
        For LightGBM and XGBoost members: hold out ``inner_fraction`` of the
        rows (stratified) and stop adding rounds once the log loss there has
        not improved for ``patience`` rounds. Only rows of ``Z`` are used,
        so inside a cross-fitting fold nothing of the fold's test rows leaks.
    deadline : float, default=None
        A ``time.perf_counter()`` value: LightGBM and XGBoost members stop
        adding rounds once it has passed (others cannot be interrupted).
    rows : ndarray of int, default=None
        Fit on these rows of ``Z`` only (``y`` and ``sample_weight`` are
        theirs already). An early-stopped member then takes its inner training
        and stopping rows straight from ``Z``: a cross-fitting fold is never
        copied whole first, which on large data saves a fold's worth of memory.
    """
    if deadline is not None and type(estimator).__name__ == "XGBClassifier":
        estimator.set_params(callbacks=[xgboost_deadline(deadline)])
        fitted = fit_member(
            estimator, Z, y, sample_weight, categorical_mask, early_stopping, rows=rows
        )
        return fitted.set_params(callbacks=None)  # a fitted model holds no closure (skops)
    if early_stopping is not None and is_boosted(estimator):
        return _fit_early_stopped(
            estimator, Z, y, sample_weight, categorical_mask, early_stopping, deadline, rows
        )
    Z = Z if rows is None else Z[rows]
    if deadline is not None and isinstance(estimator, FORESTS):
        return _grow_forest(estimator, Z, y, sample_weight, deadline)
    kwargs = {}
    if type(estimator).__name__ == "LGBMClassifier":
        kwargs["categorical_feature"] = [int(i) for i in np.flatnonzero(categorical_mask)]
        if deadline is not None:
            kwargs["callbacks"] = [lightgbm_deadline(deadline)]
    if isinstance(estimator, Pipeline):
        if sample_weight is not None:
            kwargs[f"{estimator.steps[-1][0]}__sample_weight"] = sample_weight
    elif sample_weight is not None:
        if "sample_weight" not in inspect.signature(estimator.fit).parameters:
            raise DataError(f"member {type(estimator).__name__} does not accept sample_weight.")
        kwargs["sample_weight"] = sample_weight
    return estimator.fit(Z, y, **kwargs)


def _fit_early_stopped(
    estimator, Z, y, sample_weight, categorical_mask, early_stopping, deadline, rows=None
):
    from sklearn.model_selection import train_test_split

    patience, fraction, seed = early_stopping
    if min(np.bincount(y, minlength=2)) * fraction < 2:  # too few of a class to hold out
        return fit_member(
            estimator, Z, y, sample_weight, categorical_mask, deadline=deadline, rows=rows
        )
    idx = np.arange(len(y))
    fit_idx, stop_idx = train_test_split(idx, test_size=fraction, stratify=y, random_state=seed)
    Z_fit, Z_stop = (Z[i] if rows is None else Z[rows[i]] for i in (fit_idx, stop_idx))
    w_fit = None if sample_weight is None else sample_weight[fit_idx]
    w_stop = None if sample_weight is None else sample_weight[stop_idx]
    if type(estimator).__name__ == "LGBMClassifier":
        import lightgbm

        return estimator.fit(
            Z_fit,
            y[fit_idx],
            sample_weight=w_fit,
            categorical_feature=[int(i) for i in np.flatnonzero(categorical_mask)],
            callbacks=[
                lightgbm.early_stopping(patience, verbose=False),
                *([] if deadline is None else [lightgbm_deadline(deadline)]),
            ],
            **lightgbm_eval_kwargs(Z_stop, y[stop_idx], w_stop),
        )
    metric = "logloss" if len(np.unique(y)) == 2 else "mlogloss"
    estimator.set_params(early_stopping_rounds=patience, eval_metric=metric)
    return estimator.fit(
        Z_fit,
        y[fit_idx],
        sample_weight=w_fit,
        eval_set=[(Z_stop, y[stop_idx])],
        sample_weight_eval_set=None if w_stop is None else [w_stop],
        verbose=False,
    )


#: Trees a forest grows between two looks at the clock.
FOREST_CHUNK = 25


def _grow_forest(forest, Z, y, sample_weight, deadline):
    """Grow a forest ``FOREST_CHUNK`` trees at a time until it is complete or ``deadline``.

    With ``warm_start`` each call adds trees drawn from the same random
    stream, so a forest that completes is the one a single fit would make.
    """
    total = forest.get_params()["n_estimators"]
    grown = min(FOREST_CHUNK, total)
    forest.set_params(warm_start=True, n_estimators=grown)
    forest.fit(Z, y, sample_weight=sample_weight)
    while grown < total and time.perf_counter() < deadline:
        grown = min(grown + FOREST_CHUNK, total)
        forest.set_params(n_estimators=grown).fit(Z, y, sample_weight=sample_weight)
    return forest.set_params(warm_start=False)


class FoldAverage(ClassifierMixin, BaseEstimator):
    """A member that was not refit on all rows: the mean of its fold models' probabilities.

    Parameters
    ----------
    estimators : list
        The member's fitted fold models.
    fold_classes : list, default=None
        Per fold model, the class codes it was fit on when its fold lacked a
        class (:func:`fold_codes`), else None; its columns are put back in
        place (the missing classes get probability 0) before averaging.
    n_classes : int, default=None
        Classes of the target; needed with ``fold_classes``.
    """

    def __init__(self, estimators=(), fold_classes=None, n_classes=None):
        self.estimators = estimators
        self.fold_classes = fold_classes
        self.n_classes = n_classes

    @property
    def classes_(self):
        if self.n_classes is not None:
            return np.arange(self.n_classes)
        return self.estimators[0].classes_

    def predict_proba(self, Z):
        fold_classes = self.fold_classes or [None] * len(self.estimators)
        probas = []
        for est, present in zip(self.estimators, fold_classes):
            proba = member_proba(est, Z)
            if present is not None:
                full = np.zeros((proba.shape[0], self.n_classes))
                full[:, present] = proba
                proba = full
            probas.append(proba)
        return np.mean(probas, axis=0)


def member_proba(estimator, Z) -> np.ndarray:
    """A fitted member's class probabilities ``(n, classes)``, in float64.

    An XGBoost member scores through its margins (``output_margin``, XGBoost's
    float32 sums) with the sigmoid or softmax taken in float64, where XGBoost's
    ``predict_proba`` takes it in float32: the compiled teacher reproduces the
    former exactly (the two differ by about 1e-7). Any other member is its
    ``predict_proba``.
    """
    if type(estimator).__name__ != "XGBClassifier" or getattr(estimator, "objective", None) not in (
        "binary:logistic",
        "multi:softprob",
    ):
        return estimator.predict_proba(Z)
    margin = np.asarray(estimator.predict(Z, output_margin=True), dtype=np.float64)
    if margin.ndim == 2:
        return softmax(margin)
    p = 1.0 / (1.0 + np.exp(-margin))
    return np.column_stack([1.0 - p, p])


def positive_proba(estimator, Z) -> np.ndarray:
    """Probability of class 1 from a fitted member, clipped away from 0 and 1."""
    return clip_proba(member_proba(estimator, Z)[:, 1])


def member_scores(estimator, Z, n_classes: int, classes=None) -> np.ndarray:
    """A fitted member's scores: positive-class probabilities (two classes) or ``(n, K)``.

    Parameters
    ----------
    n_classes : int
        Classes of the target.
    classes : ndarray of int, default=None
        The class codes the member was fit on, when they are not all
        ``0 .. n_classes - 1`` (a fold that lacked a class): it was fit on
        their positions (:func:`fold_codes`), and its columns are put back
        in place, the missing classes getting probability ~0.
    """
    if n_classes == 2:
        return positive_proba(estimator, Z)
    proba = member_proba(estimator, Z)
    if classes is None or len(classes) == n_classes:
        return clip_distribution(proba)
    full = np.zeros((proba.shape[0], n_classes))
    full[:, classes] = proba
    return clip_distribution(full)


def fold_codes(y, n_classes: int):
    """``(classes present, codes among them)`` of a fold's labels.

    Boosting libraries want labels ``0 .. k-1``: when a fold lacks a class,
    its rows are coded by position among the classes it has.
    """
    present = np.unique(y)
    if n_classes == 2 or len(present) == n_classes:
        return None, y
    return present, np.searchsorted(present, y)


def normalize_members(members):
    """``members`` as a list of ``(name, params_or_estimator)``."""
    if members is None:
        return [(m, None) for m in DEFAULT_MEMBERS]
    if isinstance(members, dict):
        items = list(members.items())
    else:
        items = [(m, None) if isinstance(m, str) else tuple(m) for m in members]
    out, seen = [], set()
    for name, spec in items:
        if name in seen:
            raise ValueError(f"member name {name!r} appears twice in members.")
        seen.add(name)
        if isinstance(spec, dict | type(None)) and name not in MEMBER_DEFAULTS:
            raise ValueError(
                f"unknown member {name!r}: built-in members are {sorted(MEMBER_DEFAULTS)}; "
                "pass (name, estimator) for your own."
            )
        if not isinstance(spec, dict | type(None)) and not hasattr(spec, "predict_proba"):
            raise TypeError(
                f"member {name!r} must be a classifier with predict_proba, got {spec!r}."
            )
        out.append((name, spec))
    if not out:
        raise ValueError("members is empty: the teacher needs at least one member.")
    return out
