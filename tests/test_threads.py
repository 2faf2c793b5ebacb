"""The batched solvers run with one BLAS thread and give the caller's setting back."""

import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import solvers
from simulations import sample_problems
from solvers import spectral


def blas_threads():
    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})


CALLS = {
    "ols": lambda p: solvers.ols(p.X, p.y),
    "oracle": lambda p: solvers.oracle_support(p.X, p.y, p.support),
    "ridge": lambda p: solvers.ridge(p.X, p.y, [0.1, 1.0]),
    "gd": lambda p: solvers.gd(p.X, p.y, "auto", [1, 10]),
    "pto": lambda p: solvers.pto(p.X, p.y, "auto", [1, 10]),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_spectral_solvers_run_with_one_blas_thread(call, monkeypatch):
    seen = []
    real = spectral.in_batches
    monkeypatch.setattr(spectral, "in_batches", lambda *a, **k: (seen.append(blas_threads()), real(*a, **k))[1])
    p = sample_problems(12, 8, 2, 0.1, 5, seed=0)
    with threadpool_limits(limits=2, user_api="blas"):
        CALLS[call](p)
        assert blas_threads() == [2]  # the caller's setting is back
    assert seen and all(threads == [1] for threads in seen)


def test_lasso_runs_with_one_blas_thread(monkeypatch):
    module = sys.modules["solvers.lasso"]
    seen = []
    real = module._correlation
    monkeypatch.setattr(module, "_correlation", lambda X, y: (seen.append(blas_threads()), real(X, y))[1])
    p = sample_problems(12, 8, 2, 0.1, 5, seed=0)
    with threadpool_limits(limits=2, user_api="blas"):
        solvers.lasso(p.X, p.y, [0.1, 0.01])
        assert blas_threads() == [2]
    assert seen == [[1]]
    assert np.all(np.isfinite(solvers.lasso(p.X, p.y, 0.1)))


def test_a_solver_warning_still_names_the_callers_line():
    p = sample_problems(12, 8, 2, 0.1, 3, seed=0)
    with pytest.warns(solvers.LassoConvergenceWarning) as record:
        solvers.lasso(p.X, p.y, [0.1, 0.001], max_iter=1, finish_max_iter=0)
    assert record[0].filename == __file__
