"""compile_sklearn_forest: random forests and extra trees score as their predict_proba does."""

import numpy as np
import pytest
from conftest import mixed_frame
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor

from tabdistill.data import TabularEncoder
from tabdistill_runtime._proba import clip_distribution, clip_proba
from tabdistill_runtime.from_sklearn import compile_sklearn_forest


@pytest.fixture(scope="module")
def data():
    X, y = mixed_frame(n=800, seed=5)
    enc = TabularEncoder().fit(X)
    Z = enc.encode(X)  # NaN in a numeric and a categorical column: trees learn where it goes
    Xt, _ = mixed_frame(n=500, seed=6)
    Zt = enc.encode(Xt)
    Zt[np.random.default_rng(1).random(Zt.shape) < 0.15] = np.nan
    classes = np.digitize(Z[:, 0], [-0.5, 0.5])
    return enc, Z, y.to_numpy(), classes, Zt


@pytest.mark.parametrize("forest", [RandomForestClassifier, ExtraTreesClassifier])
@pytest.mark.parametrize("k", [2, 3])
def test_forest_matches_predict_proba(data, forest, k):
    enc, Z, y, classes, Zt = data
    model = forest(n_estimators=15, min_samples_leaf=3, random_state=0)
    model.fit(Z, y if k == 2 else classes)
    runtime = compile_sklearn_forest(model, enc.schema_)
    proba = model.predict_proba(Zt)
    expected = clip_proba(proba[:, 1]) if k == 2 else clip_distribution(proba)
    assert np.abs(runtime.score_encoded(Zt) - expected).max() < 1e-13
    assert np.abs(np.array([runtime.score_one(z) for z in Zt[:100]]) - expected[:100]).max() < 1e-13
    # a tree of K classes is K copies of its structure
    nodes = sum(est.tree_.node_count for est in model.estimators_)
    assert len(runtime.arrays["feature"]) == nodes * (1 if k == 2 else k)


def test_trees_not_stored_in_preorder_are_rebuilt(data):
    enc, Z, y, _, Zt = data
    # with max_leaf_nodes scikit-learn grows best-first: children are not next to their parent
    model = RandomForestClassifier(n_estimators=5, max_leaf_nodes=20, random_state=0).fit(Z, y)
    left = model.estimators_[0].tree_.children_left
    assert not np.array_equal(left[left >= 0], np.flatnonzero(left >= 0) + 1)
    runtime = compile_sklearn_forest(model, enc.schema_)
    expected = clip_proba(model.predict_proba(Zt)[:, 1])
    assert np.abs(runtime.score_encoded(Zt) - expected).max() < 1e-13


def test_refuses_forests_it_cannot_score(data):
    enc, Z, y, _, _ = data
    two_targets = RandomForestClassifier(n_estimators=2).fit(Z, np.column_stack([y, y]))
    with pytest.raises(TypeError, match="several targets"):
        compile_sklearn_forest(two_targets, enc.schema_)
    with pytest.raises(TypeError, match="1 class"):
        compile_sklearn_forest(RandomForestClassifier(n_estimators=2).fit(Z, 0 * y), enc.schema_)
    regressor = RandomForestRegressor(n_estimators=2).fit(Z, y)
    with pytest.raises(TypeError, match="1 class"):
        compile_sklearn_forest(regressor, enc.schema_)


def test_float32_comparisons_are_exact_at_every_threshold(data):
    # the kernels compare a double against the cut where float32 rounding flips
    # (layout.float32_cuts): probe every split's threshold, its cut and their neighbours
    enc, Z, y, _, _ = data
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(Z, y)
    runtime = compile_sklearn_forest(model, enc.schema_)
    from tabdistill_runtime.layout import float32_cuts

    probes = []
    for est in model.estimators_:
        t = est.tree_
        for f, th in zip(t.feature[t.feature >= 0], t.threshold[t.feature >= 0]):
            cut = float32_cuts([th])[0]
            for v in (th, cut, np.nextafter(cut, np.inf), np.nextafter(cut, -np.inf)):
                row = np.nanmedian(Z, axis=0)
                row[f] = v
                probes.append(row)
    probes = np.array(probes)
    # the numba kernels apply the float32 rule as written, on every value
    assert np.array_equal(runtime.apply(probes), _numba_apply(runtime, probes))
    # scikit-learn splits NaN from the rest at threshold +inf, and refuses infinite input
    with np.errstate(over="ignore"):
        probes = probes[np.isfinite(probes.astype(np.float32)).all(axis=1)]
    expected = clip_proba(model.predict_proba(probes)[:, 1])
    assert np.abs(runtime.score_encoded(probes) - expected).max() < 1e-15


def _numba_apply(runtime, Z):
    """The leaves the numba kernels reach, which apply the float32 rule as written."""
    from tabdistill_runtime import kernels

    a = runtime.arrays
    tables = (a["feature"], a["right"], a["value"], a["flags"], a["cat_bounds"], a["cat_bits"])
    return kernels.tree_apply(Z, *tables, a["roots"])
