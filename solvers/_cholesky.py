"""Compiled Cholesky factorisation and solves of principal submatrices ``G_AA`` (small, dense, symmetric).

Used by the Lasso's compiled engine (:mod:`solvers._lasso_kernel`,
:mod:`solvers._lasso_homotopy`) inside numba code, where calling LAPACK for
matrices of a few tens of rows costs more than the arithmetic.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def factor(G, act, m, L):  # pragma: no cover - compiled
    """Cholesky ``G_AA = L L^T`` for ``A = act[:m]``; False if a pivot is not positive.

    ``L[:m, :m]`` receives the lower triangle. A pivot that is not positive
    (or not finite) means ``G_AA`` is singular to working precision, e.g.
    duplicated columns, or ``|A|`` above the rank of ``G``.
    """
    for a in range(m):
        ja = act[a]
        for b in range(a + 1):
            s = G[ja, act[b]]
            for k in range(b):
                s -= L[a, k] * L[b, k]
            if b < a:
                L[a, b] = s / L[b, b]
            elif s > 0:
                L[a, a] = np.sqrt(s)
            else:
                return False
    return True


@numba.njit(cache=True)
def solve(L, m, x):  # pragma: no cover - compiled
    """Overwrite ``x[:m]`` with ``(L L^T)^{-1} x[:m]`` (forward then backward substitution)."""
    for a in range(m):
        s = x[a]
        for k in range(a):
            s -= L[a, k] * x[k]
        x[a] = s / L[a, a]
    for a in range(m - 1, -1, -1):
        s = x[a]
        for k in range(a + 1, m):
            s -= L[k, a] * x[k]
        x[a] = s / L[a, a]
