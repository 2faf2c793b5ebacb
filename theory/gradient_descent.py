"""Deterministic equivalents of gradient descent and gradient flow, and optimal stopping.

GD from zero with step ``eta`` for ``T`` steps and gradient flow for time
``t`` are spectral filters of ``S = X^T X / n`` (see ``solvers.spectral``):

.. math:: 1 - l f_T(l) = (1 - \\eta l)^T, \\qquad l f_T(l)^2 = \\frac{(1 - (1 - \\eta l)^T)^2}{l},

.. math:: 1 - l f_t(l) = e^{-t l}, \\qquad l f_t(l)^2 = \\frac{(1 - e^{-t l})^2}{l},

so their risk limits are :func:`theory.marchenko_pastur.filter_risk` with
these filters (bias ``r2 int (1 - l f)^2 dF``, variance
``sigma^2 gamma int l f^2 dF``; the atom at 0 adds ``r2 (1 - 1/gamma)``).
Same assumptions as :func:`theory.ridge.ridge_risk_limit`. Steps with
``eta > 2 / l`` for ``l`` in the support make GD diverge; the risk is then
returned as computed (huge or inf), as the solvers do.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from ._params import as_param, output
from .marchenko_pastur import DEFAULT_NODES, filter_risk

MAX_STEPS = 100_000
MAX_TIME = 1e6


def _gd_residual(l: np.ndarray, eta: np.ndarray, T: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (1.0 - eta * l) ** T


def _gd_gain(l: np.ndarray, eta: np.ndarray, T: np.ndarray) -> np.ndarray:
    safe = np.where(l > 0, l, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(l > 0, (1.0 - _gd_residual(l, eta, T)) ** 2 / safe, 0.0)


def _flow_residual(l: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.exp(-t * l)


def _flow_gain(l: np.ndarray, t: np.ndarray) -> np.ndarray:
    safe = np.where(l > 0, l, 1.0)
    return np.where(l > 0, np.expm1(-t * l) ** 2 / safe, 0.0)


class GDOptimum(NamedTuple):
    """Optimally stopped GD (:func:`gd_optimal_steps`).

    Attributes
    ----------
    risk : float or array
        ``min_T R(eta, T)``.
    steps : float or array
        The minimising number of steps ``T`` (whole numbers, as floats).
    """

    risk: np.ndarray | float
    steps: np.ndarray | float


class GradientFlowOptimum(NamedTuple):
    """Optimally stopped gradient flow (:func:`gradient_flow_optimal_time`).

    Attributes
    ----------
    risk : float or array
        ``min_t R(t)``.
    time : float or array
        The minimising stopping time ``t``.
    """

    risk: np.ndarray | float
    time: np.ndarray | float


def gd_risk_limit(gamma: object, *, signal_norm2: object, sigma: object, step_size: object,
                  steps: object, nodes: int = DEFAULT_NODES) -> np.ndarray | float:
    """Risk limit of ``T`` GD steps of size ``eta`` from zero.

    .. math:: R(\\eta, T) = r_2 \\int (1 - \\eta l)^{2T} dF_\\gamma
              + \\sigma^2 \\gamma \\int \\frac{(1 - (1 - \\eta l)^T)^2}{l} dF_\\gamma

    Parameters
    ----------
    gamma : float or array, > 0
    signal_norm2 : float or array, >= 0
        ``r2 = ||w*||^2``.
    sigma : float or array, >= 0
        Noise standard deviation.
    step_size : float or array, > 0
        ``eta`` (in the loss convention ``||y - Xw||^2 / (2n)``).
    steps : int or array of whole numbers, >= 0
    nodes : int
        Quadrature nodes (see :mod:`theory.marchenko_pastur`).
    """
    eta = as_param(step_size, "step_size", strict=True)
    T = as_param(steps, "steps")
    if not np.all(T == np.round(T)):
        raise ValueError(f"steps must be whole numbers, got {steps!r}")
    return output(filter_risk(gamma, signal_norm2=signal_norm2, sigma=sigma, residual=_gd_residual,
                              gain=_gd_gain, params=(eta, T), nodes=nodes))


def gradient_flow_risk_limit(gamma: object, *, signal_norm2: object, sigma: object, time: object,
                             nodes: int = DEFAULT_NODES) -> np.ndarray | float:
    """Risk limit of gradient flow ``dw/dt = -grad L(w)`` from zero, stopped at time ``t``.

    .. math:: R(t) = r_2 \\int e^{-2 t l} dF_\\gamma
              + \\sigma^2 \\gamma \\int \\frac{(1 - e^{-t l})^2}{l} dF_\\gamma

    GD with ``T`` steps of size ``eta`` approaches it at ``t = eta T`` as ``eta -> 0``.

    Parameters as in :func:`gd_risk_limit`, with ``time`` (``t >= 0``) in place of
    ``step_size`` and ``steps``.
    """
    t = as_param(time, "time")
    return output(filter_risk(gamma, signal_norm2=signal_norm2, sigma=sigma, residual=_flow_residual,
                              gain=_flow_gain, params=(t,), nodes=nodes))


def gd_optimal_steps(gamma: object, *, signal_norm2: object, sigma: object, step_size: object,
                     max_steps: int = MAX_STEPS, nodes: int = DEFAULT_NODES) -> GDOptimum:
    """Optimal stopping for GD: ``argmin_T R(eta, T)`` over whole ``T in [0, max_steps]``.

    Method: the risk is evaluated on all ``T <= 64`` and a geometric grid
    (ratio 1.1) up to ``max_steps``; around the best grid point,
    ``scipy.optimize.minimize_scalar`` (bounded Brent) refines ``T`` between
    its grid neighbours, rounding to whole steps, and the best of the
    neighbouring integers is kept. The risk is unimodal in ``T`` in all cases
    we checked, but this is not proved; a minimiser at ``max_steps`` means the
    risk is still decreasing (e.g. ``sigma = 0``, ``gamma < 1``).

    Returns
    -------
    GDOptimum
        ``risk`` and ``steps``, of the broadcast shape (floats; ``steps`` whole).
    """
    steps, risk = _optimise(
        lambda g, r2, sd, eta, T: gd_risk_limit(g, signal_norm2=r2, sigma=sd, step_size=eta, steps=T, nodes=nodes),
        (gamma, signal_norm2, sigma, as_param(step_size, "step_size", strict=True)), _step_grid(max_steps),
        integer=True)
    return GDOptimum(risk=risk, steps=steps)


def gradient_flow_optimal_time(gamma: object, *, signal_norm2: object, sigma: object,
                               max_time: float = MAX_TIME, nodes: int = DEFAULT_NODES) -> GradientFlowOptimum:
    """Optimal stopping time ``argmin_t R(t)`` of gradient flow on ``[0, max_time]``.

    A geometric grid in ``t`` brackets the minimum, then bounded Brent
    (``scipy.optimize.minimize_scalar``) refines it.

    Returns
    -------
    GradientFlowOptimum
        ``risk`` and ``time``, of the broadcast shape.
    """
    grid = np.concatenate([[0.0], np.geomspace(1e-3, max_time, 241)])
    time, risk = _optimise(
        lambda g, r2, sd, t: gradient_flow_risk_limit(g, signal_norm2=r2, sigma=sd, time=t, nodes=nodes),
        (gamma, signal_norm2, sigma), grid, integer=False)
    return GradientFlowOptimum(risk=risk, time=time)


def _step_grid(max_steps: int) -> np.ndarray:
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    geometric = np.unique(np.round(np.geomspace(64, max(max_steps, 64), 200)))
    return np.unique(np.concatenate([np.arange(min(64, max_steps) + 1), geometric[geometric <= max_steps]]))


def _optimise(risk, params: tuple, grid: np.ndarray, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    arrays = np.broadcast_arrays(*(np.asarray(p, dtype=float) for p in params))
    best_x = np.empty(arrays[0].shape)
    best_r = np.empty(arrays[0].shape)
    for index in np.ndindex(arrays[0].shape):
        point = tuple(a[index] for a in arrays)
        values = np.asarray(risk(*point, grid))
        values = np.where(np.isfinite(values), values, np.inf)
        k = int(np.argmin(values))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        x, r = grid[k], values[k]
        if hi - lo > (2 if integer else 0):
            snap = np.round if integer else (lambda v: v)
            found = minimize_scalar(lambda v: float(risk(*point, snap(v))), bounds=(lo, hi),
                                    method="bounded", options={"xatol": 0.5 if integer else 1e-6 * hi})
            candidates = [snap(found.x)] + ([snap(found.x) - 1, snap(found.x) + 1] if integer else [])
            for c in candidates:
                if lo <= c <= hi:
                    rc = float(risk(*point, c))
                    if rc < r:
                        x, r = c, rc
        best_x[index], best_r[index] = x, r
    return output(best_x), output(best_r)
