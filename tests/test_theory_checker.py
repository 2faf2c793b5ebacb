"""The results checker and the check / curves commands."""

import numpy as np
import pandas as pd
import pytest

import theory
from _theory_results import results_frame
from simulations.cli import main


@pytest.fixture(scope="module")
def results():
    cells = [(n, 64, s, 0.5) for n in (16, 32, 64) for s in (2, 8)]
    return results_frame(cells, trials=48, seed=3)


def test_checker_verdicts_on_solver_results(results):
    report = theory.check_results(results)
    cells = report.cells
    assert set(cells.verdict) <= {"holds", "violated", "outside regime"}
    for claim in ("oracle_exact", "equivariant_floor", "C4_pto_vs_equivariant"):
        block = cells[(cells.claim == claim) & cells.in_regime]
        assert len(block) and (block.verdict == "holds").all(), block
    # Exact oracle formula sigma^2 s / (n - s - 1): at s = 2 a power law fits n = 16..64 and its slope matches the
    # predicted exponent; at s = 8 the risk curves beyond its errors, so the slope is not read as consistent.
    oracle = report.slopes[(report.slopes.method == "oracle") & (report.slopes.variable == "n")].set_index("s")
    assert len(oracle) == 2
    assert oracle.loc[2, "power_law"] and oracle.loc[2, "consistent"]
    assert not oracle.loc[8, "power_law"] and not oracle.loc[8, "consistent"]
    assert {"C1", "C2"} <= set(report.constants.columns)


def _lasso_rows(C, perturb=None):
    rows = []
    for n in (64, 128, 256, 512):
        for d in (16, 64, 256):
            rate = theory.lasso_rate(n, d, 2, signal_norm2=1.0, sigma=0.5)
            risk = C * rate * (perturb(n, d) if perturb else 1.0)
            rows.append(dict(method="lasso", n=n, d=d, s=2, sigma=0.5, signal="gaussian", trials=100,
                             tuning="oracle", risk_mean=risk, risk_sem=0.01 * risk))
    return pd.DataFrame(rows)


def test_lasso_rate_constant_and_slopes_recovered():
    report = theory.check_results(_lasso_rows(3.0))
    assert report.constants.C.iloc[0] == pytest.approx(3.0, rel=1e-9)
    slopes = report.slopes[report.slopes.variable == "n"]
    assert np.allclose(slopes.slope, -1.0) and slopes.consistent.all()
    assert (report.cells.query("in_regime").verdict == "holds").all()


def test_lasso_rate_violation_is_detected():
    # Risk decaying like 1/sqrt(n) instead of 1/n: wrong slope and cells out of the band.
    report = theory.check_results(_lasso_rows(3.0, lambda n, d: (n / 64) ** 0.5 * 0.1))
    slopes = report.slopes[report.slopes.variable == "n"]
    assert not slopes.consistent.any()
    assert (slopes.slope > -0.6).all()
    outlier = theory.check_results(_lasso_rows(3.0, lambda n, d: 30.0 if (n, d) == (512, 256) else 1.0))
    assert list(outlier.cells.query("verdict == 'violated'").n) == [512]


def test_checker_rejects_bad_tables(results):
    with pytest.raises(ValueError, match="risk_sem"):
        theory.check_results(results.drop(columns="risk_sem"))
    with pytest.raises(ValueError, match="signal"):
        theory.check_results(results.assign(signal="nope"))


def test_check_command_writes_outputs(results, tmp_path, capsys):
    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    assert main(["check", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "verdicts per claim" in out and "oracle_exact" in out
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"check.csv", "slopes.csv", "constants.csv", "phase_diagram_gaussian_oracle.png"} <= written
    table = pd.read_csv(tmp_path / "out" / "check.csv")
    assert {"claim", "verdict", "ratio", "in_regime"} <= set(table.columns)
    assert main(["check", str(tmp_path / "missing.csv")]) == 2


def test_curves_command(results, tmp_path):
    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    out = tmp_path / "curves"
    assert main(["curves", "--results", str(path), "--sigma", "0.5", "--gamma-range", "0.1,4,20",
                 "--out", str(out)]) == 0
    curves = pd.read_csv(out / "curves.csv")
    assert len(curves) == 20 and (out / "curves.png").is_file()
    assert np.allclose(curves.ridge_optimal,
                       theory.ridge_optimal_risk(curves.gamma.to_numpy(), signal_norm2=1.0, sigma=0.5))
    assert main(["curves", "--gamma-range", "2,1,5", "--out", str(out)]) == 2


def test_a_curved_slope_is_not_read_as_consistent():
    # Risk curving symmetrically about the middle of the n range: the fitted slope stays at the predicted -1 and
    # the interval (widened by sqrt(chi2/dof)) contains it, but no power law fits the points.
    middle = np.sqrt(64 * 512)
    report = theory.check_results(_lasso_rows(3.0, lambda n, d: np.exp(0.3 * np.log(n / middle) ** 2)))
    slopes = report.slopes[report.slopes.variable == "n"]
    assert len(slopes) == 3
    assert ((slopes.ci_lo <= slopes.predicted) & (slopes.predicted <= slopes.ci_hi)).all()
    assert (slopes.chi2_dof > 10).all() and not slopes.power_law.any() and not slopes.consistent.any()
    assert "power_law False" in report.to_string()


def test_check_and_curves_write_next_to_the_results_they_read(results, tmp_path):
    path = tmp_path / "sweep" / "results.csv"
    path.parent.mkdir()
    results.to_csv(path, index=False)
    assert main(["check", str(path), "--quiet"]) == 0
    assert main(["curves", "--results", str(path), "--sigma", "0.5", "--gamma-range", "0.5,2,3"]) == 0
    assert {"check.csv", "slopes.csv", "curves.csv", "curves.png"} <= {p.name for p in path.parent.iterdir()}
