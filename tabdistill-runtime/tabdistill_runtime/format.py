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

Version 4 is version 3's container, written for the ``"blend"`` kind only
(:mod:`tabdistill_runtime.blend`); other kinds are still written as version 3.

Versions 1 and 2 were a zip of ``.npy`` arrays with the header as the UTF-8
bytes of the ``__header__`` array; both are still read (1 is a node table of
``ints``/``values`` with leaves as negative children, converted on load; 2 is
the pre-order table of :mod:`tabdistill_runtime.trees`, like 3).

Reading trusts nothing in the file and never reads more than it has checked:
the file's size is compared with a cap (:data:`MAX_BYTES`, or ``max_bytes``)
before anything is read; then the magic bytes, the version and the declared
body size (no larger than the cap, nor than :data:`MAX_RATIO` times the
compressed payload: a few megabytes of zeros cannot declare gigabytes) before
the payload is read, in bounded chunks, into a buffer of exactly the declared
size; decompression stops there. The JSON header is bounded too (size and
number of lists, mappings and strings, so a header cannot expand into gigabytes
of Python objects; a loaded tree model is bounded by its node count, see
:data:`~tabdistill_runtime.validation.BYTES_PER_NODE`). Only plain numeric
dtypes are accepted (no object arrays, so nothing is unpickled), and any
failure is one :class:`~tabdistill_runtime.exceptions.ArtifactError` saying
what was expected.
What the arrays *mean* is checked by :mod:`tabdistill_runtime.validation`.
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
#: The version of a blend's file (:mod:`tabdistill_runtime.blend`): version 3's container, so
#: that a reader of versions 1-3 says to upgrade rather than that the kind is unknown.
BLEND_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
_HEADER = "__header__"
_MAGIC = b"\x93TDR"
_STORED, _ZLIB = 0, 1
_PREFIX = len(_MAGIC) + 10  # magic, version, codec, body size, body CRC-32
#: dtypes a runtime file may hold; anything else (objects, strings, records) is refused
_DTYPES = {np.dtype(t) for t in ("u1", "i1", "u2", "i2", "u4", "i4", "i8", "u8", "f4", "f8")}
#: Largest runtime file, and largest body it may declare, read by default. A default student is
#: tens of kilobytes and the largest of the benchmarks a few megabytes; ``load(max_bytes=)``
#: raises the cap for a file you trust.
MAX_BYTES = 64 << 20
#: Largest body a compressed payload may declare, as a multiple of the payload's size (the
#: runtime's files compress 2-6x; zlib's own limit is about 1000x). Bodies up to
#: :data:`_RATIO_FLOOR` are always allowed.
MAX_RATIO = 50
_RATIO_FLOOR = 1 << 20
#: Lists and mappings a header may hold (a schema has a few per column), and strings (a
#: schema's are its columns, levels and frequency tables). Numbers need no cap: the header's
#: size bounds them (a float of JSON takes >= 4 bytes of text for 32 of memory).
MAX_CONTAINERS = 200_000
MAX_STRINGS = 1_000_000
_CHUNK = 1 << 20
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


def read(source, max_bytes: int = MAX_BYTES) -> tuple[dict, dict]:
    """``(header, arrays)`` of a runtime file.

    Parameters
    ----------
    source : str, path, bytes or binary file object
    max_bytes : int, default=:data:`MAX_BYTES`
        Largest file, and largest uncompressed body, accepted.

    Raises
    ------
    ArtifactError
        If the file is missing, larger than ``max_bytes``, not a runtime file,
        damaged, or of a format version this runtime cannot read.
    """
    name = describe(source)
    data, size = _open(source, name, max_bytes)
    try:
        return _read(data, size, name, max_bytes)
    finally:
        if data is not source:
            data.close()


def _read(data, size: int, name, max_bytes: int) -> tuple[dict, dict]:
    magic = data.read(len(_MAGIC))
    if magic == _MAGIC:
        return _read_packed(data, size, name, max_bytes)
    if magic[:2] != b"PK":  # neither container: say so without parsing anything
        raise ArtifactError(
            f"{name} is not a tabdistill runtime file (it starts with {magic!r}, a runtime file "
            f"with {_MAGIC!r} or, format versions 1 and 2, with a zip archive's b'PK')."
        )
    data.seek(-len(magic), os.SEEK_CUR)
    try:
        arrays = _read_zip(data, max_bytes)
    except ArtifactError:
        raise
    except Exception as exc:  # zip, zlib, npy header, sizes: all mean "damaged or foreign"
        raise ArtifactError(
            f"{name} is not a tabdistill runtime file, or is damaged ({type(exc).__name__}: {exc})."
        ) from None
    header = _header(arrays.pop(_HEADER, None), name)
    return header, arrays


def _read_zip(data, max_bytes: int) -> dict:
    """The ``.npy`` arrays of a version-1 or 2 file, each checked before it is read."""
    with zipfile.ZipFile(data) as zf:
        members = zf.infolist()
        if len(members) > _MAX_MEMBERS:
            raise ValueError(f"{len(members)} members")
        if sum(m.file_size for m in members) > max_bytes:
            raise ValueError(f"declared sizes are larger than the cap of {max_bytes} bytes")
        for m in members:
            if m.file_size > max(MAX_RATIO * m.compress_size, _RATIO_FLOOR):
                raise ValueError(
                    f"member {m.filename!r} declares {m.file_size} bytes from {m.compress_size} "
                    f"(more than {MAX_RATIO}x)"
                )
        arrays = {}
        for member in members:
            key = member.filename[:-4] if member.filename.endswith(".npy") else None
            if not key or key in arrays:
                raise ValueError(f"unexpected member {member.filename!r}")
            with zf.open(member) as fh:
                arrays[key] = _read_array(fh, member.file_size)
    return arrays


class _Oversized(ValueError):
    """Part of a file is larger than the loader's cap allows."""


def _too_large(name, what: str, max_bytes: int) -> ArtifactError:
    return ArtifactError(
        f"{name}: {what}, more than a runtime file may hold with max_bytes={max_bytes:,} (a "
        "student is kilobytes to a few megabytes), so it was not read. If you made this file "
        "and trust it, load it with a larger max_bytes."
    )


def _read_packed(data, size: int, name, max_bytes: int) -> tuple[dict, dict]:
    """``(header, arrays)`` of a version-3 file, after its magic bytes."""
    prefix = data.read(_PREFIX - len(_MAGIC))
    if prefix[:1] and prefix[0] not in (3, BLEND_VERSION):
        raise _unreadable(prefix[0], name)
    try:
        body = _read_body(data, prefix, size - _PREFIX, name, max_bytes)
        header, arrays = _unpack(body, max_bytes // 4)
    except ArtifactError:
        raise
    except _Oversized as exc:
        raise _too_large(name, f"the file holds {exc}", max_bytes) from None
    except Exception as exc:  # sizes, zlib, JSON, listing: all mean "damaged or foreign"
        raise ArtifactError(
            f"{name} is not a tabdistill runtime file, or is damaged ({type(exc).__name__}: {exc})."
        ) from None
    header = _check_header(header, name)
    if header["version"] != prefix[0]:
        raise ArtifactError(
            f"{name} is damaged: a version-{prefix[0]} container holds a header of version "
            f"{header['version']}."
        )
    return header, arrays


def _read_body(data, prefix: bytes, payload_size: int, name, max_bytes: int) -> memoryview:
    """The body of a version-3 file, its sizes and CRC checked, read in bounded chunks."""
    if len(prefix) < _PREFIX - len(_MAGIC):
        raise ValueError("the file ends inside its prefix")
    codec, size = prefix[1], int.from_bytes(prefix[2:6], "little")
    crc = int.from_bytes(prefix[6:10], "little")
    if size > max_bytes:
        raise _too_large(name, f"the file declares a body of {size:,} bytes", max_bytes)
    if codec == _STORED:
        if payload_size != size:
            raise ValueError(f"a stored body of {payload_size} bytes, its prefix declares {size}")
        body = bytearray(size)
        if data.readinto(body) != size:
            raise ValueError("the file is shorter than it was")
    elif codec == _ZLIB:
        if size > max(MAX_RATIO * payload_size, _RATIO_FLOOR):
            raise ValueError(
                f"{payload_size} compressed bytes declare a body of {size} (more than "
                f"{MAX_RATIO}x; the runtime's files compress far less)"
            )
        body = _inflate(data, payload_size, size)
    else:
        raise ValueError(f"unknown codec {codec}")
    if zlib.crc32(body) != crc:
        raise ValueError("the body's CRC-32 does not match")
    return memoryview(body).toreadonly()


def _inflate(data, payload_size: int, size: int) -> bytearray:
    """Decompress ``payload_size`` bytes of ``data`` into exactly ``size`` bytes, chunk by chunk."""
    body, at, left, pending = bytearray(size), 0, payload_size, b""
    inflate = zlib.decompressobj()
    while not inflate.eof:
        if not pending and left:
            pending = data.read(min(_CHUNK, left))
            if not pending:
                raise ValueError("the file is shorter than it was")
            left -= len(pending)
        out = inflate.decompress(pending, min(_CHUNK, size - at + 1))
        pending = inflate.unconsumed_tail
        if at + len(out) > size:
            raise ValueError(f"the compressed body inflates past the declared {size} bytes")
        if not out and not pending and not left:
            break  # nothing left to read and nothing came out: the stream is cut short
        body[at : at + len(out)] = out
        at += len(out)
    if not inflate.eof or inflate.unused_data or pending or left:
        raise ValueError("the compressed body does not end where it should")
    if at != size:
        raise ValueError(f"body of {at} bytes, its prefix declares {size}")
    return body


def _unpack(data: memoryview, max_header: int) -> tuple[dict, dict]:
    text_size = int.from_bytes(data[:4], "little")
    if len(data) < 4 + text_size:
        raise ValueError("the header runs past the end of the file")
    if text_size > max_header:
        raise _Oversized(f"a header of {text_size:,} bytes (max_bytes / 4 at most)")
    text = bytes(data[4 : 4 + text_size])
    strings = text.count(b'"') // 2  # escaped quotes count too: an overestimate
    if strings > MAX_STRINGS:
        raise _Oversized(f"a header of {strings:,} strings ({MAX_STRINGS:,} at most)")
    containers = text.count(b"[") + text.count(b"{")
    if containers > MAX_CONTAINERS:
        raise _Oversized(
            f"a header of {containers:,} lists and mappings ({MAX_CONTAINERS:,} at most)"
        )
    header = json.loads(text.decode())
    del text
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
        or not all(type(d) is int and 0 <= d <= 1 << 40 for d in shape)
    ):
        raise ValueError(f"array {key!r} has shape {shape!r}")
    return key, np.dtype(dtype), tuple(shape)


def describe(source) -> str:
    if isinstance(source, str | os.PathLike):
        return f"'{source}'"
    return f"the {type(source).__name__} given"


def _open(source, name, max_bytes: int):
    """``(seekable binary file, its size)``; refuses a file larger than ``max_bytes`` unread."""
    limit = max_bytes + _PREFIX
    if isinstance(source, bytes | bytearray | memoryview):
        data, size = io.BytesIO(source), memoryview(source).nbytes
    elif hasattr(source, "read"):
        data = source if getattr(source, "seekable", lambda: False)() else _bounded(source, limit)
        start = data.tell()
        size = data.seek(0, os.SEEK_END) - start
        data.seek(start)
    else:
        path = Path(source)
        if not path.is_file():
            raise ArtifactError(f"runtime file not found: {name}.")
        data = path.open("rb")
        size = os.fstat(data.fileno()).st_size
    if size > limit:
        if data is not source:
            data.close()
        more = " or more" if size == limit + 1 and isinstance(data, io.BytesIO) else ""
        raise _too_large(name, f"a file of {size:,} bytes{more}", max_bytes)
    return data, size


def _bounded(stream, limit: int) -> io.BytesIO:
    """A stream's bytes, read in chunks, up to ``limit + 1`` (enough to tell it is too large)."""
    out = io.BytesIO()
    while out.tell() <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - out.tell()))
        if not chunk:
            break
        out.write(chunk)
    out.seek(0)
    return out


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
    if header["version"] >= 3:
        raise ArtifactError(
            f"{name} is damaged: a zip runtime file holds a version-{header['version']} header."
        )
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
