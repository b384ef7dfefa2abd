"""Stage 5, operations: models that outlive the process that trained them.

Owns safe files (:mod:`.files`: hashes, atomic writes), model persistence
(:mod:`.persist`: skops with a trusted-type list and a digest, LightGBM model
strings checked by :mod:`.lightgbm_text` before LightGBM parses them), the versioned registry
(:mod:`.registry`), the retraining job's config (:mod:`.config`), the quality
gate (:mod:`.gate`), the job itself (:mod:`.retrain`) and batch scoring of
files (:mod:`.scoring`).

May import every stage below it (data, metrics, runtime, distill, evaluate).
Never the CLI.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "save_model": ".persist",
        "load_model": ".persist",
        "Registry": ".registry",
        "load_runtime": ".registry",
        "load_config": ".config",
        "quality_gate": ".gate",
        "retrain": ".retrain",
        "score_csv": ".scoring",
    },
)
