"""Wall time of a sweep with the default BLAS threads vs ``OPENBLAS_NUM_THREADS=1``, side by side in one run.

Usage::

    .venv/bin/python benchmarks/sweep_time.py [--rounds 2] [--checkout DIR ...] [-- SWEEP ARGS]

Runs ``python -m simulations sweep SWEEP_ARGS --quiet`` (default: the
default sweep, ``make demo``) in fresh processes, alternating the
configurations round by round so that a steady background load hits them
alike: the default environment, then ``OPENBLAS_NUM_THREADS=1`` (numba's
threads are left alone). ``--checkout DIR`` adds the same two runs for the
code in DIR (for instance an older commit, ``git archive COMMIT | tar -x -C
DIR``), run with this interpreter. Prints, per configuration, the best wall
time over the rounds, its ratio to the one-thread run of the same code, the
CPU time (user + system) of that run's process tree, the 1-minute load average
when it started, and the sum of the ``seconds`` column (time inside the cells)
per method of the best run. On a machine shared with other work, the CPU time
is the figure the load distorts least: a sweep that runs one thread at a time
takes about its CPU time of wall clock on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1"}


class SweepRun(NamedTuple):
    wall: float
    cpu: float
    load: float
    seconds: pd.Series


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sweep(code: Path, env: dict[str, str], sweep_args: list[str]) -> SweepRun:
    """Wall and CPU seconds of one sweep run from ``code``, and the per-method sum of its ``seconds`` column."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "simulations", "sweep", *sweep_args, "--quiet", "--out", out]
        load, cpu = os.getloadavg()[0], children_cpu()
        start = time.perf_counter()
        subprocess.run(command, cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu
        seconds = pd.read_csv(Path(out) / "results.csv").groupby("method", sort=False)["seconds"].sum()
    return SweepRun(wall, cpu, load, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--checkout", type=Path, action="append", default=[], help="other code to time alike")
    parser.add_argument("sweep_args", nargs=argparse.REMAINDER, help="after --: arguments of sparse-icl sweep")
    args = parser.parse_args()
    sweep_args = [a for a in args.sweep_args if a != "--"]

    base = {k: v for k, v in os.environ.items() if k not in ONE_THREAD}
    configs = {}
    for code, label in [(ROOT, "this checkout")] + [(Path(c).resolve(), str(c)) for c in args.checkout]:
        configs[(label, "default BLAS threads")] = (code, base)
        configs[(label, "OPENBLAS_NUM_THREADS=1")] = (code, base | ONE_THREAD)
    results: dict[tuple[str, str], list[SweepRun]] = {key: [] for key in configs}
    for _ in range(args.rounds):
        for key, (code, env) in configs.items():
            results[key].append(run_sweep(code, env, sweep_args))

    print(f"sweep {' '.join(sweep_args) or '(defaults)'}; best of {args.rounds} interleaved rounds; "
          f"{os.cpu_count()} CPUs")
    print("| code | environment | wall s | / one thread | CPU s | load | seconds column by method |")
    print("|---|---|---|---|---|---|---|")
    for (label, environment), runs in results.items():
        best = min(runs, key=lambda r: r.wall)
        one = min(r.wall for r in results[(label, "OPENBLAS_NUM_THREADS=1")])
        by_method = ", ".join(f"{m} {s:.1f}" for m, s in best.seconds.items())
        print(f"| {label} | {environment} | {best.wall:.1f} | {best.wall / one:.2f} | {best.cpu:.1f} | "
              f"{best.load:.1f} | {by_method} |")


if __name__ == "__main__":
    main()
