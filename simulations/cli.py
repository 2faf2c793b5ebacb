"""The ``sparse-icl`` command line: one sub-command per module in ``simulations.commands``.

Each command module defines ``register(subparsers)``, which adds its parser and
sets ``func`` to a callable ``run(args) -> int``. :func:`main` is the one place
that turns what can go wrong into an exit status (docs/reliability.md):

- bad input -- an argparse error, or ``ValueError`` / ``TypeError`` raised
  while checking or running a command -- one line on stderr, exit 2;
- a file-system error (``OSError``: a read-only or full disk, no permission)
  -- one line naming the path and the cause, exit 2;
- a missing optional dependency -- one line naming the extra to install, exit 2;
- SIGINT or SIGTERM -- the command finishes the write in progress and its
  cleanup (a sweep writes results.csv and meta.json from its journal), then
  one line (with the command's ``interrupt_hint`` default, if it sets one),
  exit 130 or 143 (:mod:`simulations.interrupts`);
- warnings -- one line each, ``sparse-icl CMD: warning: ...``, once per kind and place.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator

from .interrupts import Interrupted, handled

COMMANDS = ("sweep", "train", "analyze", "budget", "check", "curves")
#: Top-level modules of the optional extras, and the extra that installs each.
EXTRAS = {"torch": "train", "dask": "dist", "distributed": "dist", "dask_cuda": "dist", "cupy": "gpu"}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is in ``--help``)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sparse-icl",
        description="Sparse linear regression in context: solvers, Monte Carlo sweeps, theory checks.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"simulations.commands.{name}").register(subparsers)
    return parser


def one_line(text: object) -> str:
    """``text`` with its whitespace (newlines of an array's repr included) collapsed."""
    return " ".join(str(text).split())


def describe_os_error(err: OSError) -> str:
    """``PATH: cause`` for an ``OSError`` (the message itself when it names no file)."""
    cause = err.strerror or one_line(err) or type(err).__name__
    paths = [str(p) for p in (err.filename, err.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {cause}" if paths else cause


@contextmanager
def one_line_warnings(prefix: str) -> Iterator[None]:
    """Show warnings as ``PREFIX: warning: message``, one line each, once per kind and place in the code
    (a scan over step sizes that warns a hundred times prints one line)."""
    seen: set = set()

    def show(message, category, filename, lineno, *rest, **kw) -> None:
        if (category, filename, lineno) not in seen:
            seen.add((category, filename, lineno))
            print(f"{prefix}: warning: {one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, or an argparse error (already printed on one line)
        return done.code if isinstance(done.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    prog = f"sparse-icl {args.command}"
    with handled(), one_line_warnings(prog):
        try:
            return int(args.func(args) or 0)
        except KeyboardInterrupt as stop:
            hint = getattr(args, "interrupt_hint", "")
            print(f"{prog}: {stop if isinstance(stop, Interrupted) else 'interrupted'}"
                  + (f"; {hint.format(**vars(args))}" if hint else ""), file=sys.stderr)
            return stop.exit_status if isinstance(stop, Interrupted) else 130
        except ModuleNotFoundError as err:
            extra = EXTRAS.get((err.name or "").split(".")[0])
            if extra is None:
                raise
            print(f"{prog}: error: needs the [{extra}] extra: pip install sparse-icl[{extra}]", file=sys.stderr)
            return 2
        except OSError as err:
            print(f"{prog}: error: {describe_os_error(err)}", file=sys.stderr)
            return 2
        except (ValueError, TypeError) as err:
            print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
