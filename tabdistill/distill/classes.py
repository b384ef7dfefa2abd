"""What a classifier of this package shows scikit-learn: its classes, and scores as columns.

``classes_`` are the labels sorted, with their own dtype, as scikit-learn
orders them. The models work on *scores*: for a binary target, the
probability of the positive class ``pos_label_`` (chosen by
:func:`tabdistill.data.target.encode_target`), one number a row; for K > 2
classes, the K class probabilities of a row in ``classes_`` order.
Everything that turns scores into ``predict_proba`` columns or labels goes
through :class:`ClassesMixin`, so classes are handled in one place.
"""

from __future__ import annotations

import numpy as np

from tabdistill_runtime._proba import two_columns

from ..data.target import positive_index


class ClassesMixin:
    """Columns and labels from scores; scikit-learn tags of a multiclass-capable classifier."""

    @property
    def n_classes_(self) -> int:
        """Number of classes (``len(classes_)``)."""
        return len(self.classes_)

    @property
    def positive_index_(self) -> int:
        """Position of ``pos_label_`` in ``classes_`` (its ``predict_proba`` column).

        Raises ``AttributeError`` for a target of more than two classes, which
        has no positive class.
        """
        if self.pos_label_ is None:
            raise AttributeError(
                f"positive_index_ is defined for a binary target; this model has "
                f"{len(self.classes_)} classes and no positive class."
            )
        return positive_index(self.classes_, self.pos_label_)

    def proba_from_scores(self, p) -> np.ndarray:
        """``predict_proba`` columns (``classes_`` order) from scores (see the module docstring)."""
        p = np.asarray(p, dtype=np.float64)
        if p.ndim == 2:
            return p
        return two_columns(p, self.positive_index_)

    def labels_from_scores(self, p, threshold: float = 0.5) -> np.ndarray:
        """Labels from scores: for a binary target, ``pos_label_`` where ``p >= threshold``
        and the other class elsewhere; for K classes, the most probable class."""
        p = np.asarray(p)
        if p.ndim == 2:
            return self.classes_[np.argmax(p, axis=1)]
        pos = self.positive_index_
        return self.classes_[np.where(p >= threshold, pos, 1 - pos)]
