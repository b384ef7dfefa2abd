"""Safe file operations: content hashes, fsync, atomic replacement."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

TMP_PREFIX = ".tmp-"


def sha256(paths, *, with_names: bool = False, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 over the bytes of one file or of several, in order.

    Parameters
    ----------
    paths : path-like or list of path-like
    with_names : bool, default=False
        Also hash each file's name before its bytes (a data fingerprint that
        changes when a file is renamed).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    digest = hashlib.sha256()
    for path in paths:
        if with_names:
            digest.update(Path(path).name.encode())
        with open(path, "rb") as fh:
            while block := fh.read(chunk):
                digest.update(block)
    return digest.hexdigest()


def fsync(path) -> None:
    """Flush a file or a directory to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data) -> None:
    """Replace ``path`` with ``data`` as JSON: readers see the old file or the new, never half."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    fsync(tmp)
    os.replace(tmp, path)
    fsync(path.parent)
