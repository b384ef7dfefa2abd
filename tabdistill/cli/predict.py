"""``tabdistill predict``: chunked batch scoring of a CSV file with a registered model."""

from __future__ import annotations

from .options import EXIT_OK


def add_parser(sub, common):
    p = sub.add_parser(
        "predict", help="score a CSV file with a registered model, in chunks", parents=[common]
    )
    p.add_argument("--model", required=True, help="registry (its production model) or version dir")
    p.add_argument("--input", required=True, help="CSV to score (plain or .gz)")
    p.add_argument("--output", required=True, help="CSV to write")
    p.add_argument("--id-column", help="input column to copy into the output")
    p.add_argument("--chunk-size", type=int, default=100_000, help="rows per chunk (bounds memory)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..ops.scoring import score_csv

    n = score_csv(
        args.model,
        args.input,
        args.output,
        id_column=args.id_column,
        chunk_size=args.chunk_size,
        overwrite=args.overwrite,
    )
    print(f"{n:,} rows scored -> {args.output}")
    return EXIT_OK
