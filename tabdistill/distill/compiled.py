"""How a fitted distiller scores: through its student compiled for the runtime.

:class:`CompiledStudentMixin` gives an estimator with a fitted ``student_``
pipeline (encoder + student) and ``encoder_`` its prediction methods, its
``runtime_`` (the student compiled to flat arrays, built on first use and never
pickled), ``teacher_runtime_`` (the whole teacher compiled the same way, see
:mod:`tabdistill.distill.teacher_runtime`), ``teacher_runtime_at`` (the teacher cut to a
latency budget, :mod:`tabdistill.distill.teacher_cut`) and the student's
``feature_importances_`` by input column. :func:`compiled_teacher` is
``teacher_runtime_`` for callers that carry on without it (the frontier, a registry
version).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .students import compile_student
from .teacher_cut import cut_teacher
from .teacher_runtime import compile_teacher

logger = logging.getLogger(__name__)


def compiled_teacher(model):
    """The teacher of ``model`` compiled for the runtime, or None when it cannot be.

    Parameters
    ----------
    model : estimator
        A fitted :class:`~tabdistill.DistilledClassifier`, or any estimator.

    Returns
    -------
    CompiledModel or None
        ``model.teacher_runtime_``; None, with an INFO log line saying why, when
        the model has no fitted teacher or a member cannot be compiled (a custom
        ``(name, estimator)`` member).
    """
    try:
        return model.teacher_runtime_
    # no fitted teacher (NotFittedError is an AttributeError), or a member it cannot compile
    except (AttributeError, TypeError, ValueError) as exc:
        logger.info("teacher not compiled: %s", exc)
    return None


class CompiledStudentMixin:
    """Prediction through the compiled student (see the module docstring)."""

    @property
    def feature_importances_(self) -> np.ndarray:
        """The student's importance of each input column, summing to 1 (see the class
        docstring)."""
        check_is_fitted(self, "student_")
        encoded = self.student_[-1].feature_importances()
        schema = self.encoder_.schema_
        sources = [schema.derived.get(f, (f, None))[0] for f in schema.features]
        names = list(self.feature_names_in_)
        out = np.zeros(len(names))
        for source, value in zip(sources, encoded):
            out[names.index(source)] += value
        total = out.sum()
        return out / total if total > 0 else out

    @property
    def runtime_(self):
        """The student compiled for fast scoring (compressed with ``compress``), built on use."""
        check_is_fitted(self, "student_")
        if "_runtime" not in self.__dict__ and getattr(self, "compression_", None):
            from tabdistill_runtime.model import CompiledModel

            chosen = self.compression_["chosen"]
            self._runtime = CompiledModel.load(self.compressed_levels_[chosen])
        if "_runtime" not in self.__dict__:
            try:
                self._runtime = compile_student(self.student_[-1], self.encoder_.schema_)
            except TypeError as exc:  # a custom student: predict through it instead
                logger.info("student not compiled, predicting through it: %s", exc)
                self._runtime = None
        return self._runtime

    @property
    def teacher_runtime_(self):
        """The whole teacher compiled for the runtime, built on first use and never pickled.

        A ``CompiledModel`` of kind ``"blend"``: it scores encoded rows, records and
        tables as ``teacher_.predict_proba_encoded`` scores encoded rows, to within
        1e-9, in the compiled kernels (every member's trees, the logistic member,
        blended with the teacher's weights); ``save`` it like ``runtime_``, and the
        scoring-only install loads it. A teacher refit since (new ``estimators_``) is
        compiled anew.

        Raises
        ------
        TypeError
            If a teacher member is an estimator the runtime cannot compile (a custom
            ``(name, estimator)`` member), naming it.
        """
        check_is_fitted(self, "teacher_")
        members = self.teacher_.estimators_
        cached = self.__dict__.get("_teacher_runtime")
        if cached is None or cached[0] is not members:
            self._teacher_runtime = (members, self.teacher_.compile(self.encoder_.schema_))
        return self._teacher_runtime[1]

    def frontier_runtime(self, budget_us: float):
        """The student of the latency-accuracy frontier at ``budget_us``, compiled.

        Parameters
        ----------
        budget_us : float
            One of the budgets the estimator was fit with (``frontier_budgets``,
            or ``latency_budget`` for the shipped student).

        Returns
        -------
        CompiledModel
            Scores, saves and exports like ``runtime_``; the shipped student's
            budget returns ``runtime_`` itself.

        Raises
        ------
        ValueError
            When the fit made no frontier, or ``budget_us`` is not one of its budgets.
        """
        check_is_fitted(self, "student_")
        points = {p.budget_us: p for p in (getattr(self, "frontier_", None) or [])}
        if budget_us not in points:
            raise ValueError(
                f"no frontier student at {budget_us!r} us; this fit has "
                + (
                    f"the budgets {sorted(b for b in points if b is not None)}"
                    if points
                    else "no frontier: fit with frontier_budgets=(2, 5, 10, 20, 50, 100)"
                )
                + "."
            )
        student = points[budget_us].student
        if student is self.student_[-1]:
            return self.runtime_
        return compile_student(student, self.encoder_.schema_)

    def teacher_runtime_at(self, budget_us: float):
        """The teacher cut to ``budget_us`` microseconds, compiled.

        Each tree member keeps its first rounds or trees, the budget's tree steps (at the
        students' cost model) shared among them in proportion to their blend weights, and
        the linear member is kept whole, blended with the teacher's weights (see
        :mod:`tabdistill.distill.teacher_cut`). Where the teacher's lead comes from
        averaging members, its cut may keep more of it than a student of the same latency;
        ``tabdistill benchmark`` puts both on its frontier.

        Parameters
        ----------
        budget_us : float
            Single-row latency budget in microseconds.

        Returns
        -------
        CompiledModel
            Of kind ``"blend"``, scoring as the cut teacher does to within 1e-9;
            ``teacher_runtime_`` itself where the whole teacher fits.

        Raises
        ------
        ValueError
            If ``budget_us`` is not positive, or one tree of each member does not fit it.
        TypeError
            If a teacher member is an estimator the runtime cannot compile.
        """
        check_is_fitted(self, "teacher_")
        cut = cut_teacher(self.teacher_, budget_us)
        if cut is None:
            raise ValueError(
                f"no cut of the teacher fits {budget_us:g} us: one tree of each of its members "
                "takes more. Pass a larger budget, or score a student (frontier_runtime)."
            )
        if cut.share == 1.0:
            return self.teacher_runtime_
        return compile_teacher(cut.teacher, self.encoder_.schema_)

    def __getstate__(self):
        state = super().__getstate__()
        for key in ("_runtime", "_teacher_runtime"):  # compiled kernels are not data
            state.pop(key, None)  # rebuilt on first use
        return state

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X, *, strict=False):
        """Class probabilities from the student, ``(n_samples, n_classes)``, in ``classes_`` order.

        ``X`` is a DataFrame or an array of raw feature values in the fitted
        column order (``feature_names_in_``); for rows already encoded by
        ``encoder_`` use :meth:`predict_proba_encoded`. Scored by the compiled
        runtime (``runtime_``) when the student compiles, which gives the same
        probabilities as the student to within 1e-12. Values the fitted columns
        cannot read (text in a numeric column, levels never seen, dates in
        another layout) are scored as missing with a warning naming the column;
        ``strict=True`` raises :class:`~tabdistill.exceptions.DataError` instead.
        """
        check_is_fitted(self, "student_")
        Z = self.encoder_.encode(X, strict=strict)
        return self.proba_from_scores(self.predict_proba_encoded(Z))

    def predict_proba_encoded(self, Z) -> np.ndarray:
        """Scores of rows already encoded by ``encoder_``: the positive-class probability
        (binary), or the ``(n, K)`` class probabilities."""
        check_is_fitted(self, "student_")
        Z = np.asarray(Z, dtype=np.float64)
        if self.runtime_ is not None:
            return self.runtime_.score_encoded(Z)
        return self.student_[-1].predict(Z)

    def predict(self, X, *, strict=False):
        """Predicted labels: the positive class where its probability is at least
        ``decision_threshold_`` (see ``threshold``), the other class elsewhere;
        with K classes, the most probable class. ``strict`` as in :meth:`predict_proba`."""
        check_is_fitted(self, "student_")
        p = self.predict_proba_encoded(self.encoder_.encode(X, strict=strict))
        return self.labels_from_scores(p, self.decision_threshold_)
