"""``tabdistill inspect``'s lines about a version's decisions."""

from tabdistill.cli.inspect import _teacher_line

SHIPPED = {"file": "teacher_runtime.npz", "size_bytes": 2048}


def test_the_teacher_line_shows_the_teachers_own_threshold():
    manifest = {
        "teacher_runtime": SHIPPED,
        "decision": {"threshold": 0.2, "teacher_threshold": 0.35},
    }
    (line,) = _teacher_line(manifest)
    assert line.endswith("--scorer teacher, its decision at p >= 0.3500")
    (older,) = _teacher_line({"teacher_runtime": SHIPPED, "decision": {"threshold": 0.2}})
    assert older.endswith("--scorer teacher")
