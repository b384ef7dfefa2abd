import numpy as np
import pandas as pd
import pytest

from tabdistill.data import TabularEncoder
from tabdistill.distill.augment import (
    AUGMENTERS,
    FeatureSpec,
    MungeAugmenter,
    make_augmenter,
    seed_indices,
)


@pytest.fixture
def encoded(mixed):
    X, y = mixed
    enc = TabularEncoder().fit(X)
    return enc, enc.transform(X), y.to_numpy()


@pytest.mark.parametrize("name", sorted(AUGMENTERS))
def test_augmenter_keeps_columns_dtypes_levels_and_ranges(name, encoded):
    enc, Z, y = encoded
    rows, seeds = make_augmenter(name).sample(
        Z, 1_500, FeatureSpec.from_encoder(enc), y=y, random_state=0
    )
    assert rows.shape == (1_500, Z.shape[1]) and seeds.shape == (1_500,)
    frame = enc.inverse_transform(rows)
    assert list(frame.columns) == enc.features_
    for col in ("color", "flag", "city"):
        assert isinstance(frame[col].dtype, pd.CategoricalDtype)
        assert set(frame[col].dropna().unique()) <= set(enc.categories_[col])
    codes = rows[:, enc.categorical_mask_]
    assert np.all(np.isnan(codes) | (codes == np.round(codes)))
    count = enc.features_.index("count")
    assert np.all(rows[:, count] == np.round(rows[:, count]))
    finite = np.where(np.isnan(rows), enc.lower_, rows)
    assert np.all(finite >= enc.lower_) and np.all(finite <= enc.upper_)
    # NaN stays plausible: only where the data had NaN
    assert not np.isnan(rows[:, enc.features_.index("x1")]).any()
    assert np.isnan(rows[:, enc.features_.index("x2")]).any()


@pytest.mark.parametrize("name", sorted(AUGMENTERS))
def test_augmenter_is_reproducible(name, encoded):
    enc, Z, y = encoded
    spec = FeatureSpec.from_encoder(enc)
    a, _ = make_augmenter(name).sample(Z, 300, spec, y=y, positive_share=0.5, random_state=4)
    b, _ = make_augmenter(name).sample(Z, 300, spec, y=y, positive_share=0.5, random_state=4)
    c, _ = make_augmenter(name).sample(Z, 300, spec, y=y, positive_share=0.5, random_state=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.nan_to_num(a), np.nan_to_num(c))


def test_munge_with_p_zero_reproduces_its_input(encoded):
    enc, Z, _ = encoded
    rows, seeds = MungeAugmenter(p=0.0).sample(
        Z, len(Z), FeatureSpec.from_encoder(enc), random_state=0
    )
    np.testing.assert_array_equal(rows, Z)
    np.testing.assert_array_equal(seeds, np.arange(len(Z)))


def test_munge_moves_values_towards_neighbours(encoded):
    enc, Z, _ = encoded
    rows, seeds = MungeAugmenter(p=1.0, s=1e6).sample(
        Z, len(Z), FeatureSpec.from_encoder(enc), random_state=0
    )
    # with p=1 and a huge s every value is (almost exactly) a neighbour's, never the row's own
    x1 = enc.features_.index("x1")
    assert np.mean(np.isclose(rows[:, x1], Z[seeds, x1])) < 0.05
    nearest_data_value = np.abs(rows[:, x1, None] - Z[None, :, x1]).min(axis=1)
    assert np.all(nearest_data_value < 1e-4)


def test_rare_class_emphasis_seeds_from_positives():
    y = np.zeros(1_000, dtype=int)
    y[:10] = 1
    seeds = seed_indices(2_000, 1_000, y, positive_share=0.25, rng=0)
    assert np.isclose(y[seeds].mean(), 0.25)
    assert np.array_equal(seed_indices(5, 3), [0, 1, 2, 0, 1])
