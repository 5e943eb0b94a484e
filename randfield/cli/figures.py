"""Figures: figures."""

from __future__ import annotations

from ._common import _json


def cmd_figures(args) -> int:
    from ..figures import regenerate

    report = regenerate(args.configs, args.out, only=args.only, quick=args.quick, force=args.force)
    if args.json:
        print(_json(dict(report)))
    else:
        for name, status in report:
            print(f"{name}: {status}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("figures", help="regenerate every figure in figures/ from experiments/*.toml")
    p.add_argument("--only", nargs="+", help="figure names (config file stems)")
    p.add_argument("--quick", action="store_true", help="CPU-sized configuration")
    p.add_argument("--force", action="store_true", help="recompute cached figures")
    p.add_argument("--configs", default="experiments")
    p.add_argument("--out", default="figures")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_figures)
