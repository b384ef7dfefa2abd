"""Bagged students: the mean log-odds of several students as one model; the frontier's bags."""

import lightgbm as lgb
import numpy as np
import pytest
from conftest import FAST_DISTILLER, mixed_frame
from scipy.special import expit

from tabdistill import DistilledClassifier
from tabdistill.distill import frontier
from tabdistill.distill.bagging import BAG_MEMBERS, MEMBER_PARAMS, bag_student, merge_models
from tabdistill.distill.sizes import TREE_STEP_NS
from tabdistill.distill.students import LightGBMStudent


def _rows(n=600, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 4))
    Z[:, 3] = rng.integers(0, 12, n)  # a categorical column
    Z[rng.random(Z.shape) < 0.05] = np.nan
    q = expit(np.nan_to_num(Z[:, 0]) - np.nan_to_num(Z[:, 1]) * (Z[:, 3] % 3 == 0))
    return Z, q


def _members(Z, q, k=3):
    mask = [False, False, False, True]
    return [
        LightGBMStudent(
            n_estimators=15 + 5 * i, num_leaves=7, categorical_mask=mask, random_state=i
        )
        .set_params(**MEMBER_PARAMS)
        .fit(Z, q)
        for i in range(k)
    ]


def test_merged_model_scores_the_mean_of_the_members_raw_scores():
    Z, q = _rows()
    members = _members(Z, q)
    merged = lgb.Booster(model_str=merge_models([m.booster_.model_to_string() for m in members]))
    raw = np.mean([m.booster_.predict(Z, raw_score=True) for m in members], axis=0)
    assert merged.num_trees() == sum(m.booster_.num_trees() for m in members)
    np.testing.assert_allclose(merged.predict(Z, raw_score=True), raw, rtol=0, atol=1e-12)
    contrib = merged.predict(Z[:50], pred_contrib=True)
    np.testing.assert_allclose(contrib.sum(axis=1), raw[:50], rtol=0, atol=1e-12)


def test_a_bag_is_a_student_the_runtime_scores():
    Z, q = _rows()
    members = _members(Z, q)
    bag = bag_student(members)
    logits = np.mean([np.log(m.predict(Z) / (1 - m.predict(Z))) for m in members], axis=0)
    np.testing.assert_allclose(bag.predict(Z), expit(logits), rtol=0, atol=1e-12)
    assert bag.bag_members_ == 3
    assert bag.tree_steps() == pytest.approx(sum(m.tree_steps() for m in members))
    X, y = mixed_frame(300, seed=1)
    model = DistilledClassifier(**FAST_DISTILLER, random_state=0).fit(X, y)
    Zm = model.encoder_.transform(X)
    # a bag compiles like any LightGBM student, and the runtime scores it the same
    bag = bag_student(
        [
            LightGBMStudent(n_estimators=10, num_leaves=7, random_state=i)
            .set_params(**MEMBER_PARAMS)
            .fit(Zm, y.to_numpy() * 0.9 + 0.05)
            for i in range(2)
        ]
    )
    runtime = bag.compile(model.encoder_.schema_)
    np.testing.assert_allclose(runtime.score_encoded(Zm), bag.predict(Zm), rtol=0, atol=1e-12)


def test_a_bag_of_class_distributions_is_refused():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 3))
    target = rng.dirichlet(np.ones(3), size=200)
    member = LightGBMStudent(n_estimators=5, num_leaves=4).fit(Z, target)
    with pytest.raises(ValueError, match="binary"):
        bag_student([member, member])


def _bagged_shapes(monkeypatch) -> list:
    """The leaves of each shape the frontier bags from now on, in order."""
    shapes = []
    fit = frontier._Bag.fit.__func__

    def spy(cls, ctx, shape, *args):
        shapes.append(shape.knobs.student_params["num_leaves"])
        return fit(cls, ctx, shape, *args)

    monkeypatch.setattr(frontier._Bag, "fit", classmethod(spy))
    return shapes


def test_the_frontier_bags_at_twice_the_shipped_budget_and_more(monkeypatch):
    """Forced to prefer bags: every budget of 2x the shipped one or more holds one, of
    ``budget // shipped`` members (at most five) within the budget's steps."""
    monkeypatch.setattr(
        frontier,
        "_with_bag",
        lambda ctx, single, bags, budget: (bags and bags[0].at(budget, ctx.validation)) or single,
    )
    X, y = mixed_frame(800, seed=4)
    budgets = (0.5, 1.0, 1.5, 5.0)
    model = DistilledClassifier(
        **{**FAST_DISTILLER, "student_params": {"n_estimators": 200, "num_leaves": 7}},
        latency_budget=0.5,
        frontier_budgets=budgets,
        random_state=0,
    ).fit(X, y)
    Z = model.encoder_.transform(X)
    members = {}
    for point, line in zip(model.frontier_, model.report_["frontier"], strict=True):
        members[point.budget_us] = line["bag_members"]
        assert point.tree_steps <= point.budget_us * 1000 / TREE_STEP_NS
        np.testing.assert_allclose(
            model.frontier_runtime(point.budget_us).score_encoded(Z),
            point.student.predict(Z),
            rtol=0,
            atol=1e-12,
        )
    assert members == {0.5: 1, 1.0: 2, 1.5: 3, 5.0: BAG_MEMBERS}


def test_with_enough_rarer_class_rows_every_size_gets_a_bag(monkeypatch):
    """Each size's bag is fit, per source, and a budget holds the best of them on
    validation where it beats the single student; with fewer validation rows of the rarer
    class than the threshold, one bag a source."""
    shapes = _bagged_shapes(monkeypatch)
    sizes = [{"n_estimators": 60, "num_leaves": leaves} for leaves in (3, 7)]
    X, y = mixed_frame(800, seed=4)
    params = {**FAST_DISTILLER, "student_params": sizes, "latency_budget": 0.5}
    DistilledClassifier(**params, frontier_budgets=(0.5, 5.0), random_state=0).fit(X, y)
    assert len(shapes) == 2  # one bag of one shape per source
    shapes.clear()
    monkeypatch.setattr(frontier, "FINE_CHOICE_RARER_ROWS", 1)
    model = DistilledClassifier(**params, frontier_budgets=(0.5, 5.0), random_state=0).fit(X, y)
    assert sorted(shapes) == [3, 3, 7, 7]
    (point,) = [p for p in model.frontier_ if p.budget_us == 5.0]
    assert point.tree_steps <= 5.0 * 1000 / TREE_STEP_NS


def test_a_costly_source_bags_its_best_shape_only(monkeypatch):
    """With enough rarer-class rows, every size's bag; on a costly training set, one."""
    from tabdistill.distill import long_runs

    shapes = _bagged_shapes(monkeypatch)
    monkeypatch.setattr(frontier, "FINE_CHOICE_RARER_ROWS", 1)
    monkeypatch.setattr(long_runs, "COSTLY_CELLS", 1)
    sizes = [{"n_estimators": 60, "num_leaves": leaves} for leaves in (3, 7)]
    X, y = mixed_frame(800, seed=4)
    params = {**FAST_DISTILLER, "student_params": sizes, "latency_budget": 0.5}
    model = DistilledClassifier(**params, frontier_budgets=(0.5, 5.0), random_state=0).fit(X, y)
    assert len(shapes) == 2 and [p.budget_us for p in model.frontier_] == [0.5, 5.0]


def test_bag_shapes_by_source(monkeypatch):
    """The distilled source's synthetic rows count towards its cost; the baseline's don't."""
    from types import SimpleNamespace

    from tabdistill.distill import long_runs
    from tabdistill.distill.selection import Knobs

    data = SimpleNamespace(Z=np.zeros((1000, 10)), synthetic_rows=lambda factor: 1000 * factor)
    distilled, hard = Knobs({}, augment_factor=2, alpha=0.5), Knobs({})
    assert long_runs.run_rows(distilled, data) == 3000 and long_runs.run_rows(hard, data) == 1000
    monkeypatch.setattr(long_runs, "COSTLY_CELLS", 20_000)
    assert frontier._bag_shapes(True, 3, distilled, data) == 1
    assert frontier._bag_shapes(True, 3, hard, data) == 3
    assert frontier._bag_shapes(False, 3, hard, data) == 1


def test_the_best_bag_on_validation_replaces_the_single_student():
    class Bag:
        def __init__(self, value):
            self.value = value

        def at(self, budget, validation):
            return None if self.value is None else frontier.Candidate(None, None, None, self.value)

    class Ctx:
        validation = None

    single = frontier.Candidate(None, None, None, 0.5)
    bags = [Bag(0.6), Bag(None), Bag(0.7), Bag(0.4)]
    assert frontier._with_bag(Ctx, single, bags, 10.0).value == 0.7
    assert frontier._with_bag(Ctx, single, [Bag(0.4)], 10.0) is single
    assert frontier._with_bag(Ctx, single, [], 10.0) is single


def test_rarer_class_rows():
    assert frontier._rarer_class_rows(np.array([0, 1, 1, 0, 0])) == 2
    assert frontier._rarer_class_rows(np.array([1, 1])) == 0


def test_no_bags_below_twice_the_shipped_budget(monkeypatch):
    fitted = []
    monkeypatch.setattr(frontier._Bag, "fit", classmethod(lambda *a: fitted.append(a)))
    X, y = mixed_frame(400, seed=4)
    DistilledClassifier(
        **FAST_DISTILLER, latency_budget=0.5, frontier_budgets=(0.2, 0.5, 0.9), random_state=0
    ).fit(X, y)
    assert fitted == []


def test_no_bags_where_the_search_subsamples_the_rows(monkeypatch):
    from tabdistill.distill import search

    fitted = []
    monkeypatch.setattr(frontier._Bag, "fit", classmethod(lambda *a: fitted.append(a)))
    monkeypatch.setattr(search, "SEARCH_ROWS", 200)
    X, y = mixed_frame(400, seed=4)
    model = DistilledClassifier(
        **FAST_DISTILLER, latency_budget=0.5, frontier_budgets=(0.5, 5.0), random_state=0
    ).fit(X, y)
    assert fitted == [] and [p.budget_us for p in model.frontier_] == [0.5, 5.0]
