"""A resumable, append-only store of sweep results.

Each finished (cell, method) is one JSON line appended to ``DIR/cells.jsonl``
and fsynced before the next cell starts, so an interruption (Ctrl-C, a crash,
a killed worker) loses at most the cell being computed. A torn last line (the
process died mid-write) is ignored when reading. Rows are identified by
:data:`KEY_COLUMNS`; a key seen twice keeps its first row, so a retried task
never duplicates a result. ``DIR/results.csv`` is the tidy view of the journal,
rewritten atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

KEY_COLUMNS = ("method", "n", "d", "s", "sigma", "signal", "trials", "tuning", "seed", "backend", "dtype",
               "rng", "grid_id")
COLUMNS = KEY_COLUMNS[:8] + (
    "risk_mean", "risk_sem", "risk_lo", "risk_hi", "parameter", "hyperparameter", "edge",
    "diverged", "unconverged", "backend", "dtype", "rng", "seed", "grid_id", "seconds",
)
#: Key columns added after stores were first written, with the value their older rows mean.
ADDED_COLUMNS = {"rng": "host"}


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

    def rows(self) -> list[dict[str, Any]]:
        """Finished rows in journal order, without torn lines or duplicate keys."""
        if not self.journal.exists():
            return []
        rows, seen = [], set()
        with self.journal.open() as handle:
            for line in handle:
                try:
                    row = ADDED_COLUMNS | json.loads(line)
                except json.JSONDecodeError:
                    continue
                key = row_key(row)
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
        return rows

    def done_keys(self) -> set[tuple]:
        return {row_key(row) for row in self.rows()}

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows durably (one JSON line each, flushed and fsynced)."""
        text = "".join(json.dumps(row) + "\n" for row in rows)
        self._repair_tail()
        with self.journal.open("a") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

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
        tmp = self.csv.with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, self.csv)
        return frame
