"""Small, fast, deterministic fixtures shared by the tests."""

import json

import numpy as np
import pandas as pd
import pytest

#: Teacher members small enough for tests: few trees, still one of each kind.
FAST_MEMBERS = {
    "lightgbm": {"n_estimators": 30, "num_leaves": 8},
    "xgboost": {"n_estimators": 30, "max_depth": 3},
    "random_forest": {"n_estimators": 20, "min_samples_leaf": 5},
    "logistic": {},
}

#: A distiller small enough for tests: the fast members, one size, two factors, one alpha;
#: LightGBM students even where the teacher is mostly linear (``"auto"`` is tested alone).
FAST_DISTILLER = {
    "teacher": {"members": FAST_MEMBERS, "cv": 3},
    "student": "lightgbm",
    "student_params": {"n_estimators": 30, "num_leaves": 7},
    "augment_factors": (0, 1),
    "alphas": (0.0,),
}


#: A retraining job small enough for tests; `job_config` writes it with a test's changes.
FAST_JOB = {
    "teacher": {"members": ["lightgbm", "logistic"], "cv": 3},
    "student": {"kind": "lightgbm", "params": {"n_estimators": 30, "num_leaves": 7}},
    "augment": {"factors": [0, 1], "alphas": [0.0]},
    "run": {"seed": 0},
}


def _toml_value(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string (paths included)


def job_config(**sections):
    """A job config's TOML text: `FAST_JOB` with each given section merged in.

    ``job_config(data={"train": path, "target": "y"}, gate={"max_p99_us": 1e6})``;
    a section given as None is left out.
    """
    merged = {name: dict(keys) for name, keys in FAST_JOB.items()}
    for name, keys in sections.items():
        if keys is None:
            merged.pop(name, None)
        else:
            merged[name] = {**merged.get(name, {}), **keys}
    order = ["data", "teacher", "student", "augment", "registry", "gate", "run"]
    names = sorted(merged, key=lambda n: order.index(n) if n in order else len(order))
    return "\n".join(
        f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in merged[name].items())
        for name in names
    )


def mixed_frame(n=600, seed=0, positive_rate=0.3):
    """Numeric + categorical + bool columns with NaN, and a target that depends on them."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(0, 10, size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    flag = rng.random(n) < 0.4
    count = rng.poisson(3, size=n)
    score = 1.5 * x1 - 0.3 * x2 + (color == "red") * 1.2 + flag * 0.8 + rng.normal(0, 0.5, n)
    y = (score > np.quantile(score, 1 - positive_rate)).astype(int)
    frame = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "color": pd.Categorical(color),
            "flag": flag,
            "count": count,
            "city": rng.choice(["paris", "lyon", "nice", "lille"], size=n).astype(object),
        }
    )
    frame.loc[rng.random(n) < 0.05, "x2"] = np.nan
    frame.loc[rng.random(n) < 0.05, "city"] = np.nan
    return frame, pd.Series(y, name="target")


@pytest.fixture
def mixed():
    return mixed_frame()


@pytest.fixture(scope="session")
def dask_client():
    """A small in-process LocalCluster: two single-threaded workers (shared by the Dask tests)."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def fitted():
    """A small distiller fit once for the whole session, with its rows: ``(model, X, y)``."""
    from tabdistill import DistilledClassifier

    X, y = mixed_frame(800, seed=1)
    return DistilledClassifier(**FAST_DISTILLER, random_state=0).fit(X, y), X, y
