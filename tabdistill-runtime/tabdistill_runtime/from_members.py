"""Compiled models as members of one blend: what a teacher ensemble compiles to.

:func:`compile_blend` takes the members of an ensemble as compiled tree and
linear models and builds one runtime of kind ``"blend"``
(:mod:`tabdistill_runtime.blend`): their trees joined in one node table, trees
of identical structure that add to consecutive outputs (a K-class forest's
class copies) stored once with vector leaves, the trees ordered by depth for the
single-row kernel (each output summed in float32 keeping its trees' order).
"""

from __future__ import annotations

import numpy as np

from .blend import BLEND, TWO_COLUMNS, renumber_vectors, vector_leaves
from .model import CompiledModel
from .rules import OUT_CLIP, OUT_SIGMOID, OUT_SOFTMAX
from .trees import TREE_ARRAYS, concatenate, walk_structure


def compile_blend(members, schema, n_classes: int, source: str = "teacher"):
    """Compile members of compiled models into one ``"blend"`` runtime.

    Parameters
    ----------
    members : list of (name, weight, parts)
        In the teacher's order. ``parts`` is a list of ``(model, classes)``: a
        tree or linear :class:`~tabdistill_runtime.model.CompiledModel` scoring
        the encoded rows of ``schema``, and the blend's classes its probability
        columns stand for (None: every class, in order). A member of several
        parts is their mean.
    schema : FeatureSchema
    n_classes : int
        Classes of the target: 2 gives one output (the positive class), K > 2
        gives K.
    source : str, default="teacher"
        Recorded in the meta.

    Raises
    ------
    TypeError
        For a part the blend cannot take (another kind, a tree model with a
        base score summed in float32, columns that do not match ``classes``).
    """
    width = 1 if n_classes == 2 else int(n_classes)
    parts, tables, linears, vectors = [], [], [], []
    for _, _, member_parts in members:
        for model, classes in member_parts:
            if model.kind == "trees":
                part, table = _tree_part(model, classes, width, vectors)
                part["at"] = sum(p["n"] for p in parts if p["scores"] == "trees")
                tables.append(table)
            elif model.kind == "linear":
                part = _linear_part(model, classes, width, len(linears))
                linears.append(model)
            else:
                raise TypeError(f"a blend takes tree and linear models, not {model.kind!r} ones.")
            parts.append(part)
    meta = {
        "source": source,
        "n_outputs": width,
        "n_slots": sum(p["n"] for p in parts if p["scores"] == "trees"),
        "members": [
            {"name": str(name), "weight": float(weight), "parts": len(member_parts)}
            for name, weight, member_parts in members
        ],
        "parts": parts,
        "linear": [
            {"n_design": int(m.meta["n_design"]), "n_outputs": m.n_outputs} for m in linears
        ],
    }
    arrays = _tree_arrays(tables, [p for p in parts if p["scores"] == "trees"], vectors)
    arrays.update(_linear_arrays(linears))
    return CompiledModel(BLEND, arrays, schema, meta)


def _columns(part, classes, width) -> dict:
    """``part`` with its ``classes`` checked against its columns (see the module docstring)."""
    n_columns = 2 if part["transform"] in TWO_COLUMNS else part["n"]
    if classes is None:
        if n_columns != width:
            raise TypeError(
                f"a part of {n_columns} probability column(s) in a blend of {width} output(s) "
                "needs the classes its columns stand for."
            )
        return {**part, "classes": None}
    classes = [int(c) for c in classes]
    if len(classes) != n_columns:
        raise TypeError(f"classes {classes} name {len(classes)} columns, the part has {n_columns}.")
    return {**part, "classes": classes}


def _tree_part(model, classes, width, vectors) -> tuple[dict, dict]:
    """The part and node table of a tree model (leaf vectors appended to ``vectors``)."""
    meta, n = model.meta, model.n_outputs
    table = {k: model.arrays[k].copy() for k in TREE_ARRAYS}
    summed = meta.get("sum", "float64")
    if meta["output"] == OUT_SIGMOID:
        two = classes is not None and len(classes) == 2 and width > 1
        transform = "sigmoid2" if two else "sigmoid"
    elif meta["output"] == OUT_SOFTMAX:
        transform = "softmax"
    elif meta["output"] == OUT_CLIP:
        two = n == 1 and classes is not None and len(classes) == 2 and width > 1
        transform = "identity2" if two else "identity"
    else:
        raise TypeError(f"a blend cannot take a tree model of output {meta['output']!r}.")
    if meta["base"] != 0.0:
        if summed == "float32":
            raise TypeError("a tree model summed in float32 must hold its base in its leaves.")
        _add_base(table, n, meta["base"])
    widths = np.ones(len(table["roots"]), dtype=np.int32)
    if transform == "identity" and n > 1:
        table, widths, leaf_vectors = merge_copies(table, n)
        table["value"][vector_leaves(table, widths)] += sum(len(v) for v in vectors)
        vectors.append(leaf_vectors)
    table["tree_width"] = widths
    part = {"scores": "trees", "n": n, "transform": transform, "sum": summed}
    return _columns(part, classes, width), table


def _add_base(table, n_outputs, base):
    """Add ``base`` to the leaves of each output's first tree (a sum of float64 leaves)."""
    ends = np.append(table["roots"][1:], len(table["feature"]))
    for k in range(n_outputs):
        first = np.flatnonzero(table["tree_output"] == k)
        if len(first):
            t = first[0]
            span = np.arange(table["roots"][t], ends[t])
            table["value"][span[table["feature"][span] < 0]] += base


def _linear_part(model, classes, width, index) -> dict:
    n = model.n_outputs
    two = n == 1 and classes is not None and len(classes) == 2 and width > 1
    transform = "softmax" if n > 1 else ("sigmoid2" if two else "sigmoid")
    part = {"scores": "linear", "at": index, "n": n, "transform": transform}
    return _columns(part, classes, width)


def merge_copies(table, n_copies) -> tuple[dict, np.ndarray, np.ndarray]:
    """Store each group of ``n_copies`` consecutive trees of identical structure once.

    A forest of K classes is compiled as K copies of each tree (copy k adding
    its leaves' class-k probability to output k). When the trees come in such
    groups -- outputs ``0 .. n_copies - 1``, the same splits -- returns the
    first copies only, each leaf holding the offset of its ``n_copies`` values
    in the returned vectors, and the trees' widths; otherwise the table as it
    is, every tree of width 1, and no vectors.
    """
    roots, feature = table["roots"], table["feature"]
    n_trees, n = len(roots), len(feature)
    ends = np.append(roots[1:], n)
    sizes = ends - roots
    groups = n_trees // n_copies
    unchanged = table, np.ones(n_trees, dtype=np.int32), np.zeros(0)
    if n_trees % n_copies or not np.array_equal(
        table["tree_output"], np.tile(np.arange(n_copies), groups)
    ):
        return unchanged
    sizes = sizes.reshape(groups, n_copies)
    if not (sizes == sizes[:, :1]).all():
        return unchanged
    tree = np.searchsorted(roots, np.arange(n), side="right") - 1
    local = np.arange(n) - roots[tree]
    first = roots[::n_copies]
    start = first[tree // n_copies]
    base = start + local  # the node of the group's first copy at this place
    split = feature >= 0
    same = (
        (feature == feature[base])
        & (table["flags"] == table["flags"][base])
        & (~split | (table["value"] == table["value"][base]))
        & (~split | (table["right"] - roots[tree] == table["right"][base] - start))
    )
    if not same.all():
        return unchanged
    leaves = np.flatnonzero((tree % n_copies == 0) & ~split)
    # the k-th copy of a kept node sits k tree sizes further on (copies are consecutive)
    size_of = sizes[:, 0][tree[leaves] // n_copies]
    vectors = np.stack([table["value"][leaves + k * size_of] for k in range(n_copies)], axis=1)
    merged = _select_trees(table, np.arange(0, n_trees, n_copies))
    merged["tree_output"][:] = 0
    merged["value"][merged["feature"] < 0] = np.arange(len(leaves)) * n_copies
    widths = np.full(groups, n_copies, dtype=np.int32)
    return merged, widths, vectors.ravel()


def _select_trees(table, order) -> dict:
    """The table of trees ``order`` (indices, in the order given), renumbered."""
    roots, n = table["roots"], len(table["feature"])
    ends = np.append(roots[1:], n)
    sizes = (ends - roots)[order]
    nodes = np.concatenate([np.arange(roots[t], ends[t]) for t in order]) if len(order) else []
    nodes = np.asarray(nodes, dtype=np.int64)
    new_roots = np.concatenate([[0], np.cumsum(sizes)])[:-1].astype(np.int32)
    shift = np.repeat(new_roots - roots[order], sizes)
    out = {k: v[nodes] for k, v in table.items() if k in ("feature", "value", "flags")}
    right = table["right"][nodes]
    out["right"] = np.where(right >= 0, right + shift, -1).astype(np.int32)
    out["roots"] = new_roots
    for key in ("tree_output", "tree_width"):
        if key in table:
            out[key] = table[key][order].copy()
    out["cat_bounds"], out["cat_bits"] = table["cat_bounds"], table["cat_bits"]
    return out


def _tree_arrays(tables, parts, vectors) -> dict:
    """The blend's node table: the parts' trees joined and ordered by depth, with leaf vectors."""
    slots = np.cumsum([0] + [p["n"] for p in parts])[:-1]
    joined = concatenate(tables, slots.tolist()) if tables else _empty_table()
    joined["tree_width"] = joined["tree_width"].astype(np.int32)
    leaf_vectors = np.concatenate(vectors) if vectors else np.zeros(0)
    depth = walk_structure(joined["feature"], joined["right"], joined["roots"])
    float32 = np.zeros(max(int(slots[-1] + parts[-1]["n"]) if parts else 0, 1), dtype=bool)
    for at, part in zip(slots, parts):
        float32[at : at + part["n"]] = part["sum"] == "float32"
    order = np.argsort(_walk_key(depth, joined["tree_output"], float32), kind="stable")
    table = _select_trees(joined, order)
    return {**table, **renumber_vectors(table, table["tree_width"], leaf_vectors)}


def _empty_table() -> dict:
    table = {k: np.zeros(0, dtype=t) for k, t in TREE_ARRAYS.items()}
    table["cat_bounds"] = np.zeros(1, dtype=np.int32)
    table["tree_width"] = np.zeros(0, dtype=np.int32)
    return table


def _walk_key(depth, outputs, float32) -> np.ndarray:
    """Trees' order for the walk: by depth, except that the trees of a slot summed in float32
    all take the slot's deepest tree's depth (a stable sort keeps their order)."""
    if not len(depth):
        return depth
    deepest = np.zeros(len(float32), dtype=depth.dtype)
    np.maximum.at(deepest, outputs, depth)
    return np.where(float32[outputs], deepest[outputs], depth)


def _linear_arrays(linears) -> dict:
    return {
        "linear_ints": np.concatenate(
            [m.arrays["ints"] for m in linears] or [np.zeros((0, 3), np.int64)]
        ).astype(np.int64),
        "linear_values": np.concatenate(
            [m.arrays["values"] for m in linears] or [np.zeros((0, 3))]
        ).astype(np.float64),
        "linear_coef": np.concatenate(
            [m.arrays["coef"].ravel() for m in linears] or [np.zeros(0)]
        ).astype(np.float64),
    }
