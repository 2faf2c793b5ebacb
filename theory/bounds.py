"""Reference risks and rates the checker compares the Monte Carlo results with.

Every bound is a function ``f(n, d, s, *, signal_norm2, sigma)`` (broadcasting
NumPy arrays; ``sigma`` the noise standard deviation) with a companion
``*_regime`` function of the same arguments saying where it is meant to hold.
Which are exact, which are limits and which are the project's own heuristics
is stated in each docstring and in ``docs/theory.md``:

* :func:`oracle_exact`, :func:`ols_exact` - exact finite-sample formulas
  (Gaussian design, inverse-Wishart moments).
* :func:`equivariant_floor` - optimally tuned ridge (= Bayes for a Gaussian
  prior of the same norm) from its Marchenko-Pastur limit: a lower reference
  for every rotation-equivariant method (ridge, GD, OLS) whatever its tuning.
* :func:`lasso_rate` - the classical order ``sigma^2 s log(e d / s) / n``;
  only the rate is claimed, the constant is fitted by the checker.
* :func:`pto_rate` - the project's own heuristic upper bound for
  preprocess-then-optimize (not the paper's theorem, whose statement we do not
  have): ``C1 sigma^2 s / n + C2 s d (r2 + sigma^2) / n^2`` with constants the
  checker fits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._params import as_param
from .ridge import ridge_optimal_risk

MIN_DIMENSION = 16


def _params(n: object, d: object, s: object, sigma: object, signal_norm2: object) -> list[np.ndarray]:
    n = as_param(n, "n", minimum=1.0)
    d = as_param(d, "d", minimum=1.0)
    s = as_param(s, "s", minimum=1.0)
    sigma = as_param(sigma, "sigma")
    r2 = as_param(signal_norm2, "signal_norm2")
    if np.any(s > d):
        raise ValueError(f"s must be <= d, got s={s!r}, d={d!r}")
    return np.broadcast_arrays(n, d, s, sigma, r2)


def oracle_exact(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """Exact risk of least squares on the true support: ``sigma^2 s / (n - s - 1)``.

    ``E tr((X_S^T X_S)^{-1}) = s / (n - s - 1)`` (inverse-Wishart mean) for
    ``n >= s + 2``; independent of ``w*``. At ``n in {s, s + 1}`` that mean
    is infinite, so the risk is ``inf`` when ``sigma > 0`` (0 when
    ``sigma = 0``: the support is fitted exactly). NaN for ``n < s``, which
    this formula does not cover.
    """
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = sigma**2 * s / (n - s - 1)
    edge = np.where(sigma > 0, np.inf, 0.0)
    return np.where(n >= s + 2, exact, np.where(n >= s, edge, np.nan))


def oracle_exact_regime(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """``n >= s + 2`` (finite inverse-Wishart mean)."""
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    return n >= s + 2


def ols_exact(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """Exact risk of min-norm least squares with Gaussian design.

    ``sigma^2 d / (n - d - 1)`` for ``n >= d + 2``;
    ``r2 (1 - n/d) + sigma^2 n / (d - n - 1)`` for ``d >= n + 2`` (the
    projection ``X^+ X`` is uniform of rank n, and
    ``E tr((X X^T)^{-1}) = n / (d - n - 1)``). For ``|n - d| <= 1`` the
    inverse-Wishart mean is infinite, so the risk is ``inf`` when
    ``sigma > 0``; with ``sigma = 0`` it is the bias alone,
    ``r2 max(0, 1 - n/d)``.
    """
    n, d, s, sigma, r2 = _params(n, d, s, sigma, signal_norm2)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = sigma**2 * d / (n - d - 1)
        over = r2 * (1 - n / d) + sigma**2 * n / (d - n - 1)
    edge = np.where(sigma > 0, np.inf, r2 * np.maximum(0.0, 1 - n / d))
    return np.where(n >= d + 2, under, np.where(d >= n + 2, over, edge))


def ols_exact_regime(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """``|n - d| >= 2``."""
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    return np.abs(n - d) >= 2


def equivariant_floor(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """Lower reference for rotation-equivariant estimators: optimally tuned ridge, MP limit.

    A rotation-equivariant estimator (ridge, GD, OLS) has a risk that depends
    on ``w*`` only through ``||w*||`` (docs/math.md, section 4b), so its risk equals its
    average over uniformly rotated ``w*``, which is at least the Bayes risk
    for ``w*`` uniform on the sphere; for large d this is the Bayes risk of
    ``N(0, r2/d I)``, attained by ridge with ``lam* = sigma^2 gamma / r2``, with
    limit ``sigma^2 gamma / (1 - gamma + kappa(lam*))`` (see
    :func:`theory.ridge.ridge_optimal_risk`). Sparsity-blind: ``s`` is unused.
    At finite n, d the floor holds up to an O(1/min(n, d)) finite-size term.
    """
    n, d, s, sigma, r2 = _params(n, d, s, sigma, signal_norm2)
    return np.asarray(ridge_optimal_risk(d / n, signal_norm2=r2, sigma=sigma))


def equivariant_floor_regime(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """``min(n, d) >= 16``: the MP limit is a fair stand-in for the finite-size Bayes risk."""
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    return np.minimum(n, d) >= MIN_DIMENSION


def lasso_rate(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """The Lasso rate ``sigma^2 s log(e d / s) / n`` (no constant; the checker fits one).

    ``log(e d / s)`` rather than ``log(d / s)`` keeps the rate positive at
    ``s = d``; the two agree up to a constant factor when ``s <= d / e``.
    Classical result for ``alpha ~ sigma sqrt(log d / n)`` under restricted
    eigenvalue conditions, which Gaussian designs meet when ``n >~ s log d``.
    """
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    return sigma**2 * s * np.log(np.e * d / s) / n


def lasso_regime(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """``n >= s log d`` and ``sigma > 0`` (the rate is 0 without noise)."""
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    return (n >= s * np.log(np.maximum(d, 2))) & (sigma > 0)


class PtoTerms(NamedTuple):
    """The two terms of :func:`pto_rate`.

    Attributes
    ----------
    variance : array
        ``sigma^2 s / n``.
    leakage : array
        ``s d (r2 + sigma^2) / n^2``.
    """

    variance: np.ndarray
    leakage: np.ndarray


def pto_rate(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> PtoTerms:
    """The two terms of the project's PtO upper bound (our heuristic, not the paper's).

    ``R_PtO <= C1 * variance + C2 * leakage`` with

    .. math:: \\text{variance} = \\sigma^2 s / n, \\qquad
              \\text{leakage} = s d (r_2 + \\sigma^2) / n^2 ,

    where the early-stopping bias is balanced against the leakage by the
    choice of T and absorbed into ``C2``. Derivation and assumptions in
    ``docs/theory.md``; the checker fits ``C1, C2 >= 0``.

    Returns
    -------
    PtoTerms
        ``variance`` and ``leakage``, arrays of the broadcast shape.
    """
    n, d, s, sigma, r2 = _params(n, d, s, sigma, signal_norm2)
    return PtoTerms(variance=sigma**2 * s / n, leakage=s * d * (r2 + sigma**2) / n**2)


def pto_regime(n: object, d: object, s: object, *, signal_norm2: object, sigma: object) -> np.ndarray:
    """``n >= s log d`` and ``s <= d / 2``: preprocessing can separate the support."""
    n, d, s, sigma, _ = _params(n, d, s, sigma, signal_norm2)
    return (n >= s * np.log(np.maximum(d, 2))) & (2 * s <= d)
