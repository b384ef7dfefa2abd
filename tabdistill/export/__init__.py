"""Export a compiled student for scoring outside Python: dependency-free C, or ONNX.

* :func:`.c_source.to_c` -- one ``.c`` and one ``.h`` with
  ``double <name>_score(const double *row)`` and
  ``void <name>_score_batch(const double *rows, long n_rows, double *out)``
  (``<name>_proba``/``<name>_proba_batch`` for K classes); a tree runtime's node
  table, or a linear runtime's encoding and coefficients, is emitted as data
  (doubles as exact hexadecimal literals) and scored with the runtime's rules,
  so the scores are the runtime's.
* :func:`.onnx_graph.to_onnx` -- an ONNX graph on float64 inputs (``ai.onnx.ml``
  ``TreeEnsemble``, or the linear design matrix and a ``MatMul``, then the output
  transform), for onnxruntime in Java, Go, C#, C++ or JavaScript. Needs the
  ``onnx`` package (``pip install tabdistill[onnx]``).

Both take *encoded* rows: numeric columns as numbers, a categorical column as
the index of its level in the schema (NaN for missing or unseen), columns in
``schema.features`` order. The C header lists them.

May import: :mod:`tabdistill.runtime`. Nothing above it.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "to_c": ".c_source",
        "write_c": ".c_source",
        "to_onnx": ".onnx_graph",
        "write_onnx": ".onnx_graph",
    },
)
