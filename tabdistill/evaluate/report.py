"""A benchmark result as one self-contained HTML page, its PNG figures beside it.

A reviewer reads it top down in a minute: what was compared and on which rows (and a
warning when latency was measured on a busy machine), the headline ratios, the metrics
table, the chosen student's knobs as a table, the leaderboard of the candidates the fit
tried, the decision (binary) or per-class results (K classes), then the figures of
:mod:`tabdistill.evaluate.plots` (the student's feature importance among them). Images are
embedded, so the single file can be mailed or archived.

The page is the sections of :data:`SECTIONS` in order, each a function of the summary; a
new section (a frontier of latency against accuracy, say) is one function and one entry
there, its figure one entry in :func:`~tabdistill.evaluate.plots.figure_plan`.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .benchmark import BenchmarkResult
from .latency_frontier import frontier_advice, point_budget, point_source, whole_teacher
from .leaderboard import knob_rows, ranked
from .machine import busy_note
from .plots import COLORS, figures, pyplot
from .shipped_teacher import shipped_teacher_text
from .summary_text import encoding_lines, features_text, fidelity_text, target_text
from .table import COST_COLUMNS, MODELS, format_bytes, metric_columns

#: Figures drawn across the page's two columns.
WIDE = ("pr_by_class.png", "confusion.png")


def write_report(result: BenchmarkResult, directory) -> Path:
    """Write ``index.html``, the PNG figures and ``result.json`` into ``directory``.

    Returns
    -------
    Path
        The HTML page.
    """
    plt = pyplot()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    images = {}
    for file, fig in figures(plt, result):
        fig.tight_layout()
        fig.savefig(out / file)
        plt.close(fig)
        images[file] = base64.b64encode((out / file).read_bytes()).decode()
    (out / "result.json").write_text(json.dumps(result.summary, indent=2))
    page = out / "index.html"
    page.write_text(_html(result.summary, images))
    return page


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1rem; max-width: 1300px;
       color: #222; }
h1 { font-size: 1.5rem; } .sub { color: #555; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }
thead th { background: #f3f3f3; } tbody th { text-align: left; }
td.text { text-align: left; } tr.chosen td { font-weight: 600; background: #fdf1ea; }
.grid { display: grid; grid-template-columns: repeat(2, 1fr); gap: 1rem; }
figure { margin: 0; } img { width: 100%; border: 1px solid #eee; }
figure.wide { grid-column: 1 / -1; }
.kpi { display: flex; gap: 2rem; margin: 1rem 0; } .kpi div { font-size: 1.1rem; }
.kpi b { display: block; font-size: 1.6rem; color: #d9541e; } .warn { color: #b00; }
"""


def _html(summary, images) -> str:
    body = "\n".join(section(summary) for section in SECTIONS)
    figs = "".join(
        f'<figure class="{"wide" if k in WIDE else ""}">'
        f'<img alt="{html.escape(k)}" src="data:image/png;base64,{v}"></figure>'
        for k, v in images.items()
    )
    title = f"tabdistill benchmark: {html.escape(summary['dataset'])}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n<title>{title}</title>'
        f"\n<style>{_STYLE}</style></head><body>\n<h1>{title}</h1>\n{body}\n"
        f'<div class="grid">{figs}</div>\n</body></html>\n'
    )


def _header(s) -> str:
    d = s["distillation"]
    parts = [
        f'<p class="sub">{s["rows"]:,} rows, {features_text(s)}, '
        f"{html.escape(target_text(s))}; test split {s['test_rows']:,} rows, seed {s['seed']}. "
        f"Student: {html.escape(str(d['student']))}.</p>"
    ]
    parts += [f'<p class="sub">{html.escape(line)}</p>' for line in encoding_lines(s["encoding"])]
    if d.get("fallback"):
        parts.append(f'<p class="warn">Fallback: {html.escape(d["fallback"])}</p>')
    note = busy_note(s.get("environment", {}).get("load"))
    if note:
        parts.append(f'<p class="warn">{html.escape(note)}</p>')
    return "\n".join(parts)


def _kpis(s) -> str:
    f, sp = s["fidelity"], s["speedup"]
    if s.get("task") == "multiclass":
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
    return (
        f'<div class="kpi">\n<div><b>{sp["single_row_p50"]:,.0f}×</b>faster per row than the '
        f"teacher (p50)</div>\n<div><b>{sp['size']:,.0f}×</b>smaller</div>\n{agreement}\n</div>"
    )


def _metrics(s) -> str:
    columns = metric_columns(s) + COST_COLUMNS
    rows = []
    for name in MODELS:
        tds = "".join(f"<td>{c.text(s['models'][name])}</td>" for c in columns)
        rows.append(f'<tr><th style="color:{COLORS[name]}">{name}</th>{tds}</tr>')
    head = "".join(f"<th>{html.escape(c.long)}</th>" for c in columns)
    return (
        f"<table><thead><tr><th>model</th>{head}</tr></thead>\n"
        f"<tbody>{''.join(rows)}</tbody></table>\n"
        '<p class="sub">Latency: one row at a time after warm-up; the teacher through its '
        "members' <code>predict_proba</code> (one thread each), student and baseline through "
        "the compiled runtime. Student fit time includes the teacher it learns from.</p>"
    )


def _knobs(s) -> str:
    rows = "".join(
        f'<tr><th>{html.escape(k)}</th><td class="text">{html.escape(v)}</td></tr>'
        for k, v in knob_rows(s["distillation"])
    )
    return f"<h2>Chosen student</h2>\n<table><tbody>{rows}</tbody></table>"


def _leaderboard(s) -> str:
    metric, rows, total = ranked(s["distillation"])
    if not rows:
        return ""
    name = metric.replace("_", " ").replace("roc auc", "ROC-AUC")
    head = [
        "rank",
        "student size",
        "synthetic rows / row",
        "alpha",
        "loss",
        "synthetic rows",
        f"validation {name}",
        "behind the best",
        "",
    ]
    body = "".join(
        f'<tr class="{"chosen" if r["chosen"] else ""}"><td>{r["rank"]}</td>'
        f'<td class="text">{html.escape(r["size"])}</td><td>{r["augment_factor"]:g}</td>'
        f'<td>{r["alpha"]:g}</td><td class="text">{html.escape(str(r["loss"]))}</td>'
        f"<td>{r['synthetic_rows']:,}</td><td>{r['score']:.4f}</td><td>{r['behind']:.4f}</td>"
        f'<td class="text">{"chosen" if r["chosen"] else ""}</td></tr>'
        for r in rows
    )
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    shown = "" if len(rows) == total else f" (the best {len(rows)} shown; all in result.json)"
    return (
        f"<h2>Candidates tried: {total} distilled students{shown}</h2>\n"
        '<p class="sub">Ranked by their score on the validation rows. The fit keeps the '
        "cheapest candidate within the size tolerance of the best, which need not rank first, "
        "and falls back to the baseline when no candidate beats it.</p>\n"
        f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    )


def _details(s) -> str:
    return _class_html(s) if s.get("task") == "multiclass" else _decision_html(s)


#: The page, top down (the figures follow).
def _latency_frontier(s) -> str:
    """The student at each latency budget and the compiled teacher, with what it means."""
    points = s.get("frontier")
    if not points:
        return ""
    rows = [
        [
            "teacher (compiled)"
            if whole_teacher(p)
            else point_budget(p, "µs") + (" (shipped)" if p.get("shipped") else ""),
            point_source(p),
            f"{p['roc_auc']:.4f}",
            f"{p['average_precision']:.4f}" if "average_precision" in p else "–",
            f"{p['single_row_p50_us']:,.1f}",
            f"{p['single_row_p99_us']:,.1f}" + ("" if p.get("within_budget", True) else " (over)"),
            format_bytes(p["size_bytes"]),
        ]
        for p in points
    ]
    head = ["budget", "source", "ROC-AUC", "PR-AUC", "p50 µs", "p99 µs", "size"]
    lead = s.get("teacher_lead")
    words = [f"Teacher − baseline on the test rows: {html.escape(lead['text'])}."] if lead else []
    advice = frontier_advice(s)
    shipped = s.get("shipped_teacher")
    more = [advice, shipped and shipped_teacher_text(shipped)]
    words += [html.escape(w[0].upper() + w[1:]) + "." for w in more if w]
    text = "".join(f'<p class="sub">{w}</p>' for w in words)
    return (
        '<h2>Latency-accuracy frontier</h2>\n<p class="sub">A student fit at each latency '
        "budget (single-row p99, measured on this machine), next to the teacher compiled for "
        "the runtime, whole and cut to each budget it does not fit (the share of its trees "
        f"kept).</p>{text}\n" + _table(head, rows)
    )


SECTIONS = [_header, _kpis, _metrics, _latency_frontier, _knobs, _leaderboard, _details]


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
    return "\n".join(parts)


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
    return "\n".join(parts)


def _num(v) -> str:
    return "never" if v is None else f"{v:.4f}"


def _interval(v) -> str:
    return f"{v['estimate']:.4f} [{v['low']:.4f}, {v['high']:.4f}]"
