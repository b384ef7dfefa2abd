"""The runtime's file format: one ``.npz`` of arrays plus a JSON header, never a pickle.

``header`` = ``{"format", "version", "kind", "meta", "schema"}``, stored as the
UTF-8 bytes of the ``__header__`` array. Loading uses ``allow_pickle=False``:
a runtime file cannot run code, and needs neither LightGBM nor XGBoost.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..exceptions import ArtifactError

FORMAT = "tabdistill-runtime"
FORMAT_VERSION = 1
_HEADER = "__header__"


def write(target, header: dict, arrays: dict):
    """Write ``arrays`` and ``header`` to ``target`` (a path or a binary file object)."""
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    if hasattr(target, "write"):
        np.savez(target, **{_HEADER: blob}, **arrays)
        return target
    path = Path(target)
    with open(path, "wb") as fh:
        np.savez(fh, **{_HEADER: blob}, **arrays)
    return path


def read(source) -> tuple[dict, dict]:
    """``(header, arrays)`` of a runtime file; ``source`` is a path.

    Raises
    ------
    ArtifactError
        If the file is missing, not a runtime file, or of another format version.
    """
    path = Path(source)
    if not path.is_file():
        raise ArtifactError(f"runtime file not found: '{path}'.")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data[_HEADER]).decode())
            arrays = {k: data[k] for k in data.files if k != _HEADER}
    except (ValueError, KeyError, OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"'{path}' is not a tabdistill runtime file ({exc}).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArtifactError(f"'{path}' is not a tabdistill runtime file.")
    if header.get("version") != FORMAT_VERSION:
        raise ArtifactError(
            f"'{path}' has runtime format version {header.get('version')}, this tabdistill "
            f"reads version {FORMAT_VERSION}. Re-export the model with this version."
        )
    return header, arrays
