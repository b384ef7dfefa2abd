"""Argument types and option groups shared by several commands."""

from __future__ import annotations

import argparse

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3


def factors(text):
    """``"0,1,2"`` -> ``(0.0, 1.0, 2.0)``: non-negative numbers."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"factors must be non-negative, got {text!r}")
    return values


def fraction(text):
    """A number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def positive_int(text):
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_number(text, unit: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of {unit}, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of {unit}, got {text!r}")
    return value


def seconds(text):
    """A positive number of seconds."""
    return _positive_number(text, "seconds")


def budgets(text):
    """``"2,5,10"`` -> ``(2.0, 5.0, 10.0)`` microseconds; ``"none"`` -> ``()``."""
    if text.strip().lower() == "none":
        return ()
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated microseconds such as 2,5,10,20,50,100 or none, got {text!r}"
        ) from None
    if any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"latency budgets must be positive, got {text!r}")
    return values


def microseconds(text):
    """A positive number of microseconds."""
    return _positive_number(text, "microseconds")


def threshold(text):
    """``"0.3"`` -> 0.3; ``"fpr=0.01"`` -> ``{"fpr": 0.01}`` (also alert_rate=, cost_ratio=)."""
    from ..metrics import check_threshold_spec

    key, sep, value = text.partition("=")
    try:
        spec = {key.strip(): float(value)} if sep else float(text)
        check_threshold_spec(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc} Examples: 0.3, fpr=0.01, alert_rate=0.005, cost_ratio=20"
        ) from None
    return spec


def scheduler(text):
    """``"local"`` or a Dask scheduler address with a port, checked before any work."""
    from ..ops.config import check_scheduler_address

    try:
        return check_scheduler_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def members(text):
    """``"lightgbm,xgboost"`` -> a list of built-in teacher member names."""
    from ..distill.members import MEMBER_DEFAULTS

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in MEMBER_DEFAULTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown teacher member(s) {unknown}; choose from {sorted(MEMBER_DEFAULTS)}"
        )
    return names


def add_csv_options(p):
    """``--sep`` and ``--decimal``: how the input CSV is written."""
    p.add_argument(
        "--sep",
        default=",",
        help="the CSV file's column separator (default ','; e.g. ';' or tab)",
    )
    p.add_argument(
        "--decimal",
        default=".",
        help="the CSV file's decimal mark (default '.'; ',' where numbers are written 1,5)",
    )


def read_options(args) -> dict:
    """The checked ``read_csv`` options of ``--sep`` and ``--decimal``."""
    from ..data.io import csv_options

    return csv_options(args.sep, args.decimal)


def add_model_options(p):
    """Options that shape the teacher, the student and augmentation."""
    g = p.add_argument_group("teacher, student and augmentation")
    g.add_argument(
        "--members",
        type=members,
        metavar="M1,M2",
        help="teacher members (default: lightgbm,xgboost,random_forest,extra_trees,logistic, "
        "plus lightgbm_no_high_card on a table with a column of more than 100 levels)",
    )
    g.add_argument(
        "--student",
        default="auto",
        choices=["auto", "lightgbm", "tree", "linear"],
        help="student model (default: auto, LightGBM but a linear student where the "
        "teacher is mostly its logistic-regression member)",
    )
    g.add_argument("--n-estimators", type=int, help="student trees (lightgbm)")
    g.add_argument("--num-leaves", type=int, help="leaves per student tree (lightgbm)")
    g.add_argument("--max-depth", type=int, help="depth of the tree student")
    g.add_argument(
        "--latency-budget",
        type=microseconds,
        metavar="US",
        help="single-row p99 latency the shipped student may take, in microseconds "
        "(default: 10); larger budgets allow larger students",
    )
    g.add_argument(
        "--augmenter",
        default="munge",
        choices=["munge", "marginal", "gaussian"],
        help="how synthetic rows are made for the teacher to label (default: munge)",
    )
    g.add_argument(
        "--augment-factors",
        type=factors,
        metavar="F1,F2",
        help="candidate synthetic rows per training row (default: 0,1,2)",
    )
    g.add_argument(
        "--n-jobs", type=int, default=-1, help="threads for fitting (default: all cores)"
    )
    g.add_argument(
        "--compress",
        action="store_true",
        help="also compress the student (quantized leaves, L1 tree refit); chosen on validation",
    )
    g.add_argument(
        "--time-limit",
        type=seconds,
        metavar="SECONDS",
        help="time budget of the fit: stages share it and cut work to meet it (fewer folds, "
        "members, synthetic rows, candidates, frontier fits); the report lists the cuts "
        "(default: none)",
    )
    g.add_argument(
        "--threshold",
        type=threshold,
        metavar="T",
        help="decision threshold: a probability, or fpr=0.01 / alert_rate=0.005 / "
        "cost_ratio=20 met on validation (default: 0.5)",
    )


def distiller_params(args) -> dict:
    """:class:`~tabdistill.DistilledClassifier` parameters from the model options."""
    params = {"student": args.student, "augmenter": args.augmenter, "n_jobs": args.n_jobs}
    if args.threshold is not None:
        params["threshold"] = args.threshold
    if getattr(args, "latency_budget", None) is not None:
        params["latency_budget"] = args.latency_budget
    if getattr(args, "time_limit", None) is not None:
        params["time_limit"] = args.time_limit
    if args.members:
        params["teacher"] = {"members": args.members}
    if args.augment_factors is not None:
        params["augment_factors"] = args.augment_factors
    if getattr(args, "compress", False):
        params["compress"] = True
    size = {
        key: getattr(args, key)
        for key in ("n_estimators", "num_leaves", "max_depth")
        if getattr(args, key, None) is not None
    }
    if size:
        params["student_params"] = size
    return params


def check_output(path, what: str):
    """Fail now, before any work, if ``path`` cannot be written (its folder is created)."""
    from pathlib import Path

    from ..exceptions import DataError

    if path is None:
        return
    path = Path(path)
    parent = path if what == "folder" else path.parent
    if path.is_dir() and what != "folder":
        raise DataError(f"{what} '{path}' is a folder: give a file name.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the folder for {what} '{path}': {exc.strerror}.") from None
