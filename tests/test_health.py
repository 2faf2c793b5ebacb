"""Health flags printed under the sweep's table: grid-edge choices, unconverged and diverged instances."""

import pandas as pd

from simulations.health import HEALTHY, health_lines


def row(method="ridge", n=16, **flags):
    base = {"method": method, "n": n, "d": 32, "s": 4, "sigma": 0.1, "signal": "gaussian", "tuning": "oracle",
            "trials": 2000, "parameter": "", "hyperparameter": float("nan"), "edge": False, "unconverged": 0,
            "diverged": 0}
    return {**base, **flags}


def test_each_flag_gets_one_line_naming_the_cell():
    frame = pd.DataFrame([row(), row("pto", 64, parameter="steps", hyperparameter=1e8, edge=True),
                          row("pto", 128, parameter="steps", hyperparameter=1.0, edge=True),
                          row("lasso", 8, parameter="alpha", hyperparameter=0.01, unconverged=3),
                          row("gd", 32, diverged=2000)])
    lines = health_lines(frame)
    assert len(lines) == 4
    assert lines[0] == "diverged: gd at n=32, d=32, s=4, sigma=0.1, gaussian signal, oracle tuning: 2000 of 2000 " \
                       "instances have infinite risk"
    assert lines[1].startswith("unconverged: lasso at n=8,") and "3 of 2000 instances" in lines[1]
    assert "pto at n=64" in lines[2] and "steps = 1e+08, the largest value of its grid" in lines[2]
    assert "pto at n=128" in lines[3] and "steps = 1, the smallest value of its grid" in lines[3]


def test_a_healthy_table_prints_nothing_and_a_long_list_is_cut():
    assert health_lines(pd.DataFrame([row(), row("lasso", unconverged=0)])) == []
    many = pd.DataFrame([row("gd", n, diverged=1) for n in range(8, 40)])
    lines = health_lines(many, limit=5)
    assert len(lines) == 6 and lines[-1].startswith("... and 27 more")


def test_the_sweep_prints_its_flags_or_that_there_are_none(tmp_path, capsys):
    from simulations.cli import main

    tiny = ["sweep", "--n", "16", "--d", "8", "--s", "2", "--methods", "ridge", "--trials", "20"]
    assert main([*tiny, "--sigma", "0", "--out", str(tmp_path / "a")]) == 0  # no noise, n > d: the smallest lam wins
    out = capsys.readouterr().out
    assert "grid edge: ridge at n=16, d=8, s=2, sigma=0, gaussian signal, oracle tuning chose lam = 1e-06, " \
           "the smallest value of its grid" in out
    assert main([*tiny, "--sigma", "0.5", "--out", str(tmp_path / "b")]) == 0
    assert HEALTHY in capsys.readouterr().out
