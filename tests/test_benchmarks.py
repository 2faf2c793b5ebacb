"""The benchmark scripts run (small sizes) and the GPU suite rejects bad input; they must not rot between GPU sessions."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("script,args,expected", [
    ("bench_solvers.py", ["--n", "16", "--d", "8", "--trials", "20", "--loop-trials", "2"], "ridge path (40 lambdas)"),
    ("lasso.py", ["--instances", "30", "--loop-instances", "3", "--tols", "1e-4", "--rounds", "1"],
     "| 0.0001 | ours compiled | 30 |"),
    ("false_alarms.py", ["--seeds", "20", "--trials", "20"], "| (8, 16, 2, 0.5) | 20 | 0.01 | "),
    ("bayes.py", ["--cases", "8,8,2", "--instances", "6", "--array-instances", "3", "--rounds", "1"],
     "| (8, 8, 2) | 28 | 6 | 3 | "),
    ("sweep_time.py", ["--rounds", "1", "--", "--n", "8", "--trials", "20", "--methods", "ridge"],
     "| this checkout | OPENBLAS_NUM_THREADS=1 |"),
    ("train_throughput.py", ["--steps", "2", "--warmup", "1", "--heads", "2", "--mlp", "config", "--batch", "8",
                             "--sdpa"], "x explicit; max |diff| "),
])
def test_benchmark_scripts_run(script, args, expected):
    result = run(sys.executable, f"benchmarks/{script}", *args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_gpu_suite_rejects_an_unknown_stage_and_leaves_no_log_directory(tmp_path):
    logs = tmp_path / "logs"
    result = run("bash", "benchmarks/gpu_suite.sh", "everything", env={**os.environ, "OUT": str(logs)})
    assert result.returncode == 2 and "usage" in result.stderr
    assert not logs.exists()


@pytest.mark.slow
def test_bench_scale_quick_runs():
    result = run(sys.executable, "benchmarks/bench_scale.py", "--quick")
    assert result.returncode == 0, result.stderr
    assert "full panel" in result.stdout and "draw, Philox RNG" in result.stdout


def test_gpu_suite_dry_run_runs_every_stage_on_the_cpu(tmp_path):
    """The whole suite's Python at toy sizes: a typo cannot waste a GPU session's minutes."""
    logs = tmp_path / "logs"
    python = {**os.environ, "OUT": str(logs), "PYTHON": sys.executable}
    result = run("bash", "benchmarks/gpu_suite.sh", "--dry-run", "all", "profile", env=python)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "8 runs in" in result.stdout and ", 0 failed" in result.stdout
    for name in ("train", "gpu_tests", "bench", "scaling", "profile"):
        assert (logs / f"{name}.txt").stat().st_size > 0, name
    bench = (logs / "bench.txt").read_text()
    for step in ("bench_scale_float64", "bench_lasso", "bench_solvers", "bench_scale_float32"):
        assert f"== {step} (limit" in bench, step
    assert "full panel" in bench and "% of measured copy" in bench
    assert "cumulative seconds by phase" in (logs / "profile.txt").read_text()
    scaling = (logs / "scaling.txt").read_text()
    assert "fitted exponents" in scaling and scaling.count("ours array_api") == 3
    assert "stopped at its" not in bench
    sweep = json.loads((logs / "gpu_heads" / "sweep.json").read_text())
    assert len(sweep["probe"]["none"]["rates"]) == 8 and sweep["steps"] >= 10 and sweep["compile"] == "none"
    assert (logs / "gpu_heads_1.tgz").stat().st_size > 0 and (logs / "gpu_heads_2.tgz").stat().st_size > 0
    assert "dry run on the CPU" in (logs / "train.txt").read_text().splitlines()[0]


@pytest.mark.parametrize("args,message", [
    (["--runs", "8-0", "--minutes", "1"], "heads:seed"),
    (["--runs", "8:0", "--minutes", "nan"], "--minutes must be finite and > 0"),
    (["--runs", "8:0", "--minutes", "1", "--steps", "0"], "--steps"),
    (["--runs", "8:0", "--minutes", "1", "--resume"], "--resume needs --steps"),
    (["--runs", "8:0", "--minutes", "1", "--steps", "10", "--together", "auto"], "--together auto needs the probe"),
])
def test_budgeted_sweep_rejects_bad_arguments_in_one_line(args, message):
    result = run(sys.executable, "-m", "simulations.transformer.budgeted_sweep", "--config", "x.json",
                 "--out", "runs/never", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_budgeted_sweep_keeps_the_mode_that_fits_more_steps_and_skips_a_failed_probe(monkeypatch):
    from simulations.transformer import budgeted_sweep
    from simulations.transformer.train import TrainConfig

    reports = {"none": [(60.0, 5.0, None), (70.0, 6.0, None)],  # slowest 60 steps/s, 6 s of warm-up
               "reduce-overhead": [(300.0, 90.0, None), (None, None, "BackendCompilerFailed: x")]}
    monkeypatch.setattr(budgeted_sweep, "probe_rates",
                        lambda configs, steps: reports[configs[0]["compile"]])
    base = TrainConfig(checkpoint_every=100)
    options = [("none", False), ("reduce-overhead", False)]
    mode, together, steps, record = budgeted_sweep.choose_steps(base, [(8, 0), (1, 0)], options, 2, 10)
    assert (mode, together, steps) == ("none", False, int(0.9 * 60 * (120 - 6)) // 100 * 100)
    assert record["reduce-overhead"] == {"error": "BackendCompilerFailed: x"}
    reports["reduce-overhead"] = [(300.0, 90.0, None), (250.0, 80.0, None)]
    mode, _, steps, _ = budgeted_sweep.choose_steps(base, [(8, 0), (1, 0)], options, 2, 10)
    assert (mode, steps) == ("reduce-overhead", int(0.9 * 250 * (120 - 90)) // 100 * 100)


def test_a_budget_keeps_the_schedules_share_of_held_steps():
    from simulations.transformer.budgeted_sweep import run_config
    from simulations.transformer.train import TrainConfig

    base = TrainConfig(heads=[8, 8, 8], steps=400000, hold=144000, warmup=1000)
    config = run_config(base, 2, 5, 100000)
    assert (config.heads, config.seed, config.steps, config.hold) == ([2, 2, 2], 5, 100000, 36000)
    assert run_config(base, 1, 0, 1000).hold == 0  # no room after the warm-up
    assert run_config(replace(base, hold=0), 1, 0, 5000).hold == 0


def test_budgeted_sweep_probes_every_mode_in_each_layout_but_compiled_models_together():
    from simulations.transformer.budgeted_sweep import candidates

    assert candidates("auto", "none", "auto") == [("none", False), ("reduce-overhead", False), ("graph", False),
                                                  ("none", True), ("graph", True)]
    assert candidates("config", "graph", "yes") == [("graph", True)]
    assert candidates("reduce-overhead", "none", "auto") == [("reduce-overhead", False), ("reduce-overhead", True)]


TINY_SWEEP = {"d": 4, "s": 1, "n_min": 2, "n_max": 6, "queries": 2, "width": 16, "batch": 8, "heads": [2, 2],
              "attention": "softmax", "warmup": 2, "steps": 10, "device": "cpu", "log_every": 10,
              "checkpoint_every": 10}


def test_budgeted_sweep_probes_and_trains_runs_together(tmp_path):
    """``--together`` probes the runs in one process, then trains them in this one: both finish."""
    from simulations.transformer import budgeted_sweep
    from simulations.transformer.train import TrainConfig

    base = TrainConfig(**TINY_SWEEP)
    mode, together, steps, record = budgeted_sweep.choose_steps(base, [(2, 0), (1, 0)], [("none", True)], 0.05, 10)
    rates = record["none, together"]["rates"]
    assert (mode, together) == ("none", True) and steps >= base.checkpoint_every and rates[0] == rates[1] > 0
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY_SWEEP))
    result = run(sys.executable, "-m", "simulations.transformer.budgeted_sweep", "--config", str(config),
                 "--runs", "2:0", "1:0", "--minutes", "1", "--steps", "20", "--together", "yes",
                 "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "r" / "sweep.json").read_text())
    assert [line["last_line"].split(";")[0] for line in record["results"].values()] == ["finished at step 20/20"] * 2
    (tmp_path / "r" / "h1_seed0" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    result = run(sys.executable, "-m", "simulations.transformer.budgeted_sweep", "--config", str(config),
                 "--runs", "2:0", "1:0", "--minutes", "1", "--steps", "20", "--together", "yes", "--resume",
                 "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("budgeted_sweep: error: ") and "h1_seed0/checkpoint.pt" in result.stderr


@pytest.mark.parametrize("together", [False, True], ids=["one process each", "together"])
def test_budgeted_sweep_passes_sigterm_on_to_its_runs(tmp_path, together):
    """A time limit (SIGTERM) stops every run at a checkpoint; none is left training."""
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY_SWEEP))
    out = tmp_path / "runs"
    sweep = subprocess.Popen([sys.executable, "-m", "simulations.transformer.budgeted_sweep", "--config",
                              str(config), "--runs", "2:0", "1:0", "--minutes", "5", "--steps", "10000000",
                              "--out", str(out), *(["--together", "yes"] if together else [])],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not all((out / run / "checkpoint.pt").exists() for run in ("h2_seed0", "h1_seed0")):
        assert time.monotonic() < deadline and sweep.poll() is None, sweep.communicate()
        time.sleep(0.5)
    sweep.send_signal(signal.SIGTERM)
    assert sweep.wait(timeout=90) == 128 + signal.SIGTERM
    for run in ("h2_seed0", "h1_seed0"):
        size = (out / run / "metrics.jsonl").stat().st_size
        time.sleep(1)
        assert (out / run / "metrics.jsonl").stat().st_size == size  # stopped, not orphaned
