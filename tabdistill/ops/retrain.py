"""Scheduled retraining: a config in, a new model version out, promoted only if it is good.

:func:`retrain` reads the training data named in the config
(:mod:`tabdistill.ops.config`), fits a :class:`~tabdistill.DistilledClassifier`,
scores teacher, student and baseline on a holdout (a separate file, or a
stratified share of the training data), checks the quality gate
(:mod:`tabdistill.ops.gate`) against the current production model, writes a new
version to the registry (:mod:`tabdistill.ops.registry`) and moves the
production pointer only when the gate passes. Every run appends one line to the
run log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from dataclasses import dataclass
from importlib import metadata

import numpy as np
import pandas as pd

from .. import metrics
from .._version import __version__
from ..data.io import read_table, split_target
from ..data.target import encode_target
from ..distill.compiled import compiled_teacher
from ..evaluate.benchmark import check_threshold_fits
from ..evaluate.cost import single_row_latency
from ..evaluate.shipped_teacher import teacher_at_budget
from ..exceptions import DataError, TabDistillError
from .config import build_distiller, load_config, read_options, registry_hint, training_files
from .dask_fit import fits_on
from .files import sha256
from .gate import GateResult, quality_gate
from .registry import RUNTIME, Registry, load_runtime

logger = logging.getLogger(__name__)


def package_versions() -> dict:
    versions = {"python": platform.python_version(), "tabdistill": __version__}
    for pkg in ("numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "numba", "skops"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return versions


def _read_training(config):
    files = training_files(config["data"]["train"])
    csv = read_options(config["data"])
    frames = [read_table(f, **csv) for f in files]
    columns = list(frames[0].columns)
    for f, frame in zip(files[1:], frames[1:]):
        if list(frame.columns) != columns:
            raise DataError(
                f"'{f}' has other columns than '{files[0]}'; all training files must match."
            )
    return files, pd.concat(frames, ignore_index=True)


def _split_holdout(config, X, y_raw, codes):
    """``(X_train, labels_train, (X_holdout, codes_holdout) or None)``, stratified on ``codes``."""
    from sklearn.model_selection import train_test_split

    if config["data"]["holdout"]:
        return X, y_raw, None
    idx = np.arange(len(codes))
    tr, ho = train_test_split(
        idx,
        test_size=config["data"]["holdout_fraction"],
        stratify=codes,
        random_state=config["run"]["seed"],
    )
    return X.iloc[tr], y_raw.iloc[tr], (X.iloc[ho], codes[ho])


def _row_hashes(frame, columns) -> np.ndarray:
    """One hash per row of ``frame[columns]``; numbers compare as numbers (``1`` == ``1.0``)."""
    parts = {}
    for c in columns:
        col = frame[c]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        parts[c] = col.astype("float64") if numeric else col.astype(str)
    return pd.util.hash_pandas_object(pd.DataFrame(parts), index=False).to_numpy()


def check_holdout_overlap(train, holdout, holdout_path, slack: float = 0.01) -> None:
    """Refuse a holdout whose rows are training rows (a copy of a training file, say).

    Rows are compared on every column the two share, target included. Some
    repeats are natural (small tables of few columns repeat rows): the
    holdout may repeat training rows up to twice as often as the training
    rows repeat each other, plus ``slack``.

    Raises
    ------
    DataError
        Naming the holdout file, how many of its rows are training rows, and
        the first few of their line numbers.
    """
    columns = [c for c in train.columns if c in holdout.columns]
    seen = _row_hashes(train, columns)
    found = np.flatnonzero(np.isin(_row_hashes(holdout, columns), seen))
    if not len(found):
        return
    share = len(found) / len(holdout)
    natural = float(pd.Series(seen).duplicated(keep=False).mean())
    if share <= 2 * natural + slack:
        logger.info(
            "%d holdout rows repeat training rows (as often as training rows repeat)", len(found)
        )
        return
    lines = ", ".join(str(i + 2) for i in found[:5])  # line 1 is the header
    raise DataError(
        f"{len(found):,} of {len(holdout):,} rows of the holdout '{holdout_path}' "
        f"({share:.0%}) are also training rows (data.train), e.g. its lines {lines}: scores on "
        "them would overstate the model. Give a holdout of other rows, or leave data.holdout "
        "unset to hold out a share of the training rows."
    )


@dataclass
class RunOutcome:
    """What a retraining run did."""

    #: "promoted", "rejected", "dry_run_passed", "dry_run_rejected", or "unchanged" (nothing
    #: trained or written: production already is this model; ``manifest`` is production's)
    outcome: str
    version: str | None
    gate: GateResult
    manifest: dict

    @property
    def exit_code(self) -> int:
        return 0 if self.gate.passed else 3


def run_job(
    config_path, overrides=(), *, dry_run: bool = False, even_if_unchanged: bool = False
) -> RunOutcome:
    """Load and validate a config, then :func:`retrain`; a run that fails is logged too.

    A config error is written to the run log of the registry the config names
    (when it names a usable one) before it is raised, like any other failure.
    """
    start = time.perf_counter()
    try:
        config = load_config(config_path, overrides)
    except TabDistillError as exc:
        log_config_failure(config_path, overrides, exc, start)
        raise
    return retrain(
        config,
        dry_run=dry_run,
        config_path=str(config_path),
        even_if_unchanged=even_if_unchanged,
    )


def log_config_failure(config_path, overrides, exc, start=None) -> None:
    """Write a config error to the run log of the registry the config names, if it names one."""
    hint = registry_hint(config_path, overrides)
    if hint is not None:
        start = time.perf_counter() if start is None else start
        _log_failure(Registry(hint), exc, str(config_path), start, stage="config")


def _log_failure(registry, exc, config_path, start, stage) -> None:
    try:
        registry.log_run(
            {
                "outcome": "failed",
                "stage": stage,
                "error": " ".join(str(exc).split()),
                "error_type": type(exc).__name__,
                "config": config_path,
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    except OSError as log_error:  # the registry itself is unusable: say so, keep the real error
        logger.warning("could not write the run log in '%s': %s", registry.root, log_error)


def retrain(
    config: dict,
    *,
    dry_run: bool = False,
    config_path: str | None = None,
    even_if_unchanged: bool = False,
) -> RunOutcome:
    """Run one retraining job; see the module docstring.

    A run whose training data, holdout and settings are those of the
    production version (:func:`fingerprint`) trains nothing; a run whose new
    model is identical to production writes nothing. Both are outcome
    ``"unchanged"`` and leave production as it is, unless ``even_if_unchanged``
    (a dry run always trains and evaluates).

    Returns
    -------
    RunOutcome
        ``exit_code`` is 0 when the candidate passed the gate (or nothing
        changed), 3 when it was rejected.
    """
    registry = Registry(config["registry"]["path"])
    start = time.perf_counter()
    try:
        fp = None if even_if_unchanged or dry_run else fingerprint(config)
        outcome = _retrain(config, registry, dry_run, start, fp)
    except Exception as exc:  # every failure is a line in the run log, then propagates
        _log_failure(registry, exc, config_path, start, stage="run")
        raise
    registry.log_run(
        {
            "outcome": outcome.outcome,
            "version": outcome.version,
            "reasons": outcome.gate.reasons,
            "student": outcome.manifest["metrics"]["student"],
            "production_before": outcome.manifest["production_before"],
            "config": config_path,
            "seconds": round(time.perf_counter() - start, 2),
        }
    )
    return outcome


@dataclass
class _Trained:
    """A fitted candidate and its holdout results, before it meets production."""

    model: object
    files: list
    rows: int
    target: object
    train_rows: int
    X_ho: pd.DataFrame
    y_ho: np.ndarray
    results: dict
    latency: dict
    teacher: object = None


def fingerprint(config: dict) -> str:
    """SHA-256 of what a run's model and its gate depend on: the bytes and names of the
    training and holdout files, every setting but where the run computes (``run.n_jobs``,
    ``run.dask_scheduler``) and stores (``[registry]``, but for the budget its compiled teacher
    is cut to, where set), and the tabdistill version."""
    settings = {
        section: {k: v for k, v in keys.items() if (section, k) not in _WHERE_IT_RUNS}
        for section, keys in config.items()
        if section != "registry"
    }
    if config["registry"]["teacher_budget_us"] is not None:  # unset: fingerprints as before
        settings["teacher_budget_us"] = config["registry"]["teacher_budget_us"]
    holdout = config["data"]["holdout"]
    text = json.dumps(
        {
            "train": sha256(training_files(config["data"]["train"]), with_names=True),
            "holdout": sha256(holdout, with_names=True) if holdout else None,
            "settings": settings,
            "tabdistill": __version__,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


#: Settings that change where and how fast a run computes, not what it trains; data paths are
#: hashed by the files' content and names instead.
_WHERE_IT_RUNS = {
    ("run", "n_jobs"),
    ("run", "dask_scheduler"),
    ("data", "train"),
    ("data", "holdout"),
}


def _unchanged(registry, fp, runtime=None, teacher_budget=None) -> RunOutcome | None:
    """The "unchanged" outcome when production was trained from the same fingerprint, or
    (given the new ``runtime``) holds the same model, its teacher cut to the same
    ``teacher_budget`` (None: whole); else None."""
    version = registry.production() if fp else None
    if version is None:
        return None
    manifest = registry.manifest(version)
    if manifest.get("fingerprint") == fp:
        why = (
            f"the training data, holdout and settings are those of production version "
            f"{version}: nothing was trained"
        )
    elif (
        runtime is not None
        and manifest["files"].get(RUNTIME) == _digest(runtime.to_bytes())
        and _teacher_budget(manifest) == teacher_budget
    ):
        why = f"the new model is identical to production version {version}: nothing was written"
    else:
        return None
    logger.info("unchanged: %s", why)
    return RunOutcome("unchanged", version, GateResult(True, [why]), manifest)


def _teacher_budget(manifest) -> float | None:
    """The latency budget a version's compiled teacher was cut to (None: whole)."""
    cut = (manifest.get("teacher_runtime") or {}).get("cut") or {}
    return cut.get("latency_budget_us")


def _digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _retrain(config, registry, dry_run, start, fp):
    same = _unchanged(registry, fp)
    if same is not None:
        return same
    trained = _train(config)
    with registry.lock():  # compare with production, write and promote as one step
        # again under the lock: a run started together with this one may have promoted
        budget = config["registry"]["teacher_budget_us"]
        same = _unchanged(registry, fp, trained.model.runtime_, budget)
        if same is not None:
            return same
        production_version, production = _production_scores(registry, trained)
        gate = quality_gate(
            trained.results["student"],
            trained.results["teacher"],
            production,
            trained.latency["p99_us"],
            config["gate"],
        )
        manifest = _manifest(config, trained, production_version, production, gate, start)
        manifest["fingerprint"] = fp
        if dry_run:
            outcome = "dry_run_passed" if gate.passed else "dry_run_rejected"
            return RunOutcome(outcome, None, gate, manifest)
        keep = trained.model if config["registry"]["keep_teacher"] else None
        teacher, info = compiled_teacher(trained.model), None
        if trained.teacher is not None:  # cut to registry.teacher_budget_us
            teacher, info = trained.teacher.runtime, trained.teacher.info
        version = registry.write_version(
            manifest, trained.model.runtime_, keep, teacher=teacher, teacher_info=info
        )
        manifest = registry.manifest(version)  # as written: its files and teacher runtime too
        if gate.passed:
            registry.promote(version)
            logger.info("version %s promoted to production", version)
        else:
            logger.warning("version %s rejected: %s", version, "; ".join(gate.reasons))
    return RunOutcome("promoted" if gate.passed else "rejected", version, gate, manifest)


def _train(config) -> _Trained:
    """Read the data, fit the distiller, score teacher / student / baseline on the holdout."""
    files, frame = _read_training(config)
    X, y_raw = split_target(frame, config["data"]["target"])
    target = encode_target(y_raw, config["data"]["positive_label"])
    check_threshold_fits(config["decision"]["threshold"], target, "config key 'decision.threshold'")
    X_train, y_train, holdout = _split_holdout(config, X, y_raw, target.y)
    if holdout is None:
        hframe = read_table(config["data"]["holdout"], **read_options(config["data"]))
        check_holdout_overlap(frame, hframe, config["data"]["holdout"])
        X_ho, y_ho_raw = split_target(hframe, config["data"]["target"])
        if target.n_classes == 2:
            y_ho = encode_target(y_ho_raw, positive_label=target.pos_label).y
        else:
            y_ho = target.codes_of(y_ho_raw)
    else:
        X_ho, y_ho = holdout
    logger.info("training on %d rows, holding out %d", len(y_train), len(y_ho))
    # fit on the labels themselves (classes_ and decisions read as the data does), with the
    # positive class decided on all rows
    model = build_distiller(config).set_params(positive_label=target.pos_label)
    with fits_on(config["run"]["dask_scheduler"]):
        model.fit(X_train, y_train)
    runtime = model.runtime_
    Z_ho = model.encoder_.encode(X_ho)
    scores = {
        "teacher": model.teacher_.predict_proba_encoded(Z_ho),
        "student": runtime.score_encoded(Z_ho),
        "baseline": model.baseline_[-1].predict(Z_ho),
    }
    budget = config["registry"]["teacher_budget_us"]
    return _Trained(
        teacher=None if budget is None else teacher_at_budget(model, budget, Z_ho, y_ho),
        model=model,
        files=files,
        rows=len(frame),
        target=target,
        train_rows=len(y_train),
        X_ho=X_ho,
        y_ho=y_ho,
        results={name: metrics.classification_metrics(y_ho, p) for name, p in scores.items()},
        latency=single_row_latency(runtime.score_one, list(Z_ho[:1_000]), n_calls=2_000),
    )


def _production_scores(registry, trained):
    """The production version and its metrics on the candidate's holdout (None, None if none)."""
    version = registry.production()
    if version is None:
        return None, None
    manifest, runtime = load_runtime(registry.root / version)
    classes = [str(c) for c in trained.model.classes_]
    if manifest.get("classes", classes) != classes:
        raise DataError(
            f"the production model ({version}) predicts classes {manifest['classes']}, the "
            f"candidate {classes}: they cannot be compared on one holdout. Promote the "
            "candidate by hand (tabdistill registry promote --force) if the classes changed "
            "on purpose."
        )
    try:
        return version, metrics.classification_metrics(
            trained.y_ho, runtime.score_batch(trained.X_ho)
        )
    except TabDistillError as exc:
        raise DataError(
            f"the production model ({version}) cannot score this holdout, so the candidate "
            f"cannot be compared with it: {exc}"
        ) from None


def decision_of(model) -> dict:
    """How a fitted model turns probabilities into a label (``tabdistill predict``'s
    ``decision``), as a manifest records it: ``threshold`` for the student,
    ``teacher_threshold`` (the same rule met by the teacher) for the compiled teacher."""
    if model.decision_threshold_ is None:
        return {"threshold": None, "rule": "most probable class"}
    return {
        "threshold": model.decision_threshold_,
        "teacher_threshold": model.teacher_decision_threshold_,
        "rule": model.threshold,
        "positive_label": str(model.pos_label_),
        "negative_label": str(model.classes_[1 - model.positive_index_]),
    }


def with_teacher_threshold(decision: dict, shipped) -> dict:
    """``decision`` (of :func:`decision_of`) with the threshold of the teacher a version ships
    at a latency budget (a :class:`~tabdistill.evaluate.shipped_teacher.ShippedTeacher`; None:
    the whole teacher, whose threshold it has)."""
    if shipped is None or shipped.runtime is None or "teacher_threshold" not in decision:
        return decision
    return {**decision, "teacher_threshold": shipped.threshold}


def _label_rates(target) -> dict:
    """The positive rate (binary), or each class's share of the rows (K classes)."""
    if target.n_classes == 2:
        return {"positive_rate": float(target.y.mean())}
    shares = np.bincount(target.y, minlength=target.n_classes) / len(target.y)
    return {"class_shares": dict(zip((str(c) for c in target.classes), shares.tolist()))}


def _manifest(config, trained, production_version, production, gate, start) -> dict:
    model, latency = trained.model, trained.latency
    return {
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "packages": package_versions(),
        "schema": model.encoder_.schema_.to_dict(),
        "classes": [str(c) for c in model.classes_],
        "decision": with_teacher_threshold(decision_of(model), trained.teacher),
        "data": {
            "files": [str(f) for f in trained.files],
            "sha256": sha256(trained.files, with_names=True),
            "rows": int(trained.rows),
            "train_rows": int(trained.train_rows),
            "holdout_rows": int(len(trained.y_ho)),
            **_label_rates(trained.target),
            "holdout": config["data"]["holdout"]
            or f"{config['data']['holdout_fraction']:.0%} split",
        },
        "knobs": model.report_["chosen"],
        # the members fitted and their ensemble weights (the config may leave members unset)
        "teacher_weights": model.report_["teacher_weights"],
        "fallback": model.report_["fallback"],
        "time_budget": model.report_["time_budget"],
        "compression": model.report_["compression"],
        "metrics": trained.results,
        "production_before": production_version,
        "production_metrics": production,
        "latency": {"single_row_p50_us": latency["p50_us"], "single_row_p99_us": latency["p99_us"]},
        "timings": {**model.report_["timings"], "run": round(time.perf_counter() - start, 3)},
        "gate": {"passed": gate.passed, "reasons": gate.reasons, "checks": gate.checks},
        "config": config,
    }
