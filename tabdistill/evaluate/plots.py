"""The benchmark report's figures, one function per plot, each drawing on matplotlib axes.

Binary targets: ROC and precision-recall curves of teacher, student and baseline, a
calibration plot, accuracy against single-row latency (the trade-off the student exists
for), the student's scores by class and its feature importance; with compression, the size
of every compression level against its test ROC-AUC. K classes: per-class
precision-recall curves and confusion matrices of the three models side by side, top-label
calibration, the trade-off against macro ROC-AUC and the importance chart.

To add a figure, write ``draw(axes, result)`` and register it in :func:`figure_plan`: the
HTML page shows every figure it yields, in order.
"""

from __future__ import annotations

import numpy as np

from .table import MODELS, format_bytes

COLORS = {"teacher": "#1f4e79", "student": "#d9541e", "baseline": "#7f7f7f"}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _roc(ax, result):
    from sklearn.metrics import roc_curve

    for name in MODELS:
        fpr, tpr, _ = roc_curve(result.y_test, result.scores[name])
        auc = result.summary["models"][name]["roc_auc"]
        ax.plot(fpr, tpr, color=COLORS[name], label=f"{name} (AUC {auc:.4f})")
    ax.plot([0, 1], [0, 1], ls=":", color="#bbbbbb")
    ax.axvline(0.01, ls="--", lw=0.8, color="#999999")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate (recall)", title="ROC curve")
    ax.legend(loc="lower right")


def _pr(ax, result):
    from sklearn.metrics import precision_recall_curve

    for name in MODELS:
        prec, rec, _ = precision_recall_curve(result.y_test, result.scores[name])
        ap = result.summary["models"][name]["average_precision"]
        ax.plot(rec, prec, color=COLORS[name], label=f"{name} (AP {ap:.4f})")
    ax.axhline(result.summary["positive_rate"], ls=":", color="#bbbbbb", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve", ylim=(0, 1.02))
    ax.legend(loc="upper right")


def _calibration(ax, result, n_bins=10):
    edges = np.quantile(result.scores["teacher"], np.linspace(0, 1, n_bins + 1))
    for name in MODELS:
        p = result.scores[name]
        bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
        mean_p = [p[bins == b].mean() for b in range(n_bins) if np.any(bins == b)]
        mean_y = [result.y_test[bins == b].mean() for b in range(n_bins) if np.any(bins == b)]
        ece = result.summary["models"][name]["ece"]
        ax.plot(mean_p, mean_y, "o-", color=COLORS[name], label=f"{name} (ECE {ece:.4f})")
    top = max(max(s.max() for s in result.scores.values()), 1e-3)
    ax.plot([0, top], [0, top], ls=":", color="#bbbbbb", label="perfect")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed positive rate",
        title="Calibration (bins of equal teacher mass)",
    )
    ax.legend(loc="upper left")


def _tradeoff(ax, result):
    """Accuracy against single-row latency: the p50 as a marker, a line to the p99.

    The axis spans the figures with a little room, however far apart: a teacher's
    p99 of seconds next to a student's microsecond must not squeeze the
    markers into one corner (log margins would stretch it by decades).
    """
    multiclass = result.summary.get("task") == "multiclass"
    key, label = ("roc_auc", "ROC-AUC (macro)") if multiclass else ("average_precision", "PR-AUC")
    xs = []
    for name in MODELS:
        m = result.summary["models"][name]
        p50, p99 = m["latency"]["single_row_p50_us"], m["latency"]["single_row_p99_us"]
        y = m[key]
        xs += [p50, p99]
        size = 40 + 40 * np.log10(max(m["size_bytes"], 10))
        ax.plot([p50, p99], [y, y], color=COLORS[name], lw=2, alpha=0.5, zorder=2)
        ax.scatter([p50], [y], s=size, color=COLORS[name], zorder=3)
        ax.annotate(
            f"{name}\n{format_bytes(m['size_bytes'])}",
            (p50, y),
            textcoords="offset points",
            xytext=(0, 10),
            ha="center",
            fontsize=9,
        )
    lo, hi = max(min(xs), 1e-3), max(max(xs), 1e-3)
    ax.set_xscale("log")
    ax.set_xlim(lo / 3, hi * 3)  # half a decade of room each side, never more
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(_duration_text))
    ax.margins(y=0.25)
    ax.set(
        xlabel="single-row latency (log scale): marker p50, line to p99",
        ylabel=label,
        title="Accuracy vs latency (marker size ~ log bytes)",
    )
    ax.grid(True, which="both", alpha=0.3)


def _latency_frontier(ax, result):
    """Test ROC-AUC against measured single-row p99: the student at each latency budget, the
    teacher compiled for the runtime and the teacher in Python, the baseline as a line."""
    from matplotlib.ticker import FuncFormatter

    summary = result.summary
    points = summary["frontier"]
    students = [p for p in points if p["kind"] == "student"]
    xs = [p["single_row_p99_us"] for p in students]
    ax.plot(xs, [p["roc_auc"] for p in students], "-o", color=COLORS["student"], label="student")
    for group in _same_student(students):
        first, last = group[0]["latency_budget_us"], group[-1]["latency_budget_us"]
        label = f"{first:g} µs" if first == last else f"{first:g}-{last:g} µs"
        label += " (shipped)" if any(p.get("shipped") for p in group) else ""
        x, y = group[0]["single_row_p99_us"], group[0]["roc_auc"]
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    cuts = [p for p in points if p.get("source") == "teacher cut"]
    if cuts:
        cx, cy = [p["single_row_p99_us"] for p in cuts], [p["roc_auc"] for p in cuts]
        ax.plot(cx, cy, ":s", color=COLORS["teacher"], ms=4, label="teacher cut to a budget")
        xs += cx
    teacher = summary["models"]["teacher"]
    shown = [("teacher (Python)", teacher["latency"]["single_row_p99_us"], teacher["roc_auc"])]
    shown += [
        ("teacher (compiled)", p["single_row_p99_us"], p["roc_auc"])
        for p in points
        if p["kind"] == "teacher" and p.get("latency_budget_us") is None
    ]
    for name, x, y in shown:
        ax.scatter([x], [y], marker="s", color=COLORS["teacher"], zorder=3)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        xs.append(x)
    ax.axhline(
        summary["models"]["baseline"]["roc_auc"],
        color=COLORS["baseline"],
        ls="--",
        label="baseline (shipped size)",
    )
    ax.set_xscale("log")
    ax.set_xlim(max(min(xs), 1e-3) / 2, max(xs) * 3)
    ax.xaxis.set_major_formatter(FuncFormatter(_duration_text))
    ax.set(
        xlabel="single-row p99 latency, measured (log scale)",
        ylabel="test ROC-AUC",
        title="What each microsecond buys",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)


def _same_student(points) -> list[list]:
    """Consecutive frontier points holding the same student (a budget that adds nothing)."""
    groups = []
    for p in points:
        same = groups and (groups[-1][-1]["tree_steps"], groups[-1][-1]["roc_auc"]) == (
            p["tree_steps"],
            p["roc_auc"],
        )
        if same:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _duration_text(us, _pos=None) -> str:
    """Microseconds as a readable tick label: ``"0.5 µs"``, ``"20 ms"``, ``"2 s"``."""
    for scale, unit in ((1e6, "s"), (1e3, "ms"), (1.0, "µs")):
        if us >= scale:
            return f"{us / scale:g} {unit}"
    return f"{us:g} µs"


def _importance(ax, result, top: int = 15):
    """The student's feature importance by column, largest on top, as shares."""
    rows = result.summary.get("feature_importance", [])[:top][::-1]
    names = [r["feature"] for r in rows]
    shares = [r["importance"] for r in rows]
    ax.barh(range(len(rows)), shares, color=COLORS["student"])
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    for i, v in enumerate(shares):
        ax.annotate(f"{v:.1%}", (v, i), textcoords="offset points", xytext=(3, -3), fontsize=8)
    ax.set_xlim(0, max(shares, default=0) * 1.2 or 1)
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(xlabel="share of the student's importance", title="Student feature importance")


def _frontier(ax, result):
    """Size against test ROC-AUC of every compression level; the chosen one ringed."""
    from matplotlib.ticker import ScalarFormatter

    comp = result.summary["compression"]
    levels = comp["levels"]
    kb = np.array([lv["size_bytes"] / 1024 for lv in levels])
    auc = np.array([lv["test_roc_auc"] for lv in levels])
    ax.scatter(kb, auc, color=COLORS["student"], zorder=3, label="level")
    for i, lv in enumerate(levels):
        dominated = np.any((kb <= kb[i]) & (auc >= auc[i]) & ((kb < kb[i]) | (auc > auc[i])))
        if not dominated or i == 0 or lv["name"] == comp["chosen"]:  # frontier + exact
            ax.annotate(
                lv["name"], (kb[i], auc[i]), textcoords="offset points", xytext=(5, 4), fontsize=7
            )
        if lv["name"] == comp["chosen"]:
            ax.scatter(
                [kb[i]],
                [auc[i]],
                s=220,
                facecolors="none",
                edgecolors="black",
                zorder=4,
                label="chosen on validation",
            )
    ax.axhline(auc[0] - 0.001, ls="--", lw=0.8, color="#999999", label="exact - 0.001")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(ScalarFormatter())
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set(xlabel="runtime file size (KB, log scale)", ylabel="test ROC-AUC")
    ax.set_title("Compression levels: size vs accuracy")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)


def _histogram(ax, result, bins=40):
    p, y = result.scores["student"], result.y_test
    edges = np.linspace(0, 1, bins + 1)
    for label, color, name in (
        (0, COLORS["baseline"], "negative"),
        (1, COLORS["student"], "positive"),
    ):
        ax.hist(p[y == label], bins=edges, color=color, alpha=0.6, label=f"{name} rows")
    threshold = result.summary["decision"]["threshold"]
    if threshold is not None:
        ax.axvline(threshold, ls="--", color="#222222", label=f"decision threshold {threshold:.3f}")
    ax.set_yscale("log")
    ax.set(xlabel="student probability", ylabel="rows (log scale)", title="Student scores by class")
    ax.legend(loc="upper right", framealpha=0.9)


PLOTS = {
    "roc.png": _roc,
    "pr.png": _pr,
    "calibration.png": _calibration,
    "tradeoff.png": _tradeoff,
    "scores.png": _histogram,
}


def _pr_by_class(axes, result):
    """One panel per model: a precision-recall curve per class (one-vs-rest)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    classes = result.summary["classes"]
    for ax, name in zip(axes, MODELS):
        P = result.scores[name]
        for k, c in enumerate(classes):
            hit = result.y_test == k
            if not hit.any():
                continue
            prec, rec, _ = precision_recall_curve(hit, P[:, k])
            ap = average_precision_score(hit, P[:, k])
            ax.plot(rec, prec, label=f"{c} (AP {ap:.3f})")
        ax.set(xlabel="recall", ylabel="precision", title=f"{name}: per-class PR", ylim=(0, 1.02))
        ax.legend(loc="lower left", fontsize=8)


def _confusions(axes, result):
    """One panel per model: the confusion matrix, shaded by recall, annotated with counts."""
    classes = result.summary["classes"]
    for ax, name in zip(axes, MODELS):
        cm = np.asarray(result.summary["per_class"][name]["confusion"], dtype=float)
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1e-12)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(classes)):
            for j in range(len(classes)):
                color = "white" if share[i, j] > 0.6 else "#222222"
                ax.text(j, i, f"{cm[i, j]:,.0f}", ha="center", va="center", color=color, fontsize=8)
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(classes)), classes, fontsize=8)
        ax.set(xlabel="predicted class", ylabel="label", title=f"{name}: confusion matrix")


def _top_label_calibration(ax, result, n_bins=10):
    """Reliability of each model's most probable class: confidence vs how often it is right."""
    edges = np.linspace(0, 1, n_bins + 1)
    for name in MODELS:
        P = result.scores[name]
        top = P.argmax(axis=1)
        conf, right = P.max(axis=1), (top == result.y_test).astype(float)
        bins = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
        used = [b for b in range(n_bins) if np.any(bins == b)]
        ece = result.summary["models"][name]["ece"]
        ax.plot(
            [conf[bins == b].mean() for b in used],
            [right[bins == b].mean() for b in used],
            "o-",
            color=COLORS[name],
            label=f"{name} (ECE {ece:.4f})",
        )
    ax.plot([0, 1], [0, 1], ls=":", color="#bbbbbb", label="perfect")
    ax.set(
        xlabel="probability of the most probable class",
        ylabel="how often it is the label",
        title="Top-label calibration",
    )
    ax.legend(loc="upper left")


#: K-class plots: file -> (panels, function of the panels' axes and the result).
CLASS_PLOTS = {
    "pr_by_class.png": (3, _pr_by_class),
    "confusion.png": (3, _confusions),
    "calibration.png": (1, lambda axes, result: _top_label_calibration(axes[0], result)),
    "tradeoff.png": (1, lambda axes, result: _tradeoff(axes[0], result)),
}


def figure_plan(summary) -> dict:
    """``file -> (panels, draw(axes, result))`` of the figures a summary gets, in page order."""
    if summary.get("task") == "multiclass":
        plots = dict(CLASS_PLOTS)
    else:
        plots = {
            file: (1, lambda axes, result, draw=draw: draw(axes[0], result))
            for file, draw in PLOTS.items()
        }
    if summary.get("feature_importance"):
        plots["importance.png"] = (1, lambda axes, result: _importance(axes[0], result))
    if summary.get("compression"):
        plots["frontier.png"] = (1, lambda axes, result: _frontier(axes[0], result))
    if summary.get("frontier"):
        plots["latency_frontier.png"] = (
            1,
            lambda axes, result: _latency_frontier(axes[0], result),
        )
    return plots


def figures(plt, result):
    """``(file, figure)`` of every figure of :func:`figure_plan`."""
    for file, (panels, draw) in figure_plan(result.summary).items():
        width = 6.4 if panels == 1 else 5.2 * panels
        fig, axes = plt.subplots(1, panels, figsize=(width, 4.8), dpi=110, squeeze=False)
        draw(list(axes[0]), result)
        yield file, fig
