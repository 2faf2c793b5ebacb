"""The compiled Lasso engine against the array-API reference engine and scikit-learn."""

import warnings

import numba
import numpy as np
import pytest

from solvers import LassoConvergenceWarning, lasso, lasso_alpha_max
from solvers._lasso_homotopy import homotopy_path

from test_lasso import objective, problems, sklearn_objective

TOL = 1e-12
FRACTIONS = np.geomspace(1.0, 1e-3, 12)
CASES = [("gaussian", 40, 12), ("gaussian", 10, 25), ("ar1", 30, 16), ("ar1", 12, 20), ("duplicated", 30, 12),
         ("duplicated", 10, 16),  # n <= d runs the homotopy warm starts, which stop at the duplicated pair
         ("gaussian", 16, 16)]


def both_engines(X, y, alphas, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LassoConvergenceWarning)
        return [lasso(X, y, alphas, tol=TOL, return_info=True, engine=engine, **kwargs)
                for engine in ("compiled", "array_api")]


def objectives(X, y, W, alphas):
    return np.array([[objective(X[b], y[b], W[g, b], a) for b in range(X.shape[0])] for g, a in enumerate(alphas)])


@pytest.mark.parametrize("kind,n,d", CASES)
def test_compiled_engine_reaches_the_reference_engine_objective(kind, n, d):
    # both certify gap <= tol ||y||^2 / (2n), so their objectives differ by at most that
    X, y = problems(kind, 6, n, d, seed=n + d)
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    (W, info), (W_ref, info_ref) = both_engines(X, y, alphas)
    assert info.converged.all() and info_ref.converged.all()
    bound = TOL * np.sum(y**2, axis=1) / (2 * n)
    P, P_ref = objectives(X, y, W, alphas), objectives(X, y, W_ref, alphas)
    assert np.all(np.abs(P - P_ref) <= bound + 1e-15 * P_ref)
    assert np.all(info.gap <= bound)


@pytest.mark.parametrize("kind,n,d", [("gaussian", 40, 12), ("ar1", 30, 16)])
def test_compiled_engine_coefficients_within_the_strong_convexity_bound(kind, n, d):
    # for n > d, P(w) - P(w*) >= lambda_min(G) ||w - w*||^2 / 2, and each engine is within tol yy / 2 of P(w*)
    X, y = problems(kind, 6, n, d, seed=7)
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    (W, _), (W_ref, _) = both_engines(X, y, alphas)
    lam_min = np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / n)[:, 0]
    radius = np.sqrt(2 * TOL * np.sum(y**2, axis=1) / (2 * n) / lam_min)
    assert np.all(np.linalg.norm(W - W_ref, axis=-1) <= 2 * radius + 1e-14)


def test_compiled_engine_matches_sklearn_at_d_above_n_on_a_long_path():
    X, y = problems("gaussian", 3, 16, 48, seed=3)
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    W = lasso(X, y, alphas, tol=TOL, max_iter=100_000, engine="compiled")
    for b in range(3):
        for g, alpha in enumerate(alphas):
            ref = sklearn_objective(X[b], y[b], alpha)
            assert abs(objective(X[b], y[b], W[g, b], alpha) - ref) <= 1e-8 * ref


def test_compiled_engine_reports_what_the_reference_reports_after_one_sweep():
    # same sweep, same gap formula: with max_iter = 1 both engines return the same first iterate
    # (n > d: the compiled engine warm-starts by extrapolation, as the reference does)
    X, y = problems("ar1", 8, 20, 16, seed=8)
    alphas = lasso_alpha_max(X, y).min() * np.array([0.3, 0.01])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LassoConvergenceWarning)
        runs = [lasso(X, y, alphas, max_iter=1, finish_max_iter=0, return_info=True, engine=engine)
                for engine in ("compiled", "array_api")]
    (W, info), (W_ref, info_ref) = runs
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(info.gap, info_ref.gap, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(info.n_iter, info_ref.n_iter)


def test_results_do_not_depend_on_the_number_of_threads():
    X, y = problems("ar1", 301, 20, 16, seed=2)  # several threads' worth, not a multiple of the chunk
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = lasso(X, y, alphas, return_info=True, engine="compiled")
    finally:
        numba.set_num_threads(default)
    many = lasso(X, y, alphas, return_info=True, engine="compiled")
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1].n_iter, many[1].n_iter)


def test_float32_default_tolerance_converges_and_is_accurate():
    X, y = problems("gaussian", 200, 20, 10, seed=5)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LassoConvergenceWarning)
        W32, info = lasso(X32, y32, 0.01, return_info=True)
    assert W32.dtype == np.float32 and info.converged.all()
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)  # the float32 problem, evaluated exactly
    W64 = lasso(X64, y64, 0.01, tol=1e-12)
    excess = np.array([objective(X64[b], y64[b], W32[b].astype(np.float64), 0.01)
                       - objective(X64[b], y64[b], W64[b], 0.01) for b in range(200)])
    yy = np.sum(y64**2, axis=1) / 20
    assert np.all(excess <= 1e-5 * yy / 2)  # the default float32 tol's promise, checked in float64


def test_engine_is_checked():
    X, y = problems("gaussian", 2, 10, 5, seed=0)
    with pytest.raises(ValueError, match="engine must be one of"):
        lasso(X, y, 0.1, engine="fortran")
    array_api_strict = pytest.importorskip("array_api_strict")
    with pytest.raises(ValueError, match="engine='compiled' needs NumPy arrays"):
        lasso(array_api_strict.asarray(X), array_api_strict.asarray(y), 0.1, engine="compiled")


def test_homotopy_reaches_every_grid_value_with_the_lasso_solution():
    X, y = problems("gaussian", 4, 12, 30, seed=21)
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    for b in range(4):
        G, c = X[b].T @ X[b] / 12, X[b].T @ y[b] / 12
        H = np.empty((len(alphas), 30))
        assert homotopy_path((G + G.T) / 2, c, alphas, 12, H) == len(alphas)
        assert np.count_nonzero(H, axis=1).max() <= 12  # at most rank(G) = n active
        for g, alpha in enumerate(alphas):
            ref = sklearn_objective(X[b], y[b], alpha)
            assert objective(X[b], y[b], H[g], alpha) - ref <= 1e-10 * ref


def test_n_below_d_paths_are_certified_at_the_first_sweep():
    # the homotopy's points are exact: one sweep confirms them (coordinate descent alone needs
    # hundreds of sweeps per alpha on some of these instances)
    X, y = problems("gaussian", 50, 12, 30, seed=22)
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    _, info = lasso(X, y, alphas, return_info=True)
    assert info.converged.all() and np.mean(info.n_iter == 1) >= 0.99


def test_zero_column_at_n_below_d_stays_zero():
    X, y = problems("gaussian", 3, 10, 20, seed=9)
    X[:, :, 5] = 0.0
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    W = lasso(X, y, alphas, tol=1e-13, max_iter=100_000)
    assert np.all(W[..., 5] == 0.0)
    for b in range(3):
        for g, alpha in enumerate(alphas):
            ref = sklearn_objective(X[b], y[b], alpha)
            assert abs(objective(X[b], y[b], W[g, b], alpha) - ref) <= 1e-8 * ref
