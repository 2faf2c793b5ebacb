"""Compiled coordinate descent for Lasso paths on Gram matrices: the CPU engine of :func:`solvers.lasso`.

Same problem, stopping rule and output as the array-API engine
(:func:`solvers._lasso_cd.cd_path`), which stays the reference; the CUDA
engine (:mod:`solvers._lasso_cuda`) runs this algorithm on CuPy, bit for bit:
for every instance b and every alpha of a descending grid it
minimises

.. math:: P_b(w) = \\tfrac12 w^T G_b w - c_b^T w + \\tfrac12\\, yy_b + \\alpha \\|w\\|_1
          = \\frac{1}{2n}\\|y_b - X_b w\\|^2 + \\alpha \\|w\\|_1,

``G = X^T X / n``, ``c = X^T y / n``, ``yy = ||y||^2 / n``, and stops at
``gap <= tol * yy / 2`` (scikit-learn's dual point, see :func:`_gap`).

Why compiled: a vectorised sweep across instances costs per instance about
what one compiled sweep costs, so the array-API engine only saves call
overhead. Here each instance runs its whole path in a loop compiled by
numba (``parallel=True``: instances are spread over the cores with
``prange``, :data:`CHUNK` at a time, at least
:data:`MIN_INSTANCES_PER_THREAD` per thread; ``cache=True``: compiled once per
machine, then loaded from ``__pycache__``). Per instance and alpha:

1. warm start: for n <= d (:func:`solvers._lasso_cd.wants_homotopy`) the exact point of the
   Lasso homotopy (:mod:`solvers._lasso_homotopy`) while it lasts;
   otherwise, and after it, linear extrapolation of the last two solutions,
   ``w + rho (w - w_prev)``, ``rho = (a_k - a_{k-1}) / (a_{k-1} - a_{k-2})``
   clipped to [0, 1] (exact between kinks of the piecewise-linear path).
   The gradient ``q = c - G w`` is recomputed exactly;
2. cyclic sweeps ``w_j <- S(w_j + q_j / G_jj, alpha / G_jj)``; a coordinate
   that does not move costs O(1), one that moves updates ``q`` in O(d)
   (``q <- q - G[:, j] delta``). A coordinate at zero that stays at zero is
   therefore nearly free: that is the saving of an active-set sweep in Gram
   coordinate descent, so there are no separate active-set passes;
3. after every sweep the duality gap (O(d) from ``q``); an unconverged
   instance gets an active-set Newton step (:func:`_newton`) every
   :data:`POLISH_EVERY` sweeps and after any sweep but the first that left
   its signs and support unchanged (CD has then usually found them); the
   step is kept only where it keeps the signs and lowers the gap;
4. before a gap is accepted as converged, ``q`` is recomputed exactly, so the
   certificate carries no drift of the incremental updates (it is also
   recomputed every :data:`REFRESH_EVERY` sweeps).

The kernel does not call BLAS or LAPACK: the Newton system is solved by a
hand-written Cholesky factorisation (:mod:`solvers._cholesky`), which fails
(and the step is skipped) exactly where ``G_AA`` is not numerically
positive definite, e.g. with duplicated columns. Results do not depend on
the number of threads (each instance is computed by one thread, alone).
"""

from __future__ import annotations

import numba
import numpy as np

from ._cholesky import factor, solve
from ._lasso_homotopy import homotopy_path
from ._lasso_cd import POLISH_EVERY, REFRESH_EVERY, PathResult

#: Instances handed to a core at a time (dynamic scheduling: the cost of an
#: instance varies by orders of magnitude, e.g. with its smallest eigenvalue).
CHUNK = 8
#: Fewest instances per thread: a smaller batch uses fewer threads (starting
#: a thread costs more than solving a few instances, much more when the
#: cores are busy with other work).
MIN_INSTANCES_PER_THREAD = 64


def cd_path_compiled(G: np.ndarray, c: np.ndarray, yy: np.ndarray, alphas: np.ndarray, tol: float,
                     max_iter: int, rank: int | None = None, homotopy: bool = False) -> PathResult:
    """Solve the Lasso for every instance along a descending alpha grid (NumPy arrays, compiled).

    Parameters
    ----------
    G : ndarray (B, d, d)
        Symmetric Gram matrices ``X^T X / n``, float32 or float64.
    c : ndarray (B, d)
        ``X^T y / n``, same dtype.
    yy : ndarray (B,)
        ``||y||^2 / n``, same dtype.
    alphas : ndarray (K,)
        Positive, non-increasing.
    tol : float
        Stop an instance at an alpha when ``gap <= tol * yy / 2``.
    max_iter : int
        Most sweeps per instance and alpha.
    rank : int, optional
        Upper bound on the rank of every ``G`` (``min(n, d)``); the Newton
        step keeps at most this many active coordinates. Default ``d``.
    homotopy : bool
        Warm-start from the homotopy path (step 1 of the module docstring);
        :func:`solvers.lasso` sets it by :func:`solvers._lasso_cd.wants_homotopy`.

    Returns
    -------
    PathResult
        Host NumPy arrays, grid in the order given.
    """
    dtype = G.dtype
    B, d, _ = G.shape
    K = alphas.shape[0]
    G, c, yy = (np.ascontiguousarray(a, dtype=dtype) for a in (G, c, yy))
    grid = np.ascontiguousarray(alphas, dtype=dtype)
    target = (tol * yy / 2).astype(dtype)
    coef = np.zeros((K, B, d), dtype=dtype)
    gap = np.zeros((K, B), dtype=dtype)
    n_iter = np.zeros((K, B), dtype=np.int64)
    rank = d if rank is None else int(rank)
    threads = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, B // MIN_INSTANCES_PER_THREAD)))
    try:
        with numba.parallel_chunksize(CHUNK):
            _paths(G, c, yy, grid, target, int(max_iter), rank, bool(homotopy), coef, gap, n_iter)
    finally:
        numba.set_num_threads(threads)
    return PathResult(coef=coef, gap=gap, n_iter=n_iter, converged=gap <= target[None, :])


@numba.njit(cache=True, parallel=True)
def _paths(G, c, yy, alphas, target, max_iter, rank, use_homotopy, coef, gap, n_iter):  # pragma: no cover - compiled
    """Every instance's path, instances in parallel; writes ``coef``, ``gap``, ``n_iter`` in place."""
    for b in numba.prange(G.shape[0]):
        _path(G[b], c[b], yy[b], alphas, target[b], max_iter, rank, use_homotopy,
              coef[:, b, :], gap[:, b], n_iter[:, b])


@numba.njit(cache=True)
def _path(G, c, yy, alphas, target, max_iter, rank, use_homotopy, coef, gap, n_iter):  # pragma: no cover - compiled
    """One instance along the grid: warm start, sweeps, gap test, Newton step (module docstring)."""
    d = c.shape[0]
    dtype = c.dtype
    inv = np.zeros(d, dtype)
    for j in range(d):
        if G[j, j] > 0:
            inv[j] = 1.0 / G[j, j]  # zero column: inv = 0 keeps w_j = 0
    w = np.zeros(d, dtype)
    w_prev = np.zeros(d, dtype)
    q = np.empty(d, dtype)
    act = np.empty(d, np.int64)  # scratch of _newton, allocated once per path
    L = np.empty((d, d), dtype)
    x = np.empty(d, dtype)
    w_new = np.empty(d, dtype)
    q_new = np.empty(d, dtype)
    exact = np.empty((alphas.shape[0], d), dtype)
    reached = homotopy_path(G, c, alphas, rank, exact) if use_homotopy else 0
    for k in range(alphas.shape[0]):
        alpha = alphas[k]
        rho = 0.0
        if k >= 2 and alphas[k - 2] != alphas[k - 1]:
            rho = min(max((alphas[k] - alphas[k - 1]) / (alphas[k - 1] - alphas[k - 2]), 0.0), 1.0)
        for j in range(d):
            now = w[j]
            w[j] = exact[k, j] if k < reached else now + rho * (now - w_prev[j])
            w_prev[j] = now
        _refresh(G, c, w, q)
        sweeps = 0
        since_refresh = 0
        while True:
            changed = _sweep(G, q, w, inv, alpha)
            sweeps += 1
            since_refresh += 1
            if since_refresh == REFRESH_EVERY:
                _refresh(G, c, w, q)
                since_refresh = 0
            g = _gap(w, q, c, yy, alpha)
            if g > target and (sweeps % POLISH_EVERY == 0 or (sweeps > 1 and not changed)):
                g = _newton(G, c, yy, alpha, w, q, g, rank, act, L, x, w_new, q_new)
            if g <= target and since_refresh > 0:  # certify with an exact gradient
                _refresh(G, c, w, q)
                since_refresh = 0
                g = _gap(w, q, c, yy, alpha)
            if g <= target or sweeps >= max_iter:
                break
        for j in range(d):
            coef[k, j] = w[j]
        gap[k] = g
        n_iter[k] = sweeps


@numba.njit(cache=True)
def _sweep(G, q, w, inv, alpha):  # pragma: no cover - compiled
    """One cyclic pass: ``w_j <- S(w_j + q_j / G_jj, alpha / G_jj)``, ``q <- q - G[:, j] delta`` if it moved.

    ``S(z, t) = sign(z) max(|z| - t, 0)`` is the soft threshold; ``G`` is
    symmetric, so its row j (contiguous) is used for column j.
    """
    d = w.shape[0]
    changed = False
    for j in range(d):
        if inv[j] == 0:
            continue
        old = w[j]
        z = old + q[j] * inv[j]
        t = alpha * inv[j]
        if z > t:
            new = z - t
        elif z < -t:
            new = z + t
        else:
            new = z - z  # 0 of the right type
        if new != old:
            delta = new - old
            w[j] = new
            for i in range(d):
                q[i] -= G[j, i] * delta
            if (new > 0) != (old > 0) or (new < 0) != (old < 0):
                changed = True
    return changed


@numba.njit(cache=True)
def _refresh(G, c, w, q):  # pragma: no cover - compiled
    """``q = c - G w`` exactly (skipping the zero entries of ``w``)."""
    d = w.shape[0]
    for i in range(d):
        q[i] = c[i]
    for j in range(d):
        if w[j] != 0:
            for i in range(d):
                q[i] -= G[j, i] * w[j]


@numba.njit(cache=True)
def _gap(w, q, c, yy, alpha):  # pragma: no cover - compiled
    """Duality gap at ``w`` with scikit-learn's dual point (as :func:`solvers._lasso_cd.duality_gap`).

    ``theta = s r / n`` with ``s = min(1, alpha / ||q||_inf)``,
    ``rr = ||r||^2 / n = yy - c.w - q.w``, ``r.y / n = yy - c.w``:

    .. math:: \\mathrm{gap} = \\tfrac12 rr (1 + s^2) + \\alpha \\|w\\|_1 - s\\, r^T y / n.
    """
    dual_norm = 0.0
    cw = 0.0
    qw = 0.0
    l1 = 0.0
    for j in range(w.shape[0]):
        dual_norm = max(dual_norm, abs(q[j]))
        cw += c[j] * w[j]
        qw += q[j] * w[j]
        l1 += abs(w[j])
    s = alpha / dual_norm if dual_norm > alpha else 1.0
    rr = yy - cw - qw
    return 0.5 * rr * (1.0 + s * s) + alpha * l1 - s * (yy - cw)


@numba.njit(cache=True)
def _newton(G, c, yy, alpha, w, q, g, rank, act, L, x, w_new, q_new):  # pragma: no cover - compiled
    """Active-set Newton step; updates ``w``, ``q`` in place where it is kept, returns the gap.

    With active set ``A = {j : w_j != 0}`` and signs ``s_A``, the Lasso
    solution with that support and those signs solves
    ``G_AA x_A = c_A - alpha s_A`` (``x = 0`` off ``A``). ``G`` has rank at
    most ``rank = min(n, d)`` and a Lasso solution at most that many
    nonzeros, so when coordinate descent carries more ``A`` is cut to the
    ``rank`` largest ``|w_j|``. The system is solved by Cholesky
    (:mod:`solvers._cholesky`); a singular ``G_AA`` skips the step. The
    candidate is kept only where its signs on ``A`` equal ``s_A`` (it is
    then the exact minimiser when the off-support KKT conditions hold too)
    and its gap is below ``g``, so the step never makes the certificate
    worse. ``act``, ``L``, ``x``, ``w_new``, ``q_new`` are scratch arrays of
    length d.
    """
    d = w.shape[0]
    m = 0
    for j in range(d):
        if w[j] != 0:
            act[m] = j
            m += 1
    if m == 0:
        return g
    while m > rank:  # drop the smallest |w_j| (plain loops: numba's sorts are slow to compile)
        low = 0
        for i in range(1, m):
            if abs(w[act[i]]) < abs(w[act[low]]):
                low = i
        for i in range(low, m - 1):
            act[i] = act[i + 1]
        m -= 1
    if not factor(G, act, m, L):
        return g
    for i in range(m):
        x[i] = c[act[i]] - alpha if w[act[i]] > 0 else c[act[i]] + alpha
    solve(L, m, x)
    w_new[:] = 0
    for i in range(m):
        if not (x[i] > 0 if w[act[i]] > 0 else x[i] < 0):
            return g  # a sign changed (or the candidate is not finite)
        w_new[act[i]] = x[i]
    _refresh(G, c, w_new, q_new)
    g_new = _gap(w_new, q_new, c, yy, alpha)
    if not g_new < g:
        return g
    w[:] = w_new
    q[:] = q_new
    return g_new


