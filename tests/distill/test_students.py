import numpy as np
import pytest
from sklearn.base import clone

from tabdistill.distill.context import make_student
from tabdistill.distill.labels import build_training_set, soften
from tabdistill.distill.students import STUDENTS, LinearStudent


def _soft_data(n=800, seed=0):
    rng = np.random.default_rng(seed)
    Z = np.column_stack(
        [rng.normal(size=n), rng.integers(0, 3, n).astype(float), rng.normal(size=n)]
    )
    Z[rng.random(n) < 0.05, 2] = np.nan
    q = 1 / (1 + np.exp(-(1.5 * Z[:, 0] + (Z[:, 1] == 2) - 0.5)))
    return Z, q


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_students_fit_soft_targets_and_output_probabilities(name):
    Z, q = _soft_data()
    model = make_student(name, categorical_mask=[False, True, False], random_state=0).fit(Z, q)
    p = model.predict(Z)
    assert p.shape == q.shape and np.all((p > 0) & (p < 1))
    assert np.corrcoef(p, q)[0, 1] > 0.8
    np.testing.assert_allclose(model.predict_proba(Z).sum(1), 1)


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_sample_weight_changes_the_fit(name):
    Z, q = _soft_data()
    w = np.where(Z[:, 0] > 0, 10.0, 0.1)
    model = make_student(name, categorical_mask=[False, True, False], random_state=0)
    plain = clone(model).fit(Z, q).predict(Z)
    weighted = clone(model).fit(Z, q, sample_weight=w).predict(Z)
    assert np.abs(plain - weighted).max() > 1e-3


def test_linear_student_soft_cross_entropy_recovers_logits():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(3_000, 2))
    q = 1 / (1 + np.exp(-(2.0 * Z[:, 0] - 1.0 * Z[:, 1] + 0.3)))
    model = LinearStudent(C=1e6).fit(Z, q)
    np.testing.assert_allclose(model.predict(Z), q, atol=1e-3)


def test_students_reject_targets_outside_unit_interval():
    Z, q = _soft_data()
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        make_student("tree").fit(Z, q * 2)


def test_unknown_student_parameter_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown parameter"):
        make_student("lightgbm", {"n_trees": 10})


def test_soften_and_training_set():
    q = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(soften(q, 1.0), q)
    hot = soften(q, 2.0)
    assert hot[0] > 0.1 and hot[1] == pytest.approx(0.5) and hot[2] < 0.9
    Z = np.zeros((3, 1))
    data = build_training_set(
        Z,
        np.array([0, 1, 1]),
        q,
        np.array([1.0, 2.0, 3.0]),
        synthetic=np.ones((2, 1)),
        synthetic_proba=np.array([0.2, 0.8]),
        synthetic_seeds=np.array([2, 0]),
        alpha=0.5,
        synthetic_weight=0.5,
    )
    np.testing.assert_allclose(data.target, [0.05, 0.75, 0.95, 0.2, 0.8])
    np.testing.assert_allclose(data.weight, [1.0, 2.0, 3.0, 1.5, 0.5])  # seeds' weights inherited
    assert data.n_synthetic == 2


def test_student_sizes():
    from tabdistill.distill.sizes import student_sizes

    assert len(student_sizes("lightgbm")) == 3
    # large data adds depth-8 trees (the most leaves a step of the latency budget)
    assert len(student_sizes("lightgbm", n_rows=100_000)) == 3
    assert student_sizes("lightgbm", n_rows=100_001)[-1] == {
        "num_leaves": 255,
        "max_depth": 8,
        "n_estimators": 500,
    }
    assert student_sizes("lightgbm", {"num_leaves": 4}, n_rows=10**6) == [{"num_leaves": 4}]
    assert student_sizes("tree") == [{}]
    assert student_sizes("lightgbm", {"num_leaves": 4}) == [{"num_leaves": 4}]
    assert student_sizes("lightgbm", [{"num_leaves": 4}, {"num_leaves": 6}])[1] == {"num_leaves": 6}
    with pytest.raises(ValueError, match="list of dicts"):
        student_sizes("lightgbm", [])


def test_platt_scaling_recalibrates_without_reordering():
    from tabdistill.distill.labels import platt_scaling
    from tabdistill.metrics import log_loss

    rng = np.random.default_rng(0)
    truth = rng.uniform(0.05, 0.95, 4000)
    y = (rng.random(4000) < truth).astype(int)
    overconfident = 1 / (1 + np.exp(-3 * np.log(truth / (1 - truth))))
    calibrated = platt_scaling(overconfident, y)(overconfident)
    assert np.all(np.diff(calibrated[np.argsort(overconfident)]) >= 0)
    assert log_loss(y, calibrated) < log_loss(y, overconfident) - 0.05


def test_logit_student_fits_log_odds_and_compiles_as_a_probability_model():
    from tabdistill.distill.students import LightGBMStudent
    from tabdistill_runtime.schema import FeatureSchema

    rng = np.random.default_rng(1)
    Z = rng.normal(size=(3000, 3))
    q = 1 / (1 + np.exp(-(2 * Z[:, 0] - Z[:, 1])))
    s = LightGBMStudent(n_estimators=400, loss="logit", early_stopping_rounds=20)
    s.fit(Z[:2000], q[:2000], eval_set=(Z[2000:], q[2000:], None))
    assert s.n_estimators_ < 400 and s.booster_.num_trees() == s.n_estimators_
    assert np.abs(s.predict(Z[2000:]) - q[2000:]).mean() < 0.03
    schema = FeatureSchema(["a", "b", "c"], dict.fromkeys("abc", "numeric"), {}, ["a", "b", "c"])
    np.testing.assert_allclose(s.compile(schema).score_encoded(Z), s.predict(Z), atol=1e-12)


def test_a_student_never_splits_on_its_ignored_features():
    from tabdistill.distill.students import LightGBMStudent

    rng = np.random.default_rng(2)
    Z = rng.normal(size=(2000, 4))
    q = 1 / (1 + np.exp(-(2 * Z[:, 0] - Z[:, 1] + Z[:, 2])))
    for loss in ("cross_entropy", "logit"):
        s = LightGBMStudent(n_estimators=40, ignored_features=[0, 2], loss=loss, random_state=0)
        splits = s.fit(Z, q).booster_.feature_importance("split")
        assert splits[0] == splits[2] == 0 and splits[1] > 0
    classes = np.column_stack([q / 2, q / 2, 1 - q])
    s = LightGBMStudent(n_estimators=10, ignored_features=(1,), random_state=0).fit(Z, classes)
    assert s.booster_.feature_importance("split")[1] == 0
    with pytest.raises(ValueError, match=r"indices of the 4 encoded columns \(0 to 3\), got \[4\]"):
        LightGBMStudent(ignored_features=[4]).fit(Z, q)


def test_max_steps_keeps_the_first_rounds_within_the_budget():
    from tabdistill.distill.sizes import round_steps, student_cost
    from tabdistill.distill.students import LightGBMStudent

    Z, t = _soft_data()
    full = LightGBMStudent(n_estimators=60, num_leaves=15, random_state=0).fit(Z, t)
    steps = round_steps(full.booster_, None)
    assert steps.shape == (60,) and steps.max() <= 14 and student_cost(full) == steps.sum()
    budget = float(np.cumsum(steps)[19])  # exactly 20 rounds fit
    cut = LightGBMStudent(n_estimators=60, num_leaves=15, max_steps=budget, random_state=0)
    cut.fit(Z, t)
    assert cut.n_estimators_ == 20 and cut.booster_.num_trees() == 20
    assert student_cost(cut) <= budget
    np.testing.assert_allclose(cut.predict(Z), full.booster_.predict(Z, num_iteration=20))
    # K classes: a round is K trees
    k3 = np.random.default_rng(0).dirichlet(np.ones(3), len(Z))
    multi = LightGBMStudent(n_estimators=30, num_leaves=7, max_steps=20, random_state=0)
    multi.fit(Z, k3)
    assert multi.booster_.num_trees() == 3 * multi.n_estimators_
    assert 1 <= multi.n_estimators_ < 30 and student_cost(multi) <= 20 + 3 * 6


def _run_to_early_stopping(loss):
    """Rows, their split, a student spec and its run to early stopping (patience 10)."""
    from tabdistill.distill.students import LightGBMStudent

    Z, t = _soft_data(2000, seed=3)
    y = (np.random.default_rng(3).random(len(t)) < t).astype(float)
    train, ev = slice(0, 1500), (Z[1500:], y[1500:], None)
    spec = {"num_leaves": 7, "early_stopping_rounds": 10, "loss": loss, "random_state": 0}
    long = LightGBMStudent(n_estimators=4000, **spec).fit(Z[train], y[train], eval_set=ev)
    return Z, y, train, ev, spec, long


@pytest.mark.parametrize("loss", ["cross_entropy", "logit"])
def test_a_run_cut_to_its_step_cap_keeps_the_rounds_past_the_cut_and_what_ended_it(loss):
    import time

    from tabdistill.distill.students import LightGBMStudent

    Z, y, train, ev, spec, long = _run_to_early_stopping(loss)
    assert long.run_end_ == "early_stopping" and long.rounds_run_ == long.n_estimators_
    capped = LightGBMStudent(n_estimators=500, max_steps=20, **spec)
    capped.fit(Z[train], y[train], eval_set=ev)
    assert capped.run_end_ == "early_stopping"
    assert capped.n_estimators_ < capped.rounds_run_ == long.n_estimators_
    whole = capped.truncated(capped.rounds_run_)  # past the cut: the run early stopping kept
    assert whole.n_estimators_ == long.n_estimators_ and whole.max_steps is None
    np.testing.assert_array_equal(whole.predict(Z), long.predict(Z))
    np.testing.assert_array_equal(capped.truncated(5).predict(Z), long.truncated(5).predict(Z))
    # stopped past 20 steps: it ends its patience (10 rounds) after them, before early stopping
    stopped = LightGBMStudent(n_estimators=500, max_steps=20, **spec)
    stopped.fit(Z[train], y[train], eval_set=ev, stop_steps=20)
    assert stopped.run_end_ == "max_steps" and stopped.n_estimators_ == capped.n_estimators_
    assert stopped.rounds_run_ == stopped.n_estimators_ + 1 + 10 < long.n_estimators_
    np.testing.assert_array_equal(stopped.predict(Z), capped.predict(Z))
    # a round cap reached before early stopping would end the run, or a deadline passed
    short = LightGBMStudent(n_estimators=long.n_estimators_ // 2, **spec)
    assert short.fit(Z[train], y[train], eval_set=ev).run_end_ == "n_estimators"
    late = LightGBMStudent(n_estimators=500, **spec)
    late.fit(Z[train], y[train], eval_set=ev, deadline=time.perf_counter() - 1)
    assert late.run_end_ == "deadline"
    assert LightGBMStudent(n_estimators=20, **spec).fit(Z, y).run_end_ == "n_estimators"


@pytest.mark.parametrize("loss", ["cross_entropy", "logit"])
def test_a_run_ended_past_its_step_cap_keeps_what_a_run_to_early_stopping_keeps(loss):
    from tabdistill.distill.sizes import round_steps
    from tabdistill.distill.students import LightGBMStudent

    Z, y, train, ev, spec, long = _run_to_early_stopping(loss)
    steps = np.cumsum(round_steps(long.booster_, None))
    ended = set()
    # caps on either side of the round early stopping keeps, and right at it
    for cap in np.unique(steps[np.linspace(0, len(steps) - 1, 9).astype(int)]) + 0.5:
        stopped = LightGBMStudent(n_estimators=4000, **spec)
        stopped.fit(Z[train], y[train], eval_set=ev, stop_steps=cap)
        ended.add(stopped.run_end_)
        assert stopped.rounds_run_ <= long.rounds_run_ + 10  # never more rounds fit
        # every prefix within the cap is the longer run's
        within = max(1, int(np.searchsorted(steps, cap, side="right")))
        rounds = min(long.n_estimators_, within)
        assert rounds <= stopped.n_estimators_
        np.testing.assert_array_equal(
            stopped.truncated(rounds).predict(Z), long.truncated(rounds).predict(Z)
        )
    assert ended == {"max_steps", "early_stopping"}


def test_a_k_class_run_cut_to_its_step_cap_keeps_the_rounds_past_the_cut():
    from tabdistill.distill.students import LightGBMStudent

    Z, _ = _soft_data(1500, seed=5)
    y = np.digitize(Z[:, 0] + 0.5 * Z[:, 1] + np.random.default_rng(5).normal(size=len(Z)), [-1, 1])
    onehot = np.eye(3)[y]
    ev = (Z[1000:], onehot[1000:], None)
    spec = {"num_leaves": 7, "early_stopping_rounds": 10, "random_state": 0}
    long = LightGBMStudent(n_estimators=4000, **spec).fit(Z[:1000], onehot[:1000], eval_set=ev)
    capped = LightGBMStudent(n_estimators=500, max_steps=30, **spec)
    capped.fit(Z[:1000], onehot[:1000], eval_set=ev)
    assert capped.run_end_ == long.run_end_ == "early_stopping"
    assert capped.n_estimators_ < capped.rounds_run_ == long.n_estimators_
    np.testing.assert_array_equal(capped.truncated(capped.rounds_run_).predict(Z), long.predict(Z))


@pytest.mark.parametrize("loss", ["cross_entropy", "logit"])
@pytest.mark.parametrize("stopping", [True, False])
def test_a_k_class_student_stops_at_its_deadline_as_a_binary_one_does(loss, stopping):
    import time

    from tabdistill.distill.students import LightGBMStudent

    Z, _ = _soft_data(1500, seed=5)
    y = np.digitize(Z[:, 0] + 0.5 * Z[:, 1] + np.random.default_rng(5).normal(size=len(Z)), [-1, 1])
    onehot = np.eye(3)[y]
    ev = (Z[1000:], onehot[1000:], None) if stopping else None
    spec = {"n_estimators": 200, "num_leaves": 7, "loss": loss, "random_state": 0}
    late = LightGBMStudent(early_stopping_rounds=10, **spec)
    late.fit(Z[:1000], onehot[:1000], eval_set=ev, deadline=time.perf_counter() - 1)
    # the deadline is checked after each round: one round of K trees, then the fit ends
    assert late.run_end_ == "deadline" and late.rounds_run_ == late.n_estimators_ == 1
    assert late.booster_.num_trees() == 3
    assert late.predict(Z).shape == (len(Z), 3)
    binary = LightGBMStudent(early_stopping_rounds=10, **spec)
    binary.fit(Z[:1000], (y[:1000] == 2).astype(float), deadline=time.perf_counter() - 1)
    assert binary.run_end_ == "deadline" and binary.rounds_run_ == 1
    far = LightGBMStudent(**spec).fit(Z[:1000], onehot[:1000], deadline=time.perf_counter() + 3600)
    assert far.run_end_ == "n_estimators" and far.rounds_run_ == 200


def _split_kinds(booster) -> dict:
    """Per feature, the decision types of the booster's splits on it."""
    kinds, stack = {}, [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            kinds.setdefault(node["split_feature"], set()).add(node["decision_type"])
            stack += [node["left_child"], node["right_child"]]
    return kinds


def test_lightgbm_student_splits_many_levels_as_codes_and_compiles():
    """The teacher's rule: a categorical column of more than PARTITION_LEVELS levels is split
    as ordered codes, one of few levels by partitions; the runtime scores both, unseen and
    missing levels included."""
    import pandas as pd

    from tabdistill.data import TabularEncoder
    from tabdistill.distill.members import PARTITION_LEVELS
    from tabdistill.distill.students import LightGBMStudent, compile_student

    rng = np.random.default_rng(0)
    n = 4_000
    few = rng.integers(0, 6, n)
    many = rng.integers(0, PARTITION_LEVELS + 8, n)
    x = rng.normal(size=n)
    X = pd.DataFrame({"x": x, "few": [f"f{v}" for v in few], "many": [f"m{v:02d}" for v in many]})
    q = 1 / (1 + np.exp(-(x + (few % 2) - 1.5 * (many % 3 == 0))))
    enc = TabularEncoder(categorical_features=["few", "many"])
    Z = enc.fit_encode(X)
    cols = {name: enc.features_.index(name) for name in ("few", "many")}
    student = LightGBMStudent(
        n_estimators=40, categorical_mask=enc.categorical_mask_, random_state=0
    ).fit(Z, q)
    kinds = _split_kinds(student.booster_)
    assert kinds[cols["few"]] == {"=="} and kinds[cols["many"]] == {"<="}
    searched = clone(student).set_params(max_partition_levels=None).fit(Z, q)
    assert _split_kinds(searched.booster_)[cols["many"]] == {"=="}  # LightGBM's default
    # the runtime agrees with LightGBM, for unseen and missing levels of the coded column too
    rows = X.head(300).copy()
    rows.loc[::5, "many"] = "never seen"
    rows.loc[::7, "many"] = np.nan
    runtime = compile_student(student, enc.schema_)
    Zr = enc.encode(rows)
    np.testing.assert_allclose(runtime.score_encoded(Zr), student.predict(Zr), atol=1e-12)
    for i in (0, 5, 7, 8):
        record = {k: v for k, v in rows.iloc[i].items() if not pd.isna(v)}
        score = runtime.score_record(record, allow_missing=True)
        assert score == pytest.approx(student.predict(Zr[i : i + 1])[0])


def test_lightgbm_student_subsampling_and_l2_are_seeded_and_change_the_fit():
    from tabdistill.distill.students import LightGBMStudent

    Z, q = _soft_data()
    plain = LightGBMStudent(n_estimators=30, random_state=0).fit(Z, q).predict(Z)
    regular = LightGBMStudent(
        n_estimators=30, subsample=0.7, colsample_bytree=0.7, reg_lambda=5.0, random_state=0
    )
    first = clone(regular).fit(Z, q).predict(Z)
    np.testing.assert_array_equal(first, clone(regular).fit(Z, q).predict(Z))
    assert np.abs(first - plain).max() > 1e-3
    with pytest.raises(ValueError, match="subsample"):
        LightGBMStudent(subsample=1.5).fit(Z, q)
