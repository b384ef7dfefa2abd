"""The latency-accuracy frontier measured: each budget's student, and the teacher, on test rows.

:func:`measure_frontier` compiles every point of a fitted distiller's
``frontier_`` (see :mod:`tabdistill.distill.frontier`), scores the test rows
with it, times its single-row latency as ``tabdistill benchmark`` times the
shipped student, and adds the teacher compiled for the runtime when it
compiles. Each point says whether its *measured* p99 met its budget on this
machine. :func:`frontier_lines` puts it in words: what each extra microsecond
buys, and, when the shipped student leaves a real teacher lead behind, the
cheapest point that keeps at least half of it.
"""

from __future__ import annotations

from .. import metrics
from ..distill.compiled import compiled_teacher
from ..distill.students import compile_student
from .cost import runtime_size, single_row_latency

#: Metrics of each frontier point (binary; K classes: those the K-class metrics have).
POINT_METRICS = ("roc_auc", "average_precision", "log_loss")


def measure_frontier(model, Z_test, y_test, rows, latency_calls, stages) -> list | None:
    """The frontier of ``model`` on the test rows ``Z_test`` (encoded), timed on ``rows``;
    a student several budgets share (they take the same rounds of one run) is measured once.

    Returns one dict per point -- ``kind`` (``"student"`` or ``"teacher"``),
    ``latency_budget_us``, ``source``, the test metrics, ``single_row_p50_us``,
    ``single_row_p99_us``, ``size_bytes``, ``tree_steps``, ``predicted_p99_us``,
    ``bag_members`` (students averaged, 1: a single one) and ``within_budget`` -- or None
    when the model has no frontier.
    """
    points = getattr(model, "frontier_", None)
    if not points:
        return None
    schema, shipped = model.encoder_.schema_, model.student_[-1]
    out, measured = [], {}
    with stages.stage("frontier", total=len(points) + 1, unit="model") as stage:
        for point in points:
            if id(point.student) not in measured:  # budgets sharing a student: measured once
                runtime = model.runtime_ if point.student is shipped else None
                runtime = runtime or compile_student(point.student, schema)
                measured[id(point.student)] = _measure(runtime, Z_test, y_test, rows, latency_calls)
            entry = measured[id(point.student)]
            budget = point.budget_us
            out.append(
                {
                    "kind": "student",
                    "latency_budget_us": budget,
                    "source": point.source,
                    # budgets may share the shipped student; the shipped point is its budget's
                    "shipped": budget == model.latency_budget,
                    **entry,
                    "tree_steps": point.tree_steps,
                    "predicted_p99_us": round(point.predicted_p99_us, 3),
                    "bag_members": getattr(point.student, "bag_members_", 1),
                    "within_budget": budget is None or entry["single_row_p99_us"] <= budget,
                }
            )
            stage.update()
        teacher = compiled_teacher(model)
        if teacher is not None:
            out.append(
                {
                    "kind": "teacher",
                    "latency_budget_us": None,
                    "source": "teacher",
                    "shipped": False,
                    **_measure(teacher, Z_test, y_test, rows, max(200, latency_calls // 4)),
                }
            )
        stage.update()
    return out


def _measure(runtime, Z_test, y_test, rows, latency_calls) -> dict:
    scores = runtime.score_encoded(Z_test)
    every = metrics.classification_metrics(y_test, scores)
    one = single_row_latency(runtime.score_one, rows, n_calls=latency_calls)
    return {
        **{m: every[m] for m in POINT_METRICS if m in every},
        "single_row_p50_us": one["p50_us"],
        "single_row_p99_us": one["p99_us"],
        "size_bytes": runtime_size(runtime),
    }


def frontier_lines(summary: dict) -> list[str]:
    """The frontier as text: one line per point, then what it means for the teacher's lead."""
    points = summary.get("frontier")
    if not points:
        return []
    metric = "roc_auc"
    lines = ["", "latency-accuracy frontier (test rows; single-row latency measured here):"]
    for p in points:
        budget = "teacher" if p["kind"] == "teacher" else f"{p['latency_budget_us']:g} us"
        flag = "" if p.get("within_budget", True) else "  (over its budget here)"
        mark = " *" if p.get("shipped") else ""
        source = p.get("source", "") + (
            f" x{p['bag_members']}" if p.get("bag_members", 1) > 1 else ""
        )
        lines.append(
            f"  {budget:>8}{mark:<2} {source:<12} ROC-AUC {p[metric]:.4f}"
            + (f"  PR-AUC {p['average_precision']:.4f}" if "average_precision" in p else "")
            + f"  p50 {p['single_row_p50_us']:,.1f} us  p99 {p['single_row_p99_us']:,.1f} us"
            + f"  {p['size_bytes'] / 1024:,.0f} KB{flag}"
        )
    advice = frontier_advice(summary)
    return lines + ([f"  {advice}"] if advice else []) + ["  (* the shipped student)"]


def frontier_advice(summary: dict) -> str | None:
    """When the teacher's lead is real and the shipped student keeps less than half of it:
    the cheapest frontier student that keeps at least half, or that none does; and the
    compiled teacher (which keeps all of it) when it is no slower than that student, or
    when no student keeps half."""
    lead, points = summary.get("teacher_lead"), summary.get("frontier") or []
    models = summary.get("models", {})
    if not lead or lead["verdict"] != "real" or not points:
        return None
    baseline = models["baseline"]["roc_auc"]
    gap = models["teacher"]["roc_auc"] - baseline
    shipped = (models["student"]["roc_auc"] - baseline) / gap if gap > 0 else 1.0
    if shipped >= 0.5:
        return None
    keeping = [
        p for p in points if p["kind"] == "student" and (p["roc_auc"] - baseline) / gap >= 0.5
    ]
    best = min(keeping, key=lambda p: p["single_row_p99_us"]) if keeping else None
    teacher = next((p for p in points if p["kind"] == "teacher"), None)
    largest = max((p["latency_budget_us"] for p in points if p["kind"] == "student"), default=0)
    words = f"the teacher's lead is real and the shipped student keeps {shipped:.0%} of it"
    if best is not None:
        words += (
            f"; the {best['latency_budget_us']:g} us student keeps "
            f"{(best['roc_auc'] - baseline) / gap:.0%} at p99 {best['single_row_p99_us']:,.1f} "
            f"us (--latency-budget {best['latency_budget_us']:g})"
        )
    elif teacher is not None and teacher["single_row_p99_us"] <= largest:
        words += "; no student up to the largest budget keeps half of it"
    else:
        words += (
            "; no student up to the largest budget keeps half of it: the lead looks like "
            "capacity a small model cannot hold"
        )
    if teacher is not None and (
        best is None or teacher["single_row_p99_us"] <= best["single_row_p99_us"]
    ):
        words += (
            f"; the compiled teacher keeps all of it at p99 "
            f"{teacher['single_row_p99_us']:,.1f} us (tabdistill predict --scorer teacher)"
        )
    return words
