"""Monte Carlo engine, tuning, the resumable store and the sweep command."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import solvers
from simulations import sample_problems, sweep as sweep_module
from simulations.cli import main
from simulations.grid_args import parse_values
from simulations.methods import METHODS, ridge_theory_lambda
from simulations.risk import RiskSummary, instance_risk
from simulations.store import ResultStore
from simulations.sweep import Cell, pending, plan_cells, run_cell, run_sweep

RISK = ["risk_mean", "risk_sem", "hyperparameter", "edge", "diverged"]


@pytest.mark.parametrize("n,d,sigma,eta", [(16, 32, 0.5, 0.4), (40, 10, 1.0, 0.8), (8, 8, 0.0, 1.3)])
def test_one_step_gd_matches_the_exact_formula(n, d, sigma, eta):
    """docs/math.md, section 4a: E||w_1 - w*||^2 = r2 [(1-eta)^2 + eta^2 (d+1)/n] + eta^2 sigma^2 d / n."""
    p = sample_problems(n, d, 4, sigma, 4000, seed=7, signal="rademacher")  # ||w*|| = 1 exactly
    summary = RiskSummary.of(instance_risk(solvers.gd(p.X, p.y, eta, 1), p.w_star))
    exact = (1 - eta) ** 2 + eta**2 * (d + 1) / n + eta**2 * sigma**2 * d / n
    assert abs(summary.mean - exact) < 5 * summary.sem


def test_risk_summary_interval():
    s = RiskSummary.of(np.array([1.0, 2.0, 3.0, 4.0]))
    assert s.mean == 2.5 and np.isclose(s.sem, np.std([1, 2, 3, 4], ddof=1) / 2)
    assert np.isclose(s.hi - s.mean, 3.182446305 * s.sem)  # t_{0.975, 3}


def cell(**kwargs):
    base = dict(n=12, d=16, s=2, sigma=0.2, signal="gaussian", trials=300, seed=5, tuning="oracle",
                backend="numpy")
    return Cell(**(base | kwargs))


@pytest.mark.parametrize("tuning,rng", [("oracle", "host"), ("validation", "host"), ("theory", "host"),
                                         ("oracle", "device")])
def test_rows_do_not_depend_on_chunk_size(tuning, rng):
    methods = ["ridge", "gd", "pto", "ols", "oracle"]
    whole = pd.DataFrame(run_cell(cell(tuning=tuning, rng=rng), methods, chunk=300))
    chunked = pd.DataFrame(run_cell(cell(tuning=tuning, rng=rng), methods, chunk=37))
    pd.testing.assert_frame_equal(whole[RISK], chunked[RISK], rtol=1e-12)


def test_device_and_host_generators_agree_within_standard_errors():
    """Independent instances of the same law: risks differ by less than 5 combined standard errors."""
    methods = ["ridge", "gd", "pto", "oracle"]
    host = {r["method"]: r for r in run_cell(cell(trials=3000), methods)}
    device = {r["method"]: r for r in run_cell(cell(trials=3000, rng="device"), methods)}
    for m in methods:
        assert host[m]["risk_mean"] != device[m]["risk_mean"]
        assert abs(host[m]["risk_mean"] - device[m]["risk_mean"]) < 5 * np.hypot(host[m]["risk_sem"],
                                                                                   device[m]["risk_sem"])


def test_rows_written_before_the_rng_column_resume_as_host_rows(tmp_path):
    store = ResultStore(tmp_path)
    row = run_cell(cell(trials=20), ["ols"])[0]
    store.append([{k: v for k, v in row.items() if k != "rng"}])
    assert pending([cell(trials=20)], ["ols"], store) == []
    assert pending([cell(trials=20, rng="device")], ["ols"], store) == [(cell(trials=20, rng="device"), ["ols"])]
    assert store.frame()["rng"].tolist() == ["host"]


def test_oracle_tuning_picks_the_best_grid_value():
    row = {r["method"]: r for r in run_cell(cell(), ["ridge"], chunk=300)}["ridge"]
    p = sample_problems(12, 16, 2, 0.2, 300, seed=5)
    grid = METHODS["ridge"].grid(None)
    means = instance_risk(solvers.ridge(p.X, p.y, grid), p.w_star).mean(axis=1)
    assert row["hyperparameter"] == grid[np.argmin(means)]
    assert np.isclose(row["risk_mean"], means.min(), rtol=1e-12)
    assert row["edge"] == (np.argmin(means) in (0, grid.size - 1))


def test_theory_tuning_uses_the_prescribed_lambda():
    row = run_cell(cell(tuning="theory"), ["ridge"])[0]
    assert np.isclose(row["hyperparameter"], 0.2**2 * 16 / 12)
    assert row["hyperparameter"] == ridge_theory_lambda(cell().setting)


def test_validation_is_worse_than_oracle_but_close():
    rows = {r["tuning"]: r for t in ("oracle", "validation") for r in run_cell(cell(tuning=t), ["ridge"])}
    assert rows["validation"]["risk_mean"] >= rows["oracle"]["risk_mean"]
    assert rows["validation"]["risk_mean"] < 1.5 * rows["oracle"]["risk_mean"]


def test_pto_beats_ridge_and_gd_when_sparse_and_n_below_d():
    rows = {r["method"]: r for r in run_cell(cell(n=16, d=32, s=4, sigma=0.1, trials=500), ["ridge", "gd", "pto"])}
    for other in ("ridge", "gd"):
        gap = rows[other]["risk_mean"] - rows["pto"]["risk_mean"]
        assert gap > 5 * np.hypot(rows[other]["risk_sem"], rows["pto"]["risk_sem"])


def test_plan_skips_impossible_cells_and_rejects_bad_values():
    cells = plan_cells([8, 16], [4, 32], [8], [0.1])
    assert {(c.n, c.d) for c in cells} == {(8, 32), (16, 32)}
    with pytest.raises(ValueError, match="tuning"):
        plan_cells([8], [4], [1], [0.1], tunings=["best"])
    with pytest.raises(ValueError, match="s: every value"):
        plan_cells([8], [4], [8], [0.1])
    with pytest.raises(ValueError, match="trials"):
        plan_cells([8], [4], [1], [0.1], trials=1)
    with pytest.raises(ValueError, match="rng must be"):
        plan_cells([8], [4], [1], [0.1], rng="gpu")
    assert {c.rng for c in plan_cells([8], [4], [1], [0.1])} == {"host"}
    assert {c.rng for c in plan_cells([8], [4], [1], [0.1], rng="device")} == {"device"}


def test_results_do_not_depend_on_grid_order(tmp_path):
    forward = run_sweep(plan_cells([8, 16], [8], [1, 2], [0.1, 0.5], trials=50), ["ridge", "pto"],
                        tmp_path / "a", progress=False)
    cells = plan_cells([8, 16], [8], [1, 2], [0.1, 0.5], trials=50)[::-1]
    backward = run_sweep(cells, ["pto", "ridge"], tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(forward[RISK], backward[RISK])


def test_store_ignores_torn_lines_and_duplicates(tmp_path):
    store = ResultStore(tmp_path)
    row = run_cell(cell(trials=20), ["ols"])[0]
    store.append([row])
    store.append([row])
    with store.journal.open("a") as handle:
        handle.write('{"method": "ridge", "n": 1')  # a torn write
    assert len(store.rows()) == 1
    store.append([{**row, "method": "ridge"}])
    assert [r["method"] for r in store.rows()] == ["ols", "ridge"]


def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path, monkeypatch):
    cells = plan_cells([8, 12, 16], [8], [2], [0.1, 0.3], trials=40)
    clean = run_sweep(cells, ["ridge", "gd"], tmp_path / "clean", progress=False)

    calls = []
    real = sweep_module.run_cell

    def flaky(cell, methods, chunk):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(cell)
        return real(cell, methods, chunk)

    monkeypatch.setattr(sweep_module, "run_cell", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cells, ["ridge", "gd"], tmp_path / "run", progress=False)
    saved = pd.read_csv(tmp_path / "run" / "results.csv")
    assert len(saved) == 6  # three finished cells x two methods, written despite the interrupt

    calls.clear()
    monkeypatch.setattr(sweep_module, "run_cell", lambda *a: (calls.append(a[0]), real(*a))[1])
    resumed = run_sweep(cells, ["ridge", "gd"], tmp_path / "run", progress=False)
    assert len(calls) == 3  # only the unfinished cells ran
    pd.testing.assert_frame_equal(resumed[RISK], clean[RISK])


def test_parse_values():
    assert parse_values("8:128:x2", "n") == [8, 16, 32, 64, 128]
    assert parse_values("4, 10:20:5", "n") == [4, 10, 15, 20]
    assert parse_values("0:0.5:0.25", "sigma", float) == [0.0, 0.25, 0.5]
    with pytest.raises(ValueError, match="--n: cannot read '2.5'"):
        parse_values("2.5", "n")
    with pytest.raises(ValueError, match="--d: cannot read '1:2'"):
        parse_values("1:2", "d")


def test_cli_sweep_writes_results_meta_and_plot(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["sweep", "--n", "8,16", "--d", "8", "--s", "2", "--trials", "30", "--quiet",
                 "--methods", "ols,ridge,gd,pto,oracle", "--tuning", "oracle,validation", "--out", str(out)])
    assert code == 0
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 2 * 5 * 2
    for column in ("method", "n", "d", "s", "sigma", "signal", "trials", "tuning", "risk_mean", "risk_sem",
                   "risk_lo", "risk_hi", "hyperparameter", "edge", "backend", "seed", "diverged"):
        assert column in results.columns
    assert (results["risk_lo"] <= results["risk_mean"]).all() and (results["risk_mean"] <= results["risk_hi"]).all()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["runs"][0]["versions"]["numpy"] == np.__version__
    assert (out / "risk_vs_n.png").stat().st_size > 1000
    assert "plot:" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--n", "8,x"], "--n: cannot read 'x'"),
    (["--methods", "ridge,magic"], "--methods: unknown ['magic']"),
    (["--tuning", "best"], "tuning: unknown ['best']"),
    (["--trials", "1"], "trials must be an integer >= 2"),
    (["--sigma", "-1"], "sigma must be"),
    (["--chunk", "0"], "--chunk must be >= 1"),
    (["--backend", "gpu"], "invalid choice: 'gpu'"),
    (["--rng", "cuda"], "invalid choice: 'cuda'"),
    (["--scheduler", "bogus"], "--scheduler must be 'local' or an address"),
])
def test_cli_bad_input_exits_2_without_traceback(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "simulations", "sweep", "--out", str(tmp_path), *args],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(solvers.cupy_available(), reason="CuPy is usable here")
def test_cli_asking_for_cupy_without_a_gpu_exits_2(tmp_path):
    assert main(["sweep", "--backend", "cupy", "--out", str(tmp_path)]) == 2


def test_out_of_memory_chunks_are_halved_and_results_unchanged(monkeypatch):
    from simulations import methods as methods_module

    expected = pd.DataFrame(run_cell(cell(), ["ridge", "pto"], chunk=300))
    real = methods_module.METHODS["pto"]
    sizes = []

    def fit_with_small_memory(X, y, grid, setting, support):
        sizes.append(X.shape[0])
        if X.shape[0] > 40:
            raise MemoryError("simulated out-of-memory")
        return real.fit(X, y, grid, setting, support)

    monkeypatch.setitem(methods_module.METHODS, "pto", methods_module.Method(
        "pto", real.parameter, real.grid, real.theory, fit_with_small_memory))
    rows = pd.DataFrame(run_cell(cell(), ["ridge", "pto"], chunk=300))
    assert max(s for s in sizes if s <= 40) == 37 and sum(s for s in sizes if s <= 40) == 300
    pd.testing.assert_frame_equal(rows[RISK], expected[RISK], rtol=1e-12)


def test_auto_chunk_fits_the_memory_budget():
    from simulations.sweep import auto_chunk

    assert auto_chunk(cell(trials=100)) == 100
    big = cell(n=4096, d=1024, trials=10**5)
    assert 1 <= auto_chunk(big) * 8 * (4 * 4096 * 1024) <= 256 * 2**20


def test_float32_agrees_with_float64_within_a_standard_error():
    rows64 = {r["method"]: r for r in run_cell(cell(), ["ridge", "gd", "pto", "lasso"])}
    rows32 = {r["method"]: r for r in run_cell(cell(dtype="float32"), ["ridge", "gd", "pto", "lasso"])}
    for method, row in rows64.items():
        assert abs(rows32[method]["risk_mean"] - row["risk_mean"]) < 0.01 * row["risk_sem"]


def test_memory_is_bounded_by_the_chunk_not_the_number_of_instances():
    """Peak traced memory of a cell grows with the chunk, not with the trials (only per-instance risks are kept)."""
    import tracemalloc

    def peak(trials):
        tracemalloc.start()
        run_cell(cell(n=64, d=64, s=4, trials=trials), ["ridge", "pto"], chunk=200)
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak_bytes

    small, large = peak(400), peak(3200)
    assert large < 1.5 * small, (small, large)
