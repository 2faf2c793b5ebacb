"""Batched Lasso path vs per-instance loops of scikit-learn, celer and skglm, timed side by side in one run.

Usage::

    .venv/bin/python benchmarks/lasso.py [--n 64] [--d 32] [--instances 400] [--loop-instances 40] [--rounds 3]

Problems: n = 64, d = 32 (defaults), s = 4, sigma = 0.1 (simulations.sample_problems),
30 alphas geometric from alpha_max (the largest over the instances, so the
grid starts at the all-zero solution for every one) down to 1e-3 alpha_max,
shared by every solver. Solvers, each run on the same problems:

- ``ours compiled``: :func:`solvers.lasso` (numba kernel, all cores), and
  ``ours compiled 1 thread`` (``numba.set_num_threads(1)``); ``ours
  compiled, ... warm starts``: the same with the warm start it does not
  pick for this shape (homotopy for n > d, extrapolation for n <= d);
- ``ours array_api``: the vectorised reference engine on NumPy;
- ``sklearn``: ``sklearn.linear_model.lasso_path`` called once per instance;
- ``celer``, ``skglm``: their path functions once per instance, when installed.

Timings are interleaved: every round runs each solver once, in turn, so a
steady background load hits all of them alike; each figure is the best of
``--rounds`` rounds, in ms per instance (the loops run on the first
``--loop-instances`` problems). Tolerances are matched where the stopping
rules agree: ours stops at ``gap <= tol ||y||^2 / (2n)``, which is
scikit-learn's and celer's rule with ``tol / 2``; skglm stops on a KKT
violation and gets ``tol / 2`` too. Accuracy is printed instead of assumed:
``max rel gap`` is the largest ``(P - P_ref) / P_ref`` over the loop
instances and all alphas, ``P_ref`` from scikit-learn at ``tol = 1e-12``.
The ``cupy`` rows (the CUDA kernel and the array-API engine on the GPU, on
``--gpu-instances`` problems drawn like the others; the first ``--loop-instances``
are the same problems) are added when a CUDA device is usable.
"""

from __future__ import annotations

import argparse
import importlib.util
import warnings
from typing import Callable
from unittest import mock

import numba
import numpy as np
from sklearn.linear_model import lasso_path

import solvers
from solvers import _lasso_cd
from simulations.problems import sample_problems
from timing import best_of

S, SIGMA, N_ALPHAS = 4, 0.1, 30
REFERENCE_TOL = 1e-12
#: The engines timed on CuPy, by the name of their row.
GPU_ENGINES = {"compiled": "CUDA kernel", "array_api": "array_api"}


def objectives(X: np.ndarray, y: np.ndarray, W: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """``P[g, b] = ||y_b - X_b w||^2 / (2n) + alpha_g ||w||_1`` for ``W`` (G, B, d)."""
    r = y[None] - np.einsum("bnd,gbd->gbn", X, W)
    return np.sum(r**2, axis=-1) / (2 * X.shape[1]) + alphas[:, None] * np.abs(W).sum(-1)


def sklearn_loop(X, y, alphas, tol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack([lasso_path(X[b], y[b], alphas=alphas, tol=tol, max_iter=100_000)[1].T
                         for b in range(X.shape[0])], axis=1), None


def celer_loop(X, y, alphas, tol):
    from celer.homotopy import celer_path

    return np.stack([celer_path(X[b], y[b], "lasso", alphas=alphas, tol=tol)[1].T for b in range(X.shape[0])],
                    axis=1), None


def skglm_loop(X, y, alphas, tol):
    from skglm.datafits import Quadratic
    from skglm.penalties import L1
    from skglm.solvers import AndersonCD

    solver = AndersonCD(tol=tol, fit_intercept=False)
    return np.stack([solver.path(X[b], y[b], Quadratic(), L1(1.0), alphas=alphas)[1].T
                     for b in range(X.shape[0])], axis=1), None


def ours(engine: str, threads: int | None = None, homotopy: bool | None = None) -> Callable:
    """``solvers.lasso`` with ``engine``, on ``threads`` numba threads, homotopy warm starts forced on or off."""
    def run(X, y, alphas, tol):
        default = numba.get_num_threads()
        numba.set_num_threads(threads or default)
        ratio = _lasso_cd.HOMOTOPY_MAX_N_OVER_D if homotopy is None else (np.inf if homotopy else 0.0)
        try:
            with warnings.catch_warnings(), mock.patch.object(_lasso_cd, "HOMOTOPY_MAX_N_OVER_D", ratio):
                warnings.simplefilter("ignore", solvers.LassoConvergenceWarning)
                W, info = solvers.lasso(X, y, alphas, tol=tol, engine=engine, return_info=True)
                return W, info.n_iter.mean()
        finally:
            numba.set_num_threads(default)
    return run


def solvers_to_time(instances: int, loop_instances: int, homotopy: bool) -> dict[str, tuple[Callable, int, float]]:
    """name -> (function(X, y, alphas, tol) -> (W, mean sweeps or None), instances, factor applied to our tol).

    ``homotopy``: whether the compiled engine uses homotopy warm starts by
    default here (n < d); the row ``other warm start`` forces the other choice.
    """
    other = "CD warm starts (no homotopy)" if homotopy else "homotopy warm starts"
    table = {
        "ours compiled": (ours("compiled"), instances, 1.0),
        f"ours compiled, {other}": (ours("compiled", homotopy=not homotopy), instances, 1.0),
        "ours compiled 1 thread": (ours("compiled", threads=1), instances, 1.0),
        "ours array_api": (ours("array_api"), instances, 1.0),
        "sklearn lasso_path loop": (sklearn_loop, loop_instances, 0.5),
    }
    if importlib.util.find_spec("celer"):
        table["celer_path loop"] = (celer_loop, loop_instances, 0.5)
    if importlib.util.find_spec("skglm"):
        table["skglm AndersonCD.path loop"] = (skglm_loop, loop_instances, 0.5)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="samples per instance")
    parser.add_argument("--d", type=int, default=32, help="dimension")
    parser.add_argument("--instances", type=int, default=400, help="problems for our batched solver")
    parser.add_argument("--loop-instances", type=int, default=40, help="problems for the per-instance loops")
    parser.add_argument("--gpu-instances", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each time is the best")
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-8, 1e-4])
    args = parser.parse_args()

    p = sample_problems(args.n, args.d, S, SIGMA, args.instances, seed=0)
    X, y = p.X, p.y
    alphas = float(np.max(solvers.lasso_alpha_max(X, y))) * np.geomspace(1.0, 1e-3, N_ALPHAS)
    m = min(args.loop_instances, args.instances)
    P_ref = objectives(X[:m], y[:m], sklearn_loop(X[:m], y[:m], alphas, REFERENCE_TOL)[0], alphas)
    table = solvers_to_time(args.instances, m, homotopy=_lasso_cd.wants_homotopy(args.n, args.d))
    for run, count, factor in table.values():  # warm-up: imports, numba cache, CuPy kernels
        run(X[:2], y[:2], alphas, 1e-4 * factor)

    print(f"n={args.n} d={args.d} s={S} sigma={SIGMA}, {N_ALPHAS} alphas geometric alpha_max..1e-3 alpha_max, "
          f"best of {args.rounds} interleaved rounds, numba threads {numba.get_num_threads()}")
    print("| tol | solver | instances | ms / instance | sklearn / this | max rel gap to sklearn tol 1e-12 "
          "| mean sweeps / alpha |")
    print("|---|---|---|---|---|---|---|")
    for tol in args.tols:
        times = {name: [] for name in table}
        outputs = {}
        for _ in range(args.rounds):
            for name, (run, count, factor) in table.items():
                outputs[name] = None
                seconds = best_of(lambda: outputs.__setitem__(name, run(X[:count], y[:count], alphas, tol * factor)), 1)
                times[name].append(seconds / count)
        t_sk = min(times["sklearn lasso_path loop"])
        for name, (run, count, factor) in table.items():
            W, sweeps = outputs[name]
            rel = np.max((objectives(X[:m], y[:m], W[:, :m], alphas) - P_ref) / P_ref)
            t = min(times[name])
            print(f"| {tol:g} | {name} | {count} | {t * 1e3:.4f} | {t_sk / t:.1f}x | {rel:.1e} | "
                  f"{'-' if sweeps is None else f'{sweeps:.2f}'} |")
        if solvers.cupy_available():
            import cupy

            pg = sample_problems(args.n, args.d, S, SIGMA, args.gpu_instances, seed=0)
            Xg, yg = cupy.asarray(pg.X), cupy.asarray(pg.y)
            # compiling the kernels needs any problem of the dtype: a small one, since a GPU thread solves an
            # instance alone and a few large instances take as long as many
            tiny = sample_problems(8, 4, 1, SIGMA, 8, seed=1)
            for engine in ("compiled", "array_api"):
                run = ours(engine)
                run(cupy.asarray(tiny.X), cupy.asarray(tiny.y), alphas, tol)
                runs = []
                t = best_of(lambda: runs.append(run(Xg, yg, alphas, tol)), args.rounds) / args.gpu_instances
                W, sweeps = runs[-1]
                rel = np.max((objectives(X[:m], y[:m], cupy.asnumpy(W[:, :m]), alphas) - P_ref) / P_ref)
                print(f"| {tol:g} | ours cupy {GPU_ENGINES[engine]} | {args.gpu_instances} | {t * 1e3:.4f} | "
                      f"{t_sk / t:.1f}x | {rel:.1e} | {sweeps:.2f} |")


if __name__ == "__main__":
    main()
