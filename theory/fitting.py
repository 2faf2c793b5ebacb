"""Weighted log-log slope fits and non-negative constant fits for the checker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import nnls

#: A slope fit whose chi-square has a p-value below this is "not a power law": the points curve (in log-log)
#: beyond their standard errors, and its widened interval is not evidence for any exponent.
POWER_LAW_P = 1e-3


@dataclass(frozen=True)
class SlopeFit:
    """``log risk = a + b log x`` fitted by weighted least squares.

    Attributes
    ----------
    slope, ci_lo, ci_hi : float
        ``b`` and its 95% confidence interval.
    points : int
    chi2_dof : float
        Reduced chi-square of the fit (NaN with two points).
    p_value : float
        Probability of a chi-square at least this large if the points were a
        power law with the given standard errors (NaN with two points).
    """

    slope: float
    ci_lo: float
    ci_hi: float
    points: int
    chi2_dof: float
    p_value: float

    @property
    def power_law(self) -> bool:
        """Whether a power law fits the points: ``p_value >= POWER_LAW_P`` (True with two points, untestable)."""
        return not self.p_value < POWER_LAW_P


def log_slope(x: np.ndarray, risk: np.ndarray, sem: np.ndarray) -> SlopeFit:
    """Weighted least-squares slope of ``log risk`` against ``log x`` with a 95% CI.

    The variance of ``log risk`` is taken as ``(sem / risk)^2`` (delta
    method), floored at ``1e-6`` so that cells with a zero SEM do not get an
    infinite weight. The slope's standard error is the WLS one,
    ``sqrt((A^T W A)^{-1})_{11}``, inflated by ``sqrt(chi2/dof)`` when the
    reduced chi-square exceeds 1 (the rate is then only approximately a power
    law over the points: the interval widens instead of pretending to be
    precise), and the interval uses the Student-t quantile with ``k - 2``
    degrees of freedom (normal when ``k = 2``, where no misfit can be seen).
    A fit with a large chi-square gets a wide interval, but it is flagged by
    :attr:`SlopeFit.power_law`: callers must not read that interval as a
    test of an exponent.
    """
    x, risk, sem = (np.asarray(v, dtype=float) for v in (x, risk, sem))
    A = np.column_stack([np.ones_like(x), np.log(x)])
    var = np.maximum((sem / risk) ** 2, 1e-6)
    W = 1.0 / var
    cov = np.linalg.inv(A.T @ (A * W[:, None]))
    coef = cov @ (A.T @ (W * np.log(risk)))
    dof = x.size - 2
    chi2 = float(np.sum(W * (np.log(risk) - A @ coef) ** 2))
    chi2_dof = chi2 / dof if dof > 0 else float("nan")
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    se = float(np.sqrt(cov[1, 1] * (max(1.0, chi2_dof) if dof > 0 else 1.0)))
    q = stats.t.ppf(0.975, dof) if dof > 0 else stats.norm.ppf(0.975)
    b = float(coef[1])
    return SlopeFit(b, b - q * se, b + q * se, int(x.size), chi2_dof, p_value)


def fit_constants(terms: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """Non-negative ``c`` minimising ``sum_i ((terms_i . c - risk_i) / risk_i)^2``.

    Relative residuals, so cells with small risks count as much as large
    ones (``scipy.optimize.nnls`` on the rows divided by ``risk``).

    Parameters
    ----------
    terms : array (cells, k)
        Rate terms per cell (one column per constant).
    risk : array (cells,), > 0
    """
    terms = np.atleast_2d(np.asarray(terms, dtype=float))
    risk = np.asarray(risk, dtype=float)
    coef, _ = nnls(terms / risk[:, None], np.ones_like(risk))
    return coef
