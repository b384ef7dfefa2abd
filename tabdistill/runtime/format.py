"""The runtime's file format: a zip of ``.npy`` arrays plus a JSON header, never a pickle.

``header`` = ``{"format", "version", "kind", "meta", "schema", "storage"}``, stored
as the UTF-8 bytes of the ``__header__`` array; the file opens with
``numpy.load`` too. Reading trusts nothing in the file: every member is parsed
with its declared size checked against the bytes present, only plain numeric
dtypes are accepted (no object arrays, so nothing is unpickled), sizes are
bounded, and any failure is one :class:`~tabdistill.exceptions.ArtifactError`.
What the arrays *mean* is checked by :mod:`tabdistill.runtime.validation`.

Version history: 1 (node table ``ints``/``values``, leaves as negative
children) is read and converted; 2 is the pre-order table of
:mod:`tabdistill.runtime.trees`.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..exceptions import ArtifactError

FORMAT = "tabdistill-runtime"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
_HEADER = "__header__"
#: dtypes a runtime file may hold; anything else (objects, strings, records) is refused
_DTYPES = {np.dtype(t) for t in ("u1", "i1", "u2", "i2", "u4", "i4", "i8", "u8", "f4", "f8")}
_MAX_BYTES = 1 << 31  # a student is kilobytes; refuse to allocate gigabytes for a bad header
_MAX_MEMBERS = 64


def write(target, header: dict, arrays: dict):
    """Write ``arrays`` and ``header`` to ``target``: a path or a binary file object.

    A path is written through a temporary file in the same directory and
    renamed into place, so a failure never leaves a half-written model where a
    good one was.
    """
    if hasattr(target, "write"):
        _write_zip(target, header, arrays)
        return target
    path = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_zip(fh, header, arrays)
        os.chmod(tmp, 0o666 & ~_umask())  # what open() would have given, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, for all threads)
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_zip(fh, header, arrays):
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in {_HEADER: blob, **arrays}.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(f"{name}.npy", buffer.getvalue())


def read(source) -> tuple[dict, dict]:
    """``(header, arrays)`` of a runtime file.

    Parameters
    ----------
    source : str, path, bytes or binary file object

    Raises
    ------
    ArtifactError
        If the file is missing, not a runtime file, damaged, or of a format
        version this tabdistill cannot read.
    """
    name = describe(source)
    data = _open(source, name)
    try:
        with zipfile.ZipFile(data) as zf:
            members = zf.infolist()
            if len(members) > _MAX_MEMBERS:
                raise ValueError(f"{len(members)} members")
            if sum(m.file_size for m in members) > _MAX_BYTES:
                raise ValueError("declared sizes are too large")
            arrays = {}
            for member in members:
                key = member.filename[:-4] if member.filename.endswith(".npy") else None
                if not key or key in arrays:
                    raise ValueError(f"unexpected member {member.filename!r}")
                with zf.open(member) as fh:
                    arrays[key] = _read_array(fh, member.file_size)
    except ArtifactError:
        raise
    except Exception as exc:  # zip, zlib, npy header, sizes: all mean "damaged or foreign"
        raise ArtifactError(
            f"{name} is not a tabdistill runtime file, or is damaged ({type(exc).__name__}: {exc})."
        ) from None
    header = _header(arrays.pop(_HEADER, None), name)
    return header, arrays


def describe(source) -> str:
    if isinstance(source, str | os.PathLike):
        return f"'{source}'"
    return f"the {type(source).__name__} given"


def _open(source, name):
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        if hasattr(source, "seekable") and source.seekable():
            return source
        return io.BytesIO(source.read())
    path = Path(source)
    if not path.is_file():
        raise ArtifactError(f"runtime file not found: {name}.")
    return io.BytesIO(path.read_bytes())


def _read_array(fh, member_size: int) -> np.ndarray:
    version = np.lib.format.read_magic(fh)
    reader = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }.get(version)
    if reader is None:
        raise ValueError(f"npy version {version}")
    shape, fortran, dtype = reader(fh)
    if dtype.newbyteorder("<") not in _DTYPES or dtype.byteorder == ">":
        raise ValueError(f"dtype {dtype} is not a plain little-endian number type")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    nbytes = count * dtype.itemsize
    if count < 0 or nbytes > member_size:
        raise ValueError(f"declared shape {shape} is larger than the data")
    raw = fh.read(nbytes + 1)
    if len(raw) != nbytes:
        raise ValueError(f"array data of {len(raw)} bytes, its header declares {nbytes}")
    arr = np.frombuffer(raw, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C")


def _header(blob, name) -> dict:
    try:
        if blob is None or blob.dtype != np.uint8 or blob.ndim != 1:
            raise ValueError("no header")
        header = json.loads(blob.tobytes().decode())
    except (ValueError, UnicodeDecodeError):
        raise ArtifactError(f"{name} is not a tabdistill runtime file (no valid header).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArtifactError(f"{name} is not a tabdistill runtime file.")
    if header.get("version") not in READABLE_VERSIONS:
        raise ArtifactError(
            f"{name} has runtime format version {header.get('version')!r}; this tabdistill "
            f"reads versions {', '.join(map(str, READABLE_VERSIONS))}. Upgrade tabdistill, or "
            "re-export the model with this version."
        )
    return header
