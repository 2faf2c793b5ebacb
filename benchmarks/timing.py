"""Wall-clock timing shared by the benchmark scripts (import as ``from timing import ...``).

GPU kernels run asynchronously: a timer stopped right after a CuPy call
measures the launch, not the work. Every timing here synchronises the device
before starting and before stopping the clock.
"""

from __future__ import annotations

import sys
import time
from typing import Callable


def synchronize() -> None:
    """Wait for all queued work on the current CUDA device (no-op when CuPy is not in use)."""
    cupy = sys.modules.get("cupy")
    if cupy is not None and cupy.cuda.runtime.getDeviceCount() > 0:
        cupy.cuda.Device().synchronize()


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Smallest wall-clock time of ``repeats`` calls of ``fn``, in seconds (device synchronised)."""
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return min(times)
