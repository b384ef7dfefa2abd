"""tabdistill-runtime: score a tabdistill student with NumPy and compiled C kernels only.

The scoring half of tabdistill as its own distribution (``pip install
./tabdistill-runtime``): a fitted student as flat arrays, scored in
microseconds, without pandas, scikit-learn, LightGBM, XGBoost or numba. The full
package ``tabdistill`` depends on it and writes the files it reads.

Owns the compiled model (:mod:`.model`), the feature schema that encodes
records and tables exactly as at training (:mod:`.schema`; :mod:`.dates` and
:mod:`.number_formats` read values written as text, :mod:`.columns` and
:mod:`.records` encode a batch's columns and one record, :mod:`.value_issues`
reports what could not be read, :mod:`.levels` compares category levels), the
node table (:mod:`.trees`) and its decision rules (:mod:`.rules`), the kernels
(``_ckernels.c``, compiled at install; the numba kernels of :mod:`.kernels` only
where the C ones could not be built and numba is installed, see
:mod:`.scorers`), the file format (:mod:`.format`, :mod:`.storage`) and the
loader's checks (:mod:`.validation`), the exceptions (:mod:`.exceptions`), and
one compiler per source model kind (``compile_lightgbm`` in :mod:`.from_lightgbm`,
``compile_xgboost`` in :mod:`.from_xgboost`, ``compile_sklearn_tree`` and
``compile_sklearn_forest`` in :mod:`.from_sklearn`, ``compile_linear`` in
:mod:`.from_linear`), which read the fitted objects' arrays without importing
their libraries, and ``compile_blend`` (:mod:`.from_members`), which scores
compiled models as one, as tabdistill's teacher blends its members
(:mod:`.blend`).

May import: NumPy and the standard library; numba in :mod:`.kernels` only.
Never :mod:`tabdistill` (the runtime is below it), pandas, scikit-learn,
LightGBM or XGBoost: a scoring process loads only what scoring needs.
"""

from ._lazy import lazy_exports
from ._version import __version__
from .exceptions import (
    ArtifactError,
    DataError,
    DataWarning,
    FeatureTypeError,
    SchemaError,
    TabDistillError,
)

_EXPORTS = {
    "CompiledModel": ".model",
    "FeatureSchema": ".schema",
    "compile_lightgbm": ".from_lightgbm",
    "compile_xgboost": ".from_xgboost",
    "compile_sklearn_tree": ".from_sklearn",
    "compile_sklearn_forest": ".from_sklearn",
    "compile_linear": ".from_linear",
    "compile_blend": ".from_members",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "__version__",
    "ArtifactError",
    "DataError",
    "DataWarning",
    "FeatureTypeError",
    "SchemaError",
    "TabDistillError",
    *_EXPORTS,
]
