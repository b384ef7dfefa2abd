"""``tabdistill benchmark``: teacher vs student vs baseline on one CSV file."""

from __future__ import annotations

import json
from pathlib import Path

from .options import (
    EXIT_OK,
    add_csv_options,
    add_model_options,
    budgets,
    check_output,
    distiller_params,
    fraction,
    microseconds,
    positive_int,
    read_options,
    scheduler,
)

#: The budgets ``--frontier`` fits by default (those of :mod:`tabdistill.distill.frontier`).
DEFAULT_FRONTIER = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def add_parser(sub, common):
    p = sub.add_parser(
        "benchmark", help="teacher vs student vs baseline on a CSV file", parents=[common]
    )
    p.add_argument(
        "path", help="CSV file (plain or .gz), or Parquet (*.parquet: a file or a folder of parts)"
    )
    add_csv_options(p)
    p.add_argument(
        "--target", required=True, help="name of the target column (two classes or more)"
    )
    p.add_argument(
        "--positive-label",
        help="label of the positive class of a binary target (default: inferred)",
    )
    p.add_argument("--test-size", type=fraction, default=0.25, help="held-out share (default 0.25)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the train/test split and every model (default 0)",
    )
    p.add_argument("--json", metavar="OUT", help="write the results as JSON")
    p.add_argument("--report", metavar="DIR", help="write an HTML report with plots")
    p.add_argument(
        "--save",
        metavar="REGISTRY",
        help="keep the fitted model as a new version of this registry folder (created if "
        "needed): the runtime file and the full model, for predict, inspect, export and "
        "registry; production of a registry without one",
    )
    p.add_argument(
        "--frontier",
        type=budgets,
        default=DEFAULT_FRONTIER,
        metavar="US1,US2",
        help="also fit a student at each of these latency budgets (microseconds) and report "
        "what each buys, next to the teacher compiled for the runtime (default: "
        "2,5,10,20,50,100; none: only the shipped student)",
    )
    p.add_argument(
        "--teacher-budget",
        type=microseconds,
        metavar="US",
        help="cut the teacher to this single-row p99 latency as measured here (the frontier's "
        "cut at that budget where it has one): the JSON's shipped_teacher, and with --save the "
        "version's compiled teacher (predict --scorer teacher; default: the whole teacher)",
    )
    p.add_argument(
        "--latency-calls", type=positive_int, default=2_000, help="timed single-row calls"
    )
    p.add_argument(
        "--batch-rows", type=positive_int, default=100_000, help="rows per batch timing run"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        metavar="N",
        help="resamples for the 95%% intervals (default 200; 0: none)",
    )
    p.add_argument(
        "--dask-scheduler",
        type=scheduler,
        metavar="ADDRESS",
        help="fit the teacher's members and label synthetic rows on a Dask cluster (needs "
        "tabdistill[dask]): 'local' for a local cluster on this machine, or a scheduler "
        "address such as tcp://host:8786",
    )
    add_model_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..data.io import table_columns
    from ..evaluate.benchmark import run_benchmark
    from ..evaluate.summary_text import format_table
    from ..ops.config import check_distiller
    from ..ops.dask_fit import fits_on

    params = distiller_params(args)
    check_distiller(params)  # every setting, before the data is read
    csv = read_options(args)
    check_output(args.json, "JSON output")
    check_output(args.report, "folder")
    if args.save:
        from ..ops.saved import check_save_folder

        check_save_folder(args.save)
        check_output(args.save, "folder")
    # a missing or unreadable file fails before a cluster starts
    table_columns(args.path, **csv)
    name = Path(args.path).name.split(".")[0]
    with fits_on(args.dask_scheduler):
        result = run_benchmark(
            args.path,  # read there, so the whole table can be freed once it is split
            args.target,
            dataset=name,
            test_size=args.test_size,
            seed=args.seed,
            positive_label=args.positive_label,
            distiller_params=params,
            latency_calls=args.latency_calls,
            batch_rows=args.batch_rows,
            n_bootstrap=max(args.bootstrap, 0),
            frontier_budgets=args.frontier,
            teacher_budget_us=args.teacher_budget,
            read_options=csv,
        )
    print(format_table(result.summary))
    if args.json:
        Path(args.json).write_text(json.dumps(result.summary, indent=2))
        print(f"\nJSON written to {args.json}")
    if args.report:
        from ..evaluate.report import write_report

        page = write_report(result, args.report)
        print(f"report written to {page}")
    if args.save:
        _save(result, args)
    return EXIT_OK


def _save(result, args):
    from ..ops.saved import save_benchmark

    settings = {k: v for k, v in vars(args).items() if k != "func"}
    saved = save_benchmark(result, args.save, args.path, settings)
    print(f"model saved as version {saved.version} in {saved.registry}")
    if saved.promoted:
        print(f"  the registry's production model: tabdistill predict --model {args.save} ...")
    else:
        print(
            f"  score with it: tabdistill predict --model {saved.path} ...; make it production: "
            f"tabdistill registry promote {args.save} {saved.version}"
        )
