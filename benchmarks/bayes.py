"""Bayes posterior mean: the compiled kernel vs the array-API engine, instances per second side by side in one run.

Usage::

    .venv/bin/python benchmarks/bayes.py [--cases 32,32,4 16,32,2] [--instances 400] [--array-instances 40] [--rounds 3]

For each case (n, d, s): problems from ``simulations.sample_problems`` (gaussian
law, sigma = 0.1, the default sweep's), and :func:`solvers.bayes_posterior_mean` with

- ``engine="compiled"`` (numba kernel, all cores) on ``--instances`` problems,
  and the same on one numba thread;
- ``engine="array_api"`` (the vectorised reference, on NumPy) on the first
  ``--array-instances`` of them.

Timings are interleaved: every round runs each engine once, in turn, so a
steady background load hits all of them alike; each figure is the best of
``--rounds`` rounds. Wall clock: instances per second, and ``ratio`` =
compiled over array-API (all cores, and one thread). CPU time of the process
(all threads, ``time.process_time``), less sensitive to a background load
than the wall clock: milliseconds per instance, and ``CPU ratio`` = array-API
over compiled on one thread. ``max diff`` is the largest
``max_j |w_j - w_ref,j| / max_j |w_ref,j|`` over the instances both engines
ran (``w_ref`` from the array-API engine).
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Callable

import numba
import numpy as np

import solvers
from simulations.problems import sample_problems

SIGMA = 0.1


def engine(name: str, s: int, threads: int | None = None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``solvers.bayes_posterior_mean`` with ``engine=name`` on ``threads`` numba threads (default: all)."""
    def run(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        default = numba.get_num_threads()
        numba.set_num_threads(threads or default)
        try:
            return solvers.bayes_posterior_mean(X, y, s, SIGMA, engine=name)
        finally:
            numba.set_num_threads(default)
    return run


def case(n: int, d: int, s: int, instances: int, array_instances: int, rounds: int) -> str:
    """One table row for (n, d, s)."""
    p = sample_problems(n, d, s, SIGMA, instances, seed=0)
    m = min(array_instances, instances)
    table = {"compiled": (engine("compiled", s), instances),
             "compiled 1 thread": (engine("compiled", s, threads=1), instances),
             "array_api": (engine("array_api", s), m)}
    for run, _ in table.values():  # warm-up: numba cache, imports
        run(p.X[:2], p.y[:2])
    wall = {name: math.inf for name in table}
    cpu = {name: math.inf for name in table}
    results = {}
    for _ in range(rounds):
        for name, (run, count) in table.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = run(p.X[:count], p.y[:count])
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    rate = {name: count / wall[name] for name, (_, count) in table.items()}
    cpu_ms = {name: cpu[name] / count * 1e3 for name, (_, count) in table.items()}
    ref = results["array_api"]
    diff = np.max(np.abs(results["compiled"][:m] - ref).max(axis=1) / np.abs(ref).max(axis=1))
    return (f"| ({n}, {d}, {s}) | {math.comb(d, s)} | {instances} | {m} | {rate['compiled']:.1f} | "
            f"{rate['compiled 1 thread']:.1f} | {rate['array_api']:.2f} | "
            f"{rate['compiled'] / rate['array_api']:.1f}x | {rate['compiled 1 thread'] / rate['array_api']:.1f}x | "
            f"{cpu_ms['compiled 1 thread']:.3f} | {cpu_ms['array_api']:.3f} | "
            f"{cpu_ms['array_api'] / cpu_ms['compiled 1 thread']:.1f}x | {diff:.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["32,32,4", "16,32,2"], help="n,d,s triples")
    parser.add_argument("--instances", type=int, default=400, help="problems for the compiled kernel")
    parser.add_argument("--array-instances", type=int, default=40, help="problems for the array-API engine")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each time is the best")
    args = parser.parse_args()
    print(f"sigma = {SIGMA}, gaussian law; best of {args.rounds} interleaved rounds; "
          f"{numba.get_num_threads()} numba threads")
    print("| (n, d, s) | supports | instances compiled | instances array_api | compiled inst/s | "
          "compiled 1 thread inst/s | array_api inst/s | ratio | ratio 1 thread | "
          "compiled 1 thread CPU ms/inst | array_api CPU ms/inst | CPU ratio | max diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for text in args.cases:
        n, d, s = (int(v) for v in text.split(","))
        print(case(n, d, s, args.instances, args.array_instances, args.rounds), flush=True)


if __name__ == "__main__":
    main()
