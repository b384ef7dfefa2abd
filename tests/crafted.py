"""Crafted files that attack the loaders' sizes, for the tests and ``benchmarks/fuzz_loader.py``.

Runtime files (:class:`CraftedRuntime`), each reproducible from its index:

* ``sparse``: a sparse file of 1-8 GiB that starts like a runtime file (a valid
  prefix of any declared size), like a zip archive, or with nothing;
* ``zeros``: a body of zeros from 512 bytes to 384 MiB with a valid CRC-32, stored or
  zlib-compressed, bare or behind a valid header whose arrays are all zeros;
* ``declared``: a good file whose declared sizes lie (the prefix's body size, the
  header's size, an array's shape, a zip member's or a ``.npy`` array's size),
  the CRC recomputed so that only the size check can catch it;
* ``bombs``: headers of hundreds of thousands of lists, millions of strings or numbers,
  and well-formed tree models of 0.5-2.5 M nodes (files of 3-30 MB).

Saved full models (:class:`CraftedSkops`): a LightGBM and a scikit-learn model saved
with :func:`~tabdistill.ops.persist.save_model`, with their digest, without it, or
with one recomputed for the edit (a forger's), a digit edited in a LightGBM model
string (``tree_sizes``, ``num_leaves``, children, features, thresholds, leaf values,
anywhere), a byte flipped in any member, or the file cut short.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib

import numpy as np

from tabdistill_runtime import format as fmt

RUNTIME_CLASSES = ("sparse", "zeros", "declared", "bombs")
_MAGIC = b"\x93TDR"


def prefixed(body: bytes, codec: int, payload: bytes, size: int | None = None) -> bytes:
    """A version-3 file: a prefix declaring ``body`` (or ``size``) and its CRC, then ``payload``."""
    size = len(body) if size is None else size
    head = bytes([3, codec]) + size.to_bytes(4, "little") + zlib.crc32(body).to_bytes(4, "little")
    return _MAGIC + head + payload


def tiled_trees(n_trees: int, leaves: int, n_features: int, seed: int = 0) -> dict:
    """The canonical arrays of ``n_trees`` balanced trees of ``leaves`` leaves (a power of 2)."""
    rng = np.random.default_rng(seed)
    depth = int(np.log2(leaves))
    feature, right = [], []

    def grow(d):
        i = len(feature)
        feature.append(-1)
        right.append(-1)
        if d < depth:
            feature[i] = int(rng.integers(n_features))
            grow(d + 1)
            right[i] = len(feature)
            grow(d + 1)

    grow(0)
    per = len(feature)
    offsets = np.repeat(np.arange(n_trees, dtype=np.int32) * per, per)
    right = np.tile(np.array(right, np.int32), n_trees)
    n = per * n_trees
    return {
        "feature": np.tile(np.array(feature, np.int32), n_trees),
        "right": np.where(right >= 0, right + offsets, -1).astype(np.int32),
        "value": np.round(rng.normal(size=n), 2),
        "flags": np.zeros(n, np.uint8),
        "cat_bounds": np.zeros(1, np.int32),
        "cat_bits": np.zeros(0, np.uint32),
        "roots": np.arange(n_trees, dtype=np.int32) * per,
        "tree_output": np.zeros(n_trees, np.int32),
    }


class CraftedRuntime:
    """Crafted runtime files of one good model; ``big`` are large well-formed tree models."""

    def __init__(self, runtime, big=(), seed: int = 0, scale: float = 1.0):
        self.seed, self.good, self.big = seed, runtime.to_bytes(), list(big)
        self.scale = scale  # < 1: smaller zero bodies and header bombs (fast tests)
        self.header = json.loads(json.dumps(runtime.header()))
        arrays = runtime._file_arrays()
        self.body = fmt.body(self.header, arrays)
        self.zero_body = fmt.body(self.header, {k: np.zeros_like(a) for k, a in arrays.items()})
        self.good_v2 = _zip_file({**self.header, "version": 2}, arrays)
        self._payloads = {}

    def __call__(self, kind: str, i: int, folder):
        """``(description, path or bytes)`` of crafted file ``i`` of ``kind``."""
        rng = np.random.default_rng([self.seed, RUNTIME_CLASSES.index(kind), i])
        return getattr(self, f"_{kind}")(rng, folder / f"crafted-{i}.npz")

    def _sparse(self, rng, path):
        size = int(rng.integers(1 << 30, 8 << 30))
        how = int(rng.integers(3))
        start = [self.good[:14], b"PK\x03\x04", b""][how]
        with open(path, "wb") as fh:
            fh.write(start)
            fh.truncate(size)  # no block written: the file takes no space
        return f"sparse-{['v3', 'zip', 'empty'][how]} {size >> 20} MiB", path

    def _zero_file(self, size: int, codec: int) -> bytes:
        """A version-3 file of ``size`` zeros with their CRC-32 (compressed payloads cached)."""
        if size not in self._payloads:
            zeros = bytes(size)
            self._payloads[size] = (zlib.crc32(zeros), zlib.compress(zeros, 9))
        crc, packed = self._payloads[size]
        head = bytes([3, codec]) + size.to_bytes(4, "little") + crc.to_bytes(4, "little")
        return _MAGIC + head + (packed if codec else bytes(size))

    def _zeros(self, rng, path):
        if rng.integers(4) == 0:  # a valid header, every array zero
            body = self.zero_body
            blob = prefixed(body, 1, zlib.compress(body))
            path.write_bytes(blob)
            return "zeros-arrays (a valid header)", path
        size = int(2 ** rng.integers(10, 29)) * int(rng.integers(1, 4)) // 2  # 512 B - 384 MiB
        size = int(size * self.scale)
        codec = int(rng.integers(2)) if size <= 10 << 20 else 1
        path.write_bytes(self._zero_file(size, codec))
        return f"zeros-{'zlib' if codec else 'stored'} {size} bytes", path

    def _declared(self, rng, path):
        huge = int(2 ** rng.uniform(20, 32)) - 1
        what = rng.integers(5)
        if what == 0:  # the prefix's body size
            blob = self.good[:6] + huge.to_bytes(4, "little") + self.good[10:]
        elif what == 1:  # the header's size, inside a body whose CRC is right
            body = huge.to_bytes(4, "little") + self.body[4:]
            blob = prefixed(body, 0, body)
        elif what == 2:  # an array's shape
            header = json.loads(self.body[4 : 4 + int.from_bytes(self.body[:4], "little")])
            k = int(rng.integers(len(header["arrays"])))
            header["arrays"][k][2] = [huge] if rng.integers(2) else [huge, huge]
            text = json.dumps(header, separators=(",", ":")).encode()
            start = 4 + int.from_bytes(self.body[:4], "little")
            body = len(text).to_bytes(4, "little") + text + self.body[start:]
            blob = prefixed(body, 1, zlib.compress(body))
        elif what == 3:  # a zip member's uncompressed size (local and central headers)
            blob = _zip_sizes(self.good_v2, huge)
        else:  # a .npy array's declared shape inside a version-2 file
            blob = self.good_v2.replace(b"'shape': (", f"'shape': ({huge}, ".encode(), 1)
        path.write_bytes(blob)
        return f"declared-{['prefix', 'header', 'shape', 'zip', 'npy'][what]} {huge}", path

    def _bombs(self, rng, path):
        what = int(rng.integers(8))
        if what == 7 and self.big:  # a well-formed model of many nodes
            big = self.big[int(rng.integers(len(self.big)))]
            return f"bombs-{big.stem} (a well-formed model)", big
        start = b'{"format":"tabdistill-runtime","x":'
        n = int(rng.integers(1e5, 3e6) * self.scale)
        if what == 0:  # lists: tiny text, many objects
            kind, text = "lists", start + b"[" + b"[]," * n
        elif what == 1:  # short distinct strings: ~12 bytes of memory a byte of text
            pairs = rng.integers(0, 26, size=(2 * n, 2)) + ord("a")
            items = np.full((2 * n, 5), ord('"'), np.uint8)
            items[:, 1:3], items[:, 4] = pairs, ord(",")
            kind, text = "strings", start + b"[" + items.tobytes()
        elif what < 5:  # numbers
            kind, text = "numbers", start + b"[" + b"1.5," * (2 * n)
        else:
            kind, text = "nesting", start + b"[" * (n // 3)
        body = len(text).to_bytes(4, "little") + text
        stored = len(body) <= 10 << 20 and rng.integers(2)  # zlib is refused for its ratio
        path.write_bytes(
            prefixed(body, 0, body) if stored else prefixed(body, 1, zlib.compress(body))
        )
        return f"bombs-{kind} in {len(text)} bytes", path


def _zip_file(header: dict, arrays: dict) -> bytes:
    buffer = io.BytesIO()
    fmt.write(buffer, header, arrays)
    return buffer.getvalue()


def _zip_sizes(blob: bytes, size: int) -> bytes:
    """``blob`` (a zip) with its first member's uncompressed size declared as ``size``."""
    blob = bytearray(blob)
    local = blob.find(b"PK\x03\x04")
    blob[local + 22 : local + 26] = size.to_bytes(4, "little")
    central = blob.find(b"PK\x01\x02")
    blob[central + 24 : central + 28] = size.to_bytes(4, "little")
    return bytes(blob)


class CraftedSkops:
    """Tampered copies of saved full models (``templates``: name -> saved path)."""

    EDITS = ("tree_sizes", "num_leaves", "left_child", "split_feature", "threshold", "leaf_value")

    def __init__(self, templates: dict, seed: int = 0):
        self.templates, self.seed = templates, seed

    def __call__(self, i: int, folder):
        """``(description, path)`` of tampered model ``i``."""
        from tabdistill.ops.persist import DIGEST

        rng = np.random.default_rng([self.seed, 99, i])
        name = sorted(self.templates)[i % len(self.templates)]
        digest = ("digest", "nodigest", "forged")[int(rng.integers(3))]
        path = folder / f"tampered-{i}.skops"
        with zipfile.ZipFile(self.templates[name]) as zin:
            members = {m.filename: zin.read(m) for m in zin.infolist()}
        members.pop(DIGEST)
        what = "text" if name.startswith("lightgbm") and rng.integers(3) else "bytes"
        if what == "text":
            key = self.EDITS[int(rng.integers(len(self.EDITS) + 1)) - 1] if rng.integers(4) else ""
            members["schema.json"], what = _edit_lightgbm(members["schema.json"], key, rng)
        elif rng.integers(4):
            # by content, not name: skops names arrays by object ids, which differ between saves
            order = sorted(members, key=lambda k: (k != "schema.json", len(members[k]), members[k]))
            member = order[int(rng.integers(len(order)))]
            data = bytearray(members[member])
            data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
            members[member], what = bytes(data), f"flip-{member.split('.')[-1]}"
        if digest != "nodigest":  # the digest saved with the model, or one made for the edit
            source = members if digest == "forged" else self._originals(name)
            sums = {k: hashlib.sha256(v).hexdigest() for k, v in source.items()}
            members[DIGEST] = json.dumps({"sha256": sums}).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zout:
            for member, data in members.items():
                zout.writestr(member, data)
        blob = buffer.getvalue()
        if what == "bytes":  # the file cut short
            blob, what = blob[: int(rng.integers(len(blob)))], "truncated"
        path.write_bytes(blob)
        return f"{name}-{digest}-{what}", path

    def _originals(self, name) -> dict:
        from tabdistill.ops.persist import DIGEST

        with zipfile.ZipFile(self.templates[name]) as zin:
            return {m.filename: zin.read(m) for m in zin.infolist() if m.filename != DIGEST}


def _edit_lightgbm(schema: bytes, key: str, rng) -> tuple[bytes, str]:
    """``schema.json`` with one digit of its (first) LightGBM model string changed."""
    text = schema.decode()
    start = text.index('"\\"tree\\\\nversion=')  # the model string, JSON-encoded inside JSON
    end = text.index('"', start + 3)
    while text[end - 1] == "\\":
        end = text.index('"', end + 1)
    model = text[start : end + 1]
    anchors = [m.end() for m in re.finditer(key + "=", model)] if key else [0]
    at = anchors[int(rng.integers(len(anchors)))]
    digits = [m.start() for m in re.finditer(r"\d", model[at:])]
    if not digits:
        return schema, f"{key or 'any'}(no-digit)"
    j = at + (digits[0] if key else digits[int(rng.integers(len(digits)))])
    model = model[:j] + str((int(model[j]) + int(rng.integers(1, 10))) % 10) + model[j + 1 :]
    return (text[:start] + model + text[end + 1 :]).encode(), f"digit-{key or 'anywhere'}"
