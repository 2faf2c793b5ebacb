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
from .distributed import run_on_cluster
from .limits import MAX_CELLS
from .methods import METHODS, get_methods
from .problems import DTYPES, RNGS, SIGNALS, draw_problems, rng_for_backend
from .spec import Setting, is_integer, is_number
from .store import RUN_SETTINGS, ResultStore, row_key
from .tuning import TUNINGS, Tuner, grid_id

#: The array backends a cell runs on (``"auto"`` is resolved before a cell is made).
BACKENDS = ("numpy", "cupy")


@dataclass(frozen=True)
class Cell(Setting):
    """One point of the grid: a :class:`~simulations.spec.Setting` with the settings of its run.

    Checked when made (the setting's rules, then ``trials`` an integer >= 2,
    ``seed`` an integer >= 0, ``tuning`` a key of
    :data:`simulations.tuning.TUNINGS`, ``backend``, ``dtype`` and ``rng``
    one of :data:`BACKENDS`, :data:`~simulations.problems.DTYPES`,
    :data:`~simulations.problems.RNGS`, and what the tuning mode needs of the
    setting, :meth:`simulations.tuning.TuningMode.check_setting`).
    """

    trials: int
    seed: int
    tuning: str
    backend: str
    dtype: str = "float64"
    rng: str = "host"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not is_integer(self.trials) or self.trials < 2:
            raise ValueError(f"trials must be an integer >= 2 (a standard error needs two), got {self.trials}")
        if not is_integer(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        for name, allowed in (("tuning", TUNINGS), ("backend", BACKENDS), ("dtype", DTYPES), ("rng", RNGS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {tuple(allowed)}, got {getattr(self, name)!r}")
        TUNINGS[self.tuning].check_setting(self)

    @property
    def setting(self) -> Setting:
        """The problem part, what tuning rules may look at."""
        return Setting(self.n, self.d, self.s, self.sigma, self.signal)

    def row(self, method: str) -> dict[str, Any]:
        """The identifying fields of this cell's row for ``method`` (with its grid's hash)."""
        return {"method": method, **asdict(self), "grid_id": grid_id(METHODS[method], self.setting, self.tuning)}


def grid_size(ns: Iterable[int], ds: Iterable[int], ss: Iterable[int], sigmas: Iterable[float],
              signals: Iterable[str] = ("gaussian",), tunings: Iterable[str] = ("oracle",)) -> int:
    """Number of cells of a grid (combinations with s > d left out), counted without building them."""
    ds, ss = np.unique(np.asarray(list(ds), dtype=float)), np.unique(np.asarray(list(ss), dtype=float))
    pairs = int(np.searchsorted(ss, ds, side="right").sum())  # (d, s) pairs with s <= d
    return pairs * len(set(ns)) * len(set(sigmas)) * len(set(signals)) * len(set(tunings))


#: Seconds of fixed cost per method and cell (sampling set-up, tuning bookkeeping, the journal).
CELL_OVERHEAD = 4e-3


def estimate_seconds(ns: Iterable[int], ds: Iterable[int], ss: Iterable[int], sigmas: Iterable[float],
                     signals: Iterable[str] = ("gaussian",), tunings: Iterable[str] = ("oracle",),
                     trials: int = 2000, methods: Iterable[str] = tuple(METHODS), samples: int = 20_000,
                     seed: int = 0) -> float:
    """Rough single-core time of a grid, in seconds (a factor of a few either way).

    From the per-instance cost model of each method
    (:attr:`simulations.methods.Method.cost`) times the fits per instance of
    each tuning mode (:attr:`simulations.tuning.TuningMode.fits`; validation
    fits twice), plus :data:`CELL_OVERHEAD` per method and cell, summed over
    the grid or estimated from ``samples`` random (n, d, s) points of a larger
    grid.
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
            per_instance += METHODS[method].cost(n, d, s, signal)
        tuning_factor = sum(TUNINGS[t].fits for t in tunings)
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
    """All valid cells of the grid (combinations with s > d are left out): the checked entry of a sweep.

    ``rng="auto"`` draws the problems where the solvers run: ``"device"``
    (counter-based, on the GPU) for CuPy, ``"host"`` for NumPy; see
    :func:`simulations.problems.sample_problems`. Raises ``ValueError``
    naming the parameter for values no cell could use (the rules of the
    axes here, those of a single value in :class:`Cell`), and for a grid of
    more than ``max_cells`` cells (counted first; ``None``: no limit).
    """
    ns, ds, ss, sigmas = (sorted(set(v)) for v in (ns, ds, ss, sigmas))
    signals, tunings = list(dict.fromkeys(signals)), list(dict.fromkeys(tunings))
    for name, values in (("n", ns), ("d", ds), ("s", ss)):
        if not values or any(not is_number(v) or not math.isfinite(v) or int(v) != v or v < 1 for v in values):
            raise ValueError(f"{name} must be a non-empty list of integers >= 1, got {values}")
    if not sigmas or any(not is_number(v) or not (math.isfinite(v) and v >= 0) for v in sigmas):
        raise ValueError(f"sigma must be a non-empty list of finite numbers >= 0, got {sigmas}")
    for name, values, allowed in (("signal", signals, SIGNALS), ("tuning", tunings, TUNINGS)):
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            raise ValueError(f"{name}: unknown {bad}; choose from {list(allowed)}")
    count = grid_size(ns, ds, ss, sigmas, signals, tunings)
    if max_cells is not None and count > max_cells:
        estimate = describe_seconds(estimate_seconds(ns, ds, ss, sigmas, signals, tunings, trials))
        raise ValueError(f"the grid has {count} cells (about {estimate} on one core with every method), above the "
                         f"limit of {max_cells}: narrow --n/--d/--s/--sigma, or pass --yes (max_cells=None) to run "
                         "it anyway")
    rng = rng_for_backend(backend) if rng == "auto" else rng
    cells = [
        Cell(int(n), int(d), int(s), float(sigma), signal, trials, seed, tuning, backend, dtype, rng)
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

    The instances are processed ``chunk`` at a time (an integer >= 1, or ``"auto"``:
    :func:`auto_chunk`; not checked here, see :func:`run_sweep`); a chunk that raises ``MemoryError`` (CuPy's
    out-of-memory error is one) is retried at half the size, down to one
    instance. Every method sees the same instances (paired comparison), and
    the rows do not depend on the chunk size.
    """
    chunk = auto_chunk(cell) if chunk == "auto" else chunk
    setting = cell.setting
    tuners = [Tuner(METHODS[name], cell.tuning, setting) for name in methods]
    seconds = [0.0] * len(tuners)
    offset = 0
    while offset < cell.trials:
        size = min(chunk, cell.trials - offset)
        try:
            problems = draw_problems(setting, size, cell.seed, offset=offset, backend=cell.backend,
                                     dtype=cell.dtype, rng=cell.rng)
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


def check_chunk(chunk: Any) -> None:
    """Refuse (``ValueError``) a chunk size that is neither ``"auto"`` nor an integer >= 1."""
    if chunk != "auto" and (not is_integer(chunk) or chunk < 1):
        raise ValueError(f"chunk must be an integer >= 1 or 'auto', got {chunk!r}")


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
    is refused with ``ValueError`` before anything runs. Unknown ``methods``
    and a bad ``chunk`` (:func:`check_chunk`) are refused first.
    """
    get_methods(methods)
    check_chunk(chunk)
    store = ResultStore(out)
    with store.lock():
        store.check_settings({name: getattr(cell, name) for name in RUN_SETTINGS} for cell in cells)
        work = pending(cells, methods, store)
        try:
            if scheduler is not None:
                run_on_cluster(work, store, scheduler, run_cell, chunk, progress, connect_timeout=connect_timeout)
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
