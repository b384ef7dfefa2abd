"""The candidate search over knobs and sizes, on a subsample of large data."""

import functools

import numpy as np
from conftest import FAST_DISTILLER as FAST
from conftest import mixed_frame

from tabdistill import DistilledClassifier


def test_distilled_students_do_without_the_columns_the_teacher_did_without(monkeypatch):
    """Every distilled candidate, at every size, and the frontier's distilled runs take
    the teacher's ignored columns; the baseline keeps every column."""
    from tabdistill.distill.teacher import TeacherEnsemble

    def ignored(teacher):
        return [teacher.encoder_.schema_.features.index("x2")]

    monkeypatch.setattr(TeacherEnsemble, "ignored_features", ignored)
    X, y = mixed_frame(600, seed=2)
    sizes = [{"n_estimators": 60, "num_leaves": 7}, {"n_estimators": 60, "num_leaves": 15}]
    model = DistilledClassifier(
        **{**FAST, "student_params": sizes, "frontier_budgets": (0.5, 2.0)},
        latency_budget=1.0,
        fallback_to_baseline=False,  # distilled at every budget
        random_state=0,
    ).fit(X, y)
    column = model.encoder_.schema_.features.index("x2")
    distilled = [c for c in model.report_["candidates"] if c.get("alpha") is not None]
    assert len(distilled) > 2
    assert all(c["student_params"]["ignored_features"] == [column] for c in distilled)
    assert model.baseline_[-1].ignored_features is None
    assert model.report_["student_ignores"] == ["x2"]
    assert model.baseline_[-1].booster_.feature_importance("split")[column] > 0
    assert [p.source for p in model.frontier_] == ["distilled"] * 3
    for point in model.frontier_:
        assert point.student.get_params()["ignored_features"] == [column]
        assert point.student.booster_.feature_importance("split")[column] == 0


def test_size_candidates_are_searched_for_student_and_baseline():
    X, y = mixed_frame(600, seed=9)
    sizes = [
        {"n_estimators": 20, "num_leaves": 4},
        {"n_estimators": 20, "num_leaves": 8, "max_depth": 3},
    ]
    params = {**FAST, "student_params": sizes}
    model = DistilledClassifier(**params, random_state=0).fit(X, y)
    report = model.report_
    # data knobs at the first size (2 augment factors x 2 losses), then the other size
    assert len(report["candidates"]) == 2 * 2 + 1

    def size(params):
        return {k: params[k] for k in ("n_estimators", "num_leaves") if k in params}

    seen = {tuple(sorted(size(c["student_params"]).items())) for c in report["candidates"]}
    assert seen == {tuple(sorted(size(s).items())) for s in sizes}
    assert size(report["chosen"]["student_params"]) in [size(s) for s in sizes]
    assert size(report["baseline_params"]) in [size(s) for s in sizes]
    assert model.baseline_[-1].num_leaves == report["baseline_params"]["num_leaves"]


def test_large_data_compares_candidates_on_a_subsample_and_fits_the_chosen_on_all_rows(
    monkeypatch,
):
    from tabdistill.distill import search

    X, y = mixed_frame(600, seed=9)
    sizes = [{"n_estimators": 20, "num_leaves": 4}, {"n_estimators": 20, "num_leaves": 8}]
    params = {**FAST, "student_params": sizes}
    full = DistilledClassifier(**params, random_state=0).fit(X, y)
    assert len(full.report_["candidates"]) == 2 * 2 + 1
    monkeypatch.setattr(search, "SEARCH_ROWS", 150)  # "large": more training rows than this
    searched = DistilledClassifier(**params, random_state=0).fit(X, y)
    n_train = searched.report_["rows"]["train"]
    candidates = searched.report_["candidates"]
    # 2 augment factors x 2 losses, then the other size, on the subsample; the chosen on all rows
    assert len(candidates) == 2 * 2 + 1 + 1
    compared, final = candidates[:-1], candidates[-1]
    # the subsample keeps the synthetic rows seeded from its own rows: a share of them
    assert all(c["synthetic_rows"] == 0 for c in compared if c["augment_factor"] == 0)
    assert all(0 < c["synthetic_rows"] < n_train for c in compared if c["augment_factor"] == 1)
    assert final["synthetic_rows"] == final["augment_factor"] * n_train
    chosen = searched.report_["chosen"]
    assert {k: chosen[k] for k in ("augment_factor", "alpha")} == {
        k: final[k] for k in ("augment_factor", "alpha")
    }
    assert searched.report_["rows"]["refit"] == len(X)


def test_search_subsample_keeps_each_factor_s_share_of_synthetic_rows():
    from tabdistill.distill.search import search_rows
    from tabdistill.distill.soft_targets import DistillData

    rng = np.random.default_rng(0)
    n, n_syn = 1_000, 2_000
    data = DistillData(
        Z=rng.normal(size=(n, 3)),
        y=rng.integers(0, 2, n),
        oof_proba=rng.random(n),
        weight=None,
        synthetic=rng.normal(size=(n_syn, 3)),
        synthetic_proba=rng.random(n_syn),
        synthetic_seeds=rng.integers(0, n, n_syn),
        validation_proba=None,
        n_train=n,
    )
    assert search_rows(n, 0, n_rows=n) is None
    sub = data.subsample(search_rows(n, 0, n_rows=250))
    assert len(sub.y) == 250 and len(sub.synthetic) == len(sub.synthetic_kept)
    # each kept synthetic row's seed points at the same original row inside the subsample
    np.testing.assert_array_equal(
        sub.Z[sub.synthetic_seeds], data.Z[data.synthetic_seeds[sub.synthetic_kept]]
    )
    # factor 1 (the first 1,000 synthetic rows) keeps about a quarter of them
    first = np.searchsorted(sub.synthetic_kept, 1_000)
    assert 180 < first < 320 and (sub.synthetic_kept[:first] < 1_000).all()


def _fit_counting(monkeypatch, X, y, params):
    """A fit of ``params``, and how many students it fit."""
    from tabdistill.distill.context import StudentFactory

    fits = []
    real = StudentFactory.fit

    def counted(self, *args, **kwargs):
        fits.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StudentFactory, "fit", counted)
    model = DistilledClassifier(**params, random_state=0).fit(X, y)
    monkeypatch.setattr(StudentFactory, "fit", real)
    return model, len(fits)


def test_hard_label_candidate_is_the_baseline_fit_read_off_not_fit_again(monkeypatch):
    from tabdistill.distill import search

    X, y = mixed_frame(600, seed=9)
    sizes = [{"n_estimators": 20, "num_leaves": 4}, {"n_estimators": 20, "num_leaves": 8}]
    params = {**FAST, "student_params": sizes, "alphas": (0.0, 1.0), "frontier_budgets": None}
    read, n_read = _fit_counting(monkeypatch, X, y, params)
    monkeypatch.setattr(search, "baseline_twin", lambda *args: None)
    fit, n_fit = _fit_counting(monkeypatch, X, y, params)
    twins = [c for c in read.report_["candidates"] if c["augment_factor"] == 0 and c["alpha"] == 1]
    # the hard-label candidates (at the first size, and at the other when they lead) are
    # read off the baseline's fits
    assert len(twins) >= 1 and n_read == n_fit - len(twins)
    assert read.report_["candidates"] == fit.report_["candidates"]
    assert read.report_["chosen"] == fit.report_["chosen"]
    assert all(c["synthetic_rows"] == 0 and c["roc_auc"] > 0.5 for c in twins)
    np.testing.assert_array_equal(read.predict_proba(X), fit.predict_proba(X))


def test_no_baseline_twin_with_rare_weight_or_another_loss(monkeypatch):
    from tabdistill.distill import search

    found = []
    real = search.baseline_twin

    def recorded(*args):
        found.append(real(*args))
        return found[-1]

    monkeypatch.setattr(search, "baseline_twin", recorded)
    X, y = mixed_frame(600, seed=9)
    base = {**FAST, "alphas": (0.0, 1.0), "frontier_budgets": None}
    counts = []
    for changed in ({}, {"rare_weight": 2.0}, {"losses": ("logit",)}):
        found.clear()
        DistilledClassifier(**base, **changed, random_state=0).fit(X, y)
        counts.append(sum(model is not None for model in found))
    assert counts[0] >= 1 and counts[1:] == [0, 0]


def test_without_a_frontier_runs_end_past_their_step_cap_and_keep_the_same_students(monkeypatch):
    from tabdistill.distill.students import LightGBMStudent

    X, y = mixed_frame(800, seed=4)
    sizes = [{"n_estimators": 300, "num_leaves": 4}, {"n_estimators": 300, "num_leaves": 8}]
    # 0.25 us: 50 tree steps, far fewer rounds than early stopping keeps on these rows
    params = {**FAST, "student_params": sizes, "latency_budget": 0.25, "frontier_budgets": None}
    real = LightGBMStudent.fit

    def fit_recording(ends, capped):
        @functools.wraps(real)  # the same signature: the factory passes what it accepts
        def fit(self, *args, stop_steps=None, **kwargs):
            out = real(self, *args, stop_steps=stop_steps if capped else None, **kwargs)
            if self.n_estimators == 300:  # the search's and the baseline's runs
                ends.append((out.run_end_, stop_steps))
            return out

        return fit

    models, ends = [], {}
    for capped in (True, False):
        ends[capped] = []
        monkeypatch.setattr(LightGBMStudent, "fit", fit_recording(ends[capped], capped))
        models.append(DistilledClassifier(**params, random_state=0).fit(X, y))
    # the search's and the baseline's runs were given the cap and ended past it ...
    assert ("max_steps", 50.0) in ends[True] and all(e != "max_steps" for e, _ in ends[False])
    # ... with the students a run to early stopping keeps
    capped, uncapped = models
    assert capped.report_["candidates"] == uncapped.report_["candidates"]
    np.testing.assert_array_equal(capped.predict_proba(X), uncapped.predict_proba(X))
    # a frontier reads their rounds past the cap: they run to early stopping
    ends[None] = []
    monkeypatch.setattr(LightGBMStudent, "fit", fit_recording(ends[None], True))
    DistilledClassifier(**{**params, "frontier_budgets": (0.25, 1.0)}, random_state=0).fit(X, y)
    assert ends[None] and all(steps is None for _, steps in ends[None])
