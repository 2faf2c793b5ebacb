"""Preprocess-then-optimize (PtO), the algorithm of Chen, Zhao & Zou (2024) as reconstructed in docs/math.md, section 2."""

from __future__ import annotations

from typing import Any

from .backend import namespace
from ._validation import check_problem
from .gradient_descent import _gd_path, gd_iterative


def preprocess(X: Any, y: Any, split: int | None = None, power: float = 2.0) -> tuple[Any, Any, Any, Any]:
    """The PtO preprocessing step.

    .. math:: r = X_{1:n_1}^T y_{1:n_1} / n_1, \\qquad D = \\mathrm{diag}(|r|^{p/2}),
              \\qquad \\tilde x_i = D x_i

    With ``p = 2`` this is ``x~ = r (.) x`` up to signs, which do not change
    the estimate ``D w~`` (GD on ``X D`` is GD on ``X`` preconditioned by
    ``D^2 = diag(|r|^p)``).

    Parameters
    ----------
    X, y : validated arrays (trials, n, d), (trials, n)
    split : int or None
        ``n_1``: r from the first ``split`` examples and GD on the rest
        (sample splitting); None uses all n examples for both.
    power : float >= 0
        Preconditioner exponent ``p``; 0 is plain GD.

    Returns
    -------
    scale : array (trials, d)    the diagonal of ``D``
    X_tilde : array (trials, m, d)   ``X D`` on the optimisation examples
    y_opt : array (trials, m)
    r : array (trials, d)
    """
    xp = namespace(X, y)
    n = X.shape[1]
    if split is not None and not (isinstance(split, int) and 1 <= split < n):
        raise ValueError(f"split must be an integer in [1, n) = [1, {n}) or None, got {split!r}")
    if not (power >= 0):
        raise ValueError(f"power must be >= 0, got {power!r}")
    n1 = n if split is None else split
    r = (xp.matrix_transpose(X[:, :n1, :]) @ y[:, :n1, None])[..., 0] / n1
    scale = xp.abs(r) ** (power / 2)
    rows = slice(None) if split is None else slice(n1, None)
    return scale, X[:, rows, :] * scale[:, None, :], y[:, rows], r


def pto(X: Any, y: Any, step_size: Any, steps: Any, split: int | None = None, power: float = 2.0) -> Any:
    """Preprocess-then-optimize, batched, closed form over the step path.

    1. preprocess: ``r = X^T y / n``, ``x~_i = r (.) x_i`` (see :func:`preprocess`);
    2. optimize: T GD steps from zero on ``(x~_i, y_i)`` with step ``eta``,
       giving ``w~_T`` (spectral closed form of :func:`solvers.gd`);
    3. the effective estimate is ``w_hat = r (.) w~_T``, so that
       ``<w~_T, x~_q> = <w_hat, x_q>``.

    Parameters
    ----------
    X : array (trials, n, d) or (n, d)
    y : array (trials, n) or (n,)
    step_size : float, array (trials,), or ``"auto"``
        ``"auto"`` is ``1 / l_max`` of the preprocessed covariance ``X~^T X~ / m``.
    steps : int or 1-D array of ints >= 0
    split : int or None
        Sample splitting, see :func:`preprocess`.
    power : float
        Preconditioner exponent p (2 = PtO, 0 = GD).

    Returns
    -------
    w : array (trials, d) for integer ``steps``; (len(steps), trials, d) for a path.
    """
    X, y, single = check_problem(X, y)
    scale, X_tilde, y_opt, _ = preprocess(X, y, split, power)
    w_tilde = _gd_path(X_tilde, y_opt, step_size, steps, single=False)
    w = w_tilde * scale
    if single:
        w = w[..., 0, :]
    return w


def pto_iterative(X: Any, y: Any, step_size: Any, steps: int, split: int | None = None,
                  power: float = 2.0) -> Any:
    """PtO with plain GD iterations (the reference for :func:`pto`)."""
    X, y, single = check_problem(X, y)
    scale, X_tilde, y_opt, _ = preprocess(X, y, split, power)
    w = gd_iterative(X_tilde, y_opt, step_size, steps) * scale
    return w[0, ...] if single else w
