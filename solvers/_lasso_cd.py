"""Batched coordinate descent for Lasso paths on precomputed Gram matrices.

The engine behind :func:`solvers.lasso`. It minimises, for every instance b
and every alpha on a descending grid,

.. math:: P_b(w) = \\tfrac12 w^T G_b w - c_b^T w + \\tfrac12 \\|y_b\\|^2/n + \\alpha \\|w\\|_1
          = \\frac{1}{2n}\\|y_b - X_b w\\|^2 + \\alpha \\|w\\|_1,

with ``G = X^T X / n`` and ``c = X^T y / n``, by cyclic coordinate descent
(the covariance-update form of Friedman, Hastie and Tibshirani 2010, as in
scikit-learn's ``enet_coordinate_descent_gram``). The loop runs over the d
coordinates; every step is one vectorised operation across all instances,
which is why this is hand-written instead of calling scikit-learn once per
instance (whose per-call Python overhead dominates at d ~ 32).

Arrays are kept batch-last, ``(d, m)`` and ``(d, d, m)``, so that one
coordinate of every instance is a contiguous row.

Each instance walks down the grid on its own: when it has converged at its
current alpha (or used ``max_iter`` sweeps) its solution is recorded and it
moves to the next alpha in the next sweep, warm-started by linear
extrapolation of its last two solutions (exact between kinks of the
piecewise-linear Lasso path). Instances that finished the grid are dropped
from the batch whenever they make up half of it.

Coordinate descent identifies the support and signs of the solution long
before it reaches a tight duality gap on ill-conditioned problems (n ~ d,
small alpha), where it can need thousands of sweeps. So an instance that is
still unconverged after every :data:`POLISH_EVERY` sweeps at an alpha gets
one active-set Newton step, the exact solution of the KKT system on its
current support and signs; the step is kept only where it keeps those
signs and lowers the duality gap, so it never makes the returned
certificate worse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import in_batches, namespace, to_numpy

#: Sweeps between exact recomputations of the gradient ``q = c - G w``
#: (between them it is updated incrementally, as in scikit-learn).
REFRESH_EVERY = 10
#: An instance still unconverged after a multiple of this many sweeps at the
#: same alpha gets an active-set Newton step (see :func:`_polish`).
POLISH_EVERY = 4

#: Most homotopy kinks followed per instance, in units of d (then the ordinary
#: warm starts take over); used by the compiled and CUDA engines.
MAX_KINKS_PER_COORDINATE = 8

#: Homotopy warm starts are used for ``n <= HOMOTOPY_MAX_N_OVER_D * d``
#: (see :func:`wants_homotopy`).
HOMOTOPY_MAX_N_OVER_D = 1.0


def wants_homotopy(n: int, d: int) -> bool:
    """Whether homotopy warm starts are the faster choice for n samples in d dimensions.

    Measured with ``benchmarks/lasso.py --n N`` at d = 32 (docs/performance.md):
    at n <= d the homotopy is 2-13x faster (coordinate descent needs up to
    thousands of sweeps on some instances, the square case included); at
    n = 1.25 d and 1.5 d the two are level (within 1.0-1.4x either way
    between runs); at n = 2 d coordinate descent from the extrapolated warm
    start is faster, 1.1x at d = 32 and 3.4x at d = 128 (one Cholesky
    factorisation of up to 128 x 128 per kink).
    """
    return n <= HOMOTOPY_MAX_N_OVER_D * d


@dataclass(frozen=True)
class PathResult:
    """Raw engine output, grid in the (descending) order it was solved.

    Attributes
    ----------
    coef : backend array (K, B, d)
    gap : ndarray (K, B)
        Duality gap at the returned coefficients.
    n_iter : ndarray of int (K, B)
        Coordinate-descent sweeps spent at each alpha.
    converged : ndarray of bool (K, B)
        ``gap <= tol * ||y||^2 / (2n)``.
    """

    coef: Any
    gap: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


def duality_gap(W: Any, q: Any, c: Any, yy: Any, alpha: Any) -> Any:
    """Duality gap of the Lasso at ``W`` (batch-last), scikit-learn's dual point.

    With residual ``r = y - X w``, ``q = X^T r / n = c - G w`` and
    ``rr = ||r||^2 / n = yy - c.w - q.w``, the dual point is
    ``theta = s r / n`` with ``s = min(1, alpha / ||q||_inf)`` (so that
    ``||X^T theta||_inf <= alpha``), and

    .. math:: \\mathrm{gap} = \\tfrac12 rr (1 + s^2) + \\alpha \\|w\\|_1 - s\\, r^T y / n,
              \\qquad r^T y / n = yy - c^T w.

    Parameters
    ----------
    W, q, c : arrays (d, m)
    yy : array (m,)
        ``||y||^2 / n``.
    alpha : array (m,)

    Returns
    -------
    gap : array (m,)
    """
    xp = namespace(W, q)
    dual_norm = xp.max(xp.abs(q), axis=0)
    rescale = dual_norm > alpha
    s = xp.where(rescale, alpha / xp.where(rescale, dual_norm, 1.0), 1.0)
    cw = xp.sum(c * W, axis=0)
    rr = yy - cw - xp.sum(q * W, axis=0)
    return 0.5 * rr * (1.0 + s * s) + alpha * xp.sum(xp.abs(W), axis=0) - s * (yy - cw)


def batch_last(a: Any) -> Any:
    """C-ordered copy of ``a`` with its leading (batch) axis moved last."""
    xp = namespace(a)
    moved = xp.permute_dims(a, tuple(range(1, a.ndim)) + (0,))
    return xp.reshape(xp.reshape(moved, (-1,)), tuple(moved.shape))


def cd_path(G: Any, c: Any, yy: Any, alphas: np.ndarray, tol: float, max_iter: int,
            rank: int | None = None) -> PathResult:
    """Solve the Lasso for every instance along a descending alpha grid.

    Parameters
    ----------
    G : array (B, d, d)
        Symmetric Gram matrices ``X^T X / n``.
    c : array (B, d)
        ``X^T y / n``.
    yy : array (B,)
        ``||y||^2 / n``.
    alphas : ndarray (K,)
        Positive, non-increasing.
    tol : float
        Stop an instance at an alpha when ``gap <= tol * yy / 2``.
    max_iter : int
        Most sweeps per instance and alpha.
    rank : int, optional
        Upper bound on the rank of every ``G`` (``min(n, d)``); the Newton
        polish keeps at most this many active coordinates. Default ``d``.

    Returns
    -------
    PathResult
    """
    xp = namespace(G, c)
    B, d, _ = G.shape
    K = alphas.shape[0]
    grid = xp.asarray(alphas, dtype=G.dtype)

    cols = batch_last(G)  # cols[j, :, b] = G_b[:, j]
    diag = batch_last(xp.linalg.diagonal(G))
    inv = xp.where(diag > 0, 1.0 / xp.where(diag > 0, diag, 1.0), 0.0)  # zero column: w_j stays 0
    cT = batch_last(c)
    Gb = G
    W = xp.zeros((d, B), dtype=G.dtype)
    q = xp.asarray(cT, copy=True)
    W_prev, q_prev = xp.asarray(W, copy=True), xp.asarray(q, copy=True)
    target = tol * yy / 2
    k = xp.zeros(B, dtype=xp.int64)
    sweeps = xp.zeros(B, dtype=xp.int64)
    ids = xp.arange(B)

    records = []  # (slot k * B + instance, coef (d, m), gap, sweeps, converged) of finished pairs
    since_refresh = 0
    while ids.shape[0] > 0:
        live = k < K
        alpha = xp.take(grid, xp.minimum(k, K - 1))
        _sweep(W, q, cols, inv, alpha * inv)
        sweeps += 1
        since_refresh += 1
        if since_refresh == REFRESH_EVERY:
            q = cT - batch_last((Gb @ xp.permute_dims(W, (1, 0))[..., None])[..., 0])
            since_refresh = 0
        gap = duality_gap(W, q, cT, yy, alpha)
        slow = live & (gap > target) & (sweeps % POLISH_EVERY == 0)
        if bool(xp.any(slow)):
            W, q, gap = _polish(W, q, gap, Gb, cT, yy, alpha, slow, d if rank is None else rank)
        ok = gap <= target
        done = live & (ok | (sweeps >= max_iter))
        if bool(xp.any(done)):
            (loc,) = xp.nonzero(done)
            rows = xp.take(k, loc)
            records.append((rows * B + xp.take(ids, loc), xp.take(W, loc, axis=1),
                            *(xp.take(a, loc) for a in (gap, sweeps, ok))))
            W, q, W_prev, q_prev = _advance(W, q, W_prev, q_prev, done, rows, grid)
            k = xp.where(done, k + 1, k)
            sweeps = xp.where(done, 0, sweeps)
        keep = k < K
        n_keep = int(xp.sum(xp.astype(keep, xp.int64)))
        if 2 * n_keep <= ids.shape[0]:
            (sel,) = xp.nonzero(keep)
            W, q, W_prev, q_prev, cT, inv = (xp.take(a, sel, axis=1) for a in (W, q, W_prev, q_prev, cT, inv))
            cols = xp.take(cols, sel, axis=2)
            Gb = xp.take(Gb, sel, axis=0)
            yy, target, k, sweeps, ids = (xp.take(a, sel) for a in (yy, target, k, sweeps, ids))
    slot, coef, gap_out, iter_out, conv_out = (xp.concat(parts, axis=-1) for parts in zip(*records))
    order = xp.argsort(slot)  # every (alpha, instance) pair finishes exactly once: a permutation
    coef = xp.reshape(xp.permute_dims(xp.take(coef, order, axis=1), (1, 0)), (K, B, d))
    gap_out, iter_out, conv_out = (to_numpy(xp.reshape(xp.take(a, order), (K, B)))
                                   for a in (gap_out, iter_out, conv_out))
    return PathResult(coef=coef, gap=gap_out, n_iter=iter_out, converged=conv_out)


def soft_threshold(z: Any, t: Any) -> Any:
    """``S(z, t) = sign(z) max(|z| - t, 0)`` for ``t >= 0``, computed as ``z - min(max(z, -t), t)``.

    The two forms agree bit for bit (up to the sign of a zero), but this one
    avoids ``sign``, which array-api-compat implements on CuPy with a
    boolean-mask write: a device synchronisation per coordinate, 27% of the
    engine's time in the H100 profile of ``benchmarks/lasso_profile.py``.
    """
    xp = namespace(z, t)
    return z - xp.minimum(xp.maximum(z, -t), t)


def _sweep(W: Any, q: Any, cols: Any, inv: Any, thr: Any) -> None:
    """One cyclic pass over the coordinates, in place, for all instances at once.

    ``w_j <- S(w_j + q_j / G_jj, alpha / G_jj)`` with the soft threshold
    ``S(z, t) = sign(z) max(|z| - t, 0)``, then ``q <- q - G[:, j] delta_j``.
    """
    xp = namespace(W, q)
    for j in range(W.shape[0]):
        w_old = W[j, :]
        w_new = soft_threshold(w_old + q[j, :] * inv[j, :], thr[j, :])
        delta = w_new - w_old
        W[j, :] = w_new
        q -= cols[j, ...] * delta


def _polish(W: Any, q: Any, gap: Any, Gb: Any, cT: Any, yy: Any, alpha: Any, slow: Any, rank: int) -> tuple:
    """Active-set Newton step for the instances where ``slow`` holds, kept where it lowers the gap.

    With active set ``A = {j : w_j != 0}`` and signs ``s_A``, the Lasso
    solution with that support and those signs solves
    ``G_AA w_A = c_A - alpha s_A`` (``w = 0`` off ``A``). The system is solved
    batched. ``G = X^T X / n`` has rank at most ``rank = min(n, d)`` and a
    Lasso solution at most that many nonzeros, so when coordinate descent
    carries more active coordinates (n < d, small alpha) ``A`` is cut to the
    ``rank`` largest ``|w_j|``: otherwise ``G_AA`` is singular and the step
    useless (the cut makes n < d paths 1.4-1.7x faster). An exactly singular
    ``G_AA`` (duplicated columns), which NumPy refuses to solve, skips this
    step for the batch. Kept only where the signs on
    ``A`` are unchanged (the candidate is then the exact minimiser when the
    off-support KKT conditions hold too) and the gap drops. Returns the
    updated ``W, q, gap``.
    """
    xp = namespace(W, q)
    d = W.shape[0]
    (loc,) = xp.nonzero(slow)
    Gl = xp.take(Gb, loc, axis=0)
    Wl = xp.permute_dims(xp.take(W, loc, axis=1), (1, 0))
    cl = xp.permute_dims(xp.take(cT, loc, axis=1), (1, 0))
    al = xp.take(alpha, loc)
    sign = xp.sign(Wl)
    if rank < d:
        size = xp.abs(Wl)
        kth = xp.sort(size, axis=1, descending=True)[:, rank - 1:rank]
        crowded = xp.sum(xp.astype(sign != 0, xp.int64), axis=1) > rank
        sign = xp.where(crowded[:, None] & (size < kth), 0.0, sign)
    act = xp.astype(sign != 0, W.dtype)
    eye = xp.eye(d, dtype=W.dtype)
    M = Gl * act[:, :, None] * act[:, None, :] + eye * (1.0 - act)[:, None, :]
    try:
        w_new = in_batches(xp.linalg.solve, M, (act * (cl - al[:, None] * sign))[..., None])[..., 0]
    except np.linalg.LinAlgError:  # NumPy refuses a batch holding an exactly singular G_AA
        return W, q, gap
    q_new = cl - (Gl @ w_new[..., None])[..., 0]
    w_new, q_new, cl = (xp.permute_dims(a, (1, 0)) for a in (w_new, q_new, cl))
    with np.errstate(over="ignore", invalid="ignore"):
        gap_new = duality_gap(w_new, q_new, cl, xp.take(yy, loc), al)
    gap_old = xp.take(gap, loc)
    same_signs = xp.all(xp.sign(w_new) == xp.permute_dims(sign, (1, 0)), axis=0)
    better = same_signs & (gap_new < gap_old)
    return (_put(W, slow, xp.where(better, w_new, xp.take(W, loc, axis=1))),
            _put(q, slow, xp.where(better, q_new, xp.take(q, loc, axis=1))),
            _put(gap, slow, xp.where(better, gap_new, gap_old)))


def _advance(W: Any, q: Any, W_prev: Any, q_prev: Any, done: Any, rows: Any, grid: Any) -> tuple:
    """Warm start the instances where ``done`` holds (just finished alpha index ``rows``) at the next alpha.

    Linear extrapolation ``w + rho (w - w_prev)`` with
    ``rho = (a_{k+1} - a_k) / (a_k - a_{k-1})`` clipped to [0, 1] (0 at the
    first alpha and for repeated alphas); ``q = c - G w`` is affine in w, so it
    is extrapolated the same way.
    """
    xp = namespace(W, q)
    (loc,) = xp.nonzero(done)
    K = grid.shape[0]
    a_k = xp.take(grid, rows)
    a_next = xp.take(grid, xp.minimum(rows + 1, K - 1))
    a_before = xp.take(grid, xp.maximum(rows - 1, 0))
    step_before = a_k - a_before
    has_slope = step_before != 0
    rho = xp.where(has_slope, (a_next - a_k) / xp.where(has_slope, step_before, 1.0), 0.0)
    rho = xp.clip(rho, 0.0, 1.0)
    W_loc, q_loc = xp.take(W, loc, axis=1), xp.take(q, loc, axis=1)
    return (_put(W, done, W_loc + rho * (W_loc - xp.take(W_prev, loc, axis=1))),
            _put(q, done, q_loc + rho * (q_loc - xp.take(q_prev, loc, axis=1))),
            _put(W_prev, done, W_loc), _put(q_prev, done, q_loc))


def _put(full: Any, mask: Any, values: Any) -> Any:
    """``full`` (..., m) with the entries where ``mask`` (m,) holds replaced by ``values`` (..., count).

    ``values`` fill the selected entries in order. The array API has no
    scatter (``full[..., loc] = values``); a gather and a select make the same
    assignment, copying every value exactly.
    """
    xp = namespace(full, values)
    slot = xp.cumulative_sum(xp.astype(mask, xp.int64)) - 1
    return xp.where(mask, xp.take(values, xp.maximum(slot, 0), axis=values.ndim - 1), full)
