"""Batch scoring through Dask: a Dask DataFrame, or a glob of CSV / Parquet files.

Needs the ``dask`` extra (``pip install "tabdistill[dask]"``). Each partition
is encoded with the schema stored in the model and scored by the compiled
runtime (``map_partitions``), so the result equals single-process scoring row
for row. The runtime travels to the workers as its file bytes (never a
pickle) and is loaded once per worker process.

Where the work runs is Dask's choice: the active ``distributed`` client if
there is one, else the scheduler given (``scheduler=``, ``--dask-scheduler``):
``"local"`` starts a ``LocalCluster`` on this machine for the call, an
address such as ``tcp://10.0.0.5:8786`` joins a running cluster (its workers
must reach the input and output paths).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from tabdistill_runtime import CompiledModel

from ..exceptions import ConfigError, DataError, TabDistillError
from .config import check_scheduler_address
from .registry import load_runtime, scorer_text
from .scoring import CHUNK_READ_ERRORS as READ_ERRORS
from .scoring import FrameScorer, _check_header, check_scoring

logger = logging.getLogger(__name__)

#: Input formats by file name ending.
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".gz": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _require_dask():
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "Dask scoring needs the dask extra: pip install 'tabdistill[dask]'."
        ) from None
    return dd


@functools.lru_cache(maxsize=4)
def _runtime_from_bytes(digest: str, blob: bytes) -> CompiledModel:
    """The runtime of ``blob``, loaded once per process (``digest`` keys the cache)."""
    return CompiledModel.load(blob)


def _score_partition(frame, blob, digest, manifest, id_column, n_threads, reasons=0, strict=False):
    runtime = _runtime_from_bytes(digest, blob)
    runtime.n_threads = n_threads
    return FrameScorer(manifest, runtime, id_column, reasons)(frame, strict=strict)


def _meta(manifest, runtime, id_column, reasons=0) -> pd.DataFrame:
    """The empty frame with the output's columns and dtypes (what Dask needs up front)."""
    k = runtime.n_outputs
    scores = np.empty((0, k)) if k > 1 else np.empty(0)
    out = pd.DataFrame({**FrameScorer(manifest, runtime).columns(scores), "model_version": ""})
    for r in range(min(reasons, len(runtime.reason_names))):
        out[f"reason_{r + 1}"] = pd.Series([], dtype=str)
        out[f"reason_{r + 1}_value"] = pd.Series([], dtype=np.float64)
    out = out.iloc[:0].astype({"model_version": type(manifest["version"])})
    if id_column:
        out.insert(0, id_column, pd.Series([], dtype=str))
    return out


def score_dataframe(
    model, ddf, *, id_column=None, n_threads=1, reasons=0, scorer="student", strict=False
):
    """Score a Dask DataFrame partition by partition with a registered model.

    Parameters
    ----------
    model : str, path-like or (manifest, CompiledModel)
        A registry (its production model) or version directory, or what
        :func:`~tabdistill.ops.registry.load_runtime` returned.
    ddf : dask.dataframe.DataFrame
        Rows to score, with the model's input columns.
    id_column : str, default=None
        Input column copied to the output.
    n_threads : int, default=1
        Threads the runtime uses within a partition (Dask already runs
        partitions in parallel).
    reasons : int, default=0
        Add each row's reason codes (``reason_1``, ``reason_1_value``, ...), as
        :func:`~tabdistill.ops.scoring.score_csv` does (the student only).
    scorer : {"student", "teacher"}, default="student"
        The runtime of the version to load when ``model`` is a path: its compiled
        student, or its compiled teacher.
    strict : bool, default=False
        Raise a :class:`~tabdistill.exceptions.DataError` at values the model's
        columns cannot read, instead of scoring them as missing with a warning.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy: ``[id_column,] probability (or probability_<class>), decision,
        model_version``, partitioned and indexed as ``ddf``.
    """
    check_scoring(scorer, reasons)
    _require_dask()
    manifest, runtime = load_runtime(model, scorer) if isinstance(model, str | Path) else model
    missing = [c for c in runtime.schema.input_columns if c not in ddf.columns]
    if id_column and id_column not in ddf.columns:
        missing.append(id_column)
    if missing:
        raise DataError(f"the Dask DataFrame lacks {len(missing)} column(s) needed: {missing}.")
    blob = runtime.to_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    return ddf.map_partitions(
        _score_partition,
        blob,
        digest,
        manifest,
        id_column,
        n_threads,
        reasons,
        strict,
        meta=_meta(manifest, runtime, id_column, reasons),
    )


@contextlib.contextmanager
def dask_client(scheduler=None, *, shared_memory=False):
    """The ``distributed`` client to compute with: the active one, else ``scheduler``.

    ``scheduler`` is None (the active client, else Dask's default threads),
    ``"local"`` (a ``LocalCluster`` for the duration) or a scheduler address.
    The local cluster has one single-threaded worker process per core, or with
    ``shared_memory`` one worker process with a thread per core: its tasks then
    share one copy of the data they read (what fitting large tables needs; the
    fits release the GIL).
    """
    if scheduler is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "--dask-scheduler needs the dask extra: pip install 'tabdistill[dask]'."
        ) from None
    try:
        address = check_scheduler_address(scheduler)
    except ValueError as exc:
        raise ConfigError(f"Dask scheduler: {exc}") from None
    # the workers' own logs (a failed task, every start and stop) would repeat on stderr what
    # the error raised here says once; --verbose shows them
    quiet = not logger.isEnabledFor(logging.DEBUG)
    if address == "local":
        cores = os.cpu_count() or 1
        workers, threads = (1, cores) if shared_memory else (cores, 1)
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=threads,
                processes=True,
                dashboard_address=":0",  # any free port: never 'port 8787 is already in use'
                silence_logs=logging.CRITICAL if quiet else logging.WARNING,
            ) as cluster,
            Client(cluster) as client,
        ):
            logger.info("Dask dashboard: %s", client.dashboard_link)
            yield client
        return
    try:
        client = Client(address)
    except (OSError, ValueError, TimeoutError) as exc:
        raise ConfigError(
            f"cannot connect to the Dask scheduler '{address}': {' '.join(str(exc).split())}. "
            "Start it first, check the address, or use 'local'."
        ) from None
    with client:
        yield client


def input_format(pattern) -> str:
    """``"csv"`` or ``"parquet"`` from the file names of ``pattern``."""
    name = str(pattern).lower()
    for ending, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(ending):
            return fmt
    raise DataError(
        f"cannot tell the format of '{pattern}': name CSV files *.csv or *.csv.gz, "
        "Parquet files *.parquet."
    )


def _rows_written(folder: Path, fmt: str) -> int:
    """Data rows in the part files of ``folder``."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))
    return sum(len(pd.read_csv(p, usecols=[0])) for p in folder.glob("*.csv"))


def _chunks(file, fmt, scorer, read_options, rows=100_000):
    """The rows of one input file, a chunk at a time, read as one process reads them."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(file).iter_batches(batch_size=rows):
            yield batch.to_pandas()
    else:
        yield from pd.read_csv(file, chunksize=rows, dtype=scorer.text_columns, **read_options)


def _diagnose(files, fmt, scorer, read_options) -> None:
    """After Dask failed to score ``files``: score them one by one, as a single process does,
    strays included (``strict``), and raise that process's error with the file it is about (a
    column of numbers holding text in one file fails Dask's dtype check with a message about
    Dask, not about the data). Returns if every file scores (the failure was Dask's own)."""
    from ..data.io import csv_error

    for file in files:
        try:
            for chunk in _chunks(file, fmt, scorer, read_options):
                scorer(chunk, strict=True)
        except TabDistillError as exc:
            hint = (
                " Dask needs numbers in the numeric columns of every file: fix the file, or "
                "score it in one process (without --dask-scheduler), which reads such values "
                "as missing with a warning."
            )
            raise type(exc)(f"input '{file}': {exc}{hint}") from None
        except READ_ERRORS as exc:
            raise csv_error(file, exc) from None


def score_files(
    model,
    pattern,
    output_dir,
    *,
    id_column=None,
    scheduler=None,
    overwrite=False,
    blocksize="64MB",
    reasons=0,
    scorer="student",
    strict=False,
    read_options=None,
) -> int:
    """Score every file matching ``pattern`` (CSV or Parquet) through Dask into ``output_dir``.

    The output folder holds one part file per partition, in the input's
    format. It is written to a temporary folder beside it and renamed into
    place once every row is scored: a failed run leaves no partial output,
    and an existing folder is replaced only with ``overwrite``.

    Parameters
    ----------
    model : str or path-like
        A registry (its production model) or a version directory.
    pattern : str
        A file or glob (``data/2026-*.csv.gz``, ``batch/*.parquet``).
    output_dir : str or path-like
    id_column : str, default=None
    scheduler : str, default=None
        See :func:`dask_client`.
    overwrite : bool, default=False
    blocksize : str or int, default="64MB"
        Bytes per partition of plain CSV files (compressed ones are one
        partition each).
    reasons : int, default=0
        Add each row's reason codes, as :func:`~tabdistill.ops.scoring.score_csv` does.
    scorer : {"student", "teacher"}, default="student"
        Score with the version's compiled student or its compiled teacher, as
        :func:`~tabdistill.ops.scoring.score_csv` does.
    strict : bool, default=False
        Stop with an error at values the model's columns cannot read, as
        :func:`~tabdistill.ops.scoring.score_csv` does.
    read_options : dict, default=None
        How CSV inputs are written (``sep``, ``decimal``), as
        :func:`~tabdistill.ops.scoring.score_csv` reads them; the parts are written with commas.

    Returns
    -------
    int
        Rows scored.
    """
    check_scoring(scorer, reasons)
    read_options = read_options or {}
    dd = _require_dask()
    files = sorted(glob.glob(str(pattern)))
    if not files:
        raise DataError(f"no input file matches '{pattern}'.")
    fmt = input_format(files[0])
    output_dir = Path(output_dir)
    if output_dir.exists() and not overwrite:
        raise DataError(f"output '{output_dir}' exists; pass --overwrite to replace it.")
    if not output_dir.parent.is_dir():
        raise DataError(f"the output folder '{output_dir.parent}' does not exist: create it first.")
    manifest, runtime = load_runtime(model, scorer)
    logger.info(
        "scoring with the %s of version %s", scorer_text(manifest, scorer), manifest["version"]
    )
    frame_scorer = FrameScorer(manifest, runtime, id_column)
    if fmt == "csv":
        _check_header(Path(files[0]), runtime, id_column, read_options)
        compressed = any(f.lower().endswith(".gz") for f in files)
        ddf = dd.read_csv(
            files,
            dtype=frame_scorer.text_columns,
            blocksize=None if compressed else blocksize,
            **read_options,
        )
    else:
        ddf = dd.read_parquet(files)
    scored = score_dataframe(
        (manifest, runtime), ddf, id_column=id_column, reasons=reasons, strict=strict
    )
    tmp = output_dir.with_name(f".partial-{os.getpid()}-{output_dir.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with dask_client(scheduler):
            if fmt == "csv":
                scored.to_csv(str(tmp / "part-*.csv"), index=False)
            else:
                scored.to_parquet(str(tmp), write_index=False)
        # counted from the written parts: a row count computed with the write would score
        # every partition twice
        rows = _rows_written(tmp, fmt)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(tmp, output_dir)
    except TabDistillError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        # the error one process gives, naming the file
        _diagnose(files, fmt, frame_scorer, read_options)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("scored %d rows of %d file(s) through Dask", rows, len(files))
    return int(rows)
