"""scikit-learn trees of a loaded model checked before they predict.

scikit-learn restores a tree's node arrays as they are stored and, when it
predicts, follows its children without bounds checks: a child index edited in
a saved file makes ``predict`` read outside its arrays (a segmentation fault),
and a cycle makes it loop. :func:`check_trees` walks a loaded model's objects
and refuses any tree whose nodes are not one tree over in-range features.
"""

from __future__ import annotations

import numpy as np

_LEAF = -1  # scikit-learn's TREE_LEAF


def check_trees(model) -> None:
    """Raise ``ValueError`` naming the first scikit-learn tree in ``model`` that is unsafe."""
    for where, tree in _trees(model):
        try:
            check_tree(tree)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


def check_tree(tree) -> None:
    """Raise ``ValueError`` unless ``tree`` (a ``sklearn.tree._tree.Tree``) is one safe tree."""
    n = int(tree.node_count)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    if not (len(left) == len(right) == len(feature) == n >= 1):
        raise ValueError("node arrays of different lengths")
    leaf = left == _LEAF
    if (leaf != (right == _LEAF)).any():
        raise ValueError("a node with one child")
    children = np.concatenate([left[~leaf], right[~leaf]])
    if children.size and (children.min() < 1 or children.max() >= n):
        raise ValueError(f"a child index outside 1..{n - 1}")
    if len(np.unique(children)) != len(children) or len(children) != n - 1:
        raise ValueError("the children do not form a tree (a node reached twice, or never)")
    split_features = feature[~leaf]
    if split_features.size and (
        split_features.min() < 0 or split_features.max() >= tree.n_features
    ):
        raise ValueError(f"a split feature outside 0..{tree.n_features - 1}")


def _trees(root):
    """``(path, Tree)`` of every scikit-learn tree reachable from ``root``'s attributes."""
    from sklearn.tree._tree import Tree

    seen, stack = set(), [("model", root)]
    while stack:
        where, obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | np.ndarray | int | float):
            continue
        seen.add(id(obj))
        if isinstance(obj, Tree):
            yield where, obj
        elif isinstance(obj, dict):
            stack.extend((f"{where}[{k!r}]", v) for k, v in obj.items())
        elif isinstance(obj, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(obj))
        elif hasattr(obj, "__dict__"):
            stack.extend((f"{where}.{k}", v) for k, v in vars(obj).items())
