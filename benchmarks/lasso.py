"""Batched Lasso path vs scikit-learn's lasso_path, timed side by side in one run.

Usage::

    .venv/bin/python benchmarks/lasso.py [--n 64] [--d 32] [--instances 2000] [--sklearn-instances 100]

Problems: n = 64, d = 32 (defaults), s = 4, sigma = 0.1 (simulations.sample_problems),
30 alphas geometric from alpha_max (the largest over the instances, so the
grid starts at the all-zero solution for every one) down to 1e-3 alpha_max,
shared by both solvers, each timing the best of three runs. Tolerances are matched: our stopping rule
``gap <= tol ||y||^2 / (2n)`` is scikit-learn's with ``tol / 2``. Prints
time per instance, the ratio, and the largest relative objective difference
(ours - sklearn) / sklearn over the sklearn subset and all alphas. A CuPy row
is added when a CUDA device is usable.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.linear_model import lasso_path

import solvers
from simulations.problems import sample_problems
from timing import best_of

S, SIGMA, N_ALPHAS = 4, 0.1, 30


def objectives(X, y, W, alphas):
    """P_g,b = ||y_b - X_b w||^2/(2n) + alpha_g ||w||_1 for W (G, B, d)."""
    r = y[None] - np.einsum("bnd,gbd->gbn", X, W)
    return np.sum(r**2, axis=-1) / (2 * X.shape[1]) + alphas[:, None] * np.abs(W).sum(-1)


REPEATS = 3  # every timing is the best of this many runs (the machine may be shared)


def time_ours(X, y, alphas, tol):
    solvers.lasso(X[:8], y[:8], alphas, tol=tol)  # warm-up (imports, allocator, CuPy kernels)
    runs = []  # the timed calls' results: no extra untimed run for the outputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", solvers.LassoConvergenceWarning)
        best = best_of(lambda: runs.append(solvers.lasso(X, y, alphas, tol=tol, return_info=True)), REPEATS)
    W, info = runs[-1]
    return best / X.shape[0], W, info


def time_sklearn(X, y, alphas, tol):
    def loop():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [lasso_path(X[b], y[b], alphas=alphas, tol=tol / 2, max_iter=1000)[1].T for b in range(X.shape[0])]

    runs = []
    best = best_of(lambda: runs.append(loop()), REPEATS)
    return best / X.shape[0], np.stack(runs[-1], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="samples per instance")
    parser.add_argument("--d", type=int, default=32, help="dimension")
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--sklearn-instances", type=int, default=100)
    parser.add_argument("--gpu-instances", type=int, default=20000)
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-8, 1e-4])
    args = parser.parse_args()

    N, D = args.n, args.d
    p = sample_problems(N, D, S, SIGMA, args.instances, seed=0)
    X, y = p.X, p.y
    top = float(np.max(solvers.lasso_alpha_max(X, y)))
    alphas = top * np.geomspace(1.0, 1e-3, N_ALPHAS)
    m = args.sklearn_instances
    print(f"n={N} d={D} s={S} sigma={SIGMA}, {N_ALPHAS} alphas geometric alpha_max..1e-3 alpha_max")
    print("| tol | backend | instances | ms / instance | sklearn ms / instance | speed-up | "
          "max rel objective diff | converged | mean sweeps / alpha |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tol in args.tols:
        t_sk, W_sk = time_sklearn(X[:m], y[:m], alphas, tol)
        t_np, W, info = time_ours(X, y, alphas, tol)
        P_ours = objectives(X[:m], y[:m], W[:, :m], alphas)
        P_sk = objectives(X[:m], y[:m], W_sk, alphas)
        rel = float(np.max((P_ours - P_sk) / P_sk))
        print(f"| {tol:g} | numpy | {args.instances} | {t_np * 1e3:.4f} | {t_sk * 1e3:.4f} | "
              f"{t_sk / t_np:.1f}x | {rel:.2e} | {info.converged.mean():.4f} | {info.n_iter.mean():.1f} |")
        if solvers.cupy_available():
            import cupy

            pg = sample_problems(N, D, S, SIGMA, args.gpu_instances, seed=0)
            Xg, yg = cupy.asarray(pg.X), cupy.asarray(pg.y)
            t_cp, Wg, info_g = time_ours(Xg, yg, alphas, tol)
            Wg = cupy.asnumpy(Wg[:, :m])
            rel_g = float(np.max((objectives(X[:m], y[:m], Wg, alphas) - P_sk) / P_sk))
            print(f"| {tol:g} | cupy | {args.gpu_instances} | {t_cp * 1e3:.4f} | {t_sk * 1e3:.4f} | "
                  f"{t_sk / t_cp:.1f}x | {rel_g:.2e} | {info_g.converged.mean():.4f} | "
                  f"{info_g.n_iter.mean():.1f} |")


if __name__ == "__main__":
    main()
