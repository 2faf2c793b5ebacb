"""Coordinate descent for Lasso paths on the GPU: one CUDA thread per instance, the CuPy engine of :func:`solvers.lasso`.

The same algorithm, stopping rule and output as the compiled CPU engine
(:mod:`solvers._lasso_kernel`, homotopy warm starts included): for every
instance b and every alpha of a descending grid it minimises

.. math:: P_b(w) = \\tfrac12 w^T G_b w - c_b^T w + \\tfrac12\\, yy_b + \\alpha \\|w\\|_1
          = \\frac{1}{2n}\\|y_b - X_b w\\|^2 + \\alpha \\|w\\|_1

by cyclic sweeps ``w_j <- S(w_j + q_j / G_jj, alpha / G_jj)`` on the gradient
``q = c - G w``, warm-started by the homotopy path (n <= d) or by linear
extrapolation along the grid, with an active-set Newton step (Cholesky of
``G_AA``) on slow instances, and stops at ``gap <= tol * yy / 2``
(scikit-learn's dual point).

Why a hand-written kernel: the array-API engine (:mod:`solvers._lasso_cd`)
vectorises each coordinate update across instances, so a sweep costs d
rounds of small kernels and the path hundreds of host round trips; on an
H100 that ran at 36-51k instances/s at n = 64, d = 32, no faster than NumPy
on 16 cores. Here each thread runs its instance's whole path in one launch.

The C source (:data:`C_SOURCE`) is written once for both targets: CuPy
compiles it with NVRTC (``--fmad=false``, so no multiply-add is fused and
the arithmetic is the CPU engine's, operation for operation), and the tests
compile it for the host with a C compiler and compare it with the numba
engine. Arrays are batch-last, ``G[j, i, b]``, ``v[j, b]``, so the threads of a
warp read neighbouring addresses; the scratch (``w``, ``q``, the Cholesky
factor, ...) lives in device memory in the same layout, about
``(2 d^2 + 10 d) * 8`` bytes per instance in float64, and ``K d * 8`` more
for the homotopy's points on a grid of K alphas.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ._lasso_cd import MAX_KINKS_PER_COORDINATE, POLISH_EVERY, REFRESH_EVERY, PathResult

#: CUDA threads per block.
THREADS_PER_BLOCK = 128

C_SOURCE = r"""
/* One instance b of B, batch-last arrays: vectors v[j * B + b], matrices M[(j * d + i) * B + b].
   Needs `real` (float or double), LASSO_FN (the function qualifiers), REFRESH_EVERY, POLISH_EVERY and
   MAX_KINKS_PER_COORDINATE (see preamble()). */
#define V(v, j) (v)[(long long)(j) * B + b]
#define M(m, j, i) (m)[((long long)(j) * d + (i)) * B + b]

/* q = c - G w exactly, skipping the zero entries of w. */
LASSO_FN void lasso_refresh(long long b, long long B, int d, const real *G, const real *c, const real *w, real *q) {
    for (int i = 0; i < d; ++i) V(q, i) = V(c, i);
    for (int j = 0; j < d; ++j) {
        real wj = V(w, j);
        if (wj != 0)
            for (int i = 0; i < d; ++i) V(q, i) -= M(G, j, i) * wj;
    }
}

/* Duality gap at w with scikit-learn's dual point theta = s r / n, s = min(1, alpha / ||q||_inf):
   0.5 rr (1 + s^2) + alpha ||w||_1 - s (yy - c.w), rr = yy - c.w - q.w; sums in double. */
LASSO_FN double lasso_gap(long long b, long long B, int d, const real *w, const real *q, const real *c,
                          real yy, real alpha) {
    double dual_norm = 0.0, cw = 0.0, qw = 0.0, l1 = 0.0;
    for (int j = 0; j < d; ++j) {
        double aq = fabs((double)V(q, j));
        dual_norm = aq > dual_norm ? aq : dual_norm;
        cw += (double)(V(c, j) * V(w, j));
        qw += (double)(V(q, j) * V(w, j));
        l1 += fabs((double)V(w, j));
    }
    double s = dual_norm > alpha ? alpha / dual_norm : 1.0;
    double rr = yy - cw - qw;
    return 0.5 * rr * (1.0 + s * s) + alpha * l1 - s * (yy - cw);
}

/* One cyclic pass; returns whether some coordinate entered, left or flipped sign. */
LASSO_FN int lasso_sweep(long long b, long long B, int d, const real *G, real *q, real *w, const real *inv,
                         real alpha) {
    int changed = 0;
    for (int j = 0; j < d; ++j) {
        real ij = V(inv, j);
        if (ij == 0) continue;
        real old = V(w, j);
        real z = old + V(q, j) * ij;
        real t = alpha * ij;
        real now = z > t ? z - t : (z < -t ? z + t : z - z);
        if (now != old) {
            real delta = now - old;
            V(w, j) = now;
            for (int i = 0; i < d; ++i) V(q, i) -= M(G, j, i) * delta;
            if ((now > 0) != (old > 0) || (now < 0) != (old < 0)) changed = 1;
        }
    }
    return changed;
}

/* Cholesky G_AA = L L^T for A = act[:m] (lower triangle of L[:m, :m]); 0 if a pivot is not positive. */
LASSO_FN int lasso_factor(long long b, long long B, int d, const real *G, const int *act, int m, real *L) {
    for (int a = 0; a < m; ++a) {
        int ja = V(act, a);
        for (int e = 0; e <= a; ++e) {
            real s = M(G, ja, V(act, e));
            for (int k = 0; k < e; ++k) s -= M(L, a, k) * M(L, e, k);
            if (e < a) M(L, a, e) = s / M(L, e, e);
            else if (s > 0) M(L, a, a) = sqrt(s);
            else return 0;
        }
    }
    return 1;
}

/* x[:m] <- (L L^T)^{-1} x[:m]. */
LASSO_FN void lasso_solve(long long b, long long B, int d, const real *L, int m, real *x) {
    for (int a = 0; a < m; ++a) {
        real s = V(x, a);
        for (int k = 0; k < a; ++k) s -= M(L, a, k) * V(x, k);
        V(x, a) = s / M(L, a, a);
    }
    for (int a = m - 1; a >= 0; --a) {
        real s = V(x, a);
        for (int k = a + 1; k < m; ++k) s -= M(L, k, a) * V(x, k);
        V(x, a) = s / M(L, a, a);
    }
}

/* Active-set Newton step: solve G_AA x_A = c_A - alpha s_A on the support A of w (cut to the `rank` largest
   |w_j|); keep it (w, q updated) only if it keeps the signs and lowers the gap g. Returns the gap. */
LASSO_FN double lasso_newton(long long b, long long B, int d, const real *G, const real *c, real yy, real alpha,
                             real *w, real *q, double g, int rank, int *act, real *L, real *x, real *w_new,
                             real *q_new) {
    int m = 0;
    for (int j = 0; j < d; ++j)
        if (V(w, j) != 0) V(act, m++) = j;
    if (m == 0) return g;
    while (m > rank) {
        int low = 0;
        for (int i = 1; i < m; ++i)
            if (fabs((double)V(w, V(act, i))) < fabs((double)V(w, V(act, low)))) low = i;
        for (int i = low; i < m - 1; ++i) V(act, i) = V(act, i + 1);
        --m;
    }
    if (!lasso_factor(b, B, d, G, act, m, L)) return g;
    for (int i = 0; i < m; ++i) {
        int j = V(act, i);
        V(x, i) = V(w, j) > 0 ? V(c, j) - alpha : V(c, j) + alpha;
    }
    lasso_solve(b, B, d, L, m, x);
    for (int j = 0; j < d; ++j) V(w_new, j) = 0;
    for (int i = 0; i < m; ++i) {
        int j = V(act, i);
        real xi = V(x, i);
        if (!(V(w, j) > 0 ? xi > 0 : xi < 0)) return g;  /* a sign changed, or not finite */
        V(w_new, j) = xi;
    }
    lasso_refresh(b, B, d, G, c, w_new, q_new);
    double g_new = lasso_gap(b, B, d, w_new, q_new, c, yy, alpha);
    if (!(g_new < g)) return g;
    for (int j = 0; j < d; ++j) {
        V(w, j) = V(w_new, j);
        V(q, j) = V(q_new, j);
    }
    return g_new;
}

/* Lasso path at the descending grid by homotopy (the LARS-Lasso path; solvers/_lasso_homotopy.py has the math):
   rows k < count of H[(k * d + j) * B + b] receive w(alphas[k]); returns count, the grid values reached before the
   path ended or broke down. Scratch: act, sign, active (d), L (d x d), a, b_ (d). */
LASSO_FN int lasso_homotopy(long long b, long long B, int d, int K, const real *G, const real *c, const real *alphas,
                            int rank, real *H, int *act, real *sign, int *active, real *L, real *a, real *b_) {
    for (int k = 0; k < K; ++k)
        for (int j = 0; j < d; ++j) H[((long long)k * d + j) * B + b] = 0;
    double top = 0.0;
    int first = -1;
    for (int j = 0; j < d; ++j) {
        double cj = fabs((double)V(c, j));
        if (cj > top) {
            top = cj;
            first = j;
        }
    }
    int k = 0;
    while (k < K && alphas[k] >= top) ++k;  /* w = 0 at and above alpha_max */
    if (first < 0) return K;  /* c = 0: w = 0 for every alpha */
    for (int j = 0; j < d; ++j) V(active, j) = 0;
    V(act, 0) = first;
    V(sign, 0) = V(c, first) > 0 ? 1 : -1;
    V(active, first) = 1;
    int m = 1;
    double current = top;
    int joined = first, left = -1;  /* the coordinates that entered / left at `current` */
    for (int kink = 0; kink < MAX_KINKS_PER_COORDINATE * d; ++kink) {
        if (k == K) break;
        if (!lasso_factor(b, B, d, G, act, m, L)) return k;
        for (int i = 0; i < m; ++i) {
            V(a, i) = V(c, V(act, i));
            V(b_, i) = V(sign, i);
        }
        lasso_solve(b, B, d, L, m, a);
        lasso_solve(b, B, d, L, m, b_);
        double nxt = 0.0, new_sign = 0.0;
        int event = -1, joins = 0;  /* event: index into act (leave) or coordinate (join) */
        for (int i = 0; i < m; ++i) {
            if (V(act, i) != joined && V(b_, i) != 0) {
                double t = (double)(V(a, i) / V(b_, i));
                if (nxt < t && t < current) {
                    nxt = t;
                    event = i;
                    joins = 0;
                }
            }
        }
        for (int j = 0; j < d; ++j) {
            if (V(active, j) || j == left) continue;
            real u = V(c, j);
            double v = 0.0;
            for (int i = 0; i < m; ++i) {
                u -= M(G, j, V(act, i)) * V(a, i);
                v += (double)(M(G, j, V(act, i)) * V(b_, i));
            }
            for (int side = 0; side < 2; ++side) {  /* u + t v = s t */
                double s = side == 0 ? 1.0 : -1.0;
                if (s - v != 0) {
                    double t = u / (s - v);
                    if (nxt < t && t < current) {
                        nxt = t;
                        event = j;
                        joins = 1;
                        new_sign = s;
                    }
                }
            }
        }
        while (k < K && alphas[k] >= nxt) {
            for (int i = 0; i < m; ++i) H[((long long)k * d + V(act, i)) * B + b] = V(a, i) - alphas[k] * V(b_, i);
            ++k;
        }
        if (event < 0 || (joins && m == rank)) break;
        current = nxt;
        if (joins) {
            V(act, m) = event;
            V(sign, m) = (real)new_sign;
            V(active, event) = 1;
            ++m;
            joined = event;
            left = -1;
        } else {
            left = V(act, event);
            joined = -1;
            V(active, left) = 0;
            for (int i = event; i < m - 1; ++i) {
                V(act, i) = V(act, i + 1);
                V(sign, i) = V(sign, i + 1);
            }
            --m;
        }
    }
    return k;
}

/* Instance b's whole path: coef[(k * d + j) * B + b], gap[k * B + b], n_iter[k * B + b]. */
LASSO_FN void lasso_path(long long b, long long B, int d, int K, const real *G, const real *c, const real *yy_all,
                         const real *alphas, const real *target_all, int max_iter, int rank, int use_homotopy,
                         real *coef, real *gap, long long *n_iter, real *w, real *w_prev, real *q, real *inv,
                         int *act, real *L, real *x, real *w_new, real *q_new, real *exact, real *sign, int *active) {
    real yy = yy_all[b], target = target_all[b];
    for (int j = 0; j < d; ++j) {
        real gjj = M(G, j, j);
        V(inv, j) = gjj > 0 ? 1 / gjj : 0;  /* a zero column keeps w_j = 0 */
        V(w, j) = 0;
        V(w_prev, j) = 0;
    }
    /* the homotopy is done before the sweeps start, so it borrows the Newton step's scratch */
    int reached = use_homotopy ? lasso_homotopy(b, B, d, K, G, c, alphas, rank, exact, act, sign, active, L, x, w_new)
                               : 0;
    for (int k = 0; k < K; ++k) {
        real alpha = alphas[k];
        double rho = 0.0;
        if (k >= 2 && alphas[k - 2] != alphas[k - 1]) {
            rho = (double)((alphas[k] - alphas[k - 1]) / (alphas[k - 1] - alphas[k - 2]));
            rho = rho < 0.0 ? 0.0 : (rho > 1.0 ? 1.0 : rho);
        }
        for (int j = 0; j < d; ++j) {
            real now = V(w, j);
            V(w, j) = k < reached ? exact[((long long)k * d + j) * B + b] : (real)(now + rho * (now - V(w_prev, j)));
            V(w_prev, j) = now;
        }
        lasso_refresh(b, B, d, G, c, w, q);
        int sweeps = 0, since_refresh = 0;
        double g;
        for (;;) {
            int changed = lasso_sweep(b, B, d, G, q, w, inv, alpha);
            ++sweeps;
            if (++since_refresh == REFRESH_EVERY) {
                lasso_refresh(b, B, d, G, c, w, q);
                since_refresh = 0;
            }
            g = lasso_gap(b, B, d, w, q, c, yy, alpha);
            if (g > target && (sweeps % POLISH_EVERY == 0 || (sweeps > 1 && !changed)))
                g = lasso_newton(b, B, d, G, c, yy, alpha, w, q, g, rank, act, L, x, w_new, q_new);
            if (g <= target && since_refresh > 0) {  /* certify with an exact gradient */
                lasso_refresh(b, B, d, G, c, w, q);
                since_refresh = 0;
                g = lasso_gap(b, B, d, w, q, c, yy, alpha);
            }
            if (g <= target || sweeps >= max_iter) break;
        }
        for (int j = 0; j < d; ++j) coef[((long long)k * d + j) * B + b] = V(w, j);
        gap[(long long)k * B + b] = (real)g;
        n_iter[(long long)k * B + b] = sweeps;
    }
}
#undef V
#undef M
"""

_KERNEL = r"""
extern "C" __global__ void lasso_paths(long long B, int d, int K, const real *G, const real *c, const real *yy,
                                       const real *alphas, const real *target, int max_iter, int rank,
                                       int use_homotopy, real *coef, real *gap, long long *n_iter, real *w,
                                       real *w_prev, real *q, real *inv, int *act, real *L, real *x, real *w_new,
                                       real *q_new, real *exact, real *sign, int *active) {
    long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (b < B)
        lasso_path(b, B, d, K, G, c, yy, alphas, target, max_iter, rank, use_homotopy, coef, gap, n_iter, w, w_prev,
                   q, inv, act, L, x, w_new, q_new, exact, sign, active);
}
"""


def preamble(real: str) -> str:
    """The definitions :data:`C_SOURCE` needs, for ``real`` = ``"double"`` or ``"float"`` (host or device)."""
    return (f"typedef {real} real;\n#define REFRESH_EVERY {REFRESH_EVERY}\n#define POLISH_EVERY {POLISH_EVERY}\n"
            f"#define MAX_KINKS_PER_COORDINATE {MAX_KINKS_PER_COORDINATE}\n")


@functools.lru_cache(maxsize=None)
def _kernel(real: str) -> Any:
    """The compiled kernel for ``real`` (NVRTC, once per process; CuPy caches the binary on disk)."""
    import cupy

    source = preamble(real) + "#define LASSO_FN __device__\n" + C_SOURCE + _KERNEL
    return cupy.RawKernel(source, "lasso_paths", options=("--fmad=false",))


def cd_path_cuda(G: Any, c: Any, yy: Any, alphas: np.ndarray, tol: float, max_iter: int,
                 rank: int | None = None, homotopy: bool = False) -> PathResult:
    """Solve the Lasso for every instance along a descending alpha grid, one CUDA thread per instance.

    Parameters
    ----------
    G : cupy.ndarray (B, d, d)
        Symmetric Gram matrices ``X^T X / n``, float32 or float64.
    c : cupy.ndarray (B, d)
        ``X^T y / n``, same dtype.
    yy : cupy.ndarray (B,)
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
        Warm-start from the homotopy path, as the compiled engine does;
        :func:`solvers.lasso` sets it by :func:`solvers._lasso_cd.wants_homotopy`.

    Returns
    -------
    PathResult
        ``coef`` on the device (K, B, d); ``gap``, ``n_iter``, ``converged``
        on the host (K, B).
    """
    import cupy

    dtype = G.dtype
    B, d, _ = G.shape
    K = alphas.shape[0]
    real = {np.dtype(np.float64): "double", np.dtype(np.float32): "float"}[np.dtype(dtype)]
    Gt = cupy.ascontiguousarray(cupy.moveaxis(G, 0, -1))
    ct = cupy.ascontiguousarray(c.T)
    yy = cupy.ascontiguousarray(yy, dtype=dtype)
    target = (tol * yy / 2).astype(dtype)
    grid = cupy.asarray(alphas, dtype=dtype)
    coef = cupy.empty((K, d, B), dtype=dtype)
    gap = cupy.empty((K, B), dtype=dtype)
    n_iter = cupy.empty((K, B), dtype=cupy.int64)
    w, w_prev, q, inv, x, w_new, q_new = (cupy.empty((d, B), dtype=dtype) for _ in range(7))
    act, active = (cupy.empty((d, B), dtype=cupy.int32) for _ in range(2))
    L = cupy.empty((d, d, B), dtype=dtype)
    if homotopy:
        exact, sign = cupy.empty((K, d, B), dtype=dtype), cupy.empty((d, B), dtype=dtype)
    else:  # not read by the kernel
        exact = sign = w
    blocks = (B + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    _kernel(real)((blocks,), (THREADS_PER_BLOCK,),
                  (np.int64(B), np.int32(d), np.int32(K), Gt, ct, yy, grid, target, np.int32(max_iter),
                   np.int32(d if rank is None else rank), np.int32(homotopy), coef, gap, n_iter, w, w_prev, q, inv,
                   act, L, x, w_new, q_new, exact, sign, active))
    gap_host = cupy.asnumpy(gap)
    return PathResult(coef=cupy.ascontiguousarray(coef.transpose(0, 2, 1)), gap=gap_host,
                      n_iter=cupy.asnumpy(n_iter), converged=gap_host <= cupy.asnumpy(target)[None, :])
