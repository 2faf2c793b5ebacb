"""The benchmark scripts run (small sizes) and the GPU suite rejects bad input; they must not rot between GPU sessions."""

import os
import subprocess
import sys
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
