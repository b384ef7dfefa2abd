"""A benchmark result as pictures: PNG plots and one self-contained HTML page.

The page shows ROC and precision-recall curves of teacher, student and
baseline, a calibration plot, latency against PR-AUC (the trade-off the
student exists for), the metrics table, and -- when the student was
compressed -- the compression frontier (size against test ROC-AUC per level).
For a K-class target: per-class precision-recall curves and confusion
matrices of the three models side by side, a top-label calibration plot,
latency against macro ROC-AUC, and the per-class table. Images are embedded
in the HTML, so the single file can be mailed or archived; the PNGs are
written beside it.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from .benchmark import MODELS, BenchmarkResult, encoding_lines, fidelity_text, target_text
from .table import COST_COLUMNS, format_bytes, metric_columns

COLORS = {"teacher": "#1f4e79", "student": "#d9541e", "baseline": "#7f7f7f"}


def _pyplot():
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
    multiclass = result.summary.get("task") == "multiclass"
    key, label = ("roc_auc", "ROC-AUC (macro)") if multiclass else ("average_precision", "PR-AUC")
    for name in MODELS:
        m = result.summary["models"][name]
        x = m["latency"]["single_row_p99_us"]
        y = m[key]
        size = 40 + 40 * np.log10(max(m["size_bytes"], 10))
        ax.scatter([x], [y], s=size, color=COLORS[name], zorder=3)
        ax.annotate(
            f"{name}\n{format_bytes(m['size_bytes'])}",
            (x, y),
            textcoords="offset points",
            xytext=(8, -4),
            fontsize=9,
        )
    ax.set_xscale("log")
    ax.margins(x=0.35, y=0.15)  # room for the labels right of the markers
    ax.set(
        xlabel="single-row p99 latency (µs, log scale)",
        ylabel=label,
        title="Accuracy vs latency (marker size ~ log bytes)",
    )
    ax.grid(True, which="both", alpha=0.3)


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


def _figures(plt, result):
    """``file -> figure`` of the plots of the result's task (and the compression frontier)."""
    if result.summary.get("task") == "multiclass":
        plots = dict(CLASS_PLOTS)
    else:
        plots = {
            file: (1, lambda axes, result, draw=draw: draw(axes[0], result))
            for file, draw in PLOTS.items()
        }
    if result.summary.get("compression"):
        plots["frontier.png"] = (1, lambda axes, result: _frontier(axes[0], result))
    for file, (panels, draw) in plots.items():
        width = 6.4 if panels == 1 else 5.2 * panels
        fig, axes = plt.subplots(1, panels, figsize=(width, 4.8), dpi=110, squeeze=False)
        draw(list(axes[0]), result)
        yield file, fig


def write_report(result: BenchmarkResult, directory) -> Path:
    """Write ``index.html``, the PNG plots and ``result.json`` into ``directory``.

    Returns
    -------
    Path
        The HTML page.
    """
    plt = _pyplot()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    images = {}
    for file, fig in _figures(plt, result):
        fig.tight_layout()
        fig.savefig(out / file)
        plt.close(fig)
        images[file] = base64.b64encode((out / file).read_bytes()).decode()
    (out / "result.json").write_text(json.dumps(result.summary, indent=2))
    page = out / "index.html"
    page.write_text(_html(result.summary, images))
    return page


def _html(summary, images):
    s = summary
    columns = metric_columns(s) + COST_COLUMNS
    multiclass = s.get("task") == "multiclass"
    rows = []
    for name in MODELS:
        tds = "".join(f"<td>{c.text(s['models'][name])}</td>" for c in columns)
        rows.append(f'<tr><th style="color:{COLORS[name]}">{name}</th>{tds}</tr>')
    head = "".join(f"<th>{html.escape(c.long)}</th>" for c in columns)
    f, sp, d = s["fidelity"], s["speedup"], s["distillation"]
    figs = "".join(
        f'<figure class="{"wide" if k in ("pr_by_class.png", "confusion.png") else ""}">'
        f'<img alt="{html.escape(k)}" src="data:image/png;base64,{v}"></figure>'
        for k, v in images.items()
    )
    if multiclass:
        agreement = (
            f"<div><b>{f['agreement']:.2%}</b>same most probable class as the teacher</div>"
            f"<div><b>{f['mean_tv_distance']:.3f}</b>mean total-variation distance "
            "to the teacher</div>"
        )
    else:
        agreement = (
            f"<div><b>{f['spearman']:.3f}</b>rank correlation with the teacher</div>"
            f"<div><b>{f['agreement_at_1pct_fpr']:.2%}</b>same decisions at the teacher's 1% "
            "FPR threshold</div>"
        )
    fallback = (
        f'<p class="warn">Fallback: {html.escape(d["fallback"])}</p>' if d.get("fallback") else ""
    )
    encoding = "".join(
        f'<p class="sub">{html.escape(line)}</p>' for line in encoding_lines(s.get("encoding", {}))
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tabdistill benchmark: {html.escape(s["dataset"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1rem; max-width: 1300px;
        color: #222; }}
h1 {{ font-size: 1.5rem; }} .sub {{ color: #555; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }}
th, td {{ padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }}
thead th {{ background: #f3f3f3; }} tbody th {{ text-align: left; }}
.grid {{ display: grid; grid-template-columns: repeat(2, 1fr); gap: 1rem; }}
figure {{ margin: 0; }} img {{ width: 100%; border: 1px solid #eee; }}
figure.wide {{ grid-column: 1 / -1; }}
.kpi {{ display: flex; gap: 2rem; margin: 1rem 0; }} .kpi div {{ font-size: 1.1rem; }}
.kpi b {{ display: block; font-size: 1.6rem; color: #d9541e; }} .warn {{ color: #b00; }}
</style></head><body>
<h1>tabdistill benchmark: {html.escape(s["dataset"])}</h1>
<p class="sub">{s["rows"]:,} rows, {s["features"]} features, {html.escape(target_text(s))};
test split {s["test_rows"]:,} rows, seed {s["seed"]}. Student: {html.escape(str(d["student"]))},
knobs {html.escape(json.dumps(d["chosen"]))}.</p>
{encoding}
{fallback}
<div class="kpi">
<div><b>{sp["single_row_p50"]:,.0f}×</b>faster per row than the teacher (p50)</div>
<div><b>{sp["size"]:,.0f}×</b>smaller</div>
{agreement}
</div>
<table><thead><tr><th>model</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<p class="sub">Latency: one row at a time after warm-up; the teacher through its members'
<code>predict_proba</code> (one thread each), student and baseline through the compiled runtime.
Student fit time includes the teacher it learns from.</p>
{_class_html(s) if multiclass else _decision_html(s)}
<div class="grid">{figs}</div>
</body></html>
"""


def _table(head, rows) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _decision_html(s) -> str:
    """Decision, thresholds, intervals and feature importance as HTML tables."""
    d = s["decision"]
    parts = [
        "<h2>Decision</h2>",
        f"<p>Rule <code>{html.escape(json.dumps(d['rule']))}</code> met on the validation rows; "
        "on the test rows:</p>",
        _table(
            ["threshold", "alerts per 10k", "recall", "precision", "FPR"],
            [
                [
                    _num(d["threshold"]),
                    f"{d['alerts_per_10k']:.1f}",
                    f"{d['recall']:.4f}",
                    f"{d['precision']:.4f}",
                    f"{d['fpr']:.4f}",
                ]
            ],
        ),
        "<h2>Thresholds at target false-positive rates (test rows)</h2>",
        _table(
            ["model", "target FPR", "threshold", "alerts per 10k", "recall", "precision", "FPR"],
            [
                [
                    r["model"],
                    f"{r['target_fpr']:.2%}",
                    _num(r["threshold"]),
                    f"{r['alerts_per_10k']:.1f}",
                    f"{r['recall']:.4f}",
                    f"{r['precision']:.4f}",
                    f"{r['fpr']:.4f}",
                ]
                for r in s["thresholds"]
            ],
        ),
    ]
    if s.get("intervals"):
        parts += [
            "<h2>95% bootstrap intervals (test rows, stratified, paired)</h2>",
            _table(
                ["model or difference", "ROC-AUC", "PR-AUC"],
                [
                    [name, _interval(m["roc_auc"]), _interval(m["average_precision"])]
                    for name, m in s["intervals"].items()
                ],
            ),
        ]
    return "\n".join(parts + _importance_html(s))


def _class_html(s) -> str:
    """Per-class recall and precision of the three models, intervals and feature importance."""
    head = ["class", "rows (test)"] + [f"{m} {x}" for m in MODELS for x in ("recall", "precision")]
    rows = []
    for k, c in enumerate(s["classes"]):
        row = [c, f"{s['per_class']['student']['support'][k]:,.0f}"]
        for name in MODELS:
            pc = s["per_class"][name]
            row += [_num(pc["recall"][k]), f"{pc['precision'][k]:.4f}"]
        rows.append(row)
    parts = [
        "<h2>Per class (test rows)</h2>",
        _table(head, rows),
        f'<p class="sub">{html.escape(fidelity_text(s["fidelity"]))}</p>',
    ]
    if s.get("intervals"):
        parts += [
            "<h2>95% bootstrap intervals (test rows, stratified, paired)</h2>",
            _table(
                ["model or difference", "ROC-AUC (macro)", "log loss"],
                [
                    [name, _interval(m["roc_auc"]), _interval(m["log_loss"])]
                    for name, m in s["intervals"].items()
                ],
            ),
        ]
    return "\n".join(parts + _importance_html(s))


def _importance_html(s) -> list[str]:
    if not s.get("feature_importance"):
        return []
    return [
        "<h2>Student feature importance</h2>",
        _table(
            ["feature", "share of importance"],
            [[f["feature"], f"{f['importance']:.1%}"] for f in s["feature_importance"]],
        ),
    ]


def _num(v) -> str:
    return "never" if v is None else f"{v:.4f}"


def _interval(v) -> str:
    return f"{v['estimate']:.4f} [{v['low']:.4f}, {v['high']:.4f}]"
