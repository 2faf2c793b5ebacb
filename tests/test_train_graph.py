"""Training steps recorded as CUDA graphs (``compile="graph"``) against eager steps.

The GPU cases are skipped without a CUDA device; run them on a GPU machine with
``pytest -m gpu tests/test_train_graph.py`` (or ``bash benchmarks/gpu_suite.sh tests``).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from simulations.transformer.train import TrainConfig, TrainStep, context_length, learning_rate, train  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

#: Softmax attention with an MLP, clipping and weight decay: every part of a step that the graph records.
SMALL = dict(d=4, s=1, sigma=0.1, n_min=2, n_max=6, queries=4, heads=[2, 2], width=16, attention="softmax",
             mlp=True, batch=32, lr=3e-3, warmup=5, weight_decay=0.01, grad_clip=1.0, dtype="float64",
             log_every=5, checkpoint_every=10)


def test_graph_steps_need_a_cuda_device():
    with pytest.raises(ValueError, match="compile 'graph' records CUDA graphs: it needs a CUDA device"):
        TrainStep(TrainConfig(**SMALL, steps=10, device="cpu", compile="graph"))


@pytest.mark.gpu
@cuda
def test_graph_steps_follow_the_eager_steps():
    """Forty steps over five context lengths (so both the eager first step at a length and its replays run)
    give the eager run's losses and weights: same prompts (the generator is registered with each graph),
    same learning rates (filled into the captured optimiser), same gradients (zeroed, never reallocated)."""
    config = TrainConfig(**SMALL, steps=40, device="cuda")
    runs = {mode: TrainStep(TrainConfig(**{**SMALL, "compile": mode}, steps=40, device="cuda"))
            for mode in ("none", "graph")}
    history = {mode: [] for mode in runs}
    for mode, run in runs.items():
        for step in range(config.steps):
            n = context_length(config, step, run.length_generator)
            history[mode].append(run(n, learning_rate(config, step)).tolist())
    assert len(runs["graph"].graphs) == config.n_max - config.n_min + 1
    torch.testing.assert_close(torch.tensor(history["graph"]), torch.tensor(history["none"]), rtol=1e-7, atol=0)
    for (name, eager), (_, graphed) in zip(runs["none"].model.state_dict().items(),
                                           runs["graph"].model.state_dict().items()):
        torch.testing.assert_close(graphed, eager, rtol=1e-7, atol=1e-12, msg=name)


@pytest.mark.gpu
@cuda
def test_graph_runs_resume_bit_for_bit(tmp_path):
    """A resumed run records its graphs anew (its first step at each length is eager again): the result must
    not depend on where the run was stopped."""
    config = TrainConfig(**SMALL, steps=30, device="cuda", compile="graph")
    full = train(config, tmp_path / "full", progress=False)
    part = train(config, tmp_path / "part", progress=False, stop_after=10)
    assert part.step == 10 and not part.finished
    resumed = train(config, tmp_path / "part", resume=True, progress=False)
    assert resumed.finished
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
