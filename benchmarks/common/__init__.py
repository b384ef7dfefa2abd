"""Helpers the benchmark scripts share; not scripts themselves.

* :mod:`.datasets` -- the data: the development suite, the K-class sets, the large tables;
* :mod:`.results` -- where results go and how: JSON next to a short Markdown table;
* :mod:`.measure` -- how the machine is measured: its load, and the wall time and peak
  memory of a command run in a fresh process;
* :mod:`.cli` -- the scripts' command lines.

Single-row latency and batch throughput come from :mod:`tabdistill.evaluate.cost`
(``single_row_latency``, ``batch_throughput``), as in ``tabdistill benchmark``.
"""
