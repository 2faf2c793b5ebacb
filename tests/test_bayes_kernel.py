"""The compiled posterior-mean kernel against the array-API reference engine.

Both engines sum the same terms in different orders (the kernel shares a
prefix's Cholesky rows, sums the back substitution per prefix and shifts the
exponentials differently), so they agree to rounding: the tests ask for
``max_j |w_j - w_ref,j| <= 1e-12 max_j |w_ref,j|`` per instance in float64.
Relative to the largest entry, not entrywise: an entry near zero is a sum of
terms of both signs, and its relative error is not bounded by the terms'.
"""

import itertools

import numba
import numpy as np
import pytest

import solvers
from solvers.backend import namespace
from solvers._bayes_kernel import posterior_mean_compiled
from solvers.bayes import _posterior_mean_array_api

F32_TOL = 100 * np.finfo(np.float32).eps


def both_engines(X, y, s, sigma, signal):
    return [solvers.bayes_posterior_mean(X, y, s, sigma, signal, engine=engine) for engine in ("compiled", "array_api")]


def assert_close_to_largest(w, ref, tol):
    """Per instance (last axis), the largest difference is at most ``tol`` times the largest |entry| of ``ref``."""
    assert w.shape == ref.shape and w.dtype == ref.dtype
    assert np.all(np.isfinite(w))
    scale = np.max(np.abs(ref), axis=-1)
    assert np.all(scale > 0)
    np.testing.assert_array_less(np.max(np.abs(w - ref), axis=-1), tol * scale)


CASES = [(12, 9, 3), (24, 10, 4), (2, 8, 4), (3, 6, 6), (5, 5, 5), (6, 7, 1), (1, 5, 2)]  # n < s, d = s, s = 1


@pytest.mark.parametrize("signal", ["gaussian", "unnormalized", "rademacher"])
@pytest.mark.parametrize("n,d,s", CASES)
def test_compiled_engine_equals_the_array_api_engine(rng, n, d, s, signal):
    X, y = rng.standard_normal((4, n, d)), rng.standard_normal((4, n))
    w, ref = both_engines(X, y, s, 0.4, signal)
    assert_close_to_largest(w, ref, 1e-12)


@pytest.mark.parametrize("signal", ["gaussian", "unnormalized", "rademacher"])
def test_single_problem_equals_its_batched_row(rng, signal):
    X, y = rng.standard_normal((3, 10, 8)), rng.standard_normal((3, 10))
    single, ref = both_engines(X[1], y[1], 3, 0.3, signal)
    assert single.shape == (8,)
    assert_close_to_largest(single, ref, 1e-12)
    np.testing.assert_array_equal(single, solvers.bayes_posterior_mean(X, y, 3, 0.3, signal)[1])


def log_evidences(X, y, s, sigma, tau2):
    """L_S of every support (lexicographic order) of one instance, by NumPy's solve and slogdet."""
    supports = np.array(list(itertools.combinations(range(X.shape[1]), s)))
    X_S = np.swapaxes(X[:, supports], 0, 1)                                     # (K, n, s)
    M = np.swapaxes(X_S, 1, 2) @ X_S + sigma**2 / tau2 * np.eye(s)
    b = np.swapaxes(X_S, 1, 2) @ y
    quad = np.einsum("ki,ki->k", b, np.linalg.solve(M, b[..., None])[..., 0])
    return quad / (2 * sigma**2) - 0.5 * np.linalg.slogdet(M)[1]


@pytest.mark.parametrize("n", [16, 128])
def test_small_noise_with_the_best_supports_last(n):
    """The truth on the last three coordinates and sigma = 0.02: the running maximum of L_S
    moves up several times along the enumeration (the kernel's shift follows it) and most
    supports have exp(L_S - max L) = 0 in float64 (the kernel skips them)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, n, 12))
    w_star = np.zeros((4, 12))
    w_star[:, 9:] = rng.standard_normal((4, 3)) / np.sqrt(3)
    y = np.einsum("tnd,td->tn", X, w_star) + 0.02 * rng.standard_normal((4, n))
    for t in range(4):
        L = log_evidences(X[t], y[t], 3, 0.02, 1 / 3)
        assert np.sum(np.diff(np.maximum.accumulate(L)) > 0) >= 5
        assert np.mean(L - L.max() < -746) > 0.5
    w, ref = both_engines(X, y, 3, 0.02, "gaussian")
    assert_close_to_largest(w, ref, 1e-12)
    np.testing.assert_allclose(w, w_star, atol=0.05)


@pytest.mark.parametrize("signal", ["gaussian", "unnormalized", "rademacher"])
def test_float32_is_computed_in_float32_to_a_float32_tolerance(rng, signal):
    X, y = rng.standard_normal((5, 12, 8)), rng.standard_normal((5, 12))
    w, ref = both_engines(X.astype(np.float32), y.astype(np.float32), 3, 0.4, signal)
    assert w.dtype == np.float32
    assert_close_to_largest(w, ref, F32_TOL)


def test_results_do_not_depend_on_the_number_of_threads(rng):
    X, y = rng.standard_normal((9, 10, 9)), rng.standard_normal((9, 10))  # not a multiple of the chunk
    many = solvers.bayes_posterior_mean(X, y, 3, 0.3, engine="compiled")
    default = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = solvers.bayes_posterior_mean(X, y, 3, 0.3, engine="compiled")
    finally:
        numba.set_num_threads(default)
    np.testing.assert_array_equal(one, many)


def test_engine_argument_is_checked(rng):
    X, y = rng.standard_normal((6, 5)), rng.standard_normal(6)
    with pytest.raises(ValueError, match="engine must be one of"):
        solvers.bayes_posterior_mean(X, y, 2, 0.3, engine="numba")
    xs = pytest.importorskip("array_api_strict")
    with pytest.raises(ValueError, match="engine='compiled' needs NumPy arrays"):
        solvers.bayes_posterior_mean(xs.asarray(X), xs.asarray(y), 2, 0.3, engine="compiled")


def test_a_pivot_that_is_not_positive_gives_nan_as_in_the_reference():
    """Not a Gram matrix: G_11 = -r makes the pivot of {1} exactly 0 and G_22 = -5 a negative one.
    The reference divides by zero and takes square roots of negatives (NaN); the kernel follows
    NumPy's rules there (error_model="numpy") instead of raising, and gives NaN too."""
    sigma, tau2 = 0.3, 0.5
    G = np.diag([1.0, -(sigma**2 / tau2), -5.0, 1.0, 2.0])[None].repeat(2, axis=0)
    b = np.ones((2, 5))
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = _posterior_mean_array_api(namespace(G), G.reshape(2, 25), b, 2, sigma, tau2)
    w = posterior_mean_compiled(G, b, 2, sigma, tau2)
    assert np.isnan(ref).all() and np.isnan(w).all()
