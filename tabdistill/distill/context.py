"""What every stage of one distillation fit shares: rows, seeds, factories and the time budget.

:func:`prepare` encodes the data once, codes the target, holds out the
validation rows and draws the seeds; the :class:`FitContext` it returns travels
through the stages of :meth:`DistilledClassifier.fit
<tabdistill.distill.distiller.DistilledClassifier.fit>` (see
:mod:`tabdistill.distill` for their order). The two factories make teachers
and students the way the estimator's parameters ask, and :class:`FitBudget`
shares a time limit between the stages.
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.base import clone

from .. import metrics
from .._budget import TimeBudget
from .._progress import Stages
from .._validation import check_sample_weight, take
from ..data.encoder import TabularEncoder
from ..data.target import Target, encode_target
from ..exceptions import ConfigError
from .labels import TrainingSet
from .selection import Validation
from .sizes import TREE_STEP_NS
from .splits import validation_split
from .students import AUTO_STUDENT, STUDENTS, Student, student_kind
from .teacher import TeacherEnsemble

logger = logging.getLogger(__name__)

#: How the stages of a fit share a time limit (each gets its weight's share of what is left);
#: the frontier's counts only in a fit that has one.
STAGE_WEIGHTS = {
    "teacher": 50,
    "augment": 10,
    "baseline": 8,
    "student": 24,
    "refit": 8,
    "frontier": 12,
}

#: Share of the time limit a fit that must happen (the baseline, one distilled student) may
#: take when its stage has no time left.
REQUIRED_FIT_SHARE = 0.05


@dataclass
class FitBudget:
    """A fit's time limit (None: unlimited), shared by its stages by :data:`STAGE_WEIGHTS`
    (``frontier``: whether the fit has a latency-accuracy frontier stage).

    ``clock`` is the whole fit's :class:`~tabdistill._budget.TimeBudget`; what a
    stage cuts is recorded in ``clock.cuts``.
    """

    limit: float | None
    frontier: bool = False
    clock: TimeBudget = field(init=False)

    def __post_init__(self):
        self.clock = TimeBudget(self.limit)

    @property
    def limited(self) -> bool:
        return self.clock.limited

    @property
    def cuts(self) -> list:
        return self.clock.cuts

    def stage(self, name: str) -> TimeBudget:
        """Stage ``name``'s budget: its weight's share of the time left, among it and the
        later stages."""
        names = [n for n in STAGE_WEIGHTS if n == name or n != "frontier" or self.frontier]
        later = sum(STAGE_WEIGHTS[n] for n in names[names.index(name) + 1 :])
        return self.clock.stage(STAGE_WEIGHTS[name], later)

    def fits(self, seconds: float) -> bool:
        return self.clock.fits(seconds)

    def cut(self, what: str) -> None:
        self.clock.cut(what)

    def fit_deadline(self, stage: TimeBudget, required: bool):
        """When a student fit must stop adding trees: its stage's end; a required fit gets
        at least :data:`REQUIRED_FIT_SHARE` of the limit. None without a limit."""
        if not stage.limited:
            return None
        end = stage.deadline
        if required:
            end = max(end, time.perf_counter() + REQUIRED_FIT_SHARE * self.limit)
        return end


@dataclass(frozen=True)
class TeacherFactory:
    """Makes the teacher the estimator's ``teacher`` parameter describes."""

    spec: object  # None, a dict of TeacherEnsemble parameters, or a TeacherEnsemble
    n_jobs: int | None = None

    def make(self, seed: int, budget: TimeBudget | None = None) -> TeacherEnsemble:
        """An unfitted teacher seeded with ``seed`` (unless its spec sets one), limited to
        ``budget``'s remaining time when that is limited."""
        if self.spec is None:
            teacher = TeacherEnsemble()
        elif isinstance(self.spec, dict):
            teacher = TeacherEnsemble(**self.spec)
        elif isinstance(self.spec, TeacherEnsemble):
            teacher = clone(self.spec)
        else:
            raise TypeError(
                f"teacher must be a TeacherEnsemble, a dict of its parameters or None, "
                f"got {type(self.spec).__name__}."
            )
        if teacher.random_state is None:
            teacher.set_params(random_state=seed)
        if teacher.n_jobs is None:
            teacher.set_params(n_jobs=self.n_jobs)
        if budget is not None and budget.limited:
            share = budget.remaining()
            limit = share if teacher.time_limit is None else min(teacher.time_limit, share)
            teacher.set_params(time_limit=max(limit, 1e-3))
        return teacher


class NestedTeacherParams:
    """``teacher__<name>`` parameters for an estimator whose ``teacher`` may be None or a
    dict: setting one turns the teacher into (or updates) a dict of its parameters, so
    ``set_params(teacher__cv=3)`` and grid searches over the teacher work whatever form it
    was given in; a :class:`TeacherEnsemble` teacher is updated as scikit-learn does."""

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        if deep and (self.teacher is None or isinstance(self.teacher, dict)):
            view = TeacherFactory(self.teacher).make(0).get_params(deep=False)
            given = self.teacher or {}
            params.update({f"teacher__{k}": given.get(k, v) for k, v in view.items()})
        return params

    def set_params(self, **params):
        prefix = "teacher__"
        nested = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
        if nested and not isinstance(params.get("teacher", self.teacher), TeacherEnsemble):
            unknown = set(nested) - set(TeacherEnsemble().get_params(deep=False))
            if unknown:
                raise ValueError(
                    f"unknown teacher parameter(s) {sorted(unknown)}; valid ones are "
                    f"{sorted(TeacherEnsemble().get_params(deep=False))}."
                )
            teacher = params.pop("teacher", self.teacher)
            params = {k: v for k, v in params.items() if not k.startswith(prefix)}
            params["teacher"] = {**(teacher or {}), **nested}
        return super().set_params(**params)


def make_student(
    student,
    params=None,
    *,
    categorical_mask=None,
    feature_names=None,
    random_state=None,
    n_jobs=None,
):
    """An unfitted student from a name in :data:`STUDENTS` (or ``"auto"``, a LightGBM one)
    or a :class:`Student` instance."""
    if isinstance(student, Student):
        est = clone(student)
    elif student in STUDENTS or student == AUTO_STUDENT:
        est = STUDENTS[student_kind(student)]()
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


#: The teacher's member that is a linear model, and the share of the teacher's weight above
#: which ``student="auto"`` distils a linear student (:meth:`StudentFactory.linear_for`).
LINEAR_MEMBER, LINEAR_SHARE = "logistic", 0.5


@dataclass(frozen=True)
class StudentFactory:
    """Makes and fits students of one spec for one encoded table.

    ``spec`` is the estimator's ``student`` (a name or a
    :class:`~tabdistill.distill.students.Student`); a student of a size gets
    ``early_stopping_rounds`` and a cap on tree steps from ``latency_budget``
    when it takes them. ``stop_past_cap``: nothing reads a run's rounds past that
    cap (no latency-accuracy frontier), so an early-stopped run may end soon after
    it (:class:`~tabdistill.distill.stopping.StepCap`) with the same student.
    """

    spec: object
    categorical_mask: np.ndarray
    feature_names: list
    n_classes: int
    n_jobs: int | None = None
    early_stopping_rounds: int | None = None
    latency_budget: float | None = None
    stop_past_cap: bool = False

    def new(self, seed, params):
        """An unfitted student of ``params`` seeded with ``seed``."""
        return make_student(
            self.spec,
            params,
            categorical_mask=self.categorical_mask,
            feature_names=self.feature_names,
            random_state=seed,
            n_jobs=self.n_jobs,
        )

    def accepted(self) -> dict:
        """The parameters the student spec takes, with their defaults."""
        return self.new(0, None).get_params()

    def params(self, size: dict, loss=None) -> dict:
        """A size plus the loss, early stopping and the latency cap, for students that
        take them."""
        accepted = self.accepted()
        params = dict(size)
        if loss is not None and "loss" in accepted:
            params["loss"] = loss
        if "early_stopping_rounds" in accepted and self.early_stopping_rounds:
            params.setdefault("early_stopping_rounds", self.early_stopping_rounds)
        if "max_steps" in accepted and self.latency_budget is not None:
            params.setdefault("max_steps", self.latency_budget * 1000 / TREE_STEP_NS)
        return params

    def inherited_from(self, teacher) -> dict:
        """What a distilled student takes from ``teacher`` besides its labels, as parameters
        of the student (where it takes them): the columns the teacher's ensemble learned to
        do without (:meth:`~tabdistill.distill.teacher.TeacherEnsemble.ignored_features`),
        which it never splits on. The baseline, trained directly on the labels, keeps them."""
        ignored = getattr(teacher, "ignored_features", list)()
        if not ignored or "ignored_features" not in self.accepted():
            return {}
        names = [self.feature_names[i] for i in ignored]
        logger.info("distilled students do without %s, as the teacher's ensemble learned to", names)
        return {"ignored_features": ignored}

    def linear_for(self, teacher) -> bool:
        """Whether the search tries a linear student first (it is the student where it holds
        the teacher, see :mod:`~tabdistill.distill.search`): the spec is ``"auto"`` and
        ensemble selection gave ``teacher``'s linear member more than :data:`LINEAR_SHARE`
        of the weight, so the teacher is mostly a linear model, which a linear student may
        hold whole in a fraction of a microsecond. The baseline stays of this factory's
        kind."""
        weights = getattr(teacher, "weights_", None) or {}
        if self.spec != AUTO_STUDENT or weights.get(LINEAR_MEMBER, 0.0) <= LINEAR_SHARE:
            return False
        logger.info("the teacher is mostly its linear member: a linear student is tried first")
        return True

    def of(self, knobs) -> StudentFactory:
        """The factory of the students ``knobs`` make: this one, or one of the kind they
        name (:attr:`~tabdistill.distill.selection.Knobs.student`)."""
        return self if knobs.student is None else replace(self, spec=knobs.student)

    def losses(self, losses) -> tuple:
        """The candidate losses: ``losses`` for students that have one, else ``(None,)``."""
        return tuple(losses) if "loss" in self.accepted() else (None,)

    def fit(self, seed, params, data: TrainingSet, eval_set=None, deadline=None, **stops):
        """A new student fit on ``data``, stopping early on ``eval_set`` when it can: at
        ``deadline``, soon after ``stop_steps`` tree steps (by default its step cap with
        ``stop_past_cap``), and where a ``plateau`` rule says (see
        :meth:`LightGBMStudent.fit <tabdistill.distill.students.LightGBMStudent.fit>`)."""
        model = self.new(seed, params)
        kwargs = {}
        if eval_set is not None and _accepts(model.fit, "eval_set"):
            kwargs["eval_set"] = eval_set
        if stops.get("stop_steps") is None and self.stop_past_cap:
            stops["stop_steps"] = (params or {}).get("max_steps")
        for name, value in (("deadline", deadline), *stops.items()):
            if value is not None and _accepts(model.fit, name):
                kwargs[name] = value
        return model.fit(data.Z, data.target, data.weight, **kwargs)

    def refit(self, candidate, data: TrainingSet):
        """``candidate``'s student fit again on ``data`` with its seed and the rounds early
        stopping kept (see :func:`final_params`)."""
        factory = self.of(candidate.knobs)
        return factory.fit(seed_of(candidate), final_params(candidate), data)

    def hard_targets(self, y) -> np.ndarray:
        """Hard labels as student targets: 0/1 (binary) or one-hot rows (K classes)."""
        return y.astype(float) if self.n_classes == 2 else metrics.one_hot(y, self.n_classes)

    def hard_set(self, Z, y, weight=None) -> TrainingSet:
        """Rows with their hard labels as a training set (unit weights by default)."""
        w = np.ones(len(y)) if weight is None else weight
        return TrainingSet(Z, self.hard_targets(y), w, len(y))


def _accepts(fn, name) -> bool:
    return name in inspect.signature(fn).parameters


def same_params(a: dict, b: dict, ignored=()) -> bool:
    """Whether parameter dicts ``a`` and ``b`` (of ``get_params``) have the same names and,
    but for those in ``ignored``, the same values (arrays compared element by element)."""
    if a.keys() != b.keys():
        return False
    for name in a.keys() - set(ignored):
        x, y = a[name], b[name]
        arrays = isinstance(x, np.ndarray) or isinstance(y, np.ndarray)
        if not (np.array_equal(x, y) if arrays else x == y):
            return False
    return True


def seed_of(candidate):
    """The seed a candidate's student was fit with."""
    return candidate.model.get_params().get("random_state")


def final_params(candidate) -> dict:
    """A candidate's parameters with the rounds early stopping kept, for a refit without it."""
    params = dict(candidate.knobs.student_params)
    rounds = getattr(candidate.model, "n_estimators_", None)
    if rounds is not None:
        params.update(n_estimators=int(rounds), early_stopping_rounds=None)
    return params


@dataclass(frozen=True)
class Seeds:
    """The seeds of one fit's random parts, drawn from ``random_state``."""

    teacher: int
    augment: int
    student: int

    @classmethod
    def draw(cls, random_state) -> Seeds:
        values = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max, size=3)
        return cls(*(int(v) for v in values))


@dataclass
class FitContext:
    """One fit's encoded rows, split, seeds, factories, time budget and stage timer.

    Attributes
    ----------
    encoder : TabularEncoder
    target : Target
    Z, y, weight, groups : arrays of every row (``weight`` and ``groups`` may be None)
    train, validation_rows : ndarray of int
        Positions of the training and the validation rows.
    seeds : Seeds
    teachers : TeacherFactory
    students : StudentFactory
    budget : FitBudget
    stages : Stages
    validation : Validation
    """

    encoder: TabularEncoder
    target: Target
    Z: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None
    groups: np.ndarray | None
    train: np.ndarray
    validation_rows: np.ndarray
    seeds: Seeds
    teachers: TeacherFactory
    students: StudentFactory
    budget: FitBudget
    stages: Stages
    validation: Validation

    @property
    def n_classes(self) -> int:
        return self.target.n_classes

    @property
    def Z_train(self) -> np.ndarray:
        return self.Z[self.train]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train]

    @property
    def weight_train(self):
        return take(self.weight, self.train)

    @property
    def groups_train(self):
        return take(self.groups, self.train)

    @property
    def labelled(self) -> np.ndarray:
        """Training then validation rows: every row with a label a final model may use."""
        return np.concatenate([self.train, self.validation_rows])


def check_decision(threshold, target: Target, setting: str = "threshold") -> None:
    """Refuse a decision threshold for a target of more than two classes.

    Raises
    ------
    ConfigError
        Naming ``setting``, when ``threshold`` is not the default 0.5 and
        ``target`` has K > 2 classes (whose decision is the most probable class).
    """
    if target.n_classes > 2 and threshold != 0.5:
        raise ConfigError(
            f"{setting} {threshold!r} sets the decision of a binary target, but the target has "
            f"{target.n_classes} classes, whose decision is the most probable class: leave the "
            "threshold unset."
        )


def prepare(estimator, X, y, sample_weight=None, groups=None, budget=None, stages=None):
    """Encode ``X``, code ``y``, hold out the validation rows and draw the seeds.

    ``estimator`` is the :class:`~tabdistill.distill.distiller.DistilledClassifier`
    whose parameters say how. ``budget`` (a :class:`FitBudget`) starts before this stage
    when the caller's fit does (default: the estimator's ``time_limit`` from now);
    ``stages`` times and logs the stages (default: a new one). Returns the
    :class:`FitContext` every later stage takes.
    """
    if budget is None:
        budget = FitBudget(estimator.time_limit, bool(estimator.frontier_budgets))
    stages = Stages(logging.getLogger("tabdistill.distill")) if stages is None else stages
    with stages.stage("prepare") as stage:
        encoder = TabularEncoder(categorical_features=estimator.categorical_features)
        Z = encoder.fit_encode(X)
        target = encode_target(y, estimator.positive_label)
        check_decision(estimator.threshold, target)
        w = None if sample_weight is None else check_sample_weight(sample_weight, len(target.y))
        tr, va = validation_split(
            estimator.validation_split,
            estimator.validation_fraction,
            target.y,
            groups,
            estimator.random_state,
            classes=target.classes,
        )
        seeds = Seeds.draw(estimator.random_state)
        students = StudentFactory(
            estimator.student,
            encoder.categorical_mask_,
            list(encoder.features_),
            target.n_classes,
            estimator.n_jobs,
            estimator.early_stopping_rounds,
            estimator.latency_budget,
            stop_past_cap=not estimator.frontier_budgets,
        )
        stage.detail = f"{len(tr):,} + {len(va):,} validation rows, {Z.shape[1]} columns"
    return FitContext(
        encoder=encoder,
        target=target,
        Z=Z,
        y=target.y,
        weight=w,
        groups=groups,
        train=tr,
        validation_rows=va,
        seeds=seeds,
        teachers=TeacherFactory(estimator.teacher, estimator.n_jobs),
        students=students,
        budget=budget,
        stages=stages,
        validation=Validation(Z[va], target.y[va], take(w, va), estimator.selection_metric),
    )
