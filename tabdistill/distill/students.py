"""Compact students, all fit by sample-weighted soft-label regression.

A student learns ``q(x)``, the teacher's probability, from targets in [0, 1]:

* :class:`LightGBMStudent` -- a small gradient-boosted model with LightGBM's
  ``cross_entropy`` objective, which accepts probabilities as labels;
* :class:`TreeStudent` -- one shallow regression tree; a leaf's value, the
  weighted mean of its targets, minimises both squared error and soft
  cross-entropy within the leaf;
* :class:`LinearStudent` -- logistic regression on the
  :class:`~tabdistill.distill.linear.LinearDesign` matrix with the exact soft
  cross-entropy: each row enters twice, as a positive with weight ``w*q`` and
  as a negative with weight ``w*(1-q)``.

Students work on the encoded matrix. Each has ``predict(Z)`` (the positive-class
probability) and ``predict_proba(Z)`` (two columns). With 0/1 targets, the same
spec is the "baseline" trained directly on hard labels.
"""

from __future__ import annotations

import re
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._proba import clip_proba, two_columns
from ..runtime.compile_lightgbm import compile_lightgbm
from ..runtime.compile_linear import compile_linear
from ..runtime.compile_sklearn import compile_sklearn_tree
from .linear import LinearDesign

_F32_MAX = float(np.finfo(np.float32).max)


def _float32_range(Z):
    """Clip to the float32 range that scikit-learn trees accept.

    Trees compare ``float32(x) <= threshold``: a value beyond the range goes the
    same way clipped as it would as +/-inf, so clipping changes no decision.
    """
    return np.clip(np.asarray(Z, dtype=np.float64), -_F32_MAX, _F32_MAX)


def lightgbm_names(names) -> list[str]:
    """Feature names LightGBM accepts (no JSON punctuation), each unique, close to the original."""
    out, seen = [], set()
    for i, name in enumerate(names):
        clean = re.sub(r'[\[\]{}":,\s]+', "_", str(name)) or f"f{i}"
        while clean in seen:
            clean = f"{clean}_{i}"
        seen.add(clean)
        out.append(clean)
    return out


def _check_targets(target, sample_weight):
    target = np.asarray(target, dtype=np.float64)
    if np.any(~np.isfinite(target)) or target.min() < 0 or target.max() > 1:
        raise ValueError("student targets must be probabilities in [0, 1].")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return target, w


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
        """Two columns: ``1 - q`` and ``q``."""
        return two_columns(self.predict(Z))

    def feature_importances(self) -> np.ndarray:
        """Importance of each encoded column, summing to 1 (all zeros for a constant model)."""
        raw = np.asarray(self._raw_importances(), dtype=np.float64)
        total = raw.sum()
        return raw / total if total > 0 else raw

    def _raw_importances(self):
        raise TypeError(f"{type(self).__name__} does not report feature importances.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class LightGBMStudent(Student):
    """A small LightGBM model on soft targets (``cross_entropy`` objective).

    Parameters
    ----------
    n_estimators : int, default=100
    num_leaves : int, default=15
    max_depth : int, default=-1
        Depth limit of each tree (-1: none). Full depth-3 trees (8 leaves)
        give every row three steps per tree: the fastest shape, and on some
        data the most accurate (``benchmarks/student_shapes.py``).
    learning_rate : float, default=0.1
    min_child_samples : int, default=20
    categorical_mask : array-like of bool, default=None
        Encoded columns to split on natively as categories.
    feature_names : list of str, default=None
        Names of the encoded columns, kept in the booster (its feature
        importance and dumps read with real names; LightGBM's forbidden
        characters become ``_``).
    random_state : int, default=None
    n_jobs : int, default=None
    """

    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "max_depth": [Interval(Integral, -1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "min_child_samples": [Interval(Integral, 0, None, closed="left")],
        "categorical_mask": [None, "array-like"],
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
        categorical_mask=None,
        feature_names=None,
        random_state=None,
        n_jobs=None,
    ):
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.categorical_mask = categorical_mask
        self.feature_names = feature_names
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, Z, target, sample_weight=None):
        import lightgbm as lgb

        self._validate_params()
        target, w = _check_targets(target, sample_weight)
        Z = np.asarray(Z, dtype=np.float64)
        cat = (
            [] if self.categorical_mask is None else np.flatnonzero(self.categorical_mask).tolist()
        )
        params = {
            "objective": "cross_entropy",
            "n_estimators": self.n_estimators,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_child_samples": self.min_child_samples,
            "random_state": 0 if self.random_state is None else self.random_state,
            "n_jobs": self.n_jobs or 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        names = "auto" if self.feature_names is None else lightgbm_names(self.feature_names)
        self.model_ = lgb.LGBMRegressor(**params).fit(
            Z, target, sample_weight=w, categorical_feature=cat, feature_name=names
        )
        self.booster_ = self.model_.booster_
        self.n_features_in_ = Z.shape[1]
        return self

    def predict(self, Z):
        check_is_fitted(self, "booster_")
        return self.booster_.predict(np.asarray(Z, dtype=np.float64))

    def compile(self, schema):
        check_is_fitted(self, "booster_")
        return compile_lightgbm(self.booster_, schema)

    def _raw_importances(self):
        check_is_fitted(self, "booster_")
        return self.booster_.feature_importance(importance_type="gain")


class TreeStudent(Student):
    """One regression tree on soft targets.

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
        target, w = _check_targets(target, sample_weight)
        self.tree_model_ = DecisionTreeRegressor(
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
        ).fit(_float32_range(Z), target, sample_weight=w)
        self.n_features_in_ = self.tree_model_.n_features_in_
        return self

    def predict(self, Z):
        check_is_fitted(self, "tree_model_")
        return clip_proba(self.tree_model_.predict(_float32_range(Z)))

    def compile(self, schema):
        check_is_fitted(self, "tree_model_")
        return compile_sklearn_tree(self.tree_model_, schema)

    def _raw_importances(self):
        check_is_fitted(self, "tree_model_")
        return self.tree_model_.feature_importances_


class LinearStudent(Student):
    """Logistic regression fit on soft targets with the exact soft cross-entropy.

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
        target, w = _check_targets(target, sample_weight)
        w = np.ones(len(target)) if w is None else w
        self.design_ = LinearDesign(categorical_mask=self.categorical_mask).fit(Z)
        D = self.design_.transform(Z)
        both = np.concatenate([w * target, w * (1 - target)])
        keep = both > 0
        X2 = np.vstack([D, D])[keep]
        y2 = np.concatenate([np.ones(len(D)), np.zeros(len(D))])[keep]
        if len(np.unique(y2)) < 2:
            raise ValueError("the linear student needs targets that are not all 0 or all 1.")
        # LogisticRegression averages its loss over weights; scale so C means the same as usual
        scale = len(D) / both.sum()
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(
            X2, y2, sample_weight=both[keep] * scale
        )
        self.n_features_in_ = Z.shape[1]
        return self

    def predict(self, Z):
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self.design_.transform(Z))[:, 1]

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


#: Candidate sizes tried when the user gives none: accuracy and speed trade places by dataset
#: (``benchmarks/student_shapes.py``), so both are tried and validation decides.
DEFAULT_SIZES = {
    "lightgbm": [{"num_leaves": 15, "max_depth": -1}, {"num_leaves": 8, "max_depth": 3}],
}


def student_sizes(student, params=None) -> list[dict]:
    """Candidate parameter sets for ``student``: ``params`` as given, else the defaults.

    ``params`` may be one dict (one candidate) or a list of dicts.
    """
    if params is None:
        return (
            [dict(p) for p in DEFAULT_SIZES.get(student, [{}])]
            if isinstance(student, str)
            else [{}]
        )
    if isinstance(params, dict):
        return [dict(params)]
    if isinstance(params, list | tuple) and params and all(isinstance(p, dict) for p in params):
        return [dict(p) for p in params]
    raise ValueError(f"student_params must be a dict or a non-empty list of dicts, got {params!r}.")


def make_student(
    student,
    params=None,
    *,
    categorical_mask=None,
    feature_names=None,
    random_state=None,
    n_jobs=None,
):
    """An unfitted student from a name in :data:`STUDENTS` or a :class:`Student` instance."""
    from sklearn.base import clone

    if isinstance(student, Student):
        est = clone(student)
    elif student in STUDENTS:
        est = STUDENTS[student]()
    else:
        raise ValueError(f"unknown student {student!r}; choose one of {sorted(STUDENTS)}.")
    accepted = est.get_params()
    extra = {
        k: v
        for k, v in {
            "categorical_mask": categorical_mask,
            "feature_names": None if feature_names is None else list(feature_names),
            "random_state": random_state,
            "n_jobs": n_jobs,
        }.items()
        if k in accepted and accepted[k] is None
    }
    unknown = set(params or {}) - set(accepted)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)} for student {student!r}; "
            f"valid ones are {sorted(accepted)}."
        )
    return est.set_params(**extra, **(params or {}))


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
