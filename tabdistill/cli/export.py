"""``tabdistill export``: a compiled student as C source or ONNX, to score outside Python."""

from __future__ import annotations

from pathlib import Path

from ..exceptions import ArtifactError, ConfigError
from .options import EXIT_OK


def add_parser(sub, common):
    p = sub.add_parser(
        "export",
        help="export a model as dependency-free C (.c + .h) or ONNX",
        parents=[common],
    )
    p.add_argument(
        "model", help="a runtime file (runtime.npz), a registry (its production) or a version dir"
    )
    p.add_argument("--format", required=True, choices=["c", "onnx"], help="what to write")
    p.add_argument(
        "--out", required=True, help="directory for <name>.c/.h (c), or the .onnx file (onnx)"
    )
    p.add_argument("--name", default="tabdistill_model", help="C symbol prefix / graph name")
    p.add_argument(
        "--onnx-input",
        default="float64",
        choices=["float64", "float32"],
        help="type of the ONNX graph's input rows (float32 rows are widened to float64 in the "
        "graph; default: float64)",
    )
    p.set_defaults(func=run)


def _load(model):
    from tabdistill_runtime.model import CompiledModel

    path = Path(model)
    if path.is_file():
        return CompiledModel.load(path)
    if path.is_dir():
        from ..ops.registry import load_runtime

        return load_runtime(path)[1]
    raise ArtifactError(f"no model at '{model}': give a runtime .npz file or a registry path.")


def run(args) -> int:
    runtime = _load(args.model)
    try:
        if args.format == "c":
            from ..export.c_source import write_c

            written = write_c(runtime, args.out, args.name)
        else:
            from ..export.onnx_graph import write_onnx

            written = [write_onnx(runtime, args.out, args.name, args.onnx_input)]
    except ImportError as exc:
        raise ConfigError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot export this model: {exc}") from None
    for path in written:
        print(path)
    return EXIT_OK
