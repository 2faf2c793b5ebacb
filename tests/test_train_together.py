"""Runs trained together in one process (:mod:`simulations.transformer.together`) against runs trained alone."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from simulations.transformer.together import train_together  # noqa: E402
from simulations.transformer.train import Run, TrainConfig, train  # noqa: E402

torch.set_num_threads(1)
SMALL = dict(d=4, s=1, sigma=0.1, n_min=2, n_max=6, queries=4, width=16, attention="softmax", mlp=True, batch=16,
             lr=3e-3, warmup=5, dtype="float64", device="cpu", log_every=5, checkpoint_every=10)
#: Two runs that differ in everything a run owns: heads (so shapes), seed (weights and prompts), length.
CONFIGS = [TrainConfig(**SMALL, heads=[2, 2], seed=0, steps=30), TrainConfig(**SMALL, heads=[1, 1], seed=1, steps=20)]


def _same_run(a, b) -> None:
    for (name, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), name


def _metrics(path):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in path.read_text().splitlines()]


def test_runs_trained_together_are_the_runs_trained_alone(tmp_path):
    together = train_together(CONFIGS, [tmp_path / "a", tmp_path / "b"], [False, False])
    for k, (config, result) in enumerate(zip(CONFIGS, together)):
        alone = train(config, tmp_path / f"alone{k}", progress=False)
        assert result.finished and result.step == config.steps
        _same_run(result, alone)
        assert _metrics(result.out / "metrics.jsonl") == _metrics(alone.out / "metrics.jsonl")


def test_an_interrupt_checkpoints_every_unfinished_run_where_it_is(tmp_path, monkeypatch):
    """A KeyboardInterrupt between steps (where a signal held by ``critical`` lands) saves every unfinished run
    at its current step; resuming them together ends where the uninterrupted runs end."""
    outs = [tmp_path / "a", tmp_path / "b"]
    advance, calls = Run.advance, []

    def interrupted_at_the_25th_step(self):
        calls.append(1)
        if len(calls) == 25:
            raise KeyboardInterrupt
        advance(self)

    monkeypatch.setattr(Run, "advance", interrupted_at_the_25th_step)
    with pytest.raises(KeyboardInterrupt):
        train_together(CONFIGS, outs, [False, False])
    monkeypatch.setattr(Run, "advance", advance)
    saved = [torch.load(out / "checkpoint.pt", weights_only=True)["step"] for out in outs]
    assert saved == [12, 12]  # 24 steps taken in turns, none lost to the last periodic checkpoint (10)
    resumed = train_together(CONFIGS, outs, [True, True])
    for k, (config, result) in enumerate(zip(CONFIGS, resumed)):
        _same_run(result, train(config, tmp_path / f"alone{k}", progress=False))


def test_together_needs_one_entry_per_run(tmp_path):
    with pytest.raises(ValueError, match="one entry per run, got 2, 1 and 2"):
        train_together(CONFIGS, [tmp_path / "a"], [False, False])
