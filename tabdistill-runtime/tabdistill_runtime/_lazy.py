"""Lazy re-exports (PEP 562): a package names its public objects without importing them.

``import tabdistill`` or ``import tabdistill_runtime`` must stay cheap: a scoring
service should not pay for pandas, scikit-learn or LightGBM because a package
``__init__`` re-exports the training code. :func:`lazy_exports` gives a package
a module-level ``__getattr__`` that imports a name's module on first access.
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for ``package`` exporting ``{name: "module"}``.

    ``module`` is relative to ``package`` (``".encoder"``) or absolute.
    """

    def __getattr__(name):
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module, package), name)
        importlib.import_module(package).__dict__[name] = value  # later lookups skip this hook
        return value

    def __dir__():
        return sorted(set(importlib.import_module(package).__dict__) | set(exports))

    return __getattr__, __dir__
