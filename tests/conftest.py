"""Shared fixtures and the GPU skip rule."""

import functools

import numpy as np
import pytest

import solvers


def pytest_collection_modifyitems(config, items):
    if solvers.cupy_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def lasso_reference_engine(monkeypatch):
    """``solvers.lasso`` on NumPy input runs its array-API engine, the code other namespaces run.

    NumPy input otherwise runs the compiled engine, which reaches the same
    certificate by other iterates; tests that compare a namespace with NumPy
    compare the same code.
    """
    monkeypatch.setattr(solvers, "lasso", functools.partial(solvers.lasso, engine="array_api"))
