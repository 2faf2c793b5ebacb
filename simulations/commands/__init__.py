"""The subcommands of ``sparse-icl``: each module has ``register(subparsers)`` and ``run(args)``."""

from __future__ import annotations

import argparse
from typing import Callable


def add_command(subparsers: argparse._SubParsersAction, name: str, summary: str, doc: str | None,
                run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """A subcommand described by its module docstring ``doc`` that calls ``run(args)``."""
    parser = subparsers.add_parser(name, help=summary, description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=run)
    return parser
