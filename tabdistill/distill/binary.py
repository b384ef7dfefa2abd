"""What a binary classifier of this package shows scikit-learn: classes and the positive class.

``classes_`` are the two labels sorted, with their own dtype, as scikit-learn
orders them; ``pos_label_`` is the class the models score (chosen by
:func:`tabdistill.data.target.encode_target`). Everything that turns a
positive-class probability into ``predict_proba`` columns or labels goes
through :class:`BinaryClassifierMixin`, so the positive class is handled in one
place.
"""

from __future__ import annotations

import numpy as np

from .._proba import two_columns
from ..data.target import positive_index


class BinaryClassifierMixin:
    """Columns and labels from positive-class scores; scikit-learn tags of a binary classifier."""

    @property
    def positive_index_(self) -> int:
        """Position of ``pos_label_`` in ``classes_`` (its ``predict_proba`` column)."""
        return positive_index(self.classes_, self.pos_label_)

    def proba_from_scores(self, p) -> np.ndarray:
        """``predict_proba`` columns (``classes_`` order) from positive-class probabilities."""
        return two_columns(p, self.positive_index_)

    def labels_from_scores(self, p, threshold: float = 0.5) -> np.ndarray:
        """``pos_label_`` where ``p >= threshold``, the other class elsewhere."""
        pos = self.positive_index_
        return self.classes_[np.where(np.asarray(p) >= threshold, pos, 1 - pos)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
