"""Registry operations for cron users: list, promote, rollback, prune, lock (issue 11, item 5)."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import job_config, mixed_frame

from tabdistill.cli import main
from tabdistill.exceptions import ArtifactError
from tabdistill.ops.registry import Registry, load_runtime


def _config(registry):
    return job_config(
        data={"train": "train.csv", "target": "label"},
        teacher={"members": ["lightgbm"]},
        student={"params": {"n_estimators": 10, "num_leaves": 4}},
        augment={"factors": [0], "alphas": [1.0]},
        registry={"path": registry},
        gate={
            "max_p99_us": 1e6,
            "min_roc_auc": 0.0,
            "max_teacher_gap": 1.0,
            "max_roc_auc_drop": 1.0,
            "max_pr_auc_drop": 1.0,
        },
        run=None,
    )


def _job(root, registry="registry"):
    X, y = mixed_frame(300, seed=5)
    X.assign(label=y).to_csv(root / "train.csv", index=False)
    config = root / f"{registry}.toml"
    config.write_text(_config(registry))
    return config


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """Three versions: passed, passed, rejected (an impossible ROC-AUC floor)."""
    root = tmp_path_factory.mktemp("ops")
    config = _job(root)
    # seeds differ: a retrain of unchanged data and settings is skipped
    for seed, extra in (("1", []), ("2", []), ("3", ["--set", "gate.min_roc_auc=1.0"])):
        code = main(["retrain", "--config", str(config), "--seed", seed, *extra, "-q"])
        assert code in (0, 3)
    reg = Registry(root / "registry")
    assert len(reg.versions()) == 3
    return reg


def test_list_marks_production_and_gate(registry, capsys):
    assert main(["registry", "list", str(registry.root)]) == 0
    out = capsys.readouterr().out
    first, second, rejected = registry.versions()
    assert f"* {second}" in out and "rejected" in out and "passed" in out
    assert main(["registry", "list", str(registry.root), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["gate"] for r in rows] == ["passed", "passed", "rejected"]
    assert [r["production"] for r in rows] == [False, True, False]


def test_promote_refuses_rejected_without_force_and_rollback_undoes(registry, capsys):
    first, second, rejected = registry.versions()
    assert main(["registry", "promote", str(registry.root), rejected]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rejected by the quality gate" in err[0] and "--force" in err[0]
    assert registry.production() == second
    assert main(["registry", "promote", str(registry.root), rejected, "--force", "-q"]) == 0
    assert registry.production() == rejected
    assert main(["registry", "rollback", str(registry.root), "-q"]) == 0
    assert registry.production() == second
    assert main(["registry", "rollback", str(registry.root), "-q"]) == 0
    assert registry.production() == first
    assert main(["registry", "rollback", str(registry.root), "-q"]) == 2  # nothing earlier
    assert "no earlier production version" in capsys.readouterr().err
    assert main(["registry", "promote", str(registry.root), second, "-q"]) == 0


def test_edited_manifest_is_refused(registry, tmp_path):
    import shutil

    version = registry.production()
    copy = tmp_path / version
    shutil.copytree(registry.root / version, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["gate"]["passed"] = True
    manifest["metrics"]["student"]["roc_auc"] = 0.999  # a 'better' model, by editing
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with pytest.raises(ArtifactError, match="edited after it was written"):
        load_runtime(copy)


def test_production_pointer_cannot_leave_the_registry(registry, tmp_path):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(registry.root, root)
    outside = tmp_path / "elsewhere"
    shutil.copytree(registry.root / registry.production(), outside)
    for target in ("../elsewhere", str(outside), "..", ".hidden"):
        (root / "production.json").write_text(json.dumps({"version": target}))
        with pytest.raises(ArtifactError, match="not a plain version name"):
            load_runtime(root)


def test_prune_keeps_newest_and_never_production(registry, tmp_path, capsys):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(registry.root, root)
    reg = Registry(root)
    first, second, rejected = reg.versions()
    reg.promote(second)
    reg.promote(first)
    assert main(["registry", "prune", str(root), "--keep", "1"]) == 0
    # the newest, production, and the version rollback returns to
    assert reg.versions() == [first, second, rejected]
    assert f"kept {second} as well: rollback returns to it" in capsys.readouterr().out
    assert reg.production() == first
    assert main(["registry", "prune", str(root), "--keep", "0"]) == 2


def _copy_version(reg, source) -> str:
    """A new version of ``reg`` holding ``source``'s model (no training)."""
    manifest, runtime = load_runtime(reg.root / source)
    for key in ("format", "format_version", "version", "files"):
        manifest.pop(key)
    time.sleep(0.001)  # versions are named by the time
    return reg.write_version(manifest, runtime)


def test_rollback_after_prune(registry, tmp_path, capsys):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(registry.root, root)
    reg = Registry(root)
    a, b, c, d = (_copy_version(reg, registry.production()) for _ in range(4))
    for version in (a, b, c):
        reg.promote(version)
    assert main(["registry", "prune", str(root), "--keep", "1", "-q"]) == 0
    assert reg.versions() == [b, c, d]  # a and the fixture's three are gone
    assert main(["registry", "rollback", str(root), "-q"]) == 0
    assert reg.production() == b
    assert main(["registry", "rollback", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no earlier production version" in err[0]
    assert f"the earlier production version(s) {a}" in err[0] and "deleted" in err[0]
    assert f"production stays {b}" in err[0]


def test_versions_and_pointers_outside_the_registry_are_refused(registry, tmp_path, capsys):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(registry.root, root)
    reg = Registry(root)
    outside = tmp_path / "elsewhere"
    shutil.copytree(root / reg.production(), outside)
    (root / "20000101T000000000000Z").symlink_to(outside, target_is_directory=True)
    linked = reg.versions()[0]
    assert linked == "20000101T000000000000Z"  # listed, but never used
    assert main(["registry", "promote", str(root), linked]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"resolves to '{outside}', outside that folder" in err[0]
    rows = {r["version"]: r for r in reg.describe()}
    assert rows[linked]["gate"] == "unreadable" and "outside" in rows[linked]["error"]
    pointer = json.loads((root / "production.json").read_text())
    (root / "production.json").write_text(json.dumps({**pointer, "version": linked}))
    with pytest.raises(ArtifactError, match="outside that folder"):
        load_runtime(root)
    data = str(registry.root.parent / "train.csv")
    out = str(tmp_path / "scores.csv")
    assert main(["predict", "--model", str(root), "--input", data, "--output", out]) == 2
    assert "outside that folder" in capsys.readouterr().err
    (root / "production.json").write_text(json.dumps(pointer))
    assert reg.production() == pointer["version"]
    # the pointer file itself, and a file of a version, may not be links out either
    (tmp_path / "pointer.json").write_text(json.dumps({**pointer, "history": []}))
    (root / "production.json").unlink()
    (root / "production.json").symlink_to(tmp_path / "pointer.json")
    with pytest.raises(ArtifactError, match="production pointer"):
        reg.production()
    (root / "production.json").unlink()
    (root / "production.json").write_text(json.dumps(pointer))
    version = root / pointer["version"]
    shutil.copy(version / "runtime.npz", tmp_path / "runtime.npz")
    (version / "runtime.npz").unlink()
    (version / "runtime.npz").symlink_to(tmp_path / "runtime.npz")
    with pytest.raises(ArtifactError, match="'runtime.npz' in .* outside that folder"):
        load_runtime(root)
    # prune removes the link, never what it points at
    (version / "runtime.npz").unlink()
    shutil.copy(tmp_path / "runtime.npz", version / "runtime.npz")
    assert linked in reg.prune(1)
    assert not (root / linked).exists() and (outside / "manifest.json").is_file()


def test_every_version_holds_its_compiled_teacher_hash_checked(registry, tmp_path):
    import shutil

    for version in registry.versions():
        files = registry.manifest(version)["files"]
        assert set(files) == {"runtime.npz", "teacher_runtime.npz"}
    manifest, teacher = load_runtime(registry.root, scorer="teacher")
    assert teacher.kind == "blend" and teacher.n_trees > 0
    size = (registry.root / manifest["version"] / "teacher_runtime.npz").stat().st_size
    assert manifest["teacher_runtime"] == {"file": "teacher_runtime.npz", "size_bytes": size}
    copy = tmp_path / manifest["version"]
    shutil.copytree(registry.root / manifest["version"], copy)
    blob = bytearray((copy / "teacher_runtime.npz").read_bytes())
    blob[-50] ^= 0xFF
    (copy / "teacher_runtime.npz").write_bytes(bytes(blob))
    for scorer in ("teacher", "student"):  # a version with a changed file is refused whole
        with pytest.raises(ArtifactError, match="teacher_runtime.npz' does not match the hash"):
            load_runtime(copy, scorer=scorer)


def _as_before_the_teacher(version_dir) -> None:
    """Make ``version_dir`` a version as written before versions held the compiled teacher."""
    from tabdistill.ops.files import sha256

    (version_dir / "teacher_runtime.npz").unlink()
    manifest = json.loads((version_dir / "manifest.json").read_text())
    del manifest["teacher_runtime"], manifest["files"]["teacher_runtime.npz"]
    (version_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (version_dir / "manifest.sha256").write_text(sha256(version_dir / "manifest.json") + "\n")


def test_a_version_from_before_scores_with_the_student_and_refuses_the_teacher(
    registry, tmp_path, capsys
):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(registry.root, root)
    _as_before_the_teacher(root / registry.production())
    manifest, student = load_runtime(root)
    assert student.kind != "blend" and "teacher_runtime.npz" not in manifest["files"]
    with pytest.raises(ArtifactError, match="holds no compiled teacher") as err:
        load_runtime(root, scorer="teacher")
    assert "written before" in str(err.value) and "retrain with this release" in str(err.value)
    data, out = str(registry.root.parent / "train.csv"), tmp_path / "scores.csv"
    predict = ["predict", "--model", str(root), "--input", data, "--output", str(out)]
    assert main([*predict, "--scorer", "teacher"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no compiled teacher (teacher_runtime.npz)" in err[0]
    assert not out.exists()
    assert main([*predict, "-q"]) == 0 and len(pd.read_csv(out)) == 300


def test_a_teacher_the_loader_would_refuse_is_left_out_and_says_why(
    registry, tmp_path, monkeypatch, caplog
):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(registry.root, root)
    reg = Registry(root)
    _, teacher = load_runtime(root, scorer="teacher")
    manifest, runtime = load_runtime(root)
    for key in ("format", "format_version", "version", "files"):
        manifest.pop(key)
    monkeypatch.setattr("tabdistill.ops.registry.TEACHER_MAX_BYTES", 2_000)  # a small cap
    with caplog.at_level("INFO", logger="tabdistill.ops.registry"):
        version = reg.write_version(manifest, runtime, teacher=teacher)
    assert "teacher_runtime.npz left out of version" in caplog.text
    written = reg.manifest(version)
    assert set(written["files"]) == {"runtime.npz"}
    assert (
        "larger than the runtime's loader reads by default"
        in written["teacher_runtime"]["left_out"]
    )
    assert not (root / version / "teacher_runtime.npz").exists()
    with pytest.raises(ArtifactError, match="larger than the runtime's loader") as err:
        load_runtime(root / version, scorer="teacher")
    assert "--scorer student" in str(err.value)


def test_stale_temp_files_are_cleaned_by_the_next_run(tmp_path):
    config = _job(tmp_path)
    reg = Registry(tmp_path / "registry")
    reg.root.mkdir()
    stale = reg.root / ".tmp-20200101T000000Z-99999"
    stale.mkdir()
    (stale / "runtime.npz").write_bytes(b"half written")
    (reg.root / ".tmp-production.json.4242").write_text("{")
    assert main(["retrain", "--config", str(config), "-q"]) == 0
    assert not [p for p in reg.root.iterdir() if p.name.startswith(".tmp-")]


def test_lock_is_exclusive(tmp_path):
    reg = Registry(tmp_path / "r")
    with reg.lock():
        start = time.monotonic()
        with pytest.raises(ArtifactError, match="another run"):
            with Registry(tmp_path / "r").lock(timeout_s=0.3):
                pass
        assert time.monotonic() - start >= 0.3
    with Registry(tmp_path / "r").lock(timeout_s=0.1):  # free again
        pass


def test_concurrent_runs_cannot_both_pass_against_the_same_production(tmp_path):
    config = _job(tmp_path)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "tabdistill", "retrain", "--config", str(config), "-q"]
    # two seeds: two models (two identical runs: the second finds production unchanged)
    runs = [
        subprocess.Popen([*cmd, "--seed", str(seed)], env=env, stderr=subprocess.PIPE)
        for seed in (1, 2)
    ]
    assert [r.wait(timeout=300) for r in runs] == [0, 0]
    reg = Registry(tmp_path / "registry")
    first, second = reg.versions()
    before = [reg.manifest(v)["production_before"] for v in (first, second)]
    # the second to reach the gate compared itself with the first's promotion
    assert before == [None, first]
    assert reg.production() == second
    assert np.isfinite(reg.manifest(reg.production())["metrics"]["student"]["roc_auc"])
