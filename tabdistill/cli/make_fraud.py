"""``tabdistill make-fraud``: synthetic fraud data of any size, as CSV."""

from __future__ import annotations

from pathlib import Path

from ..exceptions import TabDistillError
from .options import EXIT_OK, check_output, fraction, positive_int


def add_parser(sub, common):
    p = sub.add_parser(
        "make-fraud", help="write a synthetic fraud dataset as CSV", parents=[common]
    )
    p.add_argument("output", help="CSV path (.csv or .csv.gz)")
    p.add_argument(
        "--rows", type=positive_int, default=100_000, help="rows to write (default 100,000)"
    )
    p.add_argument(
        "--fraud-rate",
        type=fraction,
        default=0.01,
        help="share of fraudulent rows, in (0, 1) (default 0.01)",
    )
    p.add_argument(
        "--features",
        type=positive_int,
        default=11,
        help="feature columns (default 11; more adds engineered-looking, categorical, noise "
        "and block-missing columns, e.g. 120 for a card-fraud-shaped table)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="the same seed writes the same rows (default 0)"
    )
    p.add_argument(
        "--fraud-type",
        action="store_true",
        help="a multiclass target fraud_type (none, account_takeover, card_not_present, "
        "friendly_fraud) instead of is_fraud",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..data.datasets import make_fraud

    if Path(args.output).exists() and not args.overwrite:
        raise TabDistillError(f"'{args.output}' exists; pass --overwrite to replace it.")
    check_output(args.output, "output file")
    frame = make_fraud(
        args.rows,
        fraud_rate=args.fraud_rate,
        random_state=args.seed,
        n_features=args.features,
        fraud_type=args.fraud_type,
    )
    frame.to_csv(args.output, index=False)
    rate = (frame["fraud_type"] != "none") if args.fraud_type else frame["is_fraud"]
    print(f"{len(frame):,} rows ({rate.mean():.2%} fraud) written to {args.output}")
    return EXIT_OK
