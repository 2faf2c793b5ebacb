"""Batched solvers against independent references (NumPy LAPACK, scikit-learn, plain iteration)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import ortho_group
from sklearn.linear_model import Ridge

import solvers
from simulations import sample_problems
from simulations.risk import RiskSummary, instance_risk

SHAPES = [(20, 8), (8, 20), (12, 12), (1, 5), (5, 1)]


def problems(rng, trials, n, d):
    return rng.standard_normal((trials, n, d)), rng.standard_normal((trials, n))


@pytest.mark.parametrize("n,d", SHAPES)
def test_ols_is_min_norm_lstsq(rng, n, d):
    X, y = problems(rng, 6, n, d)
    expected = np.stack([np.linalg.lstsq(X[i], y[i], rcond=None)[0] for i in range(6)])
    np.testing.assert_allclose(solvers.ols(X, y), expected, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("n,d", SHAPES)
def test_ridge_path_matches_sklearn(rng, n, d):
    X, y = problems(rng, 4, n, d)
    lams = np.array([1e-3, 0.1, 2.0])
    path = solvers.ridge(X, y, lams)
    assert path.shape == (3, 4, d)
    for g, lam in enumerate(lams):
        for i in range(4):
            ref = Ridge(alpha=lam * n, fit_intercept=False, solver="cholesky").fit(X[i], y[i]).coef_
            np.testing.assert_allclose(path[g, i], ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(solvers.ridge(X, y, 0.1), path[1])


def test_ridge_zero_lambda_is_ols(rng):
    X, y = problems(rng, 3, 7, 15)
    np.testing.assert_allclose(solvers.ridge(X, y, 0.0), solvers.ols(X, y), atol=1e-10)


def test_single_problem_drops_the_batch_axis(rng):
    X, y = problems(rng, 1, 10, 4)
    assert solvers.ridge(X[0], y[0], 0.5).shape == (4,)
    assert solvers.gd(X[0], y[0], 0.1, [1, 2, 3]).shape == (3, 4)
    assert solvers.pto(X[0], y[0], 0.1, 5).shape == (4,)
    np.testing.assert_allclose(solvers.ols(X[0], y[0]), solvers.ols(X, y)[0])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(1, 12), d=st.integers(1, 12), steps=st.integers(0, 30),
       step=st.floats(0.01, 1.5), seed=st.integers(0, 2**16))
def test_gd_closed_form_equals_iteration(n, d, steps, step, seed):
    rng = np.random.default_rng(seed)
    X, y = problems(rng, 3, n, d)
    eta = step / np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / n)[:, -1]  # eta * l_max <= 1.5
    closed = solvers.gd(X, y, eta, [steps, steps + 1])
    np.testing.assert_allclose(closed[0], solvers.gd_iterative(X, y, eta, steps), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(closed[1], solvers.gd_iterative(X, y, eta, steps + 1), rtol=1e-7, atol=1e-9)


def test_gd_auto_step_is_inverse_top_eigenvalue(rng):
    X, y = problems(rng, 5, 9, 6)
    eta = 1 / np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / 9)[:, -1]
    np.testing.assert_allclose(solvers.gd(X, y, "auto", 17), solvers.gd(X, y, eta, 17), rtol=1e-10)


def test_gd_long_run_converges_to_min_norm(rng):
    X, y = problems(rng, 3, 6, 10)
    np.testing.assert_allclose(solvers.gd(X, y, "auto", 10**9), solvers.ols(X, y), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("n,d", [(20, 8), (8, 20)])
@pytest.mark.parametrize("split", [None, 5])
@pytest.mark.parametrize("power", [2.0, 1.0])
def test_pto_closed_form_equals_iteration(rng, n, d, split, power):
    X, y = problems(rng, 4, n, d)
    closed = solvers.pto(X, y, 0.2, [0, 3, 25], split=split, power=power)
    assert closed.shape == (3, 4, d)
    assert np.all(closed[0] == 0)
    np.testing.assert_allclose(closed[2], solvers.pto_iterative(X, y, 0.2, 25, split=split, power=power),
                               rtol=1e-8, atol=1e-10)


def test_pto_is_preconditioned_gd_with_r_squared(rng):
    X, y = problems(rng, 3, 15, 6)
    r = np.einsum("tnd,tn->td", X, y) / 15
    w = np.zeros((3, 6))
    for _ in range(12):  # w <- w - eta P X^T (X w - y) / n with P = diag(r^2)
        w = w - 0.3 * r**2 * np.einsum("tnd,tn->td", X, np.einsum("tnd,td->tn", X, w) - y) / 15
    np.testing.assert_allclose(solvers.pto(X, y, 0.3, 12), w, rtol=1e-9, atol=1e-12)


def test_pto_power_zero_is_gd(rng):
    X, y = problems(rng, 3, 10, 5)
    np.testing.assert_allclose(solvers.pto(X, y, 0.1, 40, power=0.0), solvers.gd(X, y, 0.1, 40), atol=1e-12)


def test_oracle_support_is_lstsq_on_the_support(rng):
    X, y = problems(rng, 4, 10, 12)
    support = np.stack([np.sort(rng.choice(12, 3, replace=False)) for _ in range(4)])
    w = solvers.oracle_support(X, y, support)
    for i in range(4):
        expected = np.zeros(12)
        expected[support[i]] = np.linalg.lstsq(X[i][:, support[i]], y[i], rcond=None)[0]
        np.testing.assert_allclose(w[i], expected, atol=1e-10)
    mask = np.zeros((4, 12), dtype=bool)
    np.put_along_axis(mask, support, True, axis=1)
    np.testing.assert_array_equal(solvers.oracle_support(X, y, mask), w)
    np.testing.assert_array_equal(solvers.oracle_support(X[0], y[0], mask[0]), w[0])


def test_oracle_support_names_a_bad_boolean_mask(rng):
    X, y = problems(rng, 2, 10, 6)
    mask = np.zeros((2, 6), dtype=bool)
    mask[0, :2], mask[1, :3] = True, True
    with pytest.raises(ValueError, match="same number s >= 1 of True entries .* from 2 to 3"):
        solvers.oracle_support(X, y, mask)
    with pytest.raises(ValueError, match=r"shape \(trials, d\) = \(2, 6\), got \(2, 5\)"):
        solvers.oracle_support(X, y, mask[:, :5])


def rotate(rng, X, y, fit):
    Q = ortho_group.rvs(X.shape[2], random_state=rng.integers(2**31))
    return fit(X @ Q.T, y), Q @ fit(X, y)[..., None]


@pytest.mark.parametrize("fit", [
    solvers.ols,
    lambda X, y: solvers.ridge(X, y, 0.3),
    lambda X, y: solvers.gd(X, y, 0.2, 15),
], ids=["ols", "ridge", "gd"])
@pytest.mark.parametrize("n,d", [(14, 6), (6, 14)])
def test_rotation_equivariance(rng, fit, n, d):
    X, y = problems(rng, 3, n, d)
    rotated, expected = rotate(rng, X, y, fit)
    np.testing.assert_allclose(rotated, expected[..., 0], rtol=1e-8, atol=1e-10)


def test_pto_is_not_rotation_equivariant(rng):
    X, y = problems(rng, 3, 14, 6)
    rotated, expected = rotate(rng, X, y, lambda X, y: solvers.pto(X, y, 0.2, 15))
    gap = np.linalg.norm(rotated - expected[..., 0], axis=1) / np.linalg.norm(rotated, axis=1)
    assert np.all(gap > 1e-2)


def test_too_large_step_diverges_to_infinite_risk(rng):
    X, y = problems(rng, 4, 10, 5)
    risk = instance_risk(solvers.gd(X, y, 10.0, [1, 5000]), np.zeros((4, 5)))
    assert np.all(np.isfinite(risk[0])) and np.all(np.isinf(risk[1]))
    summary = RiskSummary.of(risk[1])
    assert summary.mean == np.inf and summary.diverged == 4


@pytest.mark.parametrize("call,message", [
    (lambda X, y: solvers.ols(X[0, 0], y), "X must have shape"),
    (lambda X, y: solvers.ols(X, y[:, :3]), "y must have shape"),
    (lambda X, y: solvers.ols(np.where(X > 2, np.nan, X), y), "X contains NaN"),
    (lambda X, y: solvers.ridge(X, y, -1.0), "lam must be >= 0"),
    (lambda X, y: solvers.ridge(X, y, [[1.0]]), "lam must be a scalar or a 1-D array"),
    (lambda X, y: solvers.gd(X, y, 0.1, 2.5), "steps must be whole numbers"),
    (lambda X, y: solvers.gd(X, y, 0.0, 3), "step_size must be finite and > 0"),
    (lambda X, y: solvers.gd(X, y, "fast", 3), "step_size must be a positive number"),
    (lambda X, y: solvers.gd(X, y, np.ones(3), 3), r"step_size must be a scalar or have shape \(trials,\)"),
    (lambda X, y: solvers.pto(X, y, 0.1, 3, split=10), r"split must be an integer in \[1, n\)"),
    (lambda X, y: solvers.pto(X, y, 0.1, 3, power=-1), "power must be >= 0"),
    (lambda X, y: solvers.oracle_support(X, y, np.full((2, 1), 7)), r"support indices must lie in \[0, d\)"),
    (lambda X, y: solvers.gd_iterative(X, y, 0.1, [1, 2]), "steps must be a single integer"),
])
def test_bad_input_names_the_parameter(rng, call, message):
    X, y = problems(rng, 2, 10, 4)
    with pytest.raises((ValueError, TypeError), match=message):
        call(X, y)


def test_linear_algebra_in_batches_equals_one_call(monkeypatch):
    """Stacks are cut into LINALG_BATCH-sized calls (cuSOLVER batch limits); the result must not change."""
    from solvers import backend

    p = sample_problems(20, 12, 3, 0.2, 50, seed=8)
    lams = np.logspace(-3, 1, 5)
    alphas = np.geomspace(0.3, 0.003, 6)
    whole = solvers.ridge(p.X, p.y, lams), solvers.ols(p.X, p.y), solvers.lasso(p.X, p.y, alphas, tol=1e-10)
    monkeypatch.setattr(backend, "LINALG_BATCH", 7)
    sliced = solvers.ridge(p.X, p.y, lams), solvers.ols(p.X, p.y), solvers.lasso(p.X, p.y, alphas, tol=1e-10)
    for a, b in zip(whole, sliced):
        np.testing.assert_array_equal(a, b)
    values, vectors = backend.in_batches(np.linalg.eigh, p.X.transpose(0, 2, 1) @ p.X, size=9)
    ref = np.linalg.eigh(p.X.transpose(0, 2, 1) @ p.X)
    np.testing.assert_array_equal(values, ref.eigenvalues)
    np.testing.assert_array_equal(vectors, ref.eigenvectors)
    pair = backend.in_batches(lambda a: (a + 1, a * 2), p.y, size=9)
    assert type(pair) is tuple and np.array_equal(pair[1], 2 * p.y)


@pytest.mark.parametrize("solve", [
    lambda X, y: solvers.ols(X, y),
    lambda X, y: solvers.ridge(X, y, [0.1, 1.0]),
    lambda X, y: solvers.gd(X, y, 0.1, [1, 10]),
    lambda X, y: solvers.gd(X, y, "auto", [1, 10]),
    lambda X, y: solvers.pto(X, y, 0.1, [1, 10]),
    lambda X, y: solvers.lasso(X, y, [0.1, 0.01], tol=1e-5),
    lambda X, y: solvers.oracle_support(X, y, np.tile(np.arange(2), (X.shape[0], 1))),
])
def test_float32_in_float32_out(solve):
    p = sample_problems(10, 6, 2, 0.1, 4, seed=2, dtype="float32")
    assert solve(p.X, p.y).dtype == np.float32
