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
