"""Batched gradient descent from zero: spectral closed form and plain iteration."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .backend import namespace, to_numpy
from ._validation import check_grid, check_problem, check_step_size
from .spectral import Spectrum

AUTO = "auto"


#: Growth ``|1 - step l_max|^T`` above which a step beyond ``2 / l_max`` is reported as a divergence.
DIVERGENCE_GROWTH = 1e3


class StepSizeWarning(RuntimeWarning):
    """A step size above ``2 / l_max``: gradient descent diverges on those instances."""


def gd(X: Any, y: Any, step_size: Any, steps: Any) -> Any:
    """Gradient descent from zero on ``L(w) = ||y - Xw||^2 / (2n)``, closed form.

    .. math:: w_{t+1} = w_t - \\eta X^T (X w_t - y) / n, \\qquad
              w_T = V \\mathrm{diag}\\Big(\\frac{1 - (1 - \\eta l)^T}{l}\\Big) V^T X^T y / n

    A 1-D array of step counts returns the whole path from one
    eigendecomposition, so T = 10^4 costs the same as T = 1. Steps beyond
    ``2 / l_max`` diverge: the estimate overflows to inf for large T, which the
    risk engine flags. A :class:`StepSizeWarning` naming the stable range
    ``0 < step_size < 2 / l_max`` is raised when a step beyond it is amplified
    more than :data:`DIVERGENCE_GROWTH`-fold by the largest T
    (``|1 - step l_max|^T``; a step just past the edge over a few steps is
    not yet a divergence).

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)
    step_size : float, array (trials,), or ``"auto"``
        ``eta``; ``"auto"`` uses ``1 / l_max(X^T X / n)`` per instance (the
        classical ``1/L`` step, never divergent).
    steps : int or 1-D array of ints >= 0
        ``T``.

    Returns
    -------
    w : array (trials, d) for an integer ``steps``; (len(steps), trials, d) for a path.
    """
    X, y, single = check_problem(X, y)
    return _gd_path(X, y, step_size, steps, single)


def _gd_path(X: Any, y: Any, step_size: Any, steps: Any, single: bool) -> Any:
    Ts, scalar = check_grid(steps, "steps", minimum=0, integer=True)
    spectrum = Spectrum.of(X, y)
    eta = resolve_step(step_size, spectrum, int(Ts.max()))
    w = spectrum.apply(spectrum.gd_filter(eta, Ts))
    if single:
        w = w[:, 0, :]
    return w[0, ...] if scalar else w


def resolve_step(step_size: Any, spectrum: Spectrum, steps: int = 1) -> Any:
    """Validated step size; ``"auto"`` becomes ``1 / l_max`` per instance (host array).

    Warns (:class:`StepSizeWarning`) when ``steps`` steps of a numeric step
    size beyond ``2 / l_max`` diverge (grow more than :data:`DIVERGENCE_GROWTH`-fold).
    """
    trials = spectrum.eigvals.shape[0]
    if isinstance(step_size, str):
        if step_size != AUTO:
            raise ValueError(f"step_size must be a positive number, an array or 'auto', got {step_size!r}")
        top = to_numpy(spectrum.top)
        return 1.0 / np.where(top > 0, top, 1.0)
    eta = check_step_size(step_size, trials)
    top = to_numpy(spectrum.top).astype(np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        growth = steps * np.log(np.abs(1.0 - eta * top))
    unstable = (eta * top > 2.0) & (growth > np.log(DIVERGENCE_GROWTH))
    if np.any(unstable):
        bound = 2.0 / top[top > 0]
        limit = f"{bound.min():.4g}" if bound.size and np.ptp(bound) < 1e-12 * bound.min() else \
            f"between {bound.min():.4g} and {bound.max():.4g} over the instances"
        warnings.warn(f"step_size above 2 / l_max on {int(np.sum(unstable))} of {trials} instances: gradient "
                      f"descent diverges there within {steps} steps; the stable range is 0 < step_size < 2 / l_max(X^T X / n) (of the "
                      f"preprocessed design for pto), here 2 / l_max is {limit} ('auto' takes 1 / l_max)",
                      StepSizeWarning, stacklevel=4)
    return eta


def gd_iterative(X: Any, y: Any, step_size: Any, steps: int) -> Any:
    """Plain gradient-descent iteration (the reference the closed form is tested against).

    Same parameters as :func:`gd`, with a single integer ``steps`` and a
    numeric ``step_size``. Cost O(T n d) per instance.
    """
    X, y, single = check_problem(X, y)
    Ts, scalar = check_grid(steps, "steps", minimum=0, integer=True)
    if not scalar:
        raise ValueError(f"steps must be a single integer for the iterative solver, got {steps!r}")
    T = int(Ts[0])
    xp = namespace(X, y)
    eta = check_step_size(step_size, X.shape[0])
    eta = xp.reshape(xp.asarray(eta, dtype=X.dtype), (-1, 1)) if eta.ndim else float(eta)
    n = X.shape[1]
    Xt = xp.matrix_transpose(X)
    w = xp.zeros((X.shape[0], X.shape[2]), dtype=X.dtype)
    for _ in range(T):
        residual = (X @ w[..., None])[..., 0] - y
        w = w - eta * (Xt @ residual[..., None])[..., 0] / n
    return w[0, ...] if single else w
