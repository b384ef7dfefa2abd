"""Fitting through Dask (the ``dask`` extra) on a small LocalCluster: same model as in one
process, the teacher's fits on the workers, from a Dask DataFrame, the CLI and the job."""

import json

import numpy as np
import pytest
from conftest import FAST_MEMBERS, mixed_frame

from tabdistill import DistilledClassifier
from tabdistill.cli.main import main
from tabdistill.ops.config import build_distiller, load_config

pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

PARAMS = dict(
    teacher={"members": {k: FAST_MEMBERS[k] for k in ("lightgbm", "random_forest", "logistic")}},
    student_params={"n_estimators": 30, "num_leaves": 7},
    augment_factors=(0, 1),
    alphas=(0.0, 1.0),
    random_state=0,
    n_jobs=1,
)


@pytest.fixture(scope="module")
def data():
    X, y = mixed_frame(1_500, seed=5, positive_rate=0.15)
    return X, y


@pytest.fixture(scope="module")
def single(data):
    return DistilledClassifier(**PARAMS).fit(*data)


def _task_names(stream):
    return " ".join(str(t.get("key")) for t in stream.data)


def test_fit_through_dask_equals_the_single_process_fit(data, single, dask_client):
    from distributed import get_task_stream

    from tabdistill.ops.dask_fit import distributed_fits

    X, y = data
    with get_task_stream(dask_client) as stream, distributed_fits(dask_client.scheduler.address):
        model = DistilledClassifier(**PARAMS).fit(X, y)
    names = _task_names(stream)
    # the teacher's fold fits, its refits and the labelling ran on the workers
    assert "fit_on_fold" in names and "fit_member" in names and "_label_chunk" in names
    np.testing.assert_allclose(model.predict_proba(X), single.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        model.teacher_.oof_proba_, single.teacher_.oof_proba_, rtol=0, atol=1e-12
    )
    assert model.teacher_.weights_ == single.teacher_.weights_
    assert model.report_["chosen"] == single.report_["chosen"]


def test_fit_dataframe_reads_partitions_and_weights(data, single, dask_client):
    from tabdistill.ops.dask_fit import fit_dataframe

    X, y = data
    frame = X.assign(target=y, w=1.0)
    ddf = dd.from_pandas(frame, npartitions=3)
    model = fit_dataframe(DistilledClassifier(**PARAMS), ddf, "target", sample_weight="w")
    assert list(model.feature_names_in_) == list(X.columns)  # the weight is not a feature
    # unit weights: the same model as the single-process fit without weights
    np.testing.assert_allclose(model.predict_proba(X), single.predict_proba(X), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match=r"no column \['label'\]"):
        fit_dataframe(DistilledClassifier(**PARAMS), ddf, "label")
    with pytest.raises(TypeError, match="dask.dataframe.DataFrame"):
        fit_dataframe(DistilledClassifier(**PARAMS), frame, "target")
    with pytest.raises(TypeError, match="fit_dataframe"):  # fit itself points the way
        DistilledClassifier(**PARAMS).fit(ddf.drop(columns=["target", "w"]), y)


def test_benchmark_cli_fits_through_dask(data, dask_client, tmp_path):
    X, y = data
    path = tmp_path / "toy.csv"
    X.assign(label=y).to_csv(path, index=False)
    fast = ["--members", "lightgbm,logistic", "--n-estimators", "20", "--augment-factors", "0,1"]
    fast += ["--latency-calls", "200", "--batch-rows", "1000", "--bootstrap", "0", "-q"]
    runs = {}
    for name, where in (("one", []), ("dask", ["--dask-scheduler", dask_client.scheduler.address])):
        out = tmp_path / f"{name}.json"
        assert (
            main(["benchmark", str(path), "--target", "label", *fast, "--json", str(out), *where])
            == 0
        )
        runs[name] = json.loads(out.read_text())["models"]
    for model in ("teacher", "student", "baseline"):
        assert runs["dask"][model]["roc_auc"] == pytest.approx(
            runs["one"][model]["roc_auc"], abs=1e-12
        )


def test_job_config_names_a_scheduler_and_lets_folds_scale(tmp_path):
    config = tmp_path / "job.toml"
    train = tmp_path / "train.csv"
    train.write_text("a,y\n1,0\n2,1\n")
    config.write_text(
        f'[data]\ntrain = "{train}"\ntarget = "y"\n[registry]\npath = "{tmp_path / "reg"}"\n'
        '[run]\ndask_scheduler = "local"\n'
    )
    loaded = load_config(config)
    assert loaded["run"]["dask_scheduler"] == "local"
    # no cv in the config: the teacher's own default, which drops to 3 folds on large data
    assert build_distiller(loaded).teacher.get("cv") is None


def test_a_local_cluster_for_fits_shares_one_worker_process(monkeypatch):
    """Fits on a local cluster run as threads of one worker process, so concurrent fits
    share one copy of the training rows; scoring keeps a single-threaded process per core."""
    import contextlib
    import types

    import distributed

    from tabdistill.ops import dask_scoring

    made = []

    class Cluster(contextlib.nullcontext):
        def __init__(self, **kwargs):
            made.append(kwargs)
            super().__init__()

    class Client(contextlib.nullcontext):
        def __init__(self, cluster):
            super().__init__(types.SimpleNamespace(name="client", dashboard_link="http://x"))

    monkeypatch.setattr(distributed, "LocalCluster", Cluster)
    monkeypatch.setattr(distributed, "Client", Client)
    monkeypatch.setattr(dask_scoring.os, "cpu_count", lambda: 4)
    for shared in (True, False):
        with dask_scoring.dask_client("local", shared_memory=shared) as client:
            assert client.name == "client"
    shape = [{k: m[k] for k in ("n_workers", "threads_per_worker", "processes")} for m in made]
    assert shape[0] == {"n_workers": 1, "threads_per_worker": 4, "processes": True}
    assert shape[1] == {"n_workers": 4, "threads_per_worker": 1, "processes": True}
    assert made[0]["dashboard_address"] == ":0"  # never the busy default port
