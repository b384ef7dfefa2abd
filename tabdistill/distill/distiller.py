"""The distiller: teacher -> soft labels -> synthetic rows -> student, with a safety net.

:class:`DistilledClassifier` runs the stages of :mod:`tabdistill.distill` in
order: it holds out a stratified validation split (:mod:`.context`), fits the
teacher and labels original rows out of fold and synthetic rows with the fitted
teacher (:mod:`.labelling`, :mod:`.soft_targets`), fits the baseline -- the same
student spec on hard labels -- (:mod:`.baseline`) and one distilled student per
combination of the few knobs that matter (:mod:`.search`), and never ships a
student that the gate (:mod:`.gate`) does not find better than the baseline: it
falls back to the baseline, warns, and records why. The chosen models are then
refit on every labelled row (:mod:`.refit`), optionally compressed
(:mod:`.compression`), and the fit is reported (:mod:`.fit_report`).

Targets of K > 2 classes go through the same steps with class distributions
in place of positive-class probabilities (see :mod:`tabdistill.distill.classes`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from numbers import Integral, Real

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from .. import metrics
from .._params import Interval, Options, validate_params
from .._progress import Stages
from .._validation import check_lengths
from ..data.encoder import TabularInputMixin
from .augment import AUGMENTERS, Augmenter
from .baseline import fit_baseline
from .classes import ClassesMixin
from .compiled import CompiledStudentMixin
from .compression import compress_student
from .context import FitContext, NestedTeacherParams, TeacherFactory, make_student, prepare
from .fit_report import FitSummary, fit_report
from .frontier import FrontierPoint, fit_frontier
from .gate import GateDecision, GateRule, check_gate
from .labelling import fit_teacher, make_synthetic
from .refit import FinalModels, RefitRule, refit_final
from .search import SearchSpace, check_knobs, search_candidates, search_rows
from .selection import Candidate
from .sizes import student_sizes
from .soft_targets import TargetRecipe, soft_targets
from .students import AUTO_STUDENT, STUDENTS, Student
from .teacher import TeacherEnsemble
from .thresholds import decision_thresholds

logger = logging.getLogger(__name__)


class DistillationWarning(UserWarning):
    """Distillation did not beat the baseline; the baseline is used as the student."""


class DistilledClassifier(
    NestedTeacherParams,
    CompiledStudentMixin,
    ClassesMixin,
    TabularInputMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """A compact student distilled from a heterogeneous teacher ensemble.

    ``predict_proba`` is the student's. The teacher and the baseline stay
    available as ``teacher_`` and ``baseline_`` for comparison. A distilled student also
    does without the columns the teacher's ensemble learned to do without
    (:meth:`TeacherEnsemble.ignored_features`); the baseline keeps them all.

    The target may have two classes or more. With K > 2 classes the teacher's
    soft labels are class distributions and every student is fit on them, not
    on their argmax (see :mod:`tabdistill.distill.students`); ``predict``
    returns the most probable class.

    Parameters
    ----------
    teacher : TeacherEnsemble or dict, default=None
        The teacher (cloned before fitting) or its parameters. None means
        ``TeacherEnsemble()`` with its defaults.
    student : {"auto", "lightgbm", "tree", "linear"} or Student, default="auto"
        The student spec; see :mod:`tabdistill.distill.students`. ``"auto"``:
        LightGBM, but a linear student where the teacher is mostly its logistic
        member and a linear student holds its validation score (the baseline
        stays LightGBM; :mod:`tabdistill.distill.search`).
    student_params : dict or list of dict, default=None
        Parameters of the student (its size: ``n_estimators``, ``num_leaves``,
        ``max_depth``, ...). A list gives candidate sizes to choose from on
        validation, for the student and the baseline alike. None uses
        :func:`tabdistill.distill.sizes.student_sizes`: for LightGBM, up to 500
        trees of 15 or 31 leaves or full trees of depth 3 (8 leaves, the fastest);
        above 100,000 training rows also depth-8 trees of up to 255 leaves (the
        most leaves a step of the latency budget).
    augmenter : {"munge", "marginal", "gaussian"} or Augmenter, default="munge"
    augment_factors : sequence of float, default=(0, 1, 2)
        Candidate numbers of synthetic rows, as multiples of the training rows
        (counted up to 100,000: large data has real rows enough, and synthetic
        ones there would mostly cost labelling and training time).
    alphas : sequence of float, default=(0.0, 0.5, 1.0)
        Candidate weights of the hard label in original rows' targets. With
        ``alpha=1`` original rows keep their hard labels and only synthetic
        rows carry the teacher's knowledge; ``alpha=1`` with no synthetic rows
        is the baseline itself, so the selection can always fall back to it.
    temperature : float, default=1.0
        Temperature applied to the teacher's probabilities (to its log-probabilities
        through a softmax, for K classes).
    synthetic_weight : float, default=1.0
        Weight of a synthetic row relative to an original one.
    positive_share : float, "auto" or None, default="auto"
        Rare-class emphasis of the synthetic rows. Binary: the share of
        synthetic rows seeded from positive rows; "auto" uses 0.2 when
        positives are under 20% of rows, else no emphasis. K classes: the
        least share of synthetic rows seeded from each class (at most 1/K;
        rarer classes are raised to it, the others shrink in proportion);
        "auto" uses 0.4/K. None: seeds follow the rows, no emphasis.
    rare_weight : float, default=1.0
        Extra weight on positive targets in the student's loss (K classes: on
        the probability of classes other than the most frequent one).
    losses : sequence of {"cross_entropy", "logit"}, default=("cross_entropy", "logit")
        Candidate losses of students that have one (LightGBM): cross-entropy on
        probabilities, or least squares on the teacher's log-odds (logit
        matching; tried with ``alpha=0`` only, where targets are all soft).
    early_stopping_rounds : int or None, default=30
        Students that support it (LightGBM) add trees until the loss on the
        validation rows -- against the teacher's probabilities there for a
        distilled student, the labels for the baseline -- has not improved for
        this many rounds; their ``n_estimators`` is then a cap.
    latency_budget : float or None, default=10.0
        Microseconds the compiled student may take to score one row (p99):
        tree students keep only the boosting rounds whose trees' depths sum to
        at most ``latency_budget / TREE_STEP_NS`` steps (the runtime walks every
        tree to its full depth; ``TREE_STEP_NS`` in
        :mod:`tabdistill.distill.sizes`; ``docs/results.md#latency-budget``).
        The baseline gets the same budget. None: no budget.
    frontier_budgets : sequence of float or None, default=None
        Also fit a student at each of these latency budgets (microseconds)
        (:mod:`tabdistill.distill.frontier`): what each extra microsecond buys;
        from twice ``latency_budget``, a bag of up to five students where it wins
        on validation. ``frontier_`` holds them, the shipped student among them;
        ``tabdistill benchmark`` asks for (2, 5, 10, 20, 50, 100). None: none.
    size_tolerance : float, default=0.001
        Among student sizes, the cheapest (fewest tree steps per row) whose
        validation score is within this of the best is kept: a larger model
        must earn its latency.
    calibrate : bool, default=False
        Recalibrate the teacher's probabilities by Platt scaling fit on its
        out-of-fold probabilities before they become targets. Off by default:
        on the development suite it cost students more than it gained
        (``docs/trials.md#the-gates-settings``).
    baseline_confidence : float, default=0.5
        The distilled student replaces the baseline only if it scores better
        on validation (a tie keeps the baseline) and on at least this share of
        paired bootstrap resamples of the validation rows. The default asks
        for a majority: a win by a hair can lose on most resamples (other
        shares: ``docs/trials.md#the-gates-settings``). The win rate is always
        reported (``report_["student_win_rate"]``).
    fallback_to_baseline : bool, default=True
        Ship the baseline when the gate (the checks of ``baseline_confidence``
        and ``selection_folds``) says the distilled student is not better.
        False: ship the best distilled student whatever the gate says; its
        verdict and everything it saw are still reported
        (``report_["gate"]``), and it runs every check, for studies of the
        gate itself.
    selection_folds : int, default=5
        A student that beats the baseline on validation is kept only if the
        teacher it learnt from beats the baseline on every labelled row: the
        teacher's out-of-fold probabilities on the training rows against the
        baseline refit (same size and rounds) on all but one of this many
        folds of them, each pooled with its validation predictions. A small
        validation split (few positive rows) can crown a student by luck; a
        teacher no better than the baseline has nothing to teach. 0 or 1:
        validation only. See ``report_["cross_validated"]``.
    refit : bool, default=True
        Once the knobs are chosen, refit the student and the baseline on the
        training **and** validation rows (with the rounds early stopping chose).
        The validation rows' soft labels are the teacher's predictions for rows
        it was not fit on, so they are as honest as the out-of-fold ones.
    refit_teacher : "auto" or bool, default="auto"
        With ``refit``, a distilled student is refit on the soft labels of a teacher refit
        (cross-fitted again) on the training **and** validation rows: the refit baseline
        learns from the validation labels, and a student whose teacher never saw them would
        not. It costs a second teacher fit. "auto": when there are at most
        ``REFIT_TEACHER_ROWS`` (100,000) labelled rows, where the extra labels matter most
        and the second fit is cheap (``docs/trials.md#the-final-refit``). When the baseline
        is kept as the student, no student learns from the teacher, so only its members are
        refit on every labelled row (weights and out-of-fold labels stay those of cross-
        fitting): the teacher reported and shipped has seen every label either way. Not with
        a teacher ``cv`` given as fixed index pairs, which cannot extend to the validation
        rows. ``teacher_`` is then the refit teacher and ``report_["refit_teacher"]`` is
        True.
    selection_metric : {"roc_auc", "average_precision", "log_loss", "brier"}, default="roc_auc"
        What knob selection and the baseline fallback compare on validation
        (K classes: macro one-vs-rest ROC-AUC or PR-AUC, multiclass log loss
        or Brier score).
    validation_fraction : float, default=0.2
        Share of rows held out (stratified; group-aware when ``fit`` gets
        ``groups``) to select knobs, check the baseline and set the threshold.
    validation_split : cross-validation splitter or iterable, default=None
        Hold out the rows of the **last** split of this splitter instead of a
        random share (``validation_fraction`` is then unused):
        ``TimeSeriesSplit(5)`` validates on the most recent sixth of the rows,
        which is what time-ordered data such as fraud needs; a group splitter
        uses ``fit``'s ``groups``.
    threshold : float or dict, default=0.5
        How ``predict`` turns the student's probability into a decision
        (``decision_threshold_``): a probability in (0, 1), or one target
        met on the validation rows: ``{"fpr": 0.01}`` (the lowest threshold
        whose false-positive rate is at most 1%), ``{"alert_rate": 0.005}``
        (at most 0.5% of rows flagged), or ``{"cost_ratio": 20}`` (the
        threshold that minimises ``20 * missed positives + false alarms``).
        With ``refit``, targets are met by the student's validation
        predictions before its refit (the last ones on rows it had not seen).
        Binary targets only: with K classes ``predict`` returns the most
        probable class, and a threshold other than 0.5 is an error.
    categorical_features : list of str, default=None
        Columns to treat as categorical whatever their dtype.
    positive_label : object, default=None
        Label of the positive class of a binary target; see
        :func:`tabdistill.data.target.encode_target`.
    compress : bool, default=False
        Also compress the compiled student (:func:`tabdistill.compress.compress`):
        quantized leaves, and trees dropped and reweighted under an L1 penalty
        refit to the teacher's probabilities; the smallest level within
        ``compress_tolerance`` validation ROC-AUC of the uncompressed student
        becomes ``runtime_``.
    compress_tolerance : float, default=0.001
        Largest validation ROC-AUC loss the compression may cost.
    time_limit : float or None, default=None
        Seconds ``fit`` may take. The stages share them by weight (teacher 50, augmentation and
        labelling 10, baseline 8, student candidates 24, refit 8, the frontier 12 when there is
        one; time a stage leaves unused goes to the later ones) and degrade gracefully rather
        than overrun: the teacher drops its refit, then its weakest members, then folds (see
        ``TeacherEnsemble``'s ``time_limit``); fewer synthetic rows are made; fewer student
        sizes and candidates are tried (the baseline and one distilled candidate always are);
        the final refit is skipped; the frontier fits fewer sizes and bag members and keeps
        points fit on the compared rows unrefit. ``budget_cuts_`` and ``report_["time_budget"]``
        say what was cut.
    random_state : int or None, default=None
        Seeds the split, the teacher, the augmenter and the student.
    n_jobs : int, default=None
        Threads for the teacher's members and the student.

    Attributes
    ----------
    encoder_ : TabularEncoder
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted, with their own dtype (``predict_proba`` columns
        follow this order).
    n_classes_ : int
    pos_label_ : object or None
        The positive class of a binary target, whose probability the models
        learn (see ``positive_label``). Pass it as ``pos_label`` to
        scikit-learn metrics such as ``average_precision_score``. None for
        K > 2 classes.
    decision_threshold_ : float or None
        ``predict`` flags the positive class where its probability is at least
        this (binary); None for K classes, where ``predict`` takes the most
        probable class.
    teacher_decision_threshold_ : float or None
        The teacher's, by the same rule on its own validation probabilities (``--scorer teacher``).
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
    soft_labels_ : ndarray of shape (n_train,) or (n_train, n_classes)
        Targets the chosen student was fit on for the original training rows
        (``X.iloc[train_index_]``).
    fallback_ : str or None
        Why the baseline replaced the distilled student, if it did.
    frontier_ : list of FrontierPoint or None
        With ``frontier_budgets``: the student at each budget, cheapest first
        (``student``, ``source`` distilled or baseline, ``tree_steps``,
        ``predicted_p99_us``).
    feature_importances_ : ndarray of shape (n_features_in_,)
        The student's importance of each input column (encoded columns derived
        from one input column, such as date parts, summed), summing to 1; gain
        for tree students, absolute scaled coefficients for the linear one.
    budget_cuts_ : list of str
        What ``time_limit`` cut, in words (empty when nothing was).
    compression_ : dict or None
        With ``compress=True``: every level tried (size, trees, leaves, error
        bound, validation ROC-AUC) and the one chosen.
    compressed_levels_ : dict or None
        With ``compress=True``: level name -> runtime file bytes
        (``CompiledModel.load(model.compressed_levels_[name])``).
    report_ : dict
        Timings per stage, validation metrics of teacher / student / baseline,
        the candidates tried, the chosen knobs, the gate's verdict and row
        counts (see :mod:`tabdistill.distill.fit_report`).
    """

    _parameter_constraints: dict = {
        "teacher": [None, dict, TeacherEnsemble],
        "student": [Options({*STUDENTS, AUTO_STUDENT}), Student],
        "student_params": [None, dict, list, tuple],
        "augmenter": [Options(AUGMENTERS), Augmenter],
        "augment_factors": ["array-like"],
        "alphas": ["array-like"],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "synthetic_weight": [Interval(Real, 0, None, closed="left")],
        "positive_share": [Options({"auto"}), Interval(Real, 0, 1, closed="both"), None],
        "rare_weight": [Interval(Real, 0, None, closed="neither")],
        "losses": [list, tuple],
        "early_stopping_rounds": [None, Interval(Integral, 1, None, closed="left")],
        "latency_budget": [None, Interval(Real, 0, None, closed="neither")],
        "frontier_budgets": [None, "array-like"],
        "size_tolerance": [Interval(Real, 0, None, closed="left")],
        "calibrate": ["boolean"],
        "baseline_confidence": [Interval(Real, 0, 1, closed="both")],
        "fallback_to_baseline": ["boolean"],
        "selection_folds": [Interval(Integral, 0, None, closed="left")],
        "refit": ["boolean"],
        "refit_teacher": [Options({"auto"}), "boolean"],
        "selection_metric": [Options({"roc_auc", "average_precision", "log_loss", "brier"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "validation_split": [None, "cv_object"],
        "threshold": [Interval(Real, 0, 1, closed="neither"), dict],
        "categorical_features": [None, list, tuple],
        "positive_label": "no_validation",
        "compress": ["boolean"],
        "compress_tolerance": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "time_limit": [None, Interval(Real, 0, None, closed="neither")],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        teacher=None,
        student="auto",
        student_params=None,
        augmenter="munge",
        augment_factors=(0, 1, 2),
        alphas=(0.0, 0.5, 1.0),
        temperature=1.0,
        synthetic_weight=1.0,
        positive_share="auto",
        rare_weight=1.0,
        losses=("cross_entropy", "logit"),
        early_stopping_rounds=30,
        latency_budget=10.0,
        frontier_budgets=None,
        size_tolerance=0.001,
        calibrate=False,
        baseline_confidence=0.5,
        fallback_to_baseline=True,
        selection_folds=5,
        refit=True,
        refit_teacher="auto",
        selection_metric="roc_auc",
        validation_fraction=0.2,
        validation_split=None,
        threshold=0.5,
        categorical_features=None,
        positive_label=None,
        compress=False,
        compress_tolerance=0.001,
        time_limit=None,
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
        self.losses = losses
        self.early_stopping_rounds = early_stopping_rounds
        self.latency_budget = latency_budget
        self.frontier_budgets = frontier_budgets
        self.size_tolerance = size_tolerance
        self.calibrate = calibrate
        self.baseline_confidence = baseline_confidence
        self.fallback_to_baseline = fallback_to_baseline
        self.selection_folds = selection_folds
        self.refit = refit
        self.refit_teacher = refit_teacher
        self.selection_metric = selection_metric
        self.validation_fraction = validation_fraction
        self.validation_split = validation_split
        self.threshold = threshold
        self.categorical_features = categorical_features
        self.positive_label = positive_label
        self.compress = compress
        self.compress_tolerance = compress_tolerance
        self.time_limit = time_limit
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit teacher, synthetic rows, candidate students and the baseline; keep the best.

        Every parameter is validated first (:meth:`check_params`): a bad value
        fails before anything is trained. The stages, in order, are those of
        :mod:`tabdistill.distill`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A DataFrame, or an array of raw feature values.
        y : array-like of shape (n_samples,)
            Target with any two or more labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Reaches the teacher's members, the students and the baseline;
            synthetic rows inherit the weight of the row they came from.
        groups : array-like of shape (n_samples,), default=None
            Group labels (a customer, a card): the validation split and the
            teacher's folds then never put rows of one group on both sides.

        Returns
        -------
        self
        """
        self.check_params()
        check_lengths(X, y, sample_weight, groups)
        ctx = prepare(self, X, y, sample_weight, groups, stages=Stages(logger))
        self._set_inputs(ctx)
        taught = fit_teacher(ctx)
        synthetic = make_synthetic(
            ctx, taught, self.augmenter, self.augment_factors, self.positive_share
        )
        space = self._search_space(ctx, taught.teacher)
        rows = search_rows(len(ctx.train), ctx.seeds.student)
        baselines = fit_baseline(ctx, space.sizes, self.size_tolerance, rows)
        baseline = baselines.chosen
        data = soft_targets(
            taught,
            synthetic,
            ctx.Z_train,
            ctx.y_train,
            ctx.weight_train,
            len(ctx.train),
            self.calibrate,
        )
        recipe = TargetRecipe(self.temperature, self.synthetic_weight, self.rare_weight)
        search = search_candidates(ctx, space, data, recipe, rows, baselines)
        rule = GateRule(self.baseline_confidence, self.selection_folds, self.fallback_to_baseline)
        decision = check_gate(ctx, search.chosen, baseline, taught.teacher, data, rule, rows)
        shipped = self._shipped(search.chosen, baseline, decision)
        final = refit_final(
            ctx,
            shipped,
            baseline,
            taught.teacher,
            data,
            keeps_baseline=bool(self.fallback_),
            rule=RefitRule(self.refit, self.refit_teacher, self.calibrate),
            recipe=recipe,
        )
        self._set_models(ctx, shipped, final, taught.validation_proba)
        self.frontier_ = self._frontier(
            ctx, space, shipped, data, final, recipe, rule, decision, (search, baselines)
        )
        compression = self._compress(ctx, shipped, final, taught.validation_proba, recipe)
        self.budget_cuts_ = self.teacher_.budget_cuts_ + list(ctx.budget.cuts)
        self.report_ = fit_report(
            ctx,
            FitSummary(
                taught.validation_proba,
                search,
                shipped,
                baseline,
                decision,
                self.fallback_to_baseline,
                final,
                len(synthetic),
                self.threshold,
                self.decision_threshold_,
                compression,
                self.latency_budget,
                self.time_limit,
                self.budget_cuts_,
            ),
        )
        self.report_["frontier"] = (
            None if self.frontier_ is None else [p.summary() for p in self.frontier_]
        )
        logger.info("distillation done: %s", self.report_["validation"]["student"])
        return self

    # ------------------------------------------------------------------ fit stages
    def _set_inputs(self, ctx: FitContext) -> None:
        """What fitting learnt of the input: the encoder, classes and split."""
        self.encoder_ = ctx.encoder
        self.classes_, self.pos_label_ = ctx.target.classes, ctx.target.pos_label
        self.feature_names_in_ = ctx.encoder.feature_names_in_
        self.n_features_in_ = ctx.encoder.n_features_in_
        self.train_index_, self.validation_index_ = ctx.train, ctx.validation_rows

    def _search_space(self, ctx: FitContext, teacher) -> SearchSpace:
        return SearchSpace(
            student_sizes(self.student, self.student_params, len(ctx.train)),
            self.augment_factors,
            self.alphas,
            ctx.students.losses(self.losses),
            self.size_tolerance,
            ctx.students.inherited_from(teacher),
            ctx.students.linear_for(teacher),
        )

    def _shipped(self, chosen: Candidate, baseline: Candidate, decision: GateDecision):
        """The candidate shipped: ``chosen``, or the baseline under ``chosen``'s data knobs
        when the gate rules it out (and ``fallback_to_baseline`` lets it)."""
        self.fallback_ = decision.reason if self.fallback_to_baseline else None
        if not self.fallback_:
            return chosen
        warnings.warn(self.fallback_, DistillationWarning, stacklevel=3)
        return Candidate(
            replace(chosen.knobs, student_params=baseline.knobs.student_params, student=None),
            baseline.model,
            baseline.validation_proba,
            baseline.value,
            soft_labels=chosen.soft_labels,
        )

    def _set_models(self, ctx, shipped: Candidate, final: FinalModels, teacher_proba) -> None:
        """The fitted models (from the final refit) and the decision thresholds."""
        self.soft_labels_ = shipped.soft_labels
        self.teacher_ = final.teacher
        self.__dict__.pop("_runtime", None)
        self.student_ = Pipeline([("encoder", self.encoder_), ("student", final.student)])
        self.baseline_ = Pipeline([("encoder", self.encoder_), ("student", final.baseline)])
        self.decision_threshold_, self.teacher_decision_threshold_ = decision_thresholds(
            ctx, self.threshold, shipped.validation_proba, teacher_proba
        )

    def _frontier(self, ctx, space, shipped, data, final, recipe, rule, decision, fitted):
        """With ``frontier_budgets``, the students at those budgets (off ``fitted`` runs)."""
        if not self.frontier_budgets:
            return None
        point = FrontierPoint.shipped(self.latency_budget, final.student, shipped, self.fallback_)
        return fit_frontier(
            ctx,
            self.frontier_budgets,
            space,
            point,
            data,
            final,
            recipe=recipe,
            rule=rule,
            teacher_leads=decision.teacher_leads,
            searched=[run for result in fitted for run in result.sized],
            tree_knobs=fitted[0].tree_knobs,
            linear=fitted[0].linear,
            linear_bar=decision.bar(fitted[1].chosen),
        )

    def _compress(self, ctx, shipped, final, teacher_validation_proba, recipe):
        """With ``compress``: the compression stage; ``runtime_`` becomes its chosen level."""
        self.compression_ = self.compressed_levels_ = None
        result = self.compress and compress_student(
            ctx,
            self.runtime_,
            shipped,
            final.data,
            teacher_validation_proba,
            with_validation=self.refit,
            tolerance=self.compress_tolerance,
            recipe=recipe,
        )
        if not result:
            return None
        self.compression_, self.compressed_levels_ = result.summary, result.levels
        self._runtime = result.runtime
        return self.compression_

    def check_params(self):
        """Validate every parameter, nested ones included, without fitting anything.

        ``fit`` calls it first; call it yourself to check a configuration
        before reading data (``tabdistill retrain`` does).

        Returns
        -------
        self

        Raises
        ------
        ValueError or TypeError
            Naming the parameter, for the first invalid value.
        """
        validate_params(self)
        check_knobs(self.augment_factors, self.alphas, self.losses)
        if self.n_jobs == 0:
            raise ValueError("n_jobs must be a positive number of threads or -1 (all), not 0.")
        metrics.check_threshold_spec(self.threshold)
        TeacherFactory(self.teacher, self.n_jobs).make(0).check_params()
        for size in student_sizes(self.student, self.student_params):
            validate_params(make_student(self.student, size))
        return self
