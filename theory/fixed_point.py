"""Damped fixed-point iteration, vectorised over parameter grids, with an a-posteriori convergence check."""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Relative accuracy asked of every fixed point.
RTOL = 1e-10
MAX_ITER = 20_000


class FixedPointError(RuntimeError):
    """A fixed-point iteration did not converge; the message names the setting."""


def iterate(update: Callable[[np.ndarray, np.ndarray], np.ndarray], start: np.ndarray,
            describe: Callable[[int], str], *, damping: float = 1.0, rtol: float = RTOL,
            max_iter: int = MAX_ITER) -> np.ndarray:
    """Iterate ``x <- x + damping (F(x) - x)`` elementwise until every element has converged.

    Convergence test. For a map contracting at rate ``rho`` near its fixed
    point, the distance of the iterate to the fixed point is at most
    ``|step| rho / (1 - rho)``; ``rho`` is estimated by the ratio of two
    successive steps. An element stops when both ``|step|`` and that bound are
    below ``rtol |x|`` (an exact fixed point, ``step == 0``, stops at once).
    Near a bifurcation ``rho -> 1`` and the bound, not the step, decides.

    The state-evolution maps of :mod:`theory.amp` are increasing in ``x``,
    so from the uninformative start the iterates decrease monotonically to the
    largest fixed point below the start, for every ``damping`` in ``(0, 1]``;
    they use ``damping = 1``, the fastest.

    Parameters
    ----------
    update : callable (x, index) -> F(x)
        ``x`` holds the still-active elements, ``index`` their positions in
        ``start``.
    start : array (m,)
        Starting points, one per element.
    describe : callable (position) -> str
        Names the setting of an element, for the error message.
    damping : float in (0, 1]
    rtol : float
    max_iter : int

    Raises
    ------
    FixedPointError
        When an element has not converged after ``max_iter`` iterations or
        became non-finite; the message names its setting.
    """
    if not 0.0 < damping <= 1.0:
        raise ValueError(f"damping must be in (0, 1], got {damping!r}")
    x = np.array(start, dtype=float).reshape(-1)
    active = np.arange(x.size)
    previous = np.full(x.size, np.nan)
    for _ in range(max_iter):
        if active.size == 0:
            return x
        value = update(x[active], active)
        step = damping * (value - x[active])
        new = x[active] + step
        if not np.all(np.isfinite(new)):
            bad = active[~np.isfinite(new)][0]
            raise FixedPointError(f"fixed-point iteration became non-finite at {describe(int(bad))}")
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.abs(step) / np.abs(previous[active])
            bound = np.where(rho < 1, np.abs(step) * rho / (1 - rho), np.inf)
        tol = rtol * np.abs(new)
        done = (step == 0) | ((np.abs(step) <= tol) & (bound <= tol))
        x[active] = new
        previous[active] = step
        active = active[~done]
    if active.size == 0:
        return x
    raise FixedPointError(f"fixed-point iteration did not converge in {max_iter} iterations "
                          f"at {describe(int(active[0]))} (and {active.size - 1} other settings)")
