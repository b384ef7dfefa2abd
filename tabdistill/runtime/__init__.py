"""Stage 3, runtime: a fitted student as flat arrays, scored in microseconds.

Owns the compiled model (:mod:`.model`), the node table (:mod:`.trees`) and its
decision rules (:mod:`.rules`), the kernels (``_ckernels.c``, compiled at install;
numba in :mod:`.kernels` as the fallback, see :mod:`.scorers`), the file format
(:mod:`.format`, :mod:`.storage`) and the loader's checks (:mod:`.validation`), and
one compiler per source model kind (``compile_lightgbm`` in :mod:`.from_lightgbm`,
``compile_sklearn_tree`` in :mod:`.from_sklearn`, ``compile_linear`` in
:mod:`.from_linear`), which read the fitted objects' arrays without importing
their libraries.

May import: NumPy, numba (fallback only), :mod:`tabdistill.data.schema`, the exceptions and the
private helpers. Never pandas, scikit-learn, LightGBM, XGBoost or the training
code (:mod:`tabdistill.distill`): a scoring process loads only what scoring needs.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CompiledModel": ".model",
        "compile_lightgbm": ".from_lightgbm",
        "compile_sklearn_tree": ".from_sklearn",
        "compile_linear": ".from_linear",
    },
)
