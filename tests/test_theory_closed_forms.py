"""Closed forms of ``theory`` against independent references (quadrature, exact algebra, SymPy)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import theory
from theory import derivations

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


def test_mp_law_moments():
    gamma = np.array([0.1, 0.5, 0.95, 1.0, 1.05, 2.0, 10.0])
    assert np.allclose(theory.mp_integrate(np.ones_like, gamma), 1.0, atol=1e-12)
    assert np.allclose(theory.mp_integrate(lambda l: l, gamma), 1.0, atol=1e-12)
    assert np.allclose(theory.mp_integrate(lambda l: l**2, gamma), 1.0 + gamma, atol=1e-11)
    assert np.allclose(theory.mp_integrate(lambda l: l**3, gamma), 1.0 + 3 * gamma + gamma**2, atol=1e-10)


@pytest.mark.parametrize("gamma", [0.05, 0.3, 0.8, 0.9, 1.0, 1.1, 1.25, 3.0, 10.0])
def test_ridge_quadrature_matches_closed_form(gamma):
    lam = np.geomspace(1e-2, 10, 9)
    sigma = np.sqrt(0.2)
    quad = theory.filter_risk(gamma, signal_norm2=1.3, sigma=sigma, residual=lambda l, lam: lam / (l + lam),
                              gain=lambda l, lam: l / (l + lam) ** 2, params=(lam,))
    closed = theory.ridge_risk_limit(gamma, signal_norm2=1.3, sigma=sigma, lam=lam)
    assert np.allclose(quad, closed, rtol=1e-8, atol=0)


@pytest.mark.parametrize("gamma", [0.3, 0.7, 1.5, 4.0])
def test_ridgeless_is_the_small_lambda_limit(gamma):
    at_zero = theory.ridge_risk_limit(gamma, signal_norm2=1.0, sigma=0.3, lam=0.0)
    near = theory.ridge_risk_limit(gamma, signal_norm2=1.0, sigma=0.3, lam=1e-9)
    assert at_zero == pytest.approx(near, rel=1e-6)
    expected = 0.09 * gamma / (1 - gamma) if gamma < 1 else 1 - 1 / gamma + 0.09 / (gamma - 1)
    assert at_zero == pytest.approx(expected, rel=1e-12)


def test_ridgeless_at_gamma_one():
    assert theory.ridge_risk_limit(1.0, signal_norm2=1.0, sigma=0.1, lam=0.0) == np.inf
    assert theory.ridge_risk_limit(1.0, signal_norm2=1.0, sigma=0.0, lam=0.0) == 0.0
    assert theory.ridge_risk_limit(1.0, signal_norm2=1.0, sigma=0.0, lam=1e-12) < 1e-5  # kappa ~ sqrt(lam)


@SETTINGS
@given(gamma=st.floats(0.05, 8.0), r2=st.floats(0.1, 5.0), sigma=st.floats(0.1, np.sqrt(2.0)))
def test_optimal_lambda_minimises_the_closed_form(gamma, r2, sigma):
    lam_star = theory.ridge_optimal_lambda(gamma, signal_norm2=r2, sigma=sigma)
    best = theory.ridge_optimal_risk(gamma, signal_norm2=r2, sigma=sigma)
    assert best == pytest.approx(theory.ridge_risk_limit(gamma, signal_norm2=r2, sigma=sigma, lam=lam_star), rel=1e-10)
    grid = lam_star * np.geomspace(0.2, 5.0, 41)
    assert np.all(theory.ridge_risk_limit(gamma, signal_norm2=r2, sigma=sigma, lam=grid) >= best * (1 - 1e-12))


@SETTINGS
@given(gamma=st.floats(0.05, 8.0), r2=st.floats(0.0, 5.0), sigma=st.floats(0.0, np.sqrt(2.0)), eta=st.floats(0.01, 1.0))
def test_one_gd_step_limit_matches_exact_formula_as_n_grows(gamma, r2, sigma, eta):
    # The exact finite-n formula at d = gamma n tends to r2[(1-eta)^2 + eta^2 gamma] + eta^2 sigma^2 gamma,
    # which is the MP integral of the T = 1 filter: int (1 - eta l)^2 dF = 1 - 2 eta + eta^2 (1 + gamma).
    limit = theory.gd_risk_limit(gamma, signal_norm2=r2, sigma=sigma, step_size=eta, steps=1)
    n = 1e9
    exact = theory.one_step_gd_risk(n, gamma * n, signal_norm2=r2, sigma=sigma, step_size=eta)
    assert limit == pytest.approx(exact, rel=1e-7, abs=1e-12)


@SETTINGS
@given(n=st.integers(1, 500), d=st.integers(1, 500), r2=st.floats(0.01, 5.0), sigma=st.floats(0.0, np.sqrt(2.0)))
def test_one_step_optimal_step_minimises(n, d, r2, sigma):
    eta = theory.one_step_gd_optimal_step(n, d, signal_norm2=r2, sigma=sigma)
    best = theory.one_step_gd_risk(n, d, signal_norm2=r2, sigma=sigma, step_size=eta)
    for other in (eta * 0.9, eta * 1.1, eta + 1e-3, max(eta - 1e-3, 0)):
        assert theory.one_step_gd_risk(n, d, signal_norm2=r2, sigma=sigma, step_size=other) >= best


def test_one_step_matches_spec_number():
    # docs/math.md, section 4a: n=16, d=32, sigma=0.5, eta=0.4, E||w*||^2 = 1 -> 0.77.
    assert theory.one_step_gd_risk(16, 32, signal_norm2=1.0, sigma=0.5, step_size=0.4) == pytest.approx(0.77, abs=1e-12)


def test_gradient_flow_is_the_small_step_limit_of_gd():
    gamma, t = np.array([0.5, 2.0]), 3.0
    sigma = np.sqrt(0.1)
    flow = theory.gradient_flow_risk_limit(gamma, signal_norm2=1.0, sigma=sigma, time=t)
    gd = theory.gd_risk_limit(gamma, signal_norm2=1.0, sigma=sigma, step_size=t / 3000, steps=3000)
    assert np.allclose(gd, flow, rtol=1e-3)


def test_long_gd_run_reaches_ridgeless():
    for gamma in (0.3, 3.0):
        eta = 1 / (1 + np.sqrt(gamma)) ** 2
        assert theory.gd_risk_limit(gamma, signal_norm2=1.0, sigma=0.2, step_size=eta, steps=10**6) == pytest.approx(
            theory.ridge_risk_limit(gamma, signal_norm2=1.0, sigma=0.2, lam=0.0), rel=1e-6)


@pytest.mark.parametrize("gamma,sigma", [(0.25, 0.1), (0.5, 0.5), (1.0, 0.1), (2.0, 0.5), (4.0, 0.1)])
def test_optimal_stopping_is_optimal_and_above_bayes_ridge(gamma, sigma):
    eta = 1 / (1 + np.sqrt(gamma)) ** 2
    problem = {"signal_norm2": 1.0, "sigma": sigma}
    risk, T = theory.gd_optimal_steps(gamma, **problem, step_size=eta)
    assert risk == pytest.approx(theory.gd_risk_limit(gamma, **problem, step_size=eta, steps=T), rel=1e-12)
    for other in (max(T - 1, 0), T + 1, round(T * 0.7), round(T * 1.4)):
        assert theory.gd_risk_limit(gamma, **problem, step_size=eta, steps=other) >= risk * (1 - 1e-12)
    floor = theory.ridge_optimal_risk(gamma, **problem)
    flow, t = theory.gradient_flow_optimal_time(gamma, **problem)
    assert floor <= flow * (1 + 1e-9) and floor <= risk * (1 + 1e-9)
    assert flow <= theory.gradient_flow_risk_limit(gamma, **problem, time=np.array([t * 0.9, t * 1.1])).min() + 1e-12


def test_functions_broadcast():
    gamma = np.array([[0.5], [2.0]])
    lam = np.array([0.1, 1.0, 10.0])
    assert theory.ridge_risk_limit(gamma, signal_norm2=1.0, sigma=0.3, lam=lam).shape == (2, 3)
    assert theory.gd_risk_limit(gamma, signal_norm2=1.0, sigma=0.3, step_size=0.2,
                                steps=np.array([1, 10, 100])).shape == (2, 3)
    R, T = theory.gd_optimal_steps(gamma, signal_norm2=1.0, sigma=np.array([0.1, 0.3]), step_size=0.2, max_steps=500)
    assert T.shape == R.shape == (2, 2)
    assert theory.one_step_gd_risk(np.array([10, 20]), 5, signal_norm2=1.0, sigma=0.0, step_size=0.5).shape == (2,)


@pytest.mark.parametrize("call,name", [
    (lambda: theory.ridge_risk_limit(0.0, signal_norm2=1.0, sigma=0.3, lam=1.0), "gamma"),
    (lambda: theory.ridge_risk_limit(1.0, signal_norm2=-1.0, sigma=0.3, lam=1.0), "signal_norm2"),
    (lambda: theory.ridge_risk_limit(1.0, signal_norm2=1.0, sigma=0.3, lam=-1.0), "lam"),
    (lambda: theory.gd_risk_limit(1.0, signal_norm2=1.0, sigma=0.3, step_size=0.0, steps=3), "step_size"),
    (lambda: theory.gd_risk_limit(1.0, signal_norm2=1.0, sigma=0.3, step_size=0.1, steps=2.5), "steps"),
    (lambda: theory.one_step_gd_risk(0, 3, signal_norm2=1.0, sigma=0.3, step_size=0.1), "n"),
    (lambda: theory.one_step_gd_risk(3, 3, signal_norm2=1.0, sigma=np.nan, step_size=0.1), "sigma"),
    (lambda: theory.ridge_optimal_risk(1.0, signal_norm2=1.0, sigma=-0.1), "sigma"),
    (lambda: theory.gd_optimal_steps(1.0, signal_norm2=1.0, sigma=0.3, step_size=0.1, max_steps=0), "max_steps"),
    (lambda: theory.pto_rate(10, 4, 5, signal_norm2=1.0, sigma=0.1), "s"),
])
def test_bad_parameters_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_exact_bounds_match_formulas():
    assert theory.oracle_exact(20, 50, 4, signal_norm2=1.0, sigma=0.5) == pytest.approx(0.25 * 4 / 15)
    assert theory.ols_exact(30, 10, 2, signal_norm2=1.0, sigma=0.5) == pytest.approx(0.25 * 10 / 19)
    assert theory.ols_exact(10, 30, 2, signal_norm2=1.0, sigma=0.5) == pytest.approx(1 - 10 / 30 + 0.25 * 10 / 19)
    # |n - d| <= 1: infinite inverse-Wishart mean, so an infinite risk with noise and the bias alone without.
    assert np.all(theory.ols_exact([9, 10, 11], 10, 2, signal_norm2=1.0, sigma=0.5) == np.inf)
    np.testing.assert_allclose(theory.ols_exact([9, 10, 11], 10, 2, signal_norm2=1.0, sigma=0.0), [0.1, 0.0, 0.0])
    assert np.all(theory.oracle_exact([4, 5], 50, 4, signal_norm2=1.0, sigma=0.5) == np.inf)
    np.testing.assert_array_equal(theory.oracle_exact([3, 4, 5], 50, 4, signal_norm2=1.0, sigma=0.0),
                                  [np.nan, 0.0, 0.0])
    assert theory.equivariant_floor(50, 100, 3, signal_norm2=1.0, sigma=0.3) == pytest.approx(
        theory.ridge_optimal_risk(2.0, signal_norm2=1.0, sigma=0.3))


@pytest.mark.parametrize("name", ["one_step_gd", "ridge_fixed_point"])
def test_sympy_derivations_close(name):
    result = getattr(derivations, name)()
    residuals = {k: v for k, v in result.items() if "residual" in k or k == "stationarity"}
    assert len(residuals) >= 3
    for key, value in residuals.items():
        assert value == 0, f"{name}: {key} = {value}"
