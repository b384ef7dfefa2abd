"""A directory of versioned models with an atomic ``production`` pointer.

Layout::

    <registry>/
        <version>/              one directory per run, immutable once written
            manifest.json       what, how, how good; SHA-256 of every file
            manifest.sha256     SHA-256 of manifest.json: an edited manifest is refused
            runtime.npz         the student, compiled (what predict uses)
            teacher_runtime.npz the whole teacher, compiled (predict --scorer teacher);
                                absent when it could not be compiled or is larger than the
                                runtime's loader reads by default, and in versions written
                                before the compiled teacher shipped
            model.skops         optional: the full DistilledClassifier, teacher included
        production.json         {"version", "history", ...}: the model in production and
                                the ones before it (for rollback)
        runs.jsonl              one line per run, whatever its outcome
        .lock                   held while a run compares with production and promotes

Runs and registry commands that read production and change it hold an
exclusive lock (:meth:`Registry.lock`), so two concurrent runs cannot both
pass the gate against the same production model: the second compares itself
with whatever the first promoted.

A version is written into a hidden temporary directory and renamed into place
only once complete, and ``production.json`` is replaced with ``os.replace``:
a crash or kill at any moment leaves either the old state or the new one,
never a half-written version, and never touches the production model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

from tabdistill_runtime.format import MAX_BYTES
from tabdistill_runtime.model import CompiledModel

from ..exceptions import ArtifactError, ConfigError
from .files import TMP_PREFIX, fsync, sha256, write_json_atomic
from .persist import save_model

MANIFEST = "manifest.json"
RUNTIME = "runtime.npz"
TEACHER_RUNTIME = "teacher_runtime.npz"
#: The runtime file of each scorer a version may hold (``load_runtime(scorer=)``).
SCORER_FILES = {"student": RUNTIME, "teacher": TEACHER_RUNTIME}
MODEL = "model.skops"
POINTER = "production.json"
RUN_LOG = "runs.jsonl"
LOCK = ".lock"
MANIFEST_HASH = "manifest.sha256"
MANIFEST_FORMAT = "tabdistill-model"
MANIFEST_VERSION = 2  # 2: manifest.sha256 beside the manifest; 1 is still read
LOCK_TIMEOUT_S = 600.0
#: A version holds its compiled teacher when the runtime's loader reads it at this cap: its
#: default (``CompiledModel.load(max_bytes=)``), so ``predict --scorer teacher`` loads it.
TEACHER_MAX_BYTES = MAX_BYTES

logger = logging.getLogger(__name__)


def check_version_name(version, where) -> str:
    """A version name is one plain folder name: nothing can point outside its registry."""
    if (
        not isinstance(version, str)
        or not version
        or Path(version).name != version
        or version.startswith(".")
        or version in (".", "..")
    ):
        raise ArtifactError(
            f"{where} names the version {version!r}, which is not a plain version name: "
            "refusing to follow it outside the registry."
        )
    return version


def new_version_name() -> str:
    """A sortable, unique version name: UTC time to the microsecond."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class Registry:
    """Versioned model storage with an atomic production pointer.

    Parameters
    ----------
    root : str or path-like
        The registry directory; created on first write.
    """

    def __init__(self, root):
        self.root = Path(root)

    # -- reading
    def versions(self) -> list[str]:
        """Complete versions, oldest first (temporary leftovers of killed runs are ignored)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()
        )

    def production(self) -> str | None:
        """The version in production, or None."""
        pointer = self.root / POINTER
        if not pointer.is_file():
            return None
        version = self._pointer()["version"]
        if not (self.version_dir(version, f"'{pointer}'") / MANIFEST).is_file():
            raise ArtifactError(f"'{pointer}' points at version '{version}', which does not exist.")
        return version

    def version_dir(self, version, where="the request") -> Path:
        """The folder of ``version``, refused unless it is a folder of this registry.

        Raises
        ------
        ArtifactError
            For a name that is not a plain folder name, or a version folder that
            resolves (a symbolic link, say) to a place outside the registry.
        """
        check_version_name(version, where)
        path = self.root / version
        _check_inside(path, self.root, f"version '{version}'")
        return path

    def _pointer(self) -> dict:
        pointer = self.root / POINTER
        if not pointer.is_file():
            return {"version": None, "history": []}
        _check_inside(pointer, self.root, f"the production pointer '{POINTER}'")
        try:
            data = json.loads(pointer.read_text())
            check_version_name(data["version"], f"'{pointer}'")
            history = data.get("history", [])
            for old in history:
                check_version_name(old, f"the history in '{pointer}'")
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ArtifactError(f"'{pointer}' is corrupt: expected {{\"version\": ...}}.") from None
        return {**data, "history": list(history)}

    def manifest(self, version: str) -> dict:
        """The hash-checked manifest of ``version``."""
        return read_manifest(self.version_dir(version))

    def describe(self) -> list[dict]:
        """One line per version, oldest first: gate outcome, holdout scores, production flag."""
        production = self.production()
        rows = []
        for version in self.versions():
            try:
                m = self.manifest(version)
                student = m.get("metrics", {}).get("student", {})
                row = {
                    "version": version,
                    "created_at": m.get("created_at"),
                    "gate": gate_text(m),
                    "roc_auc": student.get("roc_auc"),
                    "average_precision": student.get("average_precision"),
                }
            except ArtifactError as exc:
                row = {"version": version, "gate": "unreadable", "error": str(exc)}
            rows.append({**row, "production": version == production})
        return rows

    @contextlib.contextmanager
    def lock(self, timeout_s: float = LOCK_TIMEOUT_S):
        """Hold the registry's exclusive lock (waits up to ``timeout_s`` for another run).

        Raises
        ------
        ArtifactError
            If another process keeps the lock longer than ``timeout_s``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+") as fh:
            if fcntl is not None:
                deadline = time.monotonic() + timeout_s
                while True:
                    try:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise ArtifactError(
                                f"another run has held '{self.root / LOCK}' for more than "
                                f"{timeout_s:.0f} s; try again later."
                            ) from None
                        time.sleep(0.05)
            try:
                self.clean_leftovers(older_than_s=0.0)  # no other writer while we hold it
                yield self
            finally:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def runs(self) -> list[dict]:
        """Every line of the run log."""
        log = self.root / RUN_LOG
        if not log.is_file():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    # -- writing
    def write_version(
        self,
        manifest: dict,
        runtime: CompiledModel,
        model=None,
        version: str | None = None,
        *,
        teacher: CompiledModel | None = None,
        teacher_info: dict | None = None,
    ) -> str:
        """Write a complete version directory atomically; returns its name.

        Files go to a hidden temporary directory first; the manifest, with the
        hash of every file, is written last, and the directory is renamed into
        place only then.

        Parameters
        ----------
        manifest : dict
            What the run records; ``format``, ``version``, ``files`` and
            ``teacher_runtime`` are added.
        runtime : CompiledModel
            The student, written as ``runtime.npz``.
        model : DistilledClassifier, default=None
            The full model, written as ``model.skops`` when given.
        version : str, default=None
            The version's name; a new one (UTC time) by default.
        teacher : CompiledModel, default=None
            The compiled teacher, written as ``teacher_runtime.npz`` when the
            runtime's loader reads it back with its default size cap; else left
            out with an INFO log line, and the manifest's ``teacher_runtime``
            says why.
        teacher_info : dict, default=None
            What ``teacher`` is when it is not the whole teacher (a cut to a latency
            budget, :class:`~tabdistill.evaluate.shipped_teacher.ShippedTeacher`'s
            ``info``), recorded in the manifest's ``teacher_runtime`` entry as ``cut``;
            with ``teacher`` None, ``{"left_out": why}`` says why the version holds none.
        """

        self.root.mkdir(parents=True, exist_ok=True)
        self.clean_leftovers()
        version = version or new_version_name()
        final = self.root / version
        if final.exists():
            raise ArtifactError(f"version '{version}' already exists in '{self.root}'.")
        tmp = self.root / f"{TMP_PREFIX}{version}-{os.getpid()}"
        tmp.mkdir()
        try:
            runtime.save(tmp / RUNTIME)
            shipped = _write_teacher(teacher, tmp / TEACHER_RUNTIME, version, teacher_info)
            if model is not None:
                save_model(model, tmp / MODEL)
            files = {p.name: sha256(p) for p in sorted(tmp.iterdir())}
            full = {
                "format": MANIFEST_FORMAT,
                "format_version": MANIFEST_VERSION,
                "version": version,
                **manifest,
                "teacher_runtime": shipped,
                "files": files,
            }
            (tmp / MANIFEST).write_text(json.dumps(full, indent=2, default=str))
            (tmp / MANIFEST_HASH).write_text(sha256(tmp / MANIFEST) + "\n")
            for p in tmp.iterdir():
                fsync(p)
            fsync(tmp)
            os.rename(tmp, final)
            fsync(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return version

    def promote(self, version: str, *, force: bool = False) -> None:
        """Point production at ``version`` (atomic replace of ``production.json``).

        The version's manifest must be intact; a version the quality gate
        rejected is refused unless ``force``. The previous production version
        is kept in the pointer's ``history`` for :meth:`rollback`. Call it
        inside ``with registry.lock():`` when other runs may be writing.
        """
        self.version_dir(version)
        if version not in self.versions():
            raise ArtifactError(f"cannot promote '{version}': no such complete version.")
        manifest = self.manifest(version)
        if gate_text(manifest) == "rejected" and not force:
            reasons = "; ".join(manifest.get("gate", {}).get("reasons", [])) or "unknown"
            raise ArtifactError(
                f"version '{version}' was rejected by the quality gate ({reasons}); pass "
                "--force to promote it anyway."
            )
        pointer = self._pointer()
        history = pointer["history"] + ([pointer["version"]] if pointer["version"] else [])
        self._point(version, [v for v in history if v != version])

    def rollback(self) -> str:
        """Point production back at the version that was production before; returns it.

        Earlier production versions that no longer exist (deleted by hand) are
        skipped; :meth:`prune` never deletes the one this returns to.

        Raises
        ------
        ArtifactError
            When no earlier production version is left, naming those deleted.
        """
        pointer = self._pointer()
        history, versions = pointer["history"], set(self.versions())
        gone = []
        while history and history[-1] not in versions:
            gone.append(history.pop())
        if not history:
            detail = (
                f" (the earlier production version(s) {', '.join(gone)} are listed in "
                f"'{POINTER}' but their folders were deleted: pruned before prune kept the "
                "version rollback returns to, or by hand)"
                if gone
                else ""
            )
            raise ArtifactError(
                f"'{self.root}' has no earlier production version to roll back to{detail}; "
                f"production stays {pointer['version']}. Promote a version by name with "
                "tabdistill registry promote."
            )
        previous = history.pop()
        self.manifest(previous)  # intact, or refused
        self._point(previous, history)
        return previous

    def _point(self, version, history) -> None:
        write_json_atomic(
            self.root / POINTER,
            {
                "version": version,
                "promoted_at": datetime.now(timezone.utc).isoformat(),
                "manifest_sha256": sha256(self.root / version / MANIFEST),
                "history": history,
            },
        )

    def rollback_target(self) -> str | None:
        """The version :meth:`rollback` would make production, or None."""
        versions = set(self.versions())
        return next((v for v in reversed(self._pointer()["history"]) if v in versions), None)

    def prune(self, keep: int) -> list[str]:
        """Delete all but the ``keep`` newest versions; production and the version a
        :meth:`rollback` returns to are never deleted.

        A version folder that is a link to a place outside the registry loses
        its link only; nothing outside the registry is deleted.

        Returns the versions removed.
        """
        if keep < 1:
            raise ArtifactError(f"prune keeps at least 1 version, got {keep}.")
        kept = {self.production(), self.rollback_target()}
        versions = self.versions()
        doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v not in kept]
        for version in doomed:
            path = self.root / version
            path.unlink() if path.is_symlink() else shutil.rmtree(path)
        if doomed:
            fsync(self.root)
        return doomed

    def log_run(self, record: dict) -> None:
        """Append one JSON line to the run log (one ``write`` call, then fsync)."""
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"time": datetime.now(timezone.utc).isoformat(), **record}, default=str)
        with open(self.root / RUN_LOG, "a") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def clean_leftovers(self, older_than_s: float = 3600.0) -> list[str]:
        """Remove temporary directories left by killed runs (older than ``older_than_s``)."""
        removed = []
        if not self.root.is_dir():
            return removed
        for p in self.root.iterdir():
            if p.name.startswith(TMP_PREFIX) and time.time() - p.stat().st_mtime > older_than_s:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p.name)
        return removed


def _write_teacher(teacher, path: Path, version: str, info: dict | None = None) -> dict:
    """Write the compiled ``teacher`` to ``path`` when the runtime's loader reads it back with
    its default cap; the manifest's ``teacher_runtime`` entry: its size (and ``info`` as its
    ``cut``), or why it is left out (``info["left_out"]`` where the caller knows)."""
    info = info or {}
    if teacher is None:
        why = info.get("left_out") or (
            "its teacher was not compiled (a member the runtime cannot compile: the log of the "
            "run that wrote it says which)"
        )
    else:
        blob = teacher.to_bytes()
        try:  # every size check the loader makes (file, body, tree nodes)
            CompiledModel.load(blob, max_bytes=TEACHER_MAX_BYTES)
        except ArtifactError as exc:
            why = (
                f"its compiled teacher ({len(blob):,} bytes) is larger than the runtime's "
                f"loader reads by default ({exc})"
            )
        else:
            path.write_bytes(blob)
            entry = {"file": TEACHER_RUNTIME, "size_bytes": len(blob)}
            return {**entry, "cut": info} if info else entry
    logger.info("%s left out of version %s: %s", TEACHER_RUNTIME, version, why)
    return {"file": None, "left_out": why}


def _check_inside(path: Path, folder: Path, what: str) -> None:
    """Refuse ``path`` unless it resolves to an entry of ``folder`` (links included)."""
    real = path.resolve()
    if real.parent != folder.resolve():
        raise ArtifactError(
            f"{what} in '{folder}' resolves to '{real}', outside that folder: refusing to "
            "follow it. Keep every version and file inside the registry (no links elsewhere)."
        )


def gate_text(manifest: dict) -> str:
    """``"passed"``, ``"rejected"``, or ``"not run"`` (a version saved by ``benchmark --save``)."""
    gate = manifest.get("gate") or {}
    if "passed" in gate and gate["passed"] is None:
        return "not run"
    return "passed" if gate.get("passed") else "rejected"


def resolve(path) -> Path:
    """The version directory for ``path``: a version directory, or a registry (its production)."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    if path.is_dir():
        registry = Registry(path)
        version = registry.production()
        if version is None:
            raise ArtifactError(f"'{path}' is a registry with no production model yet.")
        return registry.version_dir(version)
    raise ArtifactError(f"'{path}' is neither a model version directory nor a registry.")


def read_manifest(version_dir) -> dict:
    """The manifest of a version, after checking that every file matches its recorded hash.

    Raises
    ------
    ArtifactError
        If the manifest is missing, of an unknown format or version, or does
        not match the files beside it.
    """
    version_dir = Path(version_dir)
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text())
    except FileNotFoundError:
        raise ArtifactError(f"no {MANIFEST} in '{version_dir}'.") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"'{version_dir / MANIFEST}' is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ArtifactError(f"'{version_dir}' does not hold a tabdistill model manifest.")
    if manifest.get("format_version") not in (1, MANIFEST_VERSION):
        raise ArtifactError(
            f"'{version_dir}' has manifest version {manifest.get('format_version')}; this "
            f"tabdistill reads version {MANIFEST_VERSION}."
        )
    if manifest.get("format_version") >= 2:
        recorded = version_dir / MANIFEST_HASH
        digest = recorded.read_text().strip() if recorded.is_file() else None
        if digest != sha256(version_dir / MANIFEST):
            raise ArtifactError(
                f"'{version_dir / MANIFEST}' does not match its recorded hash ({MANIFEST_HASH}): "
                "the manifest was edited after it was written. Refusing to use it."
            )
    files = manifest.get("files")
    if not isinstance(files, dict) or RUNTIME not in files:
        raise ArtifactError(f"the manifest in '{version_dir}' lists no runtime file.")
    for name, digest in files.items():
        path = version_dir / name
        if Path(name).name != name or not path.is_file():
            raise ArtifactError(
                f"the manifest in '{version_dir}' lists '{name}', which is missing."
            )
        _check_inside(path, version_dir, f"'{name}'")
        if sha256(path) != digest:
            raise ArtifactError(
                f"'{path}' does not match the hash in its manifest: the file was changed or "
                "replaced after it was written. Refusing to load it."
            )
    return manifest


def _no_teacher(manifest, version_dir) -> str:
    """Why a version holds no compiled teacher, and how to get one."""
    left_out = (manifest.get("teacher_runtime") or {}).get("left_out")
    why = (
        f"{left_out}, so it was left out when the version was written"
        if left_out
        else "the version was written before tabdistill kept the compiled teacher in a version; "
        "refit (tabdistill benchmark --save) or retrain with this release to write one that does"
    )
    return (
        f"version '{manifest.get('version', version_dir.name)}' ('{version_dir}') holds no "
        f"compiled teacher ({TEACHER_RUNTIME}): {why}. Score it with the student "
        "(--scorer student)."
    )


def check_scorer(scorer) -> str:
    """``scorer`` if a version can hold it (``"student"``, ``"teacher"``), else ConfigError."""
    if scorer not in SCORER_FILES:
        raise ConfigError(
            f"scorer must be one of {sorted(SCORER_FILES)}, got {scorer!r}: 'student' scores "
            "with the compiled student, 'teacher' with the compiled teacher."
        )
    return scorer


def scorer_text(manifest: dict, scorer: str) -> str:
    """The scorer of a version in words, for a log line: ``"teacher (cut to 65% of its trees
    for 20 us)"`` where its compiled teacher was cut to a latency budget."""
    cut = (manifest.get("teacher_runtime") or {}).get("cut") if scorer == "teacher" else None
    if not cut or cut.get("tree_share", 1.0) >= 1.0:
        return scorer
    return (
        f"teacher (cut to {cut['tree_share']:.0%} of its trees for {cut['latency_budget_us']:g} us)"
    )


def load_runtime(path, scorer: str = "student") -> tuple[dict, CompiledModel]:
    """Manifest and compiled model of a version directory or a registry's production.

    Parameters
    ----------
    path : str or path-like
        A version directory, or a registry (its production version).
    scorer : {"student", "teacher"}, default="student"
        The compiled student (``runtime.npz``), or the whole teacher compiled
        (``teacher_runtime.npz``, kind ``"blend"``).

    Returns
    -------
    (dict, CompiledModel)
        The hash-checked manifest and the runtime, whose schema is the manifest's.

    Raises
    ------
    ArtifactError
        If the version is missing, tampered with or foreign, or, for
        ``scorer="teacher"``, holds no compiled teacher (the message says why
        and how to get one).
    ConfigError
        For another ``scorer``.
    """
    check_scorer(scorer)
    version_dir = resolve(path)
    manifest = read_manifest(version_dir)
    name = SCORER_FILES[scorer]
    if name not in manifest["files"]:
        raise ArtifactError(_no_teacher(manifest, version_dir))
    runtime = CompiledModel.load(version_dir / name)
    if runtime.schema.features != manifest.get("schema", {}).get("features"):
        raise ArtifactError(
            f"the {scorer} runtime in '{version_dir}' does not match its manifest's schema."
        )
    return manifest, runtime
