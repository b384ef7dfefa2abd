"""The distilled candidates a fit tried, ranked, and the chosen knobs, in words.

Reads the fit report's ``candidates`` (one line per candidate student: its knobs, synthetic
rows and validation score) and ``chosen`` (the knobs of the student kept), as the benchmark
summary carries them under ``distillation``.
"""

from __future__ import annotations

#: Candidate keys that are knobs or counts; the one other key is the selection metric.
_KNOBS = ("student_params", "augment_factor", "alpha", "loss", "synthetic_rows", "student")
#: Student parameters that bound the fit rather than size the model (and the columns a student
#: does without, which get a row of their own).
_FIT_ONLY = ("loss", "early_stopping_rounds", "max_steps", "ignored_features")


def size_text(params) -> str:
    """``{"num_leaves": 15, "n_estimators": 500}`` -> ``"15 leaves, up to 500 trees"``."""
    if not isinstance(params, dict) or not params:
        return "default"
    parts = []
    for key, value in params.items():
        if key in _FIT_ONLY:
            continue
        if key == "num_leaves":
            parts.append(f"{value} leaves")
        elif key == "max_depth":
            if value is not None and value > 0:
                parts.append(f"depth {value}")
        elif key == "n_estimators":
            parts.append(
                f"up to {value} trees" if params.get("early_stopping_rounds") else f"{value} trees"
            )
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts) or "default"


def _metric(candidate) -> str:
    return next(k for k in candidate if k not in _KNOBS)


def _same(candidate, chosen) -> bool:
    return all(
        candidate.get(k) == chosen.get(k)
        for k in ("student_params", "augment_factor", "alpha", "loss", "student")
    )


def _size(knobs: dict) -> str:
    """A candidate's size in words: :func:`size_text`, or its kind's name when it is not
    the fit's own (``"linear student"``)."""
    kind = knobs.get("student")
    return f"{kind} student" if kind else size_text(knobs["student_params"])


def ranked(distillation: dict, top: int = 10) -> tuple[str, list[dict], int]:
    """``(metric, rows, total)``: the ``top`` candidates by validation score (and the chosen
    one, if lower), each row with ``rank``, ``size``, ``augment_factor``, ``alpha``, ``loss``,
    ``synthetic_rows``, ``score``, ``behind`` (the best score minus this one) and ``chosen``."""
    candidates = distillation.get("candidates") or []
    if not candidates:
        return "", [], 0
    metric = _metric(candidates[0])
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i][metric])
    best = candidates[order[0]][metric]
    chosen = distillation.get("chosen") or {}
    rows = []
    for rank, i in enumerate(order, start=1):
        c = candidates[i]
        is_chosen = _same(c, chosen)
        if rank > top and not is_chosen:
            continue
        rows.append(
            {
                "rank": rank,
                "size": _size(c),
                "augment_factor": c["augment_factor"],
                "alpha": c["alpha"],
                "loss": c.get("loss") or "-",
                "synthetic_rows": c.get("synthetic_rows", 0),
                "score": c[metric],
                "behind": best - c[metric],
                "chosen": is_chosen,
            }
        )
    return metric, rows, len(candidates)


def knob_rows(distillation: dict) -> list[tuple[str, str]]:
    """The chosen student and teacher as ``(setting, value)`` rows, in words."""
    chosen = distillation.get("chosen") or {}
    rows = [("student", str(distillation.get("student", "-")))]
    if "student_params" in chosen:
        rows.append(("student size", _size(chosen)))
    if "augment_factor" in chosen:
        rows.append(("synthetic rows per training row", f"{chosen['augment_factor']:g}"))
    if "alpha" in chosen:
        rows.append(("weight of the hard label (alpha)", f"{chosen['alpha']:g}"))
    if chosen.get("loss"):
        rows.append(("loss", str(chosen["loss"])))
    if distillation.get("student_ignores"):
        ignored = ", ".join(distillation["student_ignores"])
        rows.append(("without the columns", f"{ignored} (the teacher learned to do without them)"))
    weights = distillation.get("teacher_weights") or {}
    if weights:
        rows.append(
            (
                "teacher members (weights)",
                ", ".join(f"{name} {w:.2f}" for name, w in weights.items()),
            )
        )
    rows.append(("fallback", distillation.get("fallback") or "none: the distilled student"))
    return rows


def knobs_text(distillation: dict) -> str:
    """The chosen knobs in one line (the terminal's summary)."""
    rows = [(k, v) for k, v in knob_rows(distillation) if k not in _NOT_IN_ONE_LINE]
    return "; ".join(f"{k} {v}" for k, v in rows)


#: Rows of :func:`knob_rows` the one-line summary leaves to lines of their own.
_NOT_IN_ONE_LINE = ("teacher members (weights)", "fallback")
