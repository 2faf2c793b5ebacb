"""Compiled Lasso homotopy (the LARS-Lasso path): exact warm starts for the compiled engine.

The Lasso solution ``w(alpha)`` of ``w^T G w / 2 - c^T w + alpha ||w||_1``
is piecewise linear in alpha (Osborne, Presnell and Turlach 2000; Efron,
Hastie, Johnstone and Tibshirani 2004). On a segment with active set ``A``
and signs ``s_A``,

.. math:: w_A(\\alpha) = a - \\alpha b, \\qquad G_{AA} a = c_A, \\quad G_{AA} b = s_A,

``w = 0`` off ``A``, and the gradient of an inactive coordinate is affine,
``q_j(alpha) = c_j - G_{jA} w_A(alpha) = u_j + alpha v_j`` with
``u_j = c_j - G_{jA} a``, ``v_j = G_{jA} b``. Going down from
``alpha_max = ||c||_inf`` the segment ends at the largest ``alpha`` below the
current one where an active coordinate reaches zero (``alpha = a_i / b_i``:
it leaves) or an inactive one reaches the bound (``u_j + alpha v_j = ±alpha``:
it joins with that sign). Each kink costs one Cholesky factorisation of
``G_AA`` and O(d |A|); the grid values on a segment are read off the line.

Why: for n < d, at small alpha coordinate descent needs hundreds to
thousands of sweeps per alpha on a few instances (the solution nears an
interpolant, ``G_AA`` is ill-conditioned), which dominates its cost; the
homotopy reaches every grid value in a number of kinks of the order of d.
The points are exact up to rounding and are used as warm starts: the
coordinate-descent engine still certifies each one with its duality gap,
so a rounding error or a degenerate kink (two coordinates at once,
``|A|`` at the rank of ``G``) costs sweeps, never accuracy. The homotopy
stops at the first such breakdown and the remaining grid values get the
ordinary warm start.
"""

from __future__ import annotations

import numba
import numpy as np

from ._cholesky import factor, solve
from ._lasso_cd import MAX_KINKS_PER_COORDINATE


@numba.njit(cache=True)
def homotopy_path(G, c, alphas, rank, H):  # pragma: no cover - compiled
    """Lasso path at the descending grid ``alphas`` by homotopy, written to ``H`` (K, d).

    Parameters
    ----------
    G : ndarray (d, d)
        Symmetric Gram matrix.
    c : ndarray (d,)
    alphas : ndarray (K,)
        Positive, non-increasing.
    rank : int
        Upper bound on the rank of ``G``: no more than this many coordinates
        are active.
    H : ndarray (K, d)
        Output; rows ``k < count`` hold ``w(alphas[k])``.

    Returns
    -------
    count : int
        Number of grid values reached before the path ended or broke down.
    """
    d = c.shape[0]
    K = alphas.shape[0]
    H[:, :] = 0
    top = 0.0
    first = -1
    for j in range(d):
        if abs(c[j]) > top:
            top = abs(c[j])
            first = j
    k = 0
    while k < K and alphas[k] >= top:  # w = 0 at and above alpha_max
        k += 1
    if first < 0:
        return K  # c = 0: w = 0 for every alpha
    act = np.empty(d, np.int64)
    sign = np.empty(d, c.dtype)
    active = np.zeros(d, np.bool_)
    L = np.empty((d, d), c.dtype)
    a = np.empty(d, c.dtype)
    b = np.empty(d, c.dtype)
    act[0] = first
    sign[0] = 1.0 if c[first] > 0 else -1.0
    active[first] = True
    m = 1
    current = top
    joined = first  # the coordinate that entered at ``current``: its own kink is not a leave event
    left = -1  # the coordinate that left at ``current``: its own kink is not a join event
    for _ in range(MAX_KINKS_PER_COORDINATE * d):
        if k == K:
            break
        if not factor(G, act, m, L):
            return k
        for i in range(m):
            a[i] = c[act[i]]
            b[i] = sign[i]
        solve(L, m, a)
        solve(L, m, b)
        nxt = 0.0
        event = -1  # index into act (leave) or coordinate (join)
        joins = False
        new_sign = 0.0
        for i in range(m):
            if act[i] != joined and b[i] != 0:
                t = a[i] / b[i]
                if nxt < t < current:
                    nxt, event, joins = t, i, False
        for j in range(d):
            if active[j] or j == left:
                continue
            u = c[j]
            v = 0.0
            for i in range(m):
                u -= G[j, act[i]] * a[i]
                v += G[j, act[i]] * b[i]
            for s in (1.0, -1.0):  # u + t v = s t
                if s - v != 0:
                    t = u / (s - v)
                    if nxt < t < current:
                        nxt, event, joins, new_sign = t, j, True, s
        while k < K and alphas[k] >= nxt:
            for i in range(m):
                H[k, act[i]] = a[i] - alphas[k] * b[i]
            k += 1
        if event < 0 or (joins and m == rank):
            break
        current = nxt
        if joins:
            act[m] = event
            sign[m] = new_sign
            active[event] = True
            m += 1
            joined, left = event, -1
        else:
            left, joined = act[event], -1
            active[left] = False
            for i in range(event, m - 1):
                act[i] = act[i + 1]
                sign[i] = sign[i + 1]
            m -= 1
    return k
