"""Shared fixtures and the GPU skip rule."""

import ctypes
import functools
import shutil
import subprocess

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


@pytest.fixture(scope="module")
def compile_c(tmp_path_factory):
    """``compile_c(name, source)``: C source built as a shared library for the host, loaded with ctypes.

    How the tests check the CUDA kernels' sources (plain C apart from their
    qualifiers) on machines without a GPU. Built with ``-ffp-contract=off``,
    so that no multiply-add is fused (the kernels are compiled with
    ``--fmad=false``). Skips the test when no C compiler is installed.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    folder = tmp_path_factory.mktemp("c_sources")

    def build(name, source):
        (folder / f"{name}.c").write_text(source)
        library = folder / f"{name}.so"
        subprocess.run([compiler, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", str(library),
                        str(folder / f"{name}.c"), "-lm"], check=True)
        return ctypes.CDLL(str(library))

    return build
