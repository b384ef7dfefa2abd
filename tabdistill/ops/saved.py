"""A model fitted by ``tabdistill benchmark``, kept as a version of a model registry.

:func:`save_benchmark` writes what a retraining run writes (``runtime.npz``, the compiled
teacher as ``teacher_runtime.npz``, the full model as ``model.skops``, a hash-checked
manifest) into a registry, so ``tabdistill predict``, ``inspect``, ``export`` and
``registry`` use it like any other version. No quality gate ran: its manifest says so
(``gate.passed`` is null, listed as "not run"), and it is promoted only
into a registry without a production model. Where the benchmark cut the teacher to a
latency budget (``--teacher-budget``), that cut is the version's compiled teacher.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data.io import data_files
from ..distill.compiled import compiled_teacher
from ..exceptions import DataError
from .files import sha256
from .registry import MANIFEST, Registry
from .retrain import decision_of, package_versions, with_teacher_threshold

logger = logging.getLogger(__name__)

#: Keys of a benchmark's per-model summary that describe its cost, not its accuracy.
_COST_KEYS = ("latency", "fit_seconds", "size_bytes")


@dataclass
class Saved:
    """Where :func:`save_benchmark` put the model."""

    registry: Path
    version: str
    promoted: bool

    @property
    def path(self) -> Path:
        return self.registry / self.version


def check_save_folder(folder) -> None:
    """Refuse, before any work, a folder that cannot hold a registry."""
    folder = Path(folder)
    if (folder / MANIFEST).exists():
        raise DataError(
            f"'{folder}' is a model version folder; --save takes a registry folder (new or "
            "existing), where the model becomes a new version."
        )
    if folder.exists() and not folder.is_dir():
        raise DataError(f"--save '{folder}' exists and is not a folder.")


def save_benchmark(result, folder, data_path, settings: dict) -> Saved:
    """Write the model of ``result`` (a :class:`~tabdistill.evaluate.benchmark.BenchmarkResult`)
    as a new version of the registry ``folder``.

    Parameters
    ----------
    result : BenchmarkResult
        With its fitted ``model``.
    folder : path-like
        A registry folder, created if needed.
    data_path : path-like
        The CSV file the benchmark read (hashed into the manifest).
    settings : dict
        The benchmark's settings (recorded as the manifest's ``config``).

    Returns
    -------
    Saved
        The version written; ``promoted`` when the registry had no production model.
    """
    check_save_folder(folder)
    registry = Registry(folder)
    manifest = _manifest(result, data_path, settings)
    model, shipped = result.model, result.shipped_teacher
    teacher, info = compiled_teacher(model), None
    if shipped is not None:  # the teacher cut to the benchmark's teacher budget
        teacher, info = shipped.runtime, shipped.info
        manifest["decision"] = with_teacher_threshold(manifest["decision"], shipped)
    with registry.lock():
        version = registry.write_version(
            manifest, model.runtime_, model, teacher=teacher, teacher_info=info
        )
        promoted = registry.production() is None
        if promoted:
            registry.promote(version)
    logger.info("saved as version %s of %s", version, registry.root)
    return Saved(registry.root, version, promoted)


def _manifest(result, data_path, settings) -> dict:
    s, model = result.summary, result.model
    student = s["models"]["student"]["latency"]
    rates = {k: s[k] for k in ("positive_rate", "class_shares") if k in s}
    return {
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "source": "tabdistill benchmark",
        "packages": package_versions(),
        "schema": model.encoder_.schema_.to_dict(),
        "classes": [str(c) for c in model.classes_],
        "decision": decision_of(model),
        "data": {
            "files": [str(Path(data_path).resolve())],
            "sha256": sha256(data_files(data_path), with_names=True),
            "rows": s["rows"],
            "train_rows": s["train_rows"],
            "holdout_rows": s["test_rows"],
            **rates,
            "holdout": f"the benchmark's test split ({s['test_rows']:,} rows, seed {s['seed']})",
        },
        "knobs": s["distillation"]["chosen"],
        "teacher_weights": s["distillation"]["teacher_weights"],
        "fallback": s["distillation"]["fallback"],
        "time_budget": s["distillation"]["time_budget"],
        "compression": model.report_["compression"],
        "metrics": {
            name: {k: v for k, v in m.items() if k not in _COST_KEYS}
            for name, m in s["models"].items()
        },
        "production_before": None,
        "production_metrics": None,
        "latency": {
            "single_row_p50_us": student["single_row_p50_us"],
            "single_row_p99_us": student["single_row_p99_us"],
        },
        "timings": s["distillation"]["timings"],
        "gate": {
            "passed": None,
            "reasons": ["no quality gate ran: saved by tabdistill benchmark"],
            "checks": {},
        },
        "config": {"benchmark": settings},
    }
