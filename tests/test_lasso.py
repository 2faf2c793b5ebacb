"""Batched Lasso against scikit-learn, KKT conditions and exact special cases."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Lasso, lasso_path

from solvers import LassoConvergenceWarning, lasso, lasso_alpha_max, lasso_theory_alpha
from solvers._lasso_cd import soft_threshold

FRACTIONS = np.array([0.9, 0.3, 0.05, 0.005])


def objective(X, y, w, alpha):
    """(1/2n)||y - Xw||^2 + alpha ||w||_1 for one problem."""
    return np.sum((y - X @ w) ** 2) / (2 * len(y)) + alpha * np.abs(w).sum()


def sklearn_objective(X, y, alpha):
    model = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=1_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn may warn that tol=1e-12 is not met
        model.fit(X, y)
    return objective(X, y, model.coef_, alpha)


def design(kind, trials, n, d, rng):
    """Gaussian, AR(1) rho = 0.9 correlated, or with exactly duplicated columns."""
    X = rng.standard_normal((trials, n, d))
    if kind == "ar1":
        rho = 0.9
        for j in range(1, d):
            X[..., j] = rho * X[..., j - 1] + np.sqrt(1 - rho**2) * X[..., j]
    if kind == "duplicated":
        X[..., d // 2:] = X[..., : d - d // 2]
    return X


def problems(kind, trials, n, d, seed):
    rng = np.random.default_rng(seed)
    X = design(kind, trials, n, d, rng)
    w = np.zeros((trials, d))
    w[:, :3] = rng.standard_normal((trials, 3))
    y = np.einsum("bnd,bd->bn", X, w) + 0.3 * rng.standard_normal((trials, n))
    return X, y


CASES = [("gaussian", 40, 12), ("gaussian", 10, 25), ("ar1", 30, 16), ("ar1", 12, 20), ("duplicated", 30, 12)]


@pytest.mark.parametrize("kind,n,d", CASES)
def test_objective_matches_sklearn(kind, n, d):
    X, y = problems(kind, 4, n, d, seed=n * d)
    alphas = FRACTIONS * lasso_alpha_max(X, y).min()
    W = lasso(X, y, alphas, tol=1e-13, max_iter=100_000)
    for b in range(X.shape[0]):
        for g, alpha in enumerate(alphas):
            ref = sklearn_objective(X[b], y[b], alpha)
            ours = objective(X[b], y[b], W[g, b], alpha)
            assert abs(ours - ref) <= 1e-8 * ref, (b, alpha, ours, ref)


@pytest.mark.parametrize("kind,n,d", CASES)
def test_default_tol_bounds_suboptimality(kind, n, d):
    """The duality gap certifies P(w) - P(w_opt) <= tol ||y||^2 / (2n) at the default tol.

    (AR(1) designs at small alpha need more than the default 1000 sweeps, as in scikit-learn.)
    """
    X, y = problems(kind, 3, n, d, seed=7 + n)
    alphas = FRACTIONS * lasso_alpha_max(X, y).min()
    W, info = lasso(X, y, alphas, max_iter=100_000, return_info=True)
    assert info.converged.all()
    for b in range(X.shape[0]):
        bound = 1e-8 * np.sum(y[b] ** 2) / (2 * n)
        for g, alpha in enumerate(alphas):
            excess = objective(X[b], y[b], W[g, b], alpha) - sklearn_objective(X[b], y[b], alpha)
            assert excess <= bound + 1e-14
            assert info.gap[g, b] <= bound


@pytest.mark.parametrize("kind,n,d", CASES)
def test_kkt_conditions(kind, n, d):
    """|X^T r / n| <= alpha everywhere, = alpha sign(w_j) on the support."""
    X, y = problems(kind, 4, n, d, seed=3 * d)
    alpha_max = lasso_alpha_max(X, y).min()
    alphas = FRACTIONS * alpha_max
    W = lasso(X, y, alphas, tol=1e-14, max_iter=100_000)
    # gap <= 1e-14 ||y||^2/(2n) leaves a KKT residual of order sqrt(gap): 1e-6 alpha_max is ample
    eps = 1e-6 * alpha_max
    for g, alpha in enumerate(alphas):
        r = y - np.einsum("bnd,bd->bn", X, W[g])
        q = np.einsum("bnd,bn->bd", X, r) / n
        assert np.all(np.abs(q) <= alpha + eps)
        on = W[g] != 0
        assert np.all(np.abs(q[on] - alpha * np.sign(W[g][on])) <= eps)


def test_path_matches_sklearn_lasso_path():
    X, y = problems("gaussian", 3, 50, 20, seed=11)
    alphas = lasso_alpha_max(X, y).max() * np.geomspace(1, 1e-3, 30)
    W, info = lasso(X, y, alphas, tol=1e-13, return_info=True)
    assert W.shape == (30, 3, 20)
    assert info.converged.shape == info.gap.shape == info.n_iter.shape == (30, 3)
    for b in range(3):
        _, coefs, _ = lasso_path(X[b], y[b], alphas=alphas, tol=1e-12, max_iter=1_000_000)
        # n > d: unique, well-conditioned solution, so coefficients agree too
        np.testing.assert_allclose(W[:, b], coefs.T, rtol=0, atol=1e-7)
        for g, alpha in enumerate(alphas):
            ref = objective(X[b], y[b], coefs[:, g], alpha)
            assert abs(objective(X[b], y[b], W[g, b], alpha) - ref) <= 1e-8 * ref


def test_path_returned_in_given_order():
    X, y = problems("ar1", 3, 20, 10, seed=5)
    alphas = lasso_alpha_max(X, y).max() * np.array([0.01, 0.5, 0.1, 0.9, 0.02])
    W, info = lasso(X, y, alphas, return_info=True)
    order = np.argsort(-alphas)
    W_sorted, info_sorted = lasso(X, y, alphas[order], return_info=True)
    back = np.argsort(order)
    np.testing.assert_array_equal(W, W_sorted[back])
    np.testing.assert_array_equal(info.gap, info_sorted.gap[back])
    np.testing.assert_array_equal(info.n_iter, info_sorted.n_iter[back])


def test_alpha_at_or_above_alpha_max_gives_exact_zeros():
    X, y = problems("gaussian", 5, 20, 30, seed=2)
    alpha_max = lasso_alpha_max(X, y)
    assert alpha_max.shape == (5,)
    np.testing.assert_allclose(alpha_max, np.abs(np.einsum("bnd,bn->bd", X, y)).max(axis=1) / 20)
    for b in range(5):
        w, info = lasso(X[b], y[b], [alpha_max[b], 2 * alpha_max[b]], return_info=True)
        assert np.all(w == 0.0)
        assert info.converged.all() and np.all(info.gap == 0.0)
    just_below = lasso(X[0], y[0], alpha_max[0] * (1 - 1e-6))
    assert np.count_nonzero(just_below) >= 1


def test_zero_response_gives_zeros():
    X = np.random.default_rng(0).standard_normal((3, 8, 5))
    y = np.zeros((3, 8))
    W, info = lasso(X, y, [1.0, 1e-3], return_info=True)
    assert np.all(W == 0.0) and info.converged.all()
    assert np.all(lasso_alpha_max(X, y) == 0.0)


def test_zero_column_stays_zero():
    X, y = problems("gaussian", 2, 20, 6, seed=9)
    X[:, :, 2] = 0.0
    alpha = 0.05 * lasso_alpha_max(X, y).min()
    W = lasso(X, y, alpha, tol=1e-13)
    assert np.all(W[:, 2] == 0.0)
    for b in range(2):
        ref = sklearn_objective(X[b], y[b], alpha)
        assert abs(objective(X[b], y[b], W[b], alpha) - ref) <= 1e-8 * ref


def test_single_problem_matches_batch():
    X, y = problems("gaussian", 3, 15, 8, seed=4)
    alpha = 0.1 * lasso_alpha_max(X, y).min()
    W = lasso(X, y, alpha, tol=1e-13)
    w0, info0 = lasso(X[0], y[0], alpha, tol=1e-13, return_info=True)
    assert W.shape == (3, 8) and w0.shape == (8,)
    assert info0.converged.shape == () and bool(info0.converged)
    np.testing.assert_allclose(w0, W[0], rtol=0, atol=1e-9)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 10),
    d=st.integers(1, 10),
    trials=st.integers(1, 3),
    fractions=st.lists(st.floats(1e-3, 1.5), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_random_shapes_and_alphas(n, d, trials, fractions, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((trials, n, d))
    y = rng.standard_normal((trials, n))
    alphas = np.array(fractions) * lasso_alpha_max(X, y).max()
    W, info = lasso(X, y, alphas, tol=1e-13, max_iter=100_000, return_info=True)
    assert W.shape == (len(alphas), trials, d)
    assert info.converged.all()
    for b in range(trials):
        for g, alpha in enumerate(alphas):
            ref = sklearn_objective(X[b], y[b], alpha)
            assert abs(objective(X[b], y[b], W[g, b], alpha) - ref) <= 1e-8 * ref + 1e-15


def test_convergence_info_with_max_iter_one():
    X, y = problems("ar1", 6, 20, 16, seed=8)
    alphas = lasso_alpha_max(X, y).min() * np.array([0.3, 0.01])
    with pytest.warns(LassoConvergenceWarning, match="did not converge"):
        W, info = lasso(X, y, alphas, max_iter=1, finish_max_iter=0, return_info=True)
    assert np.all(np.isfinite(W))
    assert np.all(info.n_iter == 1)
    assert not info.converged.all()
    thresholds = 1e-8 * np.sum(y**2, axis=1) / (2 * 20)
    np.testing.assert_array_equal(info.converged, info.gap <= thresholds)
    # the reported gap really is the duality gap: it bounds the suboptimality
    for b in range(6):
        for g, alpha in enumerate(alphas):
            excess = objective(X[b], y[b], W[g, b], alpha) - sklearn_objective(X[b], y[b], alpha)
            assert -1e-12 <= excess <= info.gap[g, b] + 1e-12


def test_finishing_stage_converges_what_the_batched_stage_left():
    X, y = problems("ar1", 6, 20, 16, seed=8)
    alphas = lasso_alpha_max(X, y).min() * np.array([0.3, 0.01])
    W, info = lasso(X, y, alphas, max_iter=1, return_info=True)
    assert info.converged.all() and np.any(info.n_iter > 1)
    thresholds = 1e-8 * np.sum(y**2, axis=1) / (2 * 20)
    assert np.all(info.gap <= thresholds)
    for b in range(6):
        for g, alpha in enumerate(alphas):
            ref = sklearn_objective(X[b], y[b], alpha)
            assert objective(X[b], y[b], W[g, b], alpha) - ref <= 1e-8 * ref


def test_default_settings_converge_without_warning():
    X, y = problems("ar1", 10, 30, 20, seed=1)
    alphas = lasso_alpha_max(X, y).max() * np.geomspace(1, 1e-3, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, info = lasso(X, y, alphas, return_info=True)
    assert info.converged.all() and np.all(info.n_iter >= 1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"alpha": 0.0}, "alpha must be > 0; alpha = 0 is least squares"),
        ({"alpha": [0.1, 0.0]}, "alpha must be > 0"),
        ({"alpha": -1.0}, "alpha must be >= 0"),
        ({"alpha": np.ones((2, 2))}, "alpha must be a scalar or a 1-D array"),
        ({"alpha": np.nan}, "alpha must be finite"),
        ({"alpha": 0.1, "tol": 0}, "tol must be finite and > 0"),
        ({"alpha": 0.1, "tol": "x"}, "tol must be a positive number"),
        ({"alpha": 0.1, "max_iter": 0}, "max_iter must be an integer >= 1"),
        ({"alpha": 0.1, "max_iter": 2.5}, "max_iter must be an integer >= 1"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    X, y = problems("gaussian", 2, 5, 3, seed=0)
    with pytest.raises(ValueError, match=match):
        lasso(X, y, **kwargs)


def test_bad_problem_shapes_are_named():
    with pytest.raises(ValueError, match="y must have shape"):
        lasso(np.ones((2, 5, 3)), np.ones((2, 4)), 0.1)
    with pytest.raises(ValueError, match="X must have shape"):
        lasso_alpha_max(np.ones(5), np.ones(5))


def test_theory_alpha():
    assert lasso_theory_alpha(100, 50, 0.5) == pytest.approx(0.5 * np.sqrt(2 * np.log(50) / 100))
    assert lasso_theory_alpha(100, 50, 0.5, c=2.0) == pytest.approx(2 * lasso_theory_alpha(100, 50, 0.5))
    assert lasso_theory_alpha(10, 1, 1.0) == 0.0
    for kwargs, match in [({"n": 0}, "n must be"), ({"d": 2.0}, "d must be"),
                          ({"sigma": -1.0}, "sigma must be"), ({"c": 0.0}, "c must be")]:
        args = {"n": 10, "d": 5, "sigma": 1.0} | kwargs
        with pytest.raises(ValueError, match=match):
            lasso_theory_alpha(**args)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy

    X, y = problems("ar1", 20, 30, 16, seed=6)
    alphas = lasso_alpha_max(X, y).max() * np.geomspace(1, 1e-2, 8)
    W_np, info_np = lasso(X, y, alphas, tol=1e-12, return_info=True)
    W_cp, info_cp = lasso(cupy.asarray(X), cupy.asarray(y), alphas, tol=1e-12, return_info=True)
    assert isinstance(W_cp, cupy.ndarray)
    assert info_cp.converged.all()
    np.testing.assert_allclose(cupy.asnumpy(W_cp), W_np, rtol=0, atol=1e-8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=20),
       st.lists(st.floats(min_value=0.0, allow_nan=False, width=64), min_size=1, max_size=20))
def test_soft_threshold_is_bitwise_the_sign_formula(z, t):
    """z - min(max(z, -t), t) == sign(z) max(|z| - t, 0), bit for bit up to the sign of zero, infinities included
    (both forms give NaN for an infinite z with an infinite t)."""
    size = min(len(z), len(t))
    z, t = np.array(z[:size]), np.array(t[:size])
    with np.errstate(invalid="ignore"):
        expected = np.sign(z) * np.maximum(np.abs(z) - t, 0.0)
        got = soft_threshold(z, t)
    np.testing.assert_array_equal(got, expected)  # NaN where the other has NaN; -0.0 equals 0.0
