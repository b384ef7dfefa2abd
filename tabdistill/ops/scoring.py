"""Batch scoring of CSV files with a registered model, in bounded memory.

The input is read in chunks, each chunk encoded with the schema stored in the
model's manifest and scored by the compiled runtime (the student, or with
``scorer="teacher"`` the compiled teacher of the version), and the output written to
a temporary file that is renamed into place only when every row is scored:
a failed run leaves no partial output and never replaces an existing file
unless asked to.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._progress import progress
from .._suggest import did_you_mean
from ..data.encoder import TabularEncoder
from ..data.io import READ_ERRORS, csv_error, is_parquet, parquet_batches, table_columns
from ..exceptions import ArtifactError, ConfigError, DataError, SchemaError
from .registry import check_scorer, load_runtime, scorer_text

logger = logging.getLogger(__name__)

#: Reading errors of the input while it is scored. Not ValueError: a value error there comes
#: from the encoder or the model, and says so itself. Not a plain OSError either: the output
#: may fail to be written (a full disk), which is not the input's fault.
CHUNK_READ_ERRORS = tuple(e for e in READ_ERRORS if e not in (ValueError, OSError)) + (
    gzip.BadGzipFile,
)


_NO_TEACHER_REASONS = (
    "reason codes (--reasons) are computed for the student, not the compiled teacher: leave "
    "out --reasons to score with the teacher, or score with the student (--scorer student) to "
    "get them."
)


def check_scoring(scorer, reasons=0) -> None:
    """Refuse, before any work, a scorer a version cannot hold, and reason codes for the
    teacher (they are computed for the student).

    Raises
    ------
    ConfigError
        For a ``scorer`` other than ``"student"`` or ``"teacher"``, or ``reasons`` with
        the teacher.
    """
    if check_scorer(scorer) == "teacher" and reasons:
        raise ConfigError(_NO_TEACHER_REASONS)


def _check_header(input_path, runtime, id_column, read_options):
    columns = table_columns(input_path, **read_options)
    missing = [c for c in runtime.schema.input_columns if c not in columns]
    if missing:
        hint = did_you_mean(missing[0], set(columns) - set(runtime.schema.input_columns))
        raise SchemaError(
            f"input '{input_path}' lacks {len(missing)} column(s) the model needs: {missing}."
            + hint
        )
    if id_column and id_column not in columns:
        raise SchemaError(
            f"id column '{id_column}' is not in input '{input_path}'."
            + did_you_mean(id_column, columns)
        )


def decision_threshold(manifest, runtime) -> float:
    """The threshold of a binary version's decisions by ``runtime``.

    The student's (``decision.threshold``, 0.5 for versions written before thresholds
    were recorded), or for the compiled teacher (kind ``"blend"``) the teacher's own
    (``decision.teacher_threshold``: the same rule met by the teacher's validation
    probabilities). A version written before the teacher's was recorded has the
    student's rule: a fixed probability is the teacher's threshold too.

    Raises
    ------
    ArtifactError
        For the compiled teacher of a version that records no threshold for it and
        whose rule is a target met on validation rows (``{"fpr": 0.01}``...), which the
        version does not keep: it says to write the version again or score the student.
    """
    decision = manifest.get("decision") or {}
    if runtime.kind != "blend":
        return float(decision.get("threshold", 0.5))
    if "teacher_threshold" in decision:
        return float(decision["teacher_threshold"])
    rule = decision.get("rule", 0.5)
    if isinstance(rule, int | float) and not isinstance(rule, bool):
        return float(rule)
    raise ArtifactError(
        f"version '{manifest.get('version', '?')}' records no decision threshold for its "
        f"compiled teacher, and its rule {json.dumps(rule)} is met on validation rows the "
        "version does not keep (the student's threshold would not meet it for the teacher). "
        "Fit and save it again with this release (tabdistill retrain, or tabdistill "
        "benchmark --save) to record the teacher's threshold, or score with the student "
        "(--scorer student)."
    )


def _columns(manifest, runtime):
    """``scores -> output columns`` of a version: binary or K classes."""
    decision = manifest.get("decision") or {}
    classes = manifest.get("classes", ["0", "1"])
    if runtime.n_outputs > 1:
        if len(classes) != runtime.n_outputs:
            raise DataError(
                f"the model's manifest names {len(classes)} classes for a runtime of "
                f"{runtime.n_outputs} outputs."
            )
        names = [f"probability_{c}" for c in classes]

        def columns(P):
            return {
                **dict(zip(names, P.T)),
                "decision": np.asarray(classes, dtype=object)[np.argmax(P, axis=1)],
            }

        return columns
    threshold = decision_threshold(manifest, runtime)
    labels = (
        decision.get("negative_label", classes[0]),
        decision.get("positive_label", classes[-1]),
    )

    def columns(p):
        return {"probability": p, "decision": np.where(p >= threshold, labels[1], labels[0])}

    return columns


class FrameScorer:
    """Scores a table's rows with a registered model: ``[id_column,] probability (or one
    ``probability_<class>`` a class), decision, model_version`` columns.

    Shared by :func:`score_csv` (chunks of one file) and the Dask path (partitions).

    Parameters
    ----------
    manifest : dict
        The model version's manifest (classes, decision threshold, version).
    runtime : CompiledModel
    id_column : str, default=None
        Input column copied to the output.
    reasons : int, default=0
        Add each row's ``reasons`` reason codes: ``reason_1``, ``reason_1_value``, ...
        (the input columns that raised its score most and their contributions, see
        :mod:`tabdistill_runtime.explain`). The runtime's explainer is then prepared
        here (``runtime.prepare_reasons()``), before any row is scored.
    """

    def __init__(self, manifest, runtime, id_column=None, reasons=0):
        self.manifest, self.runtime, self.id_column = manifest, runtime, id_column
        if reasons and runtime.kind == "blend":  # a compiled teacher
            raise ConfigError(_NO_TEACHER_REASONS)
        self.reasons = reasons
        if reasons:  # the explainer's tables, built now rather than by the first chunk
            runtime.prepare_reasons()
        self.columns = _columns(manifest, runtime)
        schema = runtime.schema
        self.encoder = TabularEncoder.from_schema(schema)  # pandas' fast path for large chunks
        #: ``read_csv`` dtypes: categorical columns (and the id) are read as text
        self.text_columns = {
            schema.source(c): str for c in schema.features if schema.roles[c] != "numeric"
        }
        if id_column:
            self.text_columns[id_column] = str

    def __call__(self, frame, strict=False) -> pd.DataFrame:
        Z = self.encoder.encode(frame[self.runtime.schema.input_columns], strict=strict)
        scores, reasons = self.runtime.score_encoded(Z, reasons=self.reasons), {}
        if self.reasons:
            scores, names, values = scores
            for r in range(names.shape[1]):
                reasons[f"reason_{r + 1}"] = names[:, r]
                reasons[f"reason_{r + 1}_value"] = values[:, r]
        out = pd.DataFrame(
            {
                **self.columns(scores),
                "model_version": self.manifest["version"],
                **reasons,
            },
            index=frame.index,
        )
        if self.id_column:
            out.insert(0, self.id_column, frame[self.id_column].to_numpy())
        return out


class _ScoresFile:
    """The scores of a file, written a chunk at a time: CSV (compressed by its name) or,
    for a ``*.parquet`` / ``*.pq`` name, Parquet (one row group a chunk; needs pyarrow)."""

    def __init__(self, path):
        self.path, self.parquet, self._writer, self._started = Path(path), None, None, False
        if is_parquet(path):
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise ConfigError(
                    f"writing the Parquet file '{path}' needs pyarrow, which is not installed: "
                    "pip install 'tabdistill[parquet]', or name a CSV output."
                ) from None
            self.parquet = (pa, pq)

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet is None:
            frame.to_csv(
                self.path, mode="a" if self._started else "w", header=not self._started, index=False
            )
        else:
            pa, pq = self.parquet
            if self._writer is None:
                schema = pa.Schema.from_pandas(frame, preserve_index=False)
                self._writer = pq.ParquetWriter(self.path, schema)
            table = pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False)
            self._writer.write_table(table)
        self._started = True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def score_csv(
    model,
    input_path,
    output_path,
    *,
    id_column=None,
    chunk_size=100_000,
    overwrite=False,
    reasons=0,
    strict=False,
    scorer="student",
    read_options=None,
) -> int:
    """Score ``input_path``; write ``[id_column,] probability, decision, model_version`` rows.

    ``decision`` is the predicted label at the threshold recorded in the
    model's manifest for the scorer (see :func:`decision_threshold`: the
    student's, or the teacher's own chosen by the same rule);
    ``model_version`` the version that scored the row. A model of K classes
    writes one ``probability_<class>`` column a class instead of
    ``probability``, and the most probable class as ``decision``.

    Parameters
    ----------
    model : str or path-like
        A registry (its production model) or a version directory.
    input_path, output_path : str or path-like
        CSV files (``.gz`` etc. by extension), or Parquet (``*.parquet``, ``*.pq``; an
        input may be a folder of parts), each read or written in the format its name says.
    id_column : str, default=None
        Input column copied to the output, e.g. a transaction id.
    chunk_size : int, default=100_000
        Rows read, scored and written at a time: memory stays bounded by the
        chunk, not the file.
    overwrite : bool, default=False
        Replace ``output_path`` if it exists.
    reasons : int, default=0
        Add the ``reasons`` input columns that raised each row's score most, with their
        contributions to the raw score (log-odds for LightGBM and linear students; for K
        classes, of the most probable class): ``reason_1``, ``reason_1_value``, ...
    strict : bool, default=False
        Refuse (:class:`~tabdistill.exceptions.DataError`) a chunk with values the model's
        columns cannot read, instead of scoring them as missing with a warning.
    scorer : {"student", "teacher"}, default="student"
        Score with the version's compiled student, or its compiled teacher
        (``teacher_runtime.npz``: the ensemble's probabilities, slower, and decisions
        at the teacher's own threshold); the output's columns are the same.
        ``reasons`` is for the student only.
    read_options : dict, default=None
        How a CSV ``input_path`` is written: :func:`tabdistill.data.io.csv_options`' ``sep``
        and ``decimal`` (None: commas and decimal points). A CSV output is written with
        commas.

    Returns
    -------
    int
        Rows scored.

    Raises
    ------
    ConfigError
        For ``reasons`` with ``scorer="teacher"``, before anything is read.
    ArtifactError
        For a version that holds no compiled teacher when ``scorer="teacher"``, or
        no threshold for it (see :func:`decision_threshold`), before anything is read.
    """
    check_scoring(scorer, reasons)
    input_path, output_path = Path(input_path), Path(output_path)
    if not (input_path.is_file() or (is_parquet(input_path) and input_path.is_dir())):
        raise DataError(f"input file not found: '{input_path}'.")
    if output_path.exists() and not overwrite:
        raise DataError(f"output '{output_path}' exists; pass --overwrite to replace it.")
    if output_path.is_dir():
        raise DataError(f"output '{output_path}' is a folder: give a file name.")
    if not output_path.parent.is_dir():
        raise DataError(
            f"the output folder '{output_path.parent}' does not exist: create it first."
        )
    if chunk_size < 1:
        raise DataError(f"chunk size must be positive, got {chunk_size}.")
    manifest, runtime = load_runtime(model, scorer)
    logger.info(
        "scoring with the %s of version %s", scorer_text(manifest, scorer), manifest["version"]
    )
    read_options = read_options or {}
    _check_header(input_path, runtime, id_column, read_options)
    frame_scorer = FrameScorer(manifest, runtime, id_column, reasons)
    # same folder (atomic rename), same extension (same compression) as the output
    tmp = output_path.with_name(f".partial-{os.getpid()}-{output_path.name}")
    rows, output = 0, _ScoresFile(tmp)
    try:
        if is_parquet(input_path):
            chunks = parquet_batches(input_path, chunk_size)
        else:
            chunks = pd.read_csv(
                input_path, chunksize=chunk_size, dtype=frame_scorer.text_columns, **read_options
            )
        for chunk in progress(chunks, desc="scoring"):
            if len(chunk) == 0:
                continue
            output.write(frame_scorer(chunk, strict=strict))
            rows += len(chunk)
        output.close()
        if rows == 0:
            raise DataError(f"input file '{input_path}' has no data rows.")
        os.replace(tmp, output_path)
    except CHUNK_READ_ERRORS as exc:
        output.close()
        tmp.unlink(missing_ok=True)
        raise csv_error(input_path, exc) from None
    except BaseException:
        output.close()
        tmp.unlink(missing_ok=True)
        raise
    logger.info("scored %d rows", rows)
    return rows
