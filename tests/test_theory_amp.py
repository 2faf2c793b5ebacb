"""AMP state evolution (theory.amp) and its scalar channel: quadrature, fixed points, exact cross-checks.

The Monte Carlo checks against the project's solvers are in test_theory_amp_montecarlo.py.
"""

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

import theory
from theory import derivations
from theory.amp import _cells, _lasso_state, _threshold_floor
from theory.fixed_point import FixedPointError, iterate
from theory.scalar_channel import bayes_mmse, mutual_information, soft_threshold_risk, sparse_prior

LAWS = ("gaussian", "rademacher", "unnormalized")


@pytest.mark.parametrize("name", ["amp_normalisation", "soft_threshold_moments", "replica_stationarity"])
def test_sympy_derivations_close(name):
    residuals = {k: v for k, v in getattr(derivations, name)().items() if k.endswith("residual")}
    assert len(residuals) >= 2
    for key, value in residuals.items():
        assert value == 0, f"{name}: {key} = {value}"


# ------------------------------------------------------------------------------------------ scalar channel

def _components(prior):
    return [(float(p), float(m), float(v)) for p, m, v in zip(prior.weight, prior.mean, prior.var)]


def _quad(f, points):
    """Adaptive quadrature (QUADPACK) over the real line split at ``points``."""
    edges = [-np.inf, *sorted(set(points)), np.inf]
    return sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=500)[0] for a, b in zip(edges[:-1], edges[1:]))


def _reference_channel(prior, t):
    """mmse and I(W; Y) by QUADPACK on y, from the mixture density directly (an independent formula)."""
    comps = [c for c in _components(prior) if c[0] > 0]

    def parts(y):
        log_joint = np.array([np.log(p) + norm.logpdf(y, m, np.sqrt(v + t * t)) for p, m, v in comps])
        top = log_joint.max()
        weights = np.exp(log_joint - top)
        means = np.array([m + v / (v + t * t) * (y - m) for p, m, v in comps])
        return top + np.log(weights.sum()), weights / weights.sum(), means

    def second_moment_of_mean(y):
        log_density, weights, means = parts(y)
        return np.exp(log_density) * (weights @ means) ** 2

    def density_log_density(y):
        log_density, _, _ = parts(y)
        return np.exp(log_density) * log_density

    points = [m for _, m, _ in comps] + [s * t for s in (-3, -1, 1, 3)]
    second = sum(p * (m * m + v) for p, m, v in comps)
    mmse = second - _quad(second_moment_of_mean, points)
    entropy = -_quad(density_log_density, points)
    return mmse, entropy - 0.5 * np.log(2 * np.pi * np.e * t * t)


@pytest.mark.parametrize("signal", LAWS)
@pytest.mark.parametrize("t", [0.3, 1.0, 3.0])
def test_bayes_channel_matches_adaptive_quadrature(signal, t):
    # E W^2 - E E[W|Y]^2 and h(Y) - h(tZ): another formula and another rule (QUADPACK), at moderate SNR
    # where the subtraction loses no digits that matter at 1e-8.
    prior = sparse_prior(np.array(64.0), np.array(8.0), signal)
    mmse, info = _reference_channel(prior, t)
    assert bayes_mmse(prior, np.array(t)) == pytest.approx(mmse, rel=1e-8, abs=1e-12)
    assert mutual_information(prior, np.array(t)) == pytest.approx(info, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("signal", LAWS)
def test_bayes_channel_rule_is_converged_at_high_snr(signal):
    # Halving the step changes nothing beyond rounding, down to tau = 1e-4 (SNR 1e8) and eps = 1/1000.
    prior = sparse_prior(np.full(40, 1000.0), np.full(40, 1.0), signal)
    t = np.geomspace(1e-4, 10, 40)
    for func in (bayes_mmse, mutual_information):
        fine, coarse = func(prior, t, step=1 / 256), func(prior, t)
        assert np.all(np.abs(coarse - fine) <= 1e-9 * np.abs(fine) + 1e-15)


@pytest.mark.parametrize("signal", LAWS)
def test_i_mmse_relation(signal):
    # dI / d(snr) = mmse / 2 (Guo, Shamai, Verdu 2005): ties the two quadratures together.
    prior = sparse_prior(np.array(50.0), np.array(5.0), signal)
    for t in (0.2, 0.7, 2.0):
        snr, h = 1 / t**2, 1e-4 / t**2
        slope = (mutual_information(prior, np.array((snr + h) ** -0.5))
                 - mutual_information(prior, np.array((snr - h) ** -0.5))) / (2 * h)
        assert slope == pytest.approx(bayes_mmse(prior, np.array(t)) / 2, rel=1e-6)


def test_gaussian_channel_closed_forms():
    prior = sparse_prior(np.array(10.0), np.array(10.0), "gaussian")  # eps = 1, W ~ N(0, 1)
    t = np.array([0.1, 1.0, 4.0])
    np.testing.assert_allclose(bayes_mmse(prior, t), t**2 / (1 + t**2), rtol=1e-13)
    np.testing.assert_allclose(mutual_information(prior, t), 0.5 * np.log1p(1 / t**2), rtol=1e-12)


@pytest.mark.parametrize("signal", LAWS)
def test_soft_threshold_risk_matches_quadrature(signal):
    prior = sparse_prior(np.array(40.0), np.array(5.0), signal)
    t, theta = 0.8, 1.1
    mse = active = 0.0
    for p, m, v in _components(prior):
        S = np.sqrt(v + t * t)
        eta = lambda y: np.sign(y) * max(abs(y) - theta, 0.0)  # noqa: E731
        # E[(eta(Y) - W)^2 | component] = E[(eta(Y) - E[W|Y])^2] + Var(W|Y), Y ~ N(m, S^2)
        post_mean = lambda y: m + v / S**2 * (y - m)  # noqa: E731
        mse += p * (_quad(lambda y: norm.pdf(y, m, S) * (eta(y) - post_mean(y)) ** 2, [m, -theta, theta])
                    + v * t * t / S**2)
        active += p * (norm.sf(theta, m, S) + norm.cdf(-theta, m, S))
    got = soft_threshold_risk(prior, np.array(t), np.array(theta))
    assert got.mse == pytest.approx(mse, rel=1e-9)
    assert got.active == pytest.approx(active, rel=1e-12)


# ------------------------------------------------------------------------------------------- fixed points

def test_damped_iteration_reaches_the_same_fixed_point():
    c = np.array([0.5, 1.0])
    fixed = {damping: iterate(lambda x, j: np.cos(c[j] * x), np.ones(2), str, damping=damping)
             for damping in (1.0, 0.5)}
    np.testing.assert_allclose(fixed[1.0], fixed[0.5], rtol=1e-9)
    np.testing.assert_allclose(fixed[1.0], np.cos(c * fixed[1.0]), rtol=1e-9)
    # x = cos(2x) has slope -1.7 at its fixed point: plain iteration cycles, damping by 1/2 converges.
    with pytest.raises(FixedPointError, match="c=2"):
        iterate(lambda x, j: np.cos(2 * x), np.ones(1), lambda i: "c=2")
    x = iterate(lambda x, j: np.cos(2 * x), np.ones(1), str, damping=0.5)
    assert x[0] == pytest.approx(np.cos(2 * x[0]), rel=1e-9)


def test_fixed_point_failure_names_the_setting():
    names = ["a=1", "a=2"]
    with pytest.raises(FixedPointError, match="a=2"):
        iterate(lambda x, j: np.where(j == 1, x + 1.0, 0.5 * x + 1.0), np.ones(2), lambda i: names[i], max_iter=50)
    with pytest.raises(FixedPointError, match="non-finite at a=1"):
        iterate(lambda x, j: np.where(j == 0, np.inf, x), np.ones(2), lambda i: names[i])


# ------------------------------------------------------------------------------------------------ limits

@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("sigma", [0.1, 0.7])
def test_gaussian_bayes_limit_at_eps_one_is_optimal_ridge(gamma, sigma):
    # Two independent code paths: Bayes state evolution with the quadrature vs the ridge closed form.
    n = 200.0
    ridge = theory.ridge_optimal_risk(gamma, signal_norm2=1.0, sigma=sigma)
    assert theory.bayes_risk_amp(n, gamma * n, gamma * n, sigma=sigma) == pytest.approx(ridge, rel=1e-8)
    assert theory.mmse_replica(n, gamma * n, gamma * n, sigma=sigma) == pytest.approx(ridge, rel=1e-8)


GRID = [(n, d, s, sigma) for n, d in ((100, 200), (300, 150)) for s in (0.05, 0.25) for sigma in (0.05, 0.5)]


@pytest.mark.parametrize("signal", LAWS)
def test_orderings_bayes_below_optimal_lasso_below_lasso(signal):
    n, d, frac, sigma = (np.array(v, float) for v in zip(*GRID))
    s = frac * d
    optimum = theory.lasso_optimal_risk_amp(n, d, s, sigma=sigma, signal=signal)
    alphas = np.geomspace(0.1, 10, 15)[:, None] * optimum.alpha
    lasso = theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=alphas, signal=signal)
    assert np.all(optimum.risk <= lasso * (1 + 1e-9))
    # the minimum over a fine alpha grid approaches the optimum; the optimum's alpha attains it
    assert np.all(lasso.min(axis=0) <= optimum.risk * (1 + 0.02))
    np.testing.assert_allclose(theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=optimum.alpha, signal=signal),
                               optimum.risk, rtol=1e-7)
    amp = theory.bayes_risk_amp(n, d, s, sigma=sigma, signal=signal)
    mmse = theory.mmse_replica(n, d, s, sigma=sigma, signal=signal)
    assert np.all(amp <= optimum.risk * (1 + 1e-9))
    assert np.all(mmse <= amp * (1 + 1e-9))


def test_lasso_limit_ends():
    # alpha -> 0 with n > d: least squares, sigma^2 d / (n - d); alpha -> inf: the zero estimate, E||w*||^2.
    n, d, s, sigma = 300, 100, 10, 0.5
    assert theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=1e-9) == pytest.approx(sigma**2 * d / (n - d), rel=1e-6)
    assert theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=1e3, signal="unnormalized") == pytest.approx(s, rel=1e-9)


@pytest.mark.parametrize("n", [60.0, 100.0, 400.0])
def test_calibration_is_increasing_where_positive(n):
    # The calibration alpha(a) is one-to-one on alpha > 0, so the root search finds the one threshold.
    cells = _cells(n, 200.0, 20.0, 0.2, "rademacher")
    a = _threshold_floor(cells.delta) + np.linspace(0.05, 4.0, 80)
    alpha = _lasso_state(cells, a, np.zeros(a.size, dtype=int)).alpha
    positive = alpha > 0
    assert positive[-1] and np.all(np.diff(alpha[positive]) > 0) and np.all(positive[np.argmax(positive):])


def test_hard_phase_rademacher():
    # eps = 1/8, sigma = 0.1: between delta ~ 0.21 and 0.34 AMP stops at a poor fixed point while the
    # replica potential's global minimum is near-perfect recovery (docs/theory.md).
    d, s, sigma = 1000.0, 125.0, 0.1
    n = 300.0
    amp = theory.bayes_risk_amp(n, d, s, sigma=sigma, signal="rademacher")
    mmse = theory.mmse_replica(n, d, s, sigma=sigma, signal="rademacher")
    assert amp > 0.1 and mmse < 1e-6
    potential = theory.replica_potential(n, d, s, risk=np.array([amp, mmse]), sigma=sigma, signal="rademacher")
    assert potential[1] < potential[0]
    easy = 500.0
    assert theory.mmse_replica(easy, d, s, sigma=sigma, signal="rademacher") == pytest.approx(
        theory.bayes_risk_amp(easy, d, s, sigma=sigma, signal="rademacher"), rel=1e-12)


@pytest.mark.parametrize("signal", LAWS)
def test_replica_potential_is_stationary_at_the_fixed_points(signal):
    # phi'(R) = delta (R - mmse(tau(R))) / (2 (sigma^2 + R)^2), by central differences.
    n, d, s, sigma = 80.0, 100.0, 10.0, 0.4
    R = np.array([0.05, 0.2, 0.6])
    h = 1e-5 * R
    slope = (theory.replica_potential(n, d, s, risk=R + h, sigma=sigma, signal=signal)
             - theory.replica_potential(n, d, s, risk=R - h, sigma=sigma, signal=signal)) / (2 * h)
    prior = sparse_prior(np.array(d), np.array(s), signal)
    mmse = bayes_mmse(prior, np.sqrt((sigma**2 + R) * d / n))
    np.testing.assert_allclose(slope, n / d * (R - mmse) / (2 * (sigma**2 + R) ** 2), rtol=1e-6)


def test_broadcasting_and_validation():
    risk = theory.lasso_risk_amp(np.array([[100], [200]]), 200, 20, sigma=[0.1, 0.5, 1.0], alpha=0.02)
    assert risk.shape == (2, 3) and np.all(np.diff(risk, axis=1) > 0)
    assert isinstance(theory.bayes_risk_amp(100, 200, 20, sigma=0.1), float)
    with pytest.raises(ValueError, match="sigma"):
        theory.bayes_risk_amp(100, 200, 20, sigma=0.0)
    with pytest.raises(ValueError, match="s must be <= d"):
        theory.mmse_replica(100, 20, 21, sigma=0.1)
    with pytest.raises(ValueError, match="signal"):
        theory.lasso_optimal_risk_amp(100, 200, 20, sigma=0.1, signal="laplace")
    with pytest.raises(ValueError, match="alpha"):
        theory.lasso_risk_amp(100, 200, 20, sigma=0.1, alpha=-1.0)
    with pytest.raises(TypeError):
        theory.lasso_risk_amp(100, 200, 20, 0.1, 0.02)  # keyword-only after the sizes
