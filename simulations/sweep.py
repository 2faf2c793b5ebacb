"""Monte Carlo sweeps over grids of (n, d, s, sigma): planning, running, storing.

A sweep is a list of :class:`Cell` s. :func:`run_cell` is a pure function of a
cell (it samples the cell's problems from its own random stream, see
:mod:`simulations.problems`, and tunes every method on them), so cells can be
run in any order, on any worker, and give the same rows. :func:`run_sweep`
skips cells already in the store, runs the rest and appends each finished
cell to the store before starting the next.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import pandas as pd
from tqdm.auto import tqdm

from .methods import Setting, get_methods
from .problems import SIGNALS, sample_problems
from .store import ResultStore, row_key
from .tuning import TUNINGS, Tuner, validation_size


@dataclass(frozen=True)
class Cell:
    """One point of the grid: the problems of a (n, d, s, sigma, signal) setting."""

    n: int
    d: int
    s: int
    sigma: float
    signal: str
    trials: int
    seed: int
    tuning: str
    backend: str

    @property
    def setting(self) -> Setting:
        return Setting(self.n, self.d, self.s, self.sigma, self.signal)

    def row(self, method: str) -> dict[str, Any]:
        """The identifying fields of this cell's row for ``method``."""
        return {"method": method, **asdict(self)}


def plan_cells(ns: Iterable[int], ds: Iterable[int], ss: Iterable[int], sigmas: Iterable[float],
               signals: Iterable[str] = ("gaussian",), tunings: Iterable[str] = ("oracle",),
               trials: int = 2000, seed: int = 0, backend: str = "numpy") -> list[Cell]:
    """All valid cells of the grid (combinations with s > d are left out).

    Raises ``ValueError`` naming the parameter for values no cell could use.
    """
    ns, ds, ss, sigmas = (sorted(set(v)) for v in (ns, ds, ss, sigmas))
    signals, tunings = list(dict.fromkeys(signals)), list(dict.fromkeys(tunings))
    for name, values in (("n", ns), ("d", ds), ("s", ss)):
        if not values or any(int(v) != v or v < 1 for v in values):
            raise ValueError(f"{name} must be a non-empty list of integers >= 1, got {values}")
    if not sigmas or any(not (v >= 0) for v in sigmas):
        raise ValueError(f"sigma must be a non-empty list of numbers >= 0, got {sigmas}")
    for name, values, allowed in (("signal", signals, SIGNALS), ("tuning", tunings, TUNINGS)):
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            raise ValueError(f"{name}: unknown {bad}; choose from {list(allowed)}")
    if int(trials) != trials or trials < 2:
        raise ValueError(f"trials must be an integer >= 2 (a standard error needs two), got {trials}")
    if "validation" in tunings:
        validation_size(min(ns))
    cells = [
        Cell(int(n), int(d), int(s), float(sigma), signal, int(trials), int(seed), tuning, backend)
        for signal, tuning, d, s, sigma, n in itertools.product(signals, tunings, ds, ss, sigmas, ns)
        if s <= d
    ]
    if not cells:
        raise ValueError(f"s: every value in {ss} exceeds every d in {ds}; no cell to run")
    return cells


def run_cell(cell: Cell, methods: list[str], chunk: int = 1024) -> list[dict[str, Any]]:
    """Tune and evaluate ``methods`` on the instances of ``cell``; one row per method.

    The instances are processed ``chunk`` at a time (memory), and every method
    sees the same instances (paired comparison). The rows do not depend on
    ``chunk``.
    """
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk}")
    tuners = [Tuner(method, cell.tuning, cell.setting) for method in get_methods(methods)]
    seconds = [0.0] * len(tuners)
    for offset in range(0, cell.trials, chunk):
        problems = sample_problems(cell.n, cell.d, cell.s, cell.sigma, min(chunk, cell.trials - offset),
                                   seed=cell.seed, signal=cell.signal, backend=cell.backend, offset=offset)
        for i, tuner in enumerate(tuners):
            start = time.perf_counter()
            tuner.add(problems)
            seconds[i] += time.perf_counter() - start
    return [{**cell.row(t.method.name), **t.result(), "seconds": sec} for t, sec in zip(tuners, seconds)]


def pending(cells: list[Cell], methods: list[str], store: ResultStore) -> list[tuple[Cell, list[str]]]:
    """The cells with at least one method not yet in ``store``, with those methods."""
    done = store.done_keys()
    work = []
    for cell in cells:
        missing = [m for m in methods if row_key(cell.row(m)) not in done]
        if missing:
            work.append((cell, missing))
    return work


def run_sweep(cells: list[Cell], methods: list[str], out: str, chunk: int = 1024,
              progress: bool = True, scheduler: Any = None) -> pd.DataFrame:
    """Run the cells not yet in ``out`` and return the full results table.

    Every finished cell is appended durably as soon as it finishes, and
    ``results.csv`` is rewritten at the end -- also when the run is
    interrupted or fails, so no finished cell is lost. ``scheduler``
    (``"local"``, ``"tcp://HOST:PORT"`` or a Dask cluster) runs the cells on
    Dask workers (:mod:`simulations.distributed`) with identical results.
    """
    get_methods(methods)
    store = ResultStore(out)
    work = pending(cells, methods, store)
    try:
        if scheduler is not None:
            from .distributed import run_on_cluster

            run_on_cluster(work, store, scheduler, chunk, progress)
        else:
            for cell, missing in tqdm(work, desc="cells", unit="cell", disable=not progress):
                store.append(run_cell(cell, missing, chunk))
    finally:
        frame = store.write_csv()
    return frame
