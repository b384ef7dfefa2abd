"""``tabdistill registry``: list, promote, roll back and prune a model registry's versions."""

from __future__ import annotations

import json

from .options import EXIT_OK, positive_int


def add_parser(sub, common):
    p = sub.add_parser("registry", help="list, promote, roll back or prune versions")
    ops = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = ops.add_parser(
        "list", help="every version: gate, holdout scores, production", parents=[common]
    )
    ls.add_argument("registry", help="registry folder")
    ls.add_argument("--json", action="store_true", help="print JSON lines")
    promote = ops.add_parser("promote", help="make a version production", parents=[common])
    promote.add_argument("registry", help="registry folder")
    promote.add_argument("version", help="version to promote")
    promote.add_argument(
        "--force", action="store_true", help="promote even a version the gate rejected"
    )
    back = ops.add_parser(
        "rollback", help="production back to the version before it", parents=[common]
    )
    back.add_argument("registry", help="registry folder")
    prune = ops.add_parser(
        "prune",
        help="delete old versions (never production, nor the version rollback returns to)",
        parents=[common],
    )
    prune.add_argument("registry", help="registry folder")
    prune.add_argument("--keep", type=positive_int, required=True, help="newest versions to keep")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..exceptions import ArtifactError
    from ..ops.registry import Registry

    registry = Registry(args.registry)
    if not registry.root.is_dir():
        raise ArtifactError(f"'{registry.root}' is not a registry folder.")
    if args.action == "list":
        rows = registry.describe()
        if args.json:
            print("\n".join(json.dumps(r) for r in rows))
        else:
            print(format_versions(rows))
        return EXIT_OK
    with registry.lock():
        if args.action == "promote":
            registry.promote(args.version, force=args.force)
            print(f"version {args.version} is production")
        elif args.action == "rollback":
            print(f"version {registry.rollback()} is production again")
        else:
            removed = registry.prune(args.keep)
            print(f"removed {len(removed)} version(s): {', '.join(removed) or 'none'}")
            target = registry.rollback_target()
            if target and target not in registry.versions()[-args.keep :]:
                print(f"kept {target} as well: rollback returns to it")
    return EXIT_OK


def format_versions(rows) -> str:
    """Versions as aligned text, production marked with ``*``."""
    if not rows:
        return "no versions yet"
    lines = ["  version                   gate        ROC-AUC   PR-AUC  created"]
    for r in rows:
        auc = f"{r['roc_auc']:.4f}" if r.get("roc_auc") is not None else "-"
        ap = f"{r['average_precision']:.4f}" if r.get("average_precision") is not None else "-"
        lines.append(
            f"{'*' if r['production'] else ' '} {r['version']:<25} {r['gate']:<10} {auc:>8} "
            f"{ap:>8}  {r.get('created_at') or '-'}"
        )
    return "\n".join(lines)
