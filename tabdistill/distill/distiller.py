"""The distiller: teacher -> soft labels -> synthetic rows -> student, with a safety net.

:class:`DistilledClassifier` holds out a stratified validation split, fits the
teacher on the rest, labels original rows with the teacher's out-of-fold
probabilities and synthetic rows with the fitted teacher, and fits one student
per combination of the few knobs that matter (``alpha``, augmentation factor).
It always fits the baseline too -- the same student spec on hard labels -- and
never returns a student that is worse than that baseline on validation: it
falls back to the baseline, warns, and records why.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .. import metrics
from .._proba import two_columns
from .._progress import progress
from .._validation import check_sample_weight, take
from ..data.encoder import TabularEncoder, TabularInputMixin
from ..data.target import encode_target
from ..exceptions import DataError
from .augment import FeatureSpec, make_augmenter
from .labels import build_training_set
from .selection import Candidate, best, evaluate, knob_grid, validation_scores
from .students import compile_student, make_student, student_sizes
from .teacher import TeacherEnsemble

logger = logging.getLogger(__name__)


class DistillationWarning(UserWarning):
    """Distillation did not beat the baseline; the baseline is used as the student."""


def _positive_share(setting, positive_rate):
    """Resolve ``positive_share='auto'``: emphasise the rare class when it is under 20%."""
    if setting == "auto":
        return 0.2 if positive_rate < 0.2 else None
    return setting


def _predict_in_chunks(fn, Z, chunk=50_000, desc=None):
    if len(Z) == 0:
        return np.empty(0)
    if len(Z) <= chunk:
        return fn(Z)
    starts = range(0, len(Z), chunk)
    return np.concatenate([fn(Z[i : i + chunk]) for i in progress(starts, desc=desc)])


class DistilledClassifier(TabularInputMixin, ClassifierMixin, BaseEstimator):
    """A compact student distilled from a heterogeneous teacher ensemble.

    ``predict_proba`` is the student's. The teacher and the baseline stay
    available as ``teacher_`` and ``baseline_`` for comparison.

    Parameters
    ----------
    teacher : TeacherEnsemble or dict, default=None
        The teacher (cloned before fitting) or its parameters. None means
        ``TeacherEnsemble()`` with its defaults.
    student : {"lightgbm", "tree", "linear"} or Student, default="lightgbm"
        The student spec; see :mod:`tabdistill.distill.students`.
    student_params : dict or list of dict, default=None
        Parameters of the student (its size: ``n_estimators``, ``num_leaves``,
        ``max_depth``, ...). A list gives candidate sizes to choose from on
        validation, for the student and the baseline alike. None uses
        :func:`tabdistill.distill.students.student_sizes`: for LightGBM, 100 trees of
        15 leaves, or 100 full trees of depth 3 (8 leaves, the fastest).
    augmenter : {"munge", "marginal", "gaussian"} or Augmenter, default="munge"
    augment_factors : sequence of float, default=(0, 1, 2)
        Candidate numbers of synthetic rows, as multiples of the training rows.
    alphas : sequence of float, default=(0.0, 0.5, 1.0)
        Candidate weights of the hard label in original rows' targets. With
        ``alpha=1`` original rows keep their hard labels and only synthetic
        rows carry the teacher's knowledge; ``alpha=1`` with no synthetic rows
        is the baseline itself, so the selection can always fall back to it.
    temperature : float, default=1.0
        Temperature applied to the teacher's probabilities.
    synthetic_weight : float, default=1.0
        Weight of a synthetic row relative to an original one.
    positive_share : float, "auto" or None, default="auto"
        Share of synthetic rows seeded from positive rows. "auto" uses 0.2 when
        positives are under 20% of rows, else no emphasis.
    rare_weight : float, default=1.0
        Extra weight on positive targets in the student's loss.
    selection_metric : {"roc_auc", "average_precision", "log_loss", "brier"}, default="roc_auc"
        What knob selection and the baseline fallback compare on validation.
    validation_fraction : float, default=0.2
        Share of rows held out (stratified) to select knobs and check the baseline.
    categorical_features : list of str, default=None
        Columns to treat as categorical whatever their dtype.
    positive_label : object, default=None
        Label of the positive class; see :func:`tabdistill.data.target.encode_target`.
    compress : bool, default=False
        Also compress the compiled student (:func:`tabdistill.compress.compress`):
        quantized leaves, and trees dropped and reweighted under an L1 penalty
        refit to the teacher's probabilities; the smallest level within
        ``compress_tolerance`` validation ROC-AUC of the uncompressed student
        becomes ``runtime_``.
    compress_tolerance : float, default=0.001
        Largest validation ROC-AUC loss the compression may cost.
    random_state : int or None, default=None
        Seeds the split, the teacher, the augmenter and the student.
    n_jobs : int, default=None
        Threads for the teacher's members and the student.

    Attributes
    ----------
    encoder_ : TabularEncoder
    classes_ : ndarray of shape (2,)
    feature_names_in_, n_features_in_
    teacher_ : TeacherEnsemble
    student_ : Pipeline
        Encoder + the chosen student; ``predict_proba`` takes a DataFrame.
    runtime_ : CompiledModel or None
        The student compiled for fast scoring (``score_one``, ``score_record``,
        ``score_batch``, ``save``); None for a student the runtime cannot compile.
    baseline_ : Pipeline
        Encoder + the same student spec fit on hard labels.
    train_index_, validation_index_ : ndarray of int
        Rows (positions in ``X``) the teacher and students were fit on, and
        rows held out to select knobs and compare with the baseline.
    soft_labels_ : ndarray
        Targets the chosen student was fit on for the original training rows
        (``X.iloc[train_index_]``).
    fallback_ : str or None
        Why the baseline replaced the distilled student, if it did.
    compression_ : dict or None
        With ``compress=True``: every level tried (size, trees, leaves, error
        bound, validation ROC-AUC) and the one chosen.
    compressed_levels_ : dict or None
        With ``compress=True``: level name -> runtime file bytes
        (``CompiledModel.load(model.compressed_levels_[name])``).
    report_ : dict
        Timings per stage, validation metrics of teacher / student / baseline,
        the candidates tried, the chosen knobs and row counts.
    """

    def __init__(
        self,
        teacher=None,
        student="lightgbm",
        student_params=None,
        augmenter="munge",
        augment_factors=(0, 1, 2),
        alphas=(0.0, 0.5, 1.0),
        temperature=1.0,
        synthetic_weight=1.0,
        positive_share="auto",
        rare_weight=1.0,
        selection_metric="roc_auc",
        validation_fraction=0.2,
        categorical_features=None,
        positive_label=None,
        compress=False,
        compress_tolerance=0.001,
        random_state=None,
        n_jobs=None,
    ):
        self.teacher = teacher
        self.student = student
        self.student_params = student_params
        self.augmenter = augmenter
        self.augment_factors = augment_factors
        self.alphas = alphas
        self.temperature = temperature
        self.synthetic_weight = synthetic_weight
        self.positive_share = positive_share
        self.rare_weight = rare_weight
        self.selection_metric = selection_metric
        self.validation_fraction = validation_fraction
        self.categorical_features = categorical_features
        self.positive_label = positive_label
        self.compress = compress
        self.compress_tolerance = compress_tolerance
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Fit teacher, synthetic rows, candidate students and the baseline; keep the best.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary target with any two labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Reaches the teacher's members, the students and the baseline;
            synthetic rows inherit the weight of the row they came from.

        Returns
        -------
        self
        """
        self._check_params()
        timings = {}
        clock = time.perf_counter()
        self.encoder_ = TabularEncoder(categorical_features=self.categorical_features)
        Z = self.encoder_.fit_transform(X)
        target = encode_target(y, self.positive_label)
        self.classes_ = target.classes
        self.feature_names_in_ = self.encoder_.feature_names_in_
        self.n_features_in_ = self.encoder_.n_features_in_
        y01 = target.y
        w = None if sample_weight is None else check_sample_weight(sample_weight, len(y01))
        tr, va = self._split(y01)
        self.train_index_, self.validation_index_ = tr, va
        w_tr, w_va = take(w, tr), take(w, va)
        seeds = np.random.RandomState(self.random_state).randint(np.iinfo(np.int32).max, size=3)
        timings["prepare"] = time.perf_counter() - clock

        clock = time.perf_counter()
        logger.info("fitting the teacher on %d rows", len(tr))
        self.teacher_ = self._make_teacher(int(seeds[0]))
        self.teacher_.fit_encoded(
            Z[tr], y01[tr], w_tr, encoder=self.encoder_, classes=self.classes_
        )
        teacher_va = self.teacher_.predict_proba_encoded(Z[va])
        timings["teacher"] = time.perf_counter() - clock

        clock = time.perf_counter()
        share = _positive_share(self.positive_share, y01[tr].mean())
        n_synthetic = int(round(max(self.augment_factors) * len(tr)))
        logger.info("generating %d synthetic rows with %s", n_synthetic, self.augmenter)
        synthetic, origin = make_augmenter(self.augmenter).sample(
            Z[tr],
            n_synthetic,
            FeatureSpec.from_encoder(self.encoder_),
            y=y01[tr],
            positive_share=share,
            random_state=int(seeds[1]),
        )
        timings["augment"] = time.perf_counter() - clock

        clock = time.perf_counter()
        synthetic_proba = _predict_in_chunks(
            self.teacher_.predict_proba_encoded, synthetic, desc="teacher labels"
        )
        timings["label"] = time.perf_counter() - clock

        sizes = student_sizes(self.student, self.student_params)
        validation = (Z[va], y01[va], w_va, self.selection_metric)
        clock = time.perf_counter()
        baseline = self._fit_baseline(sizes, Z[tr], y01[tr], w_tr, validation, int(seeds[2]))
        timings["baseline"] = time.perf_counter() - clock

        clock = time.perf_counter()
        training = dict(
            Z=Z[tr],
            y=y01[tr],
            oof_proba=self.teacher_.oof_proba_,
            sample_weight=w_tr,
            synthetic=synthetic,
            synthetic_proba=synthetic_proba,
            synthetic_seeds=origin,
        )
        candidates = self._fit_candidates(sizes, training, validation, int(seeds[2]))
        chosen = best(candidates)
        timings["student"] = time.perf_counter() - clock

        self.fallback_ = None
        if chosen.value < baseline.value:
            self.fallback_ = (
                f"the best distilled student ({self.selection_metric} {abs(chosen.value):.4f}) "
                f"was worse than the baseline trained on hard labels "
                f"({abs(baseline.value):.4f}) on validation; using the baseline as the student"
            )
            warnings.warn(self.fallback_, DistillationWarning, stacklevel=2)
            chosen = Candidate(
                {**chosen.knobs, "student_params": baseline.knobs["student_params"]},
                baseline.model,
                baseline.validation_proba,
                baseline.value,
                soft_labels=chosen.soft_labels,
            )
        self.soft_labels_ = chosen.soft_labels
        self.__dict__.pop("_runtime", None)
        self.student_ = Pipeline([("encoder", self.encoder_), ("student", chosen.model)])
        self.baseline_ = Pipeline([("encoder", self.encoder_), ("student", baseline.model)])
        self.compression_ = self.compressed_levels_ = None
        if self.compress:
            clock = time.perf_counter()
            self._compress(training, chosen.knobs, validation, teacher_va, int(seeds[2]))
            timings["compress"] = time.perf_counter() - clock
        self.report_ = self._report(
            timings, (y01[va], w_va), teacher_va, chosen, baseline, candidates, n_synthetic
        )
        logger.info("distillation done: %s", self.report_["validation"]["student"])
        return self

    def _fit_baseline(self, sizes, Z, y01, w, validation, seed) -> Candidate:
        """The student spec fit on hard labels, at the size that does best on validation."""
        return best(
            [
                evaluate(
                    self._new_student(seed, size).fit(Z, y01.astype(float), w),
                    {"student_params": size},
                    *validation,
                )
                for size in sizes
            ]
        )

    def _training_set(self, training, augment_factor, alpha, temperature):
        n_rows = int(round(augment_factor * len(training["y"])))
        return build_training_set(
            training["Z"],
            training["y"],
            training["oof_proba"],
            training["sample_weight"],
            synthetic=training["synthetic"][:n_rows],
            synthetic_proba=training["synthetic_proba"][:n_rows],
            synthetic_seeds=training["synthetic_seeds"][:n_rows],
            temperature=temperature,
            alpha=alpha,
            synthetic_weight=self.synthetic_weight,
            rare_weight=self.rare_weight,
        )

    def _fit_candidates(self, sizes, training, validation, seed) -> list[Candidate]:
        """Fit one student per (size, augmentation factor, alpha), scored on validation."""
        candidates = []
        for knobs in progress(knob_grid(sizes, self.augment_factors, self.alphas), desc="students"):
            data = self._training_set(
                training, knobs["augment_factor"], knobs["alpha"], self.temperature
            )
            n_rows = data.n_synthetic
            model = self._new_student(seed, knobs["student_params"])
            model.fit(data.Z, data.target, data.weight)
            candidates.append(
                evaluate(
                    model,
                    knobs,
                    *validation,
                    synthetic_rows=n_rows,
                    soft_labels=data.target[: data.n_original],
                )
            )
        return candidates

    def _compress(self, training, knobs, validation, teacher_va, seed):
        """Compress the compiled student; the rows it was fit on are refit to the teacher's."""
        from ..compress.frontier import compress

        runtime = self.runtime_
        if runtime is None or runtime.kind != "trees":
            logger.info("compression skipped: the student is not a tree runtime")
            return
        data = self._training_set(training, knobs["augment_factor"], 0.0, 1.0)
        Z_va, y_va, w_va, _ = validation
        levels, chosen = compress(
            runtime,
            (data.Z, data.target, data.weight),
            (Z_va, y_va, w_va, teacher_va),
            tolerance=self.compress_tolerance,
            random_state=seed,
        )
        self.compression_ = {
            "tolerance": self.compress_tolerance,
            "chosen": chosen.name,
            "levels": [level.summary() for level in levels],
        }
        self.compressed_levels_ = {level.name: level.model.to_bytes() for level in levels}
        self._runtime = chosen.model

    def _check_params(self):
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}."
            )
        if not len(self.augment_factors) or min(self.augment_factors) < 0:
            raise ValueError(
                f"augment_factors must be non-negative numbers, got {self.augment_factors}."
            )
        if not len(self.alphas) or not all(0 <= a <= 1 for a in self.alphas):
            raise ValueError(f"alphas must be numbers in [0, 1], got {self.alphas}.")
        if not 0 <= self.compress_tolerance < 1:
            raise ValueError(
                f"compress_tolerance must be in [0, 1), got {self.compress_tolerance}."
            )
        metrics.score(self.selection_metric, [0, 1], [0.2, 0.8])  # validates the name

    def _split(self, y):
        n_pos = int(y.sum())
        n_val_pos = int(np.floor(n_pos * self.validation_fraction))
        if n_val_pos < 1 or n_pos - n_val_pos < 2:
            raise DataError(
                f"too few positive rows ({n_pos}) to hold out a validation split of "
                f"{self.validation_fraction:.0%} and still cross-fit the teacher; use more data."
            )
        idx = np.arange(len(y))
        return train_test_split(
            idx, test_size=self.validation_fraction, stratify=y, random_state=self.random_state
        )

    def _make_teacher(self, seed):
        if self.teacher is None:
            teacher = TeacherEnsemble()
        elif isinstance(self.teacher, dict):
            teacher = TeacherEnsemble(**self.teacher)
        elif isinstance(self.teacher, TeacherEnsemble):
            teacher = clone(self.teacher)
        else:
            raise TypeError(
                f"teacher must be a TeacherEnsemble, a dict of its parameters or None, "
                f"got {type(self.teacher).__name__}."
            )
        if teacher.random_state is None:
            teacher.set_params(random_state=seed)
        if teacher.n_jobs is None:
            teacher.set_params(n_jobs=self.n_jobs)
        return teacher

    def _new_student(self, seed, params):
        return make_student(
            self.student,
            params,
            categorical_mask=self.encoder_.categorical_mask_,
            random_state=seed,
            n_jobs=self.n_jobs,
        )

    def _report(self, timings, labels, teacher_va, chosen, baseline, candidates, n_synthetic):
        y_va, w_va = labels
        return {
            "timings": {
                **{k: round(v, 3) for k, v in timings.items()},
                "total": round(sum(timings.values()), 3),
            },
            "validation": {
                "teacher": validation_scores(y_va, teacher_va, w_va),
                "student": validation_scores(y_va, chosen.validation_proba, w_va),
                "baseline": validation_scores(y_va, baseline.validation_proba, w_va),
            },
            "selection_metric": self.selection_metric,
            "candidates": [c.summary(self.selection_metric) for c in candidates],
            "chosen": chosen.knobs,
            "baseline_params": baseline.knobs["student_params"],
            "fallback": self.fallback_,
            "compression": self.compression_,
            "rows": {
                "train": len(self.train_index_),
                "validation": len(self.validation_index_),
                "synthetic": n_synthetic,
            },
            "teacher_weights": dict(self.teacher_.weights_),
        }

    @property
    def runtime_(self):
        """The student compiled for fast scoring (compressed with ``compress``), built on use."""
        check_is_fitted(self, "student_")
        if "_runtime" not in self.__dict__ and getattr(self, "compression_", None):
            from ..runtime.model import CompiledModel

            chosen = self.compression_["chosen"]
            self._runtime = CompiledModel.load(self.compressed_levels_[chosen])
        if "_runtime" not in self.__dict__:
            try:
                self._runtime = compile_student(self.student_[-1], self.encoder_.schema_)
            except TypeError as exc:  # a custom student: predict through it instead
                logger.info("student not compiled, predicting through it: %s", exc)
                self._runtime = None
        return self._runtime

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_runtime", None)  # compiled kernels are not data; rebuilt on first use
        return state

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X):
        """Class probabilities from the student, shape ``(n_samples, 2)``.

        Scored by the compiled runtime (``runtime_``) when the student compiles,
        which gives the same probabilities as the student to within 1e-12.
        """
        check_is_fitted(self, "student_")
        Z = self.encoder_.transform(X)
        if self.runtime_ is not None:
            return two_columns(self.runtime_.score_batch(Z))
        return self.student_[-1].predict_proba(Z)

    def predict(self, X):
        """Predicted labels at a 0.5 probability threshold."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]
