"""Which LightGBM student shape is both accurate and fast? (How the default was chosen.)

Fits one teacher on the synthetic fraud set, builds one training set (OOF soft
labels + 2x MUNGE rows labelled by the teacher, alpha=0), then fits students
of several shapes on exactly that data and reports held-out ROC-AUC, PR-AUC
and batch throughput through the compiled runtime. Writes
``benchmarks/results/student_shapes.json`` and ``.md``. Run from the
repository root: ``python -m benchmarks.student_shapes``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from tabdistill import DistilledClassifier, make_fraud, metrics
from tabdistill.data import split_target
from tabdistill.distill.augment import FeatureSpec, MungeAugmenter
from tabdistill.distill.labels import build_training_set
from tabdistill.distill.students import LightGBMStudent, compile_student
from tabdistill.evaluate.cost import batch_throughput

from .common.cli import argument_parser
from .common.results import RESULTS, write_results

#: (trees, leaves, max depth, learning rate)
SHAPES = [
    (100, 15, -1, 0.1),
    (100, 15, 5, 0.1),
    (100, 15, 4, 0.1),
    (100, 8, -1, 0.1),
    (100, 8, 3, 0.1),
    (80, 8, -1, 0.1),
    (100, 7, -1, 0.1),
    (120, 6, -1, 0.1),
    (60, 15, -1, 0.15),
    (150, 8, 4, 0.1),
]


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X, y = split_target(make_fraud(args.rows, fraud_rate=0.01, random_state=args.seed), "is_fraud")
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.seed
    )
    fitted = DistilledClassifier(
        random_state=args.seed, n_jobs=2, augment_factors=(0,), alphas=(0.0,)
    ).fit(X_tr, y_tr)
    enc, teacher, tr = fitted.encoder_, fitted.teacher_, fitted.train_index_
    Z, y01 = enc.transform(X_tr)[tr], y_tr.to_numpy()[tr]
    Z_te, y_te = enc.transform(X_te), y_te.to_numpy()
    synthetic, seeds = MungeAugmenter().sample(
        Z,
        2 * len(Z),
        FeatureSpec.from_encoder(enc),
        y=y01,
        positive_share=0.2,
        random_state=args.seed,
    )
    data = build_training_set(
        Z,
        y01,
        teacher.oof_proba_,
        synthetic=synthetic,
        synthetic_proba=teacher.predict_proba_encoded(synthetic),
        synthetic_seeds=seeds,
    )
    rows = []
    for trees, leaves, depth, lr in SHAPES:
        student = LightGBMStudent(
            n_estimators=trees,
            num_leaves=leaves,
            max_depth=depth,
            learning_rate=lr,
            categorical_mask=enc.categorical_mask_,
            random_state=args.seed,
            n_jobs=2,
        )
        runtime = compile_student(student.fit(data.Z, data.target, data.weight), enc.schema_)
        p = runtime.score_encoded(Z_te)
        rows.append(
            {
                "trees": trees,
                "leaves": leaves,
                "max_depth": depth,
                "learning_rate": lr,
                "roc_auc": metrics.roc_auc(y_te, p),
                "average_precision": metrics.average_precision(y_te, p),
                "batch_rows_per_second": batch_throughput(
                    runtime.score_encoded, Z_te, min_rows=200_000
                )["rows_per_second"],
            }
        )
        print(rows[-1], flush=True)
    teacher_auc = metrics.roc_auc(y_te, teacher.predict_proba_encoded(Z_te))
    lines = [
        f"Teacher ROC-AUC {teacher_auc:.4f}; the same training data for every student; "
        f"seed {args.seed}.",
        "",
        "| trees | leaves | max depth | lr | ROC-AUC | PR-AUC | batch rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['trees']} | {r['leaves']} | {r['max_depth']} | {r['learning_rate']} | "
            f"{r['roc_auc']:.4f} | {r['average_precision']:.4f} | "
            f"{r['batch_rows_per_second']:,.0f} |"
        )
    result = {"teacher_roc_auc": teacher_auc, "shapes": rows}
    write_results("student_shapes", result, "\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
