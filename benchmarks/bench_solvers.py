"""Time per instance: our batched paths vs per-instance loops, side by side in one run.

    python benchmarks/bench_solvers.py [--n 64] [--d 32] [--trials 2000] [--loop-trials 100]

Rows (all at the same n, d, on the same problems):
- ridge path, 40 lambdas: ``solvers.ridge`` (one eigendecomposition per instance,
  batched) vs a loop of ``sklearn.linear_model.Ridge`` fits (40 per instance);
- GD path, 40 step counts up to 1000: ``solvers.gd`` (spectral closed form) vs a
  per-instance NumPy gradient-descent loop recording the 40 iterates;
- PtO path, the same 40 step counts: ``solvers.pto`` vs the per-instance loop.
Batched timings are the best of 3 repeats. CuPy columns (time, NumPy/CuPy and loop/CuPy
ratios) are added when a GPU is usable.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import Ridge

import solvers
from simulations import sample_problems
from timing import best_of


def gd_loop(X, y, step, checkpoints, scale=None):
    """Plain per-instance GD (on X diag(scale) when given), recording the iterates at ``checkpoints``."""
    n, d = X.shape
    Xs = X if scale is None else X * scale
    w, out, marks = np.zeros(d), [], set(int(t) for t in checkpoints)
    for t in range(1, int(checkpoints.max()) + 1):
        w = w - step * Xs.T @ (Xs @ w - y) / n
        if t in marks:
            out.append(w if scale is None else w * scale)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--loop-trials", type=int, default=100)
    args = parser.parse_args()
    n, d = args.n, args.d
    p = sample_problems(n, d, 4, 0.1, args.trials, seed=0)
    X, y = p.X, p.y
    lams = np.logspace(-6, 2, 40)
    steps = np.unique(np.round(np.geomspace(1, 1000, 40))).astype(int)
    step = 0.5 / (1 + np.sqrt(d / n)) ** 2
    loop = range(args.loop_trials)
    r = np.einsum("tnd,tn->td", X, y) / n

    rows = [
        ("ridge path (40 lambdas)",
         lambda: solvers.ridge(X, y, lams),
         "sklearn Ridge loop",
         lambda: [Ridge(alpha=lam * n, fit_intercept=False).fit(X[i], y[i]) for i in loop for lam in lams]),
        (f"GD path ({steps.size} step counts <= 1000)",
         lambda: solvers.gd(X, y, step, steps),
         "NumPy GD loop",
         lambda: [gd_loop(X[i], y[i], step, steps) for i in loop]),
        (f"PtO path ({steps.size} step counts <= 1000)",
         lambda: solvers.pto(X, y, step, steps),
         "NumPy PtO loop",
         lambda: [gd_loop(X[i], y[i], step, steps, scale=np.abs(r[i])) for i in loop]),
    ]
    gpu = solvers.cupy_available()
    if gpu:
        import cupy as cp

        Xg, yg = cp.asarray(X), cp.asarray(y)
        gpu_fns = [lambda: solvers.ridge(Xg, yg, lams), lambda: solvers.gd(Xg, yg, step, steps),
                   lambda: solvers.pto(Xg, yg, step, steps)]

    print(f"n = {n}, d = {d}; batched over {args.trials} instances, loops over {args.loop_trials}; "
          f"microseconds per instance")
    header = f"{'path':34s} {'ours (NumPy)':>13s} {'loop':>12s} {'loop/ours':>10s}  reference"
    print(header + (f" {'CuPy':>10s} {'NumPy/CuPy':>10s} {'loop/CuPy':>10s}" if gpu else ""))
    for i, (name, ours, ref_name, ref) in enumerate(rows):
        t_ours = best_of(ours) / args.trials * 1e6
        t_ref = best_of(ref, repeats=1) / args.loop_trials * 1e6
        line = f"{name:34s} {t_ours:13.1f} {t_ref:12.1f} {t_ref / t_ours:10.1f}  {ref_name}"
        if gpu:
            gpu_fns[i]()  # warm-up: CuPy compiles its kernels on first use
            t_gpu = best_of(gpu_fns[i]) / args.trials * 1e6
            line += f" {t_gpu:10.2f} {t_ours / t_gpu:10.1f} {t_ref / t_gpu:10.0f}"
        print(line)


if __name__ == "__main__":
    main()
