"""Per-row feature contributions and reason codes of a compiled model.

Every score comes with the reasons behind it: how much each input column moved the row's
raw score (log-odds for a LightGBM or linear student, the leaf probability before clipping
for a scikit-learn tree) away from a baseline. The contributions and the baseline (the
*expected value*) sum exactly to the raw score.

* Tree runtimes: exact path-dependent TreeSHAP (Lundberg et al. 2018), as LightGBM's
  ``pred_contrib`` computes it, evaluated in C (``_treeshap.h``). It needs each node's
  *cover*, the training rows that reached it, which compiled students carry (LightGBM's
  counts, scikit-learn's weighted sample counts); the baseline is the model's mean raw score
  over those rows, as the trees see them.
* Linear runtimes: each feature's term of the linear score. The baseline is the intercept:
  the score of a row whose numeric features sit at their training means (not missing) and
  whose categorical features are missing, so a numeric term is
  ``coefficient * (value - mean) / scale`` (plus the missing indicator's coefficient when
  missing) and a categorical term its level's coefficient.

Contributions of the encoded columns read from one input column (a date's parts, a
frequent-level code and its frequency) are summed, so reasons name input columns
(:attr:`FeatureGroups.names`). Reason codes are the ``k`` largest contributions, largest
first: the columns that pushed the score up most (for a K-class model, the score of the
most probable class).

How trees are computed (the same values every way, up to rounding): a tree is cut into
*blocks* -- subtrees whose contributions depend on at most :data:`BLOCK_BITS` bits of the
row (its decisions at their splits, and whether it follows the path at the splits above
them on each feature) -- tabulated by those bits (:func:`tree_blocks`, within
:data:`TABLE_BYTES`). Every other leaf is computed on its own (:func:`leaf_paths`): a leaf
of value v whose path's distinct features P have zero fractions z (the products of the
shares of the path's children split on each) adds, for a row that follows the path at
every split on the features H and not on the others,

* ``-F(H)`` to each feature of P not in H, and
* ``(1 - z_i) / z_i * F(H - {i})`` to each i in H,

with ``F(A) = v * prod(z_j, j in P - A) * integral over [0, 1] of (1 - t)^(|P - A| - 1) *
prod(t + z_j (1 - t), j in A) dt``: one table of F over the subsets of P (at most 12
features and no zero fraction; within :data:`TABLE_BYTES` again, the fewest features
first) makes a leaf d lookups, else it is computed in closed form. The row's decisions at
a tree of at most 64 splits are one word; a larger tree is passed over once, carrying the
row's agreement with the path down to each leaf and block. Trees are walked
(:func:`walk_tables`) only without ``leaves`` or with a path of more than 64 distinct
features, as the C export does. The tables are built when the explainer is first used (a
fifth of a second for 100 trees of 31 leaves) and take at most 2 x :data:`TABLE_BYTES` a
model (12 MB for 100 trees of 31 leaves, 3 MB for 100 of 15); they are never saved.
"""

from __future__ import annotations

import math

import numpy as np

from .exceptions import ArtifactError

try:
    from . import _explain
except ImportError:  # built at install time; absent where no C compiler was found
    _explain = None


class FeatureGroups:
    """Which input column each encoded feature is read from.

    Attributes
    ----------
    names : tuple of str
        The input columns, in first-use order (``schema.input_columns``).
    index : ndarray of int32
        Per encoded feature, the index of its input column in ``names``.
    """

    def __init__(self, schema):
        self.names = tuple(schema.input_columns)
        where = {name: i for i, name in enumerate(self.names)}
        self.index = np.array([where[schema.source(f)] for f in schema.features], dtype=np.int32)

    def sum(self, contributions) -> np.ndarray:
        """Contributions ``(..., n_features + 1)`` summed by input column: ``(..., n + 1)``,
        the expected value kept last."""
        c = np.asarray(contributions)
        out = np.zeros((*c.shape[:-1], len(self.names) + 1))
        for j, g in enumerate(self.index.tolist()):
            out[..., g] += c[..., j]
        out[..., -1] = c[..., -1]
        return out


def shares(arrays) -> np.ndarray:
    """Each node's cover over its parent's (1 at a root): the share of the parent's training
    rows that reached it. A parent of cover 0 splits its share in halves."""
    feature, right, cover = arrays["feature"], arrays["right"], arrays["cover"]
    out = np.ones(len(feature))
    split = np.flatnonzero(feature >= 0)
    for child in (split + 1, right[split]):
        parent = cover[split]
        out[child] = np.where(parent > 0, cover[child] / np.where(parent > 0, parent, 1.0), 0.5)
    return out


#: repeat flags of a split (``_treeshap.h``): an ancestor / a descendant splits on its feature
ABOVE, AGAIN = 1, 2


def tree_links(arrays) -> tuple[np.ndarray, np.ndarray]:
    """``(repeat, prev_edge)`` of a pre-order table, per node.

    ``repeat`` flags a split whose feature an ancestor (:data:`ABOVE`) or a
    descendant (:data:`AGAIN`) splits on too; ``prev_edge`` of an :data:`ABOVE`
    split is the child of the nearest such ancestor on the path to it (else -1).
    """
    feature, right = arrays["feature"].tolist(), arrays["right"].tolist()
    flags, prev_edge = [0] * len(feature), [-1] * len(feature)
    for root in arrays["roots"].tolist():
        path = {}  # feature -> [(split, child taken)] on the path to the current node
        stack = [("enter", root)]
        while stack:
            op, item = stack.pop()
            if op == "pop":
                path[item].pop()
            elif op == "push":
                path.setdefault(feature[item[0]], []).append(item)
            elif feature[item] >= 0:
                here, f = item, feature[item]
                for split, child in path.get(f, ()):
                    flags[split] |= AGAIN
                    flags[here] |= ABOVE
                    prev_edge[here] = child
                for child in (right[here], here + 1):  # the left subtree first
                    stack += [("pop", f), ("enter", child), ("push", (here, child))]
    return np.asarray(flags, np.uint8), np.asarray(prev_edge, np.int32)


def gauss_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` Gauss-Legendre points and weights on [0, 1]: exact for polynomials of
    degree below ``2 n``."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def gauss_points(depth: int, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """The Gauss-Legendre rule integrating polynomials of degree below ``min(depth,
    n_features)`` exactly (a leaf's path has no more distinct features)."""
    return gauss_rule(max(1, math.ceil(min(depth, n_features) / 2)))


def leaf_paths(arrays, share, listed: bool = True) -> tuple:
    """The leaf-by-leaf form of the trees (``td_leaves`` of ``_shaptables.h``), for
    ``_explain.c``: per tree its leaves ``first``, ``stop`` (-1: walked instead: every tree
    unless ``listed``, and a tree with a path of more than 64 distinct features), per leaf
    its ``value`` and ``entry`` range, per entry (a distinct feature of the leaf's path, in
    the order the path meets them) the ``feature``, ``z`` (the product of the path's shares
    at its splits on it), ``mask`` (those splits, bit b for the tree's b-th split; 0 in a
    tree of more than 64 splits) and ``want`` (those the path goes left at), then the
    Gauss-Legendre rules of 1 .. max points one after another, and per node its ``slot``: a
    split's feature is the slot-th distinct feature of the paths through it (-1: a leaf)."""
    nodes = (arrays["feature"].tolist(), arrays["right"].tolist(), arrays["value"].tolist())
    share = share.tolist()
    roots = arrays["roots"].tolist()
    first, stop, value, entry = [], [], [], [0]
    entries = {"feature": [], "z": [], "mask": [], "want": []}
    slot = [-1] * len(nodes[0])
    for root, end in zip(roots, roots[1:] + [len(nodes[0])]):
        tree = _tree_leaves(nodes, share, root, end, slot) if listed else None
        if tree is None:
            first.append(-1)
            stop.append(-1)
            continue
        first.append(len(value))
        for v, path in tree:
            value.append(v)
            for f, (z, mask, want) in path.items():
                for key, item in zip(entries, (f, z, mask, want)):
                    entries[key].append(item)
            entry.append(len(entries["feature"]))
        stop.append(len(value))
    widths = np.diff(entry)
    most = math.ceil(int(widths.max(initial=1)) / 2)
    rules = [gauss_rule(n) for n in range(1, max(most, 1) + 1)]
    as_array = np.asarray
    return (
        as_array(first, np.int32),
        as_array(stop, np.int32),
        as_array(value, np.float64),
        as_array(entry, np.int32),
        as_array(entries["feature"], np.int32),
        as_array(entries["z"], np.float64),
        as_array(entries["mask"], np.uint64),
        as_array(entries["want"], np.uint64),
        np.concatenate([t for t, _ in rules]),
        np.concatenate([w for _, w in rules]),
        as_array(slot, np.int32),
    )


def _tree_leaves(nodes, share, root, end, slot):
    """``[(value, {feature: (z, mask, want)})]`` of the leaves of the tree of nodes
    [root, end) in pre-order, setting ``slot`` of its splits; None for a single leaf or a
    path of more than 64 distinct features. ``nodes``: the lists feature, right, value."""
    feature, right, values = nodes
    splits = [n for n in range(root, end) if feature[n] >= 0]
    if not splits:
        return None
    bit = {n: b for b, n in enumerate(splits)} if len(splits) <= 64 else {}
    leaves = []
    stack = [(root, {})]  # (node, feature -> (z, mask, want) along the path to it)
    while stack:
        n, path = stack.pop()
        if feature[n] < 0:
            leaves.append((values[n], path))
            continue
        f, b = feature[n], 1 << bit[n] if bit else 0
        slot[n] = list(path).index(f) if f in path else len(path)
        if slot[n] >= 64:
            return None
        for child, left in ((right[n], 0), (n + 1, b)):  # the left child first
            z, mask, want = path.get(f, (1.0, 0, 0))
            stack.append((child, {**path, f: (z * share[child], mask | b, want | left)}))
    return leaves


def _fast_rules(arrays) -> tuple[np.ndarray, np.ndarray]:
    """``(kind, u)`` per node: how the scoring kernels decide each split, resolved once
    (:mod:`tabdistill_runtime.layout`), and its threshold or category mask."""
    from .layout import pack

    nodes = pack(arrays)
    return np.ascontiguousarray(nodes["kind"]), np.ascontiguousarray(nodes["u"])


def _kernels():
    if _explain is None:
        raise ImportError(
            "contributions need the compiled kernels, which were not built; reinstall "
            "tabdistill where a C compiler is available (pip install -e . builds them)."
        )
    return _explain


#: A block of a tree -- a subtree whose leaves depend on this many bits of the row at most
#: (:func:`tree_blocks`) -- gets its contributions tabulated.
BLOCK_BITS = 10
#: Bytes the blocks' tables may take, the first blocks first, and as many the leaves'
#: tables: a table row fetched early costs less than computing its leaves even from L3.
TABLE_BYTES = 16 << 20


def tree_blocks(arrays, paths, max_bits: int = BLOCK_BITS) -> tuple:
    """The blocks of the trees listed leaf by leaf (:func:`leaf_paths`), for ``_explain.c``.

    The leaves of a subtree depend on the row's decisions at its own splits and, for each
    feature split on above it, on whether the row follows the path at every such split
    only: when those number at most ``max_bits``, the subtree is a block, its leaves'
    contributions tabulated by them. A tree of at most ``max_bits`` splits is one block; a
    larger one is cut into the largest such subtrees; a leaf deeper than that is in none
    (computed on its own, as are the leaves of a block whose table does not fit).

    Returns per tree ``block_first``, ``block_stop``; per block ``key_start`` (into
    ``key_mask`` and ``key_want``: per feature split on above it, in the order the path
    meets them, its splits there, bit b for the tree's b-th split, and those the path goes
    left at -- 0 in a tree of more than 64 splits: the key's low bits), ``inside_first`` and
    ``inside_count`` (its own splits, numbered consecutively in pre-order: the key's next
    bits), ``feat_start`` (into ``feats``: the features its leaves contribute to),
    ``leaf_first``, ``leaf_stop``, ``root`` (its first node); then ``key_mask`` and
    ``key_want`` (uint64).
    """
    feature, right = arrays["feature"].tolist(), arrays["right"].tolist()
    first, entry, entry_feature = paths[0].tolist(), paths[3].tolist(), paths[4].tolist()
    ends = arrays["roots"].tolist()[1:] + [len(feature)]
    per_tree = {k: [] for k in ("block_first", "block_stop")}
    blocks = {k: [] for k in ("mask", "want", "feats", "leaf_first", "leaf_stop", "inside")}
    blocks["count"], blocks["root"] = [], []
    key_start, feat_start = [0], [0]
    for root, end, leaf0 in zip(arrays["roots"].tolist(), ends, first):
        per_tree["block_first"].append(len(blocks["leaf_first"]))
        small = sum(f >= 0 for f in feature[root:end]) <= 64  # splits numbered in a word
        found = _cut(feature, right, root, end, max_bits) if leaf0 >= 0 else []
        for node, above, (inside, count), lo, hi in found:
            lo, hi = leaf0 + lo, leaf0 + hi
            blocks["mask"] += [mask * small for mask, _ in above]
            blocks["want"] += [want * small for _, want in above]
            blocks["root"].append(node)
            blocks["inside"].append(inside)
            blocks["count"].append(count)
            blocks["feats"] += sorted(set(entry_feature[entry[lo] : entry[hi]]))
            blocks["leaf_first"].append(lo)
            blocks["leaf_stop"].append(hi)
            key_start.append(len(blocks["mask"]))
            feat_start.append(len(blocks["feats"]))
        per_tree["block_stop"].append(len(blocks["leaf_first"]))
    i32 = np.int32
    ints = (
        *per_tree.values(),
        key_start,
        blocks["inside"],
        blocks["count"],
        feat_start,
        blocks["feats"],
        blocks["leaf_first"],
        blocks["leaf_stop"],
        blocks["root"],
    )
    words = (blocks["mask"], blocks["want"])
    return (*(np.asarray(a, dtype=i32) for a in ints), *(np.asarray(a, np.uint64) for a in words))


def _cut(feature, right, root, end, max_bits):
    """``[(first node, [(mask, want) per feature split on above], (first split, splits)
    inside, first leaf, stop leaf)]``: the blocks of the tree of nodes [root, end), leaves
    and splits numbered in pre-order from 0."""
    splits_before, leaves_before = [0], [0]
    for n in range(root, end):
        splits_before.append(splits_before[-1] + (feature[n] >= 0))
        leaves_before.append(leaves_before[-1] + (feature[n] < 0))
    stop = {}  # a node's subtree is [node, stop[node])
    for n in range(end - 1, root - 1, -1):
        stop[n] = n + 1 if feature[n] < 0 else stop[right[n]]
    found = []

    def place(n, above):  # above: feature -> (mask, want) of the splits on it above n
        lo, hi = n - root, stop[n] - root
        inside = splits_before[hi] - splits_before[lo]
        if len(above) + inside <= max_bits:
            leaves = leaves_before[lo], leaves_before[hi]
            found.append((n, list(above.values()), (splits_before[lo], inside), *leaves))
        elif feature[n] >= 0:
            bit = 1 << splits_before[lo]
            mask, want = above.get(feature[n], (0, 0))
            place(n + 1, {**above, feature[n]: (mask | bit, want | bit)})
            place(right[n], {**above, feature[n]: (mask | bit, want)})

    place(root, {})
    return found


def walk_tables(model, depth) -> dict:
    """What the walk of ``_treeshap.h`` reads besides the node table: per node ``share``,
    ``repeat`` and ``prev_edge``, the quadrature ``points`` and ``weights``, and ``max_nodes``
    (the largest tree's)."""
    a = model.arrays
    if "cover" not in a:
        raise ArtifactError(
            "this tree runtime has no node covers, which contributions need (a file saved by a "
            "tabdistill older than reasons has none). Compile the student again, or attach the "
            "covers of its training rows with model.with_covers(Z)."
        )
    t, w = gauss_points(int(np.max(depth, initial=0)), model.n_features)
    repeat, prev_edge = tree_links(a)
    sizes = np.diff(np.append(a["roots"], len(a["feature"])))
    return {
        "share": shares(a),
        "repeat": repeat,
        "prev_edge": prev_edge,
        "points": t,
        "weights": w,
        "max_nodes": int(sizes.max(initial=1)),
    }


def tree_explainer(model, groups: FeatureGroups, walk: dict, tables=True, leaves=True):
    """The C explainer of a tree runtime: trees leaf by leaf (``leaves``), blocks and leaves
    tabulated (``tables``, :func:`tree_blocks`), the others walked with ``walk``
    (:func:`walk_tables`)."""
    from .rules import ZERO

    a = model.arrays
    arrays = (
        *(a[k] for k in ("feature", "right", "value")),
        *(walk[k] for k in ("share", "repeat", "prev_edge")),
        *(a[k] for k in ("roots", "tree_output", "flags", "cat_bounds", "cat_bits")),
        walk["points"],
        walk["weights"],
        *_fast_rules(a),
    )
    paths = leaf_paths(a, walk["share"], leaves)
    blocks = tree_blocks(a, paths, BLOCK_BITS if tables else 0)
    settings = (model.n_features, model.n_outputs, walk["max_nodes"], float(model.meta["base"]))
    budget = (TABLE_BYTES if tables is True else int(tables)) // 8
    c = _kernels().Trees(arrays, paths, blocks, *settings, ZERO, groups.index, groups.names, budget)
    return c, (arrays, paths, blocks)


def linear_explainer(model, groups: FeatureGroups):
    """The C explainer of a linear runtime."""
    ints, values = model.arrays["ints"], model.arrays["values"]
    columns = (
        np.ascontiguousarray(ints[:, 0], dtype=np.int64),
        np.ascontiguousarray(ints[:, 1], dtype=np.int64),
        np.ascontiguousarray(ints[:, 2], dtype=np.uint8),
        np.ascontiguousarray(values[:, 0]),
        np.ascontiguousarray(values[:, 1]),
        np.ascontiguousarray(values[:, 2]),
        np.ascontiguousarray(model.arrays["coef"]),
    )
    k = model.n_outputs
    return _kernels().Linear(*columns, k, groups.index, groups.names), columns


class Explainer:
    """Contributions and reason codes of one compiled model (built on first use).

    Parameters
    ----------
    model : CompiledModel
    depth : ndarray, default=None
        Each tree's depth (tree runtimes).
    tables : bool or int, default=True
        Tabulate blocks of trees and leaves (within :data:`TABLE_BYTES` each, or this
        many bytes each).
    leaves : bool, default=True
        Compute the contributions of trees leaf by leaf rather than by walking them.
        Either way the values are the same up to rounding.

    Attributes
    ----------
    groups : FeatureGroups
    expected : ndarray of shape (n_outputs,)
        The expected value (baseline) of each output's raw score.
    walk : dict or None
        A tree runtime's :func:`walk_tables` (the C export emits them).
    """

    def __init__(self, model, depth=None, tables=True, leaves=True):
        self.groups = FeatureGroups(model.schema)
        self.n_features, self.n_outputs = model.n_features, model.n_outputs
        self.walk = None
        if model.kind == "trees":
            self.walk = walk_tables(model, depth)
            self._c, self._keep = tree_explainer(model, self.groups, self.walk, tables, leaves)
        else:
            self._c, self._keep = linear_explainer(model, self.groups)
        self.expected = np.array(self._c.expected())

    @property
    def n_tabulated(self) -> int:
        """Blocks of trees whose contributions are looked up in a table."""
        return self._c.n_tabulated()

    @property
    def n_leaf_tables(self) -> int:
        """Leaves, outside the tabulated blocks, whose contributions are looked up in a table."""
        return self._c.n_leaf_tables()

    @property
    def table_bytes(self) -> int:
        """Bytes the tables of blocks and leaves take (built with the explainer, never saved)."""
        return self._c.table_bytes()

    def encoded(self, Z) -> np.ndarray:
        """``(n, n_outputs, n_features + 1)`` contributions of encoded rows, expected value last."""
        out = np.empty((Z.shape[0], self.n_outputs, self.n_features + 1))
        self._c.contrib(Z, out)
        return out

    def reasons(self, row, k: int, output: int = 0) -> list:
        """The ``k`` largest contributions of one encoded row by input column, as
        ``[(column, contribution), ...]``, largest first."""
        return self._c.reasons(row, k, output)

    def reasons_batch(self, Z, k: int, outputs=None) -> tuple[np.ndarray, np.ndarray]:
        """``(names, values)``, each ``(n, min(k, n_columns))``: the reason codes of each row."""
        n = Z.shape[0]
        k = min(int(k), len(self.groups.names))
        outputs = (
            np.zeros(n, dtype=np.int32)
            if outputs is None
            else np.ascontiguousarray(outputs, dtype=np.int32)
        )
        idx = np.empty((n, k), dtype=np.int32)
        val = np.empty((n, k))
        self._c.reasons_batch(Z, k, outputs, idx, val)
        names = np.asarray(self.groups.names, dtype=object)
        return (names[idx] if len(names) else idx.astype(object)), val
