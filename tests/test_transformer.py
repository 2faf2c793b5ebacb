"""Tests of the transformer path: model, exact PtO construction, training, analyses, commands."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import solvers  # noqa: E402
from simulations.cli import main  # noqa: E402
from simulations.commands.train import read_config  # noqa: E402
from simulations.spec import Problem  # noqa: E402
from simulations.transformer import analysis as A  # noqa: E402
from simulations.transformer import verdicts as V  # noqa: E402
from simulations.transformer.construction import construct_pto  # noqa: E402
from simulations.transformer.model import ICLTransformer, ModelConfig  # noqa: E402
from simulations.transformer.train import CHECKPOINT, SNAPSHOT, TrainConfig, TrainStep, load_model, train  # noqa: E402

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


def _problems(rng, trials, n, d, m=None):
    X = rng.standard_normal((trials, n, d))
    w = rng.standard_normal((trials, d))
    y = np.einsum("tnd,td->tn", X, w) + 0.3 * rng.standard_normal((trials, n))
    xq = rng.standard_normal((trials, d) if m is None else (trials, m, d))
    return X, y, xq


def _t(*arrays):
    return [torch.as_tensor(a) for a in arrays]


# ----------------------------------------------------------------------------- construction (C3)
@pytest.mark.parametrize("n, d, steps, eta", [(10, 4, 3, 0.5), (5, 12, 4, 2.0), (20, 8, 1, 0.3),
                                               (3, 6, 6, 1.0), (16, 5, 0, 1.0)])
def test_construction_equals_pto(n, d, steps, eta):
    rng = np.random.default_rng(n * 100 + d)
    X, y, xq = _problems(rng, 9, n, d)
    model = construct_pto(d, steps, eta)
    pred = model(*_t(X, y, xq)).detach().numpy()
    reference = np.einsum("td,td->t", solvers.pto(X, y, eta, steps), xq)
    assert np.max(np.abs(pred - reference)) <= 1e-10 * max(1.0, np.max(np.abs(reference)))
    if steps:  # the check is not vacuous
        assert np.max(np.abs(reference)) > 1e-3


def test_construction_masking_head_k_drops_coordinate_k():
    """Head k of layer 1 writes x~_k; masking it is PtO on data whose column k is zero."""
    rng = np.random.default_rng(1)
    n, d, k = 12, 5, 2
    X, y, xq = _problems(rng, 6, n, d)
    model = construct_pto(d, 2, 0.4)
    keep = [np.ones(d), np.ones(1), np.ones(1)]
    keep[0][k] = 0.0
    with A.masked(model, keep):
        pred = model(*_t(X, y, xq)).detach().numpy()
    Xk = X.copy()
    Xk[..., k] = 0.0
    reference = np.einsum("td,td->t", solvers.pto(Xk, y, 0.4, 2), xq)
    np.testing.assert_allclose(pred, reference, rtol=1e-10, atol=1e-12)
    assert all(bool(torch.all(m == 1)) for m in model.head_masks)  # restored


def test_construction_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        construct_pto(3, -1, 0.1)
    with pytest.raises(ValueError, match="step_size"):
        construct_pto(3, 1, 0.0)


# ----------------------------------------------------------------------------- model
@pytest.mark.parametrize("attention", ["linear", "softmax"])
def test_model_shapes_hidden_states_and_independent_queries(attention):
    torch.manual_seed(0)
    config = ModelConfig(d=4, heads=[3, 1], width=12, attention=attention, mlp=attention == "softmax")
    model = ICLTransformer(config).double().eval()
    rng = np.random.default_rng(2)
    X, y, xq = _problems(rng, 5, 7, 4, m=3)
    X, y, xq = _t(X, y, xq)
    pred, hidden = model(X, y, xq, return_hidden=True)
    assert pred.shape == (5, 3)
    assert len(hidden) == 3 and all(h.shape == (5, 10, 12) for h in hidden)
    one_at_a_time = torch.stack([model(X, y, xq[:, j]) for j in range(3)], dim=1)
    assert one_at_a_time.shape == (5, 3)
    torch.testing.assert_close(pred, one_at_a_time, rtol=1e-12, atol=1e-12)
    assert [m.numel() for m in model.head_masks] == [3, 1]


def test_masking_all_heads_makes_linear_layers_identity():
    torch.manual_seed(1)
    model = ICLTransformer(ModelConfig(d=3, heads=[2, 2], attention="linear")).double()
    rng = np.random.default_rng(3)
    X, y, xq = _t(*_problems(rng, 4, 6, 3))
    with A.masked(model, [np.zeros(2), np.zeros(2)]):
        pred, hidden = model(X, y, xq, return_hidden=True)
    torch.testing.assert_close(hidden[2], hidden[0])
    expected = model.readout(model.tokens(X, y, xq[:, None])[:, -1])[:, 0]
    torch.testing.assert_close(pred, expected)
    with A.masked(model, [np.array([1.0, 0.0]), np.ones(2)]):
        partial = model(X, y, xq)
    assert not torch.allclose(partial, model(X, y, xq))


def test_model_config_validation():
    with pytest.raises(ValueError, match="heads"):
        ModelConfig(d=3, heads=[])
    with pytest.raises(ValueError, match="attention"):
        ModelConfig(d=3, attention="relu")
    with pytest.raises(ValueError, match="width"):
        ModelConfig(d=3, width=3, attention="linear")
    with pytest.raises(ValueError, match="s must be"):
        TrainConfig(d=3, s=4)
    with pytest.raises(ValueError, match="unknown config keys"):
        TrainConfig.from_dict({"d": 3, "layers": 2})


SHIPPED_CONFIGS = sorted((ROOT / "simulations" / "transformer" / "configs").glob("*.json"))


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.stem)
def test_shipped_configs_are_valid_train_configs(path):
    config = TrainConfig.from_dict(read_config(path, "--config"))
    assert config.steps > 0 and config.model_config().d == config.d


# ----------------------------------------------------------------------------- training
TINY = dict(d=4, s=1, sigma=0.1, n_min=4, n_max=10, queries=4, heads=[2, 2], width=32, attention="softmax",
            batch=64, lr=3e-3, warmup=20, device="cpu", log_every=20, checkpoint_every=40)


def test_resume_reproduces_uninterrupted_run(tmp_path):
    config = TrainConfig(**TINY, steps=80, dtype="float64")
    full = train(config, tmp_path / "full", progress=False)
    part = train(config, tmp_path / "part", progress=False, stop_after=40)
    assert part.step == 40 and not part.finished
    resumed = train(config, tmp_path / "part", resume=True, progress=False)
    assert resumed.step == 80 and resumed.finished
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    strip = lambda path: [{k: v for k, v in json.loads(line).items() if k != "seconds"}  # noqa: E731
                          for line in path.read_text().splitlines()]
    assert strip(tmp_path / "full" / "metrics.jsonl") == strip(tmp_path / "part" / "metrics.jsonl")
    with pytest.raises(ValueError, match="config differs"):
        train(TrainConfig(**{**TINY, "lr": 1e-3}, steps=80, dtype="float64"), tmp_path / "part", resume=True,
              progress=False)


def test_learning_rate_holds_the_floor_after_the_decay():
    """A hold of H steps leaves the first ``steps - H`` rates of the unheld schedule unchanged, then lr / 10."""
    from simulations.transformer.train import learning_rate
    short, held = TrainConfig(**TINY, steps=60), TrainConfig(**TINY, steps=75, hold=15)
    assert [learning_rate(short, t) for t in range(60)] == [learning_rate(held, t) for t in range(60)]
    assert all(learning_rate(held, t) == pytest.approx(TINY["lr"] / 10) for t in range(60, 75))
    assert learning_rate(held, 40) > learning_rate(held, 50) > TINY["lr"] / 10
    with pytest.raises(ValueError, match="hold must be in"):
        TrainConfig(**TINY, steps=60, hold=41)  # past steps - warmup


def test_prolonging_a_finished_run_at_its_floor_equals_training_the_held_schedule(tmp_path):
    """Resuming a finished 60-step run with steps=75, hold=15 is the 75-step held run, bit for bit; its
    80% snapshot (step 60) is the 60-step run's final model. A longer decay is refused."""
    held = TrainConfig(**TINY, steps=75, hold=15, dtype="float64")
    scratch = train(held, tmp_path / "scratch", progress=False)
    train(TrainConfig(**TINY, steps=60, dtype="float64"), tmp_path / "short", progress=False)
    short_final = load_model(tmp_path / "short")[0].state_dict()
    prolonged = train(held, tmp_path / "short", resume=True, progress=False)
    assert prolonged.finished and prolonged.step == 75
    for (name, a), (_, b) in zip(scratch.model.state_dict().items(), prolonged.model.state_dict().items()):
        assert torch.equal(a, b), name
    snapshot = load_model(tmp_path / "short" / "checkpoint_80pct.pt")
    assert snapshot[2] == 60
    assert all(torch.equal(short_final[k], v) for k, v in snapshot[0].state_dict().items())
    for (name, a), (_, b) in zip(load_model(tmp_path / "scratch" / "checkpoint_80pct.pt")[0].state_dict().items(),
                                 snapshot[0].state_dict().items()):
        assert torch.equal(a, b), name
    strip = lambda path: [{k: v for k, v in json.loads(line).items() if k != "seconds"}  # noqa: E731
                          for line in path.read_text().splitlines()]
    assert strip(tmp_path / "scratch" / "metrics.jsonl") == strip(tmp_path / "short" / "metrics.jsonl")
    with pytest.raises(ValueError, match="decay ends"):
        train(TrainConfig(**TINY, steps=90, dtype="float64"), tmp_path / "short", resume=True, progress=False)


def test_huber_objective_matches_mse_on_small_residuals_and_bounds_large_ones():
    """2 * Huber: the same gradient as the MSE for |r| <= delta, slope 2 delta beyond."""
    from simulations.transformer.train import TrainStep
    config = TrainConfig(**TINY, steps=10, dtype="float64", loss="huber", huber_delta=0.5)
    step = TrainStep(config)
    pred = torch.tensor([0.1, -0.3, 2.0, -5.0], dtype=torch.float64, requires_grad=True)
    target = torch.zeros(4, dtype=torch.float64)
    objective = 2 * torch.nn.functional.huber_loss(pred, target, delta=config.huber_delta, reduction="sum")
    objective.backward()
    assert torch.allclose(pred.grad, torch.tensor([0.2, -0.6, 1.0, -1.0], dtype=torch.float64))
    loss, excess = step(config.n_min).tolist()  # one step runs with the Huber objective and logs the MSE
    assert np.isfinite(loss) and np.isfinite(excess)
    with pytest.raises(ValueError, match="loss must be one of"):
        TrainConfig(**TINY, loss="l1")
    with pytest.raises(ValueError, match="huber_delta"):
        TrainConfig(**TINY, huber_delta=0.0)


PTO_SHAPE = dict(d=4, s=1, heads=[4, 1, 1], attention="linear", width=9, head_dim=4)


def test_init_pto_starts_at_the_construction_and_trains_from_it(tmp_path):
    """``init="pto"``: step 0 predicts as PtO with L - 1 steps (C3 as an initialisation); training moves it."""
    config = TrainConfig(**PTO_SHAPE, n_min=6, n_max=6, queries=2, steps=30, batch=16, lr=1e-3, warmup=0,
                         dtype="float64", log_every=10, checkpoint_every=10, init="pto", init_step_size=0.3)
    start = TrainStep(config).model
    rng = np.random.default_rng(4)
    X, y, xq = _problems(rng, 7, 6, 4)
    reference = np.einsum("td,td->t", solvers.pto(X, y, 0.3, 2), xq)
    np.testing.assert_allclose(start(*_t(X, y, xq)).detach().numpy(), reference, rtol=1e-10, atol=1e-12)
    trained = train(config, tmp_path, progress=False).model
    moved = max(float(torch.max(torch.abs(a - b)).detach()) for a, b in zip(trained.parameters(), start.parameters()))
    assert moved > 1e-4
    assert load_model(tmp_path)[1].init == "pto"


@pytest.mark.parametrize("changes, message", [
    ({"init": "zeros"}, "init must be one of"),
    ({"init": "pto"}, "init_step_size must be finite and > 0"),
    ({"init": "pto", "init_step_size": -1.0}, "init_step_size must be finite and > 0"),
    ({"init_step_size": 0.3}, "init_step_size applies to init 'pto' only"),
    ({"init": "pto", "init_step_size": 0.3, "head_dim": 2}, "init 'pto' needs the construction's shape"),
    ({"init": "pto", "init_step_size": 0.3, "heads": [4, 2, 1]}, "init 'pto' needs the construction's shape"),
])
def test_init_pto_config_is_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{**PTO_SHAPE, **changes})


def test_resume_accepts_a_checkpoint_from_before_a_defaulted_field(tmp_path):
    """Checkpoints written before ``loss``/``huber_delta`` existed resume when the run uses their defaults."""
    config = TrainConfig(**TINY, steps=40, dtype="float64")
    train(config, tmp_path, progress=False, stop_after=20)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    for key in ("loss", "huber_delta"):
        del state["config"][key]
    torch.save(state, tmp_path / "checkpoint.pt")
    assert train(config, tmp_path, resume=True, progress=False).finished
    with pytest.raises(ValueError, match="loss"):
        train(TrainConfig(**TINY, steps=60, dtype="float64", loss="huber"), tmp_path, resume=True, progress=False)


def test_tiny_training_learns(tmp_path):
    """Loss falls well below its start and below the zero predictor's risk E||w*||^2 + sigma^2 = 1.01."""
    config = TrainConfig(**{**TINY, "checkpoint_every": 1000}, steps=400)
    train(config, tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    first, last = records[0]["loss"], np.mean([r["loss"] for r in records[-3:]])
    zero = 1.0 + config.sigma**2
    assert last < 0.6 * zero, (first, last)
    assert last < 0.6 * first, (first, last)
    model, loaded, step = load_model(tmp_path)
    assert step == 400 and loaded == config
    assert load_model(tmp_path / "checkpoint_80pct.pt")[2] == 320  # kept for the late-gain check


# ----------------------------------------------------------------------------- analyses
def test_analyses_recover_the_constructed_pto():
    # PtO with a fixed step is heavy-tailed when r is noisy (w_hat grows like eta r^3), so the
    # importance check uses a regime where it is a good estimator: n = 40, +-1/sqrt(s) signal
    d, steps, eta = 5, 2, 0.5
    model = construct_pto(d, steps, eta)
    task = Problem(d=d, s=2, sigma=0.1, signal="rademacher")
    agree = A.agreement(model, task, n=10, trials=120, queries=4)
    pto = agree["algorithms"]["pto"]
    # the step is fitted by a bounded scalar search (log-step tolerance 1e-10), and the msd is
    # quadratic in the step error, so the floor is ~1e-15 relative, not machine precision
    assert pto["msd"] < 1e-10 * agree["pred_power"]
    assert pto["cosine"] > 1 - 1e-9
    assert abs(pto["value"] - eta) < 1e-5 * eta
    for other in ("gd", "ridge"):
        assert agree["algorithms"][other]["msd"] > 1e-3 and agree["algorithms"][other]["cosine"] < 0.999
    assert agree["best_power"] == 2.0

    importance = A.head_importance(model, task, [40], trials=200, queries=4)
    assert importance["base_risk"] < 0.5  # the model beats the zero predictor (risk 1)
    layer1 = np.array(importance["normalized"][0])
    assert layer1.size == d and np.all(layer1 > 0.1) and layer1.max() < 0.35  # spread over the d heads
    assert importance["normalized"][1] == [1.0] and importance["normalized"][2] == [1.0]

    probes = A.probing(model, task, n=10, trials=200, queries=4)["layers"]
    assert probes[0]["r2_rx"] < 0.5 and probes[0]["r2_x"] > 0.999
    assert all(row["r2_rx"] > 0.999 for row in probes[1:])


def test_risk_vs_n_and_pruning_on_a_constructed_model():
    model = construct_pto(4, 1, 0.3)
    task = Problem(d=4, s=1, sigma=0.1)
    res = A.risk_vs_n(model, task, [6, 12], trials=100, queries=4)
    # the model is PtO with one step of size 0.3: its (query-sampled) risk vs the exact ||w_hat - w*||^2
    data = A.EvalSet.draw(task, 12, 100, 4, 0)
    exact = np.sum((solvers.pto(data.problems.X, data.problems.y, 0.3, 1) - data.problems.w_star) ** 2, axis=1)
    sampled = res["models"]["transformer"][-1]
    assert abs(sampled["risk"] - exact.mean()) < 5 * sampled["sem"]
    assert {"pto", "gd", "ridge"} <= set(res["baselines"])
    importance = A.head_importance(model, task, [12], trials=100, queries=4)
    pruned = A.pruning(model, task, importance, [12], trials=100, queries=4)
    assert pruned["risk"]["layer1_all"] == pruned["risk"]["full"]  # later layers have a single head
    assert pruned["kept"]["layer1_all"][0] == [1.0] * 4
    assert sorted(pruned["kept"]["layer1_top"][0]) == [0.0, 0.0, 0.0, 1.0]
    assert pruned["risk"]["layer1_top"][0]["risk"] != pruned["risk"]["full"][0]["risk"]
    assert set(pruned["risk"]) == {"full", "layer1_all", "layer1_top"}  # one-head layers have nothing to reduce


def test_pruning_masks_reduce_one_layer_at_a_time():
    importance = {"increase": [[0.1, 0.5, 0.2], [0.3, 0.0], [0.4]]}
    masks = {name: [m.tolist() for m in mask] for name, mask in A.pruning_masks(importance).items()}
    assert masks == {"layer1_all": [[1, 1, 1], [1, 0], [1]],
                     "layer1_top": [[0, 1, 0], [1, 1], [1]],
                     "layer2_top": [[1, 1, 1], [1, 0], [1]]}
    assert [A.reduced_mask_layer(name) for name in masks] == [None, 1, 2]
    assert all(A.reduced_mask_name(A.reduced_mask_layer(name)) == name for name in masks if name != "layer1_all")
    assert A.reduced_mask_layer("layer12_top") == 12 and A.reduced_mask_layer("layer1_topmost") is None


def test_verdicts_on_the_construction_are_reproduced():
    """The exact PtO construction is the known truth: the pre-stated criteria must call C1, C2, C7 reproduced."""
    d, steps, eta = 5, 2, 0.5
    model = construct_pto(d, steps, eta)
    task = Problem(d=d, s=2, sigma=0.1, signal="rademacher")
    run = {"head_importance": A.head_importance(model, task, [40], trials=200, queries=4),
           "probing": A.probing(model, task, n=40, trials=200, queries=4),
           "agreement": A.agreement(model, task, n=10, trials=120, queries=4)}
    importance = run["head_importance"]
    run["pruning"] = A.pruning(model, task, importance, [10], trials=100, queries=4)
    assert [layer["pattern"] for layer in importance["layers"]] == ["spread", "one head", "one head"]
    assert 4 < importance["layers"][0]["effective_heads"] <= d
    decided = V.decide([run, run], n=10)
    assert {claim: row["verdict"] for claim, row in decided.items()} == {
        "C1": V.REPRODUCED, "C2": V.REPRODUCED, "C6": V.NOT_APPLICABLE, "C7": V.REPRODUCED}  # C6: nothing to prune
    assert decided["C7"]["seeds"][0]["closest"] in ("pto", "pto p=2")
    assert decided["C7"]["seeds"][0]["win_fraction"] == 1.0


def test_a_layer_whose_heads_all_help_when_masked_is_not_spread():
    """PtO with a step far past its stable range predicts wildly, and masking any layer-1 head (which zeroes a
    coordinate of the preprocessed data) tames it: every increase is negative, and the layer is not "spread"."""
    d = 4
    model = construct_pto(d, 2, 50.0)  # far past the stable step: wild predictions that any ablation tames
    task = Problem(d=d, s=1, sigma=0.1, signal="gaussian")
    importance = A.head_importance(model, task, [6], trials=100, queries=4)
    assert max(importance["increase"][0]) < 0
    assert importance["layers"][0]["pattern"] == "no head matters"
    assert importance["layers"][0]["top_share"] == 0.0


def test_top_share_bootstrap_matches_the_delta_method():
    """Two heads with mean increases a = 2, b = 1 and independent unit noise over P prompts: the top share
    a / (a + b) has delta-method SE sqrt((b^2 + a^2) / P) / (a + b)^2; the bootstrap must agree (its own
    Monte Carlo error at 2000 resamples is about 1.6%)."""
    a, b, prompts = 2.0, 1.0, 4000
    rng = np.random.default_rng(3)
    diffs = np.stack([a + rng.standard_normal(prompts), b + rng.standard_normal(prompts)])
    sem, low, high = A.top_share_bootstrap(diffs, seed=0)
    delta = np.sqrt((a**2 + b**2) / prompts) / (a + b) ** 2
    assert sem == pytest.approx(delta, rel=0.1)
    share = A.top_share(diffs.mean(axis=1))
    assert low < share < high and high - low == pytest.approx(2 * 1.96 * delta, rel=0.15)
    assert A.top_share_bootstrap(diffs[:1], resamples=50)[0] == 0.0  # one head: its share is always 1
    assert A.top_share(np.array([-0.1, -0.2])) == 0.0  # no head matters


def _rank_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """P(U <= U_obs), U = #{(i, j): a_i > b_j}, over every equally likely split of the pooled values."""
    pooled, count = np.concatenate([a, b]), lambda x, y: int((x[:, None] > y[None, :]).sum())
    u_obs = count(a, b)
    splits = [np.isin(np.arange(pooled.size), idx) for idx in itertools.combinations(range(pooled.size), a.size)]
    return float(np.mean([count(pooled[s], pooled[~s]) <= u_obs for s in splits]))


@pytest.mark.parametrize("sizes", [(3, 3), (3, 4), (4, 4), (5, 3)])
def test_more_heads_is_the_exact_rank_test_over_seeds(sizes: tuple[int, int]) -> None:
    """The heads-sweep rule's p-values equal a brute-force enumeration of the C(m + k, m) rankings, and its
    verdict follows them; fewer than three seeds on a side is undecided, a non-finite risk an error."""
    rng = np.random.default_rng(sum(sizes))
    for shift in (-2.0, -0.5, 0.0, 0.5, 2.0):
        more, fewer = rng.normal(shift, 1, sizes[0]), rng.normal(0, 1, sizes[1])
        verdict, details = V.more_heads(more, fewer)
        assert details["p_lower"] == pytest.approx(_rank_p_value(more, fewer), abs=1e-12)
        assert details["p_higher"] == pytest.approx(_rank_p_value(fewer, more), abs=1e-12)
        expected = (V.REPRODUCED if details["p_lower"] <= 0.05 else
                    V.NOT_REPRODUCED if details["p_higher"] <= 0.05 else V.MIXED)
        assert verdict == expected
        welch = np.sqrt(more.var(ddof=1) / more.size + fewer.var(ddof=1) / fewer.size)
        assert details["diff_sem"] == pytest.approx(welch)
        assert details["diff"] == pytest.approx(more.mean() - fewer.mean())
    separated = V.more_heads([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert separated[0] == V.REPRODUCED and separated[1]["p_lower"] == pytest.approx(1 / 20)
    assert V.more_heads([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])[0] == V.NOT_REPRODUCED
    assert V.more_heads([1.0, 5.0, 3.0], [4.0, 2.0, 6.0])[0] == V.MIXED
    assert V.more_heads([1.0, 2.0, 3.0], [4.0, 5.0]) == (V.UNDECIDED, {"seeds": [3, 2], "diff": -2.5,
                                                                      "diff_sem": pytest.approx(np.sqrt(1 / 3 + 0.25)),
                                                                      "p_lower": None, "p_higher": None})
    assert V.more_heads([1.0], [4.0])[1]["diff_sem"] is None
    with pytest.raises(ValueError, match="finite"):
        V.more_heads([1.0, float("nan"), 2.0], [3.0, 4.0, 5.0])


def test_c1_says_when_two_heads_force_a_layers_call():
    """With two heads a layer's top share is >= 0.5 whenever a head matters, so C1 names such layers."""
    increases = np.random.default_rng(0).normal(size=(1000, 2))
    shares = A.top_share(increases)
    assert np.all((shares >= 0.5) | (increases.max(axis=1) <= 0))
    layer = lambda pattern, share: {"pattern": pattern, "top_share": share, "top_share_sem": 0.02}  # noqa: E731
    two = {"layers": [layer("one dominant head", 0.77), layer("one dominant head", 0.51)],
           "increase": [[0.3, 0.1], [0.2, 0.19]]}
    verdict, details = V.c1({"head_importance": two})
    assert (verdict, details["two_head_layers"]) == (V.NOT_REPRODUCED, [1, 2])
    assert V._seed_summary("C1", {"verdict": verdict, **details}).endswith(
        "(top shares 0.77 +- 0.02, 0.51 +- 0.02); layers 1, 2 have two heads, so a top share below 0.5 is "
        "impossible there: the rule cannot call them spread")
    mixed = {"layers": [layer("spread", 0.3), layer("one dominant head", 0.6)],
             "increase": [[0.1, 0.2, 0.1, 0.1], [0.3, 0.2]]}
    verdict, details = V.c1({"head_importance": mixed})
    assert (verdict, details["two_head_layers"]) == (V.REPRODUCED, [2])
    assert V._seed_summary("C1", {"verdict": verdict, **details}).endswith(
        "; layer 2 has two heads, so a top share below 0.5 is impossible there: the rule cannot call it spread")
    four = {"layers": [layer("spread", 0.3)] * 2, "increase": [[0.1, 0.2, 0.1, 0.1]] * 2}
    verdict, details = V.c1({"head_importance": four})
    assert details["two_head_layers"] == [] and V._seed_summary("C1", {"verdict": verdict, **details}).endswith(
        "(top shares 0.30 +- 0.02, 0.30 +- 0.02)")
    # a one-head layer has no share to call (a head that lowers the risk when masked would show 0.00 +- 0.5)
    linear = {"layers": [layer("spread", 0.3), layer("one head", 0.0)], "increase": [[0.1, 0.2, 0.1, 0.1], [-0.1]]}
    verdict, details = V.c1({"head_importance": linear})
    assert V._seed_summary("C1", {"verdict": verdict, **details}) == (
        "reproduced: layers spread, one head (top shares 0.30 +- 0.02, --)")


def test_verdict_rules_say_not_reproduced_and_mixed():
    share = lambda *patterns: {"layers": [{"pattern": p, "top_share": 0.0, "top_share_sem": 0.0}  # noqa: E731
                                          for p in patterns],
                               "increase": [[0.1, 0.2]] * len(patterns)}
    assert V.c1({"head_importance": share("spread", "spread", "one dominant head")})[0] == V.NOT_REPRODUCED
    assert V.c1({"head_importance": share("no head matters", "one head", "one head")})[0] == V.NOT_REPRODUCED
    single = {"head_importance": {"layers": [{"pattern": "one head"}] * 2, "increase": [[0.3], [0.1]]}}
    assert V.c1(single)[0] == V.c6(single, 8)[0] == V.combine([V.NOT_APPLICABLE]) == V.NOT_APPLICABLE
    assert V.c6({"head_importance": {"increase": [[0.1, 0.2], [0.3]]}}, 8)[0] == V.NOT_APPLICABLE
    probe = lambda *r2: {"layers": [{"r2_rx": v, "readout_risk": 1.0 / (i + 1)} for i, v in enumerate(r2)]}  # noqa: E731
    assert V.c2({"probing": probe(0.1, 0.3, 0.3)})[0] == V.NOT_REPRODUCED
    assert V.c2({"probing": probe(0.1, 0.6, 0.6)})[0] == V.MIXED
    assert V.c2({"probing": probe(0.7, 0.9, 0.9)})[0] == V.MIXED  # readable, but already in the embedding
    risk = lambda full, pruned: {"n": [8], "risk": {"full": [{"risk": full}], "layer1_all": [{"risk": pruned}],  # noqa: E731
                                                    "layer1_top": [{"risk": 1.0}], "layer2_top": [{"risk": 0.3}]}}
    heads = {"increase": [[0.1, 0.2], [0.3, 0.1]]}
    verdict, details = V.c6({"pruning": risk(0.1, 0.2), "head_importance": heads}, 8)
    assert (verdict, details) == (
        V.MIXED, {"pruned_ratio": 2.0, "reduced_ratio": {"layer1_top": 10.0, "layer2_top": pytest.approx(3.0)}})
    assert V._seed_summary("C6", {"verdict": verdict, **details}) == (
        "mixed: pruned / full 2.00; layer 1 reduced to its top head / full 10.00; "
        "layer 2 reduced to its top head / full 3.00")
    assert V.c6({"pruning": risk(0.1, 0.5), "head_importance": heads}, 8)[0] == V.NOT_REPRODUCED
    duel = lambda closest, wins, sem: {"agreement": {"closest": closest, "pto_vs_rest": {  # noqa: E731
        "best_pto": "pto p=1", "best_other": "ridge", "win_fraction": wins, "win_fraction_sem": sem}}}
    assert V.c7(duel("pto p=1", 0.9, 0.01))[0] == V.REPRODUCED
    assert V.c7(duel("pto p=1", 0.52, 0.02))[0] == V.MIXED  # closest on average, wins not significant
    verdict, details = V.c7(duel("ridge", 0.2, 0.02))
    assert verdict == V.NOT_REPRODUCED and details["closest"] == "ridge"
    assert V.c7(duel("ridge", 0.7, 0.02))[0] == V.MIXED
    assert V.combine([V.REPRODUCED, V.NOT_REPRODUCED]) == V.MIXED


def test_convergence_check_against_the_bayes_floor():
    model = construct_pto(4, 1, 0.3)
    task = Problem(d=4, s=1, sigma=0.3)
    res = A.convergence(model, task, 8, earlier=model, trials=300, queries=4)
    assert res["late_gain"] == 0.0 and res["late_gain_sem"] == 0.0
    bayes = res["algorithms"]["bayes"]
    assert bayes["diff"] > -4 * bayes["diff_sem"]  # nothing beats the posterior mean (MMSE)
    assert res["bayes_ratio"] == bayes["ratio"] and set(res["algorithms"]) == set(A.BASELINES)
    mine = A.model_risk(model, A.EvalSet.draw(task, 8, 300, 4, 5))  # the same prompts (seed 5, the default)
    assert res["quantiles"]["0.5"] == pytest.approx(np.median(mine), rel=1e-12)
    assert res["quantiles"]["0.5"] < res["quantiles"]["0.9"] < res["quantiles"]["0.99"] <= mine.max()
    assert all(0 < row["median"] for row in res["algorithms"].values())


# ----------------------------------------------------------------------------- commands
def test_train_and_analyze_commands(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({**TINY, "steps": 40}))
    run = tmp_path / "run"
    assert main(["train", "--config", str(config), "--out", str(run), "--steps", "20", "--no-progress"]) == 0
    assert json.loads((run / "config.json").read_text())["steps"] == 20
    assert main(["train", "--out", str(run), "--resume", "--steps", "30", "--no-progress"]) == 2
    assert "decay ends" in capsys.readouterr().err  # a longer decay would change the steps already taken
    assert main(["train", "--out", str(run), "--resume", "--steps", "30", "--hold", "10", "--no-progress"]) == 0
    assert load_model(run)[2] == 30
    out = tmp_path / "analysis"
    assert main(["analyze", str(run), "--out", str(out), "--trials", "40", "--ns", "4,8"]) == 0
    for name in ("risk_vs_n", "head_importance", "pruning", "probing"):
        assert (out / f"{name}.json").exists() and (out / f"{name}.png").exists()
    assert "best_power" in json.loads((out / "agreement.json").read_text())
    assert set(json.loads((out / "verdicts.json").read_text())) == {"C1", "C2", "C6", "C7"}
    assert "| C7 |" in (out / "verdicts.md").read_text()
    report = ["verdicts.json", "verdicts.md", *(path.name for path in out.glob("*.png"))]
    written = {name: (out / name).read_bytes() for name in report}
    assert len(written) == 6
    for name in written:
        (out / name).unlink()
    assert main(["analyze", str(run), "--out", str(out), "--regrade"]) == 0  # from the JSON files alone
    assert {name: (out / name).read_bytes() for name in written} == written
    capsys.readouterr()
    assert main(["analyze", str(run), "--out", str(tmp_path / "nowhere"), "--regrade"]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (out / "probing.json").write_text('{"layers": [')
    assert main(["analyze", str(run), "--out", str(out), "--regrade"]) == 2
    assert "probing.json: not valid JSON" in capsys.readouterr().err
    (out / "probing.json").write_text('{"layers": []}')
    assert main(["analyze", str(run), "--out", str(out), "--regrade"]) == 2
    err = capsys.readouterr().err
    assert "a field of the analysis is missing or malformed" in err and len(err.splitlines()) == 1
    assert main(["train", "--out", str(tmp_path / "bad"), "--heads", "2,0", "--no-progress"]) == 2
    assert "heads" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "missing")]) == 2


def _saved_run(path, step, snapshot=False, **changes):
    """A run directory holding an untrained TINY model's checkpoint at ``step`` of 10 steps (no training)."""
    runner = TrainStep(TrainConfig(**{**TINY, "steps": 10, **changes}))
    path.mkdir()
    runner.save_state(path / CHECKPOINT, step)
    if snapshot:
        runner.save_state(path / SNAPSHOT, 8)
    return str(path)


def test_budget_command(tmp_path, capsys):
    runs = [_saved_run(tmp_path / "a", 10, snapshot=True), _saved_run(tmp_path / "b", 10, seed=1, batch=32)]
    out = tmp_path / "budget"
    assert main(["budget", *runs, "--out", str(out), "--trials", "64"]) == 0
    result = json.loads((out / "budget.json").read_text())
    assert (out / "budget.png").exists() and result["n"] == TINY["d"] and set(result["algorithms"]) == set(A.BASELINES)
    with_snapshot, without = result["runs"]
    assert (with_snapshot["prompts"], without["prompts"], without["seed"]) == (10 * TINY["batch"], 10 * 32, 1)
    # the snapshot holds the same weights: no late gain, so rule (b) is met; no snapshot, no late gain
    assert with_snapshot["late_gain"] == 0.0 and with_snapshot["converged"] and "late_gain" not in without
    assert with_snapshot["bayes_ratio"] == pytest.approx(with_snapshot["risk"] / result["algorithms"]["bayes"]["risk"])
    assert "late gain 0.0%" in capsys.readouterr().out
    unfinished, other_task = _saved_run(tmp_path / "c", 5), _saved_run(tmp_path / "d", 10, d=5)
    assert main(["budget", runs[0], unfinished, "--out", str(out)]) == 2
    assert "unfinished run (step 5 of 10)" in capsys.readouterr().err
    assert main(["budget", runs[0], other_task, "--out", str(out)]) == 2
    assert "runs on different tasks" in capsys.readouterr().err


def test_cli_import_does_not_import_torch():
    code = "import sys, simulations.cli as c; c.build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
