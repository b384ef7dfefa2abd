"""Stage 4, evaluate: teacher vs student vs baseline, side by side.

Owns what a model costs to run (:mod:`.cost`: latency, throughput, bytes),
the benchmark of one dataset (:mod:`.benchmark`), the results' columns
(:mod:`.table`) and the HTML/PNG report (:mod:`.report`). Accuracy metrics
themselves are :mod:`tabdistill.metrics`, shared with training.

May import: :mod:`tabdistill.distill`, :mod:`tabdistill.runtime`,
:mod:`tabdistill.data`, :mod:`tabdistill.metrics`. Never operations or the CLI.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "run_benchmark": ".benchmark",
        "BenchmarkResult": ".benchmark",
        "format_table": ".benchmark",
        "write_report": ".report",
        "single_row_latency": ".cost",
        "batch_throughput": ".cost",
    },
)
