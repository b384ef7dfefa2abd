"""The blend kind: several compiled models scored as one, the way tabdistill's teacher blends.

The teacher (``tabdistill.distill.TeacherEnsemble``) scores a row as
``sum_m weight_m * clip(q_m)``: ``q_m`` is member ``m``'s class probabilities
(the positive class's, binary), the mean of its *parts'* when it is the mean of
its fold models; ``clip`` keeps a probability within ``[EPS, 1 - EPS]`` (K
classes: within ``[EPS, 1]``, then rescaled to sum to 1). A runtime of kind
``"blend"`` (built by :func:`tabdistill_runtime.from_members.compile_blend`)
does the same in the compiled kernels. Its arrays:

* one node table (the canonical arrays of :mod:`tabdistill_runtime.trees`) of
  every tree part's trees, whose outputs, the *slots*, are the parts' raw scores:
  part ``p`` owns slots ``at .. at + n - 1``, the tree parts tiling the slots in
  order. ``tree_width`` gives each tree's width: a tree of width ``w > 1`` adds
  ``w`` values to ``w`` consecutive slots, each of its leaves holding the offset
  of its values in ``leaf_vectors`` (the vector leaves' values one after another,
  in table order, so a file need not store the offsets);
* ``linear_ints``, ``linear_values`` and ``linear_coef``: the linear parts'
  tables (:mod:`tabdistill_runtime.from_linear`), stacked.

Its meta lists the ``members`` (``name``, ``weight``, number of ``parts``, in
order) and the ``parts``: where their scores come from (``scores``: ``"trees"``
from slot ``at``, or ``"linear"`` model ``at``; ``n`` scores; a tree part's
``sum``, float64 or float32), how they become probabilities (``transform``:
``sigmoid``, one score to the positive class's probability; ``sigmoid2``, one
score to the two columns ``1 - p, p`` of a two-class model in a K-class blend;
``softmax``; ``identity``, sums that are probabilities, as a forest's; or
``identity2``, ``1 - p, p``), and which of the blend's classes their columns are
(``classes``; None: every class, in order; a fold model that lacked a class has
fewer columns).

A blend is written as format version 4 (:mod:`tabdistill_runtime.format`),
version 3's container, so that a runtime too old to score one says to upgrade.
Only the compiled C kernels score it.
"""

from __future__ import annotations

import numpy as np

from . import storage, validation
from ._proba import EPS
from .layout import bit_vectors, pack
from .rules import OUT_SIGMOID, SUMS, ZERO
from .scorers import _C_ONLY, _ckernels, _wanted_backend
from .trees import TREE_ARRAYS

BLEND = "blend"
#: Part transforms, numbered as the C kernels number them.
TRANSFORMS = {"sigmoid": 0, "sigmoid2": 1, "softmax": 2, "identity": 3, "identity2": 4}
#: Transforms of one score (a probability or a log-odds) into two columns.
TWO_COLUMNS = ("sigmoid2", "identity2")
LINEAR_KEYS = ("linear_ints", "linear_values", "linear_coef")
VECTOR_KEYS = ("tree_width", "leaf_vectors")
_MAX_OUTPUTS = 1_000


def vector_leaves(table, widths) -> np.ndarray:
    """Indices of the leaves of the trees of width > 1, in table order."""
    n = len(table["feature"])
    tree = np.searchsorted(table["roots"], np.arange(n), side="right") - 1
    return np.flatnonzero((table["feature"] < 0) & (widths[tree] > 1))


def _int(x, what, low=0, high=None) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < low or (high is not None and x > high):
        raise ValueError(f"{what} must be an integer in [{low}, {high}], got {x!r}")
    return x


def check_meta(meta) -> dict:
    """The validated meta of a blend (see the module docstring); raises ValueError naming
    the first problem."""
    if not isinstance(meta, dict):
        raise ValueError("meta must be a mapping")
    width = _int(meta.get("n_outputs"), "meta 'n_outputs'", 1, _MAX_OUTPUTS)
    if width == 2:
        raise ValueError("a binary blend has one output (the positive class)")
    n_slots = _int(meta.get("n_slots"), "meta 'n_slots'", 0, 1 << 31)
    linear = meta.get("linear")
    if not isinstance(linear, list) or not all(
        isinstance(m, dict)
        and _int(m.get("n_design"), "a linear model's 'n_design'", 0, 1 << 31) >= 0
        and _int(m.get("n_outputs"), "a linear model's 'n_outputs'", 1, _MAX_OUTPUTS)
        for m in linear
    ):
        raise ValueError("meta 'linear' must list {'n_design', 'n_outputs'} of each linear part")
    parts = meta.get("parts")
    if not isinstance(parts, list) or not parts:
        raise ValueError("meta 'parts' must be a non-empty list")
    at = 0
    for i, part in enumerate(parts):
        at = _check_part(part, i, width, linear, at)
    if at != n_slots:
        raise ValueError(f"the tree parts' scores fill {at} slots, meta 'n_slots' says {n_slots}")
    _check_members(meta.get("members"), len(parts))
    members = [dict(m) for m in meta["members"]]
    return {**meta, "members": members, "parts": [dict(p) for p in parts]}


def _check_part(part, i, width, linear, at) -> int:
    """Check part ``i``; returns the first slot after it (tree parts tile the slots in order)."""
    where = f"part {i}"
    if not isinstance(part, dict) or part.get("transform") not in TRANSFORMS:
        raise ValueError(f"{where} must be a mapping with a transform among {list(TRANSFORMS)}")
    n = _int(part.get("n"), f"{where} 'n'", 1, _MAX_OUTPUTS)
    transform = part["transform"]
    if transform in ("sigmoid", *TWO_COLUMNS) and n != 1:
        raise ValueError(f"{where}: a {transform} part has one score")
    columns = 2 if transform in TWO_COLUMNS else n
    classes = part.get("classes")
    if classes is None:
        if columns != width:
            raise ValueError(f"{where} has {columns} column(s) for {width} output(s)")
    elif (
        not isinstance(classes, list)
        or len(classes) != columns
        or len(set(classes)) != columns
        or not all(type(c) is int and 0 <= c < width for c in classes)
    ):
        raise ValueError(f"{where}: 'classes' must be {columns} distinct classes below {width}")
    if part.get("scores") == "trees":
        if part.get("at") != at or part.get("sum") not in SUMS:
            raise ValueError(f"{where}: tree scores must start at slot {at} and name their sum")
        return at + n
    if part.get("scores") == "linear":
        k = _int(part.get("at"), f"{where} 'at'", 0, len(linear) - 1)
        if linear[k]["n_outputs"] != n or transform not in ("sigmoid", "sigmoid2", "softmax"):
            raise ValueError(f"{where}: linear model {k} does not give {n} score(s) by {transform}")
        return at
    raise ValueError(f"{where}: 'scores' must be 'trees' or 'linear'")


def _check_members(members, n_parts):
    if not isinstance(members, list) or not members:
        raise ValueError("meta 'members' must be a non-empty list")
    total = 0
    for m in members:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            raise ValueError("each member must be a mapping with a 'name'")
        weight = validation._finite(m.get("weight"), f"member {m['name']!r}'s weight")
        if weight < 0:
            raise ValueError(f"member {m['name']!r} has a negative weight")
        total += _int(m.get("parts"), f"member {m['name']!r}'s 'parts'", 1, n_parts)
    if total != n_parts:
        raise ValueError(f"the members hold {total} parts, meta lists {n_parts}")


def check_arrays(arrays, meta, n_features) -> tuple[dict, np.ndarray]:
    """The blend's arrays as the kernels take them, checked; and each tree's depth."""
    validation._no_extra(arrays, (*TREE_ARRAYS, *VECTOR_KEYS, *LINEAR_KEYS))
    table = {k: np.ascontiguousarray(arrays[k]) for k in TREE_ARRAYS if k in arrays}
    n_slots = max(meta["n_slots"], 1)
    depth = validation.check_trees(table, n_features, n_slots)
    widths = validation._ints(arrays, "tree_width", 1, _MAX_OUTPUTS).astype(np.int32)
    vectors = validation._array(arrays, "leaf_vectors", "f").astype(np.float64)
    if len(widths) != len(table["roots"]):
        raise ValueError(f"{len(widths)} tree widths for {len(table['roots'])} trees")
    if len(widths) and (table["tree_output"] + widths > n_slots).any():
        raise ValueError("a tree of leaf vectors adds to slots beyond the last")
    leaves, offsets, total = vector_offsets(table, widths)
    if len(vectors) != total or not np.array_equal(table["value"][leaves], offsets):
        raise ValueError(f"the leaf vectors hold {len(vectors)} values for {total}")
    if not np.isfinite(vectors).all():
        raise ValueError("a leaf vector value is not finite")
    out = {**table, "tree_width": widths, "leaf_vectors": vectors}
    out.update(_check_linear(arrays, meta, n_features))
    return out, depth


def vector_offsets(table, widths) -> tuple[np.ndarray, np.ndarray, int]:
    """The vector leaves (in table order), the offsets of their values, and how many values."""
    leaves = vector_leaves(table, widths)
    w = widths[np.searchsorted(table["roots"], leaves, side="right") - 1].astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(w)[:-1]]) if len(w) else np.zeros(0)
    return leaves, offsets.astype(np.float64), int(w.sum())


def _check_linear(arrays, meta, n_features) -> dict:
    models = meta["linear"]
    ints = validation._ints(arrays, "linear_ints", ndim=2)
    values = validation._array(arrays, "linear_values", "f", ndim=2)
    coef = validation._array(arrays, "linear_coef", "f")
    rows = n_features * len(models)
    if ints.shape != (rows, 3) or values.shape != (rows, 3):
        raise ValueError(f"the linear tables must have {rows} rows of 3")
    sizes = [m["n_outputs"] * (m["n_design"] + 1) for m in models]
    if len(coef) != sum(sizes):
        raise ValueError(f"'linear_coef' holds {len(coef)} values, the models {sum(sizes)}")
    stacked = {"linear_ints": ints, "linear_values": values, "linear_coef": coef}
    for k, m in enumerate(models):
        model = linear_model(stacked, meta, k, n_features)
        validation.check_linear(model, n_features, m["n_design"], m["n_outputs"])
    return {
        "linear_ints": np.ascontiguousarray(ints, dtype=np.int64),
        "linear_values": np.ascontiguousarray(values, dtype=np.float64),
        "linear_coef": np.ascontiguousarray(coef, dtype=np.float64),
    }


def linear_model(arrays, meta, k, n_features) -> dict:
    """The ``ints``, ``values`` and ``coef`` of linear model ``k`` of a blend."""
    models = meta["linear"]
    start = sum(m["n_outputs"] * (m["n_design"] + 1) for m in models[:k])
    m = models[k]
    coef = arrays["linear_coef"][start : start + m["n_outputs"] * (m["n_design"] + 1)]
    rows = slice(k * n_features, (k + 1) * n_features)
    return {
        "ints": arrays["linear_ints"][rows],
        "values": arrays["linear_values"][rows],
        "coef": coef if m["n_outputs"] == 1 else coef.reshape(m["n_outputs"], -1),
    }


def file_arrays(arrays, spec) -> dict:
    """The arrays a blend file holds: the node table packed as a tree model's (vector leaves'
    offsets left out: the reader recomputes them), the widths, vectors and linear tables."""
    table = {k: arrays[k] for k in TREE_ARRAYS}
    table["value"] = table["value"].copy()
    table["value"][vector_leaves(table, arrays["tree_width"])] = 0.0
    out = storage.encode(table, spec)
    out["tree_width"] = storage.smallest_int(arrays["tree_width"])
    out["leaf_vectors"] = arrays["leaf_vectors"]
    out["linear_ints"] = storage.smallest_int(arrays["linear_ints"]).reshape(-1, 3)
    out["linear_values"] = arrays["linear_values"]
    out["linear_coef"] = arrays["linear_coef"]
    return out


def decode(header, stored, max_bytes=None) -> tuple[dict, dict, dict]:
    """``(meta, storage, arrays)`` of a blend file (checked again when the model is built),
    with no more tree nodes than ``max_bytes`` allows (as for a tree model's file)."""
    if header["version"] < 4:
        raise ValueError(f"a blend needs format version 4, the file says {header['version']}")
    if max_bytes is not None:
        validation._check_nodes(len(stored.get("feature", ())), max_bytes, header["version"])
    meta = check_meta(header.get("meta"))
    spec = validation.check_storage(header.get("storage"))
    extra = {k: stored[k] for k in (*VECTOR_KEYS, *LINEAR_KEYS) if k in stored}
    missing = sorted(set(VECTOR_KEYS + LINEAR_KEYS) - set(extra))
    if missing:
        raise ValueError(f"array(s) {missing} missing")
    table = validation.decode_trees({k: v for k, v in stored.items() if k not in extra}, spec)
    widths = validation._ints(extra, "tree_width", 1, _MAX_OUTPUTS)
    if len(widths) != len(table["roots"]):
        raise ValueError(f"{len(widths)} tree widths for {len(table['roots'])} trees")
    widths = widths.astype(np.int32)
    leaves, offsets, _ = vector_offsets(table, widths)
    table["value"][leaves] = offsets
    arrays = {**table, "tree_width": widths, "leaf_vectors": extra["leaf_vectors"]}
    arrays.update({k: extra[k] for k in LINEAR_KEYS})
    return meta, spec, arrays


def renumber_vectors(table, widths, leaf_vectors) -> dict:
    """``tree_width`` and ``leaf_vectors`` with the vector leaves' offsets in table order
    (the table's leaf values set to them): what a file stores and its reader recomputes."""
    leaves, offsets, _ = vector_offsets(table, widths)
    w = widths[np.searchsorted(table["roots"], leaves, side="right") - 1].astype(np.int64)
    old = table["value"][leaves].astype(np.int64)
    take = np.repeat(old - offsets.astype(np.int64), w) + np.arange(int(w.sum()))
    table["value"][leaves] = offsets
    return {"tree_width": widths.astype(np.int32), "leaf_vectors": leaf_vectors[take]}


# ---------------------------------------------------------------- scoring


class CBlend:
    """A blend (:mod:`tabdistill_runtime.blend`) scored by the compiled kernels: one Forest
    summing every tree part into its slots, Linear models, and the Blend combining them."""

    backend = "c"

    def __init__(self, arrays, meta, depth, n_features):
        table = {k: arrays[k] for k in TREE_ARRAYS}
        nodes = pack(table)
        tables = bit_vectors(table, nodes)
        self._arrays = (
            nodes.view(np.uint8),
            table["roots"],
            np.ascontiguousarray(depth, dtype=np.int32),
            table["tree_output"],
            table["flags"],
            table["value"],
            table["cat_bounds"],
            table["cat_bits"],
            *tables.values(),
        )
        parts, classes = [], []
        acc32 = np.zeros(max(meta["n_slots"], 1), dtype=np.uint8)
        for p in meta["parts"]:
            at = -1 if p["classes"] is None else len(classes)
            classes += p["classes"] or []
            kind = 0 if p["scores"] == "trees" else 1
            parts.append([kind, p["at"], p["n"], TRANSFORMS[p["transform"]], at])
            if kind == 0 and p["sum"] == "float32":
                acc32[p["at"] : p["at"] + p["n"]] = 1
        options = {"acc32": acc32} if acc32.any() else {}
        if (arrays["tree_width"] > 1).any():
            options.update(widths=arrays["tree_width"], vectors=arrays["leaf_vectors"])
        forest = _ckernels.Forest(
            self._arrays, n_features, len(acc32), 0.0, OUT_SIGMOID, EPS, ZERO, **options
        )
        linears = []
        for k, spec in enumerate(meta["linear"]):
            m = linear_model(arrays, meta, k, n_features)
            coef, n_outputs = m["coef"].ravel(), spec["n_outputs"]
            linears.append(_ckernels.Linear(m["ints"], m["values"], coef, n_outputs=n_outputs))
        counts = [m["parts"] for m in meta["members"]]
        self._blend = _ckernels.Blend(
            forest,
            tuple(linears),
            np.asarray(parts, dtype=np.int32).ravel(),
            np.asarray(classes, dtype=np.int32),
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
            np.asarray([m["weight"] for m in meta["members"]], dtype=np.float64),
            meta["n_outputs"],
            EPS,
        )
        self._shape = () if meta["n_outputs"] == 1 else (meta["n_outputs"],)
        self.one = self._blend.one if not self._shape else self._proba

    def _proba(self, row):
        out = np.empty(self._shape)
        self._blend.proba(row, out)
        return out

    def batch(self, Z, n_threads):
        out = np.empty((Z.shape[0], *self._shape))
        self._blend.batch(Z, out, n_threads)
        return out


def scorer(arrays, meta, depth, n_features) -> CBlend:
    """The blend's scorer (see :mod:`tabdistill_runtime.scorers`); C kernels only."""
    if _wanted_backend() != "c":
        raise ImportError(_C_ONLY.format(what="a blend of models (a compiled teacher)"))
    return CBlend(arrays, meta, depth, n_features)
