"""Running a sweep's cells on a Dask cluster.

Each cell still to do is one task -- the sweep's cell runner
(:func:`simulations.sweep.run_cell`, passed in by the sweep, so this module
does not import it) applied to that cell -- submitted to the cluster; each
finished cell's rows are appended to the same resumable store as soon as it
finishes, on the client, so every finished cell reaches the
journal as it finishes. (Cells were once packed into tasks of ~1 s of
*estimated* work; a task of 12 cells estimated at 0.34 s took 13.3 s, and an
interruption lost all 12. Dask's documentation puts a task's overhead at
about 1 ms: a tenth of the tiniest cells' time -- 4 instances, two methods,
~8 ms -- and nothing for real ones.) A worker lost mid-task loses only that
cell: the scheduler reruns it elsewhere, and since every cell draws from its
own random stream the rows are identical to a single-process run with the
same seed.

``scheduler`` is ``"local"`` (a :class:`dask.distributed.LocalCluster` with one
single-threaded worker per core) or the address of a running scheduler,
``tcp://HOST:PORT`` -- for example one started by dask-jobqueue on SLURM (see
docs/simulations.md). An address that does not answer within
``connect_timeout`` seconds (default :data:`CONNECT_TIMEOUT`) is a
``ValueError`` naming it.

Stopping (Ctrl-C, SIGTERM, an error): the rows of every task that has
finished are appended before the client stops, the cluster is closed with
Dask's log messages silenced, and a local cluster's workers, which ignore
SIGINT, leave the terminal's Ctrl-C to this process instead of each
printing a traceback.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from tqdm.auto import tqdm

from .interrupts import ignoring_sigint
from .limits import CONNECT_TIMEOUT
from .store import ResultStore

#: Loggers silenced while a cluster shuts down (their messages are about the shutdown itself).
QUIET_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh")


#: ``run(cell, methods, chunk) -> rows``: the rows of one cell (runs on a worker).
CellRunner = Callable[[Any, list[str], Any], list[dict[str, Any]]]


@contextmanager
def quiet_logs(level: int = logging.CRITICAL) -> Iterator[None]:
    """Raise the Dask-related loggers to ``level`` for the block."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, saved):
            logger.setLevel(old)


@contextmanager
def _quiet_workers() -> Iterator[None]:
    """Worker processes started in the block log errors only (their warnings are about tasks cancelled
    by a shutdown); they read the level from the environment when they start."""
    name = "DASK_LOGGING__DISTRIBUTED"
    old = os.environ.get(name)
    os.environ[name] = "error"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


#: The environment of local workers: one per core, so the compiled Lasso and Bayes kernels run one numba
#: thread each (numba's default, one thread per core in every worker, oversubscribes the machine P-fold).
SINGLE_THREADED = {"NUMBA_NUM_THREADS": "1"}


def connect(scheduler: Any, gpu: bool = False, timeout: float | None = None):
    """A ``dask.distributed.Client`` for ``"local"``, an address, or an existing cluster object.

    ``"local"`` starts one single-threaded worker per core (numba's kernels
    included: :data:`SINGLE_THREADED`) with its dashboard on a free port (two
    local sweeps at once would compete for dask's fixed 8787, and the loser
    print a warning), or, for CuPy
    cells (``gpu``), one worker per GPU: dask-cuda's ``LocalCUDACluster``
    pins each worker to its own device; without dask-cuda a single worker
    uses the current device (many workers on one GPU would each size their
    chunks from the same free memory). The workers are started with SIGINT
    ignored. An address that does not answer within ``timeout`` seconds
    (default :data:`CONNECT_TIMEOUT`) raises ``ValueError``.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        raise ValueError("--scheduler needs dask.distributed: pip install 'sparse-icl[dist]'") from err
    check_scheduler(scheduler)
    timeout = CONNECT_TIMEOUT if timeout is None else check_timeout(timeout)
    if scheduler != "local":
        if not isinstance(scheduler, str):
            return Client(scheduler)
        try:
            with quiet_logs():
                return Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as err:
            raise ValueError(f"--scheduler {scheduler}: no scheduler answered within {timeout:g} s "
                             f"({type(err).__name__}); is it running? (--connect-timeout waits longer)") from None
    with ignoring_sigint(), _quiet_workers():
        if gpu:
            try:
                from dask_cuda import LocalCUDACluster
            except ImportError:
                return Client(LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0"))
            return Client(LocalCUDACluster(threads_per_worker=1))
        return Client(LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, env=SINGLE_THREADED,
                                   dashboard_address=":0"))


def check_scheduler(scheduler: Any) -> None:
    """Reject a scheduler string that is neither ``"local"`` nor an address."""
    if isinstance(scheduler, str) and scheduler != "local" and not scheduler.startswith(("tcp://", "tls://")):
        raise ValueError(f"--scheduler must be 'local' or an address like tcp://HOST:PORT, got {scheduler!r}")


def check_timeout(timeout: Any) -> float:
    """A connect timeout: a finite number of seconds > 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"--connect-timeout must be a finite number of seconds > 0, got {timeout!r}")
    return float(timeout)


def close_quietly(client: Any, own_cluster: bool) -> None:
    """Close ``client`` (and its cluster, when :func:`connect` started it) without log noise or errors."""
    cluster = getattr(client, "cluster", None) if own_cluster else None
    with quiet_logs():
        for closable in (client, cluster):
            if closable is None:
                continue
            try:
                closable.close()
            except Exception:  # noqa: BLE001 - a cluster already half down; nothing to keep
                pass


def run_on_cluster(work: list[tuple[Any, list[str]]], store: ResultStore, scheduler: Any, run: CellRunner,
                   chunk: int | str, progress: bool, connect_timeout: float | None = None) -> None:
    """Submit ``run(cell, methods, chunk)`` per cell and append each cell's rows to ``store`` as it completes.

    However the loop ends (an interruption, a failed task), the rows of every
    task already finished are appended before the client closes.
    """
    from dask.distributed import as_completed

    if not work:
        return
    client = connect(scheduler, gpu=any(cell.backend == "cupy" for cell, _ in work), timeout=connect_timeout)
    own_cluster = scheduler == "local"
    stored: set = set()
    futures = []
    try:
        futures = [client.submit(run, cell, methods, chunk, pure=False) for cell, methods in work]
        for future in tqdm(as_completed(futures), total=len(futures), desc="cells", unit="cell",
                           disable=not progress):
            store.append(future.result())
            stored.add(future.key)
    except BaseException:
        with quiet_logs():
            for future in futures:
                if future.key not in stored and future.status == "finished":
                    try:
                        store.append(future.result(timeout=5))
                    except Exception:  # noqa: BLE001 - its worker is gone: that cell is rerun next time
                        pass
        raise
    finally:
        close_quietly(client, own_cluster)
