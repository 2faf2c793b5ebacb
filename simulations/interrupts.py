"""SIGINT and SIGTERM: stop between writes, never in the middle of one.

The ``sparse-icl`` command runs inside :func:`handled`, which turns SIGINT
(Ctrl-C) and SIGTERM (``kill``, a batch system's time limit) into the same
exception, :class:`Interrupted` (a ``KeyboardInterrupt``), so every
``finally`` and ``except KeyboardInterrupt`` clause -- the sweep writing
``results.csv`` and ``meta.json`` from its journal -- runs for both signals.
A signal that arrives inside a :func:`critical` block (appending to the
journal, replacing ``results.csv`` or ``meta.json``) is held until the block
ends, so the write in progress always finishes. The command then prints one
line and exits with ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM).

A signal that was ignored when the command started (``nohup``, a background
job of a non-interactive shell) stays ignored. Outside :func:`handled` (library
use) nothing changes: Python's own ``KeyboardInterrupt`` applies and
:func:`critical` only counts.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_depth = 0
_pending: int | None = None


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM received while a command ran; ``exit_status`` is ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.signame = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signame}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def _handler(signum: int, frame) -> None:
    global _pending
    if _depth > 0:
        _pending = _pending or signum
        return
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """Route SIGINT and SIGTERM to :class:`Interrupted` (main thread only); restore the handlers after."""
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in SIGNALS:
        current = signal.getsignal(signum)
        if current is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
        _pending = None


@contextmanager
def critical() -> Iterator[None]:
    """Hold SIGINT / SIGTERM (under :func:`handled`) until the block ends; then raise :class:`Interrupted`.

    If the block itself raises, that error propagates (and a held signal is
    dropped: the command is ending anyway).
    """
    global _depth, _pending
    _depth += 1
    try:
        yield
    except BaseException:
        _depth -= 1
        if _depth == 0:
            _pending = None
        raise
    _depth -= 1
    if _depth == 0 and _pending is not None:
        signum, _pending = _pending, None
        raise Interrupted(signum)


@contextmanager
def ignoring_sigint() -> Iterator[None]:
    """Ignore SIGINT while the block runs (processes started meanwhile inherit the ignore).

    Used while a local Dask cluster spawns its workers: a terminal's Ctrl-C
    goes to the whole foreground process group, and the workers must leave
    it to this process (which stops them quietly) instead of each printing a
    traceback.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old if old is not None else signal.SIG_DFL)
