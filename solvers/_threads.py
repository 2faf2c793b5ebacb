"""One BLAS thread inside the batched solvers.

The solvers make many small LAPACK/BLAS calls (``eigh``, ``solve``, matmul
on stacks of 32 x 32 matrices): each is too small to gain from a second
thread, and with OpenBLAS's default of one thread per core every call
wakes and synchronises them. On a shared 2-core machine that made the
default sweep 4-12x slower than with ``OPENBLAS_NUM_THREADS=1``
(docs/performance.md). So the solvers' BLAS work runs with the BLAS
libraries limited to one thread (threadpoolctl, a dependency of
scikit-learn), and the caller's setting is restored on return: the
spectral decomposition and the filters (:class:`solvers.spectral.Spectrum`,
behind OLS, ridge, GD and PtO), the Lasso path and the Bayes posterior
mean. The decorator sits on those inner steps rather than on the public
functions so that a solver's own warnings still name the caller's line
(``stacklevel`` counts the wrapper's frame). The cores are used one level
up: by the Lasso's compiled kernel (instances in parallel) and by running
cells in parallel (``--scheduler local``).

The limit is process-wide while a solver runs: two solver calls in two
Python threads of one process share it. The BLAS libraries are listed once,
at the first call: one loaded later (scipy's OpenBLAS, which scikit-learn
brings in for the Lasso's finishing stage) is not limited.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from threadpoolctl import ThreadpoolController

F = TypeVar("F", bound=Callable[..., Any])

_controller: ThreadpoolController | None = None


def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded in this process, found once (finding them takes milliseconds; a limit ~20 us)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def single_blas_thread(fn: F) -> F:
    """Decorate ``fn`` to run with every loaded BLAS library limited to one thread."""

    @functools.wraps(fn)
    def limited(*args: Any, **kwargs: Any) -> Any:
        with _blas().limit(limits=1):
            return fn(*args, **kwargs)

    return limited  # type: ignore[return-value]
