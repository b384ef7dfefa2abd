"""The quality gate: may a candidate student replace the production model?

The same checks serve binary and K-class models: for K classes ``roc_auc`` and
``average_precision`` are macro one-vs-rest averages, and ``log_loss`` the
multiclass log loss (``max_log_loss_increase``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class GateResult:
    """Whether a candidate may replace production, and why not if it may not."""

    passed: bool
    reasons: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)


def quality_gate(
    candidate: dict, teacher: dict, production: dict | None, p99_us: float, gate: dict
) -> GateResult:
    """Check a candidate student's holdout metrics against the gate settings.

    Parameters
    ----------
    candidate, teacher : dict
        Holdout metrics (``roc_auc``, ``average_precision``, ``log_loss``) of the new
        student and its teacher.
    production : dict or None
        Holdout metrics of the production model on the same rows; None when there is none.
    p99_us : float
        The candidate's single-row p99 latency.
    gate : dict
        The ``[gate]`` section of the config.
    """
    checks = {
        "min_roc_auc": (
            candidate["roc_auc"] >= gate["min_roc_auc"],
            f"student ROC-AUC {candidate['roc_auc']:.4f} is below the floor "
            f"{gate['min_roc_auc']:.4f}",
        ),
        "max_teacher_gap": (
            teacher["roc_auc"] - candidate["roc_auc"] <= gate["max_teacher_gap"],
            f"student ROC-AUC {candidate['roc_auc']:.4f} is more than "
            f"{gate['max_teacher_gap']} below its teacher's {teacher['roc_auc']:.4f}",
        ),
        "max_p99_us": (
            p99_us <= gate["max_p99_us"],
            f"single-row p99 latency {p99_us:.1f} µs exceeds {gate['max_p99_us']} µs",
        ),
    }
    if production is not None:
        checks["max_roc_auc_drop"] = (
            candidate["roc_auc"] >= production["roc_auc"] - gate["max_roc_auc_drop"],
            f"ROC-AUC {candidate['roc_auc']:.4f} is more than {gate['max_roc_auc_drop']} below "
            f"production's {production['roc_auc']:.4f}",
        )
        checks["max_pr_auc_drop"] = (
            candidate["average_precision"]
            >= production["average_precision"] - gate["max_pr_auc_drop"],
            f"PR-AUC {candidate['average_precision']:.4f} is more than {gate['max_pr_auc_drop']} "
            f"below production's {production['average_precision']:.4f}",
        )
        rise = gate.get("max_log_loss_increase")
        if rise is not None and math.isfinite(rise):
            checks["max_log_loss_increase"] = (
                candidate["log_loss"] <= production["log_loss"] + rise,
                f"log loss {candidate['log_loss']:.4f} is more than {rise} above "
                f"production's {production['log_loss']:.4f}",
            )
    reasons = [msg for ok, msg in checks.values() if not ok]
    return GateResult(not reasons, reasons, {k: bool(ok) for k, (ok, _) in checks.items()})
