"""The registries are the one place a signal law, a tuning mode or a method is declared.

Each test adds a toy entry to a registry (monkeypatched, so it is gone after
the test) and runs the code that uses it unchanged: that is all a new law,
mode or method needs, besides a plotting style for a method's figures
(:data:`simulations.plotting.STYLES`).
"""

import numpy as np
import pandas as pd
import pytest

from solvers.signals import SIGNALS, SignalLaw
from simulations import doc_tables, plotting, tuning
from simulations.cli import main
from simulations.methods import METHODS, NO_PARAMETER, Method
from simulations.problems import sample_problems
from simulations.sweep import plan_cells, run_sweep

#: Nonzeros +-2 whatever s: E||w*||^2 = 4 s.
TOY_LAW = SignalLaw("toy", "sign", lambda s: 0.5, lambda s: 4.0 * s, "+-2 nonzeros, E||w*||^2 = 4 s")


class Smallest(tuning.TuningMode):
    """Always the first grid value."""

    name = "smallest"
    chosen = "the first grid value"
    reported = "`hyperparameter` = that value"

    def choose(self, risks, choices):
        return np.zeros(risks.shape[1], dtype=int), 0


def _zero(X, y, grid, setting, support):
    return 0.0 * X[None, :, 0, :], None


ZERO = Method("zero", "", lambda setting: NO_PARAMETER, None, _zero, grid_text="the zero estimate")


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setitem(SIGNALS, "toy", TOY_LAW)
    monkeypatch.setitem(tuning.TUNINGS, "smallest", Smallest())
    monkeypatch.setitem(METHODS, "zero", ZERO)
    monkeypatch.setitem(plotting.STYLES, "zero", {"color": "k", "marker": ".", "linestyle": "-", "label": "zero"})


@pytest.mark.parametrize("rng", ["host", "device"])
def test_a_new_signal_law_is_sampled_by_both_generators(toys, rng):
    p = sample_problems(6, 10, 3, 0.1, 200, seed=1, signal="toy", rng=rng)
    nonzero = p.w_star[p.w_star != 0]
    assert set(np.unique(nonzero)) == {-2.0, 2.0} and nonzero.size == 200 * 3


def test_a_new_signal_law_is_sampled_by_torch(toys):
    train = pytest.importorskip("simulations.transformer.train")
    torch = train.torch
    config = train.TrainConfig(d=6, s=2, signal="toy", batch=50, device="cpu")
    batch = train.sample_batch(config, 4, torch.Generator().manual_seed(0), torch.device("cpu"), torch.float64)
    nonzero = batch["w_star"][batch["w_star"] != 0]
    assert set(nonzero.abs().tolist()) == {2.0} and nonzero.numel() == 50 * 2


def test_a_new_law_mode_and_method_run_in_a_sweep(toys, tmp_path):
    cells = plan_cells([8, 16], [6], [2], [0.1], signals=["toy"], tunings=["smallest", "oracle"], trials=200)
    results = run_sweep(cells, ["zero", "ridge"], tmp_path, progress=False)
    assert len(results) == 2 * 2 * 2
    zero = results[results.method == "zero"]
    # the zero estimate's risk is ||w*||^2 = 4 s = 8 exactly under the toy law
    np.testing.assert_allclose(zero.risk_mean, 8.0, rtol=1e-12)
    ridge = results[results.method == "ridge"].set_index(["tuning", "n"]).risk_mean
    smallest_lam = METHODS["ridge"].grid(cells[0].setting)[0]
    assert (results[(results.method == "ridge") & (results.tuning == "smallest")].hyperparameter == smallest_lam).all()
    assert (ridge["oracle"] <= ridge["smallest"]).all()


def test_a_new_law_mode_and_method_reach_the_command_line_and_the_docs(toys, tmp_path, capsys):
    argv = ["sweep", "--n", "8", "--d", "4", "--s", "1", "--signal", "toy", "--tuning", "smallest",
            "--methods", "zero,ols", "--trials", "10", "--quiet", "--out", str(tmp_path)]
    assert main(argv) == 0, capsys.readouterr().err
    assert set(pd.read_csv(tmp_path / "results.csv").method) == {"zero", "ols"}
    assert "| `toy` |" in doc_tables.signal_table() and "| `smallest` |" in doc_tables.tuning_table()
    assert "| zero |" in doc_tables.TABLES["methods"]()


def test_the_docs_tables_are_generated_from_the_registries_and_the_committed_analyses():
    texts = [document.read_text() for document in doc_tables.DOCUMENTS]
    for document, text in zip(doc_tables.DOCUMENTS, texts):
        assert doc_tables.render(text) == text, f"{document.name} is stale: run python -m simulations.doc_tables"
    for name in doc_tables.TABLES:
        assert sum(f"<!-- generated: {name} -->" in text for text in texts) == 1, name
