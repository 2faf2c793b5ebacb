"""The committed trained models (docs/data/models) load and reproduce the numbers the docs cite.

Nothing is retrained here: each model is loaded from its committed checkpoint
and evaluated on the convergence check's prompts (``budget.budget_curve``
draws those of ``analysis.convergence``: 2000 prompts at n = d, seed 5, as
``sparse-icl analyze`` does). Its
risk, and the gain of the last 20% of training measured against the
committed ``checkpoint_80pct.pt``, must match the committed
``convergence.json`` that docs/transformer.md and docs/claims.md quote.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simulations.transformer import load_model  # noqa: E402
from simulations.transformer.budget import LATE_GAIN_LIMIT, budget_curve  # noqa: E402
from simulations.transformer.train import load_snapshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "docs" / "data" / "models"
FIGURES = ROOT / "docs" / "figures" / "transformer"

#: model directory -> the analysis directory whose convergence.json the docs quote
CITED = {
    "d8s1_h8_seed0": "d8s1_h8",
    "d8s1_64k_h8_seed0": "d8s1_64k_h8",
    "d8s1_64k_h8_seed1": "d8s1_64k_h8/seed_1",
    "d8s1_64k_h8_seed2": "d8s1_64k_h8/seed_2",
    "d8s1_128k_h8_seed0": "d8s1_128k_h8",
    "d8s1_128k_h8_seed1": "d8s1_128k_h8/seed_1",
    "d8s1_128k_h8_seed2": "d8s1_128k_h8/seed_2",
    "d8s1_128k_h1_seed0": "d8s1_128k_h1",
    "d8s1_256k_h1_seed0": "d8s1_256k_h1",
    "d8s1_256k_h8_seed0": "d8s1_256k_h8",
    "d8s1_256k_h8_seed1": "d8s1_256k_h8/seed_1",
    "d8s1_256k_h8_seed2": "d8s1_256k_h8/seed_2",
    "d8s1_320k_h1_seed0": "d8s1_320k_h1",
    "d8s1_320k_h8_seed0": "d8s1_320k_h8",
    "d8s1_400k_h8_seed0": "d8s1_400k_h8",
    "d8s1_400k_h8_seed1": "d8s1_400k_h8/seed_1",
    "d8s1_400k_h8_seed2": "d8s1_400k_h8/seed_2",
    "d8s1_400k_h4_seed0": "d8s1_400k_h4",
    "d8s1_400k_h2_seed0": "d8s1_400k_h2",
    "d8s1_400k_h1_seed0": "d8s1_400k_h1",
    "d8s1_400k_h1_seed1": "d8s1_400k_h1/seed_1",
    "d8s1_400k_h1_seed2": "d8s1_400k_h1/seed_2",
    "d8s1_linear_huber_seed0": "d8s1_linear_huber",
    "d8s1_linear_huber_pto_init_seed0": "d8s1_linear_huber_pto_init",
    "d8s1_linear_huber_pto_init_lr3e-5_seed0": "d8s1_linear_huber_pto_init_lr3e-5",
}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the analyses were run (--threads 1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.iterdir() if p.is_dir()))
def test_every_committed_model_loads_with_its_config(name):
    model, config, step = load_model(MODELS / name)
    assert step == config.steps  # finished runs only: unfinished ones live in docs/data/runs
    on_disk = json.loads((MODELS / name / "config.json").read_text())
    assert on_disk["heads"] == list(config.heads) and on_disk["steps"] == config.steps
    X = torch.zeros(2, config.n_max, config.d)
    out = model(X, torch.zeros(2, config.n_max), torch.zeros(2, 3, config.d))
    assert out.shape == (2, 3) and torch.isfinite(out).all()


def test_committed_models_reproduce_their_cited_convergence_numbers():
    """Every cited model's risk, late gain and reference risks at n = d, through ``budget.budget_curve``
    (the convergence check's prompts), equal the committed ``convergence.json``."""
    names = sorted(CITED)
    runs = []
    for name in names:
        model, config, _ = load_model(MODELS / name)
        runs.append((model, config, load_snapshot(MODELS / name)))
    result = budget_curve(runs, n=8)
    for name, row in zip(names, result["runs"]):
        cited = json.loads((FIGURES / CITED[name] / "convergence.json").read_text())
        assert (cited["n"], cited["trials"]) == (result["n"], result["trials"])
        np.testing.assert_allclose([row["risk"], row["sem"], row["bayes_ratio"]],
                                   [cited["risk"], cited["sem"], cited["bayes_ratio"]], rtol=1e-5, err_msg=name)
        np.testing.assert_allclose([row["late_gain"], row["late_gain_sem"]],
                                   [cited["late_gain"], cited["late_gain_sem"]], rtol=1e-4, err_msg=name)
        assert row["converged"] == (cited["late_gain"] < LATE_GAIN_LIMIT)
        for algorithm, ref in result["algorithms"].items():
            assert ref["risk"] == pytest.approx(cited["algorithms"][algorithm]["risk"], rel=1e-12)
