"""A linear design + logistic regression pair to the runtime's linear arrays."""

from __future__ import annotations

import numpy as np

from .model import CompiledModel
from .rules import OUT_SIGMOID, OUT_SOFTMAX


def compile_linear(design, logistic, schema) -> CompiledModel:
    """Compile a fitted :class:`~tabdistill.distill.linear.LinearDesign` and logistic model.

    Parameters
    ----------
    design : LinearDesign
        Provides ``offsets_``, ``n_levels_``, ``has_missing_``, ``median_``,
        ``mean_``, ``scale_`` and ``n_output_``.
    logistic : fitted logistic model
        Provides ``coef_`` and ``intercept_``: one row of coefficients
        (binary: a sigmoid output), or K (multinomial: K outputs and a softmax).
    schema : FeatureSchema
    """
    ints = np.column_stack([design.offsets_, design.n_levels_, design.has_missing_]).astype(
        np.int64
    )
    values = np.column_stack([design.median_, design.mean_, design.scale_]).astype(np.float64)
    meta = {"source": "linear", "output": OUT_SIGMOID, "n_design": int(design.n_output_)}
    if logistic.coef_.shape[0] > 1:  # multinomial: one row of coefficients + intercept a class
        coef = np.column_stack([logistic.coef_, logistic.intercept_]).astype(np.float64)
        meta.update(output=OUT_SOFTMAX, n_outputs=int(coef.shape[0]))
    else:
        coef = np.concatenate([logistic.coef_.ravel(), logistic.intercept_.ravel()])
        coef = coef.astype(np.float64)
    return CompiledModel("linear", {"ints": ints, "values": values, "coef": coef}, schema, meta)
