"""Marchenko-Pastur deterministic equivalent of the ridge risk (docs/math.md, section 4c), closed form."""

from __future__ import annotations

import numpy as np

from ._params import as_param, output


def effective_regularization(gamma: object, *, lam: object) -> np.ndarray | float:
    """``kappa``, the positive root of ``kappa^2 + (1 - lam - gamma) kappa - lam = 0``.

    Equivalently ``kappa = lam + gamma kappa / (1 + kappa)``: the
    self-consistent equation of ridge with isotropic design. The Stieltjes
    transform of the Marchenko-Pastur law at ``-lam`` is
    ``int dF_gamma(l) / (l + lam) = 1 / (1 - gamma + kappa)`` (checked
    symbolically in :mod:`theory.derivations`). Computed as
    ``(B + sqrt(B^2 + 4 lam)) / 2`` with ``B = lam + gamma - 1`` when ``B >= 0``
    and as ``2 lam / (sqrt(B^2 + 4 lam) - B)`` otherwise (no cancellation).
    """
    gamma = as_param(gamma, "gamma", strict=True)
    lam = as_param(lam, "lam")
    B = lam + gamma - 1.0
    root = np.sqrt(B * B + 4.0 * lam)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(B >= 0, (B + root) / 2.0, 2.0 * lam / np.where(B >= 0, 1.0, root - B))
    return output(kappa)


def ridge_risk_limit(gamma: object, *, signal_norm2: object, sigma: object, lam: object) -> np.ndarray | float:
    """Limit of the ridge excess risk ``||w_lam - w*||^2`` as ``n, d -> inf``, ``d/n -> gamma``.

    Assumptions: rows ``x_i ~ N(0, I_d)`` (any isotropic law with enough
    moments gives the same limit), noise variance ``sigma^2``, ``||w*||^2 = r2``
    (any direction: ridge is rotation equivariant, docs/math.md, section 4b), ridge in the
    toolkit's convention ``(X^T X / n + lam I)^{-1} X^T y / n``. Then

    .. math:: R(\\lambda) = r_2 \\int \\frac{\\lambda^2}{(l + \\lambda)^2} dF_\\gamma
              + \\sigma^2 \\gamma \\int \\frac{l}{(l + \\lambda)^2} dF_\\gamma
              = \\frac{\\kappa^2 r_2 + \\sigma^2 \\gamma}{(1 + \\kappa)^2 - \\gamma}

    with ``kappa`` from :func:`effective_regularization`. At ``lam = 0`` the
    ridgeless (min-norm) limits are used:
    ``sigma^2 gamma / (1 - gamma)`` for ``gamma < 1``,
    ``r2 (1 - 1/gamma) + sigma^2 / (gamma - 1)`` for ``gamma > 1``, and at
    ``gamma = 1`` ``inf`` if ``sigma > 0`` and 0 otherwise (the limit
    ``lam -> 0``, where ``kappa ~ sqrt(lam)``).

    Parameters
    ----------
    gamma : float or array, > 0
        ``d / n``.
    signal_norm2 : float or array, >= 0
        ``r2 = ||w*||^2``.
    sigma : float or array, >= 0
        Noise standard deviation.
    lam : float or array, >= 0
        All broadcast together.
    """
    gamma = as_param(gamma, "gamma", strict=True)
    r2 = as_param(signal_norm2, "signal_norm2")
    s2 = as_param(sigma, "sigma") ** 2
    lam = as_param(lam, "lam")
    kappa = np.asarray(effective_regularization(gamma, lam=lam))
    with np.errstate(invalid="ignore", divide="ignore"):
        regularized = (kappa**2 * r2 + s2 * gamma) / ((1.0 + kappa) ** 2 - gamma)
        below = s2 * gamma / (1.0 - gamma)
        above = r2 * (1.0 - 1.0 / gamma) + s2 / (gamma - 1.0)
    at_one = np.where(s2 > 0, np.inf, 0.0)
    ridgeless = np.where(gamma < 1, below, np.where(gamma > 1, above, at_one))
    return output(np.where(lam > 0, regularized, ridgeless))


def ridge_optimal_lambda(gamma: object, *, signal_norm2: object, sigma: object) -> np.ndarray | float:
    """The risk-minimising ``lam* = sigma^2 gamma / r2`` (``inf`` when ``r2 = 0 < sigma``).

    It is the Bayes posterior mean for ``w* ~ N(0, r2 / d I)``, hence optimal
    for every n, d in that Bayesian sense, and the minimiser of
    :func:`ridge_risk_limit` in the limit.
    """
    gamma = as_param(gamma, "gamma", strict=True)
    r2 = as_param(signal_norm2, "signal_norm2")
    s2 = as_param(sigma, "sigma") ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(r2 > 0, s2 * gamma / np.where(r2 > 0, r2, 1.0), np.where(s2 > 0, np.inf, 0.0))
    return output(lam)


def ridge_optimal_risk(gamma: object, *, signal_norm2: object, sigma: object) -> np.ndarray | float:
    """Optimally tuned ridge risk limit ``R(lam*)``.

    At ``lam* = sigma^2 gamma / r2`` the bias and variance terms combine into
    ``R* = sigma^2 gamma / (1 - gamma + kappa(lam*))`` (the Bayes risk of the
    Gaussian prior, see :mod:`theory.derivations`). ``sigma = 0`` gives the
    ridgeless limit (0 for ``gamma <= 1``, ``r2 (1 - 1/gamma)`` above) and
    ``r2 = 0`` gives 0 (the zero estimator).
    """
    gamma = as_param(gamma, "gamma", strict=True)
    r2 = as_param(signal_norm2, "signal_norm2")
    sigma = as_param(sigma, "sigma")
    s2 = sigma**2
    lam = np.asarray(ridge_optimal_lambda(gamma, signal_norm2=r2, sigma=sigma))
    finite = np.isfinite(lam)
    kappa = np.asarray(effective_regularization(gamma, lam=np.where(finite, lam, 0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        bayes = s2 * gamma / (1.0 - gamma + kappa)
    noiseless = np.where(gamma > 1, r2 * (1.0 - 1.0 / gamma), 0.0)
    return output(np.where(~finite | (r2 == 0), 0.0, np.where(s2 > 0, bayes, noiseless)))
