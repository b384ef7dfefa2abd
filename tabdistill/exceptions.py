"""Exceptions raised by tabdistill.

Every error a user can trigger with bad input subclasses :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working in user code, and the
CLI can tell a user mistake (one clear line, non-zero exit) from a bug.
"""

from __future__ import annotations


class TabDistillError(Exception):
    """Base class of every error tabdistill raises on purpose."""


class DataError(TabDistillError, ValueError):
    """The data given cannot be used as it is (file, target, columns, values)."""


class SchemaError(DataError):
    """Rows given at predict time do not match the columns seen at fit time."""


class FeatureTypeError(TabDistillError, TypeError):
    """A value has a type the fitted schema cannot accept (e.g. text in a numeric column)."""


class ConfigError(TabDistillError, ValueError):
    """A configuration file or option is invalid."""


class ArtifactError(TabDistillError, ValueError):
    """A saved model is missing, tampered with, foreign, or of an unknown version."""
