"""The runtime's public names under their former home, for code written against it.

The runtime is its own distribution, ``tabdistill-runtime`` (import package
:mod:`tabdistill_runtime`), which tabdistill depends on. ``from
tabdistill.runtime import CompiledModel`` keeps working: the names below are
the runtime's own objects, imported on first use. Its modules (``format``,
``trees``, ``rules``, ...) are only in :mod:`tabdistill_runtime`; new code
imports from there, or ``from tabdistill import CompiledModel``.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CompiledModel": "tabdistill_runtime.model",
        "FeatureSchema": "tabdistill_runtime.schema",
        "compile_lightgbm": "tabdistill_runtime.from_lightgbm",
        "compile_sklearn_tree": "tabdistill_runtime.from_sklearn",
        "compile_linear": "tabdistill_runtime.from_linear",
    },
)
