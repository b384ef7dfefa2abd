"""Fitting through Dask: the teacher's fits and its labelling run on a cluster's workers.

Needs the ``dask`` extra (``pip install "tabdistill[dask]"``). The work is
spread with joblib's own Dask backend (``joblib.parallel_config(backend="dask")``),
the way scikit-learn estimators scale out; nothing here schedules tasks itself.
What runs where:

- **teacher**: every (member, fold) fit of the cross-fitting, then the refit of
  each member on all rows, is one task on a worker (the first fold first: on
  large data its held-out rows decide which members earn no weight);
- **labelling**: the synthetic rows are scored by the teacher in chunks of
  50,000 rows, one task each;
- **in this process**: collecting the partitions, encoding, the validation
  split, the augmenter and the students. Their cost is bounded whatever the
  rows: MUNGE searches neighbours in a pool of at most 20,000 rows and makes at
  most 2 x 100,000 synthetic rows; the student search compares candidates on a
  100,000-row subsample, and only the chosen student and baseline are fit on
  every row, by the single-process LightGBM (whose result ``lightgbm.dask``
  would not reproduce: its data-parallel trees differ). The encoded training
  rows must therefore fit this process's memory (3M rows x 100 columns:
  2.4 GB of float64).

The teacher's fits are the same fits with the same seeds wherever they run, so
a fit through Dask equals the single-process fit (``tests/ops/test_dask.py``
compares the predictions to 1e-12). Under a time limit the teacher re-plans
after each fold from the time fits took, so its folds then run one after
another in this process.
"""

from __future__ import annotations

import contextlib
import logging

from ..exceptions import DataError
from .dask_scoring import _require_dask, dask_client

logger = logging.getLogger(__name__)


def _active_client():
    """The ``distributed`` client of this process, or None."""
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - exercised without the extra
        return None
    try:
        return get_client()
    except ValueError:
        return None


@contextlib.contextmanager
def distributed_fits(scheduler=None):
    """Inside, a fit's independent work runs on a Dask cluster's workers.

    Parameters
    ----------
    scheduler : str, default=None
        ``"local"`` (a ``LocalCluster`` for the duration: one worker process
        with a thread per core, so concurrent fits share one copy of the
        training rows -- two single-threaded workers held two, and a 3M-row fit
        ran out of 24 GiB), a scheduler address (``tcp://10.0.0.5:8786``), or
        None: the active ``distributed`` client if there is one, else nothing
        changes (the fit runs in this process).

    Yields
    ------
    distributed.Client or None
    """
    with dask_client(scheduler, shared_memory=True) as client:
        client = client or _active_client()
        if client is None:
            yield None
            return
        import joblib

        workers = len(client.scheduler_info().get("workers", {}))
        logger.info("fitting through Dask: %s, %d worker(s)", client.scheduler.address, workers)
        with joblib.parallel_config(backend="dask", client=client):
            yield client


def fits_on(scheduler):
    """:func:`distributed_fits` when ``scheduler`` names one, else nothing changes (what
    ``--dask-scheduler`` and ``run.dask_scheduler`` do)."""
    return distributed_fits(scheduler) if scheduler else contextlib.nullcontext()


def fit_dataframe(estimator, ddf, target, *, sample_weight=None, scheduler=None):
    """Fit ``estimator`` on a Dask DataFrame, its teacher's work spread over the cluster.

    Parameters
    ----------
    estimator : DistilledClassifier or TeacherEnsemble
        Fitted in place.
    ddf : dask.dataframe.DataFrame
        Training rows: the feature columns and ``target``.
    target : str
        Name of the target column.
    sample_weight : str, default=None
        Name of a column of sample weights (not a feature).
    scheduler : str, default=None
        Where the work runs; see :func:`distributed_fits`.

    Returns
    -------
    estimator
        Fitted.

    Examples
    --------
    >>> import dask.dataframe as dd                                  # doctest: +SKIP
    >>> from tabdistill import DistilledClassifier
    >>> from tabdistill.ops.dask_fit import fit_dataframe
    >>> ddf = dd.read_parquet("transactions/*.parquet")              # doctest: +SKIP
    >>> model = fit_dataframe(DistilledClassifier(), ddf, "is_fraud", scheduler="local")
    ... # doctest: +SKIP
    """
    _require_dask()
    if not hasattr(ddf, "npartitions") or not hasattr(ddf, "columns"):
        raise TypeError(
            f"fit_dataframe fits a dask.dataframe.DataFrame, got {type(ddf).__name__}; "
            "fit a pandas DataFrame with the estimator's own fit."
        )
    missing = [c for c in (target, sample_weight) if c is not None and c not in ddf.columns]
    if missing:
        raise DataError(
            f"the Dask DataFrame has no column {missing}; its columns are {list(ddf.columns)}."
        )
    with distributed_fits(scheduler):
        frame = ddf.compute()
        logger.info("%d rows from %d partitions", len(frame), ddf.npartitions)
        y = frame.pop(target)
        w = None if sample_weight is None else frame.pop(sample_weight).to_numpy()
        estimator.fit(frame.reset_index(drop=True), y.reset_index(drop=True), sample_weight=w)
    return estimator
