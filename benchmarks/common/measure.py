"""How the benchmarks measure the machine and a command run in a fresh process.

The machines are shared: every result records :func:`machine_load` next to its timings.
A command's wall time and peak memory come from :func:`run_timed` (``/usr/bin/time -v``:
the peak resident set of the largest process, exact) or :func:`run_sampled` (the resident
set summed over the process and its descendants, e.g. Dask workers, sampled);
:func:`run_cli_benchmark` runs ``tabdistill benchmark`` so and reads what it wrote.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path


def machine_load() -> float:
    """The 1-minute load average (other jobs sharing the cores), to one decimal."""
    return round(os.getloadavg()[0], 1)


def load_averages() -> list[float]:
    """The 1, 5 and 15-minute load averages, to two decimals."""
    return [round(x, 2) for x in os.getloadavg()]


def run_timed(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``, its output going to ``log``.

    Returns ``{"wall_seconds", "cpu_seconds", "peak_rss_gib", "exit_code"}`` (CPU: user +
    system time of the command and its children).
    """
    start = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    text = log.read_text()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text)
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(sum(map(float, cpu)), 1) if cpu else None,
        "peak_rss_gib": round(int(rss.group(1)) / 2**20, 2) if rss else None,
        "exit_code": done.returncode,
    }


def run_sampled(cmd: list[str], log: Path, interval: float = 0.5) -> dict:
    """Run ``cmd``, its output going to ``log``; the resident set of the process and its
    descendants is summed every ``interval`` seconds (needs psutil).

    Returns ``{"wall_seconds", "peak_rss_gib", "exit_code"}``.
    """
    import psutil

    start = time.perf_counter()
    peak = 0
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            rss = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:  # a worker that just exited
                        pass
            except psutil.Error:
                pass
            peak = max(peak, rss)
            time.sleep(interval)
    return {
        "wall_seconds": round(time.perf_counter() - start, 1),
        "peak_rss_gib": round(peak / 2**30, 2),
        "exit_code": proc.returncode,
    }


def run_cli_benchmark(cmd: list[str], summary_json: Path, log: Path, tree: bool = False) -> dict:
    """Run a ``tabdistill benchmark ... --json summary_json`` command in a fresh process.

    Measured by :func:`run_timed`, or by :func:`run_sampled` with ``tree`` (the process and
    its Dask workers); the load average is recorded before and after. Stops with the tail of
    ``log`` if the command fails. Returns the measures, the benchmark's main figures (rows,
    features, fit seconds per stage, test ROC-AUC of the three models, fallback) and, under
    ``"summary"``, everything the benchmark wrote.
    """
    load = machine_load()
    run = (run_sampled if tree else run_timed)(cmd, log)
    if run["exit_code"] != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit(f"{' '.join(cmd)}\nfailed ({run['exit_code']}):\n{tail}")
    summary = json.loads(summary_json.read_text())
    distillation = summary["distillation"]
    return {
        **run,
        "load_before": load,
        "load_after": machine_load(),
        "rows": summary["rows"],
        "features": summary["features"],
        "fit_seconds": distillation["timings"],
        "roc_auc": {m: summary["models"][m]["roc_auc"] for m in ("teacher", "student", "baseline")},
        "fallback": distillation["fallback"],
        "summary": summary,
    }
