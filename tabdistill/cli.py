"""The ``tabdistill`` command line.

Exit codes: 0 success; 2 bad input, configuration or model file (one line on
stderr, no traceback); 3 a retraining run that the quality gate rejected.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

from ._version import __version__
from .exceptions import TabDistillError

logger = logging.getLogger("tabdistill")

EXIT_OK, EXIT_USAGE, EXIT_REJECTED = 0, 2, 3


def _factors(text):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"factors must be non-negative, got {text!r}")
    return values


def _student_params(args) -> dict:
    params = {}
    for key in ("n_estimators", "num_leaves", "max_depth"):
        value = getattr(args, key, None)
        if value is not None:
            params[key] = value
    return params


def _members(text):
    from .teacher import MEMBER_DEFAULTS

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in MEMBER_DEFAULTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown teacher member(s) {unknown}; choose from {sorted(MEMBER_DEFAULTS)}"
        )
    return names


def _distiller_params(args) -> dict:
    params = {"student": args.student, "augmenter": args.augmenter, "n_jobs": args.n_jobs}
    if args.members:
        params["teacher"] = {"members": args.members}
    if args.augment_factors is not None:
        params["augment_factors"] = args.augment_factors
    if _student_params(args):
        params["student_params"] = _student_params(args)
    return params


def cmd_benchmark(args) -> int:
    from .benchmark import format_table, run_benchmark
    from .data import read_csv

    frame = read_csv(args.path)
    name = Path(args.path).name.split(".")[0]
    result = run_benchmark(
        frame,
        args.target,
        dataset=name,
        test_size=args.test_size,
        seed=args.seed,
        positive_label=args.positive_label,
        distiller_params=_distiller_params(args),
        latency_calls=args.latency_calls,
        batch_rows=args.batch_rows,
    )
    print(format_table(result.summary))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result.summary, indent=2))
        print(f"\nJSON written to {args.json}")
    if args.report:
        from .report import write_report

        page = write_report(result, args.report)
        print(f"report written to {page}")
    return EXIT_OK


def cmd_make_fraud(args) -> int:
    from .datasets import make_fraud

    frame = make_fraud(args.rows, fraud_rate=args.fraud_rate, random_state=args.seed)
    if Path(args.output).exists() and not args.overwrite:
        raise TabDistillError(f"'{args.output}' exists; pass --overwrite to replace it.")
    frame.to_csv(args.output, index=False)
    print(f"{len(frame):,} rows ({frame['is_fraud'].mean():.2%} fraud) written to {args.output}")
    return EXIT_OK


def cmd_retrain(args) -> int:
    from .jobs import load_config, parse_override, retrain

    overrides = [parse_override(o) for o in args.set or ()]
    for flag, (section, key) in _RETRAIN_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            overrides.append((section, key, value))
    config = load_config(args.config, overrides)
    run = retrain(config, dry_run=args.dry_run, config_path=str(args.config))
    student = run.manifest["metrics"]["student"]
    p99 = run.manifest["latency"]["single_row_p99_us"]
    print(
        f"student on holdout: ROC-AUC {student['roc_auc']:.4f}, PR-AUC "
        f"{student['average_precision']:.4f}, p99 {p99:.1f} µs"
    )
    if run.outcome == "promoted":
        print(f"version {run.version} promoted to production")
    elif run.outcome == "rejected":
        print(
            f"version {run.version} rejected; production stays {run.manifest['production_before']}:"
        )
    else:
        print(f"dry run: the candidate would be {'promoted' if run.gate.passed else 'rejected'}")
    for reason in run.gate.reasons:
        print(f"  - {reason}")
    return run.exit_code


_RETRAIN_FLAGS = {
    "train": ("data", "train"),
    "target": ("data", "target"),
    "holdout": ("data", "holdout"),
    "registry": ("registry", "path"),
    "seed": ("run", "seed"),
    "n_jobs": ("run", "n_jobs"),
}


def cmd_predict(args) -> int:
    from .scoring import score_csv

    n = score_csv(
        args.model,
        args.input,
        args.output,
        id_column=args.id_column,
        chunk_size=args.chunk_size,
        overwrite=args.overwrite,
    )
    print(f"{n:,} rows scored -> {args.output}")
    return EXIT_OK


def cmd_inspect(args) -> int:
    from .registry import read_manifest, resolve

    manifest = read_manifest(resolve(args.model))
    if args.json:
        print(json.dumps(manifest, indent=2))
    else:
        print(format_manifest(manifest))
    return EXIT_OK


def format_manifest(m: dict) -> str:
    """A manifest as readable text."""
    gate = m.get("gate", {})
    data = m.get("data", {})
    lines = [
        f"version      {m['version']}  (created {m.get('created_at', '?')})",
        f"gate         {'passed' if gate.get('passed') else 'REJECTED'}"
        + "".join(f"\n               - {r}" for r in gate.get("reasons", [])),
        f"data         {data.get('rows', '?'):,} rows ({data.get('train_rows', '?'):,} train, "
        f"{data.get('holdout_rows', '?'):,} holdout: {data.get('holdout', '?')}), "
        f"{data.get('positive_rate', 0):.2%} positive",
        f"data sha256  {data.get('sha256', '?')}",
        f"knobs        {m.get('knobs')}"
        + (f"  FALLBACK: {m['fallback']}" if m.get("fallback") else ""),
        f"latency      p50 {m['latency']['single_row_p50_us']:.1f} µs, "
        f"p99 {m['latency']['single_row_p99_us']:.1f} µs",
        "",
        f"{'holdout':<12}{'ROC-AUC':>9}{'PR-AUC':>9}{'R@1%FPR':>9}{'logloss':>9}{'ECE':>8}",
    ]
    rows = dict(m.get("metrics", {}))
    if m.get("production_metrics"):
        rows[f"prod {m['production_before']}"[:11]] = m["production_metrics"]
    for name, r in rows.items():
        lines.append(
            f"{name:<12}{r['roc_auc']:>9.4f}{r['average_precision']:>9.4f}"
            f"{r['recall_at_1pct_fpr']:>9.4f}{r['log_loss']:>9.4f}{r['ece']:>8.4f}"
        )
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


def _add_model_options(p):
    g = p.add_argument_group("teacher, student and augmentation")
    g.add_argument(
        "--members",
        type=_members,
        metavar="M1,M2",
        help="teacher members (default: lightgbm,xgboost,random_forest,logistic)",
    )
    g.add_argument(
        "--student",
        default="lightgbm",
        choices=["lightgbm", "tree", "linear"],
        help="student model (default: lightgbm)",
    )
    g.add_argument("--n-estimators", type=int, help="student trees (lightgbm)")
    g.add_argument("--num-leaves", type=int, help="leaves per student tree (lightgbm)")
    g.add_argument("--max-depth", type=int, help="depth of the tree student")
    g.add_argument("--augmenter", default="munge", choices=["munge", "marginal", "gaussian"])
    g.add_argument(
        "--augment-factors",
        type=_factors,
        metavar="F1,F2",
        help="candidate synthetic rows per training row (default: 0,1,2)",
    )
    g.add_argument(
        "--n-jobs", type=int, default=-1, help="threads for fitting (default: all cores)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tabdistill",
        description="Distil a tabular ensemble into a compact model that scores in microseconds.",
    )
    parser.add_argument("--version", action="version", version=f"tabdistill {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help):
        return sub.add_parser(name, help=help, parents=[common])

    p = command("benchmark", "teacher vs student vs baseline on a CSV file")
    p.add_argument("path", help="CSV file (plain or .gz)")
    p.add_argument("--target", required=True, help="name of the binary target column")
    p.add_argument("--positive-label", help="label of the positive class (default: inferred)")
    p.add_argument("--test-size", type=float, default=0.25, help="held-out share (default 0.25)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="OUT", help="write the results as JSON")
    p.add_argument("--report", metavar="DIR", help="write an HTML report with plots")
    p.add_argument("--latency-calls", type=int, default=2_000, help="timed single-row calls")
    p.add_argument("--batch-rows", type=int, default=100_000, help="rows per batch timing run")
    _add_model_options(p)
    p.set_defaults(func=cmd_benchmark)

    p = command("make-fraud", "write a synthetic fraud dataset as CSV")
    p.add_argument("output", help="CSV path (.csv or .csv.gz)")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--fraud-rate", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_make_fraud)

    p = command("retrain", "retrain from a config file; promote only if the quality gate passes")
    p.add_argument("--config", required=True, help="TOML job config")
    p.add_argument("--train", help="override data.train (path or glob)")
    p.add_argument("--target", help="override data.target")
    p.add_argument("--holdout", help="override data.holdout")
    p.add_argument("--registry", help="override registry.path")
    p.add_argument("--seed", type=int, help="override run.seed")
    p.add_argument("--n-jobs", type=int, help="override run.n_jobs")
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override any config key, e.g. --set gate.min_roc_auc=0.7",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="evaluate the gate; write and promote nothing"
    )
    p.set_defaults(func=cmd_retrain)

    p = command("predict", "score a CSV file with a registered model, in chunks")
    p.add_argument("--model", required=True, help="registry (its production model) or version dir")
    p.add_argument("--input", required=True, help="CSV to score (plain or .gz)")
    p.add_argument("--output", required=True, help="CSV to write")
    p.add_argument("--id-column", help="input column to copy into the output")
    p.add_argument("--chunk-size", type=int, default=100_000, help="rows per chunk (bounds memory)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_predict)

    p = command("inspect", "show a model's manifest")
    p.add_argument("model", help="registry (its production model) or version dir")
    p.add_argument("--json", action="store_true", help="print the raw manifest")
    p.set_defaults(func=cmd_inspect)
    return parser


def _configure_logging(args):
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="tabdistill: %(message)s", stream=sys.stderr)
    for noisy in ("numba", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.simplefilter("default" if args.verbose else "ignore", DeprecationWarning)
    warnings.formatwarning = lambda msg, cat, *a, **k: f"tabdistill: warning: {msg}\n"


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        return args.func(args)
    except TabDistillError as exc:
        print(f"tabdistill: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tabdistill: interrupted", file=sys.stderr)
        return 130
