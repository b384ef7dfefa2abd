"""Student sizes and what each costs a row: tree steps read off a booster."""

import lightgbm as lgb
import numpy as np
import pytest

from tabdistill.distill.sizes import round_steps


def _depths_from_dump(booster, rounds, trees_per_round=1):
    """Each round's trees' depths summed, walked through the booster's JSON dump."""
    depths = []
    for tree in booster.dump_model(num_iteration=rounds)["tree_info"]:
        deepest, stack = 0, [(tree["tree_structure"], 0)]
        while stack:
            node, d = stack.pop()
            deepest = max(deepest, d)
            if "split_index" in node:
                stack += [(node["left_child"], d + 1), (node["right_child"], d + 1)]
        depths.append(deepest)
    return np.asarray(depths, dtype=float).reshape(-1, trees_per_round).sum(axis=1)


@pytest.mark.parametrize(
    "params",
    [
        {"num_leaves": 63},  # unbalanced trees
        {"num_leaves": 255, "max_depth": 5},
        {"num_leaves": 7, "min_data_in_leaf": 1500},  # no split allowed: trees of one leaf
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_round_steps_are_each_rounds_tree_depths(params, n_classes):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2000, 5))
    Z[:, 4] = rng.integers(0, 12, len(Z))  # a categorical column
    y = np.digitize(Z[:, 0] + Z[:, 1] * Z[:, 2] + (Z[:, 4] % 3), [0.5, 1.5][: n_classes - 1])
    objective = (
        {"objective": "binary"}
        if n_classes == 2
        else {
            "objective": "multiclass",
            "num_class": n_classes,
        }
    )
    booster = lgb.train(
        {**params, **objective, "min_data_per_group": 5, "verbose": -1, "num_threads": 1},
        lgb.Dataset(Z, y, categorical_feature=[4]),
        num_boost_round=30,
    )
    per_round = 1 if n_classes == 2 else n_classes
    for rounds in (None, 1, 7):
        expected = _depths_from_dump(booster, rounds, per_round)
        np.testing.assert_array_equal(round_steps(booster, rounds, per_round), expected)
    steps = round_steps(booster, None, per_round)
    assert len(steps) == booster.current_iteration()
    assert (steps.max() == 0) == ("min_data_in_leaf" in params)  # one leaf takes no step
