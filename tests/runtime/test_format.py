"""The runtime loader never reads what it has not checked: sizes, ratios, headers, nodes."""

import io
import json
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest
from conftest import mixed_frame

from tabdistill_runtime import ArtifactError, CompiledModel
from tabdistill_runtime import format as fmt


@pytest.fixture(scope="module")
def runtime():
    from tabdistill.data import TabularEncoder
    from tabdistill.distill.context import make_student
    from tabdistill.distill.students import compile_student

    X, y = mixed_frame(n=400, seed=4)
    enc = TabularEncoder().fit(X)
    student = make_student("lightgbm", {"n_estimators": 8}, categorical_mask=enc.categorical_mask_)
    return compile_student(student.fit(enc.transform(X), y.to_numpy().astype(float)), enc.schema_)


def _prefixed(body: bytes, codec: int, payload: bytes) -> bytes:
    """A version-3 file whose prefix declares ``body`` (size and CRC) around ``payload``."""
    size, crc = len(body).to_bytes(4, "little"), zlib.crc32(body).to_bytes(4, "little")
    return b"\x93TDR" + bytes([3, codec]) + size + crc + payload


def _peak_mb(path, max_bytes=None) -> tuple[float, str]:
    """Peak resident memory (MB) of a fresh process loading ``path``, and how the load ended."""
    arg = "" if max_bytes is None else f", max_bytes={max_bytes}"
    code = (  # VmHWM: the peak of this process image (ru_maxrss may count the parent's)
        "from tabdistill_runtime import ArtifactError, CompiledModel\n"
        f"try:\n    CompiledModel.load({str(path)!r}{arg}); out = 'loaded'\n"
        "except ArtifactError as e:\n    out = str(e)\n"
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) / 1024); print(out)\n"
    )
    lines = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n", 1)
    return float(lines[0]), lines[1]


def test_a_sparse_multi_gib_file_is_refused_unread(tmp_path):
    path = tmp_path / "sparse.npz"
    with open(path, "wb") as fh:
        fh.write(b"\x93TDR\x03\x00")
        fh.truncate(3 << 30)  # 3 GiB, no block written
    peak, outcome = _peak_mb(path)
    assert (
        "a file of 3,221,225,472 bytes, more than a runtime file may hold with max_bytes=67,108,864"
        in outcome
    )
    assert "larger max_bytes" in outcome
    assert peak < 150


def test_a_stream_larger_than_the_cap_is_refused_after_reading_the_cap_only():
    class Stream(io.RawIOBase):  # not seekable: endless zeros
        read_bytes = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            self.read_bytes += len(buffer)
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    stream = Stream()
    with pytest.raises(
        ArtifactError,
        match="a file of 1,015 bytes or more, more than .* with max_bytes=1,000",
    ):
        CompiledModel.load(stream, max_bytes=1_000)
    assert stream.read_bytes <= 1_015


def test_zero_filled_bodies_with_a_valid_crc_are_refused(tmp_path):
    zeros = bytes(8 << 20)
    bomb = _prefixed(zeros, 1, zlib.compress(zeros, 9))  # 8 MiB from 8 KiB: a 1000x ratio
    with pytest.raises(ArtifactError, match=r"declare a body of 8388608 \(more than 50x"):
        CompiledModel.load(bomb)
    path = tmp_path / "zeros.npz"
    path.write_bytes(_prefixed(zeros, 0, zeros))  # stored: 8 MiB of zeros, CRC right
    peak, outcome = _peak_mb(path)
    assert "is not a tabdistill runtime file, or is damaged" in outcome
    assert peak < 150


def test_declared_sizes_beyond_the_cap_are_refused_before_reading(runtime):
    good = runtime.to_bytes()
    huge = good[:6] + (2**32 - 1).to_bytes(4, "little") + good[10:]
    with pytest.raises(ArtifactError, match="declares a body of 4,294,967,295 bytes, more than"):
        CompiledModel.load(huge)
    with pytest.raises(ArtifactError, match="declares a body of"):
        CompiledModel.load(good, max_bytes=len(good))  # the file fits, its body does not
    assert CompiledModel.load(good, max_bytes=1 << 20).n_trees == runtime.n_trees


def test_an_array_larger_than_the_body_is_refused(runtime):
    body = bytearray(fmt.body(runtime.header(), runtime._file_arrays()))
    size = int.from_bytes(body[:4], "little")
    header = json.loads(bytes(body[4 : 4 + size]))
    header["arrays"][0][2] = [1 << 40]
    text = json.dumps(header, separators=(",", ":")).encode()
    blob = fmt.container(len(text).to_bytes(4, "little") + text + bytes(body[4 + size :]))
    with pytest.raises(ArtifactError, match="is larger than the data"):
        CompiledModel.load(blob)


def test_a_header_of_millions_of_lists_or_strings_is_refused_before_parsing():
    text = b'{"format":"tabdistill-runtime","x":[' + b"[]," * 300_000 + b"[]]}"
    blob = fmt.container(len(text).to_bytes(4, "little") + text)
    with pytest.raises(ArtifactError, match="lists and mappings"):
        CompiledModel.load(blob)
    text = b'{"format":"tabdistill-runtime","x":[' + b'"ab",' * 1_000_001 + b'"ab"]}'
    blob = fmt.container(len(text).to_bytes(4, "little") + text, compress=False)
    with pytest.raises(ArtifactError, match="a header of 1,000,005 strings"):
        CompiledModel.load(blob)
    text = b'{"format":"tabdistill-runtime","x":"' + b"a" * 2_000 + b'"}'
    blob = fmt.container(len(text).to_bytes(4, "little") + text, compress=False)
    with pytest.raises(
        ArtifactError,
        match=r"header of 2,038 bytes \(max_bytes / 4 at most\), more than .* max_bytes=4,000",
    ):
        CompiledModel.load(blob, max_bytes=4_000)


def test_more_tree_nodes_than_the_cap_allows_are_refused(runtime):
    n_nodes = len(runtime.arrays["feature"])
    blob = runtime.to_bytes()
    small = n_nodes * 48 - 48  # one node too many for this cap
    with pytest.raises(ArtifactError, match=f"{n_nodes:,} tree nodes, more than"):
        CompiledModel.load(blob, max_bytes=small)
    assert CompiledModel.load(blob, max_bytes=n_nodes * 48).n_trees == runtime.n_trees


def test_a_zip_member_declaring_a_huge_expansion_is_refused(runtime):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("__header__.npy", bytes(4 << 20))  # 4 MiB of zeros: a 1000x ratio
    with pytest.raises(ArtifactError, match="more than 50x"):
        CompiledModel.load(buffer.getvalue())


def test_a_file_of_neither_container_is_refused_by_its_first_bytes():
    with pytest.raises(ArtifactError, match=r"starts with b'\\x00\\x01"):
        CompiledModel.load(b"\x00\x01\x02\x03" + bytes(100))


def test_a_runtime_inside_a_larger_file_object_loads_from_where_it_starts(runtime):
    stream = io.BytesIO(b"junk" + runtime.to_bytes())
    stream.seek(4)
    rows = np.zeros((3, runtime.n_features))
    np.testing.assert_array_equal(
        CompiledModel.load(stream).score_encoded(rows), runtime.score_encoded(rows)
    )
