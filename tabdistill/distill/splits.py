"""Row splits: the teacher's cross-fitting folds and the distiller's validation holdout.

Both accept what scikit-learn's ``cv`` parameters accept -- a number of folds,
a splitter (``TimeSeriesSplit``, ``GroupKFold``...) or an iterable of
``(train, test)`` index pairs -- and ``groups`` for group-aware splitters. A
number means stratified shuffled folds, grouped when ``groups`` are given, so
rows of one group (a customer, a card) never sit on both sides of a split.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.model_selection import (
    GroupShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
    train_test_split,
)

from ..data.target import class_text
from ..exceptions import DataError

DEFAULT_FOLDS = 5


def _check_groups(groups, n):
    if groups is None:
        return None
    groups = np.asarray(groups).ravel()
    if len(groups) != n:
        raise DataError(f"groups has {len(groups)} values for {n} rows.")
    return groups


def _check_classes(y, train, test, what):
    for part, rows in (("training", train), ("held-out", test)):
        if len(rows) == 0 or len(np.unique(y[rows])) < 2:
            raise DataError(
                f"{what}: its {part} rows hold a single class ({len(rows)} rows). Each side of "
                "a split needs two classes or more: use fewer or larger folds, or more data."
            )


def _label(classes, code) -> str:
    return f"with code {code}" if classes is None else class_text(classes, code)


def _rarest(y, classes):
    """``(code, rows)`` of the rarest class of K > 2 classes (codes ``0 .. K-1``)."""
    counts = np.bincount(y, minlength=0 if classes is None else len(classes))
    code = int(np.argmin(counts))
    return code, int(counts[code])


def teacher_folds(
    cv, y, groups=None, random_state=None, classes=None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train, test)`` index pairs of the teacher's cross-fitting.

    Parameters
    ----------
    cv : int, splitter, iterable or None
        An int (None: 5) means stratified shuffled folds (stratified group folds
        when ``groups`` is given).
    y : ndarray of 0/1, or class codes ``0 .. K-1`` (K > 2)
    groups : array-like, default=None
    random_state : int, default=None
        Shuffles the stratified folds.
    classes : ndarray, default=None
        The labels of the codes, to name a class in an error (K > 2).

    Raises
    ------
    DataError
        If a fold's training or held-out rows hold one class only, or (a
        number of folds) a class has fewer rows than folds.
    """
    groups = _check_groups(groups, len(y))
    multiclass = classes is not None and len(classes) > 2
    if cv is None or isinstance(cv, Integral):
        k = DEFAULT_FOLDS if cv is None else int(cv)
        if multiclass:
            code, rows = _rarest(y, classes)
            if rows < k:
                raise DataError(
                    f"{k}-fold cross-fitting needs at least {k} rows of each class; class "
                    f"{_label(classes, code)} has {rows}. Use more data, a smaller cv, or merge "
                    "that class into another."
                )
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        if not multiclass and min(n_pos, n_neg) < k:
            raise DataError(
                f"{k}-fold cross-fitting needs at least {k} rows of each class; got {n_pos} "
                f"positive and {n_neg} negative. Use more data or a smaller cv."
            )
        kind = StratifiedKFold if groups is None else StratifiedGroupKFold
        splitter = kind(k, shuffle=True, random_state=random_state)
    else:
        splitter = check_cv(cv, y, classifier=True)
    splits = [(_positions(tr), _positions(te)) for tr, te in splitter.split(y, y, groups)]
    if not splits:
        raise DataError(f"the cross-validation splitter {cv!r} produced no folds.")
    for k, (tr, te) in enumerate(splits):
        _check_classes(y, tr, te, f"teacher fold {k + 1} of {len(splits)}")
    return splits


def validation_split(split, fraction, y, groups=None, random_state=None, classes=None):
    """``(train, validation)`` row indices of the distiller's holdout.

    Parameters
    ----------
    split : splitter, iterable or None
        None: a stratified random share ``fraction`` (a group-aware share when
        ``groups`` is given). A splitter or iterable of index pairs: its
        **last** split, which for ``TimeSeriesSplit`` holds the most recent rows.
    fraction : float
    y : ndarray of 0/1, or class codes ``0 .. K-1`` (K > 2)
    groups : array-like, default=None
    random_state : int, default=None
    classes : ndarray, default=None
        The labels of the codes (K > 2): the training rows must hold every
        class, and an error names the class that is short.
    """
    groups = _check_groups(groups, len(y))
    multiclass = classes is not None and len(classes) > 2
    idx = np.arange(len(y))
    if split is not None:
        splits = list(check_cv(split, y, classifier=True).split(y, y, groups))
        if not splits:
            raise DataError(f"the validation splitter {split!r} produced no split.")
        tr, va = (np.asarray(part) for part in splits[-1])
    elif groups is not None:
        gss = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=random_state)
        tr, va = next(gss.split(idx, y, groups))
    else:
        if multiclass:
            code, n_rare = _rarest(y, classes)
            which = f"rows of class {_label(classes, code)}"
        else:
            n_rare = int(min(y.sum(), len(y) - y.sum()))
            which = ("positive" if y.sum() <= len(y) - y.sum() else "negative") + " rows"
        n_val_rare = int(np.floor(n_rare * fraction))
        if n_val_rare < 1 or n_rare - n_val_rare < 2:
            raise DataError(
                f"too few {which} ({n_rare}) to hold out a validation split of "
                f"{fraction:.0%} and still cross-fit the teacher; use more data."
            )
        tr, va = train_test_split(idx, test_size=fraction, stratify=y, random_state=random_state)
    _check_classes(y, tr, va, "the validation split")
    if multiclass:
        missing = np.setdiff1d(np.arange(len(classes)), y[tr])
        if len(missing):
            raise DataError(
                f"the validation split leaves no training rows of class "
                f"{_label(classes, int(missing[0]))}: the teacher could never predict it. "
                "Use a split whose training rows hold every class, or more data."
            )
    return tr, va


def _positions(rows) -> np.ndarray:
    """Row positions of a split's side, given as positions or as a boolean mask."""
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows
