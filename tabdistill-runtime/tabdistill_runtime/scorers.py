"""The scorers behind :class:`~tabdistill_runtime.model.CompiledModel`: compiled C, else numba.

The C kernels (``_ckernels.c``) are built when tabdistill-runtime is installed,
and are what scores; importing this module never imports numba. Only if they
are missing (no C compiler at install time) or ``TABDISTILL_KERNELS=numba`` is
set do the numba kernels of :mod:`tabdistill_runtime.kernels` score instead
(same decisions, slower first call), where numba is installed: the full
tabdistill install has it, the scoring-only install does not, and there a
model without C kernels is refused with an ``ImportError`` saying how to get them.

A scorer has ``one(row)`` (a 1-D C-contiguous float64 row of the right length,
else ``TypeError``/``ValueError``), ``batch(Z, n_threads)`` and ``backend``.
A model of one output scores a row as a float and a batch as ``(n,)``; a model
of K outputs (K classes) scores a row as K probabilities and a batch as ``(n, K)``.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from ._proba import EPS
from .layout import bit_vectors, pack
from .rules import OUT_SIGMOID, OUT_SOFTMAX, ZERO

try:
    from . import _ckernels
except ImportError:  # built at install time; absent where no C compiler was found
    _ckernels = None


_NO_KERNELS = (
    "the compiled kernels of tabdistill-runtime are not built (no C compiler was found when it "
    "was installed)"
)


_C_ONLY = (
    "{what} scores with the compiled C kernels only (the numba kernels do not reproduce it): "
    "unset TABDISTILL_KERNELS=numba, or reinstall tabdistill-runtime where a C compiler is "
    "available (pip install ./tabdistill-runtime builds them)."
)


def _wanted_backend() -> str:
    choice = os.environ.get("TABDISTILL_KERNELS", "auto").lower()
    if choice not in ("auto", "c", "numba"):
        raise ValueError(f"TABDISTILL_KERNELS must be auto, c or numba, got {choice!r}.")
    if choice == "c" and _ckernels is None:
        raise ImportError(
            f"TABDISTILL_KERNELS=c but {_NO_KERNELS}; reinstall tabdistill-runtime where a C "
            "compiler is available (pip install ./tabdistill-runtime builds them)."
        )
    backend = "numba" if choice == "numba" or _ckernels is None else "c"
    if backend == "numba" and importlib.util.find_spec("numba") is None:
        why = "TABDISTILL_KERNELS=numba" if _ckernels is not None else _NO_KERNELS
        raise ImportError(
            f"{why} and numba is not installed, so nothing can score: reinstall "
            "tabdistill-runtime where a C compiler is available, or pip install numba."
        )
    return backend


class CTrees:
    """Tree ensemble scored by the compiled kernels."""

    backend = "c"

    def __init__(self, arrays, meta, depth, n_features):
        nodes = pack(arrays)
        tables = bit_vectors(arrays, nodes)
        self._arrays = (  # the order _ckernels.c expects; kept alive with the Forest
            nodes.view(np.uint8),
            arrays["roots"],
            np.ascontiguousarray(depth, dtype=np.int32),
            arrays["tree_output"],
            arrays["flags"],
            arrays["value"],
            arrays["cat_bounds"],
            arrays["cat_bits"],
            *tables.values(),
        )
        settings = (n_features, meta["n_outputs"], meta["base"], meta["output"], EPS, ZERO)
        float32 = meta.get("sum") == "float32"
        options = {"acc32": np.ones(meta["n_outputs"], np.uint8)} if float32 else {}
        self._forest = _ckernels.Forest(self._arrays, *settings, **options)
        self._shape = () if meta["n_outputs"] == 1 else (meta["n_outputs"],)
        self._walker = self._forest
        if self._shape:
            by_depth = _by_depth(self._arrays, in_order=float32)
            self._walker = _ckernels.Forest(by_depth, *settings, **options)
        self.one = self._forest.one if not self._shape else self._proba

    def _proba(self, row):
        out = np.empty(self._shape)
        self._walker.proba(row, out)
        return out

    def batch(self, Z, n_threads):
        out = np.empty((Z.shape[0], *self._shape))
        self._forest.batch(Z, out, n_threads)
        return out

    def apply(self, Z):
        out = np.empty((Z.shape[0], len(self._arrays[1])), dtype=np.int32)
        self._forest.apply(Z, out)
        return out


def _by_depth(arrays, in_order=False):
    """The C arrays with the single-row walk's trees ordered by depth (K-class models).

    The row walk steps through trees in groups, each for as many steps as its
    deepest tree. A K-class model interleaves the classes' trees (class 0, 1,
    ..., K-1 each round), and the trees of some classes grow systematically
    deeper than others', so nearly every group is as deep as its deepest class:
    grouping trees of equal depth saves those steps. Only ``roots``, ``depth``
    and ``tree_output`` (one entry a tree, read by the walk) are reordered; the
    bit-vector tables of the batch kernel keep the stored order, and the scores
    differ from that order's only by rounding. Binary models keep the stored
    order (their scores stay bit-identical).

    ``in_order``: each output's trees keep their order (sums rounded to float32
    after every tree depend on it), and the outputs are grouped by their deepest tree.
    """
    key = arrays[2]
    if in_order:  # an output's trees all take its deepest tree's depth: a stable sort keeps them
        deepest = np.zeros(int(arrays[3].max(initial=0)) + 1, dtype=key.dtype)
        np.maximum.at(deepest, arrays[3], key)
        key = deepest[arrays[3]]
    order = np.argsort(key, kind="stable")
    arrays = list(arrays)
    for i in (1, 2, 3):  # roots, depth, tree_output
        arrays[i] = np.ascontiguousarray(arrays[i][order])
    return tuple(arrays)


class _Checked:
    """numba kernels index without bounds checks: rows are checked here first."""

    backend = "numba"
    _PARALLEL_MIN_ROWS = 4_096

    def __init__(self, n_features):
        self._n_features = n_features

    def one(self, row):
        if type(row) is not np.ndarray or row.dtype != np.float64 or row.ndim != 1:
            raise TypeError("expected a C-contiguous float64 array")
        if not row.flags.c_contiguous:
            raise TypeError("expected a C-contiguous float64 array")
        if row.shape[0] != self._n_features:
            raise ValueError(
                f"expected a row of {self._n_features} encoded features, got {row.shape[0]}."
            )
        return self._one(row, *self._args)

    def batch(self, Z, n_threads):
        parallel = n_threads > 1 and Z.shape[0] >= self._PARALLEL_MIN_ROWS
        return (self._parallel if parallel else self._serial)(Z, *self._args)


class NumbaTrees(_Checked):
    def __init__(self, arrays, meta, depth, n_features):
        from . import kernels

        super().__init__(n_features)
        if meta.get("sum") == "float32":
            raise ImportError(_C_ONLY.format(what="a tree model summed in float32 (XGBoost)"))
        a = arrays
        tables = (a["feature"], a["right"], a["value"], a["flags"], a["cat_bounds"])
        tables += (a["cat_bits"], a["roots"])
        finish = (float(meta["base"]), int(meta["output"]))
        if meta["n_outputs"] == 1:
            self._args = (*tables, *finish)
            self._one = kernels.tree_one
            self._serial, self._parallel = kernels.tree_batch, kernels.tree_batch_parallel
        else:
            self._args = (*tables, a["tree_output"], int(meta["n_outputs"]), *finish)
            self._one = kernels.tree_proba
            self._serial = self._parallel = kernels.tree_proba_batch
        self._apply = kernels.tree_apply

    def apply(self, Z):
        return self._apply(Z, *self._args[:7])


class NumbaLinear(_Checked):
    def __init__(self, arrays, meta, n_features):
        from . import kernels

        super().__init__(n_features)
        self._args = (arrays["ints"], arrays["values"], arrays["coef"])
        if arrays["coef"].ndim == 2:
            if meta["output"] != OUT_SOFTMAX:
                raise ValueError("a K-class linear runtime has a softmax output")
            self._one = kernels.linear_proba
            self._serial = self._parallel = kernels.linear_proba_batch
            return
        if meta["output"] != OUT_SIGMOID:
            raise ValueError("a linear runtime has a sigmoid output")
        self._one = kernels.linear_one
        self._serial = self._parallel = kernels.linear_batch


def tree_scorer(arrays, meta, depth, n_features):
    if _wanted_backend() == "c":
        return CTrees(arrays, meta, depth, n_features)
    return NumbaTrees(arrays, meta, depth, n_features)


class CLinear:
    """Linear runtime scored by the compiled kernels."""

    backend = "c"

    def __init__(self, arrays, meta, n_features):
        coef = arrays["coef"]
        if meta["output"] != (OUT_SIGMOID if coef.ndim == 1 else OUT_SOFTMAX):
            raise ValueError("a linear runtime has a sigmoid (K classes: softmax) output")
        k = 1 if coef.ndim == 1 else coef.shape[0]
        self._linear = _ckernels.Linear(arrays["ints"], arrays["values"], coef, n_outputs=k)
        self._shape = () if k == 1 else (k,)
        self.one = self._linear.one if k == 1 else self._proba

    def _proba(self, row):
        out = np.empty(self._shape)
        self._linear.proba(row, out)
        return out

    def batch(self, Z, n_threads):
        out = np.empty((Z.shape[0], *self._shape))
        self._linear.batch(Z, out)
        return out


def linear_scorer(arrays, meta, n_features):
    if _wanted_backend() == "c":
        return CLinear(arrays, meta, n_features)
    return NumbaLinear(arrays, meta, n_features)
