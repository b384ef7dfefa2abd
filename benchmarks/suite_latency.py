"""Quiet single-row latency of a suite run's frontier points and its compiled teacher.

The suite times every point while its other worker runs, so a call of 20-250 us is often
preempted and its p99 is not a figure to quote; its frontier counts use the cost model's
prediction instead, which under-counts large teachers. This refits chosen runs of a saved
suite file one after another in this process (each teacher read from the suite's cache),
checks that each reproduces the saved test ROC-AUC, and times each point of 20 us or more
and the whole compiled teacher on test rows (the teacher's cuts too, at 20 us or more):
``--repeats`` rounds of ``--calls`` single-row calls, the median of the rounds' p50 and
p99. The figures are written into the suite file's runs (``quiet_p50_us`` and
``quiet_p99_us`` of each frontier point) and its Markdown is redone, so the real-lead
counts use them. Run it on a quiet machine.

By default the runs are those with a real teacher lead the shipped student keeps less
than half of: where the frontier or the teacher has to carry it. Pass the suite command's
own flags (``--model-seed``, ``--distiller-params``, ...) so the fits are the same.

    python -m benchmarks.suite_latency --tag frontier_ms1000 --model-seed 1000 \\
        --distiller-params '{"frontier_budgets": [2, 5, 10, 20, 50, 100]}'
    python -m benchmarks.suite_latency --tag frontier_ms0 --runs flights_nyc:0 adult:2 ...
"""

from __future__ import annotations

import json
import logging
import os
import warnings

import numpy as np

from tabdistill.evaluate.cost import single_row_latency
from tabdistill.metrics import roc_auc

from . import suite
from .common.cli import argument_parser, command
from .common.results import RESULTS, stem, write_results

#: Points below this budget are not retimed: the suite's timing of a few microseconds is
#: rarely preempted, and the counts look at 50 us.
FROM_US = 20.0


def parse_args(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    suite.add_run_arguments(parser)
    parser.add_argument("--runs", nargs="+", help="DATASET:SEED runs (default: see above)")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args(argv)


def default_runs(runs) -> list[tuple[str, int]]:
    """The runs with a real lead the shipped student keeps less than half of."""
    shares = ((r, suite.kept_share(r)) for r in runs)
    return [(r["dataset"], r["seed"]) for r, share in shares if share is not None and share < 0.5]


def retime(run, args, calls, repeats) -> None:
    """Refit ``run`` and write its points' quiet latency into it (raises ``ValueError``
    when the refit does not reproduce the saved test ROC-AUC)."""
    model, X_te, y_te, *_ = suite.fit_run(run["dataset"], run["seed"], args)
    Z_te = model.encoder_.transform(X_te)
    scorers = [scorer[:3] for scorer in suite.frontier_scorers(model)]
    rows = list(Z_te[:1000])
    points = run["frontier"]
    if len(scorers) > len(points):  # a file from before the teacher cuts: only its points
        scorers = scorers[: len(points)]
    for point, (budget, source, runtime) in zip(points, scorers, strict=True):
        if (point["latency_budget_us"], point["source"]) != (budget, source):
            raise ValueError(f"{run['dataset']} seed {run['seed']}: points differ: {point}")
        if budget is not None and budget < FROM_US:
            continue
        auc = roc_auc(y_te, runtime.score_encoded(Z_te))
        if abs(auc - point["test_roc_auc"]) > 1e-9:
            raise ValueError(
                f"{run['dataset']} seed {run['seed']}, {source} at {budget} us: test ROC-AUC "
                f"{auc:.6f}, the suite file has {point['test_roc_auc']:.6f}; rerun with the "
                "suite command's flags on the same commit and teacher cache."
            )
        timed = [single_row_latency(runtime.score_one, rows, n_calls=calls) for _ in range(repeats)]
        point["quiet_p50_us"] = float(np.median([t["p50_us"] for t in timed]))
        point["quiet_p99_us"] = float(np.median([t["p99_us"] for t in timed]))


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    name = stem("suite", args.tag)
    saved = json.loads((RESULTS / f"{name}.json").read_text())
    wanted = (
        [(d, int(s)) for d, s in (r.split(":") for r in args.runs)]
        if args.runs
        else default_runs(saved["runs"])
    )
    opts = suite.run_options(args)
    load = [os.getloadavg()[0]]
    for run in saved["runs"]:
        if (run["dataset"], run["seed"]) in wanted and run.get("frontier"):
            retime(run, opts, args.calls, args.repeats)
            teacher = next(p for p in run["frontier"] if p["source"] == "teacher")
            print(
                f"{run['dataset']} seed {run['seed']}: teacher p99 {teacher['quiet_p99_us']:.1f} us"
            )
            load.append(os.getloadavg()[0])
    note = saved["note"].split(" Quiet latency:")[0] + (
        f" Quiet latency: `{command(__spec__.name, argv)}` retimed {len(load) - 1} runs "
        f"({args.repeats} x {args.calls} calls; 1-minute load {min(load):.1f}-{max(load):.1f})."
    )
    summary = suite.summarize(saved["runs"])
    write_results(name, {**saved, "summary": summary, "note": note}, suite.markdown(summary, note))


if __name__ == "__main__":
    main()
