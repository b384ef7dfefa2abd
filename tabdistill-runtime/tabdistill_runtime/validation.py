"""Everything a runtime file must satisfy before a model is built from it.

A file's bytes are untrusted: a crafted node index must not read outside an
array, a cycle must not hang a tree walk, a missing key must not surface as a
``KeyError``. :func:`load_checked` turns a file's header and arrays into the
model's canonical arrays, checking keys, dtypes, shapes, every index and the
tree structure, and raises one :class:`ValueError` naming the first problem
(the caller turns it into an ``ArtifactError``).
"""

from __future__ import annotations

import math

import numpy as np

from . import storage
from .rules import (
    CATEGORICAL,
    KNOWN_FLAGS,
    MULTI_OUTPUTS,
    OUT_SIGMOID,
    OUT_SOFTMAX,
    OUTPUTS,
    SINGLE_OUTPUTS,
    SUMS,
    missing_type,
)
from .trees import OPTIONAL_TREE_ARRAYS, TREE_ARRAYS, TreeBuilder, walk_structure

_INT32 = (np.iinfo(np.int32).min, np.iinfo(np.int32).max)


def _array(arrays, key, kinds, ndim=1) -> np.ndarray:
    if key not in arrays:
        raise ValueError(f"array {key!r} is missing")
    a = arrays[key]
    if a.dtype.kind not in kinds:
        raise ValueError(f"array {key!r} has dtype {a.dtype}, expected kind {kinds!r}")
    if a.ndim != ndim:
        raise ValueError(f"array {key!r} has {a.ndim} dimension(s), expected {ndim}")
    return a


def _ints(arrays, key, lo=_INT32[0], hi=_INT32[1], ndim=1) -> np.ndarray:
    a = _array(arrays, key, "iu", ndim)
    if a.size and (int(a.min()) < lo or int(a.max()) > hi):
        raise ValueError(f"array {key!r} holds values outside [{lo}, {hi}]")
    return a


def _no_extra(arrays, expected):
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise ValueError(f"unexpected array(s) {extra}")


def _finite(x, what) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number, got {x!r}")
    return float(x)


def check_meta(kind, meta) -> dict:
    """The validated meta of a ``kind`` runtime (output transform, base, outputs)."""
    if not isinstance(meta, dict):
        raise ValueError("meta must be a mapping")
    out = dict(meta)
    if meta.get("output") not in OUTPUTS or isinstance(meta.get("output"), bool):
        raise ValueError(f"unknown output transform {meta.get('output')!r}")
    if kind == "trees":
        out["base"] = _finite(meta.get("base", 0.0), "meta 'base'")
        if meta.get("sum", SUMS[0]) not in SUMS:
            raise ValueError(f"meta 'sum' must be one of {SUMS}, got {meta.get('sum')!r}")
    n_out = meta.get("n_outputs", 1)
    if isinstance(n_out, bool) or not isinstance(n_out, int) or not 1 <= n_out <= 1_000:
        raise ValueError(f"meta 'n_outputs' must be an integer >= 1, got {n_out!r}")
    allowed = SINGLE_OUTPUTS if n_out == 1 else MULTI_OUTPUTS
    if kind == "linear":
        allowed = (OUT_SIGMOID,) if n_out == 1 else (OUT_SOFTMAX,)
    if meta["output"] not in allowed:
        raise ValueError(
            f"output transform {OUTPUTS[meta['output']]!r} does not apply to a {kind} model "
            f"of {n_out} output(s)"
        )
    if kind == "trees" or n_out > 1:  # a binary linear meta stays as version 2 wrote it
        out["n_outputs"] = n_out
    return out


def check_storage(spec) -> dict:
    if spec is None:
        return dict(storage.DEFAULT_STORAGE)
    if not isinstance(spec, dict) or spec.get("leaf") not in storage.LEAF_CODECS:
        raise ValueError(f"unknown storage {spec!r}")
    scale = _finite(spec.get("leaf_scale", 1.0), "storage 'leaf_scale'")
    if scale <= 0:
        raise ValueError(f"storage 'leaf_scale' must be positive, got {scale}")
    return {"leaf": spec["leaf"], "leaf_scale": scale}


def decode_trees(stored: dict, spec: dict, version: int = 3) -> dict:
    """Check a stored tree table (any codec; version 2 stores ``right`` and ``roots``)
    and decode it."""
    codec = spec["leaf"]
    links = storage.LINK_KEYS if version == 2 else ()
    _no_extra(
        stored,
        (
            *links,
            *storage.PACKED_KEYS,
            "split_table",
            "split_code",
            *storage.STORED_KEYS[codec],
            *storage.COVER_KEYS,
        ),
    )
    feature = _ints(stored, "feature", -1, _INT32[1])
    n_split = int((feature >= 0).sum())
    for key in (*links, "tree_output", "cat_bounds"):
        _ints(stored, key)
    _ints(stored, "flags", 0, 255)
    _ints(stored, "cat_bits", 0, 2**32 - 1)
    table = _array(stored, "split_table", "f")
    code = _ints(stored, "split_code", 0, max(len(table) - 1, 0))
    if len(code) != n_split or (n_split and not len(table)):
        raise ValueError(f"{len(code)} split codes for {n_split} splits")
    leaf_key = storage.STORED_KEYS[codec][0]
    leaves = _array(stored, leaf_key, "i" if leaf_key == "leaf_code" else "f")
    if len(leaves) != len(feature) - n_split:
        raise ValueError(f"{len(leaves)} leaf values for {len(feature) - n_split} leaves")
    if "leaf_cover" in stored:
        cover = _array(stored, "leaf_cover", "iuf")
        if len(cover) != len(leaves):
            raise ValueError(f"{len(cover)} leaf covers for {len(leaves)} leaves")
    return storage.decode(stored, spec)


def upgrade_v1(stored: dict) -> dict:
    """The canonical table of a version-1 tree file (``ints``, ``values``, negative leaves)."""
    _no_extra(stored, ("ints", "values", "cat_bounds", "cat_bits", "roots"))
    ints = _ints(stored, "ints", ndim=2)
    values = _array(stored, "values", "f")
    roots = _ints(stored, "roots")
    if ints.shape[1:] != (4,) or len(values) != len(ints):
        raise ValueError("version-1 'ints' must have 4 columns and one row per value")
    n = len(ints)

    def node(c):
        node = ~c if c < 0 else c
        if not 0 <= node < n:
            raise ValueError(f"node index {c} out of range")
        return node

    builder = TreeBuilder()
    for (f, _, _, flags), v in zip(ints.tolist(), values.tolist()):
        builder.node(f, flags, v)
    for i, (f, left, right, _) in enumerate(ints.tolist()):
        if f >= 0:
            builder.link(i, node(left), node(right))
    for r in roots.tolist():
        builder.root(node(r))
    builder.use_categories(_ints(stored, "cat_bounds"), _ints(stored, "cat_bits", 0, 2**32 - 1))
    return builder.arrays()


def check_trees(arrays: dict, n_features: int, n_outputs: int) -> np.ndarray:
    """Check a canonical tree table; returns each tree's depth."""
    _no_extra(arrays, {**TREE_ARRAYS, **OPTIONAL_TREE_ARRAYS})
    for key, dtype in TREE_ARRAYS.items():
        if key not in arrays or arrays[key].dtype != dtype or arrays[key].ndim != 1:
            raise ValueError(f"array {key!r} is missing or not 1-D {np.dtype(dtype)}")
    feature, right, value = arrays["feature"], arrays["right"], arrays["value"]
    flags, roots = arrays["flags"], arrays["roots"]
    bounds, bits = arrays["cat_bounds"], arrays["cat_bits"]
    n = len(feature)
    if not len(right) == len(value) == len(flags) == n:
        raise ValueError("feature, right, value and flags differ in length")
    if "cover" in arrays:
        cover = arrays["cover"]
        if cover.dtype != OPTIONAL_TREE_ARRAYS["cover"] or cover.shape != (n,):
            raise ValueError("array 'cover' must be 1-D float64 with one value a node")
        if not (np.isfinite(cover).all() and (cover >= 0).all()):
            raise ValueError("a node cover is negative or not finite")
    if len(arrays["tree_output"]) != len(roots):
        raise ValueError("tree_output and roots differ in length")
    out = arrays["tree_output"]
    if len(out) and (out.min() < 0 or out.max() >= n_outputs):
        raise ValueError(f"a tree adds to an output outside [0, {n_outputs})")
    split = feature >= 0
    if (feature < -1).any() or (split & (feature >= n_features)).any():
        raise ValueError(f"a split uses a feature outside [0, {n_features})")
    if (flags & (0xFF & ~KNOWN_FLAGS)).any() or (missing_type(flags) == 3).any():
        raise ValueError("a node has unknown flag bits")
    if (~split & (flags != 0)).any():
        raise ValueError("a leaf has flags")
    if not np.isfinite(value[~split]).all():
        raise ValueError("a leaf value is not finite")
    if len(bounds) < 1 or bounds[0] != 0 or (np.diff(bounds) < 0).any() or bounds[-1] != len(bits):
        raise ValueError("cat_bounds must rise from 0 to len(cat_bits)")
    cat = split & ((flags & CATEGORICAL) != 0)
    sets = value[cat]
    if ((sets != np.floor(sets)) | (sets < 0) | (sets > len(bounds) - 2)).any():
        raise ValueError("a categorical split names a category set that does not exist")
    if np.isnan(value[split & ~cat]).any():
        raise ValueError("a numeric split has a NaN threshold")
    try:
        return walk_structure(feature, right, roots)
    except IndexError:
        raise ValueError("a child index is out of range") from None


def check_linear(arrays: dict, n_features: int, n_design, n_outputs: int = 1) -> None:
    """Check a linear table: one coefficient row (binary), or ``n_outputs`` rows (2-D)."""
    _no_extra(arrays, ("ints", "values", "coef"))
    ints = _ints(arrays, "ints", ndim=2)
    values = _array(arrays, "values", "f", ndim=2)
    coef = _array(arrays, "coef", "f", ndim=1 if n_outputs == 1 else 2)
    if ints.shape != (n_features, 3) or values.shape != (n_features, 3):
        raise ValueError(f"linear arrays must have shape ({n_features}, 3)")
    if n_outputs > 1 and coef.shape[0] != n_outputs:
        raise ValueError(f"'coef' has {coef.shape[0]} rows for {n_outputs} outputs")
    if (
        isinstance(n_design, bool)
        or not isinstance(n_design, int)
        or n_design != coef.shape[-1] - 1
    ):
        raise ValueError("meta 'n_design' must be the number of coefficients before the intercept")
    at, n_levels, has_missing = ints[:, 0], ints[:, 1], ints[:, 2]
    width = np.where(n_levels > 0, n_levels, 1 + has_missing)
    if (at < 0).any() or (n_levels < 0).any() or (at + width > n_design).any():
        raise ValueError("a linear feature points outside the coefficients")
    if not np.isin(has_missing, (0, 1)).all():
        raise ValueError("'has_missing' must be 0 or 1")
    numeric = n_levels == 0
    if not (np.isfinite(values).all() and np.isfinite(coef).all()):
        raise ValueError("linear values and coefficients must be finite")
    if (values[numeric, 2] == 0).any():
        raise ValueError("a linear feature has scale 0")


#: Bytes of ``max_bytes`` per tree node the loader allows: building a model takes about 120
#: bytes of memory a node, so at the default cap no file makes it build more than 1.4 M nodes
#: (~170 MB; a real student has at most a few 100,000, and its file 4-10 bytes a node). Format 1
#: is decoded node by node in Python (about 4x the memory), so it gets a quarter of the nodes.
BYTES_PER_NODE = 48


def _check_nodes(n: int, max_bytes: int, version: int) -> None:
    limit = max_bytes // (BYTES_PER_NODE * (4 if version == 1 else 1))
    if n > limit:
        raise ValueError(
            f"{n:,} tree nodes, more than the {limit:,} a file of at most {max_bytes:,} bytes "
            "may hold; if you trust the file, load it with a larger max_bytes"
        )


def decode(header: dict, stored: dict, max_bytes: int | None = None) -> tuple[dict, dict, dict]:
    """``(meta, storage, canonical arrays)`` of a file's header and arrays.

    Checks what decoding needs (keys, dtypes, lengths, codes in range, and no
    more tree nodes than ``max_bytes`` allows, see :data:`BYTES_PER_NODE`);
    the structure of the result is checked when the model is built
    (:func:`check_trees`, :func:`check_linear`).

    Raises
    ------
    ValueError
        Naming the first problem found.
    """
    kind = header.get("kind")
    meta = check_meta(kind, header.get("meta"))
    if kind == "trees":
        if max_bytes is not None:
            key = "ints" if header["version"] == 1 else "feature"
            _check_nodes(len(stored.get(key, ())), max_bytes, header["version"])
        if header["version"] == 1:
            return meta, dict(storage.DEFAULT_STORAGE), upgrade_v1(stored)
        spec = check_storage(header.get("storage"))
        return meta, spec, decode_trees(stored, spec, header["version"])
    if kind == "linear":
        _no_extra(stored, ("ints", "values", "coef"))
        return meta, dict(storage.DEFAULT_STORAGE), dict(stored)
    raise ValueError(f"unknown runtime kind {kind!r}")
