"""The benchmark's results as plain text: the terminal report of ``tabdistill benchmark``.

Every function takes the summary dict :func:`tabdistill.evaluate.benchmark.run_benchmark`
returns (``BenchmarkResult.summary``, the JSON of ``--json``) and renders part of it; the
HTML report reuses the one-line ones.
"""

from __future__ import annotations

from .latency_frontier import frontier_lines
from .leaderboard import knobs_text
from .machine import busy_note
from .shipped_teacher import shipped_teacher_text
from .table import COST_COLUMNS, MODELS, metric_columns, text_table


def encoding_lines(encoding: dict) -> list[str]:
    """One line each for date features, frequency features and dropped columns (when any)."""
    lines = []
    if encoding.get("date_features"):
        formats = ", ".join(f"{c}: {f}" for c, f in encoding["date_formats"].items())
        lines.append(f"date features: {', '.join(encoding['date_features'])} ({formats})")
    if encoding.get("frequency_features"):
        lines.append(
            "high-cardinality columns, frequent levels + level frequency: "
            + ", ".join(encoding["frequency_features"])
        )
    if encoding.get("recognised"):
        lines.append(
            "recognised: " + "; ".join(f"{c}: {t}" for c, t in encoding["recognised"].items())
        )
    if encoding.get("dropped"):
        lines.append(
            "dropped: " + "; ".join(f"{c} ({why})" for c, why in encoding["dropped"].items())
        )
    return lines


def features_text(summary: dict) -> str:
    """``"23 features"``, or ``"4 features (1 dropped)"`` where fit dropped some."""
    dropped = len(summary.get("encoding", {}).get("dropped", {}))
    return f"{summary['features']} features" + (f" ({dropped} dropped)" if dropped else "")


def target_text(summary: dict) -> str:
    """``"4.90% positive"``, or ``"5 classes (Fair 3.0%, Good 9.1%, ...)"``."""
    if summary.get("task") != "multiclass":
        return f"{summary['positive_rate']:.2%} positive"
    shares = summary["class_shares"]
    parts = ", ".join(f"{c} {v:.1%}" for c, v in shares.items())
    return f"{len(shares)} classes ({parts})"


def fidelity_text(f: dict) -> str:
    """The fidelity of the student to its teacher, in one line."""
    if "agreement" in f:
        return (
            f"fidelity: same most probable class as the teacher on {f['agreement']:.2%} of rows, "
            f"mean total-variation distance {f['mean_tv_distance']:.4f}"
        )
    return (
        f"fidelity: spearman {f['spearman']:.4f}, mean |p_t - p_s| {f['mean_abs_diff']:.4f}, "
        f"agreement at teacher's 1% FPR threshold {f['agreement_at_1pct_fpr']:.2%}"
    )


def format_table(summary: dict) -> str:
    """A plain-text table of the three models, for the terminal."""
    models = {name: summary["models"][name] for name in MODELS}
    lines = text_table(models, metric_columns(summary) + COST_COLUMNS)
    f, sp = summary["fidelity"], summary["speedup"]
    head = (
        f"{summary['dataset']}: {summary['rows']:,} rows, {features_text(summary)}, "
        f"{target_text(summary)}, seed {summary['seed']}"
    )
    tail = [
        *encoding_lines(summary.get("encoding", {})),
        fidelity_text(f),
        f"student vs teacher: {sp['single_row_p50']:,.0f}x faster per row (p50), "
        f"{sp['batch']:,.0f}x batch throughput, {sp['size']:,.0f}x smaller",
        *_fit_lines(summary["distillation"]),
        f"chosen: {knobs_text(summary['distillation'])}"
        + (
            f"; FALLBACK: {summary['distillation']['fallback']}"
            if summary["distillation"]["fallback"]
            else ""
        ),
    ]
    note = busy_note(summary.get("environment", {}).get("load"))
    if note:
        tail.append(f"NOTE: {note}")
    details = _class_lines(summary) if "per_class" in summary else _decision_lines(summary)
    shipped = summary.get("shipped_teacher")
    teacher = ["", shipped_teacher_text(shipped)] if shipped else []
    return "\n".join([head, "", *lines, "", *tail, *details, *frontier_lines(summary), *teacher])


def _class_lines(summary: dict) -> list[str]:
    """Per-class recall and precision, the student's confusion matrix, intervals, features."""
    classes = summary["classes"]
    width = max(8, *(len(c) for c in classes))
    lines = ["", f"{'class':<{width}} " + " ".join(f"{m + ' R/P':>17}" for m in MODELS)]
    for k, c in enumerate(classes):
        cells = []
        for name in MODELS:
            pc = summary["per_class"][name]
            r = "  -  " if pc["recall"][k] is None else f"{pc['recall'][k]:.3f}"
            cells.append(f"{r + ' / ' + format(pc['precision'][k], '.3f'):>17}")
        lines.append(f"{c:<{width}} " + " ".join(cells))
    lines += ["", "student confusion matrix (rows: label, columns: predicted class):"]
    lines.append(" " * width + " " + " ".join(f"{c[:9]:>9}" for c in classes))
    for c, row in zip(classes, summary["per_class"]["student"]["confusion"]):
        lines.append(f"{c:<{width}} " + " ".join(f"{v:>9,.0f}" for v in row))
    lines += ["", *_lead_lines(summary)] if summary.get("teacher_lead") else []
    if summary.get("intervals"):
        lines += ["", "95% bootstrap intervals (test rows):"]
        for name, m in summary["intervals"].items():
            sign = "-" in name
            lines.append(
                f"  {name:<17} ROC-AUC {_ci(m['roc_auc'], sign)}   "
                f"log loss {_ci(m['log_loss'], sign)}"
            )
    return lines + _importance_lines(summary)


def _importance_lines(summary: dict) -> list[str]:
    if not summary["feature_importance"]:
        return []
    top = ", ".join(
        f"{f['feature']} {f['importance']:.1%}" for f in summary["feature_importance"][:8]
    )
    return ["", f"student feature importance: {top}"]


def _fit_lines(distillation: dict) -> list[str]:
    """The fit's time per stage, and what a time limit cut."""
    timings = distillation["timings"]
    stages = ", ".join(f"{k} {v:,.1f}" for k, v in timings.items() if k != "total")
    lines = [f"fit seconds: {stages} (total {timings['total']:,.1f})"]
    budget = distillation.get("time_budget") or {}
    if budget.get("limit_seconds"):
        lines.append(
            f"time limit {budget['limit_seconds']:,.0f} s, used {budget['used_seconds']:,.1f} s"
            + (f"; cut: {'; '.join(budget['cuts'])}" if budget["cuts"] else "; nothing cut")
        )
    return lines


def _decision_lines(summary: dict) -> list[str]:
    """The decision, the intervals, the threshold table and the top features, as text."""
    d = summary["decision"]
    t = "never" if d["threshold"] is None else f"{d['threshold']:.4f}"
    lines = [
        "",
        f"decision (threshold rule {d['rule']}, set on validation): flag at p >= {t}; on the "
        f"test rows {d['alerts_per_10k']:.1f} alerts per 10k, recall {d['recall']:.4f}, "
        f"precision {d['precision']:.4f}, FPR {d['fpr']:.4f}",
    ]
    lines += _lead_lines(summary)
    if summary.get("intervals"):
        lines.append("95% bootstrap intervals (test rows):")
        for name, m in summary["intervals"].items():
            sign = "-" in name  # a difference: show its sign
            lines.append(
                f"  {name:<17} ROC-AUC {_ci(m['roc_auc'], sign)}   "
                f"PR-AUC {_ci(m['average_precision'], sign)}"
            )
    lines += ["", "model    target FPR  threshold  alerts/10k  recall  precision     FPR"]
    for r in summary["thresholds"]:
        t = "never" if r["threshold"] is None else f"{r['threshold']:.4f}"
        lines.append(
            f"{r['model']:<8} {r['target_fpr']:>10.3%} {t:>10} {r['alerts_per_10k']:>11.1f} "
            f"{r['recall']:>7.4f} {r['precision']:>10.4f} {r['fpr']:>7.4f}"
        )
    return lines + _importance_lines(summary)


def _lead_lines(summary: dict) -> list[str]:
    """The teacher's lead over the baseline on the test rows, in words."""
    lead = summary.get("teacher_lead")
    if not lead:
        return []
    return [
        f"teacher - baseline ({lead['metric']}) {_ci(lead, True)}: {lead['text']}",
    ]


def _ci(v: dict, sign: bool) -> str:
    f = "{:+.4f}" if sign else "{:.4f}"
    return f"{f.format(v['estimate'])} [{f.format(v['low'])}, {f.format(v['high'])}]"
