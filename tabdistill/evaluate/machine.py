"""How busy the machine was while latency was measured: load average and CPU steal.

Latency on a shared machine is slower and noisier than on a quiet one, the p99 above all.
:class:`LoadWatch` records the load average before and after a measurement and the share
of CPU time the hypervisor stole from this machine meanwhile (``/proc/stat``, Linux; None
elsewhere), so a report can say so next to the figures.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: A load average at or above the cores means other work competed for them; steal above this
#: share means the virtual machine waited for its host.
STEAL_BUSY = 0.02

_PROC_STAT = Path("/proc/stat")


def _cpu_times():
    """``(steal, total)`` jiffies of all CPUs since boot, or None where unreadable."""
    try:
        fields = _PROC_STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    steal = values[7] if len(values) > 7 else 0
    return steal, sum(values)


def _load_average():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


class LoadWatch:
    """Context manager: the machine's load around the work inside it.

    ``summary`` (after the block) is JSON-able: ``load_average_before`` and
    ``load_average_after`` (1, 5 and 15 minutes), ``cpus``, ``cpu_steal_share``
    (None where ``/proc/stat`` is unreadable), ``seconds`` and ``busy``.
    """

    def __enter__(self):
        self._load, self._cpu, self._start = _load_average(), _cpu_times(), time.monotonic()
        return self

    def __exit__(self, *exc):
        after, cpu = _load_average(), _cpu_times()
        steal = None
        if self._cpu is not None and cpu is not None and cpu[1] > self._cpu[1]:
            steal = round((cpu[0] - self._cpu[0]) / (cpu[1] - self._cpu[1]), 4)
        cpus = os.cpu_count() or 1
        loads = [v[0] for v in (self._load, after) if v]
        busy = bool(loads and max(loads) >= cpus) or bool(steal and steal > STEAL_BUSY)
        self.summary = {
            "load_average_before": self._load,
            "load_average_after": after,
            "cpus": cpus,
            "cpu_steal_share": steal,
            "seconds": round(time.monotonic() - self._start, 2),
            "busy": busy,
        }
        return False


def busy_note(load: dict | None) -> str | None:
    """One sentence for a report when latency was measured on a busy machine, else None."""
    if not load or not load.get("busy"):
        return None
    loads = [v[0] for v in (load["load_average_before"], load["load_average_after"]) if v]
    parts = []
    if loads:
        parts.append(f"load average {max(loads):.1f} on {load['cpus']} cores")
    if load.get("cpu_steal_share"):
        parts.append(f"CPU steal {load['cpu_steal_share']:.1%}")
    return (
        f"Latency was measured on a busy machine ({', '.join(parts)}): other work competed "
        "for the cores, so these latencies, the p99 above all, are higher and noisier than on "
        "a quiet machine. Rerun there before quoting them."
    )
