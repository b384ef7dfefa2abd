"""Stage between distill and runtime: make a compiled student smaller, and say what it costs.

* :mod:`.quantize` -- leaf values on a float32 / int16 / int8 grid, with the
  largest change of any score that can follow (an error bound, checked by the tests);
* :mod:`.prune` -- refit one weight per tree to the teacher's soft labels with
  an L1 penalty (a global refinement in the spirit of Ren et al. 2015 and of
  Friedman & Popescu's ensemble post-processing): trees of weight zero are
  dropped, the others rescaled;
* :mod:`.frontier` -- every level on the validation rows, and the smallest
  one within a ROC-AUC tolerance of the uncompressed student.

Thresholds are always stored losslessly (a table of distinct values plus a
small code per split, :mod:`tabdistill_runtime.storage`).

May import: :mod:`tabdistill.runtime`, :mod:`tabdistill.metrics`, NumPy, SciPy
and scikit-learn. Never :mod:`tabdistill.distill`: the distiller runs
compression as a step, not the reverse.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "quantize_leaves": ".quantize",
        "refit_trees": ".prune",
        "compress": ".frontier",
        "Level": ".frontier",
    },
)
