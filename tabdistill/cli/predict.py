"""``tabdistill predict``: chunked batch scoring of a CSV or Parquet file with a registered
model, or of a glob of CSV / Parquet files through Dask (``--dask-scheduler``)."""

from __future__ import annotations

from .options import EXIT_OK, add_csv_options, positive_int, read_options, scheduler


def add_parser(sub, common):
    p = sub.add_parser(
        "predict",
        help="score a CSV or Parquet file with a registered model, in chunks",
        parents=[common],
    )
    p.add_argument("--model", required=True, help="registry (its production model) or version dir")
    p.add_argument(
        "--input",
        required=True,
        help="CSV (plain or .gz) or Parquet (*.parquet: a file or a folder of parts) to score; "
        "with --dask-scheduler a file or glob of CSV or Parquet files (quote it)",
    )
    p.add_argument(
        "--output",
        required=True,
        help="file to write, CSV or Parquet by its name (*.parquet); with --dask-scheduler a "
        "folder of part files in the input's format",
    )
    p.add_argument(
        "--scorer",
        choices=["student", "teacher"],
        default="student",
        help="score with the version's compiled student (default), or its compiled teacher "
        "(teacher_runtime.npz: the ensemble's probabilities, slower; same output columns, "
        "decision at the teacher's own threshold, chosen by the student's rule; no --reasons)",
    )
    add_csv_options(p)
    p.add_argument("--id-column", help="input column to copy into the output")
    p.add_argument("--chunk-size", type=int, default=100_000, help="rows per chunk (bounds memory)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument(
        "--reasons",
        type=positive_int,
        default=0,
        metavar="K",
        help="add each row's K reason codes: the input columns that raised its score most "
        "(reason_1, reason_1_value = its contribution to the log-odds, ...)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error at values the model's columns cannot read (text in a numeric "
        "column, unseen levels, dates in another layout) instead of scoring them as missing "
        "with a warning",
    )
    p.add_argument(
        "--dask-scheduler",
        type=scheduler,
        metavar="ADDRESS",
        help="score through Dask (needs tabdistill[dask]): 'local' for a local cluster on "
        "this machine, or a scheduler address such as tcp://host:8786",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..ops.scoring import check_scoring

    check_scoring(args.scorer, args.reasons)  # before Dask starts or anything is read
    csv = read_options(args)
    if args.dask_scheduler:
        from ..ops.dask_scoring import score_files

        n = score_files(
            args.model,
            args.input,
            args.output,
            id_column=args.id_column,
            scheduler=args.dask_scheduler,
            overwrite=args.overwrite,
            reasons=args.reasons,
            scorer=args.scorer,
            strict=args.strict,
            read_options=csv,
        )
        print(f"{n:,} rows scored by the {args.scorer} through Dask -> {args.output}/")
        return EXIT_OK
    from ..ops.scoring import score_csv

    n = score_csv(
        args.model,
        args.input,
        args.output,
        id_column=args.id_column,
        chunk_size=args.chunk_size,
        overwrite=args.overwrite,
        reasons=args.reasons,
        strict=args.strict,
        scorer=args.scorer,
        read_options=csv,
    )
    print(f"{n:,} rows scored by the {args.scorer} -> {args.output}")
    return EXIT_OK
