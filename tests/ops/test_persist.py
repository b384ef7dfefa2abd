"""Saved models: a digest of every member and LightGBM model strings checked before loading."""

import json
import re
import subprocess
import sys
import zipfile

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from tabdistill.exceptions import ArtifactError
from tabdistill.ops.lightgbm_text import check_model_text
from tabdistill.ops.persist import DIGEST, load_model, save_model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    return X, (X[:, 0] + rng.normal(size=300) > 0).astype(int)


@pytest.fixture(scope="module")
def booster_model(data, tmp_path_factory):
    X, y = data
    model = lgb.LGBMClassifier(n_estimators=4, num_leaves=6, verbose=-1).fit(X, y)
    return save_model(model, tmp_path_factory.mktemp("m") / "lgbm.skops")


def _rewrite(src, dst, edit_text=None, edit_member=None, keep_digest=True):
    """A copy of a saved model with its LightGBM text or one member's bytes edited."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == DIGEST and not keep_digest:
                continue
            if item.filename == "schema.json" and edit_text:
                schema = json.loads(data)
                handle = schema["content"]["content"]["_Booster"]["content"]["content"]["_handle"]
                handle["content"] = json.dumps(edit_text(json.loads(handle["content"])))
                data = json.dumps(schema).encode()
            if edit_member and edit_member[0](item.filename):
                data = edit_member[1](data)
            zout.writestr(item, data)
    return dst


def _bump_digit_after(key, nth=0):
    def edit(text):
        i = [m.end() for m in re.finditer(key + "=", text)][nth]
        i += re.search(r"\d", text[i:]).start()
        return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]

    return edit


def test_a_saved_model_holds_a_digest_and_loads_silently(booster_model, data, recwarn):
    with zipfile.ZipFile(booster_model) as zf:
        digest = json.loads(zf.read(DIGEST))["sha256"]
        assert set(digest) == set(zf.namelist()) - {DIGEST}
    X, _ = data
    assert load_model(booster_model).predict_proba(X).shape == (300, 2)
    assert not [w for w in recwarn if "digest" in str(w.message)]


@pytest.mark.parametrize("key", ["tree_sizes", "num_leaves", "threshold", "leaf_value"])
def test_any_edit_of_a_model_with_a_digest_is_refused(booster_model, tmp_path, key):
    bad = _rewrite(booster_model, tmp_path / "bad.skops", _bump_digit_after(key))
    with pytest.raises(ArtifactError, match=r"is not the file that was saved: \['schema.json'\]"):
        load_model(bad)


def test_an_edited_scikit_learn_tree_array_is_refused(data, tmp_path):
    X, y = data
    path = save_model(DecisionTreeClassifier(max_depth=3).fit(X, y), tmp_path / "tree.skops")
    flip = (lambda name: name.endswith(".npy"), lambda b: b[:-1] + bytes([b[-1] ^ 1]))
    with pytest.raises(ArtifactError, match="not the file that was saved"):
        load_model(_rewrite(path, tmp_path / "bad.skops", edit_member=flip))


def test_without_a_digest_damaged_lightgbm_text_is_refused_before_lightgbm_reads_it(
    booster_model, tmp_path
):
    """Each of these edits makes LightGBM abort the process (or read out of bounds) on load."""
    edits = {
        "tree_sizes": _bump_digit_after("tree_sizes"),
        "num_leaves": _bump_digit_after("num_leaves"),
        "left_child": lambda t: t.replace("left_child=1 ", "left_child=9 ", 1),
        "split_feature": lambda t: t.replace("split_feature=0 ", "split_feature=7 ", 1),
    }
    paths = [
        _rewrite(booster_model, tmp_path / f"{k}.skops", edit, keep_digest=False)
        for k, edit in edits.items()
    ]
    code = (  # in a child process: were the check to miss, LightGBM would end the test run
        "import sys, warnings\nwarnings.simplefilter('ignore')\n"
        "from tabdistill.ops.persist import load_model\nfrom tabdistill.exceptions import "
        "ArtifactError\nfor p in sys.argv[1:]:\n    try:\n        load_model(p); print('loaded')\n"
        "    except ArtifactError as e:\n        print(str(e).split('model (')[1].split(')')[0])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-500:]
    outcomes = run.stdout.splitlines()
    assert len(outcomes) == 4 and "loaded" not in outcomes, outcomes
    assert "offset" in outcomes[0] or "past the end" in outcomes[0]


def test_a_model_saved_without_a_digest_loads_with_a_warning(booster_model, tmp_path, data):
    old = _rewrite(booster_model, tmp_path / "old.skops", keep_digest=False)
    with pytest.warns(UserWarning, match="has no digest"):
        model = load_model(old)
    np.testing.assert_array_equal(
        model.predict_proba(data[0]), load_model(booster_model).predict_proba(data[0])
    )


def test_a_failed_save_leaves_the_previous_file_untouched(booster_model, tmp_path, monkeypatch):
    import skops.io

    def disk_full(model, file):
        open(file, "wb").write(b"half a model")
        raise OSError("No space left on device")

    path = tmp_path / "model.skops"
    path.write_bytes(booster_model.read_bytes())
    monkeypatch.setattr(skops.io, "dump", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_model(object(), path)
    assert path.read_bytes() == booster_model.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["model.skops"]


def _text(booster_model):
    with zipfile.ZipFile(booster_model) as zf:
        schema = json.loads(zf.read("schema.json"))
    return json.loads(
        schema["content"]["content"]["_Booster"]["content"]["content"]["_handle"]["content"]
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("tree_sizes=", "tree_sizes=9", 1), "past the end|does not start"),
        (
            lambda t: t.replace("num_leaves=6", "num_leaves=5", 1),
            "leaf_value holds 6 numbers, 5 expected",
        ),
        (lambda t: t.replace("left_child=1 ", "left_child=0 ", 1), "do not form a tree"),
        (lambda t: t.replace("left_child=1 ", "left_child=-9 ", 1), "child index outside"),
        (lambda t: t.replace("split_feature=", "split_feature=9", 1), "split_feature outside"),
        (lambda t: t.replace("max_feature_idx=3", "max_feature_idx=x"), "invalid literal"),
        (lambda t: t.replace("\nnum_cat=0\n", "\nnum_cat 0\n", 1), "not key=value"),
    ],
)
def test_check_model_text_names_what_lightgbm_could_not_load(booster_model, edit, message):
    text = _text(booster_model)
    check_model_text(text)
    with pytest.raises(ValueError, match=message):
        check_model_text(edit(text))


@pytest.mark.parametrize("damage", ["child", "cycle", "feature"])
def test_a_forged_scikit_learn_tree_is_refused_before_it_can_predict(data, tmp_path, damage):
    """The digest is recomputed (a forger can): the tree check must catch what would crash."""
    X, y = data
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    if damage == "child":
        nodes["left_child"][0] = 10_000  # predict would read far outside the node array
    elif damage == "cycle":
        nodes["left_child"][1] = 0  # back to the root: predict would never end
    else:
        nodes["feature"][0] = 99
    model.tree_.__setstate__({**state, "nodes": nodes})
    path = save_model(model, tmp_path / "forged.skops")
    with pytest.raises(ArtifactError, match="damaged scikit-learn tree"):
        load_model(path)


def test_a_model_that_loads_but_cannot_predict_is_refused(data, tmp_path):
    X, y = data
    path = save_model(DecisionTreeClassifier(max_depth=3).fit(X, y), tmp_path / "tree.skops")
    rename = (
        lambda name: name == "schema.json",
        lambda b: b.replace(b'"n_outputs_"', b'"n_outpXts_"'),
    )
    bad = _rewrite(path, tmp_path / "bad.skops", edit_member=rename, keep_digest=False)
    with pytest.warns(UserWarning, match="no digest"):
        with pytest.raises(ArtifactError, match="loads but cannot predict .AttributeError"):
            load_model(bad)
