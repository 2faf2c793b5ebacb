"""The subcommands of ``sparse-icl``: each module has ``register(subparsers)`` and ``run(args)``."""

from __future__ import annotations

import argparse
import re
from typing import Callable


def add_command(subparsers: argparse._SubParsersAction, name: str, summary: str, doc: str | None,
                run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """A subcommand described by its module docstring ``doc`` (as :func:`plain_text`) that calls ``run(args)``."""
    parser = subparsers.add_parser(name, help=summary, description=plain_text(doc),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=run)
    return parser


def plain_text(doc: str | None) -> str | None:
    """A docstring as help text: reStructuredText roles (``:mod:`x```) and double backticks dropped."""
    if doc is None:
        return None
    return re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc).replace("``", "")
