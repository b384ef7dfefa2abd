"""A folder of fitted teachers, reused when the same teacher is fit on the same rows again.

Fitting the teacher is most of a distillation's time, and experiments on the
student side (knobs, sizes, the gate) refit it on the same data many times.
:class:`TeacherCache` keys a fit by everything it depends on -- the encoded
rows, labels, weights and groups, the teacher's parameters and the source of
the modules that fit it -- so a changed encoding, parameter or teacher code
never reuses a stale fit. A fit under a ``time_limit`` is never cached: what it
keeps depends on the machine's speed.

Entries are joblib files (pickles): point ``memory`` only at a folder you trust.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import joblib
import numpy as np

logger = logging.getLogger(__name__)

#: The modules whose code shapes a teacher fit (their source is part of every key).
_SOURCES = ("teacher", "teacher_cache", "members", "crossfit", "splits", "linear")


def _code_fingerprint() -> bytes:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in _SOURCES:
        h.update((here / f"{name}.py").read_bytes())
    return h.digest()


class TeacherCache:
    """One fit's entry in a teacher's ``memory`` folder."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def of(cls, teacher, Z, y, weight, groups) -> TeacherCache | None:
        """The entry of ``teacher`` fit on these rows; None without ``memory`` or with a
        ``time_limit``."""
        if teacher.memory is None or teacher.time_limit is not None:
            return None
        h = hashlib.sha256(_code_fingerprint())
        for part in (Z, y, weight, groups):
            h.update(b"-" if part is None else np.ascontiguousarray(part).tobytes())
        params = {k: v for k, v in teacher.get_params(deep=False).items() if k != "memory"}
        h.update(repr(sorted(params.items())).encode())
        h.update(repr((list(teacher.classes_), teacher.pos_label_)).encode())
        return cls(Path(teacher.memory) / f"teacher-{h.hexdigest()[:32]}.joblib")

    def load(self, teacher) -> bool:
        """Set ``teacher``'s fitted state from the entry; False when there is none."""
        if not self.path.is_file():
            return False
        state = joblib.load(self.path)
        teacher.__dict__.update(state)
        teacher.from_cache_ = True
        logger.info("teacher read from %s", self.path)
        return True

    def save(self, teacher) -> None:
        """Write ``teacher``'s fitted state (but its encoder) atomically."""
        state = {
            k: v
            for k, v in teacher.__dict__.items()
            if k.endswith("_") and k not in ("encoder_", "from_cache_")
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".partial")
        os.close(fd)
        try:
            joblib.dump(state, tmp)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
