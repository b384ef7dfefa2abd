"""The target: any K >= 2 labels mapped to integer codes, classes sorted like scikit-learn.

``classes`` are the distinct labels sorted with their own dtype (scikit-learn's
``classes_``); ``predict_proba`` columns follow them. A binary target keeps
its positive class (``pos_label``) and codes 1 for it, 0 for the other class;
a target of K > 2 classes codes each row by its label's position in ``classes``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning

from ..exceptions import DataError

# Labels read as "the positive class" when the user does not say which one is.
_POSITIVE_TOKENS = ("1", "true", "yes", "y", "positive", "pos", "fraud", "default", ">50k")


@dataclass(frozen=True)
class Target:
    """A target mapped to integer codes.

    Attributes
    ----------
    y : ndarray of shape (n_samples,)
        Integer codes: for a binary target (int8) 1 means the positive class
        and 0 the other one; for K > 2 classes (int64), the label's position
        in ``classes``.
    classes : ndarray of shape (n_classes,)
        The labels, sorted, with the labels' own dtype (scikit-learn's
        ``classes_``): ``predict_proba`` columns follow this order.
    pos_label : object or None
        The positive class of a binary target, one of ``classes``; None for K > 2.
    """

    y: np.ndarray
    classes: np.ndarray
    pos_label: object

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def positive_index(self) -> int:
        """Position of ``pos_label`` in ``classes`` (the positive column of ``predict_proba``)."""
        return positive_index(self.classes, self.pos_label)

    def codes_of(self, y) -> np.ndarray:
        """Codes of other labels (a holdout's) in this target's classes.

        Raises
        ------
        DataError
            If a label is not one of ``classes``.
        """
        values = _raw_labels(y)
        codes = np.full(len(values), -1, dtype=np.int64)
        for k, label in enumerate(self.classes):
            codes[values == label] = k
        unknown = pd.unique(values[codes < 0])
        if len(unknown):
            shown = ", ".join(repr(v) for v in unknown[:6])
            raise DataError(
                f"labels {shown} are not classes of the target the model was trained on "
                f"({', '.join(repr(c) for c in self.classes.tolist())})."
            )
        if self.pos_label is not None:
            return (codes == self.positive_index).astype(np.int8)
        return codes.astype(self.y.dtype)


#: The binary-only name this class had before multiclass targets; same class.
BinaryTarget = Target


def class_text(classes, code) -> str:
    """The label of class ``code`` as it reads in a message (``'fraud'``, ``3``)."""
    value = classes[code]
    return repr(value.item() if isinstance(value, np.generic) else value)


def positive_index(classes, pos_label) -> int:
    """Position of ``pos_label`` in ``classes``."""
    return int(np.flatnonzero(np.asarray(classes, dtype=object) == pos_label)[0])


def _sorted_labels(raw: np.ndarray) -> np.ndarray:
    """The distinct labels, sorted, keeping their dtype (what ``np.unique`` gives)."""
    try:
        return np.unique(raw)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in raw})
        raise DataError(
            f"the target mixes label types ({', '.join(kinds)}): use one type for every class."
        ) from None


def _raw_labels(y) -> np.ndarray:
    """``y`` as a 1-D array of labels (a one-column table or column vector is accepted)."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"expected one target column, got a table of {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        return y.to_numpy()
    raw = np.asarray(y)
    if raw.ndim > 1 and raw.shape[1:] != (1,):
        raise DataError(f"expected a 1-D target, got an array of shape {raw.shape}.")
    if raw.ndim > 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected: it is raveled. "
            "Pass y as a 1-D array (y.ravel()).",
            DataConversionWarning,
            stacklevel=4,
        )
    return raw.ravel()


def _positive(labels, counts, positive_label):
    """The positive class of two labels: as given, else the one that reads so, else the rarer."""
    if positive_label is not None:
        matches = [
            lab for lab in labels if lab == positive_label or str(lab) == str(positive_label)
        ]
        if not matches:
            raise DataError(
                f"positive_label={positive_label!r} is not one of the target's labels {labels}."
            )
        return matches[0]
    tokens = [lab for lab in labels if str(lab).strip().lower() in _POSITIVE_TOKENS]
    rarer = counts.index[-1] if counts.iloc[0] != counts.iloc[-1] else labels[1]
    return tokens[0] if len(tokens) == 1 else rarer


def encode_target(y, positive_label=None) -> Target:
    """Map a target with any K >= 2 labels to integer codes.

    ``classes`` are the labels sorted, as scikit-learn orders ``classes_``.
    With two classes, the positive class (code 1) is, in this order:
    ``positive_label`` when given; the label that reads as positive (``1``,
    ``True``, ``"yes"``, ``"y"``, ``"true"``, ``"positive"``, ``"fraud"``,
    ...); otherwise the rarer label. With more classes, a row's code is its
    label's position in ``classes``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target. Missing values are not allowed.
    positive_label : object, default=None
        The label of the positive class of a binary target, to override the
        rule above. Refused for a target of more than two classes.

    Returns
    -------
    Target

    Raises
    ------
    DataError
        If the target has missing values, one class only, looks continuous, or
        has more than two classes and ``positive_label`` is given.
    """
    raw = _raw_labels(y)
    values = pd.Series(raw, dtype=object)
    if values.isna().any():
        raise DataError(
            f"the target has {int(values.isna().sum())} missing values: "
            "drop those rows or fill the target before fitting."
        )
    counts = values.value_counts()
    if len(counts) < 2:
        only = counts.index[0] if len(counts) else "nothing"
        raise DataError(
            f"the target has one class only ({only!r}, {len(values)} rows): a classifier "
            "needs rows of two classes or more. Check the target column and any filtering "
            "before fitting."
        )
    classes = _sorted_labels(raw)
    labels = list(classes)
    if len(counts) > 2:
        shown = ", ".join(repr(v) for v in counts.index[:6])
        numbers = pd.to_numeric(pd.Series(counts.index), errors="coerce")
        if numbers.notna().all() and (numbers % 1 != 0).any():
            raise DataError(
                f"Unknown label type: the target looks continuous ({len(counts)} distinct "
                f"numbers: {shown}, ...); a classifier needs classes. Use a regressor, or "
                "bin the target first."
            )
        if positive_label is not None:
            raise DataError(
                f"positive_label={positive_label!r} is for a binary target; this one has "
                f"{len(counts)} classes ({shown}, ...). Leave positive_label unset, or map the "
                "target to two classes first."
            )
        # np.unique sorted the labels, so the same comparison places each row among them
        codes = np.searchsorted(classes, raw).astype(np.int64)
        return Target(y=codes, classes=classes, pos_label=None)
    positive = _positive(labels, counts, positive_label)
    positive = labels[positive_index(classes, positive)]  # the label as classes holds it
    y01 = (values.to_numpy() == positive).astype(np.int8)
    return Target(y=y01, classes=classes, pos_label=positive)
