"""The binary target: any two labels mapped to 0/1, the positive class chosen by rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
        The original labels, ``classes[1]`` being the positive class.
    """

    y: np.ndarray
    classes: np.ndarray


def encode_target(y, positive_label=None) -> BinaryTarget:
    """Map a binary target with any two labels to 0/1.

    The positive class (mapped to 1) is, in this order: ``positive_label`` when
    given; the label that reads as positive (``1``, ``True``, ``"yes"``, ``"y"``,
    ``"true"``, ``"positive"``, ``"fraud"``, ...); otherwise the rarer label.

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
    values = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if values.isna().any():
        raise DataError(
            f"the target has {int(values.isna().sum())} missing values: "
            "drop those rows or fill the target before fitting."
        )
    counts = values.value_counts()
    if len(counts) < 2:
        only = counts.index[0] if len(counts) else "nothing"
        raise DataError(
            f"the target has a single class ({only!r}): a binary classifier needs rows of two "
            "classes. Check the target column and any filtering applied before fitting."
        )
    if len(counts) > 2:
        shown = ", ".join(repr(v) for v in counts.index[:6])
        raise DataError(
            f"the target must be binary, got {len(counts)} distinct values ({shown}, ...). "
            "Map it to two classes first."
        )
    labels = list(counts.index)
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
        positive = tokens[0] if len(tokens) == 1 else counts.index[-1]  # rarer label
    negative = labels[1] if labels[0] == positive else labels[0]
    y01 = (values == positive).to_numpy().astype(np.int8)
    return BinaryTarget(y=y01, classes=np.array([negative, positive], dtype=object))
