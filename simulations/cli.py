"""The ``sparse-icl`` command line: one sub-command per module in ``simulations.commands``.

Each command module defines ``register(subparsers)``, which adds its parser and
sets ``func`` to a callable ``run(args) -> int``. Bad input (``ValueError`` or
``TypeError`` raised while checking or running a command) is reported as one
line on stderr with exit status 2 and no traceback, like argparse's own errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("sweep", "train", "analyze", "check", "curves")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparse-icl",
        description="Sparse linear regression in context: solvers, Monte Carlo sweeps, theory checks.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"simulations.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as err:
        print(f"sparse-icl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sparse-icl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
