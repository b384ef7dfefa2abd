"""Scheduled retraining: a config file in, a new model version out, promoted only if it is good.

:func:`retrain` reads the training data named in the config, fits a
:class:`~tabdistill.DistilledClassifier`, scores teacher, student and baseline
on a holdout (a separate file, or a stratified share of the training data),
checks the quality gate against the current production model, writes a new
version to the registry (:mod:`tabdistill.registry`) and moves the production
pointer only when the gate passes. Every run appends one line to the run log.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import logging
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics
from ._version import __version__
from .cost import single_row_latency
from .data import encode_target, read_csv, split_target
from .exceptions import ConfigError, DataError, TabDistillError
from .registry import Registry, load_runtime

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

logger = logging.getLogger(__name__)

_ANY_LABEL = (str, int, bool)
#: Every config key: section -> key -> (accepted types, default). Nothing else is accepted.
CONFIG_SCHEMA = {
    "data": {
        "train": (str, None),
        "target": (str, None),
        "holdout": (str, ""),
        "holdout_fraction": (float, 0.2),
        "positive_label": (_ANY_LABEL, None),
    },
    "teacher": {
        "members": (list, ["lightgbm", "xgboost", "random_forest", "logistic"]),
        "cv": (int, 5),
    },
    "student": {
        "kind": (str, "lightgbm"),
        "params": (dict, {}),
    },
    "augment": {
        "method": (str, "munge"),
        "factors": (list, [0, 1, 2]),
        "alphas": (list, [0.0, 0.5, 1.0]),
    },
    "registry": {
        "path": (str, None),
        "keep_teacher": (bool, False),
    },
    "gate": {
        "max_roc_auc_drop": (float, 0.005),
        "max_pr_auc_drop": (float, 0.01),
        "max_teacher_gap": (float, 0.01),
        "min_roc_auc": (float, 0.6),
        "max_p99_us": (float, 100.0),
    },
    "run": {
        "seed": (int, 0),
        "n_jobs": (int, 1),
    },
}
_REQUIRED = [("data", "train"), ("data", "target"), ("registry", "path")]
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "a table",
}


def _type_ok(value, types) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types:
        return False
    if float in types and isinstance(value, int):
        return True
    return isinstance(value, types)


def _describe(types):
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def parse_override(text: str):
    """``section.key=value`` (value in TOML syntax, or a bare string) -> (section, key, value)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(
            f"override {text!r} must look like section.key=value, e.g. gate.min_roc_auc=0.7"
        )
    name, raw = text.split("=", 1)
    section, key = name.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return section, key, value


def load_config(path, overrides=()) -> dict:
    """Read and validate a retraining config; ``overrides`` are ``(section, key, value)``.

    Relative paths in the ``data`` and ``registry`` sections are resolved
    against the config file's folder.

    Raises
    ------
    ConfigError
        Naming the key, for an unknown section or key, a wrong type, a missing
        required key, or a data file that does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: '{path}'.")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"'{path}' is not valid TOML: {exc}") from None
    for section, key, value in overrides:
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            raise ConfigError(f"[{section}] must be a table.")
        raw[section][key] = value
    config = {}
    for section, body in raw.items():
        if section not in CONFIG_SCHEMA:
            raise ConfigError(
                f"unknown config section [{section}]; known sections are {sorted(CONFIG_SCHEMA)}."
            )
        if not isinstance(body, dict):
            raise ConfigError(f"[{section}] must be a table of keys.")
        for key, value in body.items():
            if key not in CONFIG_SCHEMA[section]:
                raise ConfigError(
                    f"unknown config key '{section}.{key}'; keys of [{section}] are "
                    f"{sorted(CONFIG_SCHEMA[section])}."
                )
            types = CONFIG_SCHEMA[section][key][0]
            if not _type_ok(value, types):
                raise ConfigError(
                    f"config key '{section}.{key}' must be {_describe(types)}, got {value!r}."
                )
    for section, keys in CONFIG_SCHEMA.items():
        config[section] = {
            k: copy.deepcopy(raw.get(section, {}).get(k, d)) for k, (_, d) in keys.items()
        }
    for section, key in _REQUIRED:
        if config[section][key] in (None, ""):
            raise ConfigError(f"config key '{section}.{key}' is required.")
    base = path.resolve().parent
    for section, key in (("data", "train"), ("data", "holdout"), ("registry", "path")):
        value = config[section][key]
        if value and not Path(value).is_absolute():
            config[section][key] = str(base / value)
    if not training_files(config["data"]["train"]):
        raise ConfigError(f"config key 'data.train': no file matches '{config['data']['train']}'.")
    if config["data"]["holdout"] and not Path(config["data"]["holdout"]).is_file():
        raise ConfigError(
            f"config key 'data.holdout': file not found: '{config['data']['holdout']}'."
        )
    if not 0 < config["data"]["holdout_fraction"] < 1:
        raise ConfigError("config key 'data.holdout_fraction' must be in (0, 1).")
    return config


def training_files(pattern: str) -> list[Path]:
    """Files matching a path or glob, sorted (so their hash and order are stable)."""
    return sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())


def data_fingerprint(files) -> str:
    """SHA-256 over the bytes of every file, in order."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(Path(f).name.encode())
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict:
    versions = {"python": platform.python_version(), "tabdistill": __version__}
    for pkg in ("numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "numba", "skops"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return versions


@dataclass
class GateResult:
    """Whether a candidate may replace production, and why not if it may not."""

    passed: bool
    reasons: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)


def quality_gate(
    candidate: dict, teacher: dict, production: dict | None, p99_us: float, gate: dict
) -> GateResult:
    """Check a candidate student's holdout metrics against the gate settings.

    Parameters
    ----------
    candidate, teacher : dict
        Holdout metrics (``roc_auc``, ``average_precision``) of the new student and its teacher.
    production : dict or None
        Holdout metrics of the production model on the same rows; None when there is none.
    p99_us : float
        The candidate's single-row p99 latency.
    gate : dict
        The ``[gate]`` section of the config.
    """
    checks = {
        "min_roc_auc": (
            candidate["roc_auc"] >= gate["min_roc_auc"],
            f"student ROC-AUC {candidate['roc_auc']:.4f} is below the floor "
            f"{gate['min_roc_auc']:.4f}",
        ),
        "max_teacher_gap": (
            teacher["roc_auc"] - candidate["roc_auc"] <= gate["max_teacher_gap"],
            f"student ROC-AUC {candidate['roc_auc']:.4f} is more than "
            f"{gate['max_teacher_gap']} below its teacher's {teacher['roc_auc']:.4f}",
        ),
        "max_p99_us": (
            p99_us <= gate["max_p99_us"],
            f"single-row p99 latency {p99_us:.1f} µs exceeds {gate['max_p99_us']} µs",
        ),
    }
    if production is not None:
        checks["max_roc_auc_drop"] = (
            candidate["roc_auc"] >= production["roc_auc"] - gate["max_roc_auc_drop"],
            f"ROC-AUC {candidate['roc_auc']:.4f} is more than {gate['max_roc_auc_drop']} below "
            f"production's {production['roc_auc']:.4f}",
        )
        checks["max_pr_auc_drop"] = (
            candidate["average_precision"]
            >= production["average_precision"] - gate["max_pr_auc_drop"],
            f"PR-AUC {candidate['average_precision']:.4f} is more than {gate['max_pr_auc_drop']} "
            f"below production's {production['average_precision']:.4f}",
        )
    reasons = [msg for ok, msg in checks.values() if not ok]
    return GateResult(not reasons, reasons, {k: bool(ok) for k, (ok, _) in checks.items()})


def _read_training(config):
    files = training_files(config["data"]["train"])
    frames = [read_csv(f) for f in files]
    columns = list(frames[0].columns)
    for f, frame in zip(files[1:], frames[1:]):
        if list(frame.columns) != columns:
            raise DataError(
                f"'{f}' has other columns than '{files[0]}'; all training files must match."
            )
    return files, pd.concat(frames, ignore_index=True)


def _split_holdout(config, X, y01):
    from sklearn.model_selection import train_test_split

    if config["data"]["holdout"]:
        return X, y01, None
    idx = np.arange(len(y01))
    tr, ho = train_test_split(
        idx,
        test_size=config["data"]["holdout_fraction"],
        stratify=y01,
        random_state=config["run"]["seed"],
    )
    return X.iloc[tr], y01[tr], (X.iloc[ho], y01[ho])


def _distiller(config):
    from .distill import DistilledClassifier

    return DistilledClassifier(
        teacher={"members": config["teacher"]["members"], "cv": config["teacher"]["cv"]},
        student=config["student"]["kind"],
        student_params=config["student"]["params"] or None,
        augmenter=config["augment"]["method"],
        augment_factors=tuple(config["augment"]["factors"]),
        alphas=tuple(config["augment"]["alphas"]),
        positive_label=config["data"]["positive_label"],
        random_state=config["run"]["seed"],
        n_jobs=config["run"]["n_jobs"],
    )


@dataclass
class RunOutcome:
    """What a retraining run did."""

    outcome: str  # "promoted", "rejected", "dry_run_passed", "dry_run_rejected"
    version: str | None
    gate: GateResult
    manifest: dict

    @property
    def exit_code(self) -> int:
        return 0 if self.gate.passed else 3


def retrain(config: dict, *, dry_run: bool = False, config_path: str | None = None) -> RunOutcome:
    """Run one retraining job; see the module docstring.

    Returns
    -------
    RunOutcome
        ``exit_code`` is 0 when the candidate passed the gate, 3 when it was rejected.
    """
    registry = Registry(config["registry"]["path"])
    start = time.perf_counter()
    try:
        outcome = _retrain(config, registry, dry_run, start)
    except TabDistillError as exc:
        registry.log_run(
            {
                "outcome": "failed",
                "error": str(exc),
                "config": config_path,
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
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


def _retrain(config, registry, dry_run, start):
    files, frame = _read_training(config)
    X, y_raw = split_target(frame, config["data"]["target"])
    target = encode_target(y_raw, config["data"]["positive_label"])
    X_train, y_train, holdout = _split_holdout(config, X, target.y)
    if holdout is None:
        hframe = read_csv(config["data"]["holdout"])
        X_ho, y_ho_raw = split_target(hframe, config["data"]["target"])
        y_ho = encode_target(y_ho_raw, positive_label=target.classes[1]).y
    else:
        X_ho, y_ho = holdout
    logger.info("training on %d rows, holding out %d", len(y_train), len(y_ho))
    model = _distiller(config).fit(X_train, y_train)
    runtime = model.runtime_
    Z_ho = model.encoder_.transform(X_ho)
    scores = {
        "teacher": model.teacher_.predict_proba_encoded(Z_ho),
        "student": runtime.score_batch(Z_ho),
        "baseline": model.baseline_[-1].predict(Z_ho),
    }
    results = {name: metrics.classification_metrics(y_ho, p) for name, p in scores.items()}
    latency = single_row_latency(runtime.score_one, list(Z_ho[:1_000]), n_calls=2_000)

    production_version = registry.production()
    production = None
    if production_version is not None:
        _, prod_runtime = load_runtime(registry.root / production_version)
        try:
            production = metrics.classification_metrics(y_ho, prod_runtime.score_batch(X_ho))
        except TabDistillError as exc:
            raise DataError(
                f"the production model ({production_version}) cannot score this "
                f"holdout, so the candidate cannot be compared with it: {exc}"
            ) from None
    gate = quality_gate(
        results["student"], results["teacher"], production, latency["p99_us"], config["gate"]
    )
    manifest = {
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "packages": package_versions(),
        "schema": model.encoder_.schema(),
        "classes": [str(c) for c in model.classes_],
        "data": {
            "files": [str(f) for f in files],
            "sha256": data_fingerprint(files),
            "rows": int(len(frame)),
            "train_rows": int(len(y_train)),
            "holdout_rows": int(len(y_ho)),
            "positive_rate": float(target.y.mean()),
            "holdout": config["data"]["holdout"]
            or f"{config['data']['holdout_fraction']:.0%} split",
        },
        "knobs": model.report_["chosen"],
        "fallback": model.report_["fallback"],
        "metrics": results,
        "production_before": production_version,
        "production_metrics": production,
        "latency": {"single_row_p50_us": latency["p50_us"], "single_row_p99_us": latency["p99_us"]},
        "timings": {**model.report_["timings"], "run": round(time.perf_counter() - start, 3)},
        "gate": {"passed": gate.passed, "reasons": gate.reasons, "checks": gate.checks},
        "config": config,
    }
    if dry_run:
        return RunOutcome(
            "dry_run_passed" if gate.passed else "dry_run_rejected", None, gate, manifest
        )
    keep = model if config["registry"]["keep_teacher"] else None
    version = registry.write_version(manifest, runtime, keep)
    if gate.passed:
        registry.promote(version)
        logger.info("version %s promoted to production", version)
    else:
        logger.warning("version %s rejected: %s", version, "; ".join(gate.reasons))
    return RunOutcome("promoted" if gate.passed else "rejected", version, gate, manifest)
