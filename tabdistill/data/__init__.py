"""Stage 1, data: files in, one numeric encoding out.

Owns reading CSV files (:mod:`.io`), the target (:mod:`.target`), the fitted
feature schema (:mod:`.schema`, NumPy only: the runtime uses it to encode
records), the pandas encoder that infers it (:mod:`.encoder`) and the bundled
and synthetic datasets (:mod:`.datasets`).

May import: :mod:`tabdistill.exceptions` and the private helpers. Nothing of
the later stages.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read_csv": ".io",
        "split_target": ".io",
        "Target": ".target",
        "BinaryTarget": ".target",
        "encode_target": ".target",
        "FeatureSchema": ".schema",
        "TabularEncoder": ".encoder",
        "load_dataset": ".datasets",
        "make_fraud": ".datasets",
    },
)
