"""Compact students, all fit by sample-weighted soft-label regression.

A student learns ``q(x)``, the teacher's probability, from targets in [0, 1]:
one probability a row for a binary target, a class distribution ``(n, K)``
for K > 2 classes (never its argmax). :class:`LightGBMStudent` is a small
gradient-boosted model (LightGBM's ``cross_entropy`` objective accepts
probabilities as labels; K classes boost K trees a round on the soft-label
softmax cross-entropy of :mod:`~tabdistill.distill.objectives`);
:class:`TreeStudent` is one shallow regression tree, whose leaves hold the
weighted mean target (which minimises squared error and soft cross-entropy
alike); :class:`LinearStudent` is logistic regression on the
:class:`~tabdistill.distill.linear.LinearDesign` matrix with the exact soft
cross-entropy (each row enters once per class, weighted by its target).

Students work on the encoded matrix: ``predict(Z)`` gives the positive-class
probability, or ``(n, K)`` probabilities. With hard 0/1 (one-hot) targets the
same spec is the baseline.
"""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

from tabdistill_runtime._proba import clip_distribution, clip_proba, softmax, two_columns
from tabdistill_runtime.from_lightgbm import compile_lightgbm
from tabdistill_runtime.from_linear import compile_linear
from tabdistill_runtime.from_sklearn import compile_sklearn_tree

from .._budget import lightgbm_deadline
from .._compat import lightgbm_eval_kwargs, lightgbm_names
from .._params import Interval, Options, validate_params
from .._threads import threads_for
from .._validation import float32_range
from .linear import LinearDesign
from .members import PARTITION_LEVELS, category_levels
from .objectives import as_cross_entropy, check_targets, logit_targets, train_soft_classes
from .sizes import round_steps
from .stopping import StepCap


class Student(RegressorMixin, BaseEstimator):
    """Base class: a regressor of probabilities with ``predict_proba``.

    Subclasses the runtime can reproduce implement ``compile(schema)``,
    returning a :class:`~tabdistill.runtime.model.CompiledModel`.
    """

    _parameter_constraints: dict = {}

    def compile(self, schema):
        """The fitted student as a :class:`~tabdistill.runtime.model.CompiledModel`."""
        raise TypeError(f"the runtime cannot compile a {type(self).__name__}.")

    def predict_proba(self, Z):
        """Two columns ``1 - q`` and ``q`` (binary), or the ``(n, K)`` distributions."""
        p = self.predict(Z)
        return p if p.ndim == 2 else two_columns(p)

    def feature_importances(self) -> np.ndarray:
        """Importance of each encoded column, summing to 1 (all zeros for a constant model)."""
        raw = np.asarray(self._raw_importances(), dtype=np.float64)
        total = raw.sum()
        return raw / total if total > 0 else raw

    def _raw_importances(self):
        raise TypeError(f"{type(self).__name__} does not report feature importances.")

    def tree_steps(self) -> float:
        """Tree steps one row takes through the fitted student (0: no trees); what its
        single-row latency grows with."""
        return 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class LightGBMStudent(Student):
    """A small LightGBM model on soft targets.

    Parameters
    ----------
    n_estimators : int, default=100
        Trees; with ``early_stopping_rounds``, the most trees.
    num_leaves : int, default=15
    max_depth : int, default=-1
        Depth limit of each tree (-1: none). Full depth-3 trees (8 leaves)
        give every row three steps per tree: the fastest shape.
    learning_rate : float, default=0.1
    min_child_samples : int, default=20
    subsample : float, default=1.0
        Share of rows each tree is grown on (LightGBM's bagging, redrawn every
        tree; 1: all rows).
    colsample_bytree : float, default=1.0
        Share of columns each tree may split on.
    reg_lambda : float, default=0.0
        L2 penalty on leaf values.
    loss : {"cross_entropy", "logit"}, default="cross_entropy"
        ``cross_entropy`` fits the probabilities (LightGBM's ``cross_entropy``
        objective); ``logit`` fits the teacher's log-odds by least squares
        (logit matching), which weighs confident rows more. Either way the
        model's output is ``sigmoid(sum of leaves)``, so the runtime scores both.
        For K-class targets, the soft-label softmax cross-entropy or least
        squares on centred log-probabilities
        (:mod:`~tabdistill.distill.objectives`); the output is a softmax.
    early_stopping_rounds : int, default=None
        With ``eval_set`` given to :meth:`fit`: stop adding trees once the loss
        on it has not improved for this many rounds; ``n_estimators_`` is the
        number kept.
    max_steps : float, default=None
        Latency budget in tree steps: after fitting, only the first rounds
        whose trees' depths sum to at most this are kept (``rounds_run_``: those
        of the run, ``run_end_``: what ended it). The runtime walks every tree to
        its full depth, so single-row latency grows with these steps
        (:data:`TREE_STEP_NS` each). None: no budget.
    categorical_mask : array-like of bool, default=None
        Encoded columns to split on natively as categories.
    max_partition_levels : int or None, default=32
        A categorical column with more levels than this (in the rows fit on) is
        split as ordered codes, not by LightGBM's search of partitions of its
        levels: the rule of the teacher's members
        (:data:`~tabdistill.distill.members.PARTITION_LEVELS`), whose search over
        ~100 levels finds chance groupings (``docs/results.md#categorical-splits``). None:
        every categorical column by partitions (LightGBM's default).
    ignored_features : list of int, default=None
        Encoded columns (their indices) no split uses: a distilled student gets the
        columns its teacher's ensemble learned to do without. None: every column.
    feature_names : list of str, default=None
        Names of the encoded columns, kept in the booster (its feature
        importance and dumps read with real names; LightGBM's forbidden
        characters become ``_``).
    random_state : int, default=None
    n_jobs : int, default=None
        Most threads (-1: every core); a fit uses one per 50,000 rows, since on
        fewer rows threads cost more than they save.
    """

    #: What students saved before the parameter existed (their state lacks it) read.
    ignored_features = None

    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "max_depth": [Interval(Integral, -1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "min_child_samples": [Interval(Integral, 0, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "loss": [Options({"cross_entropy", "logit"})],
        "early_stopping_rounds": [None, Interval(Integral, 1, None, closed="left")],
        "max_steps": [None, Interval(Real, 1, None, closed="left")],
        "categorical_mask": [None, "array-like"],
        "max_partition_levels": [None, Interval(Integral, 1, None, closed="left")],
        "ignored_features": [None, list, tuple],
        "feature_names": [None, list, tuple],
        "random_state": [None, Integral],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        n_estimators=100,
        num_leaves=15,
        max_depth=-1,
        learning_rate=0.1,
        min_child_samples=20,
        subsample=1.0,
        colsample_bytree=1.0,
        reg_lambda=0.0,
        loss="cross_entropy",
        early_stopping_rounds=None,
        max_steps=None,
        categorical_mask=None,
        max_partition_levels=PARTITION_LEVELS,
        ignored_features=None,
        feature_names=None,
        random_state=None,
        n_jobs=None,
    ):
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.loss = loss
        self.early_stopping_rounds = early_stopping_rounds
        self.max_steps = max_steps
        self.categorical_mask = categorical_mask
        self.max_partition_levels = max_partition_levels
        self.ignored_features = ignored_features
        self.feature_names = feature_names
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _partition_columns(self, Z) -> list[int]:
        """Categorical columns LightGBM searches partitions of: those of
        ``categorical_mask`` with at most ``max_partition_levels`` levels in ``Z``."""
        if self.categorical_mask is None:
            return []
        mask = np.asarray(self.categorical_mask, dtype=bool)
        if self.max_partition_levels is not None:
            mask = mask & (category_levels(Z, mask) <= self.max_partition_levels)
        return np.flatnonzero(mask).tolist()

    def fit(
        self,
        Z,
        target,
        sample_weight=None,
        eval_set=None,
        deadline=None,
        stop_steps=None,
        plateau=None,
    ):
        """Fit on targets in [0, 1].

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_features)
        target : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Probabilities (or 0/1 labels), or class distributions (or one-hot labels).
        sample_weight : ndarray, default=None
        eval_set : tuple (Z, target, sample_weight), default=None
            Rows to stop early on (with ``early_stopping_rounds``).
        deadline : float, default=None
            A ``time.perf_counter()`` value after which no tree is added (a time limit).
        stop_steps : float, default=None
            With early stopping (binary), end the run ``early_stopping_rounds`` rounds
            after its trees' steps pass this (``run_end_="max_steps"``): the rounds within
            it are those a longer run keeps (:class:`~tabdistill.distill.stopping.StepCap`).
        plateau : PlateauRule, default=None
            With early stopping (binary), also end the run once its selection metric on
            the eval set's labels stops paying for its trees (``run_end_="plateau"``; see
            :class:`~tabdistill.distill.stopping.PlateauRule`).
        """
        import lightgbm as lgb

        validate_params(self)
        target, w = check_targets(target, sample_weight)
        Z = np.asarray(Z, dtype=np.float64)
        cat = self._partition_columns(Z)
        self.n_features_in_ = Z.shape[1]
        if target.ndim == 2:
            return self._fit_classes(Z, target, w, eval_set, cat, deadline)
        self.init_ = None
        logit = self.loss == "logit"
        params = {
            "objective": "regression" if logit else "cross_entropy",
            "n_estimators": self.n_estimators,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_child_samples": self.min_child_samples,
            **self._regularization(),
            **self._contributions(),
            "random_state": 0 if self.random_state is None else self.random_state,
            "n_jobs": threads_for(self.n_jobs, len(Z)),
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        kwargs, stops, stopping = {}, [], self.early_stopping_rounds and eval_set is not None
        if stopping:
            Z_ev, t_ev, w_ev = eval_set
            t_ev = np.asarray(t_ev, dtype=np.float64)
            if stop_steps is not None:
                stops.append(StepCap(stop_steps, self.early_stopping_rounds))
            if plateau is not None:
                stops.append(plateau.callback(logit))
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False), *stops]
            kwargs = {
                **lightgbm_eval_kwargs(
                    np.asarray(Z_ev, np.float64), logit_targets(t_ev) if logit else t_ev, w_ev
                ),
                "callbacks": callbacks,
            }
        if deadline is not None:
            kwargs["callbacks"] = [*kwargs.get("callbacks", []), lightgbm_deadline(deadline)]
        names = "auto" if self.feature_names is None else lightgbm_names(self.feature_names)
        self.model_ = lgb.LGBMRegressor(**params).fit(
            Z,
            logit_targets(target) if logit else target,
            sample_weight=w,
            categorical_feature=cat,
            feature_name=names,
            **kwargs,
        )
        booster = self.model_.booster_
        best = int(self.model_.best_iteration_ or 0) if stopping else 0
        self.rounds_run_ = best or booster.num_trees()
        self._keep_run(booster, best, deadline, stops)
        self.n_estimators_ = self._rounds_within_budget(booster)
        if self.n_estimators_ < booster.num_trees():
            booster = lgb.Booster(
                model_str=booster.model_to_string(num_iteration=self.n_estimators_)
            )
        if logit:
            booster = lgb.Booster(model_str=as_cross_entropy(booster.model_to_string()))
        self.booster_ = booster
        return self

    def _regularization(self) -> dict:
        """Row and column subsampling and the L2 penalty, by names both LightGBM APIs take."""
        return {
            "subsample": self.subsample,
            "subsample_freq": int(self.subsample < 1),
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
        }

    def _contributions(self) -> dict:
        """LightGBM's ``feature_contri``: 0 (a split's gain times 0) on ``ignored_features``."""
        if not self.ignored_features:
            return {}
        ignored, n = np.asarray(self.ignored_features), self.n_features_in_
        if ignored.dtype.kind not in "iu" or ignored.min() < 0 or ignored.max() >= n:
            raise ValueError(
                f"ignored_features must be indices of the {n} encoded columns (0 to {n - 1}), "
                f"got {list(self.ignored_features)}."
            )
        contri = np.ones(n)
        contri[ignored] = 0.0
        return {"feature_contri": contri.tolist()}

    def _booster_params(self, n_rows) -> dict:
        return {
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_child_samples,
            **self._regularization(),
            **self._contributions(),
            "seed": 0 if self.random_state is None else self.random_state,
            "num_threads": threads_for(self.n_jobs, n_rows),
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }

    def _fit_classes(self, Z, target, w, eval_set, cat, deadline=None):
        """K trees a round on soft class distributions, with a custom objective."""
        import lightgbm as lgb

        names = "auto" if self.feature_names is None else lightgbm_names(self.feature_names)
        booster, self.init_, self.rounds_run_ = train_soft_classes(
            self._booster_params(len(Z)),
            Z,
            target,
            w,
            loss=self.loss,
            n_rounds=self.n_estimators,
            categorical=cat,
            feature_names=names,
            eval_set=eval_set,
            early_stopping_rounds=self.early_stopping_rounds,
            deadline=deadline,
        )
        stopping = self.early_stopping_rounds and eval_set is not None
        self._keep_run(booster, booster.best_iteration if stopping else 0, deadline)
        self.n_estimators_ = self._rounds_within_budget(booster, target.shape[1])
        if self.n_estimators_ == self.rounds_run_:
            self._run_booster = None  # nothing cut: no second booster to keep
        # from text: keeps the trees kept by early stopping, drops the objective (a closure)
        self.booster_ = lgb.Booster(
            model_str=booster.model_to_string(num_iteration=self.n_estimators_)
        )
        return self

    def _keep_run(self, booster, best, deadline=None, stops=()) -> None:
        """Keep the run's booster (:meth:`truncated` reads it past the ``max_steps`` cut) and
        what ended it: ``"early_stopping"`` within ``n_estimators`` rounds (``best``: the round
        kept, 0 without), so a run of more rounds is the same; the round cap, one of
        :mod:`~tabdistill.distill.stopping`'s ``stops`` (``"max_steps"``, ``"plateau"``),
        or a deadline."""
        self._run_booster = booster
        fired = [stop for stop in stops if stop.fired]
        if deadline is not None and time.perf_counter() > deadline:
            self.run_end_ = "deadline"
        elif fired:
            self.run_end_ = fired[0].end
        elif best and best + self.early_stopping_rounds <= self.n_estimators:
            self.run_end_ = "early_stopping"
        else:
            self.run_end_ = "n_estimators"

    def _rounds_within_budget(self, booster, trees_per_round=1) -> int:
        """``rounds_run_`` cut to the rounds within ``max_steps`` (at least one)."""
        if self.max_steps is None:
            return self.rounds_run_
        steps = np.cumsum(round_steps(booster, self.rounds_run_, trees_per_round))
        return max(1, int(np.searchsorted(steps, self.max_steps, side="right")))

    def predict(self, Z):
        """Positive-class probabilities (binary), or ``(n, K)`` class probabilities."""
        check_is_fitted(self, "booster_")
        Z = np.asarray(Z, dtype=np.float64)
        if getattr(self, "init_", None) is None:
            return self.booster_.predict(Z)
        return softmax(self.booster_.predict(Z, raw_score=True) + self.init_)

    def compile(self, schema):
        check_is_fitted(self, "booster_")
        return compile_lightgbm(self.booster_, schema, init_score=getattr(self, "init_", None))

    def _raw_importances(self):
        check_is_fitted(self, "booster_")
        return self.booster_.feature_importance(importance_type="gain")

    def tree_steps(self) -> float:
        """Tree steps one row takes: the trees' depths summed (see :func:`round_steps`)."""
        check_is_fitted(self, "booster_")
        return float(round_steps(self.booster_, None).sum())

    def truncated(self, rounds: int) -> LightGBMStudent:
        """The first ``rounds`` boosting rounds of this fitted student's run, as a fitted
        student (boosting adds rounds in order, so it is the student a fit of ``rounds`` rounds
        would have made); up to ``rounds_run_``, the rounds early stopping kept, past those
        ``max_steps`` cut (such a student has no ``max_steps``)."""
        import lightgbm as lgb

        check_is_fitted(self, "booster_")
        rounds = int(min(max(1, rounds), getattr(self, "rounds_run_", self.n_estimators_)))
        out = clone(self).set_params(n_estimators=rounds, early_stopping_rounds=None)
        if rounds <= self.n_estimators_:
            text = self.booster_.model_to_string(num_iteration=rounds)
        else:  # past the max_steps cut: from the run's booster
            out.set_params(max_steps=None)
            text = self._run_booster.model_to_string(num_iteration=rounds)
            if self.loss == "logit" and getattr(self, "init_", None) is None:
                text = as_cross_entropy(text)
        out.booster_ = lgb.Booster(model_str=text)
        out.init_, out.n_estimators_ = getattr(self, "init_", None), rounds
        out.n_features_in_ = self.n_features_in_
        return out


class TreeStudent(Student):
    """One regression tree on soft targets (multi-output for K-class distributions).

    Parameters
    ----------
    max_depth : int, default=8
    min_samples_leaf : int, default=20
    random_state : int, default=None
    """

    _parameter_constraints: dict = {
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, max_depth=8, min_samples_leaf=20, random_state=None):
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, Z, target, sample_weight=None):
        target, w = check_targets(target, sample_weight)
        self.tree_model_ = DecisionTreeRegressor(
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
        ).fit(float32_range(Z), target, sample_weight=w)
        self.n_features_in_ = self.tree_model_.n_features_in_
        return self

    def predict(self, Z):
        check_is_fitted(self, "tree_model_")
        p = self.tree_model_.predict(float32_range(Z))
        return clip_distribution(p) if p.ndim == 2 else clip_proba(p)

    def compile(self, schema):
        check_is_fitted(self, "tree_model_")
        return compile_sklearn_tree(self.tree_model_, schema)

    def _raw_importances(self):
        check_is_fitted(self, "tree_model_")
        return self.tree_model_.feature_importances_

    def tree_steps(self) -> float:
        """Tree steps one row takes: the tree's depth."""
        check_is_fitted(self, "tree_model_")
        return float(self.tree_model_.get_depth())


class LinearStudent(Student):
    """Logistic regression fit on soft targets with the exact soft cross-entropy.

    For K-class distributions, multinomial logistic regression: each row
    enters K times, as class k with weight ``w * q_k``.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength.
    categorical_mask : array-like of bool, default=None
    max_iter : int, default=2000
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "categorical_mask": [None, "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, C=1.0, categorical_mask=None, max_iter=2000):
        self.C = C
        self.categorical_mask = categorical_mask
        self.max_iter = max_iter

    def fit(self, Z, target, sample_weight=None):
        target, w = check_targets(target, sample_weight)
        w = np.ones(len(target)) if w is None else w
        self.design_ = LinearDesign(categorical_mask=self.categorical_mask).fit(Z)
        D = self.design_.transform(Z)
        # one copy of every row per class, weighted by the row's probability of that class
        if target.ndim == 2:
            both = (w[:, None] * target).T.ravel()
            y2 = np.repeat(np.arange(target.shape[1]), len(D))
        else:
            both = np.concatenate([w * target, w * (1 - target)])
            y2 = np.concatenate([np.ones(len(D)), np.zeros(len(D))])
        keep = both > 0
        X2 = np.tile(D, (len(both) // len(D), 1))[keep]
        y2 = y2[keep]
        if len(np.unique(y2)) < 2:
            raise ValueError("the linear student needs targets that are not all 0 or all 1.")
        # LogisticRegression averages its loss over weights; scale so C means the same as usual
        scale = len(D) / both.sum()
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(
            X2, y2, sample_weight=both[keep] * scale
        )
        if target.ndim == 2 and len(self.model_.classes_) != target.shape[1]:
            raise ValueError("the linear student needs rows of every class.")
        self.n_features_in_ = Z.shape[1]
        return self

    def predict(self, Z):
        check_is_fitted(self, "model_")
        proba = self.model_.predict_proba(self.design_.transform(Z))
        return proba if proba.shape[1] > 2 else proba[:, 1]

    def compile(self, schema):
        check_is_fitted(self, "model_")
        return compile_linear(self.design_, self.model_, schema)

    def _raw_importances(self):
        """Sum of absolute coefficients over each column's block of the (scaled) design."""
        check_is_fitted(self, "model_")
        coef = np.abs(self.model_.coef_.ravel())
        ends = np.append(self.design_.offsets_[1:], self.design_.n_output_)
        return [coef[a:b].sum() for a, b in zip(self.design_.offsets_, ends)]


STUDENTS = {"lightgbm": LightGBMStudent, "tree": TreeStudent, "linear": LinearStudent}

#: The default ``student``: LightGBM students, but a linear one where the teacher is mostly
#: its linear member (:meth:`~tabdistill.distill.context.StudentFactory.linear_for`).
AUTO_STUDENT = "auto"


def student_kind(spec: str) -> str:
    """The name in :data:`STUDENTS` a student spec's students are of (``"auto"``: LightGBM,
    whose sizes it shares; a linear student, where it is one, is named by its knobs)."""
    return "lightgbm" if spec == AUTO_STUDENT else spec


def compile_student(student, schema):
    """Compile a fitted student for the runtime.

    Parameters
    ----------
    student : Student
    schema : FeatureSchema
        The fitted encoder's schema (``encoder.schema_``).

    Raises
    ------
    TypeError
        For a student the runtime cannot reproduce (a custom one).
    """
    if not isinstance(student, Student):
        raise TypeError(f"the runtime cannot compile a {type(student).__name__}.")
    return student.compile(schema)
