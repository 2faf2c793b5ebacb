"""The checker's AMP claims: lasso_amp, bayes_mmse, C5_pto_vs_lasso_limit."""

import numpy as np
import pandas as pd
import pytest

import theory
from theory.checker import FINITE_SIZE_AMP, TOLERANCE_SE


def _row(method, n, d, s, sigma, risk, sem, signal="gaussian", tuning="oracle", alpha=np.nan):
    return dict(method=method, n=n, d=d, s=s, sigma=sigma, signal=signal, trials=1000, tuning=tuning,
                risk_mean=risk, risk_sem=sem, hyperparameter=alpha)


def _claim(report, claim):
    return report.cells[report.cells.claim == claim].reset_index(drop=True)


def test_lasso_rows_are_graded_against_the_limit_at_their_alpha():
    n, d, s, sigma, alpha = 64, 64, 8, 0.5, 0.05
    limit = theory.lasso_risk_amp(n, d, s, sigma=sigma, alpha=alpha)
    allowance = FINITE_SIZE_AMP * limit / min(n, d)
    sem = 0.01 * limit
    rows = [_row("lasso", n, d, s, sigma, limit + allowance + 3.9 * sem, sem, alpha=alpha),   # inside
            _row("lasso", n, d, s, sigma, limit + allowance + 4.1 * sem, sem, alpha=alpha),   # outside
            _row("lasso", n, d, s, sigma, limit, sem, alpha=alpha, tuning="validation"),     # median alpha only
            _row("lasso", 16, 64, 2, sigma, 1.0, 0.1, alpha=alpha),                          # min(n, d) < 32
            _row("lasso", n, d, s, 0.0, 0.01, 0.001, alpha=alpha)]                           # noiseless
    cells = _claim(theory.check_results(pd.DataFrame(rows)), "lasso_amp")
    assert list(cells.verdict) == ["holds", "violated", "outside regime", "outside regime", "outside regime"]
    assert cells.reference[0] == pytest.approx(limit)
    assert cells.z[0] == pytest.approx((allowance + 3.9 * sem) / sem)
    assert np.isnan(cells.reference[4]) and TOLERANCE_SE == 4.0


def test_bayes_rows_are_graded_against_the_mmse_and_flag_the_hard_phase():
    # rademacher, eps = 1/8, sigma = 0.1, delta = 0.3: AMP is stuck, the posterior mean is not.
    hard = (48, 160, 20, 0.1)
    easy = (64, 32, 4, 0.3)
    mmse_hard = theory.mmse_replica(*hard[:3], sigma=hard[3], signal="rademacher")
    mmse_easy = theory.mmse_replica(*easy[:3], sigma=easy[3], signal="rademacher")
    rows = [_row("bayes", *hard, mmse_hard, 1e-3, signal="rademacher"),
            _row("bayes", *easy, 2 * mmse_easy, 0.01 * mmse_easy, signal="rademacher")]
    cells = _claim(theory.check_results(pd.DataFrame(rows)), "bayes_mmse")
    assert list(cells.hard_phase) == [True, False]
    assert list(cells.verdict) == ["holds", "violated"]
    assert theory.bayes_risk_amp(*hard[:3], sigma=hard[3], signal="rademacher") > 100 * mmse_hard


def test_c5_restated_with_the_optimal_lasso_limit():
    n, d, s, sigma = 128, 64, 4, 0.5
    limit = theory.lasso_optimal_risk_amp(n, d, s, sigma=sigma).risk
    rows = [_row("pto", n, d, s, sigma, 0.9 * np.log(d) * limit, 1e-4),
            _row("pto", n, d, s, sigma, 1.1 * np.log(d) * limit, 1e-4),
            _row("pto", 32, 64, s, sigma, limit, 1e-4)]                                       # d > n
    cells = _claim(theory.check_results(pd.DataFrame(rows)), "C5_pto_vs_lasso_limit")
    assert list(cells.verdict) == ["holds", "violated", "outside regime"]
    assert cells.ratio[0] == pytest.approx(0.9 * np.log(d))


def test_curves_command_draws_the_sparse_limits(tmp_path, capsys):
    from simulations.cli import main

    rows = [dict(_row(method, n, 32, 4, 0.3, 0.05, 0.002, alpha=0.02), risk_lo=0.046, risk_hi=0.054)
            for method in ("lasso", "bayes", "ridge") for n in (32, 64)]
    rows.append(dict(_row("lasso", 64, 32, 2, 0.3, 0.05, 0.002, alpha=0.02), risk_lo=0.046, risk_hi=0.054))  # s/d
    path = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = tmp_path / "curves"
    assert main(["curves", "--results", str(path), "--sigma", "0.3", "--gamma-range", "0.25,4,5",
                 "--out", str(out)]) == 0
    assert "(6 Monte Carlo points overlaid)" in capsys.readouterr().out
    curves = pd.read_csv(out / "curves.csv")
    d = 1000.0
    optimum = theory.lasso_optimal_risk_amp(d / curves.gamma.to_numpy(), d, d / 8, sigma=0.3)
    np.testing.assert_allclose(curves.lasso_optimal, optimum.risk, rtol=1e-8)
    np.testing.assert_allclose(curves.lasso_optimal_alpha_sqrt_d, optimum.alpha * np.sqrt(d), rtol=1e-6)
    assert np.all(curves.bayes_mmse <= curves.lasso_optimal) and np.all(curves.bayes_mmse <= curves.ridge_optimal)
    assert main(["curves", "--eps", "1.5", "--out", str(out)]) == 2
    assert main(["curves", "--signal", "unnormalized", "--out", str(out)]) == 2


def test_curves_scale_the_sparse_limits_with_the_signal_norm():
    # gaussian nonzeros scaled to E||w*||^2 = s are the unnormalized law N(0, 1): an independent path.
    from simulations.commands.curves import NOMINAL_D, _sparse_limits

    gamma, eps, sigma = np.array([0.5, 2.0]), 0.125, 0.7
    n, d, s = NOMINAL_D / gamma, NOMINAL_D, eps * NOMINAL_D
    scaled = _sparse_limits(gamma, sigma, s, eps, "gaussian")
    np.testing.assert_allclose(scaled["lasso_optimal"],
                               theory.lasso_optimal_risk_amp(n, d, s, sigma=sigma, signal="unnormalized").risk, rtol=1e-8)
    np.testing.assert_allclose(scaled["bayes_mmse"], theory.mmse_replica(n, d, s, sigma=sigma, signal="unnormalized"),
                               rtol=1e-8)
