"""Throughput of the full sweep panel and how its time grows with n, d and trials.

    python benchmarks/bench_scale.py [--backend numpy|cupy|auto] [--dtype float64|float32] [--quick]

Prints, in one run:

1. the full panel -- the sweep's own ridge path (40 lambdas), GD path (40 step
   counts), PtO path (40 step counts) and Lasso path (30 alphas), oracle grids
   of :mod:`simulations.methods` -- in instances per second at (n, d) =
   (64, 32) and (512, 256), per method and in total;
2. per stage of the spectral solvers (Gram matrices, eigendecomposition,
   filter application) the achieved GFLOP/s and GB/s, next to the device's
   peak when it is a known GPU (H100: 67 TFLOP/s FP64 tensor, 3.35 TB/s HBM3);
3. fitted exponents of time against trials, n and d (log-log least squares)
   for each method.

Problems are drawn on the host and copied to the device before the clock
starts; times are the best of three runs (synchronised on the GPU).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import solvers
from simulations import sample_problems
from simulations.methods import METHODS, Setting
from solvers._backend import backend_module, namespace
from solvers.spectral import Spectrum

PANEL = ("ridge", "gd", "pto", "lasso")
PEAKS = {"H100": (67e12, 3.35e12), "H200": (67e12, 4.8e12)}  # FP64 tensor FLOP/s, HBM bytes/s


def synchronize(xp) -> None:
    if xp.__name__.startswith("cupy"):
        xp.cuda.Device().synchronize()


def best_of(fn, xp, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        synchronize(xp)
        start = time.perf_counter()
        fn()
        synchronize(xp)
        times.append(time.perf_counter() - start)
    return min(times)


def problems(n: int, d: int, trials: int, backend: str, dtype: str):
    return sample_problems(n, d, max(1, d // 8), 0.1, trials, seed=0, backend=backend, dtype=dtype)


def method_time(name: str, p, xp, repeats: int = 3) -> float:
    method = METHODS[name]
    grid = method.grid(Setting(p.X.shape[1], p.X.shape[2], p.support.shape[1], 0.1, "gaussian"))
    return best_of(lambda: method.fit(p.X, p.y, grid, p.support), xp, repeats)


def panel(n: int, d: int, trials: int, backend: str, dtype: str) -> None:
    p = problems(n, d, trials, backend, dtype)
    xp = namespace(p.X)
    times = {name: method_time(name, p, xp) for name in PANEL}
    total = sum(times.values())
    cells = "  ".join(f"{name} {trials / t:10.0f}" for name, t in times.items())
    print(f"n={n:4d} d={d:4d} trials={trials:6d}  instances/s: {cells}  full panel {trials / total:10.0f}")


def stages(n: int, d: int, trials: int, backend: str, dtype: str, device: str) -> None:
    p = problems(n, d, trials, backend, dtype)
    xp = namespace(p.X)
    item = np.dtype(dtype).itemsize
    k = min(n, d)
    X, y = p.X, p.y
    gram = (lambda: X @ xp.matrix_transpose(X)) if n < d else (lambda: xp.matrix_transpose(X) @ X)
    G = gram()
    spectrum = Spectrum.of(X, y)
    filt = spectrum.ridge_filter(np.logspace(-6, 2, 40))
    rows = [
        ("Gram X^T X", gram, 2 * trials * n * d * k, item * trials * (n * d + k * k)),
        ("eigh of the Gram", lambda: xp.linalg.eigh(G), 9 * trials * k**3, item * trials * 2 * k * k),
        ("apply 40 filters", lambda: spectrum.apply(filt), 2 * 40 * trials * d * k,
         item * trials * (d * k + 40 * (k + d))),
    ]
    peak = next((v for key, v in PEAKS.items() if key in device), None)
    print(f"stages at n={n}, d={d}, trials={trials} ({dtype}):")
    for name, fn, flops, nbytes in rows:
        t = best_of(fn, xp)
        line = f"  {name:18s} {t * 1e3:9.2f} ms  {flops / t / 1e9:9.1f} GFLOP/s  {nbytes / t / 1e9:8.1f} GB/s"
        if peak:
            line += f"  ({100 * flops / t / peak[0]:5.1f}% of peak FLOP/s, {100 * nbytes / t / peak[1]:5.1f}% of peak bandwidth)"
        print(line)


def exponents(backend: str, dtype: str, quick: bool) -> None:
    xp = backend_module(backend)
    base_n, base_d, base_t = 64, 32, 1000 if quick else 2000
    axes = {
        "trials": [base_t // 4, base_t // 2, base_t, 2 * base_t],
        "n": [32, 64, 128, 256],
        "d": [16, 32, 64, 128] if not quick else [16, 32, 64],
    }
    print("fitted exponents: time ~ x^k (log-log least squares over the values shown)")
    for axis, values in axes.items():
        slopes = []
        for name in PANEL:
            times = []
            for v in values:
                n, d, t = (v if axis == "n" else base_n), (v if axis == "d" else base_d), (v if axis == "trials" else base_t)
                times.append(method_time(name, problems(n, d, t, backend, dtype), xp, repeats=2))
            slopes.append(f"{name} {np.polyfit(np.log(values), np.log(times), 1)[0]:5.2f}")
        print(f"  {axis:6s} in {values}:  " + "  ".join(slopes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="auto", choices=["numpy", "cupy", "auto"])
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for a CPU)")
    args = parser.parse_args()
    backend = solvers.resolve_backend(args.backend)
    device = "CPU"
    if backend == "cupy":
        import cupy

        device = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"backend {backend} ({device}), {args.dtype}")
    big_trials = 500 if args.quick else (20000 if backend == "cupy" else 2000)
    panel(64, 32, 2000 if args.quick or backend == "numpy" else 100000, backend, args.dtype)
    panel(512, 256, big_trials // 10 if backend == "numpy" else big_trials, backend, args.dtype)
    stages(64, 32, 2000 if backend == "numpy" else 100000, backend, args.dtype, device)
    exponents(backend, args.dtype, args.quick)


if __name__ == "__main__":
    main()
