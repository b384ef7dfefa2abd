"""How many OpenMP threads one LightGBM or XGBoost fit should use.

A boosting round on a few thousand rows is microseconds of work per thread
between two barriers. Threads that wait at those barriers spin (libgomp's
default), so on a machine whose cores are busy with other work, a thread
descheduled mid-round stalls the others. Extra threads only pay once each has
enough rows to work on, so a fit gets one thread per :data:`ROWS_PER_THREAD`
rows, at most ``n_jobs``. The measurement behind this is in ``docs/results.md``
(section "Threads").
"""

from __future__ import annotations

import os

#: Rows each extra OpenMP thread of a boosted fit needs to pay for its synchronisation.
ROWS_PER_THREAD = 50_000


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def resolve_n_jobs(n_jobs) -> int:
    """``n_jobs`` as a number of threads: None -> 1, -1 -> every core, -2 -> all but one."""
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return max(1, int(n_jobs))


def threads_for(n_jobs, n_rows) -> int:
    """Threads for one boosted fit on ``n_rows`` rows: ``n_jobs``, but one per
    :data:`ROWS_PER_THREAD` rows (at least one)."""
    return max(1, min(resolve_n_jobs(n_jobs), -(-int(n_rows) // ROWS_PER_THREAD)))
