"""Exceptions raised by tabdistill and its runtime.

Every error a user can trigger with bad input subclasses :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working in user code, and the
CLI can tell a user mistake (one clear line, non-zero exit) from a bug.

The classes scoring can raise are defined here, in the runtime, so that a
scoring-only install has them; :mod:`tabdistill.exceptions` re-exports these
same classes (``isinstance`` holds across both) and adds the training-side ones.
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


class ArtifactError(TabDistillError, ValueError):
    """A saved model is missing, tampered with, foreign, or of an unknown version."""


class DataWarning(UserWarning):
    """Values were read with a loss the user should know of: text in a numeric column read as
    missing, a column with no usable value, times converted between time zones.

    Raised as :class:`DataError` instead where the caller asks for ``strict=True``; turn
    every one into an error with ``warnings.simplefilter("error", DataWarning)``.
    """
