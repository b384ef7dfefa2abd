"""The teacher's part of a fit: the teacher on the training rows, then synthetic rows it labels.

:func:`fit_teacher` cross-fits the teacher on the training rows (its
out-of-fold probabilities become the original rows' soft labels) and scores
the validation rows; :func:`make_synthetic` draws synthetic rows from the
training rows with an augmenter and labels them with the fitted teacher, which
never saw them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed

from .augment import FeatureSpec, class_shares, make_augmenter
from .context import FitContext
from .teacher import TeacherEnsemble

#: Training rows past which the augmentation factors stop counting: synthetic rows are
#: ``factor * min(training rows, SYNTHETIC_BASE_ROWS)``. Large data has real rows enough
#: for the student's fit; synthetic ones there mostly cost labelling and training time.
SYNTHETIC_BASE_ROWS = 100_000


def synthetic_count(factor, n_train) -> int:
    """Synthetic rows of augmentation ``factor`` for ``n_train`` training rows (capped on
    large data, see :data:`SYNTHETIC_BASE_ROWS`)."""
    return int(round(factor * min(n_train, SYNTHETIC_BASE_ROWS)))


@dataclass
class TeacherFit:
    """The teacher fit on the training rows, its probabilities of the validation rows, and
    how many rows a second it labels (what sizing the synthetic rows to a time limit needs)."""

    teacher: TeacherEnsemble
    validation_proba: np.ndarray
    label_rate: float


@dataclass
class SyntheticRows:
    """Synthetic rows (encoded), the training row each was drawn from, and the teacher's
    probabilities of them."""

    rows: np.ndarray
    origin: np.ndarray
    proba: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def fit_teacher(ctx: FitContext) -> TeacherFit:
    """Fit the teacher on the training rows (within its share of a time limit) and score
    the validation rows."""
    with ctx.stages.stage("teacher") as stage:
        teacher = ctx.teachers.make(ctx.seeds.teacher, ctx.budget.stage("teacher"))
        teacher.fit_encoded(
            ctx.Z_train,
            ctx.y_train,
            ctx.weight_train,
            encoder=ctx.encoder,
            target=ctx.target,
            groups=ctx.groups_train,
        )
        clock = time.perf_counter()
        validation_proba = teacher.predict_proba_encoded(ctx.validation.Z)
        rate = len(validation_proba) / max(time.perf_counter() - clock, 1e-9)
        stage.detail = ", ".join(teacher.estimators_)
    return TeacherFit(teacher, validation_proba, rate)


def make_synthetic(
    ctx: FitContext, taught: TeacherFit, augmenter, augment_factors, positive_share
) -> SyntheticRows:
    """Draw the synthetic rows of the largest augmentation factor (fewer when the time
    limit does not afford them) and label them with the teacher.

    ``augmenter`` is a name or an :class:`~tabdistill.distill.augment.Augmenter`;
    ``positive_share`` the estimator's rare-class emphasis (see
    :class:`~tabdistill.distill.distiller.DistilledClassifier`).
    """
    y = ctx.y_train
    share = shares = None
    if ctx.n_classes == 2:
        share = _positive_share(positive_share, y.mean())
    else:
        shares = _seed_shares(positive_share, y, ctx.n_classes)
    n_rows = _affordable_rows(ctx, max(augment_factors), taught.label_rate)
    with ctx.stages.stage("augment", total=n_rows, unit="rows") as stage:
        # without a limit there is no deadline; with one, making rows gets half the stage
        end = ctx.budget.stage("augment").deadline
        rows, origin = make_augmenter(augmenter).sample(
            ctx.Z_train,
            n_rows,
            FeatureSpec.from_encoder(ctx.encoder),
            y=y,
            positive_share=share,
            shares=shares,
            random_state=ctx.seeds.augment,
            deadline=None if np.isinf(end) else (end + time.perf_counter()) / 2,
            bar=stage,
        )
        if len(rows) < n_rows:
            ctx.budget.cut(f"synthetic rows: {len(rows):,} made of {n_rows:,}")
        stage.detail = f"{len(rows):,} rows by {augmenter}"
    with ctx.stages.stage("label", total=len(rows), unit="rows") as stage:
        proba = label_in_chunks(taught.teacher, rows, bar=stage)
    return SyntheticRows(rows, origin, proba)


def _affordable_rows(ctx: FitContext, factor, label_rate) -> int:
    """Synthetic rows to make: the largest factor's, or what the time limit affords."""
    n_rows = synthetic_count(factor, len(ctx.train))
    if not ctx.budget.limited or n_rows == 0:
        return n_rows
    # the augmenter costs about what labelling does: half of the stage each
    affordable = int(ctx.budget.stage("augment").remaining() / 2 * label_rate)
    if affordable < n_rows:
        ctx.budget.cut(f"synthetic rows: {affordable:,} of {n_rows:,}")
        return affordable
    return n_rows


def _positive_share(setting, positive_rate):
    """Resolve ``positive_share='auto'``: emphasise the rare class when it is under 20%."""
    if setting == "auto":
        return 0.2 if positive_rate < 0.2 else None
    return setting


def _seed_shares(setting, y, n_classes):
    """Rare-class emphasis of K classes: each class seeds at least a share of synthetic rows.

    ``'auto'``: ``0.4 / K`` (the binary 0.2 for K = 2); a number: that share;
    None: no emphasis.
    """
    if setting is None:
        return None
    floor = 0.4 / n_classes if setting == "auto" else float(setting)
    if floor > 1 / n_classes:
        raise ValueError(
            f"positive_share={setting} asks each of {n_classes} classes for that share of the "
            f"synthetic rows; with K classes it must be at most 1/K = {1 / n_classes:.3f}."
        )
    return class_shares(y, n_classes, floor)


def _label_chunk(teacher, Z, rows):
    return teacher.predict_proba_encoded(Z[rows])


def label_in_chunks(teacher, Z, chunk=50_000, bar=None):
    """The teacher's scores of ``Z``, chunk by chunk (bounded memory), advancing ``bar`` by
    the rows done.

    Chunks go through ``joblib.Parallel``: one after another by default, spread over a
    cluster's workers inside ``joblib.parallel_config(backend="dask")``. There ``Z`` is sent
    to the workers once (joblib scatters large arrays; each chunk is a slice of it), while
    the teacher travels with each chunk: a handful of copies, since synthetic rows are
    capped (see :func:`synthetic_count`).
    """
    if len(Z) == 0:
        return np.empty(0)
    chunks = [slice(i, i + chunk) for i in range(0, len(Z), chunk)]
    out = []
    for scores in Parallel(return_as="generator")(
        delayed(_label_chunk)(teacher, Z, rows) for rows in chunks
    ):
        out.append(scores)
        if bar is not None:
            bar.update(len(scores))
    return np.concatenate(out)
