"""Throughput of the full sweep panel and how its time grows with n, d and trials.

    python benchmarks/bench_scale.py [--backend numpy|cupy|auto] [--dtype float64|float32] [--quick|--tiny]
                                     [--parts panel stages cell big exponents]

Prints, in one run:

1. the full panel -- the sweep's own ridge path (40 lambdas), GD path (40 step
   counts), PtO path (40 step counts) and Lasso path (30 alphas), oracle grids
   of :mod:`simulations.methods` -- in instances per second at (n, d) =
   (64, 32) and (512, 256), per method and in total;
2. per stage of the spectral solvers (Gram matrices, eigendecomposition,
   filter application) the achieved GFLOP/s and GB/s, next to the device's
   peak when it is a known GPU (H100: 67 TFLOP/s FP64 tensor, 3.35 TB/s HBM3).
   The first two stages draw the problems, with the host generator (NumPy,
   then a copy to the device) and with the counter-based Philox generator on
   the backend: its "FLOP" are ~150 integer and floating-point operations
   per number (a Philox evaluation and Box-Muller) and its bytes are the
   problems returned;
3. fitted exponents of time against trials, n and d (log-log least squares)
   for each method;
4. a whole sweep cell end to end (``simulations.sweep.run_cell``: drawing the
   problems, the four paths, oracle tuning and the risk summaries).

On CuPy the problems are drawn on the device (``rng="device"``, counter-based
Philox), on NumPy on the host, as the sweep does. Times are the best of three
runs, synchronised on the GPU (``timing.best_of``); each GPU timing follows an
untimed warm-up call that compiles CuPy's kernels.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
from typing import Callable

import numpy as np

import solvers
from simulations import sample_problems
from simulations.methods import METHODS, Setting
from simulations.problems import rng_for_backend
from simulations.sweep import Cell, run_cell
from solvers.backend import namespace
from solvers.spectral import Spectrum
from timing import best_of

PANEL = ("ridge", "gd", "pto", "lasso")
#: The parts of the benchmark, in the order they run (``--parts``).
PARTS = ("panel", "stages", "cell", "big", "exponents")
PEAKS = {"H100": (67e12, 3.35e12), "H200": (67e12, 4.8e12)}  # FP64 tensor FLOP/s, HBM bytes/s


def problems(n: int, d: int, trials: int, backend: str, dtype: str, rng: str | None = None):
    return sample_problems(n, d, max(1, d // 8), 0.1, trials, seed=0, backend=backend, dtype=dtype,
                           rng=rng or rng_for_backend(backend))


def method_time(name: str, p, repeats: int = 3) -> float:
    method = METHODS[name]
    setting = Setting(p.X.shape[1], p.X.shape[2], p.support.shape[1], 0.1, "gaussian")
    grid = method.grid(setting)
    method.fit(p.X[:2, ...], p.y[:2, ...], grid, setting, p.support[:2, ...])  # warm-up
    return best_of(lambda: method.fit(p.X, p.y, grid, setting, p.support), repeats)


def panel_rates(n: int, d: int, trials: int, backend: str, dtype: str) -> dict[str, float]:
    """Instances per second of each method and of the full panel."""
    p = problems(n, d, trials, backend, dtype)
    times = {name: method_time(name, p) for name in PANEL}
    return {**{name: trials / t for name, t in times.items()}, "full panel": trials / sum(times.values())}


def panel(n: int, d: int, trials: int, backend: str, dtype: str, numpy_trials: int) -> None:
    rates = panel_rates(n, d, trials, backend, dtype)
    print(f"n={n:4d} d={d:4d} trials={trials:6d}  instances/s: "
          + "  ".join(f"{name} {rate:10.0f}" for name, rate in rates.items()))
    if backend != "numpy":
        host = panel_rates(n, d, numpy_trials, "numpy", dtype)
        print(f"{'':10s}CuPy / NumPy (NumPy at {numpy_trials} trials): "
              + "  ".join(f"{name} {rates[name] / host[name]:7.1f}x" for name in rates))


def copy_bandwidth(backend: str, nbytes: int = 2**29) -> float:
    """Bytes read plus bytes written per second by one copy of an ``nbytes`` array (best of three)."""
    if backend == "numpy":
        xp = np
    else:
        import cupy as xp
    source = xp.ones(nbytes // 8)
    target = xp.empty_like(source)
    xp.copyto(target, source)
    return 2 * nbytes / best_of(lambda: xp.copyto(target, source))


def stage_rows(n: int, d: int, trials: int, backend: str, dtype: str) -> list[tuple[str, Callable, float, float]]:
    """(name, call, FLOPs, bytes) of each stage on ``trials`` problems."""
    p = problems(n, d, trials, backend, dtype)
    xp = namespace(p.X)
    item = np.dtype(dtype).itemsize
    k = min(n, d)
    X, y = p.X, p.y
    gram = (lambda: X @ xp.matrix_transpose(X)) if n < d else (lambda: xp.matrix_transpose(X) @ X)
    G = gram()
    spectrum = Spectrum.of(X, y)
    filt = spectrum.ridge_filter(np.logspace(-6, 2, 40))
    numbers = trials * (n * d + n + 2 * d)  # X, z, the support's uniforms and the values
    drawn = item * trials * (n * d + n + d)  # bytes of the problems returned
    return [
        ("draw, host RNG", lambda: problems(n, d, trials, backend, dtype, "host"), 0, drawn),
        ("draw, Philox RNG", lambda: problems(n, d, trials, backend, dtype, "device"), 150 * numbers, drawn),
        ("Gram X^T X", gram, 2 * trials * n * d * k, item * trials * (n * d + k * k)),
        ("eigh of the Gram", lambda: xp.linalg.eigh(G), 9 * trials * k**3, item * trials * 2 * k * k),
        ("apply 40 filters", lambda: spectrum.apply(filt), 2 * 40 * trials * d * k,
         item * trials * (d * k + 40 * (k + d))),
        # the same estimates as 40 matrix-vector products per instance (the basis read once per filter), for
        # the ratio to one matrix product per instance
        ("40 filters as GEMVs", lambda: (spectrum.basis @ (filt * spectrum.coef)[..., None])[..., 0],
         2 * 40 * trials * d * k, item * trials * (d * k + 40 * (k + d))),
    ] + ([("eigh, torch DLPack", lambda: torch_eigh(G), 9 * trials * k**3, item * trials * 2 * k * k)]
         if backend == "cupy" and importlib.util.find_spec("torch") else [])


def torch_eigh(G):
    """``torch.linalg.eigh`` of a CuPy stack, shared through DLPack (no copy): the alternative to cuSOLVER."""
    import torch

    stack = torch.from_dlpack(G)  # in chunks: torch's batched eigh asks for a workspace of ~7 KB per 32 x 32 matrix
    return [torch.linalg.eigh(chunk) for chunk in torch.split(stack, 8192)]


def stage_times(rows: list[tuple[str, Callable, float, float]]) -> list[float]:
    """Best of three timed calls after a warm-up; a stage whose warm-up took over a second is timed once
    more only (the host draw of 10^5 problems takes ~5 s, and the suite runs under a time limit)."""
    times = []
    for _, fn, _, _ in rows:
        warm_up = best_of(fn, 1)
        times.append(best_of(fn, 1 if warm_up > 1.0 else 3))
    return times


def stages(n: int, d: int, trials: int, backend: str, dtype: str, device: str, numpy_trials: int,
           copy_bytes: int) -> None:
    copy = copy_bandwidth(backend, copy_bytes)
    print(f"copy bandwidth ({backend}, {copy_bytes >> 20} MiB array, read + write): {copy / 1e9:.1f} GB/s")
    rows = stage_rows(n, d, trials, backend, dtype)
    times = stage_times(rows)
    host = stage_times(stage_rows(n, d, numpy_trials, "numpy", dtype)) if backend != "numpy" else None
    peak = next((v for key, v in PEAKS.items() if key in device), None)
    print(f"stages at n={n}, d={d}, trials={trials} ({dtype}):")
    for i, (name, _, flops, nbytes) in enumerate(rows):
        t = times[i]
        line = (f"  {name:19s} {t * 1e3:9.2f} ms  {flops / t / 1e9:9.1f} GFLOP/s  {nbytes / t / 1e9:8.1f} GB/s"
                f"  {100 * nbytes / t / copy:5.1f}% of measured copy")
        if peak:
            line += f"  ({100 * flops / t / peak[0]:5.1f}% of peak FLOP/s, {100 * nbytes / t / peak[1]:5.1f}% of peak bandwidth)"
        if host is not None and i < len(host):
            line += f"  NumPy / CuPy per instance {host[i] / numpy_trials / (t / trials):7.1f}x"
        print(line)


def exponents(backend: str, dtype: str, axes: dict[str, list[int]], base: tuple[int, int, int]) -> None:
    base_n, base_d, base_t = base
    print("fitted exponents: time ~ x^k (log-log least squares over the values shown)")
    for axis, values in axes.items():
        slopes = []
        for name in PANEL:
            times = []
            for v in values:
                n, d, t = (v if axis == "n" else base_n), (v if axis == "d" else base_d), (v if axis == "trials" else base_t)
                times.append(method_time(name, problems(n, d, t, backend, dtype), repeats=2))
            slopes.append(f"{name} {np.polyfit(np.log(values), np.log(times), 1)[0]:5.2f}")
        print(f"  {axis:6s} in {values}:  " + "  ".join(slopes))


def sweep_cell(n: int, d: int, trials: int, backend: str, dtype: str) -> None:
    cell = Cell(n, d, max(1, d // 8), 0.1, "gaussian", trials, 0, "oracle", backend, dtype, rng_for_backend(backend))
    run_cell(dataclasses.replace(cell, trials=16), list(PANEL))  # warm-up
    t = best_of(lambda: run_cell(cell, list(PANEL)), repeats=1)
    print(f"sweep cell end to end (draw + {', '.join(PANEL)} + oracle tuning), n={n} d={d} trials={trials}: "
          f"{t:.2f} s, {trials / t:.0f} instances/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="auto", choices=["numpy", "cupy", "auto"])
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes (for a CPU)")
    size.add_argument("--tiny", action="store_true", help="toy sizes: checks that every part runs (seconds)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="what to run (default: all, in this order): the (64, 32) panel, its stages, a sweep "
                             "cell, the (512, 256) panel, the fitted exponents")
    args = parser.parse_args()
    backend = solvers.resolve_backend(args.backend)
    device = "CPU"
    if backend == "cupy":
        import cupy

        device = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"backend {backend} ({device}), {args.dtype}")
    gpu = backend == "cupy"
    if args.tiny:
        parts = {"panel": lambda: panel(16, 8, 40, backend, args.dtype, numpy_trials=20),
                 "stages": lambda: stages(16, 8, 40, backend, args.dtype, device, numpy_trials=20, copy_bytes=2**20),
                 "cell": lambda: sweep_cell(16, 8, 40, backend, args.dtype),
                 "big": lambda: panel(32, 16, 40, backend, args.dtype, numpy_trials=20),
                 "exponents": lambda: exponents(backend, args.dtype, {"trials": [20, 40], "n": [8, 16], "d": [4, 8]},
                                                (16, 8, 40))}
    else:
        small = 2000 if args.quick or not gpu else 100000
        base_t = 1000 if args.quick else 2000
        big_trials = 500 if args.quick else 2000
        parts = {
            "panel": lambda: panel(64, 32, small, backend, args.dtype, numpy_trials=2000),
            "stages": lambda: stages(64, 32, 100000 if gpu else 2000, backend, args.dtype, device, numpy_trials=5000,
                                     copy_bytes=2**29),
            "cell": lambda: sweep_cell(64, 32, small, backend, args.dtype),
            "big": lambda: panel(512, 256, big_trials if gpu else big_trials // 10, backend, args.dtype,
                                 numpy_trials=50),
            "exponents": lambda: exponents(
                backend, args.dtype, {"trials": [base_t // 4, base_t // 2, base_t, 2 * base_t], "n": [32, 64, 128, 256],
                                      "d": [16, 32, 64] if args.quick else [16, 32, 64, 128]}, (64, 32, base_t)),
        }
    for name in PARTS:  # most wanted first: a GPU run under a time limit keeps the lines printed before it stops
        if name in args.parts:
            parts[name]()


if __name__ == "__main__":
    main()
