"""The exact Bayes-optimal estimator (posterior mean) under the sparse prior, batched.

Written here rather than taken from a library because no library computes the
posterior mean of a mixture-over-supports prior; the enumeration is the point.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import numpy as np

from .backend import namespace
from ._engines import compiled_kernel
from ._threads import single_blas_thread
from ._validation import check_problem

#: Laws of the nonzero entries of ``w*``: ``"gaussian"`` N(0, 1/s), ``"unnormalized"`` N(0, 1),
#: ``"rademacher"`` +-1/sqrt(s) with equal probability (the sampler's laws, ``simulations.problems``).
SIGNAL_LAWS = ("gaussian", "rademacher", "unnormalized")

#: Default cap on the hypotheses enumerated per instance (supports, times 2^s sign patterns for rademacher).
MAX_HYPOTHESES = 200_000

#: Numbers held at once per block of supports (trials x supports in a block).
_BLOCK_ELEMENTS = 2**21

#: Values of the ``engine`` argument of :func:`bayes_posterior_mean`.


def bayes_hypotheses(d: int, s: int, signal: str = "gaussian") -> int:
    """Number of hypotheses :func:`bayes_posterior_mean` enumerates per instance.

    ``C(d, s)`` supports, times ``2^s`` sign patterns for the rademacher law.
    """
    if signal not in SIGNAL_LAWS:
        raise ValueError(f"signal must be one of {SIGNAL_LAWS}, got {signal!r}")
    return math.comb(d, s) * (2**s if signal == "rademacher" else 1)


@single_blas_thread
def bayes_posterior_mean(X: Any, y: Any, s: int, sigma: float, signal: str = "gaussian",
                         max_hypotheses: int = MAX_HYPOTHESES, engine: str = "auto") -> Any:
    """Posterior mean of ``w*`` under the sampler's s-sparse prior: the MMSE estimator, batched.

    The prior: a support S uniform over the ``C(d, s)`` subsets of size s, and
    on it ``w*_S`` from the signal law; ``y = X w* + sigma xi`` with
    ``xi ~ N(0, I_n)``. The posterior mean is a mixture over the supports,

    .. math:: E[w^* | X, y] = \\sum_S \\pi_S \\, m_S, \\qquad
              \\pi_S = \\frac{e^{L_S}}{\\sum_{S'} e^{L_{S'}}},

    weighted by the log-evidence ``L_S`` (computed stably, log-sum-exp).

    Gaussian laws (``gaussian``: ``w*_S ~ N(0, tau^2 I)`` with ``tau^2 = 1/s``;
    ``unnormalized``: ``tau^2 = 1``) are conjugate. With ``G = X_S^T X_S``,
    ``b = X_S^T y`` and ``M = G + (sigma^2 / tau^2) I_s``,

    .. math:: m_S = M^{-1} b, \\qquad
              L_S = \\frac{b^T M^{-1} b}{2 \\sigma^2} - \\frac12 \\log\\det M

    up to terms equal for every S (Woodbury and the matrix determinant lemma
    on ``y ~ N(0, sigma^2 I + tau^2 X_S X_S^T)``).

    ``rademacher`` (``w*_S = v / sqrt(s)``, ``v`` uniform on ``{-1, 1}^s``)
    enumerates the ``2^s`` sign patterns too: ``L_{S,v} = (w^T b - w^T G w / 2) / sigma^2``.

    Cost per instance: ``C(d, s)`` hypotheses (``C(d, s) 2^s`` for rademacher).
    On NumPy input each instance runs its enumeration in compiled code,
    instances in parallel over the cores (:mod:`solvers._bayes_kernel`; for the
    gaussian laws the Cholesky rows of a shared (s-1)-prefix are computed
    once, the last row for all its extensions at once: ``O(s^2)`` per support
    and one exponential). On other namespaces (CuPy) every support's ``s x s``
    Cholesky factorisation, ``O(s^3)``, is done as vectorised array operations
    over instances and supports (also the reference engine); memory is
    bounded by processing the supports in blocks. Both engines compute in
    the precision of ``X``.

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)
    s : int
        Sparsity, ``1 <= s <= d``.
    sigma : float
        Noise standard deviation, ``> 0``. (At ``sigma = 0`` the posterior
        concentrates on the supports whose span contains y; that limit is not
        computed, so 0 is refused.)
    signal : {"gaussian", "rademacher", "unnormalized"}
    max_hypotheses : int
        Refuse (``ValueError``) when the enumeration is larger than this;
        default :data:`MAX_HYPOTHESES` = 2e5. Raise it knowingly.
    engine : {"auto", "compiled", "array_api"}
        ``"compiled"``: the numba kernel (NumPy input only); ``"array_api"``:
        the vectorised reference engine (any namespace). ``"auto"`` takes the
        compiled one for NumPy input when numba imports, else the reference.

    Returns
    -------
    w : array (trials, d) or (d,)
        On the backend and in the precision of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import bayes_posterior_mean
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 4)); w = np.array([0.0, 1.0, 0.0, 0.0])
    >>> y = X @ w + 0.1 * rng.standard_normal(8)
    >>> np.round(bayes_posterior_mean(X, y, s=1, sigma=0.1, signal="unnormalized"), 2)
    array([0.  , 0.99, 0.  , 0.  ])
    """
    X, y, single = check_problem(X, y)
    xp = namespace(X, y)
    trials, _, d = X.shape
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 1 <= s <= d:
        raise ValueError(f"s must be an integer in [1, d] = [1, {d}], got {s!r}")
    if not (isinstance(sigma, (int, float, np.floating)) and math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    hypotheses = bayes_hypotheses(d, int(s), signal)
    if hypotheses > max_hypotheses:
        raise ValueError(f"s: the posterior enumerates {hypotheses} hypotheses at d = {d}, s = {s} "
                         f"({signal}), above max_hypotheses = {max_hypotheses}")
    compiled = compiled_kernel(engine, X, _load_kernel)
    s, sigma = int(s), float(sigma)
    tau2 = None if signal == "rademacher" else (1.0 / s if signal == "gaussian" else 1.0)
    Xt = xp.matrix_transpose(X)
    G, b = Xt @ X, (Xt @ y[..., None])[..., 0]
    if compiled is not None:
        w = compiled(G, b, s, sigma, tau2)
    else:
        w = _posterior_mean_array_api(xp, xp.reshape(G, (trials, d * d)), b, s, sigma, tau2)
    return w[0, ...] if single else w


def _load_kernel() -> Callable[..., np.ndarray]:
    from ._bayes_kernel import posterior_mean_compiled

    return posterior_mean_compiled


def _posterior_mean_array_api(xp, G, b, s: int, sigma: float, tau2: float | None):
    """The reference engine: supports in blocks, each block's Cholesky factors as arrays over (instances, supports).

    ``G`` (trials, d * d) flattened Gram matrices, ``b`` (trials, d);
    ``tau2`` None for the rademacher law. Returns (trials, d).
    """
    trials, d = b.shape
    supports = np.array(list(itertools.combinations(range(d), s)), dtype=np.int64)
    block = max(1, _BLOCK_ELEMENTS // (trials * (2**s if tau2 is None else 1)))
    total = _LogSumExpMean(xp, trials, d, b.dtype)
    for start in range(0, len(supports), block):
        S = supports[start:start + block]
        G_S = [[xp.take(G, xp.asarray(S[:, i] * d + S[:, j]), axis=1) for j in range(s)] for i in range(s)]
        b_S = [xp.take(b, xp.asarray(S[:, i]), axis=1) for i in range(s)]
        if tau2 is None:
            log_weight, mean = _rademacher_support(xp, G_S, b_S, s, sigma)
        else:
            log_weight, mean = _gaussian_support(xp, G_S, b_S, s, sigma, tau2)
        total.add(log_weight, mean, S)
    return total.value()


def _gaussian_support(xp, G_S, b_S, s, sigma, tau2):
    """Log-evidence (t, K) and posterior mean [s x (t, K)] of the conjugate model on each support."""
    ridge = sigma**2 / tau2
    M = [[G_S[i][j] + ridge if i == j else G_S[i][j] for j in range(s)] for i in range(s)]
    L, log_det = _cholesky(xp, M, s)
    z = _forward(L, b_S, s)                     # L z = b
    mean = _backward(L, z, s)                   # L^T m = z
    quad = sum(zi * zi for zi in z)             # b^T M^{-1} b
    return quad / (2 * sigma**2) - 0.5 * log_det, mean


def _rademacher_support(xp, G_S, b_S, s, sigma):
    """Per support: log-sum-exp over the 2^s sign patterns, and the posterior mean of w_S."""
    scale = 1.0 / math.sqrt(s)
    logs, values = [], []
    for signs in itertools.product((-1.0, 1.0), repeat=s):
        w = [scale * v for v in signs]
        linear = sum(w[i] * b_S[i] for i in range(s))
        quad = sum(w[i] * w[j] * G_S[i][j] for i in range(s) for j in range(s))
        logs.append((linear - 0.5 * quad) / sigma**2)
        values.append(w)
    stacked = xp.stack(logs, axis=0)            # (2^s, t, K)
    top = xp.max(stacked, axis=0)
    weights = xp.exp(stacked - top)
    norm = xp.sum(weights, axis=0)
    mean = [sum(weights[p] * values[p][i] for p in range(len(values))) / norm for i in range(s)]
    return top + xp.log(norm), mean


def _cholesky(xp, M, s):
    """Lower Cholesky factor of s x s matrices stored entry-wise as arrays, and log det."""
    L = [[None] * s for _ in range(s)]
    log_det = 0.0
    for j in range(s):
        diag = M[j][j] - sum(L[j][k] * L[j][k] for k in range(j))
        L[j][j] = xp.sqrt(diag)
        log_det = log_det + xp.log(diag)
        for i in range(j + 1, s):
            L[i][j] = (M[i][j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L, log_det


def _forward(L, b, s):
    z = []
    for i in range(s):
        z.append((b[i] - sum(L[i][k] * z[k] for k in range(i))) / L[i][i])
    return z


def _backward(L, z, s):
    m = [None] * s
    for i in reversed(range(s)):
        m[i] = (z[i] - sum(L[k][i] * m[k] for k in range(i + 1, s))) / L[i][i]
    return m


class _LogSumExpMean:
    """Running ``sum_S exp(L_S) m_S / sum_S exp(L_S)`` over blocks of supports, stable in L."""

    def __init__(self, xp, trials: int, d: int, dtype) -> None:
        self.xp, self.d = xp, d
        self.top = xp.full((trials,), -xp.inf, dtype=dtype)
        self.norm = xp.zeros((trials,), dtype=dtype)
        self.acc = xp.zeros((trials, d), dtype=dtype)

    def add(self, log_weight, mean, supports: np.ndarray) -> None:
        xp = self.xp
        top = xp.maximum(self.top, xp.max(log_weight, axis=1))
        shrink = xp.exp(self.top - top)
        weights = xp.exp(log_weight - top[:, None])                      # (t, K)
        K, s = supports.shape
        place = np.zeros((K * s, self.d))
        place[np.arange(K * s), supports.reshape(-1)] = 1.0               # (K s, d) one-hot
        weighted = xp.stack([weights * m for m in mean], axis=2)         # (t, K, s)
        self.acc = self.acc * shrink[:, None] + xp.reshape(weighted, (weighted.shape[0], K * s)) @ \
            xp.asarray(place, dtype=self.acc.dtype, device=_device(weighted))
        self.norm = self.norm * shrink + xp.sum(weights, axis=1)
        self.top = top

    def value(self):
        return self.acc / self.norm[:, None]


def _device(array):
    from array_api_compat import device

    return device(array)
