"""Monte Carlo of the project's Lasso and Bayes posterior mean against their AMP limits at growing d.

``python -m simulations.amp_validation --out docs/data/amp_limits.csv`` writes
one row per (setting, d): the Monte Carlo mean excess risk with its standard
error, the limit (:func:`theory.lasso_risk_amp`, resp.
:func:`theory.mmse_replica`, with :func:`theory.bayes_risk_amp` beside it),
the gap, ``z = gap / SE`` and ``min(n, d) * gap / limit`` (constant if the
relative gap is O(1/min(n, d))). Each setting fixes ``delta = n/d``,
``eps = s/d``, sigma and ``alpha sqrt(d)`` (what the limit depends on), so
its limit is the same at every d. The Lasso runs at d = 32, 128, 512; the
Bayes posterior mean enumerates the supports, which allows d = 16, 24, 32
only. Fixed seed; a few minutes on one core.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import solvers
import theory
from .problems import sample_problems

SEED = 20240
#: (signal, delta, eps, sigma, alpha as a multiple of the optimal alpha); trials per d.
LASSO_SETTINGS = (("gaussian", 0.5, 1 / 8, 0.1, 1.0), ("rademacher", 1.0, 1 / 8, 0.5, 1.0),
                  ("gaussian", 2.0, 1 / 4, 0.5, 2.0))
LASSO_TRIALS = {32: 4000, 128: 1000, 512: 200}
BAYES_SETTINGS = (("gaussian", 1.0, 1 / 8, 0.3), ("gaussian", 0.5, 1 / 8, 0.1), ("rademacher", 1.0, 1 / 8, 0.5))
BAYES_TRIALS = {16: 4000, 24: 2000, 32: 1000}
CHUNK_ELEMENTS = 2**22


def _risks(n: int, d: int, s: int, sigma: float, signal: str, trials: int, fit) -> np.ndarray:
    """Per-instance ``||w_hat - w*||^2`` over ``trials`` instances, drawn in chunks of bounded memory."""
    chunk = max(1, CHUNK_ELEMENTS // (n * d))
    out = []
    for offset in range(0, trials, chunk):
        P = sample_problems(n, d, s, sigma, min(chunk, trials - offset), seed=SEED, signal=signal, offset=offset)
        out.append(((fit(P.X, P.y) - P.w_star) ** 2).sum(-1))
    return np.concatenate(out)


def _row(kind, signal, delta, eps, sigma, n, d, s, alpha, risks, limit, amp) -> dict:
    mean, sem = risks.mean(), risks.std(ddof=1) / np.sqrt(risks.size)
    gap = mean - limit
    return dict(estimator=kind, signal=signal, delta=delta, eps=eps, sigma=sigma, n=n, d=d, s=s, alpha=alpha,
                alpha_sqrt_d=alpha * np.sqrt(d) if np.isfinite(alpha) else np.nan, trials=risks.size,
                risk_mean=mean, risk_sem=sem, limit=limit, bayes_amp=amp, gap=gap, z=gap / sem,
                rel_gap=gap / limit, scaled_gap=min(n, d) * gap / limit)


def lasso_rows() -> list[dict]:
    rows = []
    for signal, delta, eps, sigma, multiple in LASSO_SETTINGS:
        for d, trials in LASSO_TRIALS.items():
            n, s = int(delta * d), int(eps * d)
            alpha = multiple * theory.lasso_optimal_risk_amp(n, d, s, sigma=sigma, signal=signal).alpha
            limit = theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=alpha, signal=signal)
            risks = _risks(n, d, s, sigma, signal, trials, lambda X, y: solvers.lasso(X, y, alpha))
            rows.append(_row("lasso", signal, delta, eps, sigma, n, d, s, alpha, risks, limit, np.nan))
            print(rows[-1], flush=True)
    return rows


def bayes_rows() -> list[dict]:
    rows = []
    for signal, delta, eps, sigma in BAYES_SETTINGS:
        for d, trials in BAYES_TRIALS.items():
            n, s = int(delta * d), int(eps * d)
            limit = theory.mmse_replica(n, d, s, sigma=sigma, signal=signal)
            amp = theory.bayes_risk_amp(n, d, s, sigma=sigma, signal=signal)
            hypotheses = solvers.bayes_hypotheses(d, s, signal)
            risks = _risks(n, d, s, sigma, signal, trials,
                           lambda X, y: solvers.bayes_posterior_mean(X, y, s, sigma, signal, max_hypotheses=hypotheses))
            rows.append(_row("bayes", signal, delta, eps, sigma, n, d, s, np.nan, risks, limit, amp))
            print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    frame = pd.DataFrame(lasso_rows() + bayes_rows())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, float_format="%.6g")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
