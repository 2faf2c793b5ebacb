"""Excess risk of estimates and its Monte Carlo summary.

For isotropic Gaussian x the excess risk of ``w_hat`` is exact per instance,

.. math:: E_{x_q}[\\langle \\hat w - w^*, x_q \\rangle^2] = \\|\\hat w - w^*\\|^2,

so no query points are sampled. A diverged estimate (GD with too large a step
overflows) has risk ``inf``; summaries keep the inf (never a NaN average)
and count the diverged instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers import to_numpy
from solvers.backend import namespace


def instance_risk(w_hat: Any, w_star: Any) -> np.ndarray:
    """``||w_hat - w*||^2`` per instance on the host; non-finite values become ``inf``.

    Parameters
    ----------
    w_hat : array (..., trials, d)   estimates (a path axis in front is allowed)
    w_star : array (trials, d)

    Returns
    -------
    ndarray (..., trials) of float64
    """
    xp = namespace(w_hat, w_star)
    with np.errstate(over="ignore", invalid="ignore"):
        risk = to_numpy(xp.sum((w_hat - w_star) ** 2, axis=-1)).astype(np.float64)
    risk[~np.isfinite(risk)] = np.inf
    return risk


@dataclass(frozen=True)
class RiskSummary:
    """Mean excess risk over instances with its uncertainty.

    ``lo, hi`` is the Student-t 95% interval ``mean +- t_{0.975, m-1} sem``
    with ``sem = std(ddof=1) / sqrt(m)``. When any instance diverged, every
    field is ``inf`` and ``diverged`` counts the instances.
    """

    mean: float
    sem: float
    lo: float
    hi: float
    diverged: int

    @classmethod
    def of(cls, risks: np.ndarray) -> "RiskSummary":
        from scipy import stats  # here, not at the top: the command line's help imports this module's importers

        risks = np.asarray(risks, dtype=np.float64)
        diverged = int(np.sum(~np.isfinite(risks)))
        if diverged:
            return cls(np.inf, np.inf, np.inf, np.inf, diverged)
        m = risks.size
        mean = float(risks.mean())
        sem = float(risks.std(ddof=1) / np.sqrt(m)) if m > 1 else np.inf
        half = float(stats.t.ppf(0.975, m - 1)) * sem if m > 1 else np.inf
        return cls(mean, sem, mean - half, mean + half, 0)
