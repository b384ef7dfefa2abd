"""What the exporters take: a student's tree or linear runtime.

A compiled teacher (a runtime of kind ``"blend"``) and a tree model whose sums
are rounded to float32 (XGBoost) score only with tabdistill-runtime: neither the
exported C nor an ONNX ``TreeEnsemble`` reproduces them, so both exporters
refuse them rather than emit something that scores differently.
"""

from __future__ import annotations


def check_exportable(model, target: str) -> None:
    """Raise ``ValueError`` if ``model`` cannot be exported to ``target`` ("C" or "ONNX").

    Raises
    ------
    ValueError
        Saying what the model is and what to do instead.
    """
    if model.kind == "blend":
        members = len(model.meta.get("members", ()))
        raise ValueError(
            f"a compiled teacher (a blend of {members} members) cannot be exported to {target}: "
            "export the student, or score the teacher with tabdistill-runtime "
            "(CompiledModel.load)."
        )
    if model.kind not in ("trees", "linear"):
        raise ValueError(f"a runtime of kind {model.kind!r} cannot be exported to {target}.")
    if model.meta.get("sum", "float64") != "float64":
        raise ValueError(
            f"a tree model summed in {model.meta['sum']} (XGBoost) cannot be exported to "
            f"{target} exactly: score it with tabdistill-runtime (CompiledModel.load)."
        )
