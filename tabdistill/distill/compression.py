"""The optional compression stage: the compiled student made smaller within a tolerance.

:func:`compress_student` tries the compression levels of
:func:`tabdistill.compress.compress` (quantized leaves; trees dropped and
reweighted under an L1 penalty refit to the teacher's probabilities) and keeps
the smallest within ``tolerance`` validation ROC-AUC of the uncompressed student.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .context import FitContext, seed_of
from .selection import Candidate
from .soft_targets import DistillData, TargetRecipe

logger = logging.getLogger(__name__)


@dataclass
class Compression:
    """Every level tried (for the report), each level's runtime file bytes, and the chosen
    level's compiled model."""

    summary: dict
    levels: dict
    runtime: object


def compress_student(
    ctx: FitContext,
    runtime,
    chosen: Candidate,
    data: DistillData,
    teacher_validation_proba,
    *,
    with_validation: bool,
    tolerance: float,
    recipe: TargetRecipe,
) -> Compression | None:
    """Compress ``runtime`` (the compiled student), refitting trees to the teacher on the
    rows the final student was fit on (``with_validation``: the validation rows too, while
    ``data`` still holds the teacher's probabilities of them), as the fit's ``compress``
    stage. None for a student that is not a tree runtime."""
    from ..compress.frontier import compress

    if runtime is None or runtime.kind != "trees":
        logger.info("compression skipped: the student is not a tree runtime")
        return None
    validation = ctx.validation
    extra = None
    if with_validation and data.validation_proba is not None:
        extra = data.validation_rows(validation.Z, validation.y, validation.weight)
    training = data.training_set(replace(chosen.knobs, alpha=0.0), recipe, extra)
    with ctx.stages.stage("compress"):
        levels, best_level = compress(
            runtime,
            (training.Z, training.target, training.weight),
            (validation.Z, validation.y, validation.weight, teacher_validation_proba),
            tolerance=tolerance,
            random_state=seed_of(chosen) or 0,
        )
    summary = {
        "tolerance": tolerance,
        "chosen": best_level.name,
        "levels": [level.summary() for level in levels],
    }
    return Compression(
        summary, {level.name: level.model.to_bytes() for level in levels}, best_level.model
    )
