"""The Bayes posterior mean against brute-force integration and enumeration, and its MMSE property."""

import itertools

import numpy as np
import pytest
from scipy import integrate

import solvers
from simulations import sample_problems
from simulations.methods import METHODS, Setting
from simulations.sweep import Cell, run_cell


def integrated_posterior_mean(X, y, s, sigma, tau2):
    """E[w | X, y] by numerical integration over each support's coordinates (scipy nquad)."""
    d = X.shape[1]
    numerator, evidence = np.zeros(d), 0.0
    limits = [(-8 * np.sqrt(tau2), 8 * np.sqrt(tau2))] * s
    options = {"epsabs": 0, "epsrel": 1e-10}
    for support in itertools.combinations(range(d), s):
        X_S = X[:, support]

        def density(*w):
            w = np.asarray(w)
            r = y - X_S @ w
            return np.exp(-r @ r / (2 * sigma**2) - w @ w / (2 * tau2)) / (2 * np.pi * tau2) ** (s / 2)

        evidence += integrate.nquad(density, limits, opts=options)[0]
        for k, j in enumerate(support):
            numerator[j] += integrate.nquad(lambda *w, k=k: w[k] * density(*w), limits, opts=options)[0]
    return numerator / evidence


def enumerated_posterior_mean(X, y, s, sigma):
    """Rademacher law: sum over every s-sparse sign vector of w exp(-||y - X w||^2 / 2 sigma^2)."""
    d = X.shape[1]
    points = []
    for support in itertools.combinations(range(d), s):
        for signs in itertools.product((-1, 1), repeat=s):
            w = np.zeros(d)
            w[list(support)] = np.array(signs) / np.sqrt(s)
            points.append(w)
    points = np.array(points)
    log_lik = -((y - points @ X.T) ** 2).sum(axis=1) / (2 * sigma**2)
    weights = np.exp(log_lik - log_lik.max())
    return weights @ points / weights.sum()


@pytest.mark.parametrize("n,d,s,signal", [(3, 3, 1, "gaussian"), (2, 4, 1, "unnormalized"),
                                          (3, 3, 2, "gaussian"), (1, 4, 2, "unnormalized")])
def test_posterior_mean_equals_numerical_integration(rng, n, d, s, signal):
    X, y = rng.standard_normal((n, d)), 0.8 * rng.standard_normal(n)
    tau2 = 1 / s if signal == "gaussian" else 1.0
    expected = integrated_posterior_mean(X, y, s, 0.5, tau2)
    np.testing.assert_allclose(solvers.bayes_posterior_mean(X, y, s, 0.5, signal), expected, atol=1e-9)


@pytest.mark.parametrize("n,d,s,sigma", [(4, 4, 2, 0.3), (6, 5, 3, 0.1), (2, 6, 1, 1.0)])
def test_rademacher_posterior_mean_equals_enumeration(rng, n, d, s, sigma):
    X, y = rng.standard_normal((3, n, d)), rng.standard_normal((3, n))
    expected = np.stack([enumerated_posterior_mean(X[i], y[i], s, sigma) for i in range(3)])
    np.testing.assert_allclose(solvers.bayes_posterior_mean(X, y, s, sigma, "rademacher"), expected,
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("engine", ["compiled", "array_api"])
def test_batched_blocks_and_float32(rng, monkeypatch, engine):
    X, y = rng.standard_normal((7, 6, 9)), rng.standard_normal((7, 6))
    whole = solvers.bayes_posterior_mean(X, y, 3, 0.2, engine=engine)
    monkeypatch.setattr("solvers.bayes._BLOCK_ELEMENTS", 7 * 5)  # blocks of 5 supports (array-API engine)
    np.testing.assert_allclose(solvers.bayes_posterior_mean(X, y, 3, 0.2, engine=engine), whole, rtol=1e-12)
    np.testing.assert_allclose(solvers.bayes_posterior_mean(X[2], y[2], 3, 0.2, engine=engine), whole[2], rtol=1e-12)
    single = solvers.bayes_posterior_mean(X.astype(np.float32), y.astype(np.float32), 3, 0.2, engine=engine)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, whole, atol=1e-4)


def test_huge_evidence_differences_stay_finite(rng):
    """sigma tiny: log-evidences differ by ~1e8, the log-sum-exp keeps the weights finite."""
    p = sample_problems(12, 8, 2, 1e-4, 50, seed=3)
    w = solvers.bayes_posterior_mean(p.X, p.y, 2, 1e-4)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w, p.w_star, atol=1e-3)  # n > s, tiny noise: the truth


@pytest.mark.parametrize("kwargs,match", [
    (dict(s=0, sigma=0.1), "s must"), (dict(s=7, sigma=0.1), "s must"), (dict(s=2, sigma=0.0), "sigma must"),
    (dict(s=2, sigma=float("nan")), "sigma must"), (dict(s=2, sigma=0.1, signal="laplace"), "signal must"),
    (dict(s=3, sigma=0.1, max_hypotheses=10), "max_hypotheses"),
])
def test_bad_arguments_name_the_parameter(rng, kwargs, match):
    X, y = rng.standard_normal((4, 6)), rng.standard_normal(4)
    with pytest.raises(ValueError, match=match):
        solvers.bayes_posterior_mean(X, y, **kwargs)


@pytest.mark.parametrize("n,signal", [(6, "gaussian"), (12, "rademacher"), (24, "unnormalized")])
def test_bayes_never_loses_to_tuned_ridge_or_lasso(n, signal):
    """The MMSE property: on the same problems, the posterior mean's risk is below oracle-tuned
    ridge and Lasso (which see w* to tune) up to 4 paired standard errors."""
    cell = Cell(n=n, d=10, s=2, sigma=0.3, signal=signal, trials=600, seed=11, tuning="oracle", backend="numpy")
    rows = {row["method"]: row for row in run_cell(cell, ["bayes", "ridge", "lasso"])}
    p = sample_problems(n, 10, 2, 0.3, 600, seed=11, signal=signal)
    bayes_risk = ((solvers.bayes_posterior_mean(p.X, p.y, 2, 0.3, signal) - p.w_star) ** 2).sum(-1)
    assert np.isclose(bayes_risk.mean(), rows["bayes"]["risk_mean"])
    for other in ("ridge", "lasso"):
        W = METHODS[other].fit(p.X, p.y, np.array([rows[other]["hyperparameter"]]), cell.setting, p.support)[0][0]
        diff = bayes_risk - ((W - p.w_star) ** 2).sum(-1)
        assert diff.mean() < 4 * diff.std(ddof=1) / np.sqrt(diff.size), other
        assert diff.mean() < 0, other  # not just a tie: the floor is strictly lower here


def test_sweep_leaves_bayes_out_where_the_enumeration_is_too_large():
    assert METHODS["bayes"].applies(Setting(16, 32, 4, 0.1, "gaussian"))
    assert not METHODS["bayes"].applies(Setting(16, 64, 8, 0.1, "gaussian"))
    assert not METHODS["bayes"].applies(Setting(16, 8, 2, 0.0, "gaussian"))
