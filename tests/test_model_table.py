"""The model-by-model table of the transformer claims (simulations.transformer.model_table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulations.transformer.model_table import (budget_table, convergence_table, heads_seeds_table, heads_table,
                                                 markdown_table, seed_directories, seed_rows)


def write_analysis(directory: Path, seeds: list[dict]) -> None:
    """A minimal analysis directory in the layout of ``sparse-icl analyze``."""
    verdicts = {"C1": {"seeds": []}, "C2": {"seeds": []}, "C6": {"seeds": []}, "C7": {"seeds": []}}
    for k, seed in enumerate(seeds):
        seed_dir = directory if k == 0 else directory / f"seed_{seed['seed']}"
        seed_dir.mkdir(parents=True, exist_ok=True)
        convergence = {"risk": seed["risk"], "sem": 0.0002, "bayes_ratio": seed["risk"] / 0.002,
                       "algorithms": {name: {"ratio": seed["risk"] / risk, "diff": seed["risk"] - risk,
                                             "diff_sem": 0.001}
                                      for name, risk in (("ridge", 0.11), ("pto", 0.023), ("lasso", 0.0092),
                                                         ("bayes", 0.002))}}
        if seed.get("late_gain") is not None:
            convergence.update(late_gain=seed["late_gain"], late_gain_sem=0.018)
        (seed_dir / "convergence.json").write_text(json.dumps(convergence))
        (seed_dir / "agreement.json").write_text(json.dumps(
            {"algorithms": {"bayes": {"msd": 0.005}, "lasso": {"msd": 0.01}, "pto": {"msd": 3.0}}}))
        verdicts["C1"]["seeds"].append({"top_share": seed["shares"], **({"top_share_sem": seed["sems"]}
                                                                          if "sems" in seed else {})})
        verdicts["C2"]["seeds"].append({"r2_rx": [0.18, 0.2, 0.21, 0.19]})
        verdicts["C6"]["seeds"].append({"pruned_ratio": 141.1,
                                        "reduced_ratio": seed.get("reduced", {"layer1_top": 18.3})})
        verdicts["C7"]["seeds"].append({"closest": "bayes"})
    (directory / "verdicts.json").write_text(json.dumps(verdicts))


def test_rows_follow_the_seed_directories_and_bold_what_meets_the_rules(tmp_path: Path) -> None:
    seeds = [{"seed": 0, "risk": 0.0063, "late_gain": 0.023, "shares": [0.25, 0.49, 0.66]},
             {"seed": 2, "risk": 0.0077, "late_gain": 0.118, "shares": [0.5, 0.2, 0.3], "sems": [0.031, 0.02, 0.01],
              "reduced": {"layer1_top": 18.3, "layer2_top": 1.234, "layer3_top": 11.7}},
             {"seed": 10, "risk": 0.0090, "late_gain": None, "shares": [0.1, 0.2, 0.3]}]
    write_analysis(tmp_path / "run", seeds)
    assert [p.name for p in seed_directories(tmp_path / "run")] == ["run", "seed_2", "seed_10"]
    table = markdown_table([("400k", "run")], root=tmp_path).splitlines()
    assert len(table) == 2 + 3
    assert table[2] == ("| 400k | 0 | 0.0063 (3.1x) | **2.3%** | 0.25, 0.49, **0.66** | 0.20 | 141 (18) | "
                        "Bayes (0.0050) | 3.00 |")
    assert table[3].startswith("| 400k | 2 | 0.0077 (3.9x) | 11.8% | **0.50 +- 0.03**, 0.20 +- 0.02, 0.30 +- 0.01 | "
                               "0.20 | 141 (18, 1.2, 12) |")
    assert "| 400k | 10 | 0.0090 (4.5x) | n/a |" in table[4]


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "verdicts.json").unlink(), "verdicts.json: no such file"),
    (lambda d: (d / "seed_1" / "agreement.json").unlink(), "agreement.json: no such file"),
    (lambda d: (d / "convergence.json").write_text("{not json"), "convergence.json: not valid JSON"),
    (lambda d: (d / "verdicts.json").write_text('{"C1": {"seeds": []}}'), "missing or malformed"),
    (lambda d: (d / "convergence.json").write_text('{"risk": "high"}'), "missing or malformed"),
])
def test_a_damaged_analysis_is_one_clear_error(tmp_path: Path, damage, message: str) -> None:
    write_analysis(tmp_path, [{"seed": 0, "risk": 0.01, "late_gain": 0.1, "shares": [0.3, 0.3, 0.3]},
                              {"seed": 1, "risk": 0.01, "late_gain": 0.1, "shares": [0.3, 0.3, 0.3]}])
    damage(tmp_path)
    with pytest.raises(ValueError, match=message):
        seed_rows(tmp_path)


def test_budget_and_convergence_tables(tmp_path: Path) -> None:
    write_analysis(tmp_path / "h8", [{"seed": 0, "risk": 0.0063, "late_gain": 0.023, "shares": [0.3] * 3},
                                     {"seed": 2, "risk": 0.0250, "late_gain": 0.118, "shares": [0.3] * 3}])
    write_analysis(tmp_path / "h1", [{"seed": 0, "risk": 0.0094, "late_gain": None, "shares": [1.0] * 3}])
    budgets = budget_table([("400k", "h8", "h1")], root=tmp_path).splitlines()
    assert budgets[2] == ("| 400k | 0.0063 +- 0.0002 (**2.3%**) | -- | 0.0250 +- 0.0002 (11.8%) | 3.1-12 | "
                          "0.0094 +- 0.0002 (n/a) |")
    converged = convergence_table([("h = 8", "h8", "2")], root=tmp_path).splitlines()
    assert converged[2] == ("| h = 8 | 0.0250 +- 0.0002 | 0.23 | 1.09 | 2.72 | 12.5 | +0.0020 +- 0.0010 | "
                            "+0.0158 +- 0.0010 | 11.8% +- 1.8% |")
    heads = heads_table([("400k", {1: "h1", 8: "h8"})], root=tmp_path).splitlines()
    assert heads[2] == ("| 400k | 0.0094 +- 0.0002 (n/a), 0.09x ridge | -- | -- | "
                        "0.0063 +- 0.0002 (**2.3%**), 0.06x ridge |")
    with pytest.raises(ValueError, match="no seed 1"):
        convergence_table([("h = 8", "h8", "1")], root=tmp_path)


def test_heads_seeds_table_grades_the_more_heads_claim_over_seeds(tmp_path: Path) -> None:
    write_analysis(tmp_path / "h8", [{"seed": k, "risk": r, "late_gain": 0.02, "shares": [0.3] * 3}
                                     for k, r in enumerate((0.0063, 0.0094, 0.0077))])
    write_analysis(tmp_path / "h1", [{"seed": k, "risk": r, "late_gain": 0.1, "shares": [1.0] * 3}
                                     for k, r in enumerate((0.0095, 0.0110, 0.0101))])
    write_analysis(tmp_path / "h2", [{"seed": 0, "risk": 0.0084, "late_gain": 0.1, "shares": [0.6] * 3}])
    table = heads_seeds_table({8: "h8", 1: "h1", 2: "h2"}, root=tmp_path).splitlines()
    assert [row.split(" | ")[0] for row in table[2:]] == ["| 1", "| 2", "| 8"]
    assert table[2] == ("| 1 | 3 | 0.0095, 0.0110, 0.0101 | 0.0102 +- 0.0004 | **reproduced** (p = 0.050; "
                        "reverse order p = 1.000); difference of means -0.0024 +- 0.0010 |")
    assert table[3] == "| 2 | 1 | 0.0084 | 0.0084 | undecided (1 seed of h = 2); difference of means -0.0006 |"
    assert table[4] == "| 8 | 3 | 0.0063, 0.0094, 0.0077 | 0.0078 +- 0.0009 | -- |"
