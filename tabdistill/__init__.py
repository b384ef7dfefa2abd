"""tabdistill: distil a heterogeneous tabular ensemble into one compact, fast model.

The data flow, one module per stage::

    data -> teacher -> augment -> labels -> student -> distill -> runtime
         -> metrics / latency -> report -> persist / registry / jobs -> cli
"""

from ._version import __version__
from .data import TabularEncoder, encode_target, read_csv
from .datasets import load_dataset, make_fraud
from .distill import DistilledClassifier
from .exceptions import (
    ArtifactError,
    ConfigError,
    DataError,
    FeatureTypeError,
    SchemaError,
    TabDistillError,
)
from .teacher import TeacherEnsemble

__all__ = [
    "__version__",
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DistilledClassifier",
    "FeatureTypeError",
    "SchemaError",
    "TabDistillError",
    "TabularEncoder",
    "TeacherEnsemble",
    "encode_target",
    "load_dataset",
    "make_fraud",
    "read_csv",
]
