"""The columns every results table shows, in one place.

The terminal table of ``tabdistill benchmark``, the HTML report and
``tabdistill inspect`` all render a model's results through these columns, so
a metric added here appears everywhere with the same name and format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: The three models every results table compares, in its order.
MODELS = ("teacher", "student", "baseline")


def _us(v: float) -> str:
    return f"{v:,.1f}" if v < 1_000 else f"{v:,.0f}"


def format_bytes(n: float) -> str:
    """``n`` bytes as text: ``"812 B"``, ``"72.3 KB"``, ``"55.5 MB"``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024


@dataclass(frozen=True)
class Column:
    """One column: where its value lives in a model's results, and how it reads.

    ``key`` is a path into the results dict, dots separating levels
    (``"latency.single_row_p50_us"``).
    """

    key: str
    short: str
    long: str
    fmt: Callable[[float], str]

    def value(self, results: dict):
        for part in self.key.split("."):
            results = results[part]
        return results

    def text(self, results: dict) -> str:
        return self.fmt(self.value(results))


def _f4(v: float) -> str:
    return f"{v:.4f}"


#: Accuracy and calibration, as measured on held-out rows.
METRIC_COLUMNS = (
    Column("roc_auc", "ROC-AUC", "ROC-AUC", _f4),
    Column("average_precision", "PR-AUC", "PR-AUC", _f4),
    Column("recall_at_1pct_fpr", "R@1%FPR", "recall@1%FPR", _f4),
    Column("precision_at_top_1pct", "P@top1%", "precision@top1%", _f4),
    Column("log_loss", "logloss", "log loss", _f4),
    Column("brier", "Brier", "Brier", _f4),
    Column("ece", "ECE", "ECE", _f4),
)

#: Accuracy and calibration of a K-class model (``metrics.classification_metrics`` keys).
CLASS_METRIC_COLUMNS = (
    Column("log_loss", "logloss", "log loss", _f4),
    Column("roc_auc", "AUC", "ROC-AUC (macro OvR)", _f4),
    Column("roc_auc_weighted", "AUC-w", "ROC-AUC (weighted OvR)", _f4),
    Column("accuracy", "acc", "accuracy", _f4),
    Column("balanced_accuracy", "bal.acc", "balanced accuracy", _f4),
    Column("top2_accuracy", "top2", "top-2 accuracy", _f4),
    Column("brier", "Brier", "Brier", _f4),
    Column("ece", "ECE", "ECE (top label)", _f4),
)


def metric_columns(summary: dict) -> tuple:
    """The metric columns of a benchmark summary's task (binary or K classes)."""
    return CLASS_METRIC_COLUMNS if summary.get("task") == "multiclass" else METRIC_COLUMNS


#: What a model costs: latency, throughput, size, fit time.
COST_COLUMNS = (
    Column("latency.single_row_p50_us", "p50 us", "p50 µs", _us),
    Column("latency.single_row_p99_us", "p99 us", "p99 µs", _us),
    Column("latency.batch_rows_per_second", "rows/s", "batch rows/s", lambda v: f"{v:,.0f}"),
    Column("size_bytes", "size", "size", format_bytes),
    Column("fit_seconds", "fit s", "fit s", lambda v: f"{v:.1f}"),
)


def text_table(rows: dict, columns, first: str = "model") -> list[str]:
    """Aligned plain-text lines: a header, a rule, then one line per ``name -> results``."""
    cells = [[first] + [c.short for c in columns]]
    cells += [[name] + [c.text(results) for c in columns] for name, results in rows.items()]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths)))
        for r in cells
    ]
    lines.insert(1, "-" * len(lines[0]))
    return lines
