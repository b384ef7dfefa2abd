"""Single-row cost of a K-class student against a binary student of the same size.

Issue 13's bar: the single-row p50 of the 5-class diamonds student is at most
5x that of the binary student of the same size -- the same rounds (trees per
class) and leaves, so the 5-class model walks 5x the trees and adds a softmax.
On ``diamonds`` (target ``cut``, 5 classes; the binary target is ``cut ==
"Ideal"``), for each size: a 5-class and a binary LightGBM student are fit
with a fixed number of rounds (no early stopping, so the sizes match exactly),
compiled to the runtime, and ``score_one`` is timed in this one process,
interleaved, ``--repeats`` times over the same 1,000 encoded test rows; the
ratio of the p50s is taken per repeat and its median reported.

    python -m benchmarks.multiclass_latency
    python -m benchmarks.multiclass_latency --sizes 15:100 31:300 --repeats 3

Writes ``results/multiclass_latency.{json,md}``. Data: ``diamonds`` from the
R package ggplot2 (MIT), see ``../shared/datasets/README.md``.
"""

from __future__ import annotations

import numpy as np

from tabdistill.data.encoder import TabularEncoder
from tabdistill.data.target import encode_target
from tabdistill.distill.students import LightGBMStudent
from tabdistill.evaluate.cost import single_row_latency

from .common.cli import argument_parser, command
from .common.datasets import load_multiclass
from .common.results import write_results

#: The issue's bar on p50(K-class) / p50(binary) at the same trees per class and leaves.
BAR = 5.0


def fit_pair(Z, codes, n_classes, binary_class, leaves, rounds, seed):
    """A K-class and a binary student with ``rounds`` rounds of ``leaves``-leaf trees."""
    params = dict(num_leaves=leaves, n_estimators=rounds, random_state=seed, n_jobs=1)
    onehot = np.eye(n_classes)[codes]
    multi = LightGBMStudent(**params).fit(Z, onehot)
    binary = LightGBMStudent(**params).fit(Z, (codes == binary_class).astype(float))
    return multi, binary


def time_pair(runtimes, rows, repeats, n_calls):
    """p50/p99 of ``score_one`` per model and repeat, interleaved; the per-repeat p50 ratio."""
    p50 = {k: [] for k in runtimes}
    p99 = {k: [] for k in runtimes}
    for _ in range(repeats):
        for kind, runtime in runtimes.items():
            one = single_row_latency(runtime.score_one, rows, n_calls=n_calls, warmup=500)
            p50[kind].append(one["p50_us"])
            p99[kind].append(one["p99_us"])
    ratios = np.array(p50["multiclass"]) / np.array(p50["binary"])
    return {
        "p50_us": {k: float(np.median(v)) for k, v in p50.items()},
        "p99_us": {k: float(np.median(v)) for k, v in p99.items()},
        "ratio_per_repeat": ratios.round(3).tolist(),
        "ratio_p50": float(np.median(ratios)),
    }


def run(sizes, repeats, n_calls, seed):
    X, y = load_multiclass("diamonds")
    target = encode_target(y)
    encoder = TabularEncoder()
    Z = encoder.fit_encode(X)
    rng = np.random.default_rng(seed)
    test = rng.permutation(len(Z))[:1_000]
    train = np.setdiff1d(np.arange(len(Z)), test)
    binary_class = int(np.flatnonzero(target.classes == "Ideal")[0])
    rows = list(Z[test])
    out = []
    for leaves, rounds in sizes:
        multi, binary = fit_pair(
            Z[train], target.y[train], len(target.classes), binary_class, leaves, rounds, seed
        )
        runtimes = {
            "multiclass": multi.compile(encoder.schema_),
            "binary": binary.compile(encoder.schema_),
        }
        p = runtimes["multiclass"].score_one(rows[0])
        assert np.shape(p) == (len(target.classes),) and abs(np.sum(p) - 1) < 1e-9
        timing = time_pair(runtimes, rows, repeats, n_calls)
        out.append(
            {
                "num_leaves": leaves,
                "rounds": rounds,
                "trees": {k: int(r.n_trees) for k, r in runtimes.items()},
                **timing,
                "meets_bar": timing["ratio_p50"] <= BAR,
            }
        )
        print(
            f"{leaves} leaves x {rounds} rounds: p50 5-class {timing['p50_us']['multiclass']:.2f}"
            f" us, binary {timing['p50_us']['binary']:.2f} us, ratio {timing['ratio_p50']:.2f}",
            flush=True,
        )
    return {"dataset": "diamonds", "classes": target.classes.tolist(), "bar": BAR, "sizes": out}


def markdown(result, command):
    lines = [
        "| leaves | rounds | trees 5-class / binary | p50 µs 5-class | p50 µs binary | "
        "p99 µs 5-class | p99 µs binary | p50 ratio (bar ≤ 5) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in result["sizes"]:
        lines.append(
            f"| {s['num_leaves']} | {s['rounds']} | {s['trees']['multiclass']} / "
            f"{s['trees']['binary']} | {s['p50_us']['multiclass']:.2f} | "
            f"{s['p50_us']['binary']:.2f} | {s['p99_us']['multiclass']:.2f} | "
            f"{s['p99_us']['binary']:.2f} | {s['ratio_p50']:.2f} |"
        )
    lines += ["", f"`{command}` (one process, interleaved; compare within a run)."]
    return "\n".join(lines) + "\n"


def _size(text):
    leaves, rounds = text.split(":")
    return int(leaves), int(rounds)


def main():
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=_size,
        default=[(8, 100), (15, 100), (31, 100), (31, 300)],
        help="LEAVES:ROUNDS pairs (rounds = trees per class)",
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-calls", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = run(args.sizes, args.repeats, args.n_calls, args.seed)
    result["command"] = command(__spec__.name)
    write_results("multiclass_latency", result, markdown(result, result["command"]))


if __name__ == "__main__":
    main()
