"""Choosing between a compiled (numba) kernel and the array-API reference code of a solver.

``engine="auto"`` runs the compiled kernel on NumPy input and the array-API
code on anything else (CuPy, ``array_api_strict``), and falls back to the
array-API code when numba cannot be imported; ``"compiled"`` insists on the
kernel (NumPy input only); ``"array_api"`` always runs the reference code.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import numpy as np

ENGINES = ("auto", "compiled", "array_api")

Kernel = TypeVar("Kernel")


def compiled_kernel(engine: str, X: Any, load: Callable[[], Kernel]) -> Kernel | None:
    """The compiled kernel that ``load()`` imports if ``engine`` runs it for input ``X``, else None.

    Raises ``ValueError`` for an unknown engine or ``"compiled"`` on non-NumPy
    input, and ``ImportError`` for ``"compiled"`` without numba.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    numpy_input = isinstance(X, np.ndarray)
    if engine == "compiled" and not numpy_input:
        raise ValueError(f"engine='compiled' needs NumPy arrays, got {type(X).__module__}.{type(X).__name__}")
    if engine == "array_api" or not numpy_input:
        return None
    try:
        return load()
    except ImportError:  # numba missing (e.g. a machine without network): the reference engine
        if engine == "compiled":
            raise
        return None
