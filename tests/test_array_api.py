"""The solvers and the method/tuning layer on ``array_api_strict`` arrays against NumPy.

``array_api_strict`` is the reference implementation of the Python array API
standard and rejects anything outside it, so these tests are the CPU evidence
that the code path CuPy runs uses the standard only. Equal inputs must give
the NumPy numbers and arrays of the input's namespace. Documented host
outputs stay NumPy: the Lasso's convergence report (``LassoInfo``, the
``converged`` of ``Method.fit``) and the risks and choices of ``Tuner``.
"""

import dataclasses
import warnings

import numpy as np
import pytest
from array_api_compat import array_namespace

import solvers
from simulations import sample_problems
from simulations.methods import METHODS, Setting
from simulations.tuning import Tuner

xs = pytest.importorskip("array_api_strict")

RTOL = {"float64": 1e-10, "float32": 1e-4}
SHAPES = [(8, 12), (24, 12)]
DTYPES = ["float64", "float32"]


def on_namespace(problems, xp):
    """The same problems with their arrays in namespace ``xp``."""
    return dataclasses.replace(problems, **{name: xp.asarray(getattr(problems, name))
                                            for name in ("X", "y", "w_star", "support")})


def assert_strict_matches(out, ref, dtype):
    """``out`` is a strict array holding ``ref``'s numbers, to ``RTOL`` of its largest entry."""
    assert array_namespace(out) is xs
    host = np.asarray(out)
    assert host.dtype == ref.dtype and host.shape == ref.shape
    finite = ref[np.isfinite(ref)]
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    np.testing.assert_allclose(host, ref, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,d", SHAPES)
@pytest.mark.parametrize("name", list(METHODS))
@pytest.mark.usefixtures("lasso_reference_engine")
def test_every_method_gives_the_numpy_estimates(name, n, d, dtype):
    p = sample_problems(n, d, 3, 0.3, 3, seed=1, dtype=dtype)
    method = METHODS[name]
    setting = Setting(n, d, 3, 0.3, "gaussian")
    grid = method.grid(setting)
    W_ref, converged_ref = method.fit(p.X, p.y, grid, setting, p.support)
    W, converged = method.fit(xs.asarray(p.X), xs.asarray(p.y), grid, setting, xs.asarray(p.support))
    assert_strict_matches(W, W_ref, dtype)
    if converged_ref is None:
        assert converged is None
    else:
        assert isinstance(converged, np.ndarray)
        np.testing.assert_array_equal(converged, converged_ref)


@pytest.mark.parametrize("n,d", SHAPES)
@pytest.mark.parametrize("name", list(METHODS))
@pytest.mark.usefixtures("lasso_reference_engine")
def test_validation_tuning_on_strict_problems_gives_the_numpy_results(name, n, d):
    p = sample_problems(n, d, 3, 0.3, 3, seed=2)
    tuner = Tuner(METHODS[name], "validation", Setting(n, d, 3, 0.3, "gaussian"))
    on_strict = on_namespace(p, xs)
    for got, want in zip(tuner.evaluate(on_strict), tuner.evaluate(p), strict=True):
        if want is None:
            assert got is None
            continue
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, want, rtol=RTOL["float64"])


def support_mask(p):
    """The boolean (trials, d) mask of ``p.support``, in the namespace of ``p``."""
    xp = array_namespace(p.support)
    return xp.any(p.support[:, :, None] == xp.arange(p.X.shape[2])[None, None, :], axis=1)


CALLS = {
    "ols single": lambda p: solvers.ols(p.X[0, ...], p.y[0, ...]),
    "oracle mask": lambda p: solvers.oracle_support(p.X, p.y, support_mask(p)),
    "oracle single": lambda p: solvers.oracle_support(p.X[0, ...], p.y[0, ...], p.support[0, ...]),
    "ridge scalar": lambda p: solvers.ridge(p.X, p.y, 0.1),
    "ridge single path": lambda p: solvers.ridge(p.X[0, ...], p.y[0, ...], [0.01, 1.0]),
    "gd scalar step": lambda p: solvers.gd(p.X, p.y, 0.05, [3, 30]),
    "gd diverging": lambda p: solvers.gd(p.X, p.y, 5.0, [3, 3000]),
    "gd per-instance step": lambda p: solvers.gd(p.X, p.y, np.full(p.trials, 0.05), 30),
    "gd single": lambda p: solvers.gd(p.X[0, ...], p.y[0, ...], "auto", 10),
    "gd iterative": lambda p: solvers.gd_iterative(p.X, p.y, 0.05, 20),
    "gd iterative single": lambda p: solvers.gd_iterative(p.X[0, ...], p.y[0, ...], 0.05, 20),
    "pto split": lambda p: solvers.pto(p.X, p.y, "auto", [1, 10, 100], split=6),
    "pto single": lambda p: solvers.pto(p.X[0, ...], p.y[0, ...], "auto", 10),
    "pto iterative": lambda p: solvers.pto_iterative(p.X, p.y, 0.05, 20),
    "pto iterative single": lambda p: solvers.pto_iterative(p.X[0, ...], p.y[0, ...], 0.05, 20),
    "preprocess": lambda p: solvers.preprocess(p.X, p.y, split=6),
    "alpha max": lambda p: solvers.lasso_alpha_max(p.X, p.y),
    "alpha max single": lambda p: solvers.lasso_alpha_max(p.X[0, ...], p.y[0, ...]),
    "lasso single": lambda p: solvers.lasso(p.X[0, ...], p.y[0, ...], 0.05),
    "lasso finishing stage": lambda p: solvers.lasso(p.X, p.y, [0.3, 0.01, 1e-3], max_iter=3,
                                                     tol=1e-5, return_info=True),
    "lasso unfinished": lambda p: solvers.lasso(p.X, p.y, [0.3, 0.01, 1e-3], max_iter=3, finish_max_iter=0,
                                                return_info=True),
}


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.usefixtures("lasso_reference_engine")
def test_solver_entry_points_give_the_numpy_results(call, dtype):
    p = sample_problems(12, 16, 3, 0.5, 4, seed=3, dtype=dtype)
    on_strict = on_namespace(p, xs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", solvers.LassoConvergenceWarning)
        ref, got = as_tuple(CALLS[call](p)), as_tuple(CALLS[call](on_strict))
    for out, want in zip(got, ref, strict=True):
        if isinstance(want, solvers.LassoInfo):
            for host, expected in zip(vars(out).values(), vars(want).values(), strict=True):
                assert isinstance(host, np.ndarray)
                np.testing.assert_allclose(host, expected, rtol=RTOL[dtype])
        else:
            assert_strict_matches(out, want, dtype)


@pytest.mark.usefixtures("lasso_reference_engine")
def test_lasso_with_duplicated_columns_gives_the_numpy_path(rng):
    X = rng.standard_normal((4, 10, 6))
    X[:, :, 1] = X[:, :, 0]  # an exactly singular active set for the Newton step
    y = 2 * X[:, :, 0] + 0.1 * rng.standard_normal((4, 10))
    alphas = [0.1, 0.01]
    ref, info_ref = solvers.lasso(X, y, alphas, return_info=True)
    got, info = solvers.lasso(xs.asarray(X), xs.asarray(y), alphas, return_info=True)
    assert_strict_matches(got, ref, "float64")
    np.testing.assert_array_equal(info.n_iter, info_ref.n_iter)
