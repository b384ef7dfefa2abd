"""Stage 1, data: files in, one numeric encoding out.

Owns reading CSV and Parquet files (:mod:`.io`), the target (:mod:`.target`), the pandas
encoder (:mod:`.encoder`) that infers the fitted feature schema and the bundled
and synthetic datasets (:mod:`.datasets`). The schema itself and the date
parsing are the runtime's (:mod:`tabdistill_runtime.schema`,
:mod:`tabdistill_runtime.dates`): scoring encodes records with them.

May import: :mod:`tabdistill.exceptions`, the private helpers and the runtime's
schema and dates. Nothing of the later stages.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read_csv": ".io",
        "read_table": ".io",
        "split_target": ".io",
        "Target": ".target",
        "BinaryTarget": ".target",
        "encode_target": ".target",
        "FeatureSchema": "tabdistill_runtime.schema",
        "TabularEncoder": ".encoder",
        "load_dataset": ".datasets",
        "make_fraud": ".datasets",
    },
)
