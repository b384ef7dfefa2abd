"""The retraining job's configuration: a TOML file, validated key by key.

Every key a job may set is in :data:`CONFIG_SCHEMA` with its type and default;
anything else is refused with a message naming the key, before any data is read.
Values are then checked by the one authority on them: the
:class:`~tabdistill.DistilledClassifier` the config describes is built and its
parameter validation run (:func:`build_distiller`), so a config cannot accept
what the estimator would refuse after minutes of training.
"""

from __future__ import annotations

import copy
import glob
import importlib.util
import os
import re
from pathlib import Path

from .._compat import tomllib
from .._suggest import did_you_mean
from ..exceptions import ConfigError

_ANY_LABEL = (str, int, bool)
#: Every config key: section -> key -> (accepted types, default). Nothing else is accepted.
CONFIG_SCHEMA = {
    "data": {
        "train": (str, None),
        "target": (str, None),
        "holdout": (str, ""),
        "holdout_fraction": (float, 0.2),
        "positive_label": (_ANY_LABEL, None),
        "sep": (str, ","),
        "decimal": (str, "."),
    },
    "teacher": {
        "members": (list, None),  # None: the teacher's default members, as the library fits
        "cv": (int, None),  # None: the teacher's default (5 folds, 3 above 100k rows)
    },
    "student": {
        "kind": (str, "auto"),
        "params": (dict, {}),
        "latency_budget_us": (float, 10.0),
    },
    "augment": {
        "method": (str, "munge"),
        "factors": (list, [0, 1, 2]),
        "alphas": (list, [0.0, 0.5, 1.0]),
    },
    "compress": {
        "enabled": (bool, False),
        "tolerance": (float, 0.001),
    },
    "decision": {
        "threshold": ((float, dict), 0.5),
    },
    "registry": {
        "path": (str, None),
        "keep_teacher": (bool, False),
        # the compiled teacher cut to this single-row p99 budget (us); None: the whole teacher
        "teacher_budget_us": (float, None),
    },
    "gate": {
        "max_roc_auc_drop": (float, 0.005),
        "max_pr_auc_drop": (float, 0.01),
        "max_teacher_gap": (float, 0.01),
        "min_roc_auc": (float, 0.6),
        "max_p99_us": (float, 100.0),
        "max_log_loss_increase": (float, None),  # None: not checked
    },
    "run": {
        "seed": (int, 0),
        "n_jobs": (int, 1),
        "time_limit": (float, None),
        "dask_scheduler": (str, None),  # "local" or a scheduler address: fit through Dask
    },
}
_REQUIRED = [("data", "train"), ("data", "target"), ("registry", "path")]
#: Keys holding paths: relative ones are relative to the config file's folder.
PATH_KEYS = (("data", "train"), ("data", "holdout"), ("registry", "path"))
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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}): "
            "TOML files are UTF-8; save it as UTF-8."
        ) from None
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
                f"unknown config section [{section}].{did_you_mean(section, CONFIG_SCHEMA)} "
                f"Known sections are {sorted(CONFIG_SCHEMA)}."
            )
        if not isinstance(body, dict):
            raise ConfigError(f"[{section}] must be a table of keys.")
        for key, value in body.items():
            if key not in CONFIG_SCHEMA[section]:
                raise ConfigError(
                    f"unknown config key '{section}.{key}'."
                    f"{did_you_mean(key, CONFIG_SCHEMA[section])} Keys of [{section}] are "
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
    for section, key in PATH_KEYS:
        value = config[section][key]
        if value and not Path(value).is_absolute():
            config[section][key] = str(base / value)
    _check_data(config["data"])
    if not 0 < config["data"]["holdout_fraction"] < 1:
        raise ConfigError("config key 'data.holdout_fraction' must be in (0, 1).")
    for key, value in config["gate"].items():
        if value is None:
            continue
        if not value >= 0 or (key == "min_roc_auc" and value > 1):
            raise ConfigError(f"config key 'gate.{key}' must be a number >= 0, got {value!r}.")
    check_registry_path(config["registry"]["path"])
    budget = config["registry"]["teacher_budget_us"]
    if budget is not None and not budget > 0:
        raise ConfigError(
            "config key 'registry.teacher_budget_us' must be a positive number of "
            f"microseconds (or left out for the whole teacher), got {budget!r}."
        )
    if config["run"]["dask_scheduler"] is not None:
        try:
            check_scheduler_address(config["run"]["dask_scheduler"])
        except ValueError as exc:
            raise ConfigError(f"config key 'run.dask_scheduler': {exc}") from None
    build_distiller(config)
    return config


def read_options(data: dict) -> dict:
    """The ``read_csv`` options of the job's files: its ``[data]`` section's ``sep`` and
    ``decimal``."""
    from ..data.io import csv_options

    try:
        return csv_options(data["sep"], data["decimal"])
    except ConfigError as exc:
        raise ConfigError(f"config keys 'data.sep' / 'data.decimal': {exc}") from None


def _check_data(data: dict) -> None:
    """The training files exist and name the target; the holdout is another file."""
    from ..data.io import table_columns

    files = training_files(data["train"])
    if not files:
        raise ConfigError(f"config key 'data.train': no file matches '{data['train']}'.")
    columns = table_columns(files[0], **read_options(data))
    if data["target"] not in columns:
        raise ConfigError(
            f"config key 'data.target': target column '{data['target']}' not found in "
            f"'{files[0]}'.{did_you_mean(data['target'], columns)} Columns are: "
            f"{', '.join(columns[:30])}."
        )
    holdout = data["holdout"]
    if not holdout:
        return
    if not Path(holdout).is_file():
        raise ConfigError(f"config key 'data.holdout': file not found: '{holdout}'.")
    same = [f for f in files if os.path.samefile(f, holdout)]
    if same:
        raise ConfigError(
            f"config key 'data.holdout': '{holdout}' is also a training file (data.train "
            f"= '{data['train']}' matches it): the holdout must be rows the model is not "
            "trained on. Give a separate labelled file, or leave data.holdout unset to hold "
            "out a stratified share of the training rows (data.holdout_fraction)."
        )


def check_scheduler_address(address: str) -> str:
    """``"local"`` or a Dask scheduler address with a port (``tcp://host:8786``, ``host:8786``,
    another protocol's ``proto://...``), checked without connecting (and the dask extra
    installed).

    Raises
    ------
    ValueError
        Saying what was expected.
    """
    text = address.strip() if isinstance(address, str) else ""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if importlib.util.find_spec("distributed") is None:
        raise ValueError(
            "a Dask scheduler needs the dask extra, which is not installed: "
            "pip install 'tabdistill[dask]'."
        )
    ok = text == "local" or (
        re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme or "")
        and rest
        and (
            scheme not in ("tcp", "tls")
            or re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[^\s:/\[\]]+):\d+", rest)
        )
    )
    if not ok:
        raise ValueError(
            f"expected 'local' (a cluster on this machine) or a scheduler address with a "
            f"port such as tcp://host:8786, got {address!r}."
        )
    return text


#: Which config key an estimator's error is about: the first pattern found in its message.
_KEYS = {
    r"'cv' parameter of TeacherEnsemble|fold": "teacher.cv",
    r"member": "teacher.members",
    r"'student' parameter": "student.kind",
    r"student_params|Student|for student": "student.params",
    r"'augmenter' parameter": "augment.method",
    r"augment_factors": "augment.factors",
    r"alphas": "augment.alphas",
    r"n_jobs": "run.n_jobs",
    r"compress_tolerance": "compress.tolerance",
    r"'compress' parameter": "compress.enabled",
    r"threshold": "decision.threshold",
    r"positive_label": "data.positive_label",
    r"random_state": "run.seed",
    r"time_limit": "run.time_limit",
    r"latency_budget": "student.latency_budget_us",
}


def check_distiller(params: dict, keys: dict | None = None):
    """A validated, unfitted :class:`~tabdistill.DistilledClassifier` built from ``params``.

    Raises
    ------
    ConfigError
        For any value the estimator refuses, naming the setting (the config key
        when ``keys`` maps parameter names to them).
    """
    from ..distill.distiller import DistilledClassifier

    keys = keys or {}
    model = DistilledClassifier(**params)
    try:
        return model.check_params()
    except (ValueError, TypeError) as exc:
        text = " ".join(str(exc).split())
        named = [key for pattern, key in keys.items() if re.search(pattern, text)]
        where = f"config key '{named[0]}': " if named else ""
        raise ConfigError(f"{where}invalid setting: {text}") from None


def build_distiller(config: dict):
    """The validated :class:`~tabdistill.DistilledClassifier` a retraining config describes."""
    return check_distiller(
        {
            "teacher": {
                key: value
                for key, value in config["teacher"].items()
                if value is not None  # unset: the teacher's own default
            },
            "student": config["student"]["kind"],
            "student_params": config["student"]["params"] or None,
            "latency_budget": config["student"]["latency_budget_us"],
            "augmenter": config["augment"]["method"],
            "augment_factors": tuple(config["augment"]["factors"]),
            "alphas": tuple(config["augment"]["alphas"]),
            "positive_label": config["data"]["positive_label"],
            "threshold": config["decision"]["threshold"],
            "compress": config["compress"]["enabled"],
            "compress_tolerance": config["compress"]["tolerance"],
            "random_state": config["run"]["seed"],
            "n_jobs": config["run"]["n_jobs"],
            "time_limit": config["run"]["time_limit"],
        },
        _KEYS,
    )


def check_registry_path(path) -> None:
    """Refuse a registry path that cannot hold a registry, before any training."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"config key 'registry.path': '{path}' exists and is not a folder.")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"config key 'registry.path': cannot create or write '{path}' "
            f"('{existing}' is not a writable folder)."
        )


def registry_hint(path, overrides=()) -> str | None:
    """Best effort: the registry a config names, even an invalid config (for the run log)."""
    value = None
    try:
        raw = tomllib.loads(Path(path).read_text())
        value = raw.get("registry", {}).get("path")
    except Exception:  # an unreadable config: only overrides can name the registry
        pass
    for section, key, override in overrides:
        if (section, key) == ("registry", "path"):
            value = override
    if not isinstance(value, str) or not value:
        return None
    value = Path(value)
    return str(value if value.is_absolute() else Path(path).resolve().parent / value)


def training_files(pattern: str) -> list[Path]:
    """Files matching a path or glob, sorted (so their hash and order are stable)."""
    return sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
