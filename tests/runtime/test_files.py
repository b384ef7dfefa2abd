"""The runtime file: round trips through paths, bytes and file objects; every bad file refused."""

import io
import json
import zipfile

import numpy as np
import pytest
from fuzzing import REWRITES, mutations

from tabdistill import make_fraud
from tabdistill.data import TabularEncoder, split_target
from tabdistill.distill.context import make_student
from tabdistill.distill.students import compile_student
from tabdistill.exceptions import ArtifactError
from tabdistill.runtime import CompiledModel
from tabdistill_runtime import format as fmt
from tabdistill_runtime.storage import encode
from tabdistill_runtime.trees import preorder_links


@pytest.fixture(scope="module")
def model_and_rows():
    X, y = split_target(make_fraud(3_000, fraud_rate=0.05, random_state=3), "is_fraud")
    enc = TabularEncoder().fit(X)
    student = make_student(
        "lightgbm", {"n_estimators": 20}, categorical_mask=enc.categorical_mask_, random_state=0
    )
    student.fit(enc.transform(X), y.to_numpy().astype(float))
    runtime = compile_student(student, enc.schema_)
    Z = enc.transform(X.head(400))
    Z[::5, 0] = np.nan
    return runtime, Z


def _header(runtime, **changes):
    return {**runtime.header(), **changes}


def _file(runtime, header=None, **array_changes) -> bytes:
    header = header or _header(runtime)
    arrays = encode(runtime.arrays, runtime.storage, links=header.get("version") == 2)
    arrays.update(array_changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    buffer = io.BytesIO()
    fmt.write(buffer, header, arrays)
    return buffer.getvalue()


def test_round_trip_through_path_bytes_and_file_objects(model_and_rows, tmp_path):
    runtime, Z = model_and_rows
    expected = runtime.score_encoded(Z)
    path = runtime.save(tmp_path / "m.npz")
    buffer = io.BytesIO()
    runtime.save(buffer)
    for source in (path, str(path), buffer.getvalue(), io.BytesIO(buffer.getvalue())):
        np.testing.assert_array_equal(CompiledModel.load(source).score_encoded(Z), expected)
    assert CompiledModel.load(runtime.to_bytes()).score_one(Z[3]) == runtime.score_one(Z[3])
    assert path.read_bytes()[:5] == b"\x93TDR\x03"  # format version 3


def test_a_version_1_file_still_loads(model_and_rows, tmp_path):
    runtime, Z = model_and_rows
    a = runtime.arrays
    n = len(a["feature"])
    leaf = a["feature"] < 0
    left = np.where(leaf, -1, np.arange(n) + 1)

    def child(c):  # version 1 pointed at leaves with ~index
        return np.where(c < 0, c, np.where(leaf[np.maximum(c, 0)], ~c, c))

    ints = np.column_stack([a["feature"], child(left), child(a["right"]), a["flags"]])
    roots = np.where(leaf[a["roots"]], ~a["roots"], a["roots"])
    header = _header(runtime, version=1, meta={**runtime.meta, "n_trees": runtime.n_trees})
    del header["storage"]
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    arrays = dict(ints=ints.astype(np.int32), values=a["value"], roots=roots.astype(np.int32))
    arrays.update(cat_bounds=a["cat_bounds"], cat_bits=a["cat_bits"])
    np.savez(tmp_path / "v1.npz", __header__=blob, **arrays)
    old = CompiledModel.load(tmp_path / "v1.npz")
    np.testing.assert_array_equal(old.score_encoded(Z), runtime.score_encoded(Z))


def test_a_version_2_file_still_loads(model_and_rows):
    runtime, Z = model_and_rows
    old = _file(runtime, _header(runtime, version=2))
    assert old[:2] == b"PK"  # version 2 was a zip of .npy arrays
    np.testing.assert_array_equal(
        CompiledModel.load(old).score_encoded(Z), runtime.score_encoded(Z)
    )
    assert len(runtime.to_bytes()) < len(old) - 1_000  # ~1.2 KB of zip and .npy headers gone


def _packed(runtime, text=None, tail=b"", compress=True, **listing_changes) -> bytes:
    """A version-3 file whose JSON header text or array bytes were rewritten, CRC made right."""
    body = fmt.body(runtime.header(), encode(runtime.arrays, runtime.storage))
    size = int.from_bytes(body[:4], "little")
    header = json.loads(body[4 : 4 + size])
    listing = {name: [name, dtype, shape] for name, dtype, shape in header["arrays"]}
    listing.update(listing_changes)
    header["arrays"] = [v for v in listing.values() if v is not None]
    text = json.dumps(header).encode() if text is None else text
    body = len(text).to_bytes(4, "little") + text + body[4 + size :] + tail
    return fmt.container(body, compress=compress)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(text=b"[1, 2]"), "not a mapping"),
        (dict(text=b"{nope"), "JSONDecodeError"),
        (dict(tail=b"\0"), "1 bytes after the last array"),
        (dict(feature=["feature", "|O", [3]]), "not a plain little-endian"),
        (dict(split_table=["split_table", ">f8", [3]]), "not a plain little-endian"),
        (dict(feature=["feature", "|i1", [10**9]]), "larger than the data"),
        (dict(feature=["feature", "|i1", [-1]]), "has shape"),
        (dict(feature=["flags", "|i1", [3]]), "listed twice"),
        (dict(feature=None), "bytes after the last array"),
    ],
)
def test_damaged_version_3_containers_are_refused(model_and_rows, change, message):
    runtime, _ = model_and_rows
    for compress in (True, False):
        with pytest.raises(ArtifactError, match=message):
            CompiledModel.load(_packed(runtime, compress=compress, **change))


def test_version_3_prefix_is_checked_before_anything_is_decompressed(model_and_rows):
    runtime, Z = model_and_rows
    good = runtime.to_bytes()
    assert good[5] == 1  # zlib: the body compresses
    stored = _packed(runtime, compress=False)
    assert stored[5] == 0
    np.testing.assert_array_equal(
        CompiledModel.load(stored).score_encoded(Z), runtime.score_encoded(Z)
    )

    def with_prefix(blob, at, value: bytes):
        return blob[:at] + value + blob[at + len(value) :]

    cases = {
        "format version 5": with_prefix(good, 4, b"\x05"),
        "version-4 container holds a header of version 3": with_prefix(good, 4, b"\x04"),
        "unknown codec 7": with_prefix(good, 5, b"\x07"),
        "declares 10": with_prefix(stored, 6, (10).to_bytes(4, "little")),
        "declares a body of 4,294,967,295 bytes, more than": with_prefix(
            good, 6, (2**32 - 1).to_bytes(4, "little")
        ),
        "CRC-32": with_prefix(stored, 10, b"\0\0\0\0"),
        "inside its prefix": good[:9],
    }
    bomb = fmt.container(b"\0" * 10**6)  # a zlib body larger than the size it declares
    cases["inflates past the declared 100 bytes"] = with_prefix(
        bomb, 6, (100).to_bytes(4, "little")
    )
    for message, blob in cases.items():
        with pytest.raises(ArtifactError, match=message):
            CompiledModel.load(blob)
    header = json.loads(json.dumps(runtime.header()))
    with pytest.raises(ArtifactError, match="holds a header of version 2"):
        CompiledModel.load(fmt.container(fmt.body({**header, "version": 2}, {})))


@pytest.mark.parametrize(
    "version, change, message",
    [
        (2, dict(right=np.full(1, 5, np.int8)), "differ in length"),
        (3, dict(right=np.full(1, 5, np.int8)), r"unexpected array\(s\) \['right'\]"),
        (3, dict(feature=None), "'feature' is missing"),
        (3, dict(extra=np.zeros(2)), "unexpected array"),
        (3, dict(split_code=np.zeros(3, np.float64)), "dtype float64"),
        (2, dict(roots=np.zeros(2, np.int8), tree_output=np.zeros(2, np.int8)), "tree 1 starts"),
        (3, dict(tree_output=np.zeros(2, np.int8)), "do not make 2 trees"),
        (3, dict(split_table=np.array([0.5])), r"'split_code' holds values outside \[0, 0\]"),
    ],
)
def test_bad_arrays_are_refused_with_the_problem_named(model_and_rows, version, change, message):
    runtime, _ = model_and_rows
    with pytest.raises(ArtifactError, match=message):
        CompiledModel.load(_file(runtime, _header(runtime, version=version), **change))


def test_crafted_tables_that_would_crash_or_hang_are_refused(model_and_rows):
    runtime, Z = model_and_rows
    packed = encode(runtime.arrays, runtime.storage)
    split = np.flatnonzero(runtime.arrays["feature"] >= 0)
    v2 = _header(runtime, version=2)
    cases = {}
    right = runtime.arrays["right"].copy()
    right[split[0]] = 10**6  # out of range
    cases["out of range child"] = dict(header=v2, right=right)
    right = runtime.arrays["right"].copy()
    right[split[1]] = split[0]  # points back up: a cycle
    cases["cycle"] = dict(header=v2, right=right)

    feature = runtime.arrays["feature"].copy()
    feature[split[0]] = runtime.n_features  # one past the row
    cases["feature index"] = dict(feature=feature)
    flags = runtime.arrays["flags"].copy()
    flags[split[0]] |= 8  # categorical, naming a category set that does not exist
    cases["category set"] = dict(flags=flags, split_table=packed["split_table"] + 1e6)
    table = packed["split_table"].copy()
    table[0] = np.nan
    cases["NaN threshold"] = dict(split_table=table)
    for name, change in cases.items():
        with pytest.raises(ArtifactError, match="invalid runtime"):
            CompiledModel.load(_file(runtime, **change))
        assert name


def test_children_and_roots_follow_from_the_leaves_in_pre_order(model_and_rows):
    runtime, _ = model_and_rows
    right, roots = preorder_links(runtime.arrays["feature"], runtime.n_trees)
    np.testing.assert_array_equal(right, runtime.arrays["right"])
    np.testing.assert_array_equal(roots, runtime.arrays["roots"])
    # s0 (s1 L L) L | L: two trees, the second a single leaf
    right, roots = preorder_links(np.array([0, 1, -1, -1, -1, -1]), 2)
    assert right.tolist() == [4, 3, -1, -1, -1, -1] and roots.tolist() == [0, 5]
    for feature, n_trees in (([0, -1], 1), ([-1, -1], 1), ([-1], 2), ([0, -1, -1, 0], 1)):
        with pytest.raises(ValueError, match="do not make"):
            preorder_links(np.array(feature), n_trees)


@pytest.mark.parametrize(
    "header, message",
    [
        ({"kind": None}, "unknown runtime kind"),
        ({"version": 99}, "format version 99"),
        ({"format": "other"}, "not a tabdistill runtime"),
        ({"meta": {"output": 7}}, "unknown output transform"),
        ({"meta": {"output": 0, "base": float("nan")}}, "finite"),
        ({"storage": {"leaf": "int4"}}, "unknown storage"),
        ({"schema": {"features": 3}}, "invalid runtime"),
    ],
)
def test_bad_headers_are_refused(model_and_rows, header, message):
    runtime, _ = model_and_rows
    with pytest.raises(ArtifactError, match=message):
        CompiledModel.load(_file(runtime, _header(runtime, **header)))


def test_damaged_and_foreign_files_are_refused(model_and_rows, tmp_path):
    runtime, _ = model_and_rows
    good = runtime.to_bytes()
    for bad in (good[: len(good) // 2], good[:-30], b"", b"PK\x03\x04" + b"\0" * 40, b"hello"):
        with pytest.raises(ArtifactError):
            CompiledModel.load(bad)
    pickled = io.BytesIO()
    np.savez(pickled, __header__=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ArtifactError, match="not a plain"):
        CompiledModel.load(pickled.getvalue())
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as zf:
        header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
        header["shape"] = (10**12,)
        npy = io.BytesIO()
        np.lib.format.write_array_header_1_0(npy, header)
        zf.writestr("value.npy", npy.getvalue() + b"\0" * 8)
    with pytest.raises(ArtifactError, match="larger than the data"):
        CompiledModel.load(bomb.getvalue())
    with pytest.raises(ArtifactError, match="not found"):
        CompiledModel.load(tmp_path / "absent.npz")


def test_a_failed_save_keeps_the_previous_file(model_and_rows, tmp_path):
    runtime, _ = model_and_rows
    path = runtime.save(tmp_path / "m.npz")
    before = path.read_bytes()
    broken = CompiledModel.load(before)
    broken.storage = {"leaf": "int8", "leaf_scale": 1e-9}  # values are not on this grid
    with pytest.raises(ValueError, match="not on the 'int8' grid"):
        broken.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_fuzzed_files_load_with_an_error_or_score_sanely(model_and_rows):
    """360 mutated files (byte flips, truncation, random arrays): never a crash or a hang."""
    runtime, Z = model_and_rows
    expected = runtime.score_encoded(Z)
    outcomes = {"refused": 0, "identical": 0, "loaded": 0}
    for kind, blob in mutations(runtime, n=360, seed=0):
        try:
            model = CompiledModel.load(blob)
        except ArtifactError:
            outcomes["refused"] += 1
            continue
        scores = model.score_encoded(Z)
        one = model.score_one(Z[0])
        assert np.isfinite(scores).all() and np.isfinite(one)
        if np.array_equal(scores, expected):
            outcomes["identical"] += 1
        else:  # only a well-formed change of values may change scores
            assert kind in REWRITES, kind
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 100 and outcomes["identical"] > 0
