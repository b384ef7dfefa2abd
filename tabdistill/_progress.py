"""Progress bars that show in a terminal and stay silent in logs, CI and pipes."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(iterable=None, *, total=None, desc=None):
    """Wrap ``iterable`` in a progress bar shown only when stderr is a terminal."""
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )
