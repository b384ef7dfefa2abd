"""Exceptions raised by tabdistill.

Every error a user can trigger with bad input subclasses :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working in user code, and the
CLI can tell a user mistake (one clear line, non-zero exit) from a bug.

The base class and the errors scoring can raise live in the runtime
distribution (:mod:`tabdistill_runtime.exceptions`) and are the same classes
here, so ``except tabdistill.ArtifactError`` catches what the runtime raises.
"""

from __future__ import annotations

from tabdistill_runtime.exceptions import (
    ArtifactError,
    DataError,
    DataWarning,
    FeatureTypeError,
    SchemaError,
    TabDistillError,
)

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DataWarning",
    "FeatureTypeError",
    "SchemaError",
    "TabDistillError",
]


class ConfigError(TabDistillError, ValueError):
    """A configuration file or option is invalid."""
