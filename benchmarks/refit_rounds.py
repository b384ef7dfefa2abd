"""Does the final refit help the student and the baseline on small data, and with how many rounds?

On data of at most 20,000 labelled rows, :class:`~tabdistill.DistilledClassifier`
chooses its knobs on a validation split, then refits the teacher on training +
validation rows and refits the chosen student (on that teacher's out-of-fold
labels and relabelled synthetic rows) and the baseline (on hard labels) there,
with the boosting rounds early stopping chose on the training rows. This
script fits the default distiller with the development suite's split
(``benchmarks.suite``: 25% stratified test, cached teachers) and scores on
the test rows:

- ``pre``: the student and baseline fit on the training rows only (before the refit);
- ``x1``: the refit as shipped (rounds unchanged);
- ``sqrt``: rounds scaled by ``sqrt(labelled rows / training rows)``, as the teacher
  scales its boosted members' rounds when it refits;
- ``lin``: rounds scaled by ``labelled rows / training rows``;
- ``cv``: rounds chosen by 5-fold early stopping on the refit rows (targets of the
  held-out fold: the refit teacher's out-of-fold labels for the student, hard labels
  for the baseline; synthetic rows follow their seed row's fold), mean rounds scaled
  by ``sqrt(1 / 0.8)`` like the teacher's;
- ``oldteacher``: the refit without refitting the teacher (``refit_teacher=False``:
  the first teacher's out-of-fold labels plus its predictions of the validation rows);
- ``reaug`` / ``reaug_sqrt``: synthetic rows made afresh from all labelled rows (the
  chosen factor times the labelled rows, so the synthetic share stays what was chosen),
  labelled by the refit teacher; rounds unchanged / scaled by sqrt (the baseline's
  refit is then ``x1`` / ``sqrt``);

and every distilled candidate of the knob grid before the refit (which knobs
would have won on test), and every candidate refit the shipped way (which knobs would
have won after the refit), to tell a bad knob choice from a bad refit.

    python -m benchmarks.refit_rounds                      # five small sets x seeds 0 1 2
    python -m benchmarks.refit_rounds --datasets flight_delays --seeds 1

Writes ``results/refit_rounds.{json,md}``. Dataset sources: ``../shared/datasets/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from tabdistill import DistilledClassifier
from tabdistill.data.target import encode_target
from tabdistill.distill.augment import FeatureSpec, make_augmenter
from tabdistill.distill.distiller import _final_params, _positive_share, label_in_chunks
from tabdistill.distill.labels import TrainingSet
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.metrics import roc_auc

from .common.datasets import load_suite as load
from .suite import CACHE, CachedTeacher

RESULTS = Path(__file__).resolve().parent / "results"
SMALL = ["flight_delays", "hmda", "bank_marketing", "universal_bank", "islr_default"]
VARIANTS = ["pre", "x1", "sqrt", "lin", "cv", "oldteacher", "reaug", "reaug_sqrt"]
SLACK = 0.002
LEAD = 0.002


class ProbedClassifier(DistilledClassifier):
    """The default distiller, keeping what the refit starts from for this script."""

    def _fit_baseline(self, *args, **kwargs):
        self.probe_baseline_ = super()._fit_baseline(*args, **kwargs)
        return self.probe_baseline_

    def _fit_candidates(self, sizes, training, *args, **kwargs):
        candidates, chosen = super()._fit_candidates(sizes, training, *args, **kwargs)
        self.probe_ = {"candidates": candidates, "chosen": chosen, "training": training}
        return candidates, chosen

    def _refit_teacher(self, training, labelled, target, seed):
        self.probe_["teacher0"] = self.teacher_
        self.probe_["labelled"] = labelled
        refit = super()._refit_teacher(training, labelled, target, seed)
        self.probe_["refit_training"] = refit
        return refit


def _with_rounds(params, rounds):
    return {**params, "n_estimators": max(1, int(round(rounds)))}


def _cv_rounds(model, params, seed, data, y_orig, eval_targets, n_folds=5):
    """Rounds by k-fold early stopping on ``data`` (``(training set, synthetic rows' seed
    rows)``), the mean scaled by sqrt(1 / share) to all rows. ``params`` are the
    candidate's own: its cap on rounds, early stopping and latency budget."""
    data, seeds = data
    n = data.n_original
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(n), y_orig)
    fold_of = np.empty(n, dtype=int)
    for k, (_, held) in enumerate(folds):
        fold_of[held] = k
    row_fold = np.concatenate([fold_of, fold_of[seeds]])
    rounds = []
    for k in range(n_folds):
        fit = row_fold != k
        held = np.flatnonzero(fold_of == k)
        part = TrainingSet(data.Z[fit], data.target[fit], data.weight[fit], int(fit[:n].sum()))
        eval_set = (data.Z[held], eval_targets[held], data.weight[held])
        rounds.append(model._fit_student(seed, params, part, eval_set).n_estimators_)
    return float(np.mean(rounds)) / ((n_folds - 1) / n_folds) ** 0.5, rounds


def _fresh_synthetic(model, training, factor, random_state):
    """``training`` (the refit's) with synthetic rows made from all its labelled rows, as many
    as ``factor`` times those rows, labelled by the refit teacher (``model.teacher_``)."""
    Z, y = training["Z"], training["y"]
    n_rows = int(round(factor * len(y)))
    seed = int(np.random.RandomState(random_state).randint(np.iinfo(np.int32).max, size=3)[1])
    synthetic, origin = make_augmenter(model.augmenter).sample(
        Z,
        n_rows,
        FeatureSpec.from_encoder(model.encoder_),
        y=y,
        positive_share=_positive_share(model.positive_share, y.mean()),
        random_state=seed,
    )
    proba = label_in_chunks(model.teacher_, synthetic)
    return {
        **training,
        "synthetic": synthetic,
        "synthetic_proba": proba,
        "synthetic_seeds": origin,
        "n_train": len(y),
    }


def run_one(name, seed, cache) -> dict:
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    X, y_raw = load(name, seed, 40_000, 50_000)
    y01 = encode_target(y_raw).y
    X_tr, X_te, y_tr, y_te = stratified_split(X, y01, 0.25, seed)
    model = ProbedClassifier(teacher=CachedTeacher(cache_dir=cache), random_state=seed, n_jobs=1)
    clock = time.perf_counter()
    model.fit(X_tr, y_tr)
    fit_seconds = time.perf_counter() - clock
    Z_te = model.encoder_.transform(X_te)
    y_te = np.asarray(y_te)

    def auc(m):
        return float(roc_auc(y_te, m.predict(Z_te)))

    probe, baseline = model.probe_, model.probe_baseline_
    chosen = probe["chosen"]
    n_tr, n_va = len(model.train_index_), len(model.validation_index_)
    ratio = (n_tr + n_va) / n_tr
    out = {
        "dataset": name,
        "seed": seed,
        "rows": len(X),
        "fit_seconds": round(fit_seconds, 1),
        "fallback": model.fallback_ is not None,
        "refit_teacher": model.report_["refit_teacher"],
        "chosen": {k: v for k, v in chosen.knobs.items() if k != "student_params"}
        | {"num_leaves": chosen.knobs["student_params"].get("num_leaves")},
        "validation": {
            "student": abs(chosen.value),
            "baseline": abs(baseline.value),
        },
        "shipped": {
            "student": float(roc_auc(y_te, model.predict_proba(X_te)[:, 1])),
            "baseline": float(roc_auc(y_te, model.baseline_.predict_proba(X_te)[:, 1])),
            "teacher": float(roc_auc(y_te, model.teacher_.predict_proba_encoded(Z_te))),
        },
    }
    if "teacher0" in probe:
        out["teacher_pre"] = float(roc_auc(y_te, probe["teacher0"].predict_proba_encoded(Z_te)))
    out["candidates"] = [
        {
            **{k: v for k, v in c.knobs.items() if k != "student_params"},
            "num_leaves": c.knobs["student_params"].get("num_leaves"),
            "max_depth": c.knobs["student_params"].get("max_depth"),
            "validation": abs(c.value),
            "test": auc(c.model),
        }
        for c in probe["candidates"]
    ]

    # ---- baseline variants: the chosen baseline refit on training + validation rows
    Z_lab, y_lab, _, _ = probe.get("labelled") or (None,) * 4
    if Z_lab is None:  # no teacher refit (fallback): rebuild the labelled rows
        rows = np.concatenate([model.train_index_, model.validation_index_])
        Z_all = model.encoder_.transform(X_tr)
        Z_lab, y_lab = Z_all[rows], np.asarray(y_tr)[rows]
    b_seed, b_params = model._seed(baseline), _final_params(baseline)
    hard = TrainingSet(Z_lab, y_lab.astype(float), np.ones(len(y_lab)), len(y_lab))
    b_rounds = b_params["n_estimators"]
    cv_b, cv_b_folds = _cv_rounds(
        model,
        baseline.knobs["student_params"],
        b_seed,
        (hard, np.empty(0, int)),
        y_lab,
        y_lab.astype(float),
    )
    base = {"pre": baseline.model}
    for tag, r in (("x1", b_rounds), ("sqrt", b_rounds * ratio**0.5), ("lin", b_rounds * ratio)):
        base[tag] = model._fit_student(b_seed, _with_rounds(b_params, r), hard)
    base["cv"] = model._fit_student(b_seed, _with_rounds(b_params, cv_b), hard)
    base["oldteacher"] = base["reaug"] = base["x1"]
    base["reaug_sqrt"] = base["sqrt"]
    out["baseline"] = {k: auc(m) for k, m in base.items()}
    out["baseline_rounds"] = {k: int(m.n_estimators_) for k, m in base.items()}
    out["baseline_cv_folds"] = [int(r) for r in cv_b_folds]

    # ---- student variants
    if model.fallback_ is not None:
        stud = dict(base)
    else:
        s_seed, s_params = model._seed(chosen), _final_params(chosen)
        s_rounds = s_params["n_estimators"]
        refit_training = probe["refit_training"]
        data = model._candidate_data(chosen.knobs, refit_training)
        stud = {"pre": chosen.model}
        for tag, r in (
            ("x1", s_rounds),
            ("sqrt", s_rounds * ratio**0.5),
            ("lin", s_rounds * ratio),
        ):
            stud[tag] = model._fit_student(s_seed, _with_rounds(s_params, r), data)
        n_syn = data.n_synthetic
        seeds_syn = refit_training["synthetic_seeds"][:n_syn]
        cv_s, cv_s_folds = _cv_rounds(
            model,
            chosen.knobs["student_params"],
            s_seed,
            (data, seeds_syn),
            y_lab,
            data.target[: data.n_original],
        )
        out["student_cv_folds"] = [int(r) for r in cv_s_folds]
        stud["cv"] = model._fit_student(s_seed, _with_rounds(s_params, cv_s), data)
        training0 = probe["training"]
        Z_va = Z_lab[n_tr:]
        stud["oldteacher"] = model._refit_student(chosen, training0, Z_va, y_lab[n_tr:], None)
        fresh = _fresh_synthetic(model, refit_training, chosen.knobs["augment_factor"], seed)
        data = model._candidate_data(chosen.knobs, fresh)
        stud["reaug"] = model._fit_student(s_seed, s_params, data)
        stud["reaug_sqrt"] = model._fit_student(
            s_seed, _with_rounds(s_params, s_rounds * ratio**0.5), data
        )
        out["candidates_refit"] = [
            model._fit_student(
                model._seed(c),
                _final_params(c),
                model._candidate_data(c.knobs, refit_training),
            )
            for c in probe["candidates"]
        ]
        for c, m in zip(out["candidates"], out["candidates_refit"]):
            c["test_refit"] = auc(m)
        del out["candidates_refit"]
    out["student"] = {k: auc(m) for k, m in stud.items()}
    out["student_rounds"] = {k: int(m.n_estimators_) for k, m in stud.items()}
    # the shipped refit must be the x1 variant (same code path): a check of this script
    out["x1_matches_shipped"] = abs(out["student"]["x1"] - out["shipped"]["student"]) < 1e-9
    return out


def summarize(runs):
    lines = {}
    for v in VARIANTS:
        below, gaps = [], []
        for r in runs:
            s, b = r["student"][v], r["baseline"][v]
            t = r["shipped"]["teacher"]
            if v == "pre":  # against the teacher the pre-refit models learnt from
                t = r.get("teacher_pre", t)
            if s < b - SLACK:
                below.append(f"{r['dataset']} s{r['seed']}")
            if t - b > LEAD:
                gaps.append((s - b) / (t - b))
        lines[v] = {
            "below": below,
            "median_gap": float(np.median(gaps)) if gaps else None,
            "runs_with_lead": len(gaps),
            "mean_student": float(np.mean([r["student"][v] for r in runs])),
            "mean_baseline": float(np.mean([r["baseline"][v] for r in runs])),
        }
    return lines


def markdown(runs, summary, note):
    out = [
        "| dataset | seed | knobs | teacher before / after refit | student "
        + " / ".join(VARIANTS)
        + " | baseline "
        + " / ".join(VARIANTS)
        + " |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        c = r["chosen"]
        knobs = (
            "baseline kept"
            if r["fallback"]
            else f"{c['num_leaves']}L f{c['augment_factor']} a{c['alpha']} {c.get('loss', '')}"
        )
        teacher = r["shipped"]["teacher"]
        out.append(
            f"| {r['dataset']} | {r['seed']} | {knobs} | "
            f"{r.get('teacher_pre', teacher):.4f} / {teacher:.4f} | "
            + " / ".join(f"{r['student'][v]:.4f}" for v in VARIANTS)
            + " | "
            + " / ".join(f"{r['baseline'][v]:.4f}" for v in VARIANTS)
            + " |"
        )
    out += ["", "| variant | mean student | mean baseline | median gap recovered | runs below |"]
    out += ["|---|---|---|---|---|"]
    for v, s in summary.items():
        gap = "n/a" if s["median_gap"] is None else f"{s['median_gap']:.2f}"
        out.append(
            f"| {v} | {s['mean_student']:.4f} | {s['mean_baseline']:.4f} | {gap} "
            f"({s['runs_with_lead']} runs) | {len(s['below'])} {', '.join(s['below'])} |"
        )
    return "\n".join(out + ["", note]) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="+", default=SMALL)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    stem = "refit_rounds" + (f"_{args.tag}" if args.tag else "")
    runs, start = [], time.perf_counter()
    for name in args.datasets:
        for seed in args.seeds:
            r = run_one(name, seed, str(args.cache))
            runs.append(r)
            print(
                f"{name} s{seed}: student {r['student']} baseline {r['baseline']} "
                f"rounds s {r['student_rounds']} b {r['baseline_rounds']}",
                flush=True,
            )
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"{stem}.json").write_text(json.dumps({"runs": runs}, indent=2))
    summary = summarize(runs)
    note = (
        f"`python -m benchmarks.refit_rounds{' --tag ' + args.tag if args.tag else ''}`: "
        f"{' '.join(args.datasets)}, seeds {' '.join(map(str, args.seeds))}, 25% stratified "
        f"test (the suite's split), n_jobs=1, wall {time.perf_counter() - start:.0f} s. Test "
        "ROC-AUC; 'below': student < baseline - 0.002; gap recovered against the refit "
        "teacher (the first teacher for 'pre')."
    )
    (RESULTS / f"{stem}.json").write_text(
        json.dumps({"summary": summary, "runs": runs, "note": note}, indent=2)
    )
    md = markdown(runs, summary, note)
    (RESULTS / f"{stem}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
