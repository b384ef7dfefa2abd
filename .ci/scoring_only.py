"""CI check of the scoring-only install: the full package writes runtime files, both score them.

``write DIR`` (full install) fits one student of every kind the package
compiles on a small fraud table with a date column, a categorical column and
missing values, and writes into ``DIR``: the runtime files (LightGBM binary and
4-class, scikit-learn tree binary and 4-class, linear binary and 4-class,
compressed ones: int8 and float32 leaves, pruned trees, and the compiled teacher,
binary and 4-class, of every member kind), the held-out records as JSON and the
same rows encoded (``encoded.npy``).

``score DIR OUT`` (any install) loads each runtime file with
:mod:`tabdistill_runtime` and scores the rows every way the runtime offers --
``score_encoded``, ``score_one`` row by row, ``score_record`` record by record,
``score_batch`` on the raw columns -- and the reasons behind them (every encoded
feature's contribution, and three reason codes a record), and writes each file's scores to
``OUT/NAME.npy``; it then lists the modules the process imported
(``OUT/modules.txt``) and fails if any of pandas, scikit-learn, SciPy,
LightGBM, XGBoost, numba or tabdistill itself is among them. Run in both
installs, ``cmp`` on the outputs says whether they agree to the bit.

Run from the repository root: ``python .ci/scoring_only.py write DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FORBIDDEN = ("pandas", "sklearn", "scipy", "lightgbm", "xgboost", "numba", "tabdistill")
N_FIT, N_SCORE = 2_000, 400


def _table(n, seed):
    """make_fraud rows with a text date column: ``(X, 0/1 target, 4-class target)``."""
    import numpy as np

    from tabdistill import make_fraud

    frame = make_fraud(n, fraud_rate=0.3, random_state=seed, fraud_type=True)
    X = frame.drop(columns="fraud_type")
    rng = np.random.default_rng(seed)
    days, minutes = rng.integers(0, 400, n), rng.integers(0, 24 * 60, n)
    X["opened"] = [
        f"{1 + d // 31 % 12:02d}/{1 + d % 28:02d}/2023 {m // 60:02d}:{m % 60:02d}"
        for d, m in zip(days, minutes)
    ]
    X.loc[::13, "opened"] = None
    X.loc[::11, "amount"] = np.nan
    return X, (frame["fraud_type"] != "none").to_numpy(), frame["fraud_type"]


def _records(X) -> list[dict]:
    rows = X.astype(object).to_dict(orient="records")
    clean = lambda v: None if v is None or (isinstance(v, float) and v != v) else v  # noqa: E731
    return [{k: (clean(v.item() if hasattr(v, "item") else v)) for k, v in r.items()} for r in rows]


def write(folder: Path):
    import numpy as np

    from tabdistill.compress.prune import rebuild
    from tabdistill.compress.quantize import quantize_leaves
    from tabdistill.data import TabularEncoder, encode_target
    from tabdistill.distill.context import make_student
    from tabdistill.distill.students import compile_student

    folder.mkdir(parents=True, exist_ok=True)
    X, fraud, types = _table(N_FIT, 0)
    enc = TabularEncoder().fit(X)
    Z, codes = enc.transform(X), encode_target(types).y
    runtimes = {}
    for classes, target in (("binary", fraud.astype(float)), ("4class", np.eye(4)[codes])):
        for name, params in (("lightgbm", {"n_estimators": 40}), ("tree", {}), ("linear", {})):
            student = make_student(
                name, params, categorical_mask=enc.categorical_mask_, random_state=0
            )
            runtimes[f"{name}_{classes}"] = compile_student(student.fit(Z, target), enc.schema_)
    Xt, _, _ = _table(N_SCORE, 7)
    Xt.loc[::7, "country"] = "ZZ"  # a level unseen at fit
    (folder / "records.json").write_text(json.dumps(_records(Xt)))
    np.save(folder / "encoded.npy", enc.transform(Xt))
    binary = runtimes["lightgbm_binary"]
    runtimes["compressed_int8"] = quantize_leaves(binary, "int8")[0]
    runtimes["compressed_float32"] = quantize_leaves(runtimes["lightgbm_4class"], "float32")[0]
    keep = np.arange(binary.n_trees) % 3 != 1
    leaves = binary.arrays["value"]
    runtimes["compressed_pruned"] = rebuild(binary, leaves, binary.meta["base"], keep)
    runtimes.update(_teachers(enc, Z, fraud, types))
    for kind, runtime in runtimes.items():
        runtime.save(folder / f"{kind}.npz")
    print(f"wrote {len(runtimes)} runtime files to {folder}")


def _teachers(enc, Z, fraud, types) -> dict:
    """Small teachers, binary and 4-class, compiled: between them every member kind gets
    weight (XGBoost's float32 sums, LightGBM, both forests, the 4-class forest's vector
    leaves, logistic regression)."""
    from tabdistill import TeacherEnsemble
    from tabdistill.data import encode_target

    small = {
        "lightgbm": {"n_estimators": 20, "num_leaves": 8},
        "xgboost": {"n_estimators": 20, "max_depth": 3},
        "random_forest": {"n_estimators": 10, "min_samples_leaf": 5},
        "extra_trees": {"n_estimators": 10, "min_samples_leaf": 5},
        "logistic": {},
    }
    out = {}
    for classes, labels, names in (
        ("binary", fraud, ("xgboost", "extra_trees", "lightgbm")),
        ("4class", types, ("xgboost", "random_forest", "logistic")),
    ):
        target = encode_target(labels)
        teacher = TeacherEnsemble(members={n: small[n] for n in names}, cv=3, random_state=0)
        teacher.fit_encoded(Z, target.y, encoder=enc, target=target)
        out[f"teacher_{classes}"] = teacher.compile()
    return out


def _scores(model, Z, records):
    import numpy as np

    columns = {c: np.array([r.get(c) for r in records], dtype=object) for c in records[0]}
    parts = [
        model.score_encoded(Z),
        np.array([model.score_one(row) for row in Z]),
        np.array([model.score_record(r) for r in records]),
        model.score_batch(columns),
    ]
    if model.kind == "blend":
        # a compiled teacher has no reasons; it must say so, not guess
        try:
            model.contributions_encoded(Z)
        except TypeError:
            return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])
        sys.exit("a compiled teacher gave contributions; expected a TypeError")
    parts.append(model.contributions_encoded(Z))
    for r in records:
        _, reasons = model.score_record(r, reasons=3)
        parts.append([model.reason_names.index(name) for name, _ in reasons])
        parts.append([value for _, value in reasons])
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])


def score(folder: Path, out: Path):
    import numpy as np

    from tabdistill_runtime import CompiledModel

    out.mkdir(parents=True, exist_ok=True)
    records = json.loads((folder / "records.json").read_text())
    names = sorted(p.name for p in folder.glob("*.npz"))
    if len(names) < 11:
        sys.exit(f"expected the 11 runtime files `write` makes in {folder}, found {names}")
    for name in names:
        model = CompiledModel.load(folder / name)
        Z = np.load(folder / "encoded.npy")
        np.save(out / name.replace(".npz", ".npy"), _scores(model, Z, records))
    loaded = sorted(sys.modules)
    (out / "modules.txt").write_text("\n".join(loaded) + "\n")
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    if bad:
        sys.exit(f"scoring imported {bad}")
    print(f"scored {len(names)} runtime files, {len(loaded)} modules, none of {FORBIDDEN}")


if __name__ == "__main__":
    command, *paths = sys.argv[1:]
    {"write": write, "score": score}[command](*map(Path, paths))
