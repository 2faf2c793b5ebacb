"""Min-norm least squares and the oracle-support least-squares floor."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import namespace
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
    support : int array (trials, s) or (s,), or bool array (trials, d) or (d,)
        Column indices of the support of each instance (distinct), or a
        boolean mask of the support columns with the same number ``s`` of
        ``True`` entries in every instance.

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
    if xp.isdtype(support.dtype, "bool"):
        support = _mask_indices(xp, support, (trials, d))
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


def _mask_indices(xp: Any, mask: Any, shape: tuple[int, int]) -> Any:
    """The column indices (trials, s), ascending, of a boolean support mask (trials, d) with s True per row."""
    if tuple(mask.shape) != shape:
        raise ValueError(f"a boolean support must have shape (trials, d) = {shape}, got {tuple(mask.shape)}")
    counts = xp.sum(xp.astype(mask, xp.int64), axis=1)
    s = int(counts[0])
    if s < 1 or bool(xp.any(counts != s)):
        raise ValueError("a boolean support needs the same number s >= 1 of True entries in every instance, got "
                         f"counts from {int(xp.min(counts))} to {int(xp.max(counts))}")
    return xp.argsort(xp.astype(~mask, xp.int8), axis=1, stable=True)[:, :s]
