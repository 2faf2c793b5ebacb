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


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def int_list(text: str) -> list[int]:
    """An argparse ``type``: comma-separated integers, e.g. ``8,8,8``."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    return values
