"""The development suite: every binary dataset, three seeds, one summary line per dataset.

Judges modelling changes on all the data we have, never on one set: the eight
binary CSVs of ``../shared/datasets`` (``flights_nyc`` subsampled, see
``--nyc-rows``) plus the synthetic fraud set, seeds 0 1 2, a 25% stratified
test split, default :class:`~tabdistill.DistilledClassifier` settings.

Per dataset it prints teacher / student / baseline test ROC-AUC (mean over
seeds) and fit seconds; the last line is the median *gap recovered*,
``(student - baseline) / (teacher - baseline)``, over the (dataset, seed) runs
whose teacher beats the baseline by more than 0.002, and the count of runs
where the student is below the baseline by more than 0.002.

To make student-side experiments cheap, fitted teachers are kept on disk
(``--cache``, outside git; the teacher's ``memory`` folder, keyed by the encoded
training rows, the teacher's parameters and the source of the teacher's modules):
a change to the encoder or the teacher refits, a change to the student does not. Runs go to
two worker processes with one thread each (``--workers``).

    python -m benchmarks.suite                       # everything -> results/suite.{json,md}
    python -m benchmarks.suite --tag before          # -> results/suite_before.{json,md}
    python -m benchmarks.suite --datasets hmda adult --seeds 0
    python -m benchmarks.suite --no-cache            # refit every teacher
    python -m benchmarks.suite --tag all --combine part1 part2   # staged runs -> one table
    python -m benchmarks.suite --tag noise1 --model-seed 1000    # same splits, other model seeds

``--model-seed K`` seeds the distiller with ``seed + K`` while the data (the
test split, flights_nyc's subsample, the synthetic fraud table) keep ``seed``:
the teacher's folds, the distiller's validation holdout, the synthetic rows and
every model move, so the spread says how much of a figure is the luck of the
fit and of the validation split rather than the data and its test rows.

Dataset sources and licences: ``../shared/datasets/README.md`` and ``data/README.md``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from tabdistill import DistilledClassifier
from tabdistill.data.target import encode_target
from tabdistill.distill.compiled import compiled_teacher
from tabdistill.distill.sizes import TREE_STEP_NS
from tabdistill.distill.teacher_cut import TeacherCutter
from tabdistill.distill.teacher_runtime import compile_teacher
from tabdistill.evaluate.benchmark import DIFFERENCES, stratified_split, teacher_lead
from tabdistill.evaluate.cost import single_row_latency
from tabdistill.metrics import bootstrap_intervals, roc_auc

from .common.cli import argument_parser
from .common.datasets import FRAUD, SUITE_NAMES, load_suite
from .common.results import RESULTS, stem, write_results

CACHE = Path(os.environ.get("TABDISTILL_SUITE_CACHE", Path.home() / ".cache" / "tabdistill-suite"))

#: Teacher beats the baseline by more than this -> the run counts for the gap recovered.
LEAD = 0.002
#: Student below the baseline by more than this -> a regression.
SLACK = 0.002


def fit_run(name, seed, args) -> tuple:
    """The distiller of one (dataset, seed) run fit on its training rows: ``(model, X_te,
    y_te, rows, positive rate, fit seconds)``."""
    X, y_raw = load_suite(name, seed, args["nyc_rows"], args["fraud_rows"])
    y01 = encode_target(y_raw).y
    X_tr, X_te, y_tr, y_te = stratified_split(X, y01, 0.25, seed)
    model = DistilledClassifier(
        teacher={**args["teacher_params"], "memory": args["cache"]},
        random_state=seed + args["model_seed"],
        n_jobs=1,
        **args["distiller_params"],
    )
    start = time.perf_counter()
    model.fit(X_tr, y_tr)
    return model, X_te, y_te, len(X), float(np.mean(y01)), time.perf_counter() - start


def run_options(args) -> dict:
    """What :func:`fit_run` needs of the parsed command line."""
    return {
        "nyc_rows": args.nyc_rows,
        "fraud_rows": args.fraud_rows,
        "cache": None if args.no_cache else str(args.cache),
        "teacher_params": args.teacher_params,
        "distiller_params": args.distiller_params,
        "model_seed": args.model_seed,
    }


def run_one(name, seed, args) -> dict:
    """Fit the default distiller on one (dataset, seed) and score the three models on test."""
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    model, X_te, y_te, n_rows, positive_rate, fit_seconds = fit_run(name, seed, args)
    Z_te = model.encoder_.transform(X_te)
    proba = {
        "teacher": model.teacher_.predict_proba_encoded(Z_te),
        "student": model.predict_proba(X_te)[:, 1],
        "baseline": model.baseline_.predict_proba(X_te)[:, 1],
    }
    scores = {name: roc_auc(y_te, p) for name, p in proba.items()}
    intervals = bootstrap_intervals(y_te, proba, DIFFERENCES, 200, 0.95, seed)
    report = model.report_
    frontier = frontier_points(model, Z_te, y_te)
    return {
        "dataset": name,
        "seed": seed,
        "model_seed": seed + args["model_seed"],
        "rows": int(n_rows),
        "positive_rate": positive_rate,
        "test_roc_auc": scores,
        # paired bootstrap of the test rows: is the teacher's lead real, is the student below?
        "intervals": {d: intervals[d]["roc_auc"] for d in intervals if "-" in d},
        "teacher_lead": teacher_lead(intervals)["verdict"],
        "validation_roc_auc": {k: v["roc_auc"] for k, v in report["validation"].items()},
        # a cached teacher costs its original fit time, not the time to read it back (with
        # refit_teacher, two teachers: on the training rows, then on all labelled rows)
        "teacher_seconds": round(sum(report["teacher_seconds"]), 2),
        "fit_seconds": round(
            fit_seconds
            - report["timings"]["teacher"]
            - report["timings"].get("teacher refit", 0.0)
            + sum(report["teacher_seconds"]),
            2,
        ),
        "refit_teacher": report["refit_teacher"],
        "teacher_cached": bool(getattr(model.teacher_, "from_cache_", False)),
        "chosen": report["chosen"],
        "fallback": report["fallback"] is not None,
        # share of bootstrap resamples of the validation rows on which the best distilled
        # candidate beat the baseline: what a baseline_confidence threshold would compare
        "student_win_rate": report.get("student_win_rate"),
        "cross_validated": report.get("cross_validated"),
        "latency": report.get("latency"),
        "teacher_weights": report["teacher_weights"],
        "features": list(model.encoder_.features_),
        **({"frontier": frontier} if frontier else {}),
    }


def frontier_points(model, Z_te, y_te) -> list | None:
    """With ``frontier_budgets`` among the distiller's parameters: each budget's student on
    the test rows, then the whole teacher compiled for the runtime (``latency_budget_us``
    None, ``source`` "teacher") and cut to each budget it does not fit (``source`` "teacher
    cut", ``tree_share`` the share of its trees kept), each with its predicted and measured
    single-row p99 (measured with the other worker running: a rough figure; the cost model's
    is the deterministic one)."""
    if not model.frontier_:
        return None
    rows = list(Z_te[:300])
    return [
        {
            **_point(runtime, budget, source, predicted, members, rows, Z_te, y_te, calls),
            **extra,
        }
        for budget, source, runtime, predicted, members, extra in frontier_scorers(model)
        for calls in [600 if members is not None else 300]
    ]


def frontier_scorers(model) -> list[tuple]:
    """``(budget, source, runtime, predicted p99, bag members, extra fields)`` of each point of
    :func:`frontier_points`, in its order (``bag members`` None for a teacher point)."""
    out = [
        (
            point.budget_us,
            point.source,
            model.frontier_runtime(point.budget_us),
            point.predicted_p99_us,
            getattr(point.student, "bag_members_", 1),
            {},
        )
        for point in model.frontier_
    ]
    teacher = compiled_teacher(model)
    if teacher is None:
        return out
    cutter = TeacherCutter(model.teacher_)  # its members' trees read once
    out.append((None, "teacher", teacher, cutter.steps * TREE_STEP_NS / 1000, None, {}))
    for budget in sorted({p.budget_us for p in model.frontier_} - {None}):
        cut = cutter.cut(budget)
        if cut is not None and cut.share < 1.0:
            runtime = compile_teacher(cut.teacher, model.encoder_.schema_)
            extra = {"tree_share": round(cut.share, 4)}
            out.append((budget, "teacher cut", runtime, cut.predicted_p99_us, None, extra))
    return out


def _point(runtime, budget, source, predicted, members, rows, Z_te, y_te, calls=600) -> dict:
    one = single_row_latency(runtime.score_one, rows, n_calls=calls)
    return {
        "latency_budget_us": budget,
        "source": source,
        "bag_members": members,
        "test_roc_auc": roc_auc(y_te, runtime.score_encoded(Z_te)),
        "predicted_p99_us": round(predicted, 3),
        "measured_p99_us": one["p99_us"],
    }


def gap_recovered(run) -> float | None:
    s = run["test_roc_auc"]
    lead = s["teacher"] - s["baseline"]
    return (s["student"] - s["baseline"]) / lead if lead > LEAD else None


def kept_share(run) -> float | None:
    """Share of a real teacher lead the shipped student keeps, ``(student - baseline) /
    (teacher - baseline)`` on test; None when the lead is not real (or not recorded)."""
    if run.get("teacher_lead") != "real":
        return None
    s = run["test_roc_auc"]
    return (s["student"] - s["baseline"]) / (s["teacher"] - s["baseline"])


#: The sources of the frontier's teacher points: the whole compiled teacher, and its cuts.
TEACHER_SOURCES = ("teacher", "teacher cut")


def frontier_kept(run, max_us=50.0, teacher=False) -> float | None:
    """The largest share of a real lead a frontier student of p99 at most ``max_us`` keeps
    (None without a frontier or a real lead); with ``teacher``, the compiled teacher's point
    counts too, and with ``teacher="cut"`` the teacher cut to each budget as well. A point's
    p99 is its quiet measure where :mod:`benchmarks.suite_latency` took one, else the cost
    model's prediction."""
    if run.get("teacher_lead") != "real" or not run.get("frontier"):
        return None
    s = run["test_roc_auc"]
    gap = s["teacher"] - s["baseline"]
    counted = TEACHER_SOURCES[: 2 if teacher == "cut" else int(bool(teacher))]
    shares = [
        (p["test_roc_auc"] - s["baseline"]) / gap
        for p in run["frontier"]
        if p.get("quiet_p99_us", p["predicted_p99_us"]) <= max_us
        and (p["source"] not in TEACHER_SOURCES or p["source"] in counted)
    ]
    return max(shares) if shares else None


def real_leads(runs: list[dict]) -> dict:
    """The runs whose teacher lead is real, the share each student keeps, and the runs whose
    student is significantly below the baseline (its interval entirely below 0)."""
    kept = [
        {
            "dataset": r["dataset"],
            "seed": r["seed"],
            "model_seed": r["model_seed"],
            "lead": r["test_roc_auc"]["teacher"] - r["test_roc_auc"]["baseline"],
            "kept": kept_share(r),
            "frontier_kept": frontier_kept(r),
            "with_teacher_kept": frontier_kept(r, teacher=True),
            "with_cut_kept": frontier_kept(r, teacher="cut"),
        }
        for r in runs
        if kept_share(r) is not None
    ]
    below = [
        (r["dataset"], r["seed"])
        for r in runs
        if "intervals" in r and r["intervals"]["student-baseline"]["high"] < 0
    ]
    return {
        "runs": kept,
        "kept_median": float(np.median([k["kept"] for k in kept])) if kept else None,
        "kept_at_least_half": sum(k["kept"] >= 0.5 for k in kept),
        # shipped, or a frontier student of predicted p99 <= 50 us; then the compiled
        # teacher's point counting too
        "frontier_at_least_half": sum(_best(k, "frontier_kept") >= 0.5 for k in kept),
        "with_teacher_at_least_half": sum(_best(k, "with_teacher_kept") >= 0.5 for k in kept),
        # and the teacher cut to each budget (files from before the cuts: as the line above)
        "with_cut_at_least_half": sum(_best(k, "with_cut_kept") >= 0.5 for k in kept),
        "significantly_below": below,
    }


def _best(kept: dict, key: str) -> float:
    return max(kept["kept"], kept[key] if kept[key] is not None else -np.inf)


def summarize(runs: list[dict]) -> dict:
    by_name = {}
    for r in runs:
        by_name.setdefault(r["dataset"], []).append(r)
    lines = {}
    for name in [n for n in SUITE_NAMES if n in by_name]:
        items = sorted(by_name[name], key=lambda r: r["seed"])
        auc = {m: [r["test_roc_auc"][m] for r in items] for m in ("teacher", "student", "baseline")}
        lines[name] = {
            "seeds": [r["seed"] for r in items],
            "rows": items[0]["rows"],
            "positive_rate": items[0]["positive_rate"],
            **{m: float(np.mean(v)) for m, v in auc.items()},
            "student_minus_baseline": [s - b for s, b in zip(auc["student"], auc["baseline"])],
            "gap_recovered": [gap_recovered(r) for r in items],
            "fit_seconds": float(np.mean([r["fit_seconds"] for r in items])),
            "teacher_seconds": float(np.mean([r["teacher_seconds"] for r in items])),
            "fallbacks": int(sum(r["fallback"] for r in items)),
        }
    gaps = [g for r in runs if (g := gap_recovered(r)) is not None]
    below = [
        (r["dataset"], r["seed"])
        for r in runs
        if r["test_roc_auc"]["student"] < r["test_roc_auc"]["baseline"] - SLACK
    ]
    return {
        "datasets": lines,
        "median_gap_recovered": float(np.median(gaps)) if gaps else None,
        "runs_with_teacher_lead": len(gaps),
        "runs": len(runs),
        "student_below_baseline": below,
        "real_leads": real_leads(runs),
    }


def markdown(summary: dict, note: str) -> str:
    out = [
        "| dataset | rows | pos. | teacher | student | baseline | student − baseline per seed "
        "| gap recovered per seed | baseline kept | fit s | teacher s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, d in summary["datasets"].items():
        diffs = " ".join(f"{v:+.4f}" for v in d["student_minus_baseline"])
        gaps = " ".join("–" if g is None else f"{g:.2f}" for g in d["gap_recovered"])
        out.append(
            f"| {name} | {d['rows']:,} | {d['positive_rate']:.1%} | {d['teacher']:.4f} | "
            f"{d['student']:.4f} | {d['baseline']:.4f} | {diffs} | {gaps} | "
            f"{d['fallbacks']}/{len(d['seeds'])} | {d['fit_seconds']:.0f} | "
            f"{d['teacher_seconds']:.0f} |"
        )
    med = summary["median_gap_recovered"]
    below = summary["student_below_baseline"]
    kept = sum(d["fallbacks"] for d in summary["datasets"].values())
    out += [
        "",
        f"Median gap recovered: **{'n/a' if med is None else f'{med:.2f}'}** over "
        f"{summary['runs_with_teacher_lead']} of {summary['runs']} runs whose teacher beats the "
        f"baseline by > {LEAD}; runs with student < baseline − {SLACK}: **{len(below)}**"
        + (f" ({', '.join(f'{n} seed {s}' for n, s in below)})" if below else "")
        + "; baseline kept as the student (no distilled candidate beat it on validation, or "
        f"the teacher did not beat it cross-validated): "
        f"{kept} of {summary['runs']} runs.",
        "",
        *real_lead_lines(summary.get("real_leads")),
        note,
    ]
    return "\n".join(out) + "\n"


def real_lead_lines(leads) -> list[str]:
    """The runs whose teacher lead is real (its paired bootstrap interval on the test rows
    excludes 0), with the share of it the student keeps."""
    if not leads:
        return []
    runs = leads["runs"]
    listed = ", ".join(
        f"{r['dataset']} {r['seed']} ({r['lead']:+.4f}, kept {r['kept']:.2f}"
        + (
            ""
            if r.get("frontier_kept") is None
            else f", {r['frontier_kept']:.2f} on the frontier up to 50 us"
        )
        + ")"
        for r in runs
    )
    below = leads["significantly_below"]
    med = leads["kept_median"]
    return [
        f"Real teacher leads (the teacher - baseline interval on test excludes 0): "
        f"{len(runs)} runs{': ' + listed if runs else ''}; the student keeps at least half of "
        f"the lead on {leads['kept_at_least_half']} of them"
        + ("" if med is None else f" (median share kept {med:.2f})")
        + (
            f"; the shipped student or a frontier student of p99 <= 50 us (measured quietly "
            f"where it was, else predicted) keeps at "
            f"least half on {leads['frontier_at_least_half']}, and "
            f"{leads['with_teacher_at_least_half']} counting the compiled teacher's point"
            + (
                f", {leads['with_cut_at_least_half']} counting the teacher cut to each budget too"
                if "with_cut_at_least_half" in leads
                else ""
            )
            if "frontier_at_least_half" in leads
            else ""
        )
        + f"; runs with the student significantly below the baseline: {len(below)}"
        + (f" ({', '.join(f'{n} seed {s}' for n, s in below)})" if below else "")
        + ".",
        "",
    ]


def budget_shares(run) -> dict:
    """``{budget: (student share, teacher share)}`` of a real lead at each frontier budget:
    the share the budget's student keeps, and the teacher's -- its cut to the budget, or the
    whole teacher (1.0) where the cost model fits it in the budget (None: neither)."""
    s = run["test_roc_auc"]
    gap = s["teacher"] - s["baseline"]
    points = run["frontier"]
    whole = next((p for p in points if p["source"] == "teacher"), None)
    out = {}
    for p in points:
        if p["source"] in TEACHER_SOURCES:
            continue
        budget = p["latency_budget_us"]
        cut = [
            q for q in points if q["source"] == "teacher cut" and q["latency_budget_us"] == budget
        ]
        teacher = cut[0]["test_roc_auc"] if cut else None
        if teacher is None and whole is not None and whole["predicted_p99_us"] <= budget:
            teacher = s["teacher"]
        share = None if teacher is None else (teacher - s["baseline"]) / gap
        out[budget] = ((p["test_roc_auc"] - s["baseline"]) / gap, share)
    return out


def budget_lines(runs) -> list[str]:
    """The Markdown table of :func:`budget_shares` over the runs with a real lead."""
    shares = [
        budget_shares(r) for r in runs if r.get("teacher_lead") == "real" and r.get("frontier")
    ]
    budgets = sorted({b for one in shares for b in one if b is not None})
    lines = [
        f"Over {len(shares)} real leads: the share kept at each budget (test ROC-AUC).",
        "",
        "| budget | a student keeps ≥ half | the teacher keeps ≥ half | either "
        "| median share, student / teacher | teacher higher |",
        "|---|---|---|---|---|---|",
    ]
    for b in budgets:
        pairs = [one[b] for one in shares if b in one]
        student = [p[0] for p in pairs]
        teacher = [-np.inf if p[1] is None else p[1] for p in pairs]
        lines.append(
            f"| {b:g} µs | {sum(x >= 0.5 for x in student)} | {sum(x >= 0.5 for x in teacher)} "
            f"| {sum(max(x, y) >= 0.5 for x, y in zip(student, teacher))} "
            f"| {np.median(student):.2f} / {np.median(teacher):.2f} "
            f"| {sum(y > x for x, y in zip(student, teacher))} of {len(pairs)} |"
        )
    return lines


def parse_args(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=SUITE_NAMES, choices=SUITE_NAMES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    add_run_arguments(parser)
    parser.add_argument(
        "--summarize",
        action="store_true",
        help="rebuild the Markdown of --tag from its JSON (no fitting)",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="TAG",
        help="write --tag's JSON and Markdown from the runs of results/suite_TAG.json files "
        "(staged runs of one commit; a later file's run of a dataset and seed wins)",
    )
    parser.add_argument(
        "--by-budget",
        nargs="+",
        metavar="TAG",
        help="print, over the real leads of results/suite_TAG.json files pooled, the share a "
        "student and the teacher (cut to the budget, or whole where it fits) keep at each "
        "budget (no fitting, nothing written)",
    )
    return parser.parse_args(argv)


def add_run_arguments(parser) -> None:
    """The flags that decide a run's fit (see :func:`run_options`), and ``--tag``."""
    parser.add_argument("--nyc-rows", type=int, default=40_000)
    parser.add_argument("--fraud-rows", type=int, default=50_000)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--tag", default="")
    parser.add_argument(
        "--model-seed",
        type=int,
        default=0,
        help="offset added to each run's seed for the distiller (the test split and data keep it)",
    )
    parser.add_argument(
        "--teacher-params", type=json.loads, default={}, help="JSON: TeacherEnsemble parameters"
    )
    parser.add_argument(
        "--distiller-params",
        type=json.loads,
        default={},
        help="JSON: DistilledClassifier parameters (e.g. for an ablation)",
    )


def combine(tags) -> tuple[list[dict], str]:
    """The runs of ``results/suite_TAG.json`` for each tag (a later file's run wins) and a note."""
    runs, notes = {}, []
    for tag in tags:
        saved = json.loads((RESULTS / f"suite_{tag}.json").read_text())
        for r in saved["runs"]:
            runs[r["dataset"], r["seed"], r.get("model_seed", r["seed"])] = r
        notes.append(saved.get("note", ""))
    return list(runs.values()), "Combined from staged runs: " + " ".join(notes)


def fit_all(args) -> list[dict]:
    """Every (dataset, seed) of ``args`` on ``args.workers`` processes, printed as it ends."""
    opts = run_options(args)
    # big datasets first so the two workers finish together
    jobs = sorted(
        ((n, s) for n in args.datasets for s in args.seeds),
        key=lambda job: (
            SUITE_NAMES.index(job[0]) if job[0] in ("flights_nyc", FRAUD, "adult") else 99
        ),
    )
    runs = []
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run_one, n, s, opts): (n, s) for n, s in jobs}
        for fut in futures:
            r = fut.result()
            runs.append(r)
            t = r["test_roc_auc"]
            print(
                f"{r['dataset']} seed {r['seed']}: teacher {t['teacher']:.4f} student "
                f"{t['student']:.4f} baseline {t['baseline']:.4f} fit {r['fit_seconds']:.0f} s"
                f"{' (cached teacher)' if r['teacher_cached'] else ''}",
                flush=True,
            )
    return runs


def command(args) -> str:
    """The command line that reproduces ``args``'s fits."""
    flags = "".join(
        f" --{k.replace('_', '-')} '{json.dumps(v)}'"
        for k, v in (
            ("teacher_params", args.teacher_params),
            ("distiller_params", args.distiller_params),
        )
        if v
    )
    if args.model_seed:
        flags += f" --model-seed {args.model_seed}"
    return f"python -m benchmarks.suite{' --tag ' + args.tag if args.tag else ''}{flags}"


def main(argv=None):
    args = parse_args(argv)
    name = stem("suite", args.tag)
    if args.by_budget:
        print("\n".join(budget_lines(combine(args.by_budget)[0])))
        return
    if args.combine:
        runs, note = combine(args.combine)
    elif args.summarize:
        saved = json.loads((RESULTS / f"{name}.json").read_text())
        md = markdown(summarize(saved["runs"]), saved.get("note", ""))
        (RESULTS / f"{name}.md").write_text(md)
        print(md)
        return
    else:
        start = time.perf_counter()
        runs = fit_all(args)
        note = (
            f"`{command(args)}`: seeds {' '.join(map(str, args.seeds))}, 25% stratified test, "
            f"flights_nyc subsampled to {args.nyc_rows:,} rows, make_fraud("
            f"{args.fraud_rows:,}, fraud_rate=0.01), {args.workers} worker processes with "
            f"n_jobs=1, wall {time.perf_counter() - start:.0f} s (fit seconds include teacher "
            "fits read from the cache, if any)."
        )
    summary = summarize(runs)
    write_results(name, {"summary": summary, "runs": runs, "note": note}, markdown(summary, note))


if __name__ == "__main__":
    main()
