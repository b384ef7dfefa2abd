"""The teacher vs each of its members, out of fold, on every bundled real dataset.

Fits ``TeacherEnsemble()`` with default members on the whole of each dataset
(5-fold cross-fitting) and reports each member's out-of-fold ROC-AUC, PR-AUC
and log loss, the learned weights, the ensemble's scores, and the fit time.
Writes ``benchmarks/results/teacher_members.json`` and ``.md``. Run from the
repository root: ``python -m benchmarks.teacher_members``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from tabdistill import TeacherEnsemble, load_dataset
from tabdistill.data.datasets import BUNDLED

from .common.cli import argument_parser
from .common.results import RESULTS, write_results


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", default=list(BUNDLED))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    results = {}
    for name in args.datasets:
        X, y = load_dataset(name)
        teacher = TeacherEnsemble(random_state=0, n_jobs=args.n_jobs).fit(X, y)
        results[name] = {
            "rows": len(y),
            "fit_seconds": teacher.fit_seconds_,
            "members": teacher.member_scores_,
        }
        print(name, f"{teacher.fit_seconds_:.1f} s", teacher.member_scores_["ensemble"], flush=True)
    lines = [
        "| dataset | model | OOF ROC-AUC | OOF PR-AUC | OOF log loss | weight | fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for i, (member, s) in enumerate(r["members"].items()):
            label = f"{name} ({r['rows']:,} rows)" if i == 0 else ""
            fit = f"{r['fit_seconds']:.1f}" if member == "ensemble" else ""
            weight = "" if member == "ensemble" else f"{s['weight']:.2f}"
            lines.append(
                f"| {label} | {member} | {s['roc_auc']:.4f} | {s['average_precision']:.4f} | "
                f"{s['log_loss']:.4f} | {weight} | {fit} |"
            )
    write_results("teacher_members", results, "\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
