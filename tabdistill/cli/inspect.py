"""``tabdistill inspect``: a model version's manifest, readable."""

from __future__ import annotations

import json

from .options import EXIT_OK


def add_parser(sub, common):
    p = sub.add_parser("inspect", help="show a model's manifest", parents=[common])
    p.add_argument("model", help="registry (its production model) or version dir")
    p.add_argument("--json", action="store_true", help="print the raw manifest")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..ops.registry import read_manifest, resolve

    manifest = read_manifest(resolve(args.model))
    print(json.dumps(manifest, indent=2) if args.json else format_manifest(manifest))
    return EXIT_OK


def _at(threshold) -> str:
    if threshold is None or threshold == float("inf"):
        return "never (no threshold met the rule)"
    return f"{threshold:.4f}"


def _decision_line(decision) -> str:
    if not decision:
        return "decision     flag at p >= 0.5 (written before thresholds were recorded)"
    if "positive_label" not in decision:
        return f"decision     {decision.get('rule', 'most probable class')}"
    return (
        f"decision     '{decision['positive_label']}' at p >= {_at(decision['threshold'])} "
        f"(rule {json.dumps(decision['rule'])}, chosen on validation)"
    )


def _teacher_line(manifest) -> list[str]:
    """Whether the version holds its compiled teacher (nothing for versions from before)."""
    shipped = manifest.get("teacher_runtime")
    if not shipped:
        return []
    if shipped.get("file"):
        decision = manifest.get("decision") or {}
        at = (
            f", its decision at p >= {_at(decision['teacher_threshold'])}"
            if "teacher_threshold" in decision
            else ""
        )
        lines = [
            f"teacher      compiled: {shipped['file']} ({shipped['size_bytes'] / 1024:,.0f} KB), "
            f"tabdistill predict --scorer teacher{at}"
        ]
        cut = shipped.get("cut")
        if cut:  # a teacher shipped at a latency budget
            from ..evaluate.shipped_teacher import shipped_teacher_text

            lines.append(f"             {shipped_teacher_text(cut, 'holdout rows')}")
        return lines
    return [f"teacher      not compiled into this version: {shipped.get('left_out', '?')}"]


_GATE = {"passed": "passed", "rejected": "REJECTED", "not run": "not run"}


def format_manifest(m: dict) -> str:
    """A manifest as readable text."""
    from ..evaluate.table import CLASS_METRIC_COLUMNS, METRIC_COLUMNS, text_table
    from ..ops.registry import gate_text

    gate = m.get("gate", {})
    data = m.get("data", {})
    if "class_shares" in data:
        columns = CLASS_METRIC_COLUMNS
        rates = ", ".join(f"{c} {v:.1%}" for c, v in data["class_shares"].items())
    else:
        columns = METRIC_COLUMNS
        rates = f"{data.get('positive_rate', 0):.2%} positive"
    lines = [
        f"version      {m['version']}  (created {m.get('created_at', '?')})",
        f"gate         {_GATE[gate_text(m)]}"
        + "".join(f"\n               - {r}" for r in gate.get("reasons", [])),
        f"data         {data.get('rows', '?'):,} rows ({data.get('train_rows', '?'):,} train, "
        f"{data.get('holdout_rows', '?'):,} holdout: {data.get('holdout', '?')}), {rates}",
        f"data sha256  {data.get('sha256', '?')}",
        f"knobs        {m.get('knobs')}"
        + (f"  FALLBACK: {m['fallback']}" if m.get("fallback") else ""),
        _decision_line(m.get("decision")),
        f"latency      p50 {m['latency']['single_row_p50_us']:.1f} µs, "
        f"p99 {m['latency']['single_row_p99_us']:.1f} µs",
        *_teacher_line(m),
        "",
    ]
    rows = dict(m.get("metrics", {}))
    if m.get("production_metrics"):
        rows[f"prod {m['production_before']}"] = m["production_metrics"]
    lines += text_table(rows, columns, first="holdout")
    schema = m.get("schema", {})
    cats = [c for c, r in schema.get("roles", {}).items() if r == "categorical"]
    lines += [
        "",
        f"features     {len(schema.get('features', []))} ({len(cats)} categorical: "
        f"{', '.join(cats[:8])}{'...' if len(cats) > 8 else ''})",
        "packages     " + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items()),
        "files        " + ", ".join(f"{k} ({v[:12]}...)" for k, v in m.get("files", {}).items()),
    ]
    return "\n".join(lines)
