"""``tabdistill retrain``: a scheduled job with a quality gate and a model registry."""

from __future__ import annotations

import os

from .options import seconds

#: CLI flags that override one config key each.
FLAGS = {
    "train": ("data", "train"),
    "target": ("data", "target"),
    "holdout": ("data", "holdout"),
    "registry": ("registry", "path"),
    "seed": ("run", "seed"),
    "n_jobs": ("run", "n_jobs"),
    "time_limit": ("run", "time_limit"),
}


def add_parser(sub, common):
    p = sub.add_parser(
        "retrain",
        help="retrain from a config file; promote only if the quality gate passes",
        parents=[common],
    )
    p.add_argument(
        "--config",
        required=True,
        help="TOML job config; relative paths inside it are relative to the config file's "
        "folder, paths given on the command line (here, --train, --holdout, --registry, "
        "--set) to the working directory",
    )
    p.add_argument("--train", help="override data.train (path or glob)")
    p.add_argument("--target", help="override data.target")
    p.add_argument("--holdout", help="override data.holdout (a labelled file)")
    p.add_argument("--registry", help="override registry.path")
    p.add_argument("--seed", type=int, help="override run.seed")
    p.add_argument("--n-jobs", type=int, help="override run.n_jobs")
    p.add_argument("--time-limit", type=seconds, metavar="SECONDS", help="override run.time_limit")
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override any config key, e.g. --set gate.min_roc_auc=0.7",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="evaluate the gate; write and promote nothing"
    )
    p.add_argument(
        "--even-if-unchanged",
        action="store_true",
        help="train even when the data, holdout and settings are those of the production "
        "version (by default such a run trains nothing and says so; --dry-run always trains)",
    )
    p.set_defaults(func=run)


def _from_here(overrides):
    """Paths typed on the command line are relative to the working directory, not to the
    config file's folder (which relative paths inside the config are relative to)."""
    from ..ops.config import PATH_KEYS

    return [
        (section, key, os.path.abspath(value))
        if (section, key) in PATH_KEYS and isinstance(value, str) and value
        else (section, key, value)
        for section, key, value in overrides
    ]


def run(args) -> int:
    from ..exceptions import ConfigError
    from ..ops.config import parse_override
    from ..ops.retrain import log_config_failure, run_job

    overrides = []
    for flag, (section, key) in FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            overrides.append((section, key, value))
    try:
        overrides += [parse_override(o) for o in args.set or ()]
    except ConfigError as exc:
        log_config_failure(args.config, _from_here(overrides), exc)
        raise
    overrides = _from_here(overrides)
    outcome = run_job(
        args.config, overrides, dry_run=args.dry_run, even_if_unchanged=args.even_if_unchanged
    )
    if outcome.outcome == "unchanged":
        print(f"unchanged: {outcome.gate.reasons[0]}; production stays {outcome.version}")
        return outcome.exit_code
    student = outcome.manifest["metrics"]["student"]
    p99 = outcome.manifest["latency"]["single_row_p99_us"]
    print(
        f"student on holdout: ROC-AUC {student['roc_auc']:.4f}, PR-AUC "
        f"{student['average_precision']:.4f}, p99 {p99:.1f} µs"
    )
    cut = (outcome.manifest.get("teacher_runtime") or {}).get("cut")
    if cut:  # registry.teacher_budget_us
        from ..evaluate.shipped_teacher import shipped_teacher_text

        print(shipped_teacher_text(cut, "holdout rows"))
    if outcome.outcome == "promoted":
        print(f"version {outcome.version} promoted to production")
    elif outcome.outcome == "rejected":
        print(
            f"version {outcome.version} rejected; production stays "
            f"{outcome.manifest['production_before']}:"
        )
    else:
        print(
            f"dry run: the candidate would be {'promoted' if outcome.gate.passed else 'rejected'}"
        )
    for reason in outcome.gate.reasons:
        print(f"  - {reason}")
    return outcome.exit_code
