"""Load average and CPU steal around a latency measurement."""

from tabdistill.evaluate import machine


def test_load_watch_measures_steal_and_calls_a_loaded_machine_busy(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    # user nice system idle iowait irq softirq steal
    stat.write_text("cpu  100 0 50 800 0 0 0 50 0 0\ncpu0 1 2 3\n")
    monkeypatch.setattr(machine, "_PROC_STAT", stat)
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (0.4, 0.3, 0.2))
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 2)
    with machine.LoadWatch() as watch:
        stat.write_text("cpu  200 0 100 1600 0 0 0 100 0 0\n")  # 1,000 jiffies, 50 stolen
    assert watch.summary["cpu_steal_share"] == 0.05 and watch.summary["busy"]  # steal > 2%
    assert watch.summary["load_average_before"] == [0.4, 0.3, 0.2]
    assert "CPU steal 5.0%" in machine.busy_note(watch.summary)

    with machine.LoadWatch() as watch:  # no steal, a quiet machine
        pass
    assert watch.summary["cpu_steal_share"] is None and not watch.summary["busy"]
    assert machine.busy_note(watch.summary) is None

    monkeypatch.setattr(machine.os, "getloadavg", lambda: (8.65, 5.0, 2.0))
    with machine.LoadWatch() as watch:
        pass
    assert watch.summary["busy"] and "load average 8.7 on 2 cores" in machine.busy_note(
        watch.summary
    )


def test_no_proc_stat_means_no_steal(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "_PROC_STAT", tmp_path / "missing")
    with machine.LoadWatch() as watch:
        pass
    assert watch.summary["cpu_steal_share"] is None
