"""The benchmarks are a package: every script imports and runs as ``python -m benchmarks.NAME``,
none edits ``sys.path``, the README lists each, and private names of tabdistill stay out."""

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

import benchmarks
from benchmarks.__main__ import main

ROOT = Path(benchmarks.__file__).resolve().parent
SCRIPTS = sorted(benchmarks.scripts())

#: Scripts that still use private names of tabdistill or patch its modules, and why. Remove a
#: script from here once it goes through public parameters or stage objects only.
PRIVATE_STILL: dict[str, str] = {}


def private_uses(path: Path) -> list[str]:
    """Private names of tabdistill (and its runtime) a script imports, private attributes it
    reads, and module attributes of tabdistill it assigns (monkeypatching), as ``line: what``."""
    tree = ast.parse(path.read_text())
    from_tabdistill, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in ("tabdistill", "tabdistill_runtime"):
                names = [a.asname or a.name for a in node.names]
                from_tabdistill.update(names)
                parts = [*node.module.split("."), *(a.name for a in node.names)]
                found += [f"{node.lineno}: import {p}" for p in parts if p.startswith("_")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            if not node.attr.endswith("__"):
                found.append(f"{node.lineno}: .{node.attr}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                if target is not root and isinstance(root, ast.Name):
                    if root.id in from_tabdistill:
                        found.append(f"{node.lineno}: patches {ast.unparse(target)}")
    return found


def test_the_scripts_are_found():
    assert {"suite", "run_all", "runtime_bench", "fuzz_loader"} <= set(SCRIPTS)
    assert "common" not in SCRIPTS and not any(name.startswith("_") for name in SCRIPTS)
    assert all(benchmarks.scripts().values()), "every script opens with a one-line summary"


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_imports_and_has_a_main(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.main)


def test_no_file_mentions_sys_path():
    files = [p for p in ROOT.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > len(SCRIPTS)
    assert [str(p) for p in files if b"sys.path" in p.read_bytes()] == []


def test_the_readme_lists_every_script_with_its_command():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in SCRIPTS if f"`python -m benchmarks.{name}" not in readme]
    assert missing == []
    named = set(re.findall(r"python -m benchmarks\.(\w+)", readme))
    assert named <= set(SCRIPTS), f"the README names scripts that do not exist: {named}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_reaches_into_private_names_of_tabdistill(name):
    found = private_uses(ROOT / f"{name}.py")
    if name in PRIVATE_STILL:
        assert found, f"{name} no longer uses private names: remove it from PRIVATE_STILL"
    else:
        assert found == []


def test_private_uses_finds_imports_attributes_and_patches(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "from tabdistill._compat import x\n"
        "from tabdistill_runtime.from_lightgbm import _add_node\n"
        "from tabdistill.distill import members\n"
        "from .common import helper\n"
        "members.FOREST_FULL_ROWS = 1\n"
        "helper.value = 2\n"
        "model._seed(3)\n"
        "model.__class__\n"
    )
    assert private_uses(script) == [
        "1: import _compat",
        "2: import _add_node",
        "7: ._seed",
        "5: patches members.FOREST_FULL_ROWS",
    ]


def test_the_entry_point_lists_every_script(capsys):
    main([])
    out = capsys.readouterr().out
    assert "python -m benchmarks NAME" in out
    assert [name for name in SCRIPTS if not re.search(rf"^  {name} ", out, re.M)] == []


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
def test_the_entry_point_runs_a_script(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["benchmarks"])
    with pytest.raises(SystemExit) as exc:
        main(["suite", "--help"])
    assert exc.value.code == 0
    assert "usage: python -m benchmarks.suite" in capsys.readouterr().out


def test_the_entry_point_refuses_an_unknown_script():
    with pytest.raises(SystemExit, match="unknown benchmark 'nope'.*suite"):
        main(["nope"])


def test_large_tables_reads_the_evaluation_stages_and_the_frontier_stage_off_the_log():
    from benchmarks.large_tables import logged_stages

    log = "\n".join(
        [
            "tabdistill: student: 31.6 s (14 candidates)",
            "tabdistill: frontier: 3.6 s (0 long runs and 1 refits fit; 2 us distilled)",
            "tabdistill: distillation done: {'roc_auc': 0.78}",
            "tabdistill: test scores: 1.0 s (7,500 rows)",
            "tabdistill: latency: 102.4 s",
            "tabdistill: teacher compiled: 4 members, 600 trees",
            "tabdistill: frontier: 18.4 s",
            "\tUser time (seconds): 12.5",
        ]
    )
    evaluation, frontier = logged_stages(log)
    assert evaluation == {"test scores": 1.0, "latency": 102.4, "frontier": 18.4}
    assert frontier == "0 long runs and 1 refits fit; 2 us distilled"


@pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="needs GNU time")
def test_run_timed_reports_cpu_seconds(tmp_path):
    from benchmarks.common.measure import run_timed

    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    run = run_timed([sys.executable, "-c", spin], tmp_path / "log")
    assert run["exit_code"] == 0 and 0.3 <= run["cpu_seconds"] <= run["wall_seconds"] + 0.1


def test_suite_latency_retimes_the_runs_whose_lead_the_student_does_not_keep():
    from benchmarks import suite, suite_latency

    def run(name, kept, lead="real", frontier=()):
        scores = {"teacher": 0.8, "baseline": 0.7, "student": 0.7 + 0.1 * kept}
        return {
            "dataset": name,
            "seed": 0,
            "teacher_lead": lead,
            "test_roc_auc": scores,
            "frontier": list(frontier),
        }

    runs = [run("a", 0.2), run("b", 0.9), run("c", 0.0), run("d", 0.0, lead="noise")]
    assert suite_latency.default_runs(runs) == [("a", 0), ("c", 0)]
    # a frontier point counts at its quiet p99 where one was measured, else as predicted
    teacher = {"source": "teacher", "test_roc_auc": 0.8, "predicted_p99_us": 40.0}
    r = run("a", 0.2, frontier=[teacher])
    assert suite.frontier_kept(r, teacher=True) == pytest.approx(1.0)
    teacher["quiet_p99_us"] = 90.0
    assert suite.frontier_kept(r, teacher=True) is None
    # the teacher cut to a budget counts only where cuts are asked for
    cut = {"source": "teacher cut", "test_roc_auc": 0.79, "predicted_p99_us": 20.0}
    r = run("a", 0.2, frontier=[teacher, cut])
    assert suite.frontier_kept(r) is None and suite.frontier_kept(r, teacher=True) is None
    assert suite.frontier_kept(r, teacher="cut") == pytest.approx(0.9)
    leads = suite.real_leads([{**r, "model_seed": 0}])
    assert (leads["with_teacher_at_least_half"], leads["with_cut_at_least_half"]) == (0, 1)


def test_by_budget_the_teacher_is_its_cut_or_whole_where_the_cost_model_fits_it():
    from benchmarks import suite

    points = [
        {"source": "distilled", "latency_budget_us": b, "test_roc_auc": auc}
        for b, auc in ((10.0, 0.76), (50.0, 0.77))
    ]
    points += [
        {
            "source": "teacher",
            "latency_budget_us": None,
            "test_roc_auc": 0.8,
            "predicted_p99_us": 40,
        },
        {"source": "teacher cut", "latency_budget_us": 10.0, "test_roc_auc": 0.78},
    ]
    run = {
        "teacher_lead": "real",
        "test_roc_auc": {"teacher": 0.8, "student": 0.76, "baseline": 0.7},
        "frontier": points,
    }
    shares = suite.budget_shares(run)
    assert shares[10.0] == pytest.approx((0.6, 0.8)) and shares[50.0] == pytest.approx((0.7, 1.0))
    lines = suite.budget_lines([run, {**run, "teacher_lead": "noise"}])
    assert lines[0].startswith("Over 1 real leads")
    assert lines[4] == "| 10 µs | 1 | 1 | 1 | 0.60 / 0.80 | 1 of 1 |"
