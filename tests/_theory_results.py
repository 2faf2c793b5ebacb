"""Build a small results table like the sweep's results.csv, from the solvers directly.

Independent of ``simulations.sweep`` on purpose: the checker's tests should not
depend on the sweep's internals. Oracle tuning over small grids, risk
``||w_hat - w*||^2`` per instance, mean and standard error per cell.
"""

import numpy as np
import pandas as pd

import solvers
from simulations.problems import sample_problems

LAMS = np.geomspace(1e-4, 10, 30)
STEPS = np.unique(np.round(np.geomspace(1, 2000, 30))).astype(int)
ALPHAS = np.geomspace(1e-3, 1.0, 12)


def _risks(paths, w_star):
    return ((np.asarray(paths) - w_star) ** 2).sum(-1)


def _oracle_row(risks):
    means = risks.mean(axis=-1)
    k = int(np.nanargmin(means))
    return risks[k], k, k in (0, len(means) - 1)


def results_frame(cells, trials=64, seed=0, methods=("ols", "oracle", "ridge", "gd", "pto")):
    rows = []
    for n, d, s, sigma in cells:
        P = sample_problems(n, d, s, sigma, trials, seed=seed)
        per_method = {}
        if "ols" in methods:
            per_method["ols"] = (_risks(solvers.ols(P.X, P.y), P.w_star), np.nan, False)
        if "oracle" in methods:
            per_method["oracle"] = (_risks(solvers.oracle_support(P.X, P.y, P.support), P.w_star), np.nan, False)
        for name, grid, fit in (("ridge", LAMS, lambda: solvers.ridge(P.X, P.y, LAMS)),
                                ("gd", STEPS, lambda: solvers.gd(P.X, P.y, "auto", STEPS)),
                                ("pto", STEPS, lambda: solvers.pto(P.X, P.y, "auto", STEPS)),
                                ("lasso", ALPHAS, lambda: solvers.lasso(P.X, P.y, ALPHAS))):
            if name in methods:
                risk, k, edge = _oracle_row(_risks(fit(), P.w_star))
                per_method[name] = (risk, grid[k], edge)
        for method, (risk, hyper, edge) in per_method.items():
            sem = risk.std(ddof=1) / np.sqrt(trials)
            rows.append(dict(method=method, n=n, d=d, s=s, sigma=sigma, signal="gaussian", trials=trials,
                             tuning="oracle", risk_mean=risk.mean(), risk_sem=sem, risk_lo=risk.mean() - 1.96 * sem,
                             risk_hi=risk.mean() + 1.96 * sem, hyperparameter=hyper, edge=edge, diverged=0,
                             backend="numpy", seed=seed))
    return pd.DataFrame(rows)
