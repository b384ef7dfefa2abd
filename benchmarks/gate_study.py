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

The gate is opened with the distiller's ``fallback_to_baseline=False``, which ships the
best distilled candidate whatever the gate says and still runs and reports every check
(``report_["gate"]``, ``student_win_rate``, ``cross_validated``); rerun it after changing
the gate.

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

import numpy as np

from . import suite

RESULTS = suite.RESULTS


def gate_signals(run) -> dict:
    """What the gate saw in a suite run: the validation ROC-AUC of the distilled candidate
    and of the baseline, the bootstrap win rate, and the cross-validated teacher and
    baseline (the open gate runs every check)."""
    validation, pooled = run["validation_roc_auc"], run["cross_validated"]
    return {
        "win_rate": run["student_win_rate"],
        "student_va": validation["student"],
        "baseline_va": validation["baseline"],
        "cv_teacher": pooled["teacher"],
        "cv_baseline": pooled["baseline"],
    }


def _runs(tag) -> dict:
    runs = json.loads((RESULTS / f"suite_{tag}.json").read_text())["runs"]
    return {
        (r["dataset"], r["seed"], r["model_seed"]): {**r, "gate": r.get("gate") or gate_signals(r)}
        for r in runs
    }


def _cv_lead(gate) -> float:
    return gate["cv_teacher"] - gate["cv_baseline"]


def _release_rule(gate) -> bool:
    """The gate of :func:`tabdistill.distill.gate.check_gate` on recorded signals (the
    analysis checks that it reproduces the release's decision on every run)."""
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
        for k in args.model_seeds:
            suite.main(
                [
                    "--tag",
                    f"gateopen_{k}",
                    "--model-seed",
                    str(k),
                    "--workers",
                    str(args.workers),
                    "--distiller-params",
                    json.dumps({"fallback_to_baseline": False}),
                ]
            )
    result = analyse(args.model_seeds)
    (RESULTS / "gate_study.json").write_text(json.dumps(result, indent=2))
    md = markdown(result)
    (RESULTS / "gate_study.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
