"""Mutated runtime files, for the loader's fuzz test and ``benchmarks/fuzz_loader.py``.

Six kinds of mutation of a good file:

* ``flip``: 1-8 random bytes of the file flipped (prefix, sizes, CRC, zlib stream);
* ``truncate``: the file cut at a random length;
* ``body``: 1-8 random bytes of the uncompressed body flipped (header size, JSON
  text, array listing, array bytes), then stored or compressed with a right
  CRC: what the container's parser and the validation must catch;
* ``arrays``: a well-formed file (version 3, or 2 with its stored children and
  roots) whose arrays are replaced by random ones (random values around the
  real ones, other lengths, other dtypes, NaN/inf, shuffles): what the
  loader's validation must catch, since the CRC is right;
* ``header``: a well-formed file whose JSON header lost a key or got a wrong type;
* ``flip_v2``: 1-8 random bytes flipped in the same model saved as format version 2
  (a zip of ``.npy`` arrays), which is still read.
"""

from __future__ import annotations

import io
import json

import numpy as np

from tabdistill_runtime import format as fmt
from tabdistill_runtime.storage import encode

KINDS = ("flip", "truncate", "body", "arrays", "header", "flip_v2")
#: kinds that make a well-formed file of other values: they may load with other scores
REWRITES = ("body", "arrays", "header")


def _write(header, arrays) -> bytes:
    buffer = io.BytesIO()
    fmt.write(buffer, header, arrays)
    return buffer.getvalue()


def _flip(rng, blob: bytes) -> bytes:
    blob = bytearray(blob)
    for _ in range(rng.integers(1, 9)):
        blob[rng.integers(len(blob))] ^= 1 << int(rng.integers(8))
    return bytes(blob)


def _random_array(rng, like: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _random_array_unchecked(rng, like)


def _random_array_unchecked(rng, like: np.ndarray) -> np.ndarray:
    n = len(like) if like.ndim else 1
    choice = rng.integers(8)
    if choice == 0:  # same dtype, values around the real ones
        lo, hi = (float(like.min()), float(like.max())) if like.size else (0.0, 1.0)
        span = max(hi - lo, 1.0)
        vals = rng.uniform(lo - span, hi + span, size=like.shape)
        return (vals if like.dtype.kind == "f" else np.round(vals)).astype(like.dtype)
    if choice == 1:  # other length
        return np.resize(like, max(0, n + int(rng.integers(-3, 4))))
    if choice == 2:  # other dtype
        return like.astype(rng.choice(["i1", "u2", "i8", "f4", "f8", "u8"]))
    if choice == 3:  # special values
        out = like.astype(np.float64)
        if out.size:
            out.flat[rng.integers(out.size)] = rng.choice([np.nan, np.inf, -np.inf, 1e308, -1.0])
        return out.astype(like.dtype) if like.dtype.kind == "f" else out
    if choice == 4:  # shuffled
        return rng.permutation(like) if like.size else like
    if choice == 5:  # one value changed by a little
        out = like.copy()
        if out.size:
            i = rng.integers(out.size)
            out.flat[i] = out.flat[i] + rng.choice([-1, 1])
        return out
    if choice == 6:  # 2-D
        return np.stack([like, like])
    return rng.integers(-(2**31), 2**31, size=like.shape, dtype=np.int64).astype(like.dtype)


def _mutate_header(rng, header):
    header = json.loads(json.dumps(header))
    keys = list(header)
    key = keys[rng.integers(len(keys))]
    choice = rng.integers(4)
    if choice == 0:
        del header[key]
    elif choice == 1:
        header[key] = [None, 1, "x", 1e308, {}, []][rng.integers(6)]
    elif choice == 2 and isinstance(header.get("meta"), dict) and header["meta"]:
        k = list(header["meta"])[rng.integers(len(header["meta"]))]
        header["meta"][k] = [None, -1, 2.5, "sigmoid", 10**9][rng.integers(5)]
    elif isinstance(header.get("schema"), dict):
        schema = header["schema"]
        k = list(schema)[rng.integers(len(schema))]
        schema[k] = [None, [], {}, 3, ["a", "a"]][rng.integers(5)]
    return header


class Mutator:
    """Mutated copies of one runtime's file, each reproducible from its index."""

    def __init__(self, runtime, seed: int = 0):
        self.seed = seed
        self.good = runtime.to_bytes()
        self.header = runtime.header()
        self.arrays = (
            encode(runtime.arrays, runtime.storage) if runtime.kind == "trees" else runtime.arrays
        )
        self.body = fmt.body(self.header, self.arrays)
        self.header_v2 = {**self.header, "version": 2}
        self.arrays_v2 = (
            encode(runtime.arrays, runtime.storage, links=True)
            if runtime.kind == "trees"
            else runtime.arrays
        )
        self.good_v2 = _write(self.header_v2, self.arrays_v2)

    def __call__(self, i: int) -> tuple[str, bytes]:
        """``(kind, file bytes)`` of mutation number ``i``."""
        rng = np.random.default_rng([self.seed, i])
        kind = KINDS[i % len(KINDS)]
        if kind in ("flip", "flip_v2"):
            return kind, _flip(rng, self.good if kind == "flip" else self.good_v2)
        if kind == "body":
            return kind, fmt.container(_flip(rng, self.body), compress=bool(rng.integers(2)))
        if kind == "truncate":
            return kind, self.good[: rng.integers(len(self.good))]
        if kind == "arrays":  # half of them in version 2, whose children and roots are stored
            v2 = bool(rng.integers(2))
            changed = dict(self.arrays_v2 if v2 else self.arrays)
            for name in rng.choice(list(changed), size=rng.integers(1, 3), replace=False):
                changed[name] = _random_array(rng, changed[name])
            return kind, _write(self.header_v2 if v2 else self.header, changed)
        return kind, _write(_mutate_header(rng, self.header), self.arrays)


def mutations(runtime, n: int, seed: int = 0):
    """Yield ``(kind, file bytes)`` for ``n`` mutated copies of ``runtime``'s file."""
    mutate = Mutator(runtime, seed)
    for i in range(n):
        yield mutate(i)
