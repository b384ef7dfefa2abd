"""Progress a person can trust: bars with an ETA on a terminal, one log line per stage otherwise.

:func:`progress` wraps an iterable (or counts updates) in a tqdm bar shown only
when stderr is a terminal, so logs, CI and pipes stay clean. :class:`Stages`
times the named stages of a long run: each one may carry a bar, and its end is
one ``INFO`` line with its duration, whatever the output is.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager

from tqdm.auto import tqdm


def progress(iterable=None, *, total=None, desc=None, unit="it"):
    """Wrap ``iterable`` in a progress bar shown only when stderr is a terminal.

    With a known ``total`` (or a sized iterable) the bar shows the rate and the
    time left.
    """
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )


class Stages:
    """Durations of the named stages of one run, each logged once when it ends.

    Parameters
    ----------
    logger : logging.Logger
        Where the ``"<stage>: <seconds> s"`` lines go (level ``INFO``).

    Attributes
    ----------
    timings : dict
        ``stage -> seconds``; a stage entered twice adds up.
    """

    def __init__(self, logger: logging.Logger):
        self.logger = logger
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, *, total=None, unit="it"):
        """Time a stage; yields a :class:`Stage` whose bar (of ``total`` steps) shows on a terminal.

        Set ``detail`` on the yielded stage to append it to the stage's log
        line (rows, models, what the time budget cut).
        """
        start = time.perf_counter()
        current = Stage(progress(total=total, desc=name, unit=unit))
        try:
            yield current
        finally:
            current.bar.close()
            seconds = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + seconds
            note = f" ({current.detail})" if current.detail else ""
            self.logger.info("%s: %.1f s%s", name, seconds, note)


class Stage:
    """One running stage: its bar (``update(n)``) and a ``detail`` for its log line."""

    def __init__(self, bar):
        self.bar = bar
        self.detail = ""

    def update(self, n=1):
        self.bar.update(n)
