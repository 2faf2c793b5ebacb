"""Monte Carlo sweeps over grids of (n, d, s, sigma): planning, running, storing.

A sweep is a list of :class:`Cell` s. :func:`run_cell` is a pure function of a
cell (it samples the cell's problems from its own random stream, see
:mod:`simulations.problems`, and tunes every method on them), so cells can be
run in any order, on any worker, and give the same rows. :func:`run_sweep`
skips cells already in the store, runs the rest and appends each finished
cell to the store before starting the next.

A grid is counted before it is built (:func:`grid_size`, with a rough time
:func:`estimate_seconds`); :func:`plan_cells` refuses more than
:data:`MAX_CELLS` cells unless told otherwise (``sparse-icl sweep --yes``).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from solvers import free_memory, release_memory
from .limits import MAX_CELLS
from .methods import METHODS, Setting, get_methods
from .problems import DTYPES, RNGS, SIGNALS, rng_for_backend, sample_problems
from .store import RUN_SETTINGS, ResultStore, row_key
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
    dtype: str = "float64"
    rng: str = "host"

    @property
    def setting(self) -> Setting:
        return Setting(self.n, self.d, self.s, self.sigma, self.signal)

    def row(self, method: str) -> dict[str, Any]:
        """The identifying fields of this cell's row for ``method`` (with its grid's hash)."""
        return {"method": method, **asdict(self), "grid_id": METHODS[method].grid_id(self.setting, self.tuning)}


def grid_size(ns: Iterable[int], ds: Iterable[int], ss: Iterable[int], sigmas: Iterable[float],
              signals: Iterable[str] = ("gaussian",), tunings: Iterable[str] = ("oracle",)) -> int:
    """Number of cells of a grid (combinations with s > d left out), counted without building them."""
    ds, ss = np.unique(np.asarray(list(ds), dtype=float)), np.unique(np.asarray(list(ss), dtype=float))
    pairs = int(np.searchsorted(ss, ds, side="right").sum())  # (d, s) pairs with s <= d
    return pairs * len(set(ns)) * len(set(sigmas)) * len(set(signals)) * len(set(tunings))


def _spectral_seconds(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Seconds per instance of one spectral method (eigendecomposition of the smaller Gram matrix)."""
    k = np.minimum(n, d)
    return 2e-5 + 1.5e-9 * k**3 + 2e-10 * n * d * k


#: Rough seconds per instance of each method on one CPU core (float64; fitted to timings at d <= 128).
METHOD_SECONDS = {
    "ols": _spectral_seconds, "ridge": _spectral_seconds, "gd": _spectral_seconds, "pto": _spectral_seconds,
    "oracle": lambda n, d: 2e-5 + 1e-10 * n * d,
    "lasso": lambda n, d: 5e-4 * np.maximum(1.0, d / n) + 5 * _spectral_seconds(n, d),
}


#: Seconds of fixed cost per method and cell (sampling set-up, tuning bookkeeping, the journal).
CELL_OVERHEAD = 4e-3


def estimate_seconds(ns: Iterable[int], ds: Iterable[int], ss: Iterable[int], sigmas: Iterable[float],
                     signals: Iterable[str] = ("gaussian",), tunings: Iterable[str] = ("oracle",),
                     trials: int = 2000, methods: Iterable[str] = tuple(METHODS), samples: int = 20_000,
                     seed: int = 0) -> float:
    """Rough single-core time of a grid, in seconds (a factor of a few either way).

    From a per-instance cost model of each method (:data:`METHOD_SECONDS`;
    the Bayes posterior at ``6e-8`` s per hypothesis) plus
    :data:`CELL_OVERHEAD` per method and cell, summed over the grid,
    or estimated from ``samples`` random (n, d, s) points of a larger grid.
    Validation tuning fits every method twice.
    """
    ns, ds, ss = (np.unique(np.asarray(list(v), dtype=float)) for v in (ns, ds, ss))
    signals, tunings, methods = list(dict.fromkeys(signals)), list(dict.fromkeys(tunings)), list(methods)
    total = len(ns) * len(ds) * len(ss)
    if total <= samples:
        n, d, s = (a.ravel() for a in np.meshgrid(ns, ds, ss, indexing="ij"))
        scale = 1.0
    else:
        draw = np.random.default_rng(seed)
        n, d, s = (v[draw.integers(0, len(v), samples)] for v in (ns, ds, ss))
        scale = total / samples
    valid = s <= d
    n, d, s = n[valid], d[valid], s[valid]
    seconds = 0.0
    for signal in signals:
        per_instance = np.zeros_like(n)
        for method in methods:
            if method == "bayes":
                from scipy.special import comb

                hypotheses = comb(d, s) * (2.0**s if signal == "rademacher" else 1.0)
                per_instance += np.where(hypotheses <= 40_000, 6e-8 * hypotheses, 0.0)
            else:
                per_instance += METHOD_SECONDS[method](n, d)
        tuning_factor = sum(2.0 if t == "validation" else 1.0 for t in tunings)
        seconds += float(per_instance.sum()) * tuning_factor
    overhead = CELL_OVERHEAD * len(methods) * len(n) * len(signals) * len(tunings)
    return (seconds * trials + overhead) * scale * len(set(sigmas))


def describe_seconds(seconds: float) -> str:
    """A duration for people: ``"40 s"``, ``"12 min"``, ``"3.5 h"``, ``"21 days"``, ``"3.2e+03 years"``."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"{value:.2g} {unit}" if value < 1e4 else f"{value:.1e} {unit}"
    return f"{seconds:.2g} s"


def plan_cells(ns: Iterable[int], ds: Iterable[int], ss: Iterable[int], sigmas: Iterable[float],
               signals: Iterable[str] = ("gaussian",), tunings: Iterable[str] = ("oracle",),
               trials: int = 2000, seed: int = 0, backend: str = "numpy",
               dtype: str = "float64", rng: str = "auto", max_cells: int | None = MAX_CELLS) -> list[Cell]:
    """All valid cells of the grid (combinations with s > d are left out).

    ``rng="auto"`` draws the problems where the solvers run: ``"device"``
    (counter-based, on the GPU) for CuPy, ``"host"`` for NumPy; see
    :func:`simulations.problems.sample_problems`. Raises ``ValueError``
    naming the parameter for values no cell could use, and for a grid of more
    than ``max_cells`` cells (counted first; ``None``: no limit).
    """
    ns, ds, ss, sigmas = (sorted(set(v)) for v in (ns, ds, ss, sigmas))
    signals, tunings = list(dict.fromkeys(signals)), list(dict.fromkeys(tunings))
    for name, values in (("n", ns), ("d", ds), ("s", ss)):
        if not values or any(isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
                             or not math.isfinite(v) or int(v) != v or v < 1 for v in values):
            raise ValueError(f"{name} must be a non-empty list of integers >= 1, got {values}")
    if not sigmas or any(isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
                         or not (math.isfinite(v) and v >= 0) for v in sigmas):
        raise ValueError(f"sigma must be a non-empty list of finite numbers >= 0, got {sigmas}")
    for name, values, allowed in (("signal", signals, SIGNALS), ("tuning", tunings, TUNINGS)):
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            raise ValueError(f"{name}: unknown {bad}; choose from {list(allowed)}")
    if int(trials) != trials or trials < 2:
        raise ValueError(f"trials must be an integer >= 2 (a standard error needs two), got {trials}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if rng == "auto":
        rng = rng_for_backend(backend)
    if rng not in RNGS:
        raise ValueError(f"rng must be 'auto' or one of {RNGS}, got {rng!r}")
    if "validation" in tunings:
        validation_size(min(ns))
    count = grid_size(ns, ds, ss, sigmas, signals, tunings)
    if max_cells is not None and count > max_cells:
        estimate = describe_seconds(estimate_seconds(ns, ds, ss, sigmas, signals, tunings, trials))
        raise ValueError(f"the grid has {count} cells (about {estimate} on one core with every method), above the "
                         f"limit of {max_cells}: narrow --n/--d/--s/--sigma, or pass --yes (max_cells=None) to run "
                         "it anyway")
    cells = [
        Cell(int(n), int(d), int(s), float(sigma), signal, int(trials), int(seed), tuning, backend, dtype, rng)
        for signal, tuning, d, s, sigma, n in itertools.product(signals, tunings, ds, ss, sigmas, ns)
        if s <= d
    ]
    if not cells:
        raise ValueError(f"s: every value in {ss} exceeds every d in {ds}; no cell to run")
    return cells


def auto_chunk(cell: Cell) -> int:
    """Instances per chunk so that one chunk's arrays fill about half the free memory.

    Per instance the solvers hold about ``4 n d + 4 d^2 + 120 d`` numbers (the
    design, Gram and eigenvectors, paths of up to 40 estimates, the Lasso
    state); the budget is 256 MB on the host and half of the free device
    memory on a GPU. A chunk that still runs out of memory is halved and
    retried by :func:`run_cell`.
    """
    itemsize = 8 if cell.dtype == "float64" else 4
    per_instance = itemsize * (4 * cell.n * cell.d + 4 * cell.d**2 + 120 * cell.d)
    budget = free_memory(cell.backend) // 2 if cell.backend == "cupy" else 256 * 2**20
    return int(max(1, min(cell.trials, budget // per_instance)))


def run_cell(cell: Cell, methods: list[str], chunk: int | str = "auto") -> list[dict[str, Any]]:
    """Tune and evaluate ``methods`` on the instances of ``cell``; one row per method.

    The instances are processed ``chunk`` at a time (an integer, or ``"auto"``:
    :func:`auto_chunk`); a chunk that raises ``MemoryError`` (CuPy's
    out-of-memory error is one) is retried at half the size, down to one
    instance. Every method sees the same instances (paired comparison), and
    the rows do not depend on the chunk size.
    """
    chunk = auto_chunk(cell) if chunk == "auto" else check_chunk(chunk)
    tuners = [Tuner(method, cell.tuning, cell.setting) for method in get_methods(methods)]
    seconds = [0.0] * len(tuners)
    offset = 0
    while offset < cell.trials:
        size = min(chunk, cell.trials - offset)
        try:
            problems = sample_problems(cell.n, cell.d, cell.s, cell.sigma, size, seed=cell.seed,
                                       signal=cell.signal, backend=cell.backend, offset=offset, dtype=cell.dtype,
                                       rng=cell.rng)
            parts = []
            for i, tuner in enumerate(tuners):
                start = time.perf_counter()
                parts.append(tuner.evaluate(problems))
                seconds[i] += time.perf_counter() - start
        except MemoryError:
            if chunk == 1:
                raise
            problems = parts = None
            release_memory(cell.backend)
            chunk //= 2
            continue
        for tuner, part in zip(tuners, parts):
            tuner.keep(part)
        offset += size
    return [{**cell.row(t.method.name), **t.result(), "seconds": sec} for t, sec in zip(tuners, seconds)]


def check_chunk(chunk: Any) -> int:
    """A chunk size: an integer >= 1 (or the string ``"auto"``, handled by the caller)."""
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1 or 'auto', got {chunk!r}")
    return int(chunk)


def pending(cells: list[Cell], methods: list[str], store: ResultStore) -> list[tuple[Cell, list[str]]]:
    """The cells with at least one method not yet in ``store``, with those methods.

    A method whose ``applies`` rejects a cell's setting (the Bayes posterior
    above its enumeration cap) is left out of that cell.
    """
    done = store.done_keys()
    work = []
    for cell in cells:
        missing = [m for m in methods
                   if METHODS[m].applies(cell.setting) and row_key(cell.row(m)) not in done]
        if missing:
            work.append((cell, missing))
    return work


def run_sweep(cells: list[Cell], methods: list[str], out: str, chunk: int | str = "auto",
              progress: bool = True, scheduler: Any = None, connect_timeout: float | None = None) -> pd.DataFrame:
    """Run the cells not yet in ``out`` and return the full results table.

    Every finished cell is appended durably as soon as it finishes, and
    ``results.csv`` is rewritten at the end -- also when the run is
    interrupted or fails, so no finished cell is lost (if that rewrite fails
    too, the first error is the one raised). ``scheduler`` (``"local"``,
    ``"tcp://HOST:PORT"`` or a Dask cluster) runs the cells on Dask workers
    (:mod:`simulations.distributed`) with identical results;
    ``connect_timeout`` bounds the wait for a scheduler address.

    The directory is locked for the run (:class:`simulations.outputs.DirectoryLock`:
    a second sweep into it stops at once with ``ValueError``), and a store
    holding rows of other run settings (``trials, seed, backend, dtype, rng``)
    is refused with ``ValueError`` before anything runs.
    """
    get_methods(methods)
    if chunk != "auto":
        check_chunk(chunk)
    store = ResultStore(out)
    with store.lock():
        store.check_settings({name: getattr(cell, name) for name in RUN_SETTINGS} for cell in cells)
        work = pending(cells, methods, store)
        try:
            if scheduler is not None:
                from .distributed import run_on_cluster

                run_on_cluster(work, store, scheduler, chunk, progress, connect_timeout=connect_timeout)
            else:
                for cell, missing in tqdm(work, desc="cells", unit="cell", disable=not progress):
                    store.append(run_cell(cell, missing, chunk))
        except BaseException:
            try:
                store.write_csv()
            except Exception:  # noqa: BLE001 - a full disk fails this too; the first error is the real one
                pass
            raise
        return store.write_csv()
