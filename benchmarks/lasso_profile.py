"""Where the batched Lasso engine spends its time: a cProfile of one path call.

    CUDA_LAUNCH_BLOCKING=1 python benchmarks/lasso_profile.py [--instances 100000] [--n 64] [--d 32] [--top 25]

Runs :func:`solvers.lasso` with the array-API engine (the GPU's engine) once,
untimed, to compile CuPy's kernels, then once under ``cProfile``, on CuPy when
a device is usable (else NumPy, with ``--instances`` 2000 by default), on the
problems and 30-alpha grid of ``benchmarks/lasso.py`` at ``tol = 1e-4``.
CuPy calls return before the GPU finishes: with ``CUDA_LAUNCH_BLOCKING=1``
each call waits for its kernel, so the GPU time is charged to the function
that launched it. Prints the wall time and the ``--top`` functions by own
time, then the cumulative time of the engine's phases (sweeps, Newton
polish, warm starts, duality gaps, batch compaction, finishing stage).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np

import solvers
from simulations.problems import sample_problems
from timing import synchronize

PHASES = ("_sweep", "_polish", "_advance", "duality_gap", "take", "_finish", "_gram", "cd_path")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=None, help="default 100000 on CuPy, 2000 on NumPy")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    backend = solvers.resolve_backend("auto")
    instances = args.instances or (100000 if backend == "cupy" else 2000)
    p = sample_problems(args.n, args.d, 4, 0.1, instances, seed=0, backend=backend)
    alphas = float(np.max(solvers.to_numpy(solvers.lasso_alpha_max(p.X, p.y)))) * np.geomspace(1.0, 1e-3, 30)
    run = lambda: solvers.lasso(p.X, p.y, alphas, tol=1e-4, engine="array_api")  # noqa: E731
    run()
    synchronize()
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    run()
    synchronize()
    profile.disable()
    wall = time.perf_counter() - start
    print(f"{backend}: n={args.n} d={args.d} instances={instances}, 30 alphas, tol 1e-4: {wall:.3f} s "
          f"({instances / wall:.0f} instances/s, under the profiler)")
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(args.top)
    print(text.getvalue())
    print("cumulative seconds by phase:")
    for (file, _, name), row in sorted(stats.stats.items(), key=lambda item: -item[1][3]):
        if name in PHASES and ("solvers" in file or name == "take"):
            print(f"  {name:12s} {row[3]:8.3f} s  {row[1]:7d} calls  ({file.rsplit('/', 2)[-2:]})")


if __name__ == "__main__":
    main()
