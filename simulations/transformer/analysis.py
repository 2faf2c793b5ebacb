"""Analyses of a trained (or constructed) in-context regression transformer.

All analyses draw their prompts with :func:`simulations.problems.sample_problems`
(the project's sampler, SPEC section 1) and query points from a seeded NumPy
generator, so they are reproducible and independent of the training stream.
The transformer's excess risk is a Monte Carlo average over ``queries``
query points per prompt,

.. math:: \\mathcal E = E[(\\hat y_q - \\langle w^*, x_q\\rangle)^2],

reported with the standard error over prompts; the baselines' excess risk is
exact per prompt (``||w_hat - w*||^2``).

* :func:`risk_vs_n` -- the model beside oracle-tuned PtO, GD, ridge and
  Lasso (the sweep's :class:`~simulations.tuning.Tuner` and grids).
* :func:`head_importance` -- risk increase when one head is masked,
  normalised per layer (increase / sum of the layer's positive increases).
* :func:`pruning` -- all heads of layer 1 + the most important head of each
  later layer, against the full model, the converse pruning (one head in layer
  1, all later heads) and optionally a trained single-head model.
* :func:`probing` -- per layer, ridge probes from context-token states to
  ``r (.) x_i`` and to ``x_i`` (held-out R^2), and the excess risk of a ridge
  readout of the query state beside PtO with ``layer - 1`` steps.
* :func:`agreement` -- mean squared prediction difference and cosine
  similarity of ``d yhat / d x_q`` against PtO (``L - 1`` steps), GD (``L``
  steps) and ridge, each with its step size / lambda fitted by least squares
  on the model's predictions; and the PtO family ``(p, eta, T)`` closest to
  the model.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

import solvers
from simulations.methods import METHODS, Setting
from simulations.problems import Problems, sample_problems
from simulations.tuning import Tuner

from .model import ICLTransformer

BASELINES = ("pto", "gd", "ridge", "lasso", "bayes")
POWERS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


@dataclass(frozen=True)
class Task:
    """The prompt distribution an analysis evaluates on (SPEC section 1)."""

    d: int
    s: int
    sigma: float
    signal: str = "gaussian"


@dataclass(frozen=True)
class EvalSet:
    """Prompts with query points: ``problems`` (trials prompts), ``Xq`` (trials, m, d), ``fq = <w*, x_q>``."""

    problems: Problems
    Xq: np.ndarray
    fq: np.ndarray

    @classmethod
    def draw(cls, task: Task, n: int, trials: int, queries: int, seed: int) -> "EvalSet":
        problems = sample_problems(n, task.d, task.s, task.sigma, trials, seed=seed, signal=task.signal)
        rng = np.random.default_rng([seed, n, 7919])
        Xq = rng.standard_normal((trials, queries, task.d))
        return cls(problems, Xq, np.einsum("tmd,td->tm", Xq, problems.w_star))

    def half(self, first: bool) -> "EvalSet":
        t = self.problems.trials // 2
        rows = slice(0, t) if first else slice(t, None)
        p = self.problems
        sub = Problems(p.X[rows], p.y[rows], p.w_star[rows], p.support[rows], p.sigma, p.signal)
        return EvalSet(sub, self.Xq[rows], self.fq[rows])


def _tensor(model: ICLTransformer, a: np.ndarray) -> torch.Tensor:
    p = next(model.parameters())
    return torch.as_tensor(a, dtype=p.dtype, device=p.device)


def predict(model: ICLTransformer, data: EvalSet, chunk: int = 512) -> np.ndarray:
    """Model predictions (trials, m) in float64 on the host."""
    out = []
    with torch.no_grad():
        for i in range(0, data.problems.trials, chunk):
            rows = slice(i, i + chunk)
            X, y, Xq = (_tensor(model, a[rows]) for a in (data.problems.X, data.problems.y, data.Xq))
            out.append(model(X, y, Xq).double().cpu().numpy())
    return np.concatenate(out)


def input_gradients(model: ICLTransformer, data: EvalSet, chunk: int = 512) -> np.ndarray:
    """``d yhat_q / d x_q`` (trials, m, d) by autograd (queries do not interact, so one backward per chunk)."""
    out = []
    for i in range(0, data.problems.trials, chunk):
        rows = slice(i, i + chunk)
        X, y = _tensor(model, data.problems.X[rows]), _tensor(model, data.problems.y[rows])
        Xq = _tensor(model, data.Xq[rows]).requires_grad_(True)
        (grad,) = torch.autograd.grad(model(X, y, Xq).sum(), Xq)
        out.append(grad.double().cpu().numpy())
    return np.concatenate(out)


def model_risk(model: ICLTransformer, data: EvalSet) -> np.ndarray:
    """Per-prompt excess risk (mean over its query points), shape (trials,)."""
    return np.mean((predict(model, data) - data.fq) ** 2, axis=1)


def _summary(risks: np.ndarray) -> dict[str, float]:
    return {"risk": float(np.mean(risks)), "sem": float(np.std(risks, ddof=1) / np.sqrt(risks.size))}


@contextlib.contextmanager
def masked(model: ICLTransformer, keep: list[np.ndarray]) -> Iterator[ICLTransformer]:
    """Temporarily set the head masks to ``keep`` (one 0/1 array per layer); restores them after."""
    saved = [m.clone() for m in model.head_masks]
    try:
        for mask, values in zip(model.head_masks, keep):
            mask.copy_(torch.as_tensor(np.asarray(values), dtype=mask.dtype))
        yield model
    finally:
        for mask, values in zip(model.head_masks, saved):
            mask.copy_(values)


# ----------------------------------------------------------------------------- risk vs n
def baseline_risks(data: EvalSet, task: Task, methods: tuple[str, ...] = BASELINES) -> dict[str, dict]:
    """Oracle-tuned excess risk of the batched baselines on the prompts of ``data``.

    The sweep's own grids (:mod:`simulations.methods`) and oracle tuning (best
    grid value by mean risk), so the numbers compare directly with a sweep.
    """
    p = data.problems
    setting = Setting(n=p.X.shape[1], d=task.d, s=task.s, sigma=task.sigma, signal=task.signal)
    out: dict[str, dict] = {}
    for name in methods:
        tuner = Tuner(METHODS[name], "oracle", setting)
        tuner.keep(tuner.evaluate(p))
        res = tuner.result()
        out[name] = {"risk": res["risk_mean"], "sem": res["risk_sem"],
                     "hyperparameter": res["hyperparameter"], "edge": res["edge"]}
    return out


def risk_vs_n(model: ICLTransformer, task: Task, ns: list[int], trials: int = 1000, queries: int = 16,
              seed: int = 0, extra: dict[str, ICLTransformer] | None = None) -> dict[str, Any]:
    """Excess risk vs context length for the model (and ``extra`` models) and the baselines.

    Returns ``{"n": ns, "models": {name: [{risk, sem}, ...]}, "baselines": {method: [...]},
    "zero": E||w*||^2 estimate, "notes": [...]}``.
    """
    models = {"transformer": model, **(extra or {})}
    result: dict[str, Any] = {"n": list(ns), "models": {k: [] for k in models}, "baselines": {}, "notes": []}
    for n in ns:
        data = EvalSet.draw(task, n, trials, queries, seed)
        for name, m in models.items():
            result["models"][name].append(_summary(model_risk(m, data)))
        for method, row in baseline_risks(data, task).items():
            result["baselines"].setdefault(method, []).append(row)
    result["zero"] = float(np.mean(np.sum(data.problems.w_star ** 2, axis=1)))
    return result


# ----------------------------------------------------------------------------- heads
def head_importance(model: ICLTransformer, task: Task, ns: list[int], trials: int = 500, queries: int = 16,
                    seed: int = 1) -> dict[str, Any]:
    """Risk increase from masking each head alone, averaged over context lengths ``ns``.

    ``normalized[l][h] = max(0, inc[l][h]) / sum_h' max(0, inc[l][h'])`` (all
    zeros when no head of the layer matters).
    """
    sets = [EvalSet.draw(task, n, trials, queries, seed) for n in ns]

    def risk() -> float:
        return float(np.mean([model_risk(model, data).mean() for data in sets]))

    base = risk()
    heads = [int(m.numel()) for m in model.head_masks]
    increase = []
    for layer, h in enumerate(heads):
        row = []
        for head in range(h):
            keep = [np.ones(k) for k in heads]
            keep[layer][head] = 0.0
            with masked(model, keep):
                row.append(risk() - base)
        increase.append(row)
    normalized = []
    for row in increase:
        pos = np.clip(row, 0, None)
        normalized.append((pos / pos.sum() if pos.sum() > 0 else pos).tolist())
    return {"n": list(ns), "base_risk": base, "increase": increase, "normalized": normalized}


def pruning_masks(importance: dict[str, Any]) -> dict[str, list[np.ndarray]]:
    """``layer1_all``: every head of layer 1 + the top head of each later layer;
    ``layer1_top``: the top head of layer 1 + every head of later layers."""
    inc = importance["increase"]
    top = [np.eye(len(row))[int(np.argmax(row))] for row in inc]
    full = [np.ones(len(row)) for row in inc]
    return {"layer1_all": [full[0]] + top[1:], "layer1_top": [top[0]] + full[1:]}


def pruning(model: ICLTransformer, task: Task, importance: dict[str, Any], ns: list[int], trials: int = 1000,
            queries: int = 16, seed: int = 2, single: ICLTransformer | None = None) -> dict[str, Any]:
    """Risk vs n of the full model, both prunings and (if given) a single-head model."""
    masks = pruning_masks(importance)
    result: dict[str, Any] = {"n": list(ns), "kept": {k: [m.tolist() for m in v] for k, v in masks.items()},
                              "risk": {k: [] for k in ("full", *masks, *(["single_head"] if single else []))}}
    for n in ns:
        data = EvalSet.draw(task, n, trials, queries, seed)
        result["risk"]["full"].append(_summary(model_risk(model, data)))
        for name, keep in masks.items():
            with masked(model, keep):
                result["risk"][name].append(_summary(model_risk(model, data)))
        if single is not None:
            result["risk"]["single_head"].append(_summary(model_risk(single, data)))
    return result


# ----------------------------------------------------------------------------- probing
def _pto_fixed_steps_risk(data: EvalSet, steps: int) -> float:
    """Oracle-tuned (absolute step grid) excess risk of PtO with a fixed number of steps."""
    p = data.problems
    if steps == 0:
        return float(np.mean(np.sum(p.w_star ** 2, axis=1)))
    risks = [np.mean(np.sum((solvers.pto(p.X, p.y, eta, steps) - p.w_star) ** 2, axis=1))
             for eta in np.geomspace(1e-2, 1e2, 41)]
    return float(np.nanmin(np.where(np.isfinite(risks), risks, np.nan)))


def probing(model: ICLTransformer, task: Task, n: int, trials: int = 1000, queries: int = 8, seed: int = 3,
            alpha: float = 1e-3) -> dict[str, Any]:
    """Per-layer linear probes (sklearn ``Ridge(alpha)``), fitted on half the prompts, scored on the other.

    Context probes: hidden state of context token i -> ``r (.) x_i`` (``r = X^T y / n``)
    and -> ``x_i``; R^2 averaged over the d outputs. Query readout: hidden state of a
    query token -> ``<w*, x_q>``; its held-out excess risk sits beside PtO with
    ``layer - 1`` steps (oracle-tuned step; layer 0 has no PtO counterpart).
    """
    data = EvalSet.draw(task, n, trials, queries, seed)
    p = data.problems
    r = np.einsum("tnd,tn->td", p.X, p.y) / n
    target_rx = (r[:, None, :] * p.X).reshape(-1, task.d)
    target_x = p.X.reshape(-1, task.d)
    with torch.no_grad():
        _, hidden = model(_tensor(model, p.X), _tensor(model, p.y), _tensor(model, data.Xq), return_hidden=True)
    t = trials // 2
    ctx_train = np.arange(trials * n) < t * n
    q_train = np.arange(trials * queries) < t * queries
    layers = []
    for layer, h in enumerate(hidden):
        h = h.double().cpu().numpy()
        ctx = h[:, :n].reshape(trials * n, -1)
        qry = h[:, n:].reshape(trials * queries, -1)
        row = {"layer": layer}
        for name, target in (("r2_rx", target_rx), ("r2_x", target_x)):
            probe = Ridge(alpha=alpha).fit(ctx[ctx_train], target[ctx_train])
            row[name] = float(r2_score(target[~ctx_train], probe.predict(ctx[~ctx_train])))
        fq = data.fq.reshape(-1)
        readout = Ridge(alpha=alpha).fit(qry[q_train], fq[q_train])
        row["readout_risk"] = float(np.mean((readout.predict(qry[~q_train]) - fq[~q_train]) ** 2))
        row["pto_risk"] = _pto_fixed_steps_risk(data.half(False), layer - 1) if layer >= 1 else None
        layers.append(row)
    return {"n": n, "layers": layers}


# ----------------------------------------------------------------------------- agreement
def _fit_scalar(loss: Callable[[float], float], grid: np.ndarray) -> tuple[float, float]:
    """Minimise ``loss`` over a log-spaced grid, then refine in log space between the best point's neighbours."""
    values = np.array([loss(v) for v in grid])
    values[~np.isfinite(values)] = np.inf
    i = int(np.argmin(values))
    lo, hi = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, grid.size - 1)])
    if hi > lo:
        res = minimize_scalar(lambda u: loss(float(np.exp(u))), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-10})
        if np.isfinite(res.fun) and res.fun < values[i]:
            return float(np.exp(res.x)), float(res.fun)
    return float(grid[i]), float(values[i])


def _msd(w: np.ndarray, data: EvalSet, pred: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.mean((np.einsum("tmd,td->tm", data.Xq, w) - pred) ** 2))
    return value if np.isfinite(value) else np.inf


def _cosine(w: np.ndarray, grad: np.ndarray) -> float:
    num = np.einsum("tmd,td->tm", grad, w)
    den = np.linalg.norm(grad, axis=-1) * np.linalg.norm(w, axis=-1)[:, None]
    return float(np.mean(num / np.where(den > 0, den, np.inf)))


def agreement(model: ICLTransformer, task: Task, n: int, trials: int = 1000, queries: int = 8,
              seed: int = 4) -> dict[str, Any]:
    """How closely the model's predictions follow PtO, GD and ridge (von Oswald et al. metrics).

    Each algorithm's free scalar (step size eta, or ridge lam) is fitted by least
    squares on the model's predictions over the first half of the prompts; the
    metrics are reported on the second half: ``msd`` = mean squared prediction
    difference (with the model's own mean squared prediction ``pred_power`` for
    scale) and ``cosine`` = mean cosine between ``d yhat/d x_q`` (autograd) and
    the algorithm's ``w_hat`` (its sensitivity). Steps are matched to depth L:
    PtO ``L - 1`` (layer 1 preprocesses), GD ``L``.

    ``pto_family`` fits ``(p, eta, T)`` for every power p of the preconditioner
    ``|r|^p`` and T in 1..2L, and ``best_power`` is the p with the smallest msd.
    """
    L = len(model.head_masks)
    data = EvalSet.draw(task, n, trials, queries, seed)
    fit, test = data.half(True), data.half(False)
    pred_fit, pred_test = predict(model, fit), predict(model, test)
    grad_test = input_gradients(model, test)
    etas, lams = np.geomspace(1e-3, 1e2, 51), np.geomspace(1e-6, 1e2, 41)
    families: dict[str, Callable[[Problems, float], np.ndarray]] = {
        "pto": lambda p, eta: solvers.pto(p.X, p.y, eta, max(L - 1, 0)),
        "gd": lambda p, eta: solvers.gd(p.X, p.y, eta, L),
        "ridge": lambda p, lam: solvers.ridge(p.X, p.y, lam),
    }
    result: dict[str, Any] = {"n": n, "layers": L, "pred_power": float(np.mean(pred_test ** 2)), "algorithms": {}}
    for name, family in families.items():
        grid = lams if name == "ridge" else etas
        value, _ = _fit_scalar(lambda v: _msd(family(fit.problems, v), fit, pred_fit), grid)
        w = family(test.problems, value)
        result["algorithms"][name] = {"parameter": "lam" if name == "ridge" else "step_size", "value": value,
                                      "steps": {"pto": L - 1, "gd": L}.get(name),
                                      "msd": _msd(w, test, pred_test), "cosine": _cosine(w, grad_test)}
    family_fits = []
    for power in POWERS:
        best = None
        for T in range(1, 2 * L + 1):
            eta, err = _fit_scalar(lambda v: _msd(solvers.pto(fit.problems.X, fit.problems.y, v, T, power=power),
                                                  fit, pred_fit), etas)
            if best is None or err < best[2]:
                best = (T, eta, err)
        T, eta, _ = best
        w = solvers.pto(test.problems.X, test.problems.y, eta, T, power=power)
        family_fits.append({"power": power, "steps": T, "step_size": eta, "msd": _msd(w, test, pred_test),
                            "cosine": _cosine(w, grad_test)})
    result["pto_family"] = family_fits
    result["best_power"] = min(family_fits, key=lambda row: row["msd"])["power"]
    return result


# ----------------------------------------------------------------------------- figures and driver
def _save(fig: Any, path: Path) -> None:
    """Write a figure (tight layout, 90 dpi) and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _pyplot().close(fig)


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported on first use: plotting is optional)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_risk(path: Path, res: dict[str, Any], title: str) -> None:
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(5.5, 4))
    ns = res["n"]
    for name, rows in {**res["models"], **res["baselines"]}.items():
        risk = np.array([r["risk"] for r in rows])
        sem = np.array([r["sem"] for r in rows])
        style = "-o" if name in res["models"] else "--"
        ax.errorbar(ns, risk, yerr=2 * sem, fmt=style, ms=3, capsize=2, label=name)
    ax.axhline(res["zero"], color="grey", lw=0.8, ls=":", label="zero predictor")
    ax.set(xlabel="context length n", ylabel="excess risk", yscale="log", title=title)
    ax.legend(fontsize=7)
    _save(fig, path)


def _plot_importance(path: Path, res: dict[str, Any], title: str) -> None:
    plt = _pyplot()

    rows = res["normalized"]
    grid = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, row in enumerate(rows):
        grid[i, :len(row)] = row
    fig, ax = plt.subplots(figsize=(1.2 + 0.5 * grid.shape[1], 1.0 + 0.6 * grid.shape[0]))
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set(xlabel="head", ylabel="layer", title=title, xticks=range(grid.shape[1]), yticks=range(grid.shape[0]),
           yticklabels=[str(i + 1) for i in range(grid.shape[0])])
    fig.colorbar(im, ax=ax, label="normalised risk increase")
    _save(fig, path)


def _plot_pruning(path: Path, res: dict[str, Any], title: str) -> None:
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, rows in res["risk"].items():
        ax.errorbar(res["n"], [r["risk"] for r in rows], yerr=[2 * r["sem"] for r in rows], fmt="-o", ms=3,
                    capsize=2, label=name)
    ax.set(xlabel="context length n", ylabel="excess risk", yscale="log", title=title)
    ax.legend(fontsize=7)
    _save(fig, path)


def _plot_probing(path: Path, res: dict[str, Any], title: str) -> None:
    plt = _pyplot()

    layers = [r["layer"] for r in res["layers"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.4))
    a.plot(layers, [r["r2_rx"] for r in res["layers"]], "-o", label="r (.) x_i")
    a.plot(layers, [r["r2_x"] for r in res["layers"]], "-s", label="x_i")
    a.set(xlabel="layer (0 = embedding)", ylabel="probe R^2 (held out)", ylim=(-0.05, 1.05), title=title)
    a.legend(fontsize=7)
    b.plot(layers, [r["readout_risk"] for r in res["layers"]], "-o", label="linear readout of query")
    b.plot(layers[1:], [r["pto_risk"] for r in res["layers"][1:]], "--s", label="PtO, layer-1 steps")
    b.set(xlabel="layer", ylabel="excess risk", yscale="log", title=f"n = {res['n']}")
    b.legend(fontsize=7)
    _save(fig, path)


def run_all(model: ICLTransformer, task: Task, out: str | os.PathLike, ns: list[int], n_probe: int,
            trials: int = 1000, single: ICLTransformer | None = None, label: str = "transformer",
            seed: int = 0, compare: dict[str, ICLTransformer] | None = None) -> dict[str, Any]:
    """Run every analysis, write ``<name>.json`` and ``<name>.png`` into ``out``; return the results.

    ``single`` (a single-head model) joins the pruning comparison; ``compare``
    (name -> model, e.g. the other runs of a heads sweep) joins the risk-vs-n panel.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra = dict(compare or {})
    if single is not None:
        extra.setdefault("single_head", single)
    results = {
        "risk_vs_n": risk_vs_n(model, task, ns, trials=trials, seed=seed, extra=extra),
        "head_importance": head_importance(model, task, [n_probe, max(ns)], trials=trials // 2, seed=seed + 1),
    }
    results["pruning"] = pruning(model, task, results["head_importance"], ns, trials=trials, seed=seed + 2,
                                 single=single)
    results["probing"] = probing(model, task, n_probe, trials=trials, seed=seed + 3)
    results["agreement"] = agreement(model, task, n_probe, trials=trials, seed=seed + 4)
    plots = {"risk_vs_n": _plot_risk, "head_importance": _plot_importance, "pruning": _plot_pruning,
             "probing": _plot_probing}
    for name, res in results.items():
        (out / f"{name}.json").write_text(json.dumps(res, indent=1) + "\n")
        if name in plots:
            plots[name](out / f"{name}.png", res, f"{label}: {name.replace('_', ' ')}")
    return results
