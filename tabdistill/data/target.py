"""The binary target: any two labels mapped to 0/1, the positive class chosen by rule."""

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
class BinaryTarget:
    """A binary target mapped to 0/1.

    Attributes
    ----------
    y : ndarray of shape (n_samples,)
        0/1 labels (int8), 1 meaning the positive class.
    classes : ndarray of shape (2,)
        The two labels, sorted, with the labels' own dtype (scikit-learn's
        ``classes_``): ``predict_proba`` columns follow this order.
    pos_label : object
        The positive class, one of ``classes``.
    """

    y: np.ndarray
    classes: np.ndarray
    pos_label: object

    @property
    def positive_index(self) -> int:
        """Position of ``pos_label`` in ``classes`` (the positive column of ``predict_proba``)."""
        return positive_index(self.classes, self.pos_label)


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
            f"the target mixes label types ({', '.join(kinds)}): use one type for both classes."
        ) from None


def encode_target(y, positive_label=None) -> BinaryTarget:
    """Map a binary target with any two labels to 0/1.

    The positive class (mapped to 1) is, in this order: ``positive_label`` when
    given; the label that reads as positive (``1``, ``True``, ``"yes"``, ``"y"``,
    ``"true"``, ``"positive"``, ``"fraud"``, ...); otherwise the rarer label.
    ``classes`` are the two labels sorted, as scikit-learn orders ``classes_``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target. Missing values are not allowed.
    positive_label : object, default=None
        The label of the positive class, to override the rule above.

    Returns
    -------
    BinaryTarget

    Raises
    ------
    DataError
        If the target has missing values, one class only, or more than two.
    """
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"expected one target column, got a table of {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        raw = y.to_numpy()
    else:
        raw = np.asarray(y)
        if raw.ndim > 1 and raw.shape[1:] != (1,):
            raise DataError(f"expected a 1-D target, got an array of shape {raw.shape}.")
        if raw.ndim > 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected: it is raveled. "
                "Pass y as a 1-D array (y.ravel()).",
                DataConversionWarning,
                stacklevel=3,
            )
        raw = raw.ravel()
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
            f"the target has one class only ({only!r}, {len(values)} rows): a binary classifier "
            "needs rows of two classes. Check the target column and any filtering before fitting."
        )
    if len(counts) > 2:
        shown = ", ".join(repr(v) for v in counts.index[:6])
        numbers = pd.to_numeric(pd.Series(counts.index), errors="coerce")
        if numbers.notna().all() and (numbers % 1 != 0).any():
            raise DataError(
                f"Unknown label type: the target looks continuous ({len(counts)} distinct "
                f"numbers: {shown}, ...); a classifier needs two classes. Use a regressor, or "
                "threshold the target first."
            )
        raise DataError(
            f"Only binary classification is supported: the target has {len(counts)} distinct "
            f"values ({shown}, ...). Map it to two classes first."
        )
    classes = _sorted_labels(raw)
    labels = list(classes)
    if positive_label is not None:
        matches = [
            lab for lab in labels if lab == positive_label or str(lab) == str(positive_label)
        ]
        if not matches:
            raise DataError(
                f"positive_label={positive_label!r} is not one of the target's labels {labels}."
            )
        positive = matches[0]
    else:
        tokens = [lab for lab in labels if str(lab).strip().lower() in _POSITIVE_TOKENS]
        rarer = counts.index[-1] if counts.iloc[0] != counts.iloc[-1] else labels[1]
        positive = tokens[0] if len(tokens) == 1 else rarer
    positive = labels[positive_index(classes, positive)]  # the label as classes holds it
    y01 = (values.to_numpy() == positive).astype(np.int8)
    return BinaryTarget(y=y01, classes=classes, pos_label=positive)
