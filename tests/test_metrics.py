import numpy as np
import pytest
from sklearn import metrics as skm

from tabdistill import metrics
from tabdistill.exceptions import DataError

rng = np.random.default_rng(0)
Y = rng.integers(0, 2, 500)
P = np.clip(Y * 0.3 + rng.uniform(0, 0.7, 500), 0, 1)
W = rng.uniform(0.5, 2, 500)


@pytest.mark.parametrize("w", [None, W])
def test_against_scikit_learn(w):
    assert metrics.roc_auc(Y, P, w) == pytest.approx(skm.roc_auc_score(Y, P, sample_weight=w))
    assert metrics.average_precision(Y, P, w) == pytest.approx(
        skm.average_precision_score(Y, P, sample_weight=w)
    )
    assert metrics.log_loss(Y, P, w) == pytest.approx(
        skm.log_loss(Y, np.clip(P, 1e-7, 1 - 1e-7), sample_weight=w)
    )
    assert metrics.brier(Y, P, w) == pytest.approx(skm.brier_score_loss(Y, P, sample_weight=w))


def test_ece_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 0.7])
    # bins: [0.1, 0.1] -> |0 - 0.1|, [0.7] -> |1 - 0.7|, [0.9] -> |1 - 0.9|
    assert metrics.expected_calibration_error(y, p) == pytest.approx(
        0.5 * 0.1 + 0.25 * 0.3 + 0.25 * 0.1
    )
    assert metrics.expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0


def test_recall_at_fpr_by_hand_with_ties():
    y = np.array([0] * 100 + [1] * 4)
    p = np.concatenate([np.linspace(0, 0.5, 99), [0.9], [0.95, 0.9, 0.2, 0.1]])
    # one negative at 0.9 ties with a positive: flagging 0.9 costs FPR 1% -> recall 2/4
    assert metrics.recall_at_fpr(y, p, 0.01) == pytest.approx(0.5)
    assert metrics.recall_at_fpr(y, p, 0.0) == pytest.approx(0.25)
    assert metrics.threshold_at_fpr(y, p, 0.01) == pytest.approx(0.9)


def test_precision_at_top_by_hand_with_ties():
    y = np.array([1, 0, 1, 0] + [0] * 196)
    p = np.array([0.9, 0.8, 0.8, 0.8] + [0.1] * 196)
    # top 1% of 200 rows = 2 rows: 0.9 (a positive), then one of three tied at 0.8 (1/3 positive)
    assert metrics.precision_at_top(y, p, 0.01) == pytest.approx((1 + 1 / 3) / 2)
    # order does not matter
    order = rng.permutation(200)
    assert metrics.precision_at_top(y[order], p[order], 0.01) == pytest.approx((1 + 1 / 3) / 2)


def test_fidelity():
    f = metrics.fidelity(Y, P, P)
    assert f == {"spearman": 1.0, "mean_abs_diff": 0.0, "agreement_at_1pct_fpr": 1.0}
    g = metrics.fidelity(Y, P, 1 - P)
    assert g["spearman"] == pytest.approx(-1.0) and g["mean_abs_diff"] > 0.2


@pytest.mark.parametrize(
    "fn",
    [
        metrics.roc_auc,
        metrics.average_precision,
        metrics.log_loss,
        metrics.recall_at_fpr,
        metrics.precision_at_top,
        metrics.classification_metrics,
    ],
)
def test_no_positives_is_a_clear_error(fn):
    with pytest.raises(DataError, match="no positive rows"):
        fn(np.zeros(10), np.linspace(0, 1, 10))


def test_bad_inputs():
    with pytest.raises(DataError, match="differ in length"):
        metrics.roc_auc([0, 1], [0.5])
    with pytest.raises(DataError, match="NaN"):
        metrics.roc_auc([0, 1], [0.5, np.nan])
    with pytest.raises(ValueError, match="unknown selection metric"):
        metrics.score("f1", [0, 1], [0.1, 0.9])
    assert metrics.score("log_loss", [0, 1], [0.1, 0.9]) < 0  # losses are negated


def test_ranked_scores_match_scikit_learn_with_ties_and_weights():
    from sklearn import metrics as skm

    from tabdistill.metrics import RankedScores, bootstrap_intervals, stratified_resamples

    rng = np.random.default_rng(3)
    y = (rng.random(3_000) < 0.1).astype(int)
    for p in (np.round(rng.random(3_000), 2) + 0.1 * y, rng.random(3_000) + 0.2 * y):
        ranked = RankedScores(y, p)
        for w in (np.ones(3_000), rng.integers(0, 4, 3_000).astype(float)):
            assert ranked.roc_auc(w) == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w))
            assert ranked.average_precision(w) == pytest.approx(
                skm.average_precision_score(y, p, sample_weight=w)
            )
    # the bootstrap scores the resamples one would get by indexing
    counts = next(stratified_resamples(y, 1, random_state=5))
    draw = np.random.default_rng(5)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    idx = np.concatenate([draw.choice(pos, len(pos)), draw.choice(neg, len(neg))])
    np.testing.assert_array_equal(counts, np.bincount(idx, minlength=len(y)))
    one = bootstrap_intervals(y, {"m": p}, n_boot=1, random_state=5)["m"]["roc_auc"]
    assert one["low"] == pytest.approx(skm.roc_auc_score(y[idx], p[idx]))


def test_bootstrap_intervals_of_k_class_scores_score_the_indexed_resample():
    from tabdistill.metrics import bootstrap_intervals, log_loss, roc_auc

    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 600)
    P = rng.dirichlet(np.ones(3), 600) + 0.3 * np.eye(3)[y]
    P /= P.sum(axis=1, keepdims=True)
    draw = np.random.default_rng(7)
    idx = np.concatenate(
        [draw.choice(g, len(g)) for g in (np.flatnonzero(y == c) for c in (2, 1, 0))]
    )
    one = bootstrap_intervals(y, {"m": P}, n_boot=1, random_state=7)["m"]
    assert one["roc_auc"]["low"] == pytest.approx(roc_auc(y[idx], P[idx]))
    assert one["log_loss"]["low"] == pytest.approx(log_loss(y[idx], P[idx]))
    assert one["roc_auc"]["estimate"] == pytest.approx(roc_auc(y, P))


def test_the_teacher_lead_is_real_only_when_its_interval_excludes_zero():
    from tabdistill.evaluate.benchmark import teacher_lead

    def intervals(low, high):
        return {
            "teacher-baseline": {
                "roc_auc": {"estimate": (low + high) / 2, "low": low, "high": high}
            }
        }

    assert teacher_lead(intervals(0.001, 0.02))["verdict"] == "real"
    assert teacher_lead(intervals(-0.001, 0.02))["verdict"] == "noise"
    assert teacher_lead(intervals(-0.02, -0.001))["verdict"] == "behind"
    assert "spans 0" in teacher_lead(intervals(-0.001, 0.02))["text"]
    assert teacher_lead(None) is None
