"""The property-test kit simulations.testing: its Monte Carlo, its decisions, its strategies, false bounds caught.

The kit on known truths (exact oracle risk, Bayes below everything) and on
known false bounds (the issue's two: the Lasso below half the oracle-support
least squares, ridge below the Bayes floor). The regime tests of the project
written with the kit are in ``test_theory_montecarlo.py``.
"""

import math

import numpy as np
import pytest
from hypothesis import find, given
from scipy import stats

import solvers
from simulations.methods import Setting
from simulations.problems import sample_problems
from simulations.sweep import Cell, run_cell
from simulations import testing
from theory.references import Bound, finite_size, log_d, mmse, oracle_ls
from simulations.testing import (assert_risk_above, assert_risk_below, assert_risk_ratio_below, fixed,
                            monte_carlo_settings, settings_in)

SMALL = Setting(16, 32, 2, 0.1, "gaussian")


# ------------------------------------------------------------------------------ the sweep's Monte Carlo

@pytest.mark.parametrize("method", ["ridge", "pto", "lasso", "bayes"])
def test_estimates_are_the_sweep_rows(method):
    check = assert_risk_below(method, 10.0, SMALL, trials=120, seed=4)
    row = run_cell(Cell(*[getattr(SMALL, k) for k in ("n", "d", "s", "sigma", "signal")], 120, 4, "oracle", "numpy"),
                   [method])[0]
    estimate = check.estimates[0]
    np.testing.assert_equal((estimate.risk, estimate.sem, estimate.hyperparameter, estimate.edge),
                            (row["risk_mean"], row["risk_sem"], row["hyperparameter"], row["edge"]))


def test_fixed_hyperparameter_matches_the_solver_directly():
    # Independent reference: ridge at lam = 0.3 on the cell's problems, computed by hand.
    check = assert_risk_below(fixed("ridge", 0.3), 10.0, SMALL, trials=50, seed=2, tuning="validation")
    P = sample_problems(SMALL.n, SMALL.d, SMALL.s, SMALL.sigma, 50, seed=2)
    risk = ((solvers.ridge(P.X, P.y, 0.3) - P.w_star) ** 2).sum(-1)
    assert check.value == pytest.approx(risk.mean(), rel=1e-12)
    assert check.estimates[0].hyperparameter == 0.3 and check.estimates[0].method == "ridge[lam=0.3]"


def test_paired_means_same_instances():
    # Ratio of a method to itself on the same problems: every D_i is 0, so ratio 1 holds and 0.999 fails.
    assert assert_risk_ratio_below("ridge", "ridge", 1.0, SMALL, trials=50).value == 1.0
    with pytest.raises(AssertionError):
        assert_risk_ratio_below("ridge", "ridge", 0.999, SMALL, trials=50)


# ------------------------------------------------------------------------------ decisions

def test_one_sided_decision_is_the_t_limit_against_the_bound():
    risk = assert_risk_below("oracle", 10.0, SMALL, trials=200).estimates[0]
    limit = risk.risk - stats.t.ppf(1 - 1e-4, 199) * risk.sem
    assert assert_risk_below("oracle", limit * (1 + 1e-9), SMALL, trials=200).limit == pytest.approx(limit)
    with pytest.raises(AssertionError):
        assert_risk_below("oracle", limit * (1 - 1e-9), SMALL, trials=200)
    upper = risk.risk + stats.t.ppf(1 - 1e-4, 199) * risk.sem
    assert_risk_above("oracle", upper * (1 - 1e-9), SMALL, trials=200)
    with pytest.raises(AssertionError):
        assert_risk_above("oracle", upper * (1 + 1e-9), SMALL, trials=200)


def test_paired_test_rejects_a_true_ratio_at_the_stated_rate():
    # 4000 synthetic paired samples with E a = 1.2 E b exactly: rejection rate of r = 1.2 at level 0.05.
    rng = np.random.default_rng(0)
    rejected = 0
    for _ in range(4000):
        b = rng.exponential(1.0, 40)
        a = 1.2 * b + rng.normal(0, 0.3, 40)
        rejected += not testing._paired(a, b, 1.2, 0.05)[0]
    rate, se = rejected / 4000, math.sqrt(0.05 * 0.95 / 4000)
    assert abs(rate - 0.05) <= 4 * se


def test_fieller_limit_is_the_smallest_accepted_ratio():
    rng = np.random.default_rng(1)
    b = rng.exponential(1.0, 60)
    a = 0.7 * b + rng.exponential(0.2, 60)
    _, _, limit = testing._paired(a, b, 1.0, 1e-3)
    accepted = [r for r in np.linspace(0.5, 1.0, 1001) if testing._paired(a, b, r, 1e-3)[0]]
    assert accepted[0] - 0.0005 <= limit <= accepted[0]
    assert testing._paired(a, b, limit + 1e-9, 1e-3)[0] and not testing._paired(a, b, limit - 1e-6, 1e-3)[0]


# ------------------------------------------------------------------------------ known truths and false bounds

def test_oracle_risk_equals_its_exact_formula():
    setting = Setting(24, 48, 4, 0.5, "gaussian")
    assert_risk_below("oracle", oracle_ls, setting, trials=2000)
    assert_risk_above("oracle", oracle_ls, setting, trials=2000)
    with pytest.raises(AssertionError):
        assert_risk_below("oracle", 0.8 * oracle_ls, setting, trials=2000)


HIGH_SNR = settings_in(n=(24, 48), d=(16, 64), s=(1, 3), sigma=(0.05, 0.3),
                       where=lambda n, d, s, sigma: n >= 4 * s * np.log(d))


@monte_carlo_settings(max_examples=4)
@given(HIGH_SNR)
def test_lasso_below_half_the_oracle_is_caught(setting):
    with pytest.raises(AssertionError, match=r"risk\(lasso\) <= 0.5 \* oracle_ls is violated"):
        assert_risk_below("lasso", 0.5 * oracle_ls, setting, trials=150)


def test_ridge_below_the_bayes_floor_is_caught():
    # Against the Monte Carlo Bayes risk on the same problems, and against its proportional limit.
    with pytest.raises(AssertionError, match=r"risk\(ridge\) / risk\(bayes\) <= 1 is violated"):
        assert_risk_ratio_below("ridge", "bayes", 1.0, SMALL, trials=200)
    with pytest.raises(AssertionError, match=r"risk\(ridge\) <= mmse is violated"):
        assert_risk_below("ridge", mmse, SMALL, trials=200)
    # The true statements pass: the posterior mean is below every method, and near its limit.
    for rival in ("ridge", "lasso", "pto"):
        assert_risk_ratio_below("bayes", rival, 1.0, SMALL, trials=200)
    assert_risk_below("bayes", mmse + finite_size, SMALL, trials=200)
    assert_risk_above("bayes", mmse - finite_size, SMALL, trials=200)


def test_failure_message_is_readable():
    with pytest.raises(AssertionError) as info:
        assert_risk_below("ridge", 4 * log_d * oracle_ls, SMALL, trials=100, seed=3)
    message = str(info.value)
    for part in ("risk(ridge) <= 4 * log(d) * oracle_ls is violated at "
                 "Setting(n=16, d=32, s=2, sigma=0.1, signal='gaussian')",
                 "99.99% lower confidence limit", "bound 0.0", "(SE; 100 trials, seed 3), oracle tuning, lam = "):
        assert part in message, message


def test_hypothesis_shrinks_a_false_bound_to_the_smallest_setting():
    seen = []

    @monte_carlo_settings(max_examples=5)
    @given(settings_in(n=(8, 32), d=(8, 32), s=(1, 4), sigma=[0.1, 0.3], where=lambda n, d, s, sigma: n >= 2 * s))
    def claim(setting):
        seen.append(setting)
        assert_risk_below("oracle", 0.25 * oracle_ls, setting, trials=100)

    with pytest.raises(AssertionError, match="is violated") as info:
        claim()
    assert "Setting(n=8, d=8, s=1, sigma=0.1, signal='gaussian')" in str(info.value)
    assert len(seen) >= 2


# ------------------------------------------------------------------------------ settings_in

REGIME = dict(n=(4, 40), d=(8, 64), s=(1, 8), sigma=(0.0, 2.0))


@monte_carlo_settings(max_examples=200)
@given(settings_in(**REGIME, signal=["gaussian", "rademacher"], where=lambda n, d, s, sigma: (n <= d) & (8 * s <= d)))
def test_generated_settings_are_in_the_regime(setting):
    assert 4 <= setting.n <= 40 and 8 <= setting.d <= 64 and 1 <= setting.s <= 8 and 0.0 <= setting.sigma <= 2.0
    assert setting.n <= setting.d and 8 * setting.s <= setting.d
    assert setting.signal in ("gaussian", "rademacher") and round(setting.sigma, 3) == setting.sigma


@pytest.mark.parametrize("where", [lambda n, d, s, sigma: n <= d and 8 * s <= d and sigma < 1,
                                   lambda n, d, s, sigma: (n <= d) & (8 * s <= d) & (sigma < 1)])
def test_where_need_not_be_vectorised(where):
    ok = testing._feasible(np.arange(4, 41), np.arange(8, 65), np.arange(1, 9), 0.5, where)
    N, D, S = np.meshgrid(np.arange(4, 41), np.arange(8, 65), np.arange(1, 9), indexing="ij")
    assert np.array_equal(ok, (N <= D) & (8 * S <= D))


def test_shrinks_towards_small_settings():
    strategy = settings_in(**REGIME, where=lambda n, d, s, sigma: (n <= d) & (8 * s <= d))
    assert find(strategy, lambda st: True) == Setting(4, 8, 1, 0.0, "gaussian")
    assert find(strategy, lambda st: st.s >= 3) == Setting(4, 24, 3, 0.0, "gaussian")
    assert find(strategy, lambda st: st.sigma > 0.5 and st.n > 10) == Setting(11, 11, 1, 1.0, "gaussian")


def test_settings_in_rejects_bad_regimes():
    with pytest.raises(ValueError, match="no setting"):
        settings_in(n=(4, 8), d=(8, 16), where=lambda n, d, s, sigma: n > d)
    with pytest.raises(ValueError, match="above"):
        settings_in(n=(1, 1000), d=(1, 1000), s=(1, 10))
    with pytest.raises(ValueError, match="n must be"):
        settings_in(n=(0, 8))
    with pytest.raises(ValueError, match="sigma"):
        settings_in(sigma=(1.0, 0.5))
    with pytest.raises(ValueError, match="signal"):
        settings_in(signal="laplace")


# ------------------------------------------------------------------------------ bounds and misuse

def test_bound_arithmetic_names_and_values():
    bound = 4 * log_d * oracle_ls + 0.01 - Bound("sigma", lambda st: st.sigma)
    assert repr(bound) == "((4 * log(d) * oracle_ls + 0.01) - sigma)"
    assert bound(SMALL) == pytest.approx(4 * math.log(32) * 0.01 * 2 / 13 + 0.01 - 0.1)


def test_misuse_raises_value_error():
    with pytest.raises(ValueError, match="outside its domain"):
        assert_risk_below("oracle", oracle_ls, Setting(4, 8, 3, 0.1, "gaussian"), trials=10)
    with pytest.raises(ValueError, match="bayes does not apply"):
        assert_risk_below("bayes", 1.0, Setting(8, 8, 1, 0.0, "gaussian"), trials=10)
    with pytest.raises(ValueError, match="trials"):
        assert_risk_below("ols", 1.0, SMALL, trials=1)
    with pytest.raises(ValueError, match="level"):
        assert_risk_below("ols", 1.0, SMALL, trials=10, level=0.7)
    with pytest.raises(ValueError, match="no hyperparameter"):
        fixed("ols", 1.0)
    with pytest.raises(TypeError, match="a bound is"):
        assert_risk_below("ols", "small", SMALL, trials=10)
