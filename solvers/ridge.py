"""Batched ridge regression with a whole regularisation path per decomposition."""

from __future__ import annotations

from typing import Any

from ._validation import check_grid, check_problem
from .spectral import Spectrum


def ridge(X: Any, y: Any, lam: Any) -> Any:
    """Ridge regression in the loss convention of the toolkit, batched.

    .. math:: \\hat w_\\lambda = (X^T X / n + \\lambda I)^{-1} X^T y / n
              = \\arg\\min_w \\frac{1}{2n}\\|y - Xw\\|^2 + \\frac{\\lambda}{2}\\|w\\|^2

    (scikit-learn's ``Ridge(alpha)`` is ``lam = alpha / n``). ``lam = 0`` is
    min-norm least squares. All lambdas share one eigendecomposition per
    instance, of ``X^T X / n`` when n >= d and of ``X X^T / n`` otherwise.

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)
    lam : float or 1-D array of floats >= 0

    Returns
    -------
    w : array (trials, d) for scalar ``lam``; (len(lam), trials, d) for a path.
        A single 2-D problem drops the trials axis.
    """
    X, y, single = check_problem(X, y)
    lams, scalar = check_grid(lam, "lam", minimum=0.0)
    spectrum = Spectrum.of(X, y)
    w = spectrum.apply(spectrum.ridge_filter(lams))
    if single:
        w = w[:, 0, :]
    return w[0, ...] if scalar else w
