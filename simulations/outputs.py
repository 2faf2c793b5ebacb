"""Output directories and files: checked up front, written atomically, locked while a sweep runs.

- :func:`out_path` (an argparse type) refuses an empty ``--out`` (``Path("")``
  is the current directory);
- :func:`output_dir` creates the directory or says, in one line naming the
  path, why it cannot (a file is in the way, no permission, a read-only file
  system);
- :func:`atomic_write` writes ``PATH.tmp`` then replaces ``PATH``, under
  :func:`simulations.interrupts.critical` so a signal never cuts it short;
  on any failure (a full disk) the temporary file is removed and ``PATH``
  keeps its previous contents;
- :class:`DirectoryLock` takes an exclusive ``fcntl.flock`` on ``DIR/.sparse-icl.lock``,
  so two sweeps never write one directory at once.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable

from .interrupts import critical

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, the lock is a no-op
    fcntl = None

LOCK_NAME = ".sparse-icl.lock"
TMP_SUFFIX = ".tmp"


def out_path(text: str) -> Path:
    """An argparse ``type`` for output directories: any non-blank path."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (it would write into the current directory)")
    return Path(text)


def output_dir(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Create directory ``path`` (with its parents) and check that it can be written.

    Raises ``ValueError`` naming ``flag``, the path and the cause.
    """
    path = Path(path)
    if not str(path).strip():
        raise ValueError(f"{flag} must not be empty")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        where = f" ({err.filename})" if err.filename and str(err.filename) != str(path) else ""
        raise ValueError(f"{flag} {path}: cannot create the directory: {err.strerror or err}{where}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: not writable (no permission, or a read-only file system)")
    return path


def naming(err: OSError, path: str | os.PathLike) -> OSError:
    """``err`` with ``path`` as its file name when it names none (a write to a full disk names no file)."""
    if err.filename is None and err.errno is not None:
        return type(err)(err.errno, err.strerror or str(err), str(path))
    return err


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then replace ``path`` by ``tmp``; never leaves ``tmp`` behind.

    An ``OSError`` names ``path`` (a full disk, a read-only file system), and
    ``path`` keeps its previous contents.
    """
    path = Path(path)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with critical():
        try:
            write(tmp)
            os.replace(tmp, path)
        except BaseException as err:
            try:
                tmp.unlink()
            except OSError:
                pass
            if isinstance(err, OSError):
                raise naming(err, path) from None
            raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


class DirectoryBusy(ValueError):
    """Another process holds the directory's lock."""


class DirectoryLock:
    """Exclusive, re-entrant (within this process) lock on a directory: ``flock(DIR/.sparse-icl.lock)``.

    Taking it fails at once, with :class:`DirectoryBusy` naming the holder's
    pid, when another process holds it; the operating system releases it when
    the holder exits, however it exits (``kill -9`` included), so a stale lock
    file never blocks. On taking it, the temporary files ``stale`` (of
    :func:`atomic_write`, left by a run killed mid-write) are removed.
    """

    _held: dict[str, list] = {}  # realpath -> [fd, depth]

    def __init__(self, directory: str | os.PathLike, flag: str = "--out", stale: tuple[str, ...] = ()) -> None:
        self.directory = Path(directory)
        self.flag = flag
        self.stale = stale

    def __enter__(self) -> "DirectoryLock":
        key = os.path.realpath(self.directory)
        if key in self._held:
            self._held[key][1] += 1
            return self
        path = self.directory / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise ValueError(f"{self.flag} {self.directory}: cannot create its lock file {LOCK_NAME}: "
                             f"{err.strerror or err}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise DirectoryBusy(f"{self.flag} {self.directory}: in use by another sparse-icl run (pid {holder}); "
                                    "wait for it to finish, or choose another directory") from None
            except OSError:  # a file system without locks: go on unlocked
                pass
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass
        self._held[key] = [fd, 1]
        for name in self.stale:
            try:
                (self.directory / name).unlink()
            except OSError:
                pass
        return self

    def __exit__(self, *exc) -> None:
        key = os.path.realpath(self.directory)
        entry = self._held[key]
        entry[1] -= 1
        if entry[1] == 0:
            del self._held[key]
            os.close(entry[0])  # releases the flock
