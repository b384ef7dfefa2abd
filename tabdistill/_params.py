"""Validation of estimator parameters against declared constraints, without scikit-learn's
private modules.

An estimator declares ``_parameter_constraints``: for each parameter, a list of the
forms its value may take; :func:`validate_params` checks every parameter against its
list and raises :class:`InvalidParameterError` naming the first one that matches none.
A form is ``None``, a type (``dict``, an estimator class...), an :class:`Interval`, an
:class:`Options` set of strings, or one of the names ``"array-like"``, ``"boolean"``,
``"random_state"``, ``"cv_object"`` and ``"no_validation"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .exceptions import TabDistillError


class InvalidParameterError(TabDistillError, ValueError, TypeError):
    """A parameter's value is outside what the estimator accepts (a ``ValueError`` and a
    ``TypeError``, like scikit-learn's own)."""


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``Integral`` or ``Real``) between ``left`` and ``right``
    (None: unbounded); ``closed`` is ``"left"``, ``"right"``, ``"both"`` or ``"neither"``.
    Booleans are never numbers here."""

    kind: type
    left: float | None
    right: float | None
    closed: str

    def accepts(self, value) -> bool:
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.kind):
            return False
        if self.left is not None:
            low_ok = value >= self.left if self.closed in ("left", "both") else value > self.left
            if not low_ok:
                return False
        if self.right is not None:
            closed = self.closed in ("right", "both")
            return value <= self.right if closed else value < self.right
        return True

    def __str__(self) -> str:
        kind = "an int" if self.kind is Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {lb}{left}, {right}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of strings."""

    values: frozenset

    def __init__(self, values):
        object.__setattr__(self, "values", frozenset(values))

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return "a str among " + ", ".join(repr(v) for v in sorted(self.values))


def _is_array_like(value) -> bool:
    if isinstance(value, str | bytes | dict):
        return False
    return hasattr(value, "__array__") or (hasattr(value, "__len__") and hasattr(value, "__iter__"))


def _is_cv(value) -> bool:
    if value is None:
        return True
    if isinstance(value, Integral) and not isinstance(value, bool):
        return value >= 2
    if hasattr(value, "split") and hasattr(value, "get_n_splits"):
        return True
    return hasattr(value, "__iter__") and not isinstance(value, str | bytes | dict)


_NAMED = {
    "array-like": (_is_array_like, "an array-like"),
    "boolean": (lambda v: isinstance(v, bool | np.bool_), "a bool"),
    "random_state": (
        lambda v: (
            v is None
            or (isinstance(v, Integral) and not isinstance(v, bool) and 0 <= v < 2**32)
            or isinstance(v, np.random.RandomState)
        ),
        "an int in [0, 2**32 - 1], a numpy RandomState or None",
    ),
    "cv_object": (_is_cv, "None, an int >= 2, a splitter with split() or an iterable of splits"),
}


def _accepts(form, value) -> bool:
    if form is None:
        return value is None
    if isinstance(form, str):
        return _NAMED[form][0](value)
    if isinstance(form, type):
        return isinstance(value, form)
    return form.accepts(value)


def _describe(form) -> str:
    if form is None:
        return "None"
    if isinstance(form, str):
        return _NAMED[form][1]
    if isinstance(form, type):
        return f"an instance of {form.__name__}"
    return str(form)


def validate_params(estimator) -> None:
    """Check every parameter of ``estimator`` against its ``_parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        For the first parameter whose value matches none of its forms, saying which
        forms it may take and what was given.
    """
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    for name, forms in constraints.items():
        if forms == "no_validation" or name not in params:
            continue
        value = params[name]
        if any(_accepts(form, value) for form in forms):
            continue
        allowed = [_describe(f) for f in forms]
        expected = (
            allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + " or " + allowed[-1]
        )
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. "
            f"Got {value!r} instead."
        )
