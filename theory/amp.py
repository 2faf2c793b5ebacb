"""Exact proportional limits of the Lasso and Bayes-optimal risks, from AMP state evolution.

The limit: ``n, d, s -> inf`` with ``delta = n / d`` and ``eps = s / d`` fixed,
rows ``x_i ~ N(0, I_d)``, ``y = <w*, x> + sigma xi``, ``w*`` with ``s``
nonzeros from the sampler's signal law. In the units of
``W = sqrt(d) w*_j`` (:mod:`theory.scalar_channel`), approximate message
passing sees at every iteration the coordinates of ``w*`` through a scalar
Gaussian channel ``W + tau Z`` whose noise obeys the state evolution

.. math:: \\tau^2 = \\frac{\\sigma^2 + R}{\\delta}, \\qquad
          R = E \\big(f(W + \\tau Z) - W\\big)^2 ,

where ``f`` is the denoiser and ``R`` its mean squared error, which is also
the limit of ``||w_hat - w*||^2``. (Bayati and Montanari 2011, 2012, in our
units: their ``A = X / sqrt(n)``, ``x_0 = sqrt(n) w*``; derivation and the
map of the penalties in ``docs/theory.md``.)

* Lasso (:func:`lasso_risk_amp`): ``f`` is soft thresholding at ``a tau``;
  the fixed point ``R(a)`` and scikit-learn's penalty are tied by the
  calibration ``alpha sqrt(d) = a tau (1 - P(|W + tau Z| > a tau) / delta)``.
* Optimally tuned Lasso (:func:`lasso_optimal_risk_amp`): the fixed point of
  the map with the best threshold at each step.
* Bayes (:func:`bayes_risk_amp`, :func:`mmse_replica`): ``f = E[W | W + tau Z]``.

All fixed points by :func:`theory.fixed_point.iterate` (relative accuracy
1e-10, :class:`~theory.fixed_point.FixedPointError` naming the setting when
not reached). The functions broadcast ``n, d, s, sigma`` (and ``alpha``) and
need ``sigma > 0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.optimize.elementwise import find_minimum, find_root

from ._params import as_param, output
from .fixed_point import FixedPointError, iterate
from .scalar_channel import SparsePrior, bayes_mmse, mutual_information, soft_threshold_risk, sparse_prior

#: Thresholds ``a = theta / tau`` searched by the optimal Lasso: a grid on [0, A_MAX], then refined.
A_MAX = 10.0
A_GRID = 201
#: Points of the scan for stationary points of the replica potential.
REPLICA_SCAN = 96
_ROOT_TOL = {"xrtol": 1e-12, "xatol": 1e-14}
_ZERO_PRIOR = SparsePrior((np.ones(1),), (np.zeros(1),), (np.zeros(1),))


@dataclass(frozen=True)
class _Cells:
    """Validated, broadcast and flattened parameters of a call."""

    shape: tuple[int, ...]
    n: np.ndarray
    d: np.ndarray
    s: np.ndarray
    sigma: np.ndarray
    signal: str
    prior: SparsePrior
    extra: dict[str, np.ndarray]

    @property
    def delta(self) -> np.ndarray:
        return self.n / self.d

    @property
    def r2(self) -> np.ndarray:
        return self.prior.second_moment

    def tau(self, R: np.ndarray, index: np.ndarray) -> np.ndarray:
        """The state-evolution noise ``sqrt((sigma^2 + R) / delta)`` of the elements ``index``."""
        return np.sqrt((self.sigma[index] ** 2 + R) / self.delta[index])

    def namer(self, index: np.ndarray):
        """``position -> description`` of the element ``index[position]``, for error messages."""
        def describe(position: int) -> str:
            i = index[position]
            parts = [f"n={self.n[i]:g}", f"d={self.d[i]:g}", f"s={self.s[i]:g}", f"sigma={self.sigma[i]:g}"]
            parts += [f"{key}={value[i]:g}" for key, value in self.extra.items()]
            return ", ".join(parts) + f", signal={self.signal}"
        return describe

    def out(self, values: np.ndarray) -> np.ndarray | float:
        return output(np.asarray(values).reshape(self.shape))


def _cells(n: object, d: object, s: object, sigma: object, signal: str, **extra: np.ndarray) -> _Cells:
    """Validate the sizes and sigma (``extra``: arrays validated by the caller) and broadcast them all."""
    n = as_param(n, "n", strict=True)
    d = as_param(d, "d", strict=True)
    s = as_param(s, "s", strict=True)
    sigma = as_param(sigma, "sigma", strict=True)
    arrays = np.broadcast_arrays(n, d, s, sigma, *extra.values())
    if np.any(arrays[2] > arrays[1]):
        raise ValueError(f"s must be <= d, got s={s!r}, d={d!r}")
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    return _Cells(arrays[0].shape, *flat[:4], signal, sparse_prior(flat[1], flat[2], signal),
                  dict(zip(extra, flat[4:])))


# ----------------------------------------------------------------------------------------------- Lasso

class LassoState(NamedTuple):
    """The Lasso's state-evolution fixed point at a threshold ``a tau``.

    Attributes
    ----------
    risk : array
        ``R``, the limit of ``||w_hat - w*||^2``.
    alpha : array
        scikit-learn's penalty that this threshold corresponds to (can be
        negative: such thresholds belong to no Lasso).
    """

    risk: np.ndarray
    alpha: np.ndarray


class LassoOptimum(NamedTuple):
    """The optimally tuned Lasso limit.

    Attributes
    ----------
    risk : float or array
        ``min_alpha`` of the limit of ``||w_hat_alpha - w*||^2``.
    alpha : float or array
        The minimising penalty, scikit-learn's convention.
    """

    risk: np.ndarray | float
    alpha: np.ndarray | float


def _lasso_state(cells: _Cells, a: np.ndarray, index: np.ndarray) -> LassoState:
    """Fixed point of ``R <- mse(soft threshold at a tau(R))`` and its calibrated alpha, elements ``index``."""
    prior = cells.prior.take(index)

    def update(R, j):
        tau = cells.tau(R, index[j])
        return soft_threshold_risk(prior.take(j), tau, a[j] * tau).mse

    R = iterate(update, cells.r2[index], cells.namer(index))
    tau = cells.tau(R, index)
    active = soft_threshold_risk(prior, tau, a * tau).active
    alpha = a * tau * (1.0 - active / cells.delta[index]) / np.sqrt(cells.d[index])
    return LassoState(risk=R, alpha=alpha)


def _threshold_floor(delta: np.ndarray) -> np.ndarray:
    """``a_min``: below it the Lasso map has no fixed point; ``E eta(Z; a)^2 = delta`` (0 when ``delta >= 1``)."""
    floor = np.zeros_like(delta)
    below = delta < 1
    if np.any(below):
        res = find_root(lambda a, dl: soft_threshold_risk(_ZERO_PRIOR, 1.0, a).mse - dl, (0.0, 40.0),
                        args=(delta[below],), tolerances=_ROOT_TOL)
        floor[below] = res.x
    return floor


def _bracket_thresholds(cells: _Cells, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` with ``alpha(lo) < target < alpha(hi)``: doubling upwards, halving towards ``a_min``."""
    floor = _threshold_floor(cells.delta)
    hi = floor + 1.0
    todo = np.arange(target.size)
    for _ in range(64):
        alpha = _lasso_state(cells, hi[todo], todo).alpha
        todo = todo[alpha <= target[todo]]
        if todo.size == 0:
            break
        hi[todo] = floor[todo] + 2.0 * (hi[todo] - floor[todo])
    else:
        raise FixedPointError(f"no threshold reaches alpha at {cells.namer(todo)(0)}")
    lo = floor + 0.5 * (hi - floor)
    todo = np.arange(target.size)
    for _ in range(64):
        alpha = _lasso_state(cells, lo[todo], todo).alpha
        todo = todo[alpha >= target[todo]]
        if todo.size == 0:
            return lo, hi
        hi[todo] = lo[todo]
        lo[todo] = floor[todo] + 0.5 * (lo[todo] - floor[todo])
    raise FixedPointError(f"no threshold gives an alpha below the target at {cells.namer(todo)(0)}")


def lasso_risk_amp(n: object, d: object, s: object, *, sigma: object, alpha: object,
                   signal: str = "gaussian") -> np.ndarray | float:
    """Limit of the Lasso's excess risk ``||w_hat - w*||^2`` from AMP state evolution.

    The Lasso in scikit-learn's convention,
    ``argmin (1/(2n)) ||y - X w||^2 + alpha ||w||_1`` (``solvers.lasso``).
    With ``tau^2 = (sigma^2 + R) / delta`` and soft thresholding ``eta`` at
    ``a tau``, the limit ``R`` solves

    .. math:: R = E\\big(\\eta(W + \\tau Z; a\\tau) - W\\big)^2, \\qquad
              \\alpha \\sqrt d = a \\tau \\Big(1 - \\frac{P(|W + \\tau Z| > a \\tau)}{\\delta}\\Big),

    the second equation (the calibration) choosing ``a``: the penalty
    ``lambda = alpha sqrt(n)`` of ``(1/2) ||y - A x||^2`` with ``A = X/sqrt(n)``
    (Bayati and Montanari 2012, Theorem 1.5; ``docs/theory.md``). For each
    ``a`` the fixed point is unique (the map is concave in ``tau^2``, with
    slope below 1 at infinity when ``a > a_min``); ``a`` is found by a
    bracketing root search (``scipy.optimize.elementwise.find_root``) on the
    calibration, which is increasing in ``a`` where ``alpha > 0``.

    Parameters
    ----------
    n, d, s : float or array
        Sample size, dimension and sparsity (``0 < s <= d``); only the ratios
        ``n/d``, ``s/d`` and the law enter, plus ``d`` through ``alpha sqrt(d)``.
    sigma : float or array, keyword-only, > 0
        Noise standard deviation.
    alpha : float or array, keyword-only, > 0
        The penalty.
    signal : {"gaussian", "rademacher", "unnormalized"}
        Law of the nonzero entries (``simulations.problems``).

    Returns
    -------
    float or array of the broadcast shape.
    """
    cells = _cells(n, d, s, sigma, signal, alpha=as_param(alpha, "alpha", strict=True))
    index = np.arange(cells.n.size)
    target = cells.extra["alpha"]
    lo, hi = _bracket_thresholds(cells, target)
    res = find_root(lambda a, j: _lasso_state(cells, a, j).alpha - target[j], (lo, hi), args=(index,),
                    tolerances=_ROOT_TOL)
    if not np.all(res.success):
        raise FixedPointError(f"calibration root not found at {cells.namer(index)(int(np.argmin(res.success)))}")
    return cells.out(_lasso_state(cells, res.x, index).risk)


def _best_threshold(prior: SparsePrior, tau: np.ndarray) -> np.ndarray:
    """``argmin_a mse(soft threshold at a tau)`` per element: grid on [0, A_MAX], then ``find_minimum``.

    A minimum on the first or last grid point is taken there.
    """
    grid = np.linspace(0.0, A_MAX, A_GRID)
    mse = soft_threshold_risk(prior.expand(), tau[:, None], grid * tau[:, None]).mse
    k = np.argmin(mse, axis=1)
    best = grid[k]
    inner = (k > 0) & (k < A_GRID - 1)
    if np.any(inner):
        j = np.flatnonzero(inner)
        sub = prior.take(j)
        res = find_minimum(lambda a, i: soft_threshold_risk(sub.take(i), tau[j][i], a * tau[j][i]).mse,
                           (grid[k[j] - 1], grid[k[j]], grid[k[j] + 1]), args=(np.arange(j.size),))
        best[j] = np.where(res.success, res.x, grid[k[j]])
    return best


def lasso_optimal_risk_amp(n: object, d: object, s: object, *, sigma: object,
                           signal: str = "gaussian") -> LassoOptimum:
    """Limit of the optimally tuned Lasso's excess risk, and the optimal ``alpha``.

    The fixed point of the state evolution with the best soft threshold at
    each step,

    .. math:: R = \\min_{a \\ge 0} E\\big(\\eta(W + \\tau Z; a\\tau) - W\\big)^2,
              \\qquad \\tau^2 = (\\sigma^2 + R) / \\delta .

    It is ``min_alpha`` of :func:`lasso_risk_amp`: each ``R(a)`` solves
    ``R = F_a(R) >= G(R)`` with ``G = min_a F_a`` increasing and concave, so
    ``R(a)`` is at least the unique fixed point ``R*`` of ``G``, and the
    minimising ``a*`` at ``R*`` attains it. The optimal penalty is the
    calibration at ``a*``; it is checked to be positive (an exception
    otherwise). An independent code path from :func:`lasso_risk_amp` (no
    calibration root), which the tests compare.

    Parameters
    ----------
    n, d, s, sigma, signal : as in :func:`lasso_risk_amp`.

    Returns
    -------
    LassoOptimum
        ``risk`` and ``alpha``, of the broadcast shape.
    """
    cells = _cells(n, d, s, sigma, signal)
    index = np.arange(cells.n.size)

    def update(R, j):
        tau = cells.tau(R, j)
        prior = cells.prior.take(j)
        a = _best_threshold(prior, tau)
        return soft_threshold_risk(prior, tau, a * tau).mse

    R = iterate(update, cells.r2, cells.namer(index))
    tau = cells.tau(R, index)
    a = _best_threshold(cells.prior, tau)
    alpha = _lasso_state(cells, a, index).alpha
    if np.any(alpha <= 0):
        worst = cells.namer(index)(int(np.argmin(alpha)))
        raise FixedPointError(f"the best threshold is no Lasso (alpha <= 0) at {worst}")
    return LassoOptimum(risk=cells.out(R), alpha=cells.out(alpha))


# ----------------------------------------------------------------------------------------------- Bayes

def _bayes_fixed_point(cells: _Cells, index: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Bayes state evolution ``R <- mmse(tau(R))`` iterated from ``start`` to the nearest fixed point."""
    prior = cells.prior.take(index)
    return iterate(lambda R, j: bayes_mmse(prior.take(j), cells.tau(R, index[j])), start, cells.namer(index))


def bayes_risk_amp(n: object, d: object, s: object, *, sigma: object,
                   signal: str = "gaussian") -> np.ndarray | float:
    """Risk of Bayes-optimal AMP: the state-evolution fixed point reached from the uninformative start.

    .. math:: R_{k+1} = \\mathrm{mmse}\\big(\\tau_k\\big), \\quad
              \\tau_k^2 = (\\sigma^2 + R_k)/\\delta, \\quad R_0 = E\\|w^*\\|^2,

    with ``mmse`` of the scalar channel (:func:`theory.scalar_channel.bayes_mmse`).
    The map is increasing, so ``R_k`` decreases to the largest fixed point.
    It equals :func:`mmse_replica` (the Bayes risk) except in the hard phase,
    where AMP stops at a worse fixed point (``docs/theory.md``).

    Parameters
    ----------
    n, d, s, sigma, signal : as in :func:`lasso_risk_amp`.
    """
    cells = _cells(n, d, s, sigma, signal)
    return cells.out(_bayes_fixed_point(cells, np.arange(cells.n.size), cells.r2))


def replica_potential(n: object, d: object, s: object, *, sigma: object, risk: object,
                      signal: str = "gaussian") -> np.ndarray | float:
    """The replica-symmetric potential per coordinate at a trial risk ``R``:

    .. math:: \\phi(R) = I\\big(W; W + \\tau Z\\big)
              + \\frac{\\delta}{2} \\Big( \\log\\big(1 + \\frac{R}{\\sigma^2}\\big)
              - \\frac{R}{\\sigma^2 + R} \\Big), \\qquad \\tau^2 = (\\sigma^2 + R)/\\delta .

    By the I-MMSE relation ``dI/d(tau^-2) = mmse / 2``,
    ``phi'(R) = delta (R - mmse(tau)) / (2 (sigma^2 + R)^2)``: its stationary
    points are the state-evolution fixed points. Its minimum is the limit of
    ``I(w*; X, y) / d`` and its minimiser the limit of the Bayes risk
    (Reeves and Pfister 2016; Barbier, Dia, Macris and Krzakala 2016).

    Parameters
    ----------
    n, d, s, sigma, signal : as in :func:`lasso_risk_amp`.
    risk : float or array, keyword-only, >= 0
        The trial ``R``; broadcast with the others.
    """
    cells = _cells(n, d, s, sigma, signal, risk=as_param(risk, "risk"))
    return cells.out(_potential(cells, cells.extra["risk"], np.arange(cells.n.size)))


def _potential(cells: _Cells, R: np.ndarray, index: np.ndarray) -> np.ndarray:
    sigma2, delta = cells.sigma[index] ** 2, cells.delta[index]
    info = mutual_information(cells.prior.take(index), cells.tau(R, index))
    return info + 0.5 * delta * (np.log1p(R / sigma2) - R / (sigma2 + R))


def mmse_replica(n: object, d: object, s: object, *, sigma: object,
                 signal: str = "gaussian") -> np.ndarray | float:
    """Limit of the Bayes risk (the MMSE): the global minimiser of :func:`replica_potential`.

    The candidates are the stable fixed points of the state evolution: the
    one reached from the uninformative start (:func:`bayes_risk_amp`), the
    one reached from the informed start ``R_0 = mmse(sigma / sqrt(delta))``
    (the smallest; no fixed point lies below), and those in between, found as
    sign changes of ``R - mmse(tau(R))`` from - to + on ``REPLICA_SCAN``
    log-spaced points between ``max(R_0, 1e-16 E||w*||^2)`` and
    ``E||w*||^2`` and refined by a bracketing root search; the one of lowest
    potential wins. A pair of middle fixed points closer than a scan step can
    be missed; the extreme ones never are.

    Parameters
    ----------
    n, d, s, sigma, signal : as in :func:`lasso_risk_amp`.
    """
    cells = _cells(n, d, s, sigma, signal)
    index = np.arange(cells.n.size)
    floor = bayes_mmse(cells.prior, cells.tau(0.0, index))
    candidates = [_bayes_fixed_point(cells, index, cells.r2), _bayes_fixed_point(cells, index, floor)]
    owners = [index, index]
    grid = np.geomspace(np.maximum(floor, 1e-16 * cells.r2), cells.r2, REPLICA_SCAN, axis=-1)
    gap = grid - bayes_mmse(cells.prior.expand(), cells.tau(grid, index[:, None]))
    rows, cols = np.nonzero((gap[:, :-1] < 0) & (gap[:, 1:] >= 0))
    if rows.size:
        prior = cells.prior.take(rows)
        res = find_root(lambda R, i: R - bayes_mmse(prior.take(i), cells.tau(R, rows[i])),
                        (grid[rows, cols], grid[rows, cols + 1]), args=(np.arange(rows.size),), tolerances=_ROOT_TOL)
        candidates.append(res.x[res.success])
        owners.append(rows[res.success])
    R, owner = np.concatenate(candidates), np.concatenate(owners)
    potential = _potential(cells, R, owner)
    best = np.empty(index.size)
    for i in index:
        mine = owner == i
        best[i] = R[mine][np.argmin(potential[mine])]
    return cells.out(best)
