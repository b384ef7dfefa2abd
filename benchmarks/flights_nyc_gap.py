"""Why does distillation add nothing on flights_nyc (40,000 rows)? A diagnosis (issue 10).

On the development suite's flights_nyc subsample the teacher leads the baseline
on test, yet no distilled candidate beats the baseline on validation, so the
baseline is shipped on every seed. This script fits the default distiller with
the suite's split and cached teachers (``benchmarks.suite``), with
``refit=False`` (every model below is the one selection compared, fit on the
training rows only, so validation and test speak of the same models), and
records on validation and test rows:

- ``baseline``: every student size fit on hard labels (the distiller's own fits);
- ``candidates``: every distilled candidate of the knob grid (augment factor x
  alpha x loss at the first size, then the other sizes with the best knobs);
- ``labels``: ROC-AUC of the teacher's out-of-fold probabilities on the training
  rows (the soft labels) against the baseline refit on 4 of 5 folds of them
  (same size and rounds, predicting the fold left out), and of the teacher on
  validation and test;
- ``capacity``: no latency budget, 2,000 rounds with early stopping, 31 / 63 /
  127 leaves: the baseline and the best knobs' student;
- ``partitions``: the baseline and the best knobs' student at the chosen sizes
  with ``max_partition_levels=None`` (every categorical column split by
  LightGBM's partition search, as before issue 14e's ordered-codes rule).

    python -m benchmarks.flights_nyc_gap                 # seeds 0 1 2
    python -m benchmarks.flights_nyc_gap --seeds 0 --tag s0

Writes ``results/flights_nyc_gap.{json,md}``. Dataset source: ``../shared/datasets/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from itertools import product
from pathlib import Path

import numpy as np

from tabdistill import DistilledClassifier
from tabdistill.data.target import encode_target
from tabdistill.distill import distiller as distiller_module
from tabdistill.distill.labels import TrainingSet
from tabdistill.distill.members import PARTITION_LEVELS, category_levels
from tabdistill.distill.splits import teacher_folds
from tabdistill.distill.students import TREE_STEP_NS, student_cost
from tabdistill.evaluate.benchmark import stratified_split
from tabdistill.metrics import roc_auc

from .common.datasets import load_suite as load
from .suite import CACHE, CachedTeacher

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "flights_nyc"
CAPACITY = [15, 31, 63]


class ProbedClassifier(DistilledClassifier):
    """The default distiller, keeping every size the baseline tried and the training set."""

    def _fit_baseline(self, *args, **kwargs):
        tried = []
        original = distiller_module.cheapest_within

        def recording(candidates, *a, **k):
            tried.extend(candidates)
            return original(candidates, *a, **k)

        distiller_module.cheapest_within = recording
        try:
            self.probe_baseline_ = super()._fit_baseline(*args, **kwargs)
        finally:
            distiller_module.cheapest_within = original
        self.probe_baseline_sizes_ = tried
        return self.probe_baseline_

    def _fit_candidates(self, sizes, training, *args, **kwargs):
        candidates, chosen = super()._fit_candidates(sizes, training, *args, **kwargs)
        self.probe_ = {"candidates": candidates, "chosen": chosen, "training": training}
        return candidates, chosen


def _is_baseline(knobs):
    return knobs.get("augment_factor") == 0 and knobs.get("alpha") == 1.0


def _size(params):
    return f"{params.get('num_leaves')}L" + (
        f"d{params['max_depth']}" if params.get("max_depth", -1) > 0 else ""
    )


def _describe(model, knobs, auc_va, auc_te):
    params = knobs["student_params"]
    return {
        "size": _size(params),
        "augment_factor": knobs.get("augment_factor"),
        "alpha": knobs.get("alpha"),
        "loss": knobs.get("loss", params.get("loss")),
        "rounds": int(model.n_estimators_),
        "steps": student_cost(model),
        "validation": auc_va,
        "test": auc_te,
    }


def run_one(seed, cache) -> dict:
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    X, y_raw = load(NAME, seed, 40_000, 50_000)
    y01 = encode_target(y_raw).y
    X_tr, X_te, y_tr, y_te = stratified_split(X, y01, 0.25, seed)
    model = ProbedClassifier(
        teacher=CachedTeacher(cache_dir=cache), random_state=seed, n_jobs=1, refit=False
    )
    clock = time.perf_counter()
    model.fit(X_tr, y_tr)
    fit_seconds = time.perf_counter() - clock
    Z_te, y_te = model.encoder_.transform(X_te), np.asarray(y_te)
    training = model.probe_["training"]
    va = model.validation_index_
    Z_all = model.encoder_.transform(X_tr)
    y_all = np.asarray(y_tr)
    Z_va, y_va = Z_all[va], y_all[va]

    def aucs(m):
        return float(roc_auc(y_va, m.predict(Z_va))), float(roc_auc(y_te, m.predict(Z_te)))

    baseline = model.probe_baseline_
    chosen = model.probe_["chosen"]
    out = {
        "seed": seed,
        "fit_seconds": round(fit_seconds, 1),
        "fallback": model.fallback_ is not None,
        "teacher_weights": model.report_["teacher_weights"],
        "teacher": {
            "validation": float(roc_auc(y_va, training["validation_proba"])),
            "test": float(roc_auc(y_te, model.teacher_.predict_proba_encoded(Z_te))),
        },
        "baseline_chosen": _size(baseline.knobs["student_params"]),
        "student_chosen": _describe(chosen.model, chosen.knobs, *aucs(chosen.model)),
        "baseline": [
            _describe(c.model, c.knobs, *aucs(c.model)) for c in model.probe_baseline_sizes_
        ],
        "candidates": [
            _describe(c.model, c.knobs, *aucs(c.model)) for c in model.probe_["candidates"]
        ],
    }

    out["hour_signal"] = hour_signal(X_tr["time_hour"].to_numpy(), y_all)

    # ---- soft-label quality: teacher OOF vs the baseline cross-fit on the training rows
    y_trn = training["y"]
    held = model.teacher_.oof_mask_
    b_seed, b_params = model._seed(baseline), distiller_module._final_params(baseline)
    b_oof = np.empty(len(y_trn))
    for fit_rows, held_rows in teacher_folds(5, y_trn, None, seed):
        hard = TrainingSet(
            training["Z"][fit_rows],
            y_trn[fit_rows].astype(float),
            np.ones(len(fit_rows)),
            len(fit_rows),
        )
        b_oof[held_rows] = model._fit_student(b_seed, b_params, hard).predict(
            training["Z"][held_rows]
        )
    out["labels"] = {
        "teacher_oof_train": float(roc_auc(y_trn[held], training["oof_proba"][held])),
        "baseline_oof_train": float(roc_auc(y_trn, b_oof)),
        "held_share": float(held.mean()),
        # each member's out-of-fold ROC-AUC on the training rows, and the rounds the boosted
        # members were refit with
        "members_oof_train": {
            n: float(v["roc_auc"]) for n, v in model.teacher_.member_scores_.items()
        },
        "teacher_rounds": {n: int(r) for n, r in model.teacher_.rounds_.items()},
    }

    # ---- probes: the baseline, the best distilled candidate on validation (not the
    # baseline's own knobs, factor 0 alpha 1) and pure soft labels (factor 2, alpha 0)
    distilled = [c for c in model.probe_["candidates"] if not _is_baseline(c.knobs)]
    top = max(distilled, key=lambda c: c.value)
    probes = {
        "baseline": {"augment_factor": 0, "alpha": 1.0, "loss": "cross_entropy"},
        "best_distilled": {k: v for k, v in top.knobs.items() if k != "student_params"},
        "soft_f2": {"augment_factor": 2, "alpha": 0.0, "loss": "cross_entropy"},
    }
    probes["best_distilled"].setdefault("loss", top.knobs["student_params"].get("loss"))
    q_va = training["validation_proba"]
    out["probes"] = {}
    for tag, knobs in probes.items():
        data = model._candidate_data(knobs, training)
        eval_set = (Z_va, (1 - knobs["alpha"]) * q_va + knobs["alpha"] * y_va.astype(float), None)
        seed_p = model._seed(baseline if tag == "baseline" else top)
        rows = {"knobs": knobs}
        # the latency budget's cut: the same sizes with and without max_steps
        for leaves in CAPACITY:
            size = {"num_leaves": leaves, "max_depth": -1, "n_estimators": 2000}
            for budget in (True, False):
                params = {**size, "early_stopping_rounds": 30, "loss": knobs["loss"]}
                if budget:
                    params["max_steps"] = model.latency_budget * 1000 / TREE_STEP_NS
                m = model._fit_student(seed_p, params, data, eval_set)
                rows[f"{leaves}L{'' if budget else '_nobudget'}"] = _describe(
                    m, {**knobs, "student_params": size}, *aucs(m)
                )
        # in the budget, a larger learning rate: fewer rounds to converge
        for rate in (0.2, 0.3):
            params = {
                "num_leaves": 15,
                "n_estimators": 500,
                "learning_rate": rate,
                "early_stopping_rounds": 30,
                "loss": knobs["loss"],
                "max_steps": model.latency_budget * 1000 / TREE_STEP_NS,
            }
            m = model._fit_student(seed_p, params, data, eval_set)
            rows[f"15L_lr{rate}"] = _describe(m, {**knobs, "student_params": params}, *aucs(m))
        # every categorical column by partitions (before issue 14e), in the budget, 15 leaves
        params = {
            "num_leaves": 15,
            "n_estimators": 500,
            "early_stopping_rounds": 30,
            "loss": knobs["loss"],
            "max_steps": model.latency_budget * 1000 / TREE_STEP_NS,
            "max_partition_levels": None,
        }
        m = model._fit_student(seed_p, params, data, eval_set)
        rows["15L_partitions"] = _describe(m, {**knobs, "student_params": params}, *aucs(m))
        out["probes"][tag] = rows

    # ---- soft labels with each row's own label: the teacher fit on all training rows
    # predicting them (in-sample), in place of its out-of-fold probabilities
    insample = {**training, "oof_proba": model.teacher_.predict_proba_encoded(training["Z"])}
    out["labels"]["teacher_insample_train"] = float(roc_auc(y_trn, insample["oof_proba"]))
    out["insample"] = {}
    mixed = {"augment_factor": 1, "alpha": 0.5, "loss": "cross_entropy"}
    sources = {"oof": training, "insample": insample}
    for (tag, knobs), (source, labelled) in product(
        (("mixed_f1_a0.5", mixed), ("soft_f2", probes["soft_f2"])), sources.items()
    ):
        data = model._candidate_data(knobs, labelled)
        target_va = (1 - knobs["alpha"]) * q_va + knobs["alpha"] * y_va.astype(float)
        for budget in (True, False):
            size = {"num_leaves": 15, "max_depth": -1, "n_estimators": 2000}
            params = {**size, "early_stopping_rounds": 30, "loss": knobs["loss"]}
            if budget:
                params["max_steps"] = model.latency_budget * 1000 / TREE_STEP_NS
            m = model._fit_student(model._seed(top), params, data, (Z_va, target_va, None))
            key = f"{tag}_{source}{'' if budget else '_nobudget'}"
            out["insample"][key] = _describe(m, {**knobs, "student_params": size}, *aucs(m))

    # ---- codes of the > 32-level columns ordered by a per-level mean (smoothed), not by
    # level: by the hard labels of the training rows ("label order") or by the teacher's
    # out-of-fold probabilities there ("teacher order"); the students still split them as
    # ordered codes, in the latency budget
    high = np.flatnonzero(
        category_levels(training["Z"], model.encoder_.categorical_mask_) > PARTITION_LEVELS
    )
    orders = {
        "label_order": y_trn.astype(float),
        "teacher_order": training["oof_proba"],
    }
    out["ordered_columns"] = [model.encoder_.features_[j] for j in high]
    out["ordered"] = {}
    for order, key in orders.items():
        maps = {j: _level_order(training["Z"][:, j], key) for j in high}
        moved = {k: _recode(v, maps) for k, v in (("va", Z_va), ("te", Z_te))}
        ordered = {
            **training,
            "Z": _recode(training["Z"], maps),
            "synthetic": _recode(training["synthetic"], maps),
        }

        def aucs_o(m, moved=moved):
            return (
                float(roc_auc(y_va, m.predict(moved["va"]))),
                float(roc_auc(y_te, m.predict(moved["te"]))),
            )

        rows = {}
        for tag, knobs in probes.items():
            data = model._candidate_data(knobs, ordered)
            target_va = (1 - knobs["alpha"]) * q_va + knobs["alpha"] * y_va.astype(float)
            seed_p = model._seed(baseline if tag == "baseline" else top)
            for leaves in (15, 31):
                size = {"num_leaves": leaves, "max_depth": -1, "n_estimators": 500}
                params = model._student_params(size, knobs["loss"])
                m = model._fit_student(seed_p, params, data, (moved["va"], target_va, None))
                rows[f"{tag}_{leaves}L"] = _describe(
                    m, {**knobs, "student_params": size}, *aucs_o(m)
                )
        out["ordered"][order] = rows
    return out


def hour_signal(hours, y, prior=5.0) -> dict:
    """How much of the label the scheduled departure hour carries, on the rows given: rows
    per hour, the share of the label's variance between hours, and the ROC-AUC of each row's
    leave-one-out hour mean (its hour-mates' positive rate, shrunk to the overall rate by
    ``prior`` rows) -- a signal held by a handful of rows, which out-of-fold labels leave
    each row's own label out of."""
    _, hour = np.unique(hours, return_inverse=True)
    y = np.asarray(y, dtype=float)
    count = np.bincount(hour)
    total = np.bincount(hour, weights=y)
    between = np.var((total / count)[hour]) / np.var(y)
    loo = (total[hour] - y + prior * y.mean()) / (count[hour] - 1 + prior)
    return {
        "hours": int(len(count)),
        "median_rows_per_hour": float(np.median(count)),
        "between_hour_variance_share": float(between),
        "leave_one_out_hour_mean_roc_auc": float(roc_auc(y, loo)),
    }


def _level_order(codes, key, prior=20.0):
    """Codes -> their rank by the mean of ``key`` over the rows of each level, shrunk to the
    overall mean by ``prior`` rows (a level seen in few rows ranks near the middle)."""
    seen = ~np.isnan(codes)
    levels = int(codes[seen].max()) + 1
    c = codes[seen].astype(int)
    total = np.bincount(c, weights=key[seen], minlength=levels)
    count = np.bincount(c, minlength=levels)
    mean = (total + prior * key[seen].mean()) / (count + prior)
    rank = np.empty(levels)
    rank[np.argsort(mean, kind="stable")] = np.arange(levels)
    return rank


def _recode(Z, maps):
    Z = Z.copy()
    for j, rank in maps.items():
        col = Z[:, j]
        seen = ~np.isnan(col) & (col < len(rank))
        col[seen] = rank[col[seen].astype(int)]
    return Z


def markdown(runs, note):
    lines = [
        "| seed | teacher va / te | teacher OOF train / baseline CV train | baseline va / te "
        "| best distilled (va) | its va / te | candidates above the baseline on te "
        "| best on te |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        b = next(c for c in r["baseline"] if c["size"] == r["baseline_chosen"])
        distilled = [c for c in r["candidates"] if not _is_baseline(c)]
        top = max(distilled, key=lambda c: c["validation"])
        best_te = max(distilled, key=lambda c: c["test"])
        above = sum(c["test"] > b["test"] for c in distilled)
        lines.append(
            f"| {r['seed']} | {r['teacher']['validation']:.4f} / {r['teacher']['test']:.4f} "
            f"| {r['labels']['teacher_oof_train']:.4f} / {r['labels']['baseline_oof_train']:.4f} "
            f"| {b['validation']:.4f} / {b['test']:.4f} ({b['size']}) | {_knobs(top)} "
            f"| {top['validation']:.4f} / {top['test']:.4f} | {above} of {len(distilled)} "
            f"| {best_te['test']:.4f} ({_knobs(best_te)}) |"
        )
    lines += [
        "",
        "Departure hour (`time_hour`) on the training part: "
        + "; ".join(
            f"seed {r['seed']}: {r['hour_signal']['hours']:,} hours, median "
            f"{r['hour_signal']['median_rows_per_hour']:.0f} rows each, "
            f"{r['hour_signal']['between_hour_variance_share']:.0%} of the label's variance "
            "between hours (about 1 / rows per hour by chance), leave-one-out hour mean ROC-AUC "
            f"{r['hour_signal']['leave_one_out_hour_mean_roc_auc']:.3f}"
            for r in runs
        )
        + ".",
    ]
    variants = list(runs[0]["probes"]["baseline"])[1:]
    lines += [
        "",
        "Probes, va / te ROC-AUC (rounds kept): the baseline, the best distilled knobs on "
        "validation, pure soft labels (factor 2, alpha 0); '_nobudget': latency_budget=None; "
        "'partitions': every categorical column by LightGBM's partition search.",
        "",
        "| seed | variant | baseline | best distilled | soft f2 a0 |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        for v in variants:
            cells = [
                f"{p[v]['validation']:.4f} / {p[v]['test']:.4f} ({p[v]['rounds']})"
                for p in r["probes"].values()
            ]
            lines.append(f"| {r['seed']} | {v} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Soft labels with each row's own label (the teacher fit on all training rows, "
        "in-sample) against the out-of-fold ones, 15 leaves, in the budget and without, va / "
        "te (rounds); teacher in-sample ROC-AUC on the training rows in the first column:",
        "",
        "| seed | teacher in-sample train | " + " | ".join(runs[0]["insample"]) + " |",
        "|---|---|" + "---|" * len(runs[0]["insample"]),
    ]
    for r in runs:
        cells = [
            f"{c['validation']:.4f} / {c['test']:.4f} ({c['rounds']})"
            for c in r["insample"].values()
        ]
        lines.append(
            f"| {r['seed']} | {r['labels']['teacher_insample_train']:.4f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "Codes of the > 32-level columns (" + ", ".join(runs[0]["ordered_columns"]) + ") "
        "re-ordered by the smoothed per-level mean of the training rows' hard labels or of "
        "the teacher's out-of-fold probabilities (still split as ordered codes, in the "
        "budget), va / te (rounds):",
        "",
        "| seed | order | " + " | ".join(runs[0]["ordered"]["label_order"]) + " |",
        "|---|---|" + "---|" * len(runs[0]["ordered"]["label_order"]),
    ]
    for r in runs:
        for order, rows in r["ordered"].items():
            cells = [
                f"{c['validation']:.4f} / {c['test']:.4f} ({c['rounds']})" for c in rows.values()
            ]
            lines.append(f"| {r['seed']} | {order} | " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", note]) + "\n"


def _knobs(c):
    return f"{c['size']} f{c['augment_factor']} a{c['alpha']} {c['loss']}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    stem = "flights_nyc_gap" + (f"_{args.tag}" if args.tag else "")
    runs, start = [], time.perf_counter()
    RESULTS.mkdir(exist_ok=True)
    for seed in args.seeds:
        runs.append(run_one(seed, str(args.cache)))
        print(json.dumps(runs[-1]), flush=True)
        (RESULTS / f"{stem}.json").write_text(json.dumps({"runs": runs}, indent=2))
    note = (
        f"`python -m benchmarks.flights_nyc_gap{' --tag ' + args.tag if args.tag else ''}`: "
        f"flights_nyc 40,000-row subsample, seeds {' '.join(map(str, args.seeds))}, the "
        f"suite's 25% stratified test, refit=False, n_jobs=1, wall "
        f"{time.perf_counter() - start:.0f} s. ROC-AUC."
    )
    (RESULTS / f"{stem}.json").write_text(json.dumps({"runs": runs, "note": note}, indent=2))
    md = markdown(runs, note)
    (RESULTS / f"{stem}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
