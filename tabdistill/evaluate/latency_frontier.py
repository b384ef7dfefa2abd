"""The latency-accuracy frontier measured: each budget's student, and the teacher, on test rows.

:func:`measure_frontier` compiles every point of a fitted distiller's
``frontier_`` (see :mod:`tabdistill.distill.frontier`), scores the test rows
with it, times its single-row latency as ``tabdistill benchmark`` times the
shipped student, and adds the teacher compiled for the runtime when it
compiles, and the teacher cut to each budget its whole does not fit as measured here
(:mod:`tabdistill.distill.teacher_cut`; cut again smaller where the cut measures over its
budget). Each point says whether its *measured* p99 met its budget on this machine.
:func:`frontier_lines` puts it in words: what each extra microsecond buys, and, when the
shipped student leaves a real teacher lead behind, the cheapest point that keeps at least
half of it.
"""

from __future__ import annotations

from .. import metrics
from ..distill.compiled import compiled_teacher
from ..distill.students import compile_student
from ..distill.teacher_cut import TeacherCutter
from ..distill.teacher_runtime import compile_teacher
from .cost import runtime_size, single_row_latency

#: Metrics of each frontier point (binary; K classes: those the K-class metrics have).
POINT_METRICS = ("roc_auc", "average_precision", "log_loss")


def measure_frontier(model, Z_test, y_test, rows, latency_calls, stages) -> list | None:
    """The frontier of ``model`` on the test rows ``Z_test`` (encoded), timed on ``rows``;
    a student several budgets share (they take the same rounds of one run) is measured once.

    Returns one dict per point -- ``kind`` (``"student"`` or ``"teacher"``),
    ``latency_budget_us`` (None for the whole teacher), ``source`` (for a teacher,
    ``"teacher"`` whole or ``"teacher cut"``, whose ``tree_share`` is the share of its
    trees kept), the test metrics, ``single_row_p50_us``,
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
            calls = max(200, latency_calls // 4)
            cutter = TeacherCutter(model.teacher_)  # its members' trees read once
            out.append(
                {
                    "kind": "teacher",
                    "latency_budget_us": None,
                    "source": "teacher",
                    "shipped": False,
                    **_measure(teacher, Z_test, y_test, rows, calls),
                    "tree_steps": cutter.steps,
                }
            )
            budgets = sorted({p.budget_us for p in points if p.budget_us is not None})
            whole = out[-1]["single_row_p99_us"]
            test = (Z_test, y_test, rows)
            # each cut tried is timed in CUT_TIMINGS rounds of the whole teacher's calls
            out += _teacher_cuts(model, cutter, budgets, test, calls, whole)
        stage.update()
    return out


def _teacher_cuts(model, cutter, budgets, test, calls, whole_p99) -> list[dict]:
    """The teacher cut to each of ``budgets`` where it must be cut as measured here
    (:func:`cut_within`, each cut timed in rounds of ``calls``), scored like the students;
    ``test``: ``(Z_test, y_test, rows)``, ``whole_p99`` the whole compiled teacher's measured
    p99."""
    out = []
    for budget in budgets:
        fitted = cut_within(cutter, budget, model.encoder_.schema_, test[2], calls, whole_p99)
        if fitted is None:
            continue
        cut, runtime, one, nominal = fitted
        out.append(
            {
                "kind": "teacher",
                "latency_budget_us": budget,
                "source": "teacher cut",
                "shipped": False,
                **_measure(runtime, *test, calls, one),
                "tree_share": round(cut.share, 4),
                "member_shares": rounded_shares(cut),
                # what teacher_runtime_at takes to make this cut again
                "cut_budget_us": round(nominal, 4),
                "tree_steps": cut.tree_steps,
                "predicted_p99_us": round(cut.predicted_p99_us, 3),
                "within_budget": one["p99_us"] <= budget,
            }
        )
    return out


def rounded_shares(cut) -> dict:
    """A teacher cut's ``member_shares``, rounded for a report."""
    return {name: round(share, 4) for name, share in cut.member_shares.items()}


#: Cuts of the teacher tried after the first when its measured p99 is over the budget.
CUT_RETRIES = 3

#: A cut measured within its budget is grown again (while retries are left) where it uses less
#: than this share of it: the cost model's cut may measure far over, and the first cut scaled
#: down to fit may then leave much of the budget unused.
CUT_FILL = 0.85


def cut_within(cutter, budget, schema, rows, calls, whole_p99):
    """``(cut, runtime, latency, cost budget)`` of the teacher cut to ``budget`` as measured
    here (the cost budget: what :meth:`~tabdistill.distill.teacher_cut.TeacherCutter.cut` was
    given for it), or None where the whole teacher fits as measured, or where one tree a member
    does not fit the cost model. (Large blends cost more a step than the model's 5 ns: their
    node tables outgrow the caches.)

    Cut by the cost model; while no cut measures within the budget, cut again to the cost
    budget of the last cut scaled by ``budget / p99``, less a tenth; once one does but uses
    less than :data:`CUT_FILL` of the budget, cut again larger, scaled the same way from it but
    at most halfway to the smallest cut measured over. At most :data:`CUT_RETRIES` cuts after the
    first, each timed by :func:`steady_latency`; the largest that fits is kept (the last one
    tried where none does)."""
    fit = last = None  # (cut, runtime, latency, cost budget)
    over = None  # (cost model's p99, measured p99) of the smallest cut measured over
    nominal, p99 = budget, whole_p99
    for _ in range(1 + CUT_RETRIES):
        cut = cutter.cut(nominal)
        if cut is None:
            break
        if cut.share < 1.0:
            runtime = compile_teacher(cut.teacher, schema)
            one = steady_latency(runtime, rows, calls)
            last, p99 = (cut, runtime, one, nominal), one["p99_us"]
        if not cut.tree_steps:  # no trees to cut (a linear teacher)
            break
        if p99 > budget:
            if over is None or cut.predicted_p99_us < over[0]:
                over = (cut.predicted_p99_us, p99)
        elif last is None:  # the whole teacher fits as measured
            break
        elif fit is None or cut.share > fit[0].share:
            fit = last
        nominal = _next_nominal(fit, over, budget)
        if nominal is None:
            break
    return fit or last


#: Timing rounds of each cut tried: the round of median p99 decides whether it fits (one
#: round's p99 on a shared machine can be several times the cut's steady one).
CUT_TIMINGS = 3


def steady_latency(runtime, rows, calls) -> dict:
    """The single-row latency of ``runtime`` (:func:`~tabdistill.evaluate.cost.single_row_latency`)
    of the median p99 of :data:`CUT_TIMINGS` rounds of ``calls`` calls."""
    rounds = [
        single_row_latency(runtime.score_one, rows, n_calls=calls) for _ in range(CUT_TIMINGS)
    ]
    return sorted(rounds, key=lambda one: one["p99_us"])[len(rounds) // 2]


def _next_nominal(fit, over, budget) -> float | None:
    """The cost budget of the next cut tried (see :func:`cut_within`); None: stop."""
    if fit is None:
        return 0.9 * over[0] * budget / over[1]
    used = fit[2]["p99_us"]
    if over is None or used >= CUT_FILL * budget:
        return None
    low, high = fit[0].predicted_p99_us, over[0]
    grown = min(low * 0.95 * budget / used, (low + high) / 2)
    return grown if grown > low else None


def _measure(runtime, Z_test, y_test, rows, latency_calls, one=None) -> dict:
    """Test metrics, single-row p50/p99 (``one``: already timed) and size of ``runtime``."""
    scores = runtime.score_encoded(Z_test)
    every = metrics.classification_metrics(y_test, scores)
    if one is None:
        one = single_row_latency(runtime.score_one, rows, n_calls=latency_calls)
    return {
        **{m: every[m] for m in POINT_METRICS if m in every},
        "single_row_p50_us": one["p50_us"],
        "single_row_p99_us": one["p99_us"],
        "size_bytes": runtime_size(runtime),
    }


def point_budget(point: dict, unit: str = "us") -> str:
    """A frontier point's budget as text: ``"teacher"`` for the whole compiled teacher."""
    budget = point.get("latency_budget_us")
    if budget is None:
        return "teacher" if whole_teacher(point) else "no budget"
    return f"{budget:g} {unit}"


def whole_teacher(point: dict) -> bool:
    """Whether a frontier point is the whole compiled teacher (not a student, not a cut)."""
    return point["kind"] == "teacher" and point.get("latency_budget_us") is None


def point_source(point: dict) -> str:
    """What a frontier point is: its source, with a bag's members or a cut teacher's share of
    trees."""
    source = point.get("source", "")
    if point.get("bag_members", 1) > 1:
        source += f" x{point['bag_members']}"
    if point.get("tree_share") is not None:
        source += f" {point['tree_share']:.0%}"
    return source


def frontier_lines(summary: dict) -> list[str]:
    """The frontier as text: one line per point, then what it means for the teacher's lead."""
    points = summary.get("frontier")
    if not points:
        return []
    metric = "roc_auc"
    lines = ["", "latency-accuracy frontier (test rows; single-row latency measured here):"]
    for p in points:
        flag = "" if p.get("within_budget", True) else "  (over its budget here)"
        mark = " *" if p.get("shipped") else ""
        lines.append(
            f"  {point_budget(p):>8}{mark:<2} {point_source(p):<15} ROC-AUC {p[metric]:.4f}"
            + (f"  PR-AUC {p['average_precision']:.4f}" if "average_precision" in p else "")
            + f"  p50 {p['single_row_p50_us']:,.1f} us  p99 {p['single_row_p99_us']:,.1f} us"
            + f"  {p['size_bytes'] / 1024:,.0f} KB{flag}"
        )
    advice = frontier_advice(summary)
    return lines + ([f"  {advice}"] if advice else []) + ["  (* the shipped student)"]


def frontier_advice(summary: dict) -> str | None:
    """When the teacher's lead is real and the shipped student keeps less than half of it:
    the cheapest frontier student that keeps at least half, or that none does; the cheapest
    cut of the teacher that keeps half where it is faster than that student; and the whole
    compiled teacher (which keeps all of it) when it is no slower than either."""
    lead, points = summary.get("teacher_lead"), summary.get("frontier") or []
    models = summary.get("models", {})
    if not lead or lead["verdict"] != "real" or not points:
        return None
    baseline = models["baseline"]["roc_auc"]
    gap = models["teacher"]["roc_auc"] - baseline
    shipped = (models["student"]["roc_auc"] - baseline) / gap if gap > 0 else 1.0
    if shipped >= 0.5:
        return None

    def keeping(p) -> bool:
        return (p["roc_auc"] - baseline) / gap >= 0.5

    best = _fastest(p for p in points if p["kind"] == "student" and keeping(p))
    cut = _fastest(p for p in points if p.get("source") == "teacher cut" and keeping(p))
    teacher = next((p for p in points if whole_teacher(p)), None)
    budgets = [p["latency_budget_us"] for p in points if p["kind"] == "student"]
    largest = max((b for b in budgets if b is not None), default=0)
    words = f"the teacher's lead is real and the shipped student keeps {shipped:.0%} of it"
    if best is not None:
        words += (
            f"; the {best['latency_budget_us']:g} us student keeps "
            f"{(best['roc_auc'] - baseline) / gap:.0%} at p99 {best['single_row_p99_us']:,.1f} "
            f"us (--latency-budget {best['latency_budget_us']:g})"
        )
    elif (teacher is not None and teacher["single_row_p99_us"] <= largest) or cut is not None:
        words += "; no student up to the largest budget keeps half of it"
    else:
        words += (
            "; no student up to the largest budget keeps half of it: the lead looks like "
            "capacity a small model cannot hold"
        )
    fastest = best["single_row_p99_us"] if best is not None else float("inf")
    if cut is not None and cut["single_row_p99_us"] < fastest:
        words += (
            f"; the teacher cut to {cut['tree_share']:.0%} of its trees keeps "
            f"{(cut['roc_auc'] - baseline) / gap:.0%} at p99 {cut['single_row_p99_us']:,.1f} us "
            f"(benchmark --save --teacher-budget {cut['latency_budget_us']:g}; "
            f"teacher_runtime_at({cut.get('cut_budget_us', cut['latency_budget_us']):g}))"
        )
        fastest = cut["single_row_p99_us"]
    if teacher is not None and teacher["single_row_p99_us"] <= fastest:
        words += (
            f"; the compiled teacher keeps all of it at p99 "
            f"{teacher['single_row_p99_us']:,.1f} us (tabdistill predict --scorer teacher)"
        )
    return words


def _fastest(points):
    """The point of ``points`` with the lowest measured p99 (None: no point)."""
    return min(points, key=lambda p: p["single_row_p99_us"], default=None)
