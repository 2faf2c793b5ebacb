"""Validation of broadcastable numeric parameters for the theory functions."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_param(value: Any, name: str, *, minimum: float = 0.0, strict: bool = False,
             maximum: float | None = None) -> np.ndarray:
    """Return ``value`` as a float array after checking it is finite and in range.

    Parameters
    ----------
    value : scalar or array_like
        A parameter that broadcasts against the others.
    name : str
        Named in the ``ValueError`` raised for bad values.
    minimum : float
        Lower bound, inclusive unless ``strict``.
    strict : bool
        Require ``value > minimum`` instead of ``>=``.
    maximum : float or None
        Optional inclusive upper bound.
    """
    arr = np.asarray(value)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real numbers, got {value!r}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    bad = arr <= minimum if strict else arr < minimum
    if np.any(bad):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {value!r}")
    if maximum is not None and np.any(arr > maximum):
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return arr


def output(result: np.ndarray) -> np.ndarray | float:
    """A 0-d result as a Python float, arrays unchanged."""
    return float(result) if np.ndim(result) == 0 else result
