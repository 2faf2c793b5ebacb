"""Array backend layer: one code path for NumPy (CPU) and CuPy (GPU).

The solvers are written against the Python array API standard and get their
namespace from the input arrays through ``array_api_compat``, so the same
function runs on NumPy and CuPy arrays and returns arrays of the input's kind.
This module adds the two things the standard leaves out: choosing a backend by
name (``"numpy"``, ``"cupy"``, ``"auto"``) and moving arrays between host and
device.

Public, for the solvers and for the simulations, benchmarks and tests that
build arrays for them:

* by name: :func:`resolve_backend`, :func:`backend_module` (``numpy`` or
  ``cupy``), :func:`backend_namespace` (its array-API namespace),
  :func:`cupy_available`;
* from arrays: :func:`namespace` (the array-API namespace they share);
* moving data: :func:`to_backend`, :func:`to_numpy`;
* device memory: :func:`free_memory`, :func:`release_memory`;
* :func:`in_batches`, batched linear algebra in slices of at most
  :data:`LINALG_BATCH`.

``resolve_backend``, ``to_backend``, ``to_numpy``, ``cupy_available``,
``free_memory`` and ``release_memory`` are also exported by :mod:`solvers`.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any, Callable

import numpy as np
from array_api_compat import array_namespace, is_cupy_array

BACKENDS = ("numpy", "cupy", "auto")


def cupy_available() -> bool:
    """Return True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, CUDARuntimeError, missing driver ...
        return False


def resolve_backend(backend: str) -> str:
    """Turn a backend name into ``"numpy"`` or ``"cupy"``.

    ``"auto"`` picks CuPy when a CUDA device is usable and NumPy otherwise.
    Asking for ``"cupy"`` without a usable device raises ``ValueError``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "cupy" if cupy_available() else "numpy"
    if backend == "cupy" and not cupy_available():
        raise ValueError("backend='cupy' needs CuPy and a CUDA device; none is usable here")
    return backend


def backend_module(backend: str) -> ModuleType:
    """Return the array namespace (``numpy`` or ``cupy``) for a backend name."""
    name = resolve_backend(backend)
    if name == "cupy":
        import cupy

        return cupy
    return np


def backend_namespace(backend: str) -> ModuleType:
    """The array-API namespace (``array_api_compat`` wrapper) of a backend name."""
    return array_namespace(backend_module(backend).empty(0))


#: Largest stack handed to one batched linear-algebra call (see :func:`in_batches`).
LINALG_BATCH = 16384


def in_batches(fn: Callable[..., Any], *arrays: Any, size: int | None = None) -> Any:
    """``fn(*arrays)`` computed on slices of at most ``size`` along the leading axis, concatenated.

    For functions that treat each leading-axis entry independently (batched
    ``eigh``, ``solve``), the result equals one call on the whole stack. Why:
    cuSOLVER's batched eigensolvers and cuBLAS's batched LU reject or
    mishandle very large batch counts (``CUSOLVER_STATUS_INVALID_VALUE``
    beyond a few 10^4 matrices, grid-size limits at 65 535), and GPU chunks
    here reach 10^5 instances. ``fn`` may return an array or a tuple of
    arrays. ``size`` defaults to :data:`LINALG_BATCH`.
    """
    size = LINALG_BATCH if size is None else size
    total = arrays[0].shape[0]
    if total <= size:
        return fn(*arrays)
    parts = [fn(*(a[i:i + size, ...] for a in arrays)) for i in range(0, total, size)]
    xp = namespace(*arrays)
    if not isinstance(parts[0], tuple):
        return xp.concat(parts, axis=0)
    joined = [xp.concat(list(p), axis=0) for p in zip(*parts)]
    return type(parts[0])(*joined) if hasattr(parts[0], "_fields") else tuple(joined)  # keep named tuples


def namespace(*arrays: Any) -> ModuleType:
    """Array-API namespace shared by ``arrays`` (NumPy or CuPy)."""
    return array_namespace(*arrays)


def to_backend(array: Any, backend: str) -> Any:
    """Copy a host array to ``backend`` (no copy when it is already there)."""
    module = backend_module(backend)
    return module.asarray(array)


def free_memory(backend: str) -> int:
    """Free bytes on the device of ``backend`` ("cupy": the GPU, counting CuPy's pool; else the host)."""
    if backend == "cupy":
        import cupy

        pool = cupy.get_default_memory_pool()
        return int(cupy.cuda.Device().mem_info[0] + pool.free_bytes())
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def release_memory(backend: str) -> None:
    """Return CuPy's cached device blocks to the driver (no-op for NumPy)."""
    if backend == "cupy":
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()


def to_numpy(array: Any) -> np.ndarray:
    """Return a NumPy copy of a NumPy or CuPy array, or of any array on the host (e.g. ``array_api_strict``)."""
    if is_cupy_array(array):
        return array.get()
    return np.asarray(array)
