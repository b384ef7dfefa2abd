"""Decision rules of a split node and output transforms: the bits every scorer agrees on.

A node's ``flags`` say how it compares a value ``v`` of its feature, following
the source library exactly:

* ``CATEGORICAL``: go left iff ``v`` is a category in the node's set; NaN,
  negative values and categories outside the set go right (LightGBM);
* else numeric, ``v <= threshold`` goes left, with the missing-value rule in
  bits 1-2 (LightGBM's missing types): ``MISSING_NAN`` sends NaN the default
  way, ``MISSING_ZERO`` sends NaN and values within ``ZERO`` of 0 the default
  way, ``MISSING_NONE`` compares NaN as 0.0;
* ``DEFAULT_LEFT``: the default way is left;
* ``FLOAT32``: ``v`` is rounded to float32 before comparing (scikit-learn).

Every scorer (the C kernels, the numba fallback, the exported C and ONNX)
implements exactly this; the runtime's tests compare each against the source
libraries.
"""

from __future__ import annotations

import numpy as np

DEFAULT_LEFT = 1
MISSING_SHIFT = 1
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
CATEGORICAL = 8
FLOAT32 = 16
KNOWN_FLAGS = DEFAULT_LEFT | (3 << MISSING_SHIFT) | CATEGORICAL | FLOAT32

#: LightGBM's kZeroThreshold (a float32 constant, compared as a double).
ZERO = float(np.float32(1e-35))

# output transforms of the raw score(s) ``base + sum of leaves`` of each output:
# one output (binary): sigmoid, or clip to [EPS, 1 - EPS] (leaves holding probabilities);
# K outputs (K classes): softmax, or clip to [EPS, 1] and rescale to sum 1.
OUT_SIGMOID, OUT_CLIP, OUT_SOFTMAX = 0, 1, 2
OUTPUTS = {OUT_SIGMOID: "sigmoid", OUT_CLIP: "clip", OUT_SOFTMAX: "softmax"}
#: The transforms a model of one output, and of several, may declare.
SINGLE_OUTPUTS, MULTI_OUTPUTS = (OUT_SIGMOID, OUT_CLIP), (OUT_SOFTMAX, OUT_CLIP)
#: How a tree model adds its leaves up (``meta["sum"]``): in float64, or rounding each output's
#: sum to float32 after every tree, as XGBoost does (its base margin in the first tree's leaves).
SUMS = ("float64", "float32")


def missing_type(flags):
    """The missing-value rule of ``flags`` (works on arrays)."""
    return (flags >> MISSING_SHIFT) & 3


def nan_goes_right(flags, threshold):
    """Where NaN goes at numeric splits (arrays): the rule, resolved once per node.

    ``MISSING_NONE`` compares NaN as 0.0, so NaN goes right iff ``0 > threshold``.
    """
    miss = missing_type(flags)
    default_right = (flags & DEFAULT_LEFT) == 0
    return np.where(miss == MISSING_NONE, threshold < 0.0, default_right)
