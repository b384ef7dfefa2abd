"""The flat node table of a tree ensemble: its canonical layout, builder and structure check.

Every tree runtime holds the same arrays, one entry per node, trees stored one
after another, each tree's nodes in **pre-order** (a node, then its whole left
subtree, then its right subtree):

``feature`` (int32)
    split feature, ``-1`` for a leaf;
``right`` (int32)
    index of the right child; the left child of a split ``i`` is always ``i + 1``
    (pre-order), so it is not stored. ``-1`` for a leaf;
``value`` (float64)
    a numeric split's threshold, a categorical split's category-set index into
    ``cat_bounds``, or a leaf's value;
``flags`` (uint8)
    the decision rule bits of :mod:`tabdistill_runtime.rules`;
``cat_bounds`` (int32), ``cat_bits`` (uint32)
    category set ``k`` is the bitset ``cat_bits[cat_bounds[k]:cat_bounds[k + 1]]``;
``roots`` (int32)
    the first node of each tree;
``tree_output`` (int32)
    which output each tree adds to (all 0 for a binary model; one per class later);
``cover`` (float64, optional)
    the training rows (or their weight) that reached each node, a split's being its
    children's sum: what per-row contributions weigh the paths not taken by
    (:mod:`tabdistill_runtime.explain`).

Pre-order makes the table compact and its check simple: :func:`walk_structure`
visits every node once, so a table that passes it has no cycle, no shared node
and no index out of range. It also makes ``right`` and ``roots`` redundant:
which nodes are leaves fixes them (:func:`preorder_links`), so a file need not
store them.
"""

from __future__ import annotations

import numpy as np

#: The arrays of a tree runtime, with the dtype each is held in.
TREE_ARRAYS = {
    "feature": np.int32,
    "right": np.int32,
    "value": np.float64,
    "flags": np.uint8,
    "cat_bounds": np.int32,
    "cat_bits": np.uint32,
    "roots": np.int32,
    "tree_output": np.int32,
}
#: Arrays a tree runtime may hold besides :data:`TREE_ARRAYS`.
OPTIONAL_TREE_ARRAYS = {"cover": np.float64}


class TreeBuilder:
    """Accumulates trees, in any node order, into the canonical pre-order table.

    Compilers add nodes with :meth:`node`, connect them with :meth:`link` and
    mark each tree's first node with :meth:`root`; :meth:`arrays` renumbers
    the nodes in pre-order. Leaves given a ``cover`` give the table a ``cover``
    array (splits: the sum of their children's), if every leaf has one.
    """

    def __init__(self):
        self._nodes = []  # [feature, flags, value, left, right]
        self._covers = {}  # leaf id -> cover
        self._roots = []
        self._outputs = []
        self._cat_bounds, self._cat_bits = [0], []

    def node(self, feature, flags, value, cover=None) -> int:
        """Append a node (``feature < 0``: a leaf holding ``value``, reached by ``cover``
        training rows); returns its id."""
        self._nodes.append([int(feature), int(flags), float(value), -1, -1])
        if cover is not None and feature < 0:
            self._covers[len(self._nodes) - 1] = float(cover)
        return len(self._nodes) - 1

    def link(self, node, left, right):
        """Point split ``node`` at its children."""
        self._nodes[node][3] = int(left)
        self._nodes[node][4] = int(right)

    def root(self, node, output=0):
        """Start a new tree at ``node``, adding to output ``output``."""
        self._roots.append(int(node))
        self._outputs.append(int(output))

    def categories(self, cats) -> int:
        """Store a left-going category set as a bitset; returns its index."""
        words = np.zeros(max(cats) // 32 + 1 if cats else 1, dtype=np.uint32)
        for c in cats:
            words[c >> 5] |= np.uint32(1) << np.uint32(c & 31)
        self._cat_bits.extend(words.tolist())
        self._cat_bounds.append(len(self._cat_bits))
        return len(self._cat_bounds) - 2

    def use_categories(self, cat_bounds, cat_bits):
        """Start from existing category sets (when rebuilding a table that refers to them)."""
        self._cat_bounds = [int(b) for b in cat_bounds]
        self._cat_bits = [int(b) for b in cat_bits]

    @property
    def n_trees(self) -> int:
        return len(self._roots)

    def arrays(self) -> dict:
        """The canonical node table (see the module docstring)."""
        feature, right, value, flags, roots, ids = [], [], [], [], [], []
        for root in self._roots:
            roots.append(len(feature))
            stack = [(root, None)]  # (node id, index of the parent whose right child it is)
            while stack:
                if len(feature) >= len(self._nodes):
                    raise ValueError("the trees are cyclic or share nodes")
                nid, parent = stack.pop()
                if parent is not None:
                    right[parent] = len(feature)
                f, fl, v, left, r = self._nodes[nid]
                here = len(feature)
                ids.append(nid)
                feature.append(f)
                flags.append(fl if f >= 0 else 0)
                value.append(v)
                right.append(-1)
                if f >= 0:
                    stack.append((r, here))  # visited after the whole left subtree
                    stack.append((left, None))
        out = {
            "feature": np.array(feature, dtype=np.int32),
            "right": np.array(right, dtype=np.int32),
            "value": np.array(value, dtype=np.float64),
            "flags": np.array(flags, dtype=np.uint8),
            "cat_bounds": np.array(self._cat_bounds, dtype=np.int32),
            "cat_bits": np.array(self._cat_bits, dtype=np.uint32),
            "roots": np.array(roots, dtype=np.int32),
            "tree_output": np.array(self._outputs, dtype=np.int32),
        }
        leaves = [nid for nid, f in zip(ids, feature) if f < 0]
        if leaves and all(nid in self._covers for nid in leaves):
            out["cover"] = node_covers(
                out["feature"], out["right"], [self._covers[n] for n in leaves]
            )
        return out


def walk_structure(feature, right, roots) -> np.ndarray:
    """Check the pre-order structure; return each tree's depth (edges on its longest path).

    Raises
    ------
    ValueError
        Naming the first node or tree that breaks the layout: trees must be
        stored one after another from node 0, each in pre-order, covering every
        node exactly once.
    """
    n = len(feature)
    feature, right = feature.tolist(), right.tolist()
    depths = np.zeros(len(roots), dtype=np.int32)
    pos = 0
    for t, root in enumerate(roots.tolist()):
        if root != pos:
            raise ValueError(f"tree {t} starts at node {root}, expected {pos} (trees in order)")
        deepest, stack, node, depth = 0, [], root, 0
        while True:
            if node != pos or node >= n:
                raise ValueError(
                    f"tree {t}: node {node} is out of place (expected node {pos} of {n} in "
                    "pre-order); the tree is cyclic, shares nodes or points out of range"
                )
            pos += 1
            if feature[node] >= 0:
                stack.append((right[node], depth + 1))
                node, depth = node + 1, depth + 1
                continue
            if right[node] != -1:
                raise ValueError(f"leaf {node} has a right child")
            deepest = max(deepest, depth)
            if not stack:
                break
            node, depth = stack.pop()
        depths[t] = deepest
    if pos != n:
        raise ValueError(f"{n - pos} node(s) after the last tree belong to no tree")
    return depths


def preorder_links(feature, n_trees: int) -> tuple[np.ndarray, np.ndarray]:
    """``(right, roots)`` of a pre-order table of ``n_trees`` trees, from ``feature`` alone.

    Count ``+1`` for a split and ``-1`` for a leaf; ``level[k]`` is the count over
    the nodes before ``k``. A complete tree counts ``-1`` and each of its proper
    prefixes ``>= 0``, so a split's left subtree starts one level above it and
    ends back at its level: the right child is the next node at the split's
    level, and tree ``t`` starts where the level first falls to ``-t``. The
    result is only as good as ``feature``: :func:`walk_structure` checks it.

    Raises
    ------
    ValueError
        If the leaves do not make ``n_trees`` trees.
    """
    feature = np.asarray(feature)
    n = len(feature)
    level = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.where(feature >= 0, 1, -1), out=level[1:])
    order = np.argsort(level[:n], kind="stable")
    same = level[order[1:]] == level[order[:-1]]
    following = np.full(n, -1, dtype=np.int64)
    following[order[:-1][same]] = order[1:][same]
    right = np.where(feature >= 0, following, -1).astype(np.int32)
    new_low = level[1:] < np.minimum.accumulate(level)[:-1]  # level -t reached first at k + 1
    starts = np.concatenate([[0], np.flatnonzero(new_low) + 1])
    if n_trees == 0 and n == 0:
        return right, np.zeros(0, dtype=np.int32)
    if level[n] != -n_trees or len(starts) != n_trees + 1:
        raise ValueError(f"the {n} nodes' leaves and splits do not make {n_trees} trees")
    return right, starts[:-1].astype(np.int32)


def node_covers(feature, right, leaf_cover) -> np.ndarray:
    """Every node's cover in a pre-order table, from its leaves' in order (a split's cover
    is its children's sum).

    Raises
    ------
    ValueError
        If a split's children do not come after it (the table is not in pre-order).
    """
    feature = np.asarray(feature)
    cover = np.zeros(len(feature))
    cover[feature < 0] = leaf_cover
    f, r, c = feature.tolist(), np.asarray(right).tolist(), cover.tolist()
    for i in range(len(f) - 1, -1, -1):  # children come after their parent
        if f[i] >= 0:
            if not i + 1 < len(f) or not i + 1 < r[i] < len(f):
                raise ValueError(f"split {i} has children out of pre-order")
            c[i] = c[i + 1] + c[r[i]]
    return np.array(c, dtype=np.float64)


def concatenate(tables, output_offsets=None) -> dict:
    """One canonical table holding the trees of ``tables`` one after another.

    ``output_offsets[i]`` is added to the outputs of table ``i``'s trees (0 by
    default); child, root and category-set indices are renumbered. Arrays that
    every table holds beyond :data:`TREE_ARRAYS` (one entry a node, or one a
    tree) are joined too, table after table.
    """
    from .rules import CATEGORICAL

    offsets = output_offsets if output_offsets is not None else [0] * len(tables)
    extra = set.intersection(*(set(t) for t in tables)) - set(TREE_ARRAYS) if tables else set()
    out = {k: [] for k in (*TREE_ARRAYS, *sorted(extra))}
    nodes, sets, words = 0, 0, 0
    out["cat_bounds"].append(np.zeros(1, dtype=np.int32))
    for table, shift in zip(tables, offsets):
        split = table["feature"] >= 0
        value = table["value"].copy()
        value[split & ((table["flags"] & CATEGORICAL) != 0)] += sets
        out["feature"].append(table["feature"])
        out["right"].append(np.where(split, table["right"] + nodes, -1))
        out["value"].append(value)
        out["flags"].append(table["flags"])
        out["roots"].append(table["roots"] + nodes)
        out["tree_output"].append(table["tree_output"] + shift)
        out["cat_bounds"].append(table["cat_bounds"][1:] + words)
        out["cat_bits"].append(table["cat_bits"])
        for k in extra:
            out[k].append(table[k])
        nodes += len(table["feature"])
        sets += len(table["cat_bounds"]) - 1
        words += len(table["cat_bits"])
    dtypes = {**TREE_ARRAYS, **{k: tables[0][k].dtype for k in extra}}
    return {
        k: np.concatenate(v).astype(dtypes[k]) if v else np.zeros(0, dtypes[k])
        for k, v in out.items()
    }
