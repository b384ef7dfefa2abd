"""Differences between the Python and LightGBM versions tabdistill supports, and the names
LightGBM accepts."""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["lightgbm_eval_kwargs", "lightgbm_names", "tomllib"]


def lightgbm_eval_kwargs(X, y, sample_weight=None) -> dict:
    """``fit`` keywords giving a LightGBM scikit-learn model one evaluation set.

    LightGBM 4.7 renamed ``eval_set=[(X, y)]`` to ``eval_X=(X,)``, ``eval_y=(y,)``
    and deprecated the old name; older versions know only ``eval_set``.
    """
    import inspect

    from lightgbm import LGBMModel

    weights = None if sample_weight is None else [sample_weight]
    if "eval_X" in inspect.signature(LGBMModel.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,), "eval_sample_weight": weights}
    return {"eval_set": [(X, y)], "eval_sample_weight": weights}


def lightgbm_names(names) -> list[str]:
    """Feature names LightGBM accepts (no JSON punctuation), each unique, close to the original."""
    out, seen = [], set()
    for i, name in enumerate(names):
        clean = re.sub(r'[\[\]{}":,\s]+', "_", str(name)) or f"f{i}"
        while clean in seen:
            clean = f"{clean}_{i}"
        seen.add(clean)
        out.append(clean)
    return out
