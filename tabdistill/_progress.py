"""Progress a person can trust: bars with an ETA on a terminal, log lines otherwise.

:func:`progress` wraps an iterable (or counts updates) in a tqdm bar when stderr
is a terminal. Elsewhere (a cron job's log, CI, a pipe) no bar is drawn: a long
stage logs a line every :data:`LOG_EVERY` seconds with what is done and, where
the total is known, the time left at the rate so far. :class:`Stages` times the
named stages of a long run: each one may carry a bar, and its end is one
``INFO`` line with its duration, whatever the output is.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager

from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

#: Seconds between two log lines of one stage where no bar is drawn.
LOG_EVERY = 60.0


def progress(iterable=None, *, total=None, desc=None, unit="it"):
    """Wrap ``iterable`` in a progress bar on a terminal, in periodic log lines elsewhere.

    With a known ``total`` (or a sized iterable) the bar, or the log line, shows
    the time left at the rate so far.
    """
    if not sys.stderr.isatty():
        return LoggedProgress(iterable, total=total, desc=desc, unit=unit)
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)


class LoggedProgress:
    """A progress count that logs a line (``INFO``) at most every :data:`LOG_EVERY` seconds,
    when an update arrives: ``"teacher folds: 6 of 15 (40%) in 130 s, about 195 s left"``.

    It takes the calls a tqdm bar takes here (iteration, ``update``, ``close``). Without a
    total, a line gives the count and the time (none before the first update).
    """

    def __init__(self, iterable=None, *, total=None, desc=None, unit="it"):
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.n = 0
        self.start = self._logged = time.perf_counter()

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update()

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if now - self._logged >= LOG_EVERY:
            self._logged = now
            logger.info("%s", self.line(now - self.start))

    def line(self, elapsed: float) -> str:
        """What was done in ``elapsed`` seconds and, with a total, the time left."""
        name = self.desc or "progress"
        if not self.total:
            return f"{name}: {self.n:,} {self.unit} in {elapsed:.0f} s"
        if not self.n:
            return f"{name}: 0 of {self.total:,} in {elapsed:.0f} s"
        left = elapsed / self.n * (self.total - self.n)
        return (
            f"{name}: {self.n:,} of {self.total:,} ({self.n / self.total:.0%}) in "
            f"{elapsed:.0f} s, about {left:.0f} s left"
        )

    def close(self):
        pass


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
