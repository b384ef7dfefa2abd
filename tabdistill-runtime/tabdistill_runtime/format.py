"""The runtime's file format: a JSON header and a few numeric arrays, never a pickle.

``header`` = ``{"format", "version", "kind", "meta", "schema", "storage"}``.
Version 3 (written today) is one small container, so that a model of a few
dozen trees is not mostly container::

    b"\x93TDR"  version (u8 = 3)  codec (u8: 0 stored, 1 zlib)  body size (u32 LE)
    CRC-32 of the body (u32 LE)
    payload: the body, stored or zlib-compressed
    body:    header size (u32 LE), the header as compact UTF-8 JSON, then the
             arrays' bytes one after another (little-endian, C order)

The header's ``"arrays"`` lists ``[name, dtype, shape]`` of each array, in the
order of their bytes. The body is compressed when that makes the file smaller
(almost always: the schema's JSON and the small-integer node arrays compress well).

Versions 1 and 2 were a zip of ``.npy`` arrays with the header as the UTF-8
bytes of the ``__header__`` array; both are still read (1 is a node table of
``ints``/``values`` with leaves as negative children, converted on load; 2 is
the pre-order table of :mod:`tabdistill_runtime.trees`, like 3).

Reading trusts nothing in the file: every size is checked against the bytes
present before anything is allocated or decompressed (and decompression stops
at the declared size), only plain numeric dtypes are accepted (no object
arrays, so nothing is unpickled), sizes are bounded, and any failure is one
:class:`~tabdistill_runtime.exceptions.ArtifactError`. What the arrays *mean* is
checked by :mod:`tabdistill_runtime.validation`.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .exceptions import ArtifactError

FORMAT = "tabdistill-runtime"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
_HEADER = "__header__"
_MAGIC = b"\x93TDR"
_STORED, _ZLIB = 0, 1
_PREFIX = len(_MAGIC) + 10  # magic, version, codec, body size, body CRC-32
#: dtypes a runtime file may hold; anything else (objects, strings, records) is refused
_DTYPES = {np.dtype(t) for t in ("u1", "i1", "u2", "i2", "u4", "i4", "i8", "u8", "f4", "f8")}
_MAX_BYTES = 1 << 31  # a student is kilobytes; refuse to allocate gigabytes for a bad header
_MAX_MEMBERS = 64


def write(target, header: dict, arrays: dict):
    """Write ``arrays`` and ``header`` to ``target``: a path or a binary file object.

    The container is the one of ``header["version"]`` (3, or 2 for a file
    older readers can open). A path is written through a temporary file in the
    same directory and renamed into place, so a failure never leaves a
    half-written model where a good one was.
    """
    writer = _write_zip if header.get("version") in (1, 2) else _write_packed
    if hasattr(target, "write"):
        writer(target, header, arrays)
        return target
    path = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh, header, arrays)
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


def _write_packed(fh, header, arrays):
    version = header.get("version")
    version = version if type(version) is int and 0 <= version < 256 else 255
    fh.write(container(body(header, arrays), version))


def body(header: dict, arrays: dict) -> bytes:
    """The body of a version-3 file: header size, compact JSON header, then the arrays' bytes."""
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    for a in arrays.values():
        if a.dtype.newbyteorder("<") not in _DTYPES:
            raise TypeError(f"a runtime file holds plain numbers, not {a.dtype}")
    listing = [[k, a.dtype.newbyteorder("<").str, list(a.shape)] for k, a in arrays.items()]
    text = json.dumps({**header, "arrays": listing}, separators=(",", ":")).encode()
    return b"".join(
        [len(text).to_bytes(4, "little"), text]
        + [a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays.values()]
    )


def container(data: bytes, version: int = FORMAT_VERSION, compress: bool = True) -> bytes:
    """A version-3 file around ``data`` (a :func:`body`), compressed if that makes it smaller."""
    packed = zlib.compress(data, 9) if compress else data
    codec, payload = (_ZLIB, packed) if len(packed) < len(data) else (_STORED, data)
    prefix = bytes([version, codec]) + len(data).to_bytes(4, "little")
    return _MAGIC + prefix + zlib.crc32(data).to_bytes(4, "little") + payload


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
    if data.read(len(_MAGIC)) == _MAGIC:
        return _read_packed(data.read(_MAX_BYTES + _PREFIX), name)
    data.seek(0)
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


def _read_packed(rest: bytes, name) -> tuple[dict, dict]:
    """``(header, arrays)`` of a version-3 file, after its magic bytes."""
    if rest[:1] and rest[0] != 3:
        raise _unreadable(rest[0], name)
    try:
        header, arrays = _unpack(rest)
    except Exception as exc:  # sizes, zlib, JSON, listing: all mean "damaged or foreign"
        raise ArtifactError(
            f"{name} is not a tabdistill runtime file, or is damaged ({type(exc).__name__}: {exc})."
        ) from None
    header = _check_header(header, name)
    if header["version"] != 3:
        raise ArtifactError(
            f"{name} is damaged: a version-3 container holds a header of version "
            f"{header['version']}."
        )
    return header, arrays


def _unpack(rest: bytes) -> tuple[dict, dict]:
    if len(rest) < _PREFIX - len(_MAGIC):
        raise ValueError("the file ends inside its prefix")
    codec, size = rest[1], int.from_bytes(rest[2:6], "little")
    if size > _MAX_BYTES:
        raise ValueError("declared size is too large")
    crc, payload = int.from_bytes(rest[6:10], "little"), rest[10:]
    if codec == _ZLIB:
        inflate = zlib.decompressobj()
        data = inflate.decompress(payload, size + 1)  # never more than declared (+1 to see it)
        if not inflate.eof or inflate.unused_data or inflate.unconsumed_tail:
            raise ValueError("the compressed body does not end where it should")
    elif codec == _STORED:
        data = payload
    else:
        raise ValueError(f"unknown codec {codec}")
    if len(data) != size:
        raise ValueError(f"body of {len(data)} bytes, its prefix declares {size}")
    if zlib.crc32(data) != crc:
        raise ValueError("the body's CRC-32 does not match")
    text_size = int.from_bytes(data[:4], "little")
    if len(data) < 4 + text_size:
        raise ValueError("the header runs past the end of the file")
    header = json.loads(data[4 : 4 + text_size].decode())
    if not isinstance(header, dict):
        raise ValueError("the header is not a mapping")
    arrays, at = {}, 4 + text_size
    listing = header.pop("arrays", None)
    if not isinstance(listing, list) or len(listing) > _MAX_MEMBERS:
        raise ValueError("no valid array listing")
    for item in listing:
        key, dtype, shape = _listed(item)
        if key in arrays or key == _HEADER:
            raise ValueError(f"array name {key!r} listed twice or reserved")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        nbytes = count * dtype.itemsize
        if nbytes > len(data) - at:
            raise ValueError(f"array {key!r} of shape {shape} is larger than the data")
        arrays[key] = np.frombuffer(data, dtype=dtype, count=count, offset=at).reshape(shape)
        at += nbytes
    if at != len(data):
        raise ValueError(f"{len(data) - at} bytes after the last array")
    return header, arrays


def _listed(item) -> tuple[str, np.dtype, tuple]:
    """``(name, dtype, shape)`` of one entry of the array listing, checked."""
    if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
        raise ValueError(f"array entry {item!r} is not [name, dtype, shape]")
    key, dtype, shape = item
    if not isinstance(dtype, str) or dtype[:1] not in "<|" or np.dtype(dtype) not in _DTYPES:
        raise ValueError(f"dtype {dtype!r} is not a plain little-endian number type")
    if (
        not isinstance(shape, list)
        or len(shape) > 2
        or not all(type(d) is int and 0 <= d <= _MAX_BYTES for d in shape)
    ):
        raise ValueError(f"array {key!r} has shape {shape!r}")
    return key, np.dtype(dtype), tuple(shape)


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
    header = _check_header(header, name)
    if header["version"] == 3:
        raise ArtifactError(f"{name} is damaged: a zip runtime file holds a version-3 header.")
    return header


def _check_header(header, name) -> dict:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArtifactError(f"{name} is not a tabdistill runtime file.")
    version = header.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise _unreadable(version, name)
    return header


def _unreadable(version, name) -> ArtifactError:
    return ArtifactError(
        f"{name} has runtime format version {version!r}; this tabdistill reads versions "
        f"{', '.join(map(str, READABLE_VERSIONS))}. Upgrade tabdistill, or re-export the model "
        "with this version."
    )
