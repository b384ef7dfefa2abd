"""Drop trees and refit the rest, with an L1 penalty on the teacher's soft labels.

A boosted student's trees were fit greedily, one after another, each with a
fixed shrinkage. Refit them all at once: each tree's output is one feature
(the value of the leaf a row reaches), and a logistic model with an L1
penalty learns one weight per tree against the teacher's probabilities (the
post-processing of Friedman & Popescu's importance-sampled ensembles, and the
"global refinement" of Ren et al. 2015 at the level of trees). Trees whose
weight is zero are dropped; the others keep their shape, their leaf values
scaled by their weight, and the intercept becomes the base score. With a weak
penalty the refit can only match or improve the training loss of the original
(all weights 1, intercept 0); a stronger one trades accuracy for size.
"""

from __future__ import annotations

import numpy as np

from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.rules import OUT_SIGMOID
from tabdistill_runtime.trees import TreeBuilder


def tree_outputs(model: CompiledModel, Z) -> np.ndarray:
    """``(n_rows, n_trees)``: the value of the leaf each row reaches in each tree."""
    return model.arrays["value"][model.apply(Z)]


def _l1_penalty() -> dict:
    """scikit-learn >= 1.8 spells an L1 penalty ``l1_ratio=1`` (``penalty`` is deprecated)."""
    import sklearn

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    return {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}


def _soft_logistic(D, target, weight, C, random_state):
    """Logistic regression on soft targets (each row twice: weights ``w*q`` and ``w*(1-q)``)."""
    from sklearn.linear_model import LogisticRegression

    both = np.concatenate([weight * target, weight * (1 - target)])
    keep = both > 0
    X2 = np.vstack([D, D])[keep]
    y2 = np.concatenate([np.ones(D.shape[0]), np.zeros(D.shape[0])])[keep]
    # losses summed over rows of total weight n, as LogisticRegression's C assumes
    sw = both[keep] * (D.shape[0] / both.sum())
    model = LogisticRegression(
        **_l1_penalty(),
        C=C,
        solver="liblinear",
        intercept_scaling=100.0,  # liblinear penalises the intercept: make that negligible
        max_iter=1_000,
        random_state=random_state,
    )
    return model.fit(X2, y2, sample_weight=sw)


def refit_trees(
    model: CompiledModel, Z, target, sample_weight=None, C=0.1, random_state=0
) -> CompiledModel:
    """The trees of ``model`` reweighted under an L1 penalty; trees of weight 0 dropped.

    Parameters
    ----------
    model : CompiledModel
        A tree runtime with a sigmoid output (a boosted student).
    Z : ndarray of shape (n, n_features)
        Encoded training rows (the student's own, synthetic rows included).
    target : ndarray of shape (n,)
        The teacher's probabilities for those rows.
    sample_weight : ndarray of shape (n,), default=None
    C : float, default=0.1
        Inverse L1 strength, as in scikit-learn (losses summed over rows of
        total weight n): smaller keeps fewer trees.
    random_state : int, default=0

    Returns
    -------
    CompiledModel
        Its scores are exactly ``sigmoid(intercept + sum_t weight_t * tree_t(x))``.
    """
    if model.kind != "trees" or model.meta["output"] != OUT_SIGMOID:
        raise TypeError("refit_trees needs a tree runtime with a sigmoid output (LightGBM).")
    target = np.asarray(target, dtype=np.float64)
    weight = np.ones(len(target)) if sample_weight is None else np.asarray(sample_weight, float)
    fitted = _soft_logistic(tree_outputs(model, Z), target, weight, C, random_state)
    return reweight(model, fitted.coef_.ravel(), float(fitted.intercept_[0]))


def reweight(model: CompiledModel, tree_weights, base) -> CompiledModel:
    """``model`` with each tree's leaves scaled by its weight, zero-weight trees dropped."""
    a = model.arrays
    tree_weights = np.asarray(tree_weights, dtype=np.float64)
    tree = np.searchsorted(a["roots"], np.arange(len(a["feature"])), side="right") - 1
    leaf = a["feature"] < 0
    values = a["value"].copy()
    values[leaf] *= tree_weights[tree[leaf]]
    return rebuild(model, values, base, keep=tree_weights != 0)


def rebuild(model: CompiledModel, values, base, keep) -> CompiledModel:
    """``model``'s trees ``keep`` with node ``values``; sibling leaves of equal value merged
    (a merged leaf's cover is its parent's: the contributions stay exact)."""
    a = model.arrays
    feature, right, flags = a["feature"], a["right"], a["flags"]
    cover = a.get("cover")
    builder = TreeBuilder()
    builder.use_categories(a["cat_bounds"], a["cat_bits"])

    def add(i):  # returns the new node id, or ("leaf", value, cover) for a leaf not yet added
        if feature[i] < 0:
            return ("leaf", float(values[i]), None if cover is None else float(cover[i]))
        left, right_ = add(i + 1), add(int(right[i]))
        if left[0] == "leaf" and right_[0] == "leaf" and left[1] == right_[1]:
            return ("leaf", left[1], None if cover is None else float(cover[i]))
        node = builder.node(int(feature[i]), int(flags[i]), float(values[i]))
        builder.link(node, _placed(left), _placed(right_))
        return ("node", node)

    def _placed(item):
        return builder.node(-1, 0, item[1], item[2]) if item[0] == "leaf" else item[1]

    for t, root in enumerate(a["roots"].tolist()):
        if keep[t]:
            builder.root(_placed(add(root)), int(a["tree_output"][t]))
    if builder.n_trees == 0:  # a constant model still needs its one leaf
        builder.root(builder.node(-1, 0, 0.0, None if cover is None else 1.0))
    arrays = builder.arrays()
    meta = {**model.meta, "base": base}
    return CompiledModel("trees", arrays, model.schema, meta)
