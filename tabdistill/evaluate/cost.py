"""What a model costs to run: single-row latency, batch throughput, bytes.

Machines are shared and noisy, so every measurement warms up first, runs with
the garbage collector paused, and reports medians and tail percentiles; compare
models as ratios measured in the same run.
"""

from __future__ import annotations

import gc
import io
import time

import numpy as np


def single_row_latency(score, rows, n_calls: int = 2_000, warmup: int = 200, prepare=None) -> dict:
    """Latency of ``score(row)`` called on one row at a time.

    Parameters
    ----------
    score : callable
        Called with one item of ``rows``.
    rows : sequence
        Inputs, cycled through (distinct rows defeat caches a single row would hit).
    n_calls : int, default=2000
        Timed calls, after ``warmup`` untimed ones.
    prepare : callable, default=None
        Makes each call's input from its item just before the call, untimed (a record
        parsed from its JSON text, as a service receives it).

    Returns
    -------
    dict
        ``p50_us``, ``p99_us``, ``mean_us`` and ``calls``.
    """
    n = len(rows)
    fresh = prepare or (lambda row: row)
    for i in range(warmup):
        score(fresh(rows[i % n]))
    times = np.empty(n_calls)
    clock = time.perf_counter_ns
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(n_calls):
            row = fresh(rows[i % n])
            start = clock()
            score(row)
            times[i] = clock() - start
    finally:
        if enabled:
            gc.enable()
    times /= 1_000.0
    return {
        "p50_us": float(np.percentile(times, 50)),
        "p99_us": float(np.percentile(times, 99)),
        "mean_us": float(times.mean()),
        "calls": n_calls,
    }


#: Fewest rows a batch of :func:`batch_throughput` with ``max_seconds`` scores.
MIN_BATCH_ROWS = 10_000
#: Rows of the untimed warm-up run of :func:`batch_throughput`.
WARMUP_ROWS = 1_000


def batch_throughput(
    score, X, min_rows: int = 100_000, repeats: int = 3, max_seconds: float | None = None
) -> dict:
    """Rows per second of ``score(X_batch)`` on a batch of at least ``min_rows`` rows.

    ``X`` (an array) is tiled up to ``min_rows`` rows (all of ``X`` when it has
    more); after one untimed warm-up run on its first :data:`WARMUP_ROWS` rows, the
    median of ``repeats`` timed runs is reported.

    Parameters
    ----------
    score : callable
        Scores a 2-D array of rows.
    X : array-like of shape (n_rows, n_features)
    min_rows : int, default=100_000
    repeats : int, default=3
    max_seconds : float, default=None
        For a slow model (a Python ensemble scoring in milliseconds per row): the batch
        is cut to the rows the warm-up run's rate says one run scores in about this
        long, but never below :data:`MIN_BATCH_ROWS` rows (nor above the uncut batch).
        A rate is steady long before 100,000 rows, so the cut batch measures the same
        rate for a fraction of the time. None: no cut.

    Returns
    -------
    dict
        ``rows`` (of the timed batch), ``seconds`` (median run) and ``rows_per_second``.
    """
    X = np.asarray(X)
    reps = -(-min_rows // len(X))
    batch = np.ascontiguousarray(np.tile(X, (reps, 1))[: max(min_rows, len(X))])
    warmup = batch[:WARMUP_ROWS]
    start = time.perf_counter()
    score(warmup)
    if max_seconds is not None:
        rate = len(warmup) / max(time.perf_counter() - start, 1e-9)
        batch = batch[: max(MIN_BATCH_ROWS, int(rate * max_seconds))]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        score(batch)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    return {
        "rows": int(batch.shape[0]),
        "seconds": seconds,
        "rows_per_second": batch.shape[0] / seconds,
    }


def skops_size(obj) -> int:
    """Bytes of ``obj`` saved with skops (the secure format tabdistill stores models in)."""
    import skops.io as sio

    return len(sio.dumps(obj))


def runtime_size(runtime) -> int:
    """Bytes of a :class:`~tabdistill_runtime.model.CompiledModel` saved as its ``.npz`` file."""
    buffer = io.BytesIO()
    runtime.save(buffer)
    return buffer.getbuffer().nbytes


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process so far, in MiB (None where unsupported)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
