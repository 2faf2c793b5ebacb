"""Min-norm least squares and the oracle-support least-squares floor."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import namespace
from ._validation import check_problem
from .spectral import Spectrum


def ols(X: Any, y: Any) -> Any:
    """Minimum-norm least squares, batched.

    .. math:: \\hat w = (X^T X)^{+} X^T y = X^{+} y

    computed as the spectral filter ``1/l`` on the nonzero eigenvalues of
    ``X^T X / n`` (eigenvalues below ``max(n, d) eps l_max`` count as zero), so
    it is the interpolating min-norm solution when d > n.

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)

    Returns
    -------
    w : array (trials, d) or (d,)
    """
    X, y, single = check_problem(X, y)
    spectrum = Spectrum.of(X, y)
    w = spectrum.apply(spectrum.ridge_filter(np.zeros(1)))[0, ...]
    return w[0, ...] if single else w


def oracle_support(X: Any, y: Any, support: Any) -> Any:
    """Least squares restricted to the true support (the floor of the plots).

    .. math:: \\hat w_S = X_S^{+} y, \\qquad \\hat w_{S^c} = 0

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)
    support : int array (trials, s) or (s,)
        Column indices of the support of each instance (distinct).

    Returns
    -------
    w : array (trials, d) or (d,)
    """
    X, y, single = check_problem(X, y)
    xp = namespace(X, y)
    support = xp.asarray(support)
    if single:
        support = support[None, ...]
    trials, _, d = X.shape
    if support.ndim != 2 or support.shape[0] != trials or support.shape[1] < 1:
        raise ValueError(
            f"support must have shape (trials, s) = ({trials}, s) with s >= 1, got {tuple(support.shape)}"
        )
    if not xp.isdtype(support.dtype, "integral"):
        raise TypeError(f"support must hold integer column indices, got dtype {support.dtype}")
    if bool(xp.any(support < 0)) or bool(xp.any(support >= d)):
        raise ValueError(f"support indices must lie in [0, d) = [0, {d})")
    X_S = xp.take_along_axis(X, support[:, None, :], axis=2)
    spectrum = Spectrum.of(X_S, y)
    w_S = spectrum.apply(spectrum.ridge_filter(np.zeros(1)))[0, ...]
    placed = support[:, :, None] == xp.arange(d)
    w = xp.sum(xp.where(placed, w_S[:, :, None], 0.0), axis=1)
    return w[0, ...] if single else w
