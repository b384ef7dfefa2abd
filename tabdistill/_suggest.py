"""'Did you mean ...?' for a misspelt name (a column, a key)."""

from __future__ import annotations

import difflib


def did_you_mean(name, choices) -> str:
    """``" Did you mean 'x'?"`` for the choice closest to ``name``, or ``""`` if none is close.

    A choice equal to ``name`` but for case wins; otherwise the closest by
    :func:`difflib.get_close_matches` (similarity at least 0.6).
    """
    texts = [str(c) for c in choices]
    key = str(name)
    close = [c for c in texts if c.lower() == key.lower()]
    close = close or difflib.get_close_matches(key, texts, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in texts}
        close = [lowered[c] for c in difflib.get_close_matches(key.lower(), lowered, n=1)]
    return f" Did you mean '{close[0]}'?" if close else ""
