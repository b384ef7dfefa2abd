"""A LightGBM model string checked before LightGBM parses it.

LightGBM parses a model's trees in parallel threads, each at the byte offset
the ``tree_sizes`` line gives. A format error found there (a wrong offset, an
array of the wrong length, a missing field) is not raised to Python: it ends
the process (``[LightGBM] [Fatal] Model format error``, then ``abort``). Some
damage is worse: an offset past the end of the text, a line without ``=``, or
a child, feature or category index out of range makes LightGBM read outside
its arrays, at load or at predict; a cycle of children makes prediction loop
forever. :func:`check_model_text` refuses all of these, mirroring the parser's
own rules (``Tree=`` at every offset, key lines up to a blank line, array
lengths from ``num_leaves`` and ``num_cat``) and the tree walk's indices.

It cannot tell an edited threshold or leaf value from a real one: the digest
written by :func:`tabdistill.ops.persist.save_model` does that.
"""

from __future__ import annotations

#: Per-tree arrays of one entry per split, and of one per leaf (optional ones may be absent).
_SPLIT_KEYS = ("split_feature", "threshold", "decision_type", "left_child", "right_child")
_OPTIONAL_SPLIT_KEYS = ("split_gain", "internal_value", "internal_weight", "internal_count")
_OPTIONAL_LEAF_KEYS = ("leaf_weight", "leaf_count")
_MAX_TREE_LINES = 22  # LightGBM reads at most this many key lines of a tree
_CATEGORICAL = 1  # decision_type bit


def is_model_text(value) -> bool:
    """Whether ``value`` is a LightGBM model string (as a saved Booster holds it)."""
    return isinstance(value, str) and value.startswith("tree\nversion=")


def check_model_text(text: str) -> None:
    """Raise ``ValueError`` naming the first thing LightGBM could not load safely.

    Parameters
    ----------
    text : str
        The model string (``Booster.model_to_string()``).
    """
    data = text.encode()
    start = data.find(b"\nTree=")
    header = _key_values(data[: start if start >= 0 else len(data)].decode().split("\n"))
    n_features = _int(header, "max_feature_idx", 0) + 1
    per_iteration = _int(header, "num_tree_per_iteration", 1)
    _int(header, "num_class", 1)
    if len(header.get("feature_names", "").split(" ")) != n_features:
        raise ValueError(f"feature_names does not list max_feature_idx + 1 = {n_features} names")
    sizes = _numbers(header, "tree_sizes", int)
    if len(sizes) % per_iteration or any(s <= 0 for s in sizes):
        raise ValueError(f"tree_sizes {sizes[:5]}... do not fit {per_iteration} trees a round")
    if sizes and start < 0:
        raise ValueError("tree_sizes lists trees but the text holds none")
    at = start + 1
    if at + sum(sizes) > len(data):
        raise ValueError("tree_sizes point past the end of the model text")
    for i, size in enumerate(sizes):
        try:
            _check_tree(data[at : at + size].decode(), n_features)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"tree {i}: {exc}") from None
        at += size


def _check_tree(block: str, n_features: int) -> None:
    lines = block.split("\n")
    if not lines[0].startswith("Tree="):
        raise ValueError("its offset in tree_sizes does not start a 'Tree=' line")
    if "" not in lines[1:]:
        raise ValueError("no blank line ends it")
    keys = lines[1 : lines.index("", 1)]
    if len(keys) > _MAX_TREE_LINES or not all("=" in line for line in keys):
        raise ValueError("its lines are not key=value lines")
    tree = _key_values(keys)
    n_leaves, n_cat = _int(tree, "num_leaves", 1), _int(tree, "num_cat", 0)
    _numbers(tree, "leaf_value", float, n_leaves)
    if n_leaves == 1:  # LightGBM reads nothing more of a single leaf
        return
    for key in _OPTIONAL_LEAF_KEYS:
        if key in tree:
            _numbers(tree, key, float, n_leaves)
    n_split = n_leaves - 1
    for key in _OPTIONAL_SPLIT_KEYS:
        if key in tree:
            _numbers(tree, key, float, n_split)
    feature = _numbers(tree, "split_feature", int, n_split)
    if any(not 0 <= f < n_features for f in feature):
        raise ValueError(f"a split_feature outside 0..{n_features - 1}")
    _check_children(
        _numbers(tree, "left_child", int, n_split) + _numbers(tree, "right_child", int, n_split),
        n_leaves,
    )
    decision = _numbers(tree, "decision_type", int, n_split)
    threshold = _numbers(tree, "threshold", float, n_split)
    cats = [t for d, t in zip(decision, threshold) if d & _CATEGORICAL]
    if any(not (0 <= t < n_cat and t == int(t)) for t in cats):
        raise ValueError(f"a categorical split's set index outside 0..{n_cat - 1}")
    if n_cat:
        bounds = _numbers(tree, "cat_boundaries", int, n_cat + 1)
        if bounds[0] != 0 or any(b > c for b, c in zip(bounds, bounds[1:])):
            raise ValueError("cat_boundaries do not rise from 0")
        _numbers(tree, "cat_threshold", int, bounds[-1])


def _check_children(children: list[int], n_leaves: int) -> None:
    """Every split but the root and every leaf is some split's child exactly once (a tree)."""
    n_split = n_leaves - 1
    if any(not -n_leaves <= c < n_split for c in children):
        raise ValueError(f"a child index outside -{n_leaves}..{n_split - 1}")
    if 0 in children or len(set(children)) != len(children):
        raise ValueError("the children do not form a tree (a node reached twice, or the root)")


def _key_values(lines) -> dict:
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _int(values: dict, key: str, low: int) -> int:
    try:
        number = int(values[key])
    except KeyError:
        raise ValueError(f"no {key} field") from None
    if number < low:
        raise ValueError(f"{key}={number} (at least {low})")
    return number


def _numbers(values: dict, key: str, kind, count: int | None = None) -> list:
    if key not in values:
        if count == 0:
            return []
        raise ValueError(f"no {key} field")
    items = values[key].split(" ") if values[key] else []
    if count is not None and len(items) != count:
        raise ValueError(f"{key} holds {len(items)} numbers, {count} expected")
    return [kind(x) for x in items]
