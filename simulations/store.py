"""A resumable, append-only store of sweep results.

Each finished (cell, method) is one JSON line appended to ``DIR/cells.jsonl``
and fsynced before the next cell starts, so an interruption (Ctrl-C, SIGTERM,
a crash, a killed worker) loses at most the cell being computed; under the
``sparse-icl`` command a signal never cuts an append short
(:func:`simulations.interrupts.critical`). A torn last line (the process died
mid-write) is ignored when reading; a line that is JSON but not a row (keys
missing, a key of the wrong type) is skipped with a :class:`JournalWarning`,
and a row whose risk is NaN is not reused (its cell is computed again). Rows
are identified by :data:`KEY_COLUMNS`; a key seen twice keeps its first row,
so a retried task never duplicates a result. ``DIR/results.csv`` is the tidy
view of the journal, rewritten atomically (temporary file + ``os.replace``,
the temporary file removed if the write fails).

A directory holds the results of one run setting (:data:`RUN_SETTINGS`:
trials, seed, backend, dtype, rng); :meth:`ResultStore.check_settings`
refuses to add rows of another one, so rows of different settings are never
mixed (or averaged) in one results.csv.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .interrupts import critical
from .outputs import DirectoryLock, atomic_write, naming

KEY_COLUMNS = ("method", "n", "d", "s", "sigma", "signal", "trials", "tuning", "seed", "backend", "dtype",
               "rng", "grid_id")
COLUMNS = KEY_COLUMNS[:8] + (
    "risk_mean", "risk_sem", "risk_lo", "risk_hi", "parameter", "hyperparameter", "edge",
    "diverged", "unconverged", "backend", "dtype", "rng", "seed", "grid_id", "seconds",
)
#: Key columns added after stores were first written, with the value their older rows mean.
ADDED_COLUMNS = {"rng": "host"}
#: Columns every journal row must have (others may be missing and read as NaN).
REQUIRED_COLUMNS = KEY_COLUMNS + ("risk_mean", "risk_sem")
#: Settings of a whole run, one value per results directory, with the sweep flag that sets each.
RUN_SETTINGS = {"trials": "--trials", "seed": "--seed", "backend": "--backend", "dtype": "--dtype",
                "rng": "--rng"}


_INTEGER_KEYS = ("n", "d", "s", "trials", "seed")
_TEXT_KEYS = ("method", "signal", "tuning", "backend", "dtype", "rng", "grid_id")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _well_typed(row: dict[str, Any]) -> bool:
    """Whether a journal row's identifying and risk fields have the types the sweep writes."""
    return (all(isinstance(row[c], int) and not isinstance(row[c], bool) for c in _INTEGER_KEYS)
            and all(isinstance(row[c], str) for c in _TEXT_KEYS)
            and _number(row["sigma"]) and (_number(row["risk_mean"]) or row["risk_mean"] is None))


class JournalWarning(UserWarning):
    """Lines of ``cells.jsonl`` that were skipped (not rows) or will be recomputed (NaN risk)."""


def row_key(row: dict[str, Any]) -> tuple:
    """The identity of a result row (floats as their repr, so keys survive JSON)."""
    return tuple(repr(float(row[c])) if c == "sigma" else row[c] for c in KEY_COLUMNS)


class ResultStore:
    """Journal of finished rows in a directory, plus its tidy CSV view."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.journal = self.directory / "cells.jsonl"
        self.csv = self.directory / "results.csv"

    def lock(self) -> DirectoryLock:
        """The directory's exclusive lock (re-entrant in this process): ``with store.lock(): ...``."""
        return DirectoryLock(self.directory, stale=(self.csv.name + ".tmp", "meta.json.tmp"))

    def rows(self) -> list[dict[str, Any]]:
        """Finished rows in journal order, without torn or malformed lines, NaN risks or duplicate keys."""
        if not self.journal.exists():
            return []
        rows, seen, malformed, nan = [], set(), [], []
        with self.journal.open(errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn write: the process died mid-line
                if not isinstance(row, dict) or any(c not in row and c not in ADDED_COLUMNS
                                                    for c in REQUIRED_COLUMNS):
                    malformed.append(number)
                    continue
                row = ADDED_COLUMNS | row
                if not _well_typed(row):
                    malformed.append(number)
                    continue
                key, risk = row_key(row), row["risk_mean"]
                if risk is None or math.isnan(risk):
                    nan.append(number)
                    continue
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
        if malformed:
            warnings.warn(f"{self.journal}: skipped {len(malformed)} line(s) that are not result rows "
                          f"(line {', '.join(map(str, malformed[:5]))}{', ...' if len(malformed) > 5 else ''})",
                          JournalWarning)
        if nan:
            warnings.warn(f"{self.journal}: {len(nan)} row(s) with a NaN risk are not reused; their cells are "
                          f"computed again (line {', '.join(map(str, nan[:5]))}{', ...' if len(nan) > 5 else ''})",
                          JournalWarning)
        return rows

    def check_settings(self, settings: Iterable[dict[str, Any]]) -> None:
        """Refuse (``ValueError``) run settings that differ from those of the rows already stored.

        ``settings`` are the :data:`RUN_SETTINGS` of the cells to run. The
        message names each differing setting with its stored and requested
        values, and how to proceed.
        """
        stored: dict[str, set] = {name: set() for name in RUN_SETTINGS}
        for row in self.rows():
            for name in RUN_SETTINGS:
                stored[name].add(row[name])
        if not any(stored.values()):
            return
        wanted: dict[str, set] = {name: set() for name in RUN_SETTINGS}
        for setting in settings:
            for name in RUN_SETTINGS:
                wanted[name].add(setting[name])
        differ = [name for name in RUN_SETTINGS if wanted[name] and wanted[name] != stored[name]]
        if not differ:
            return
        values = lambda vals: ",".join(map(str, sorted(vals, key=str)))
        detail = "; ".join(f"{RUN_SETTINGS[n]} {values(wanted[n])} (stored: {values(stored[n])})" for n in differ)
        same = " ".join(f"{RUN_SETTINGS[n]} {values(stored[n])}" for n in differ if len(stored[n]) == 1)
        raise ValueError(f"{self.directory} holds results of other settings: {detail}; rows of different "
                         "settings are never mixed: choose another --out"
                         + (f", or rerun with {same} to resume this one" if same else ""))

    def done_keys(self) -> set[tuple]:
        return {row_key(row) for row in self.rows()}

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows durably (one JSON line each, flushed and fsynced)."""
        text = "".join(json.dumps(row) + "\n" for row in rows)
        with critical():
            try:
                self._repair_tail()
                with self.journal.open("a") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as err:  # a full or read-only disk: name the journal
                raise naming(err, self.journal) from None

    def _repair_tail(self) -> None:
        """Terminate a torn last line so the next row starts on a fresh line."""
        if self.journal.exists() and self.journal.stat().st_size:
            with self.journal.open("rb+") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")

    def frame(self) -> pd.DataFrame:
        """The rows as a tidy DataFrame sorted by cell and method."""
        frame = pd.DataFrame(self.rows(), columns=list(COLUMNS))
        order = ["signal", "tuning", "d", "s", "sigma", "n", "method"]
        return frame.sort_values(order, kind="stable").reset_index(drop=True)

    def write_csv(self) -> pd.DataFrame:
        """Rewrite ``results.csv`` atomically from the journal and return the frame."""
        frame = self.frame()
        atomic_write(self.csv, lambda tmp: frame.to_csv(tmp, index=False))
        return frame
