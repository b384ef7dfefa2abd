"""tabdistill: distil a heterogeneous tabular ensemble into one compact, fast model.

The stages, one subpackage each, in the order data flows through them::

    data -> distill (teacher -> augment -> labels -> students -> selection)
         -> runtime -> evaluate -> ops -> cli

The runtime is its own distribution, ``tabdistill-runtime`` (:mod:`tabdistill_runtime`:
the compiled model, the feature schema, the file format, the exceptions), so a
scoring service can install it alone; tabdistill depends on it and re-exports
:class:`CompiledModel` and :class:`FeatureSchema`.

The public names below are imported on first use (PEP 562), so
``import tabdistill`` is cheap and a scoring process that only needs
:class:`CompiledModel` never loads pandas, scikit-learn or LightGBM.
"""

from tabdistill_runtime._lazy import lazy_exports

from ._version import __version__
from .exceptions import (
    ArtifactError,
    ConfigError,
    DataError,
    FeatureTypeError,
    SchemaError,
    TabDistillError,
)

_EXPORTS = {
    "DistilledClassifier": ".distill.distiller",
    "DistillationWarning": ".distill.distiller",
    "TeacherEnsemble": ".distill.teacher",
    "TabularEncoder": ".data.encoder",
    "FeatureSchema": "tabdistill_runtime.schema",
    "encode_target": ".data.target",
    "read_csv": ".data.io",
    "read_table": ".data.io",
    "load_dataset": ".data.datasets",
    "make_fraud": ".data.datasets",
    "CompiledModel": "tabdistill_runtime.model",
    "save_model": ".ops.persist",
    "load_model": ".ops.persist",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "__version__",
    "ArtifactError",
    "ConfigError",
    "DataError",
    "FeatureTypeError",
    "SchemaError",
    "TabDistillError",
    *_EXPORTS,
]
