"""Is the student-vs-baseline gate right to keep the baseline? The suite with the gate forced open.

:class:`~tabdistill.DistilledClassifier` ships its best distilled candidate only if it
beats the baseline on validation, on at least ``baseline_confidence`` of bootstrap
resamples of those rows, and if the teacher beats the baseline cross-validated on every
labelled row; otherwise it keeps the baseline. This diagnostic reruns the development
suite (``benchmarks.suite``: same data, splits, cached teachers) with that gate
forced open -- every run ships its best distilled candidate, refit as it would be --
and records what the gate saw: the validation ROC-AUC of candidate and baseline, the
bootstrap win rate and the cross-validated teacher and baseline scores. Any gate rule
can then be scored on test rows: a rule ships the gate-open run's student where it
passes and the release run's baseline where it does not.

The gate is forced open through the distiller's private methods (a diagnostic, not an
API): rerun it after changing the gate.

    python -m benchmarks.gate_study --model-seeds 0 1000             # fit, then analyse
    python -m benchmarks.gate_study --model-seeds 0 1000 --analyse   # analyse saved runs

Fits go to ``results/suite_gateopen_K.json`` (one per model seed K). The analysis
compares them with the release's runs at the same model seeds
(``results/suite_msK.json``, from ``python -m benchmarks.suite --tag msK --model-seed
K``) and writes ``results/gate_study.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from tabdistill.distill import distiller
from tabdistill.metrics import roc_auc

from . import suite

RESULTS = suite.RESULTS
#: What the gate saw in the current fit (one fit at a time per worker process).
SEEN: dict = {}


def _open_gate():
    """Patch the distiller so that every run ships its best distilled candidate and
    record the gate's inputs in :data:`SEEN`."""
    fit_baseline = distiller.DistilledClassifier._fit_baseline
    cross_validated = distiller.DistilledClassifier._cross_validated
    win_rate = distiller.win_rate

    def baseline_never_wins(self, *args, **kwargs):
        baseline = fit_baseline(self, *args, **kwargs)
        baseline.value = -np.inf  # the candidate always beats it on validation
        return baseline

    def recorded_win_rate(metric, y, p_a, p_b, sample_weight=None, **kwargs):
        wins = win_rate(metric, y, p_a, p_b, sample_weight, **kwargs)
        SEEN.update(
            win_rate=float(wins),
            student_va=float(roc_auc(y, p_a, sample_weight)),
            baseline_va=float(roc_auc(y, p_b, sample_weight)),
        )
        return wins

    def teacher_always_leads(self, *args, **kwargs):
        pooled = cross_validated(self, *args, **kwargs)
        SEEN.update(cv_teacher=float(pooled["teacher"]), cv_baseline=float(pooled["baseline"]))
        return {"teacher": 1.0, "baseline": 0.0}

    distiller.DistilledClassifier._fit_baseline = baseline_never_wins
    distiller.DistilledClassifier._cross_validated = teacher_always_leads
    distiller.win_rate = recorded_win_rate
    run_one = suite.run_one

    def run_recording(name, seed, args):
        SEEN.clear()
        run = run_one(name, seed, args)
        return {**run, "gate": dict(SEEN)}

    suite.run_one = run_recording


def _runs(tag) -> dict:
    runs = json.loads((RESULTS / f"suite_{tag}.json").read_text())["runs"]
    return {(r["dataset"], r["seed"], r["model_seed"]): r for r in runs}


def _cv_lead(gate) -> float:
    return gate["cv_teacher"] - gate["cv_baseline"]


def _release_rule(gate) -> bool:
    """The gate of ``DistilledClassifier._gate`` on recorded signals (the analysis checks that it
    reproduces the release's decision on every run)."""
    on_validation = gate["student_va"] > gate["baseline_va"] and gate["win_rate"] >= 0.5
    return on_validation and _cv_lead(gate) > 0


#: Gate rules scored by the analysis: name -> rule(gate signals) -> ship the student?
RULES = {
    "release: wins on validation, in >= 50% of resamples, teacher leads cross-validated": (
        _release_rule
    ),
    "open: always ship the distilled candidate": lambda g: True,
    "teacher leads cross-validated, no validation check": lambda g: _cv_lead(g) > 0,
    "teacher leads cross-validated, win rate >= 0.3": lambda g: (
        _cv_lead(g) > 0 and g["win_rate"] >= 0.3
    ),
    "release, or the teacher leads cross-validated by > 0.01": lambda g: (
        _release_rule(g) or _cv_lead(g) > 0.01
    ),
}


def score_rule(rule, opened, release) -> dict:
    """Test-row figures of the suite when ``rule`` decides every run."""
    gaps, diffs, below, kept = [], [], [], 0
    for key, run in opened.items():
        ship = rule(run["gate"])
        chosen = run if ship else release[key]
        auc = chosen["test_roc_auc"]
        teacher, baseline = auc["teacher"], auc["baseline"]
        student = auc["student"] if ship or release[key]["fallback"] else baseline
        kept += not ship
        diffs.append(student - baseline)
        if student < baseline - suite.SLACK:
            below.append(f"{key[0]} seed {key[1]} at model seed {key[2]}")
        if teacher - baseline > suite.LEAD:
            gaps.append((student - baseline) / (teacher - baseline))
    return {
        "median_gap_recovered": float(np.median(gaps)),
        "runs_with_teacher_lead": len(gaps),
        "runs_below": below,
        "mean_student_minus_baseline": float(np.mean(diffs)),
        "baseline_kept": kept,
        "runs": len(opened),
    }


def analyse(model_seeds) -> dict:
    opened, release = {}, {}
    for k in model_seeds:
        opened.update(_runs(f"gateopen_{k}"))
        release.update(_runs(f"ms{k}"))
    missing = sorted(set(opened) - set(release))
    if missing:
        raise SystemExit(f"no release run for {missing[:3]}...: run suite.py --tag msK first")
    disagree = [k for k, r in opened.items() if _release_rule(r["gate"]) == release[k]["fallback"]]
    return {
        "model_seeds": list(model_seeds),
        "release_rule_disagrees_with_release_runs": [list(k) for k in disagree],
        "rules": {name: score_rule(rule, opened, release) for name, rule in RULES.items()},
    }


def markdown(result) -> str:
    out = [
        "| gate rule | median gap recovered | runs below baseline − 0.002 "
        "| mean student − baseline | baseline kept |",
        "|---|---|---|---|---|",
    ]
    for name, r in result["rules"].items():
        below = f"{len(r['runs_below'])}" + (
            f" ({', '.join(r['runs_below'])})" if r["runs_below"] else ""
        )
        out.append(
            f"| {name} | {r['median_gap_recovered']:.3f} over {r['runs_with_teacher_lead']} "
            f"| {below} | {r['mean_student_minus_baseline']:+.4f} "
            f"| {r['baseline_kept']} of {r['runs']} |"
        )
    seeds = " ".join(str(k) for k in result["model_seeds"])
    out += [
        "",
        f"`python -m benchmarks.gate_study --model-seeds {seeds}`: the development suite "
        "(seeds 0 1 2 at each model seed offset) with the gate forced open, against the "
        "release's runs at the same model seeds (`suite_msK.json`). The release rule "
        "reproduces the release's decision on every run"
        if not result["release_rule_disagrees_with_release_runs"]
        else "The release rule disagrees with the release's runs on "
        f"{result['release_rule_disagrees_with_release_runs']}",
    ]
    return "\n".join(out) + ".\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-seeds", nargs="+", type=int, default=[0, 1000])
    parser.add_argument("--analyse", action="store_true", help="only analyse saved runs")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not args.analyse:
        _open_gate()
        for k in args.model_seeds:
            sys.argv = [
                "suite.py",
                "--tag",
                f"gateopen_{k}",
                "--model-seed",
                str(k),
                "--workers",
                str(args.workers),
                "--distiller-params",
                json.dumps({"baseline_confidence": 0.0}),
            ]
            suite.main()
    result = analyse(args.model_seeds)
    (RESULTS / "gate_study.json").write_text(json.dumps(result, indent=2))
    md = markdown(result)
    (RESULTS / "gate_study.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
