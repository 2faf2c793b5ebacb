"""The AMP limits against Monte Carlo of the project's own solvers; fixed seeds, tolerances from the SE.

Tolerance: ``5 SE + FINITE_SIZE_AMP * limit / min(n, d)`` with the checker's
``FINITE_SIZE_AMP = 10``. The finite-size term is O(1/n), the order of the
bias of a smooth function of the design's empirical averages (no finite-n
theory of the Lasso's or the posterior mean's mean risk is available to us);
its constant is the envelope of ``min(n, d) * (MC - limit) / limit`` measured
at min(n, d) >= 32 in docs/data/amp_limits.csv (largest 10.8 +- 1.6, Lasso,
n = 64, d = 128), on other seeds and settings than these. The posterior mean
enumerates the C(d, s) supports (times 2^s signs for rademacher), which
limits its check to d = 32, s <= 4.
"""

import numpy as np
import pytest

import solvers
import theory
from simulations.problems import sample_problems
from theory.checker import FINITE_SIZE_AMP

Z = 5.0


def _check(risk, limit, n, d):
    mean, sem = risk.mean(), risk.std(ddof=1) / np.sqrt(risk.size)
    assert abs(mean - limit) <= Z * sem + FINITE_SIZE_AMP * limit / min(n, d), (mean, sem, limit)


@pytest.mark.parametrize("n, d, s, sigma, signal, multiple, trials", [
    (128, 256, 32, 0.3, "gaussian", 1.0, 120),
    (200, 100, 20, 0.5, "rademacher", 0.5, 200),
    (128, 128, 8, 1.0, "unnormalized", 2.0, 150),
])
def test_lasso_monte_carlo_matches_state_evolution(n, d, s, sigma, signal, multiple, trials):
    alpha = multiple * theory.lasso_optimal_risk_amp(n, d, s, sigma=sigma, signal=signal).alpha
    limit = theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=alpha, signal=signal)
    P = sample_problems(n, d, s, sigma, trials, seed=31, signal=signal)
    _check(((solvers.lasso(P.X, P.y, alpha) - P.w_star) ** 2).sum(-1), limit, n, d)


def _posterior_mean_check(n, s, sigma, signal, trials, seed):
    d = 32
    limit = theory.mmse_replica(n, d, s, sigma=sigma, signal=signal)
    assert theory.bayes_risk_amp(n, d, s, sigma=sigma, signal=signal) == pytest.approx(limit, rel=1e-9)  # easy phase
    P = sample_problems(n, d, s, sigma, trials, seed=seed, signal=signal)
    hypotheses = solvers.bayes_hypotheses(d, s, signal)
    fit = solvers.bayes_posterior_mean(P.X, P.y, s, sigma, signal, max_hypotheses=hypotheses)
    _check(((fit - P.w_star) ** 2).sum(-1), limit, n, d)


def test_posterior_mean_monte_carlo_matches_the_bayes_limit():
    _posterior_mean_check(48, 4, 0.3, "gaussian", 500, seed=32)        # C(32, 4) = 35 960 supports


@pytest.mark.slow
def test_rademacher_posterior_mean_monte_carlo_matches_the_bayes_limit():
    _posterior_mean_check(40, 4, 0.7, "rademacher", 600, seed=33)      # C(32, 4) 2^4 = 575 360 hypotheses, ~20 s
