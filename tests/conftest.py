"""Shared fixtures and the GPU skip rule."""

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
