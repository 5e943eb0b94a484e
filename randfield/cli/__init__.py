"""The `randfield` command line: one module per command family, each registering its subcommands.

Bad input gives at most three lines on stderr and exit status 2 (docs/cli.md); a computation that
fails exits 1; Ctrl-C exits 130, keeping the last complete checkpoint.
"""

from __future__ import annotations

import sys

from . import continuous, dynamics, figures, kernels, simulation, theory
from ._common import Parser

FAMILIES = (theory, kernels, simulation, figures, dynamics, continuous)  # a new family: a module with register(sub)


def build_parser() -> Parser:
    parser = Parser(prog="randfield", description="Mean-field theory of random deep networks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for family in FAMILIES:
        family.register(sub)
    return parser


def _one_line(err: BaseException) -> str:
    """An exception as at most three short lines (a library's multi-line dump is cut, not printed)."""
    lines = [line for line in str(err).strip().splitlines() if line.strip()] or [type(err).__name__]
    return "\n".join(line[:300] for line in lines[:3])


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a bad argument (2, its one line already printed)
        return exit_.code if isinstance(exit_.code, int) else 2
    except KeyboardInterrupt:
        print("randfield: interrupted", file=sys.stderr)
        return 130
    from .._malloc import retain_freed_memory

    retain_freed_memory()  # CPU training and simulation free and reallocate large tensors every step
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` & co.: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, TypeError, OSError) as err:  # bad input, bad files, unwritable paths
        print(f"randfield {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except (ArithmeticError, RuntimeError) as err:  # non-convergence, step-size underflow, NaN loss
        print(f"randfield {args.command}: failed: {_one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # files on disk are complete (atomic writes); checkpoints resume
        print(
            f"randfield {args.command}: interrupted; the last complete checkpoint (if any) is kept — "
            "run the same command to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
