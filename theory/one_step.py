"""Exact finite-sample risk of one gradient-descent step from zero (docs/math.md, section 4a)."""

from __future__ import annotations

import numpy as np

from ._params import as_param, output


def one_step_gd_risk(n: object, d: object, *, signal_norm2: object, sigma: object,
                     step_size: object) -> np.ndarray | float:
    """``E ||w_1 - w*||^2`` for one GD step from zero, exact for every n, d.

    One step of size ``eta`` on ``L(w) = ||y - Xw||^2 / (2n)`` from ``w_0 = 0``
    gives ``w_1 = eta X^T y / n = eta (S w* + X^T xi / n)`` with ``S = X^T X / n``.
    For Gaussian design ``x_i ~ N(0, I_d)`` the Wishart moments
    ``E[X^T X] = n I`` and ``E[(X^T X)^2] = n (n + d + 1) I`` give

    .. math:: E\\|w_1 - w^*\\|^2 = \\|w^*\\|^2 \\Big[(1 - \\eta)^2 + \\eta^2 \\frac{d + 1}{n}\\Big]
              + \\eta^2 \\sigma^2 \\frac{d}{n} .

    The expectation is over ``X`` and the noise ``xi ~ N(0, sigma^2 I_n)`` for
    a fixed ``w*``; the formula is linear in ``||w*||^2``, so it also holds for
    a random ``w*`` independent of ``X`` with ``signal_norm2 = E||w*||^2``.
    It does not depend on the sparsity of ``w*``.

    Parameters
    ----------
    n, d : int or array, >= 1
    signal_norm2 : float or array, >= 0
        ``||w*||^2`` (or its mean).
    sigma : float or array, >= 0
        Noise standard deviation.
    step_size : float or array, >= 0
        ``eta``. All arguments broadcast together.

    Returns
    -------
    float or array of the broadcast shape.
    """
    n = as_param(n, "n", minimum=1.0)
    d = as_param(d, "d", minimum=1.0)
    r2 = as_param(signal_norm2, "signal_norm2")
    s2 = as_param(sigma, "sigma") ** 2
    eta = as_param(step_size, "step_size")
    return output(r2 * ((1.0 - eta) ** 2 + eta**2 * (d + 1.0) / n) + eta**2 * s2 * d / n)


def one_step_gd_optimal_step(n: object, d: object, *, signal_norm2: object,
                             sigma: object) -> np.ndarray | float:
    """The step minimising :func:`one_step_gd_risk`, in closed form.

    The risk is a convex quadratic in ``eta``; setting its derivative
    ``-2 r2 (1 - eta) + 2 eta (r2 (d + 1) + sigma^2 d) / n`` to zero gives

    .. math:: \\eta^* = \\frac{n \\|w^*\\|^2}{n \\|w^*\\|^2 + (d + 1)\\|w^*\\|^2 + d \\sigma^2},

    and 0 when ``||w*|| = 0`` (then the zero estimator is optimal).
    """
    n = as_param(n, "n", minimum=1.0)
    d = as_param(d, "d", minimum=1.0)
    r2 = as_param(signal_norm2, "signal_norm2")
    s2 = as_param(sigma, "sigma") ** 2
    denom = n * r2 + (d + 1.0) * r2 + d * s2
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.where(denom > 0, n * r2 / np.where(denom > 0, denom, 1.0), 0.0)
    return output(eta)
