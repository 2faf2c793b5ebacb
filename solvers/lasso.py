"""Batched Lasso (scikit-learn's objective, no intercept) and its tuning helpers."""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from array_api_compat import is_cupy_array

from .backend import namespace, to_numpy
from ._engines import compiled_kernel
from ._lasso_cd import PathResult, cd_path, duality_gap, wants_homotopy
from ._threads import single_blas_thread
from ._validation import check_grid, check_problem

#: Default duality-gap tolerance by precision: in float32 a gap below ~1e-7 of
#: the objective at w = 0 is often not certifiable (rounding), see docs/lasso.md.
DEFAULT_TOL = {"float64": 1e-8, "float32": 1e-5}
DEFAULT_MAX_ITER = 100
DEFAULT_FINISH_MAX_ITER = 100_000
#: Default constant of :func:`lasso_theory_alpha`.
THEORY_C = 1.0


class LassoConvergenceWarning(UserWarning):
    """Some instance did not reach the duality-gap tolerance within ``max_iter`` sweeps."""


@dataclass(frozen=True)
class LassoInfo:
    """Convergence report of :func:`lasso` (host NumPy arrays).

    Shapes follow the estimate without its last axis: (G, trials) for a path,
    (trials,) for a scalar alpha; a single 2-D problem drops the trials axis.

    Attributes
    ----------
    converged : ndarray of bool
        ``gap <= tol * ||y||^2 / (2n)`` at the returned coefficients.
    gap : ndarray of float
        Duality gap ``P(w) - D(theta) >= P(w) - P(w_opt)`` at the returned
        coefficients, in the units of the objective.
    n_iter : ndarray of int
        Coordinate-descent sweeps (passes over all d coordinates) spent at
        that alpha, counted from its warm start.
    """

    converged: np.ndarray
    gap: np.ndarray
    n_iter: np.ndarray


def lasso(X: Any, y: Any, alpha: Any, *, tol: float | None = None, max_iter: int = DEFAULT_MAX_ITER,
          finish_max_iter: int = DEFAULT_FINISH_MAX_ITER, return_info: bool = False,
          engine: str = "auto") -> Any:
    """Lasso estimates for a batch of problems, optionally along an alpha path.

    .. math:: \\hat w_\\alpha = \\arg\\min_w \\frac{1}{2n}\\|y - Xw\\|^2 + \\alpha \\|w\\|_1

    scikit-learn's objective, so ``Lasso(alpha, fit_intercept=False)`` gives
    the same estimate; no intercept, no standardisation.

    Algorithm: cyclic coordinate descent on the Gram matrix ``G = X^T X / n``
    and ``c = X^T y / n`` (one batched matmul per instance up front). On
    NumPy input each instance runs its path in compiled code, instances in
    parallel over the cores (:mod:`solvers._lasso_kernel`); on CuPy input
    each instance runs the same algorithm in its own CUDA thread
    (:mod:`solvers._lasso_cuda`); on other array namespaces every coordinate
    step is one operation vectorised across instances
    (:mod:`solvers._lasso_cd`, also the reference). All engines stop at the
    same certificate. For small d (tens), CD on the Gram costs O(d^2) per sweep and instance and
    converges linearly to high accuracy in a few tens of sweeps, fewer than
    the hundreds of iterations (each also O(d^2)) that FISTA needs for gaps of
    1e-8 relative. A path is solved from large to small alpha, each instance
    warm-started by linear extrapolation of its last two solutions.

    A few (alpha, instance) pairs -- ill-conditioned designs, n ~ d, alpha
    far below the noise level -- need thousands of sweeps, and a vectorised
    sweep over a handful of stragglers costs as much Python overhead as one
    over thousands of instances. So the pairs still unconverged after
    ``max_iter`` batched sweeps are finished one by one by scikit-learn's
    compiled coordinate descent (``sklearn.linear_model.Lasso``, warm-started
    from our iterate, on the host), which is the right tool for a serial
    tail: batching for the bulk, the well-kept library for the tail.

    Stopping rule, per instance and alpha: the duality gap with
    scikit-learn's dual point (the residual rescaled so that
    ``||X^T theta||_inf <= alpha``) satisfies
    ``gap <= tol * ||y||^2 / (2n)``, i.e. ``tol`` times the objective at w = 0
    (scikit-learn's ``tol`` corresponds to ``tol / 2`` here). Instances that
    converged stop iterating. Since the gap bounds the suboptimality,
    ``P(w) - P(w_opt) <= tol ||y||^2 / (2n)`` at every converged entry.

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)
    alpha : float or 1-D array of floats > 0
        Penalty level(s), in any order; a 1-D array returns the path in the
        order given. For ``alpha >= lasso_alpha_max(X, y)`` the estimate is
        exactly 0. ``alpha = 0`` (least squares) is rejected: use
        :func:`solvers.ols`.
    tol : float > 0, optional
        Relative duality-gap tolerance (above). Default 1e-8 for float64
        input, 1e-5 for float32 (solved in float32, where gaps below ~1e-7
        are often not certifiable). Reachable down to about 1e-13 in float64.
    max_iter : int >= 1
        Most batched sweeps per instance and alpha before a pair is handed to
        the finishing stage.
    finish_max_iter : int >= 0
        Most scikit-learn coordinate-descent sweeps per unconverged pair (0
        disables the finishing stage). Pairs still unconverged after it keep
        their last iterate, are reported in ``info.converged`` and trigger a
        :class:`LassoConvergenceWarning` (never an exception).
    return_info : bool
        Also return a :class:`LassoInfo`.
    engine : {"auto", "compiled", "array_api"}
        ``"compiled"``: the numba kernel on NumPy input, the CUDA kernel on
        CuPy input (no other namespace); ``"array_api"``: the vectorised
        reference engine (any namespace). ``"auto"`` takes the compiled one
        for CuPy input, and for NumPy input when numba imports, else the
        reference.

    Returns
    -------
    w : array (trials, d) for a scalar ``alpha``; (len(alpha), trials, d) for
        a path; a single 2-D problem drops the trials axis. Same backend and
        dtype as ``X``.
    info : LassoInfo, only when ``return_info`` is True.
    """
    X, y, single = check_problem(X, y)
    alphas, scalar = check_grid(alpha, "alpha", minimum=0.0)
    if np.any(alphas == 0):
        raise ValueError("alpha must be > 0; alpha = 0 is least squares, use solvers.ols")
    tol = DEFAULT_TOL["float32" if X.dtype == namespace(X).float32 else "float64"] if tol is None else _check_tol(tol)
    max_iter = _check_max_iter(max_iter)
    if isinstance(finish_max_iter, bool) or not isinstance(finish_max_iter, (int, np.integer)) or finish_max_iter < 0:
        raise ValueError(f"finish_max_iter must be an integer >= 0, got {finish_max_iter!r}")
    w, info = _path(X, y, alphas, tol, max_iter, finish_max_iter, _engine(engine, X))
    if not info.converged.all():
        warnings.warn(
            f"Lasso did not converge for {int((~info.converged).sum())} of {info.converged.size} "
            f"(alpha, instance) pairs within max_iter={max_iter} sweeps (tol={tol}); "
            "see info.converged and info.gap",
            LassoConvergenceWarning,
            stacklevel=2,
        )
    if single:
        w = w[:, 0, :]
        info = LassoInfo(*(a[:, 0] for a in (info.converged, info.gap, info.n_iter)))
    if scalar:
        w = w[0, ...]
        info = LassoInfo(*(a[0] for a in (info.converged, info.gap, info.n_iter)))
    return (w, info) if return_info else w


@single_blas_thread
def _path(X: Any, y: Any, alphas: np.ndarray, tol: float, max_iter: int, finish_max_iter: int,
          solve: Callable[..., PathResult]) -> tuple[Any, LassoInfo]:
    """The path of validated problems by engine ``solve``, then the finishing stage; grid in the given order.

    Runs with one BLAS thread (:mod:`solvers._threads`); the warning about
    unconverged pairs is left to :func:`lasso`, so that it names the caller.
    """
    xp = namespace(X, y)
    n = X.shape[1]
    Xt = xp.matrix_transpose(X)
    G = Xt @ X / n
    G = (G + xp.matrix_transpose(G)) / 2  # exactly symmetric
    c = _correlation(X, y)
    yy = xp.sum(y * y, axis=1) / n

    order = np.argsort(-alphas, kind="stable")
    result = solve(G, c, yy, alphas[order], tol, max_iter, rank=min(n, X.shape[2]))
    back = np.argsort(order, kind="stable")
    w = xp.take(result.coef, xp.asarray(back), axis=0)
    info = LassoInfo(converged=result.converged[back], gap=result.gap[back], n_iter=result.n_iter[back])
    if finish_max_iter and not info.converged.all():
        w, info = _finish(X, y, G, c, yy, alphas, w, info, tol, finish_max_iter)
    return w, info


def _engine(engine: str, X: Any) -> Callable[..., PathResult]:
    """The path engine named by ``engine`` for validated input ``X`` (trials, n, d) (see :func:`lasso`)."""
    homotopy = wants_homotopy(X.shape[1], X.shape[2])
    if engine in ("auto", "compiled") and is_cupy_array(X):
        from ._lasso_cuda import cd_path_cuda

        return functools.partial(cd_path_cuda, homotopy=homotopy)

    def load() -> Callable[..., PathResult]:
        from ._lasso_kernel import cd_path_compiled

        return functools.partial(cd_path_compiled, homotopy=homotopy)

    return compiled_kernel(engine, X, load) or cd_path


def _finish(X: Any, y: Any, G: Any, c: Any, yy: Any, alphas: np.ndarray, w: Any, info: LassoInfo,
            tol: float, max_iter: int) -> tuple[Any, LassoInfo]:
    """Finish the unconverged (alpha, instance) pairs with scikit-learn, warm-started.

    scikit-learn stops when its duality gap is below ``tol_sk ||y||^2`` in its
    unnormalised objective, i.e. ``tol_sk ||y||^2 / n`` in ours: ``tol_sk = tol / 2``.
    The reported gap and flag are recomputed with our dual point. The path
    goes to the host (:func:`to_numpy`) and, when some pair was finished, comes
    back whole to the namespace of ``X`` (the array API has no scatter to
    write back only the finished pairs).
    """
    from sklearn.exceptions import ConvergenceWarning  # imported here: `import solvers` does not load scikit-learn
    from sklearn.linear_model import Lasso

    xp = namespace(X, y)
    converged, gap, n_iter = info.converged.copy(), info.gap.copy(), info.n_iter.copy()
    pairs = np.argwhere(~converged)
    X_host, y_host, w_host = to_numpy(X), to_numpy(y), to_numpy(w)
    model = Lasso(fit_intercept=False, tol=tol / 2, max_iter=max_iter, warm_start=True, selection="cyclic")
    for g, b in pairs:
        model.set_params(alpha=float(alphas[g]))
        model.coef_ = w_host[g, b].copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_host[b], y_host[b])
        w_host[g, b] = model.coef_
        n_iter[g, b] += int(model.n_iter_)
    if pairs.size:
        w = xp.asarray(w_host)
        w_new = xp.asarray(w_host[pairs[:, 0], pairs[:, 1]])
        Gb, cb, yyb = (xp.take(a, xp.asarray(pairs[:, 1]), axis=0) for a in (G, c, yy))
        q = cb - (Gb @ w_new[..., None])[..., 0]
        a = xp.asarray(alphas[pairs[:, 0]], dtype=w.dtype)
        new_gap = to_numpy(duality_gap(*(xp.permute_dims(v, (1, 0)) for v in (w_new, q, cb)), yyb, a))
        gap[pairs[:, 0], pairs[:, 1]] = new_gap
        converged[pairs[:, 0], pairs[:, 1]] = new_gap <= tol * to_numpy(yyb) / 2
    return w, LassoInfo(converged=converged, gap=gap, n_iter=n_iter)


def lasso_alpha_max(X: Any, y: Any) -> Any:
    """Smallest alpha with an all-zero Lasso solution, per instance.

    .. math:: \\alpha_{\\max} = \\|X^T y\\|_\\infty / n

    (KKT at w = 0: ``|X_j^T y / n| <= alpha`` for all j). Computed exactly as
    :func:`lasso` computes ``X^T y / n``, so ``lasso(X, y, lasso_alpha_max(X, y)[b])``
    returns exact zeros for instance b.

    Returns
    -------
    alpha_max : array (trials,), or a 0-d array for a single 2-D problem.
    """
    X, y, single = check_problem(X, y)
    xp = namespace(X, y)
    top = xp.max(xp.abs(_correlation(X, y)), axis=1)
    return top[0] if single else top


def lasso_theory_alpha(n: int, d: int, sigma: float, c: float = THEORY_C) -> float:
    """The theory penalty ``alpha = c sigma sqrt(2 log d / n)``.

    For columns with ``||x_j||^2 / n ~ 1`` the noise correlations
    ``x_j^T xi / n`` are N(0, sigma^2 / n), and their maximum over d columns
    is about ``sigma sqrt(2 log d / n)``: alpha must exceed it for the usual
    Lasso oracle inequalities (which take ``c > 1`` for a high-probability
    statement; the exact constants depend on the proof). The default
    ``c = 1`` sits at that noise level; treat c as a tuning knob and compare
    with oracle tuning rather than as a constant from a theorem.

    Parameters
    ----------
    n, d : int >= 1
    sigma : float >= 0
        Noise standard deviation.
    c : float > 0

    Returns
    -------
    alpha : float (0 when d = 1 or sigma = 0: rejected by :func:`lasso`)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be finite and >= 0, got {sigma!r}")
    if not math.isfinite(c) or c <= 0:
        raise ValueError(f"c must be finite and > 0, got {c!r}")
    return float(c * sigma * math.sqrt(2.0 * math.log(d) / n))


def _correlation(X: Any, y: Any) -> Any:
    """``X^T y / n`` (trials, d), the one formula shared by lasso and alpha_max."""
    xp = namespace(X, y)
    return (xp.matrix_transpose(X) @ y[..., None])[..., 0] / X.shape[1]


def _check_tol(tol: Any) -> float:
    try:
        value = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a positive number, got {tol!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    return value


def _check_max_iter(max_iter: Any) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    return int(max_iter)

