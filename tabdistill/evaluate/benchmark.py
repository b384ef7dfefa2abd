"""Teacher vs student vs baseline on one dataset: accuracy, fidelity, latency, size.

:func:`run_benchmark` is what ``tabdistill benchmark`` runs: a stratified
train/test split, one :class:`~tabdistill.DistilledClassifier` fit (which
trains all three models), every metric of :mod:`tabdistill.metrics` on the
test rows, and the cost of each model measured side by side in the same
process. The JSON summary's layout is documented in ``docs/benchmark-json.md``;
results of the development suite, which runs it on every dataset, are in
``docs/results.md``.

Each model is timed through the path a production caller would use for it:
the teacher scores an encoded row with ``predict_proba`` of each member
(members limited to one thread, the fastest setting for one row); the student
and the baseline score the same encoded row through their compiled runtime.
The teacher, in Python, takes milliseconds a row where the compiled models take
microseconds, so it is timed on less: a tenth of the single-row calls (at least
200, enough for a p99) after 20 warm-up calls, and batches cut to about a second
each (at least 10,000 rows; see :func:`~tabdistill.evaluate.cost.batch_throughput`).
Its rates are as meaningful and take a fraction of the time on large tables.

A target of K > 2 classes gets the K-class metrics (log loss, macro and
weighted one-vs-rest ROC-AUC, accuracy, balanced and top-2 accuracy, top-label
ECE), per-class recall, precision and confusion matrices, and K-class fidelity
(argmax agreement, total-variation distance) instead of the decision and
threshold tables of a binary target.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import metrics
from .._progress import Stages
from .._version import __version__
from ..data.encoder import encoding_summary as data_encoding_summary
from ..data.io import read_table, split_target
from ..data.target import class_text, encode_target
from ..distill.context import check_decision
from ..distill.distiller import DistilledClassifier
from ..distill.frontier import DEFAULT_BUDGETS
from ..distill.students import compile_student, student_kind
from ..exceptions import DataError
from .cost import batch_throughput, peak_rss_mb, runtime_size, single_row_latency, skops_size
from .latency_frontier import measure_frontier
from .machine import LoadWatch
from .shipped_teacher import teacher_at_budget
from .table import MODELS

logger = logging.getLogger(__name__)

#: Untimed single-row calls before the Python teacher is timed (the compiled models: 200).
TEACHER_WARMUP_CALLS = 20
#: About the seconds one timed batch run of the Python teacher takes (see
#: :func:`~tabdistill.evaluate.cost.batch_throughput`); the compiled models score every row.
TEACHER_BATCH_SECONDS = 1.0


#: Version of the JSON summary's layout (``docs/benchmark-json.md``); bumped on any change.
SCHEMA_VERSION = 6


@dataclass
class BenchmarkResult:
    """The JSON-able summary plus what plots need (test labels and scores), the fitted
    :class:`~tabdistill.DistilledClassifier` (to save it) and, when a teacher budget was
    given, the teacher cut to it (:class:`~tabdistill.evaluate.shipped_teacher.ShippedTeacher`,
    which a saved version ships)."""

    summary: dict
    y_test: np.ndarray
    scores: dict = field(default_factory=dict)
    model: object = None
    shipped_teacher: object = None


def stratified_split(X, y01, test_size, seed, classes=None):
    """Stratified train/test split with a clear error when a class is too small to split.

    ``y01`` holds 0/1 labels, or class codes with ``classes`` (their labels,
    to name the class that is too small).
    """
    if not 0 < test_size < 1:
        raise DataError(f"test size must be in (0, 1), got {test_size}.")
    if classes is not None and len(classes) > 2:
        counts = np.bincount(y01, minlength=len(classes))
        k = int(np.argmin(counts))
        if counts[k] * test_size < 2 or counts[k] * (1 - test_size) < 10:
            raise DataError(
                f"too few rows of class {class_text(classes, k)} to split ({counts[k]} rows, "
                f"test size {test_size}); the benchmark needs at least 2 of each class in the "
                "test split and 10 for training. Use more data, another test size, or merge "
                "that class."
            )
        return train_test_split(X, y01, test_size=test_size, stratify=y01, random_state=seed)
    n_pos = int(y01.sum())
    n_neg = len(y01) - n_pos
    if min(n_pos, n_neg) * test_size < 2 or min(n_pos, n_neg) * (1 - test_size) < 10:
        raise DataError(
            f"too few rows of the rarer class to split (positives: {n_pos}, negatives: "
            f"{n_neg}, test size {test_size}); the benchmark needs at least 2 in the test "
            "split and 10 for training. Use more data or another test size."
        )
    return train_test_split(X, y01, test_size=test_size, stratify=y01, random_state=seed)


def check_threshold_fits(threshold, target, setting: str = "threshold (--threshold)") -> None:
    """Refuse, before any fit, a decision threshold for a target of more than two classes
    (:func:`tabdistill.distill.context.check_decision`, naming the CLI's ``setting``)."""
    check_decision(threshold, target, setting)


def _single_thread(teacher):
    """Members predict one row fastest on one thread (thread pools cost more than the work)."""
    for est in teacher.estimators_.values():
        if "n_jobs" in est.get_params():
            est.set_params(n_jobs=1)


def run_benchmark(
    frame: pd.DataFrame | str | os.PathLike,
    target: str,
    *,
    dataset: str = "data",
    test_size: float = 0.25,
    seed: int = 0,
    positive_label=None,
    distiller_params: dict | None = None,
    latency_calls: int = 2_000,
    batch_rows: int = 100_000,
    n_bootstrap: int = 200,
    frontier_budgets=DEFAULT_BUDGETS,
    teacher_budget_us: float | None = None,
    read_options: dict | None = None,
) -> BenchmarkResult:
    """Fit teacher, student and baseline on ``frame`` and compare them on a held-out split.

    Parameters
    ----------
    frame : DataFrame or path-like
        Features and the target column, or a CSV or Parquet file of them (read with
        :func:`tabdistill.data.io.read_table`). A file read here is released once
        it is split into training and test rows: on large tables the whole table,
        its training rows and their encoding would otherwise share memory.
    target : str
        Name of the target column (any two or more labels).
    dataset : str, default="data"
        Name recorded in the result.
    test_size : float, default=0.25
        Share of rows held out, stratified.
    seed : int, default=0
        Seeds the split and the distiller.
    positive_label : object, default=None
        Label of the positive class of a binary target; see
        :func:`tabdistill.data.target.encode_target`.
    distiller_params : dict, default=None
        Extra :class:`~tabdistill.DistilledClassifier` parameters.
    latency_calls : int, default=2000
        Timed single-row calls per model.
    batch_rows : int, default=100_000
        Rows per batch-throughput run.
    n_bootstrap : int, default=200
        Resamples of the test rows for the 95% intervals (0: no intervals).
    frontier_budgets : sequence of float, default=(2, 5, 10, 20, 50, 100)
        Latency budgets (microseconds) at which a student is also fit, measured on the test
        rows next to the teacher compiled for the runtime: the ``frontier`` of the result
        (see :mod:`tabdistill.distill.frontier`). Empty or None: no frontier.
    teacher_budget_us : float, default=None
        Also cut the teacher to this single-row p99 budget as measured here (the frontier's
        cut at that budget where it has one; see
        :mod:`tabdistill.evaluate.shipped_teacher`): the result's ``shipped_teacher``, and
        the summary's ``shipped_teacher`` says what it is and how it scores on the test rows.
        None: the whole teacher.
    read_options : dict, default=None
        How a CSV file ``frame`` is written: :func:`tabdistill.data.io.csv_options`' ``sep``
        and ``decimal`` (None: commas and decimal points).

    Returns
    -------
    BenchmarkResult
    """
    if not isinstance(frame, pd.DataFrame):
        frame = read_table(frame, **(read_options or {}))
    X, y_raw = split_target(frame, target)
    target_info = encode_target(y_raw, positive_label)
    check_threshold_fits((distiller_params or {}).get("threshold", 0.5), target_info)
    X = X.reset_index(drop=True)  # positions, to find each training row's label
    X_train, X_test, y_train, y_test = stratified_split(
        X, target_info.y, test_size, seed, target_info.classes
    )
    # the model learns the labels themselves (its classes_ and predict read as the data does;
    # a saved model predicts 'fraud', not 1), with the positive class decided on all rows
    labels_train = y_raw.iloc[X_train.index.to_numpy()]
    shape = X.shape
    del frame, X, y_raw  # a table read here is no longer referenced (the caller's stays)
    params = {"random_state": seed, **(distiller_params or {})}
    if frontier_budgets:
        params.setdefault("frontier_budgets", tuple(frontier_budgets))
    if target_info.n_classes == 2:
        params["positive_label"] = target_info.pos_label
    model = DistilledClassifier(**params)
    start = time.perf_counter()
    model.fit(X_train, labels_train)
    fit_seconds = time.perf_counter() - start

    stages = Stages(logger)
    scored = _score_test_rows(model, X_test, stages)
    models, load = _measure_models(
        model, scored, fit_seconds, y_test, stages, latency_calls, batch_rows
    )
    compression = _compression_levels(
        model, scored.Z, y_test, scored.rows, latency_calls, batch_rows
    )
    summary = {
        "schema_version": SCHEMA_VERSION,
        "task": "binary" if target_info.n_classes == 2 else "multiclass",
        "classes": [str(c) for c in target_info.classes],
        "encoding": encoding_summary(model.encoder_.schema_),
        "dataset": dataset,
        "rows": int(shape[0]),
        "features": int(shape[1]),
        **_target_summary(target_info),
        "seed": int(seed),
        "test_rows": int(len(y_test)),
        "train_rows": int(len(y_train)),
        "models": models,
        "fidelity": metrics.fidelity(y_test, scored.scores["teacher"], scored.scores["student"]),
        "compression": compression,
        **_decisions(model, y_test, scored.scores),
        "intervals": (intervals := _intervals(y_test, scored.scores, n_bootstrap, seed, stages)),
        "frontier": measure_frontier(model, scored.Z, y_test, scored.rows, latency_calls, stages),
        "teacher_lead": teacher_lead(intervals),
        "feature_importance": _importances(model),
        "speedup": _speedup(models["teacher"], models["student"]),
        "distillation": _distillation(model),
        "environment": {
            "tabdistill": __version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "peak_rss_mb": peak_rss_mb(),
            "load": load.summary,  # while latency was measured
        },
    }
    shipped = None
    if teacher_budget_us is not None:
        shipped = _shipped_teacher(model, teacher_budget_us, scored, y_test, summary, latency_calls)
        summary["shipped_teacher"] = shipped.info
    return BenchmarkResult(
        summary=summary,
        y_test=np.asarray(y_test),
        scores=scored.scores,
        model=model,
        shipped_teacher=shipped,
    )


def _shipped_teacher(model, budget_us, scored, y_test, summary, latency_calls):
    """The teacher cut to ``budget_us``: the frontier's cut where it measured one at that
    budget (so the version ships the point the frontier reports), else cut here."""
    points = summary["frontier"] or []
    nominal = next(
        (
            p.get("cut_budget_us")
            for p in points
            if p.get("source") == "teacher cut" and p["latency_budget_us"] == budget_us
        ),
        None,
    )
    return teacher_at_budget(
        model, budget_us, scored.Z, y_test, calls=latency_calls, nominal=nominal
    )


@dataclass
class _Scored:
    """The test rows encoded, up to 1,000 of them as single rows and as records, the
    compiled student and baseline, and each model's test scores."""

    Z: np.ndarray
    rows: list
    records: list
    runtimes: dict
    scores: dict


def _score_test_rows(model, X_test, stages) -> _Scored:
    with stages.stage("test scores") as stage:
        Z_test = model.encoder_.encode(X_test)
        runtimes = {
            "student": model.runtime_,
            "baseline": compile_student(model.baseline_[-1], model.encoder_.schema_),
        }
        scores = {
            "teacher": model.teacher_.predict_proba_encoded(Z_test),
            **{name: rt.score_encoded(Z_test) for name, rt in runtimes.items()},
        }
        stage.detail = f"{len(Z_test):,} rows"
    records = [
        {k: None if (isinstance(v, float) and np.isnan(v)) else v for k, v in rec.items()}
        for rec in X_test.head(1_000).to_dict(orient="records")
    ]
    rows = list(Z_test[: min(len(Z_test), 1_000)])
    return _Scored(Z_test, rows, records, runtimes, scores)


def _costs(model, scored: _Scored, fit_seconds) -> dict:
    """Per model: what fitting it took, its size, and how it scores one row and a batch."""
    teacher, timings = model.teacher_, model.report_["timings"]
    cost = {
        "teacher": {
            # with refit_teacher, the teacher scored here is the second fit, on all labelled rows
            "fit_seconds": timings["teacher"] + timings.get("teacher refit", 0.0),
            "size_bytes": skops_size(teacher),
            "one": lambda z: teacher.predict_proba_encoded(z[None, :]),
            "batch": teacher.predict_proba_encoded,
        }
    }
    # the student needs the whole pipeline, teacher included
    for name, seconds in (("student", fit_seconds), ("baseline", timings["baseline"])):
        rt = scored.runtimes[name]
        cost[name] = {
            "fit_seconds": seconds,
            "size_bytes": runtime_size(rt),
            "one": rt.score_one,
            "batch": rt.score_encoded,
        }
    return cost


def _measure_models(model, scored, fit_seconds, y_test, stages, latency_calls, batch_rows):
    """Test metrics, size, fit time and latency of the three models, timed side by side;
    returns them and the machine's load while they were timed."""
    _single_thread(model.teacher_)
    cost = _costs(model, scored, fit_seconds)
    with (
        LoadWatch() as load,
        stages.stage("latency", total=len(MODELS) + 1, unit="model") as stage,
    ):
        measured = {}
        for name in MODELS:
            one_row, batch_rule = _timing(name, latency_calls)
            one = single_row_latency(cost[name]["one"], scored.rows, **one_row)
            batch = batch_throughput(cost[name]["batch"], scored.Z, batch_rows, **batch_rule)
            measured[name] = one, batch
            stage.update()
        student = scored.runtimes["student"]
        record = single_row_latency(student.score_record, scored.records, n_calls=latency_calls)
    models = {}
    for name in MODELS:
        one, batch = measured[name]
        models[name] = {
            **metrics.classification_metrics(y_test, scored.scores[name]),
            "fit_seconds": round(cost[name]["fit_seconds"], 3),
            "size_bytes": cost[name]["size_bytes"],
            "latency": {
                "single_row_p50_us": one["p50_us"],
                "single_row_p99_us": one["p99_us"],
                "batch_rows_per_second": batch["rows_per_second"],
                "single_row_calls": one["calls"],
                "batch_rows": batch["rows"],
            },
        }
    models["student"]["latency"]["record_p50_us"] = record["p50_us"]
    models["student"]["latency"]["record_p99_us"] = record["p99_us"]
    return models, load


def _timing(name, latency_calls) -> tuple[dict, dict]:
    """How model ``name`` is timed: the arguments of
    :func:`~tabdistill.evaluate.cost.single_row_latency` and of
    :func:`~tabdistill.evaluate.cost.batch_throughput` (the module docstring says why the
    teacher's differ)."""
    if name != "teacher":
        return {"n_calls": latency_calls}, {}
    one_row = {"n_calls": max(200, latency_calls // 10), "warmup": TEACHER_WARMUP_CALLS}
    return one_row, {"max_seconds": TEACHER_BATCH_SECONDS}


def _speedup(t: dict, s: dict) -> dict:
    return {
        "single_row_p50": t["latency"]["single_row_p50_us"] / s["latency"]["single_row_p50_us"],
        "single_row_p99": t["latency"]["single_row_p99_us"] / s["latency"]["single_row_p99_us"],
        "batch": s["latency"]["batch_rows_per_second"] / t["latency"]["batch_rows_per_second"],
        "size": t["size_bytes"] / s["size_bytes"],
    }


def _distillation(model) -> dict:
    report = model.report_
    return {
        "chosen": report["chosen"],
        "student_ignores": report.get("student_ignores", []),
        "fallback": report["fallback"],
        "candidates": report["candidates"],
        "timings": report["timings"],
        "rows": report["rows"],
        "teacher_weights": report["teacher_weights"],
        "time_budget": report["time_budget"],
        "student": _student_kind(model, report),
    }


def _target_summary(target) -> dict:
    """Binary: the positive class and its rate; K classes: each class's share of the rows."""
    if target.n_classes == 2:
        return {"positive_rate": float(target.y.mean()), "positive_label": str(target.pos_label)}
    shares = np.bincount(target.y, minlength=target.n_classes) / len(target.y)
    return {"class_shares": dict(zip((str(c) for c in target.classes), shares.tolist()))}


def _decisions(model, y_test, scores) -> dict:
    """Binary: the decision at the chosen threshold and the threshold table; K classes:
    per-class recall, precision and confusion matrix of each model."""
    if model.decision_threshold_ is None:
        return {"per_class": {name: metrics.per_class(y_test, p) for name, p in scores.items()}}
    decision = metrics.decision_summary(y_test, scores["student"], model.decision_threshold_)
    return {
        "decision": {"rule": model.threshold, **decision},
        "thresholds": metrics.threshold_table(
            y_test, {"teacher": scores["teacher"], "student": scores["student"]}
        ),
    }


def _compression_levels(model, Z_test, y_test, rows, latency_calls, batch_rows):
    """Each compression level on the test rows (when the distiller compressed), else None."""
    if not getattr(model, "compression_", None):
        return None
    from tabdistill_runtime.model import CompiledModel

    levels = []
    for summary in model.compression_["levels"]:
        runtime = CompiledModel.load(model.compressed_levels_[summary["name"]])
        one = single_row_latency(runtime.score_one, rows, n_calls=latency_calls)
        batch = batch_throughput(runtime.score_encoded, Z_test, min_rows=batch_rows)
        levels.append(
            {
                **summary,
                "test_roc_auc": metrics.roc_auc(y_test, runtime.score_encoded(Z_test)),
                "single_row_p50_us": one["p50_us"],
                "single_row_p99_us": one["p99_us"],
                "batch_rows_per_second": batch["rows_per_second"],
            }
        )
    return {"chosen": model.compression_["chosen"], "levels": levels}


#: The paired differences whose bootstrap intervals the benchmark reports.
DIFFERENCES = [("student", "baseline"), ("student", "teacher"), ("teacher", "baseline")]


def _intervals(y_test, scores, n_bootstrap, seed, stages):
    """95% bootstrap intervals of the models and of the paired differences (None for 0)."""
    if not n_bootstrap:
        return None
    with stages.stage("bootstrap", total=None) as stage:
        stage.detail = f"{n_bootstrap} resamples of {len(y_test):,} rows"
        return metrics.bootstrap_intervals(y_test, scores, DIFFERENCES, n_bootstrap, 0.95, seed)


def teacher_lead(intervals, metric="roc_auc") -> dict | None:
    """Whether the teacher's lead over the baseline on the test rows is real: its paired
    bootstrap interval lies above 0 (``"real"``), below 0 (``"behind"``), or spans 0
    (``"noise"``); with the verdict in words. None without intervals."""
    if not intervals or "teacher-baseline" not in intervals:
        return None
    lead = intervals["teacher-baseline"][metric]
    if lead["low"] > 0:
        verdict, words = "real", "real: the interval excludes 0, so there is a lead to distil"
    elif lead["high"] < 0:
        verdict, words = "behind", "the teacher is behind the baseline: nothing to distil"
    else:
        verdict, words = (
            "noise",
            "within the noise: the interval spans 0, so keeping the baseline is right",
        )
    return {"metric": metric, **lead, "verdict": verdict, "text": words}


def encoding_summary(schema) -> dict:
    """What the encoder made of the columns: :func:`tabdistill.data.encoder.encoding_summary`."""
    return data_encoding_summary(schema)


def _importances(model, top: int = 20) -> list[dict]:
    """The student's feature importance by real column name, largest first."""
    try:
        values = model.student_[-1].feature_importances()
    except (TypeError, AttributeError):  # a custom student without importances
        return []
    names = model.encoder_.features_
    order = np.argsort(-values, kind="stable")[:top]
    return [{"feature": names[j], "importance": float(values[j])} for j in order]


def _student_kind(model, report) -> str:
    """The kind of the student shipped: its name (``"auto"`` resolved to the kind it chose) or
    a custom student's class name."""
    if not isinstance(model.student, str):
        return type(model.student).__name__
    return report["chosen"].get("student") or student_kind(model.student)
