"""Running a sweep's cells on a Dask cluster.

The cells still to do are packed into tasks of at least ~1 s of work each
(:func:`pack_tasks`; many small cells per task, a big cell alone), submitted
to the cluster, and each task's rows are appended to the same resumable store
as soon as the task finishes, on the client. A worker lost mid-task loses
only that task: the scheduler reruns it elsewhere, and since every cell
draws from its own random stream the rows are identical to a single-process
run with the same seed.

``scheduler`` is ``"local"`` (a :class:`dask.distributed.LocalCluster` with one
single-threaded worker per core) or the address of a running scheduler,
``tcp://HOST:PORT`` -- for example one started by dask-jobqueue on SLURM (see
docs/performance.md).
"""

from __future__ import annotations

import os
from typing import Any

from tqdm.auto import tqdm

from .store import ResultStore

WORK_PER_SECOND = 6e7  # cost units (trials * n * d * min(n, d)) per second, measured on the CPU
TASK_SECONDS = 1.0


def cell_cost(cell: Any, methods: list[str]) -> float:
    """Rough work of a cell: ``trials * n * d * min(n, d)`` per method, the eigendecomposition scale."""
    return cell.trials * cell.n * cell.d * min(cell.n, cell.d) * len(methods) / 5


def pack_tasks(work: list[tuple[Any, list[str]]], seconds: float = TASK_SECONDS) -> list[list[tuple[Any, list[str]]]]:
    """Group consecutive (cell, methods) items into tasks of >= ``seconds`` of estimated work."""
    tasks, current, cost = [], [], 0.0
    for item in work:
        current.append(item)
        cost += cell_cost(*item) / WORK_PER_SECOND
        if cost >= seconds:
            tasks.append(current)
            current, cost = [], 0.0
    if current:
        tasks.append(current)
    return tasks


def run_task(task: list[tuple[Any, list[str]]], chunk: int) -> list[dict[str, Any]]:
    """Rows of every cell in a task (runs on a worker)."""
    from .sweep import run_cell

    return [row for cell, methods in task for row in run_cell(cell, methods, chunk)]


def connect(scheduler: Any, gpu: bool = False):
    """A ``dask.distributed.Client`` for ``"local"``, an address, or an existing cluster object.

    ``"local"`` starts one single-threaded worker per core, or, for CuPy
    cells (``gpu``), one worker per GPU: dask-cuda's ``LocalCUDACluster``
    pins each worker to its own device; without dask-cuda a single worker
    uses the current device (many workers on one GPU would each size their
    chunks from the same free memory).
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        raise ValueError("--scheduler needs dask.distributed: pip install 'sparse-icl[dist]'") from err
    check_scheduler(scheduler)
    if scheduler != "local":
        return Client(scheduler)
    if gpu:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            return Client(LocalCluster(n_workers=1, threads_per_worker=1))
        return Client(LocalCUDACluster(threads_per_worker=1))
    return Client(LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1))


def check_scheduler(scheduler: Any) -> None:
    """Reject a scheduler string that is neither ``"local"`` nor an address."""
    if isinstance(scheduler, str) and scheduler != "local" and not scheduler.startswith(("tcp://", "tls://")):
        raise ValueError(f"--scheduler must be 'local' or an address like tcp://HOST:PORT, got {scheduler!r}")


def run_on_cluster(work: list[tuple[Any, list[str]]], store: ResultStore, scheduler: Any, chunk: int,
                   progress: bool) -> None:
    """Submit the packed tasks and append their rows to ``store`` as they complete."""
    from dask.distributed import as_completed

    tasks = pack_tasks(work)
    client = connect(scheduler, gpu=any(cell.backend == "cupy" for cell, _ in work))
    try:
        futures = [client.submit(run_task, task, chunk, pure=False) for task in tasks]
        for future in tqdm(as_completed(futures), total=len(futures), desc="tasks", unit="task",
                           disable=not progress):
            store.append(future.result())
    finally:
        client.close()
