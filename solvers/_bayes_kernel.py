"""Compiled enumeration of the posterior mean over supports: the CPU engine of :func:`solvers.bayes_posterior_mean`.

Same sums as the array-API engine in :mod:`solvers.bayes`, which stays the
reference and the route for CuPy. From the Gram matrix ``G = X^T X`` and
``b = X^T y`` of an instance, every support S of size s contributes a
log-weight ``L_S`` and a mean ``m_S`` (on the coordinates of S), and

.. math:: \\hat w = \\frac{\\sum_S e^{L_S - T} m_S}{\\sum_S e^{L_S - T}}

for a running shift ``T`` (below) that keeps the exponentials finite.

Gaussian laws (:func:`_gaussian_one`). ``M = G_SS + r I_s`` with
``r = \\sigma^2/\\tau^2``, Cholesky ``M = L L^T``, ``z = L^{-1} b_S``:

.. math:: m_S = L^{-T} z, \\qquad
          L_S = \\frac{z^T z}{2\\sigma^2} - \\frac12 \\sum_{i<s} \\log L_{ii}^2 .

The supports are enumerated as a prefix ``P`` (the s - 1 smallest indices)
and a last index ``j > max P``, in lexicographic order. The rows of ``L`` and
``z`` that belong to ``P`` are computed once per prefix, and only from the
first position where it differs from the previous prefix (consecutive
prefixes share all but the last few indices). For each ``j`` the last row is

.. math:: c_q = \\Big(G_{P_q j} - \\sum_{t<q} L_{qt} c_t\\Big) / L_{qq}, \\qquad
          D = G_{jj} + r - c^T c, \\qquad
          z_j = (b_j - c^T z_P) / \\sqrt D,

so that ``L_S = a - \\frac12 \\log D`` with
``a = (z_P^T z_P + z_j^2) / (2\\sigma^2) - \\frac12 \\log\\det M_P`` and the weight
is ``e^{L_S - T} = e^{a - T} / \\sqrt D``: one exponential, one square root
and no logarithm per support. The back substitution is summed over ``j``
before it is done: the mean's last entry is
``m_j = z_j / \\sqrt D = (b_j - c^T z_P) / D`` and its prefix part
``L_P^{-T}(z_P - m_j c)``, so with weights ``\\omega_j``

.. math:: \\sum_j \\omega_j m_{S,P} = L_P^{-T}\\Big(\\big(\\textstyle\\sum_j \\omega_j\\big) z_P
          - \\sum_j \\omega_j m_j c\\Big),

one triangular solve per prefix instead of one per support.

The shift ``T`` starts at the first ``L_S``. A support with ``a - T`` below
:func:`_cutoff` (where ``e^{a - T}`` is exactly 0 in the working precision)
is skipped, which changes no sum (it would add exact zeros) and saves its
exponential and its share of the back substitution; once n is large most
supports lie there. ``\\log D`` is taken only when ``a > T``; if then
``L_S > T``, ``T`` moves up to ``L_S`` and the running sums are rescaled by
``e^{T_{old} - T}``. ``T`` is a shift, not necessarily the largest ``L_S``
(``L_S > a`` where ``D < 1``), but every weight stays finite: it is at most
``\\max(1, 1/\\sqrt D)``, and ``D \\ge r`` (a Schur complement of
``M \\succeq r I``).

Rademacher law (:func:`_rademacher_one`), ``w = v / \\sqrt s`` over the
``2^s`` sign patterns ``v``, grouped per support as the reference groups them:
``l_v = (w^T b_S - w^T G_SS w / 2) / \\sigma^2``,
``L_S = t + \\log \\sum_v e^{l_v - t}`` (``t = \\max_v l_v``),
``m_S = \\sum_v e^{l_v - t} w / \\sum_v e^{l_v - t}``; a pattern and its
negation share the quadratic term, so it is computed once per pair. ``T``
moves to every new largest ``L_S``; exponentials below the cutoff are
skipped as above.

Why compiled: the reference does every ``s x s`` factorisation as
elementwise operations on (instances x supports) arrays, memory-bound on
large temporaries. Here each instance runs its enumeration in a compiled
loop over a few length-s scratch arrays (``parallel=True``: instances spread
evenly over the cores with ``prange``, as they cost about the same;
``cache=True``: compiled once per machine, then loaded from
``__pycache__``). Results do not depend on the number of threads (one
instance, one thread). The kernels
follow NumPy's floating-point rules (``error_model="numpy"``): a Cholesky
pivot that is not positive gives NaN, as in the reference, rather than an
exception.

Precision: every quantity is computed in the precision of the inputs
(float32 or float64): the constants are passed in that type and the scratch
arrays have it.
"""

from __future__ import annotations

import itertools

import numba
import numpy as np

def posterior_mean_compiled(G: np.ndarray, b: np.ndarray, s: int, sigma: float, tau2: float | None) -> np.ndarray:
    """Posterior mean for every instance from its Gram matrix (NumPy arrays, compiled).

    Parameters
    ----------
    G : ndarray (trials, d, d)
        ``X^T X`` per instance, symmetric, float32 or float64.
    b : ndarray (trials, d)
        ``X^T y``, same dtype.
    s : int
        Support size, ``1 <= s <= d``.
    sigma : float
        Noise standard deviation, > 0.
    tau2 : float or None
        Prior variance ``tau^2`` of the nonzero entries (gaussian laws), or
        None for the rademacher law (entries ``+-1/sqrt(s)``).

    Returns
    -------
    ndarray (trials, d)
        Same dtype as ``G``.
    """
    dtype = G.dtype.type
    G = np.ascontiguousarray(G)
    b = np.ascontiguousarray(b, dtype=G.dtype)
    d = G.shape[-1]
    out = np.empty(b.shape, dtype=G.dtype)
    if tau2 is None:
        supports = np.array(list(itertools.combinations(range(d), s)), dtype=np.int64)
        _rademacher(G, b, supports, dtype(1 / np.sqrt(s)), dtype(sigma**2), dtype(0.5), _cutoff(dtype), out)
    else:
        # the (s - 1)-subsets whose largest index leaves room for a last one, in lexicographic order
        combos = list(itertools.combinations(range(d - 1), s - 1))
        prefixes = np.array(combos, dtype=np.int64).reshape(len(combos), s - 1)
        _gaussian(G, b, prefixes, (0,) * (s - 1), dtype(sigma**2 / tau2), dtype(2 * sigma**2), dtype(0.5),
                  _cutoff(dtype), out)
    return out


def _cutoff(dtype: type[np.floating]) -> np.floating:
    """An exponent below which ``exp`` is exactly 0 in ``dtype``: log of its smallest subnormal, minus 1."""
    return dtype(np.log(np.finfo(dtype).smallest_subnormal) - 1)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _gaussian(G, b, prefixes, rank, ridge, two_var, half, cutoff, out):  # pragma: no cover - compiled
    """Every instance under a gaussian law, instances in parallel; writes ``out``.

    ``rank`` is a tuple of s - 1 zeros: numba types a tuple with its length, so
    ``len(rank)`` is a compile-time constant, one specialisation is compiled
    (and cached) per s, and the loops over a prefix have constant trip counts.
    """
    for t in numba.prange(G.shape[0]):
        _gaussian_one(G[t], b[t], prefixes, rank, ridge, two_var, half, cutoff, out[t])


@numba.njit(cache=True, error_model="numpy")
def _gaussian_one(G, b, prefixes, rank, ridge, two_var, half, cutoff, out):  # pragma: no cover - compiled
    """One instance, gaussian law: prefix rows of the Cholesky factor, then every last index (module docstring)."""
    d = b.shape[0]
    n_prefix = prefixes.shape[0]
    r = len(rank)                        # s - 1, a constant of the compiled code
    dtype = b.dtype
    zero = ridge - ridge
    one = half + half
    inv_two_var = one / two_var
    L = np.zeros((r, r), dtype)          # prefix rows of the Cholesky factor
    inv = np.empty(r, dtype)             # 1 / L_qq
    z = np.empty(r, dtype)               # prefix part of L^{-1} b_S
    log_det = np.zeros(r + 1, dtype)     # log det of the leading i x i block of M_P, i = 0..r
    quad = np.zeros(r + 1, dtype)        # sum of the first i z_q^2
    c = np.empty(r, dtype)               # last row of L (one j)
    vc = np.empty(r, dtype)              # sum_j weight_j m_j c(j) over the current prefix
    m = np.empty(r, dtype)
    top = zero
    norm = zero
    out[:] = 0
    for k in range(n_prefix):
        first = 0
        if k > 0:
            while prefixes[k - 1, first] == prefixes[k, first]:
                first += 1
        for i in range(first, r):
            pi = prefixes[k, i]
            for q in range(i):
                acc = zero
                for t in range(q):
                    acc += L[i, t] * L[q, t]
                L[i, q] = (G[pi, prefixes[k, q]] - acc) * inv[q]
            acc = zero
            for q in range(i):
                acc += L[i, q] * L[i, q]
            pivot = (G[pi, pi] + ridge) - acc
            L[i, i] = np.sqrt(pivot)
            inv[i] = one / L[i, i]
            log_det[i + 1] = log_det[i] + np.log(pivot)
            acc = zero
            for q in range(i):
                acc += L[i, q] * z[q]
            z[i] = (b[pi] - acc) * inv[i]
            quad[i + 1] = quad[i] + z[i] * z[i]
        base = quad[r] * inv_two_var - half * log_det[r]
        vc[:] = 0
        total = zero                     # sum_j weight_j over the current prefix
        lo = prefixes[k, r - 1] + 1 if r > 0 else 0
        for j in range(lo, d):
            diag = G[j, j] + ridge
            residual = b[j]              # b_j - c^T z_P = sqrt(D) z_j
            for q in range(r):
                acc = G[prefixes[k, q], j]
                for t in range(q):
                    acc -= L[q, t] * c[t]
                c[q] = acc * inv[q]
                diag -= c[q] * c[q]
                residual -= c[q] * z[q]
            m_last = residual / diag
            a = base + residual * m_last * inv_two_var
            if k == 0 and j == lo:
                top = a - half * np.log(diag)
            elif diag > 0 and a - top < cutoff:
                continue
            elif a > top:
                value = a - half * np.log(diag)
                if value > top:
                    shrink = np.exp(top - value)
                    norm *= shrink
                    total *= shrink
                    for q in range(r):
                        vc[q] *= shrink
                    for q in range(d):
                        out[q] *= shrink
                    top = value
            weight = np.exp(a - top) / np.sqrt(diag)
            total += weight
            weighted = weight * m_last
            out[j] += weighted
            for q in range(r):
                vc[q] += weighted * c[q]
        norm += total
        for i in range(r - 1, -1, -1):
            acc = total * z[i] - vc[i]
            for q in range(i + 1, r):
                acc -= L[q, i] * m[q]
            m[i] = acc * inv[i]
            out[prefixes[k, i]] += m[i]
    for j in range(d):
        out[j] /= norm


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _rademacher(G, b, supports, scale, var, half, cutoff, out):  # pragma: no cover - compiled
    """Every instance under the rademacher law, instances in parallel; writes ``out``."""
    for t in numba.prange(G.shape[0]):
        _rademacher_one(G[t], b[t], supports, scale, var, half, cutoff, out[t])


@numba.njit(cache=True, error_model="numpy")
def _rademacher_one(G, b, supports, scale, var, half, cutoff, out):  # pragma: no cover - compiled
    """One instance, rademacher law: per support, the 2^s sign patterns in pairs (module docstring)."""
    K, s = supports.shape
    dtype = b.dtype
    zero = scale - scale
    pairs = 1 << (s - 1)
    logs = np.empty(2 * pairs, dtype)
    w = np.empty(s, dtype)
    mean = np.empty(s, dtype)
    top = zero
    norm = zero
    out[:] = 0
    for k in range(K):
        # pattern p has v_i = +1 where bit s-1-i of p is set (the order of itertools.product);
        # its negation is pattern 2^s - 1 - p
        for p in range(pairs):
            for i in range(s):
                w[i] = scale if (p >> (s - 1 - i)) & 1 else -scale
            linear = zero
            quadratic = zero
            for i in range(s):
                si = supports[k, i]
                linear += w[i] * b[si]
                for j in range(s):
                    quadratic += w[i] * w[j] * G[si, supports[k, j]]
            logs[p] = (linear - half * quadratic) / var
            logs[2 * pairs - 1 - p] = (-linear - half * quadratic) / var
        local_top = logs[0]
        for p in range(1, 2 * pairs):
            local_top = max(local_top, logs[p])
        local_norm = zero
        mean[:] = 0
        for p in range(2 * pairs):
            if logs[p] - local_top < cutoff:
                continue
            e = np.exp(logs[p] - local_top)
            local_norm += e
            for i in range(s):
                mean[i] += e * (scale if (p >> (s - 1 - i)) & 1 else -scale)
        log_weight = local_top + np.log(local_norm)
        if k == 0:
            top = log_weight
        elif log_weight - top < cutoff:
            continue
        elif log_weight > top:
            shrink = np.exp(top - log_weight)
            norm *= shrink
            for j in range(out.shape[0]):
                out[j] *= shrink
            top = log_weight
        e = np.exp(log_weight - top)
        norm += e
        for i in range(s):
            out[supports[k, i]] += e * (mean[i] / local_norm)
    for j in range(out.shape[0]):
        out[j] /= norm
