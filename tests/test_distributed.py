"""Dask execution equals the serial run; a sweep killed twice resumes with nothing lost or duplicated."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from simulations.store import KEY_COLUMNS, ResultStore
from simulations.sweep import plan_cells, run_sweep

RISK = ["risk_mean", "risk_sem", "hyperparameter", "edge", "diverged"]


def test_local_cluster_matches_serial_run(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    cells = plan_cells([8, 16, 24], [8, 16], [2], [0.1, 0.5], trials=60, seed=3)
    methods = ["ridge", "gd", "pto", "oracle"]
    serial = run_sweep(cells, methods, tmp_path / "serial", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        parallel = run_sweep(cells, methods, tmp_path / "dask", progress=False, scheduler=cluster)
    assert len(parallel) == len(cells) * len(methods)
    pd.testing.assert_frame_equal(serial[RISK], parallel[RISK])


def run_cell_dying_once(cell, methods, chunk, marker):
    """The worker's process dies the first time any task runs (a lost worker); later runs are normal."""
    from simulations.sweep import run_cell  # the worker's own, not the client's patched name

    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return run_cell(cell, methods, chunk)


def test_a_worker_lost_mid_task_costs_only_that_task(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    import cloudpickle
    import functools

    from simulations import sweep as sweep_module

    cells = plan_cells([8, 16, 24], [8], [2], [0.1, 0.5], trials=40, seed=4)
    methods = ["ridge", "pto"]
    serial = run_sweep(cells, methods, tmp_path / "serial", progress=False)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    monkeypatch.setattr(sweep_module, "run_cell",
                        functools.partial(run_cell_dying_once, marker=str(tmp_path / "died")))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        parallel = run_sweep(cells, methods, tmp_path / "dask", progress=False, scheduler=cluster)
    assert (tmp_path / "died").exists()
    assert len(parallel) == len(cells) * len(methods)
    pd.testing.assert_frame_equal(serial[RISK], parallel[RISK])


def test_sweep_killed_twice_resumes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "simulations", "sweep", "--n", "4:40:1", "--d", "4,6", "--s", "1,2",
               "--sigma", "0.1,0.2", "--trials", "20", "--methods", "ridge,ols", "--quiet", "--out", str(out)]
    expected_rows = 37 * 2 * 2 * 2 * 2
    journal = out / "cells.jsonl"
    for _ in range(2):
        before = len(ResultStore(out).rows())
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            done = len(ResultStore(out).rows()) if journal.exists() else 0
            if done >= before + 20:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert before < len(ResultStore(out).rows()) < expected_rows
    assert subprocess.run(command, capture_output=True).returncode == 0
    results = pd.read_csv(out / "results.csv")
    assert len(results) == expected_rows
    assert not results.duplicated(list(KEY_COLUMNS)).any()
    clean = run_sweep(plan_cells(range(4, 41), [4, 6], [1, 2], [0.1, 0.2], trials=20), ["ridge", "ols"],
                      tmp_path / "clean", progress=False)
    pd.testing.assert_frame_equal(results[RISK], clean[RISK], check_dtype=False)


def test_a_local_cluster_for_gpu_cells_has_one_worker_without_dask_cuda(monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    from simulations import distributed as distributed_module

    started = {}

    class Recorder:
        def __init__(self, **kwargs):
            started.update(kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", Recorder)
    monkeypatch.setattr(distributed, "Client", lambda cluster: cluster)
    monkeypatch.setitem(sys.modules, "dask_cuda", None)  # not installed
    distributed_module.connect("local", gpu=True)
    assert started == {"n_workers": 1, "threads_per_worker": 1, "dashboard_address": ":0"}
    distributed_module.connect("local")
    assert started["n_workers"] == (os.cpu_count() or 1)


def test_local_workers_run_the_compiled_kernels_on_one_thread_each():
    """One worker per core and one numba thread per worker: no P-fold oversubscription by the kernels."""
    pytest.importorskip("dask.distributed")
    pytest.importorskip("numba")
    from simulations import distributed as distributed_module

    client = distributed_module.connect("local")
    try:
        threads = client.run(lambda: __import__("numba").get_num_threads())
    finally:
        distributed_module.close_quietly(client, own_cluster=True)
    assert len(threads) == (os.cpu_count() or 1)
    assert set(threads.values()) == {1}
