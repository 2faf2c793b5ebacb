"""Input validation shared by the solvers.

Every check raises ``ValueError`` (or ``TypeError``) whose message names the
offending parameter, in the manner of scikit-learn's ``check_array``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj

from .backend import namespace

#: The largest integer hyperparameter (a step count): above 2**53 floats are not exact integers, and
#: converting 1e30 to int64 would overflow.
MAX_INTEGER = 2**53


def check_problem(X: Any, y: Any) -> tuple[Any, Any, bool]:
    """Validate a batch of regression problems.

    Parameters
    ----------
    X : array of shape (trials, n, d) or (n, d)
        Designs. A 2-D array is one problem.
    y : array of shape (trials, n) or (n,)
        Responses.

    Returns
    -------
    X, y : arrays of shape (trials, n, d) and (trials, n), floating point
    single : bool
        True when a single 2-D problem was given (callers drop the batch axis).
    """
    if not is_array_api_obj(X):
        X = np.asarray(X)
    if not is_array_api_obj(y):
        y = np.asarray(y)
    xp = namespace(X, y)
    if X.ndim not in (2, 3):
        raise ValueError(f"X must have shape (trials, n, d) or (n, d), got shape {tuple(X.shape)}")
    single = X.ndim == 2
    if single:
        X, y = X[None, ...], y[None, ...]
    if y.ndim != 2 or tuple(y.shape) != tuple(X.shape[:2]):
        raise ValueError(
            f"y must have shape (trials, n) = {tuple(X.shape[:2])} to match X, got {tuple(y.shape)}"
        )
    if X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"X needs n >= 1 samples and d >= 1 features, got shape {tuple(X.shape)}")
    X = _as_float(X, "X", xp)
    y = _as_float(y, "y", xp)
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError("X contains NaN or infinity")
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError("y contains NaN or infinity")
    return X, y, single


def _as_float(a: Any, name: str, xp: Any) -> Any:
    if xp.isdtype(a.dtype, "real floating"):
        return a
    if xp.isdtype(a.dtype, ("integral", "bool")):
        return xp.astype(a, xp.float64)
    raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")


def check_grid(values: Any, name: str, *, minimum: float = 0.0, strict: bool = False,
               integer: bool = False) -> tuple[np.ndarray, bool]:
    """Validate a scalar-or-1-D hyperparameter on the host.

    Returns
    -------
    grid : ndarray of shape (G,)
    scalar : bool
        True when a scalar was given (callers drop the path axis).
    """
    arr = np.asarray(values.get() if hasattr(values, "get") else values)
    scalar = arr.ndim == 0
    grid = arr.reshape(-1)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if grid.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.issubdtype(grid.dtype, np.number) or np.iscomplexobj(grid):
        raise TypeError(f"{name} must be real numbers, got dtype {grid.dtype}")
    if not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} must be finite, got {values!r}")
    if integer and not np.all(grid == np.round(grid)):
        raise ValueError(f"{name} must be whole numbers, got {values!r}")
    if integer and np.any(np.abs(grid) > MAX_INTEGER):
        raise ValueError(f"{name} must be at most 2**53 = {MAX_INTEGER} in size (exact integers), got {values!r}")
    bad = grid <= minimum if strict else grid < minimum
    if np.any(bad):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {values!r}")
    return (grid.astype(np.int64) if integer else grid.astype(np.float64)), scalar


def check_step_size(step_size: Any, trials: int) -> np.ndarray:
    """Validate a step size: a positive scalar or one positive value per instance.

    Returns an array broadcastable against (trials,).
    """
    arr = np.asarray(step_size.get() if hasattr(step_size, "get") else step_size, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != trials):
        raise ValueError(
            f"step_size must be a scalar or have shape (trials,) = ({trials},), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"step_size must be finite and > 0, got {step_size!r}")
    return arr
