"""Analyses of a trained (or constructed) in-context regression transformer.

All analyses take the prompt distribution as a :class:`simulations.spec.Problem`
and draw their prompts with :func:`simulations.problems.draw_problems`
(the project's sampler, docs/math.md section 1) and query points from a seeded NumPy
generator, so they are reproducible and independent of the training stream.
The transformer's excess risk is a Monte Carlo average over ``queries``
query points per prompt,

.. math:: \\mathcal E = E[(\\hat y_q - \\langle w^*, x_q\\rangle)^2],

reported with the standard error over prompts; the baselines' excess risk is
exact per prompt (``||w_hat - w*||^2``).

* :func:`convergence` -- the model's risk at one n against the oracle-tuned
  algorithms and the Bayes floor, paired on the same prompts, and what the
  last 20% of training gained.
* :func:`risk_vs_n` -- the model beside oracle-tuned PtO, GD, ridge, Lasso
  and the Bayes posterior mean (the sweep's :class:`~simulations.tuning.Tuner`
  and grids).
* :func:`head_importance` -- risk increase when one head is masked,
  normalised per layer (increase / sum of the layer's positive increases).
* :func:`pruning` -- all heads of layer 1 + the most important head of each
  later layer, against the full model, the converse pruning (one head in layer
  1, all later heads), each later layer alone reduced to its top head, and
  optionally a trained single-head model.
* :func:`probing` -- per layer, ridge probes from context-token states to
  ``r (.) x_i`` and to ``x_i`` (held-out R^2), and the excess risk of a ridge
  readout of the query state beside PtO with ``layer - 1`` steps.
* :func:`agreement` -- mean squared prediction difference and cosine
  similarity of ``d yhat / d x_q`` against PtO (``L - 1`` steps), GD (``L``
  steps), ridge, Lasso (each with its scalar fitted by least squares on the
  model's predictions) and the Bayes posterior mean; the PtO family
  ``(p, eta, T)`` closest to the model; and the closest candidate overall.

Every analysis returns JSON-able data and writes nothing: figures are drawn by
:mod:`.figures`, verdicts on the claims decided by :mod:`.verdicts`, and the
``sparse-icl analyze`` command (:mod:`simulations.commands.analyze`) wires
them together and writes the files.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

import solvers
from simulations.methods import METHODS
from simulations.problems import Problems, draw_problems
from simulations.spec import Problem
from simulations.tuning import Tuner

from .model import ICLTransformer

#: The algorithms the model is compared with (oracle-tuned on the sweep's grids).
BASELINES = ("pto", "gd", "ridge", "lasso", "bayes")
#: Powers p of the PtO family's preconditioner ``|r|^p`` fitted by :func:`agreement`.
POWERS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
#: Step sizes searched when fitting PtO and GD with a fixed number of steps to the model (:func:`agreement`).
AGREEMENT_STEP_SIZES = np.geomspace(1e-3, 1e2, 51)
#: Ridge penalties searched by :func:`agreement`.
AGREEMENT_LAMBDAS = np.geomspace(1e-6, 1e2, 41)
#: Lasso alphas searched by :func:`agreement`.
AGREEMENT_ALPHAS = np.geomspace(1e-4, 1.0, 25)
#: Step sizes searched for the oracle-tuned fixed-steps PtO of :func:`probing`.
PROBING_STEP_SIZES = np.geomspace(1e-2, 1e2, 41)


@dataclass(frozen=True)
class EvalSet:
    """Prompts with query points: ``problems`` (trials prompts), ``Xq`` (trials, m, d), ``fq = <w*, x_q>``."""

    problems: Problems
    Xq: np.ndarray
    fq: np.ndarray

    @classmethod
    def draw(cls, task: Problem, n: int, trials: int, queries: int, seed: int) -> "EvalSet":
        problems = draw_problems(task.at(n), trials, seed)
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


def risk_summary(risks: np.ndarray) -> dict[str, float]:
    """Mean of per-prompt risks and its standard error over prompts."""
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
def baseline_risks(data: EvalSet, task: Problem, methods: tuple[str, ...] = BASELINES) -> dict[str, dict]:
    """Oracle-tuned excess risk of the batched baselines on the prompts of ``data``.

    The sweep's own grids (:mod:`simulations.methods`) and oracle tuning (best
    grid value by mean risk), so the numbers compare directly with a sweep.
    """
    p = data.problems
    setting = task.at(p.X.shape[1])
    out: dict[str, dict] = {}
    for name in methods:
        tuner = Tuner(METHODS[name], "oracle", setting)
        tuner.keep(tuner.evaluate(p))
        res = tuner.result()
        out[name] = {"risk": res["risk_mean"], "sem": res["risk_sem"],
                     "hyperparameter": res["hyperparameter"], "edge": res["edge"]}
    return out


def risk_vs_n(model: ICLTransformer, task: Problem, ns: list[int], trials: int = 1000, queries: int = 16,
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
            result["models"][name].append(risk_summary(model_risk(m, data)))
        for method, row in baseline_risks(data, task).items():
            result["baselines"].setdefault(method, []).append(row)
    result["zero"] = float(np.mean(np.sum(data.problems.w_star ** 2, axis=1)))
    return result


def reference_risks(data: EvalSet, task: Problem) -> dict[str, np.ndarray]:
    """Per-prompt excess risk ``||w_hat - w*||^2`` of each algorithm of :data:`BASELINES` on ``data``.

    Each is oracle-tuned on these prompts over the sweep's grid (the hyperparameter with the smallest
    mean risk), so the model is compared with the best each algorithm can do here.
    """
    p = data.problems
    setting = task.at(p.X.shape[1])
    risks = {}
    for name in BASELINES:
        tuner = Tuner(METHODS[name], "oracle", setting)
        tuner.keep(tuner.evaluate(p))
        chosen = np.array([tuner.result()["hyperparameter"]])
        W = METHODS[name].fit(p.X, p.y, chosen, setting, p.support)[0][0]
        risks[name] = np.sum((W - p.w_star) ** 2, axis=1)
    return risks


def late_gain(before: np.ndarray, after: np.ndarray) -> dict[str, float]:
    """Relative risk reduction ``(mean(before) - mean(after)) / mean(before)`` with its paired SE.

    ``before`` and ``after`` are per-prompt risks on the same prompts (the run at 80% of its steps, and
    finished).
    """
    gain = (before - after) / before.mean()
    return {"late_gain": float(gain.mean()), "late_gain_sem": float(gain.std(ddof=1) / np.sqrt(gain.size))}


#: Per-prompt risk quantiles that :func:`convergence` reports beside the mean.
RISK_QUANTILES = (0.5, 0.9, 0.99)


def convergence(model: ICLTransformer, task: Problem, n: int, earlier: ICLTransformer | None = None,
                trials: int = 2000, queries: int = 16, seed: int = 5) -> dict[str, Any]:
    """Is the model converged? Its risk at context length n against the algorithms, paired on the same prompts.

    For each algorithm of :data:`BASELINES` (:func:`reference_risks`),
    ``ratio`` = model risk / algorithm risk and ``diff`` = the
    mean per-prompt difference with its paired standard error ``diff_sem``;
    ``below`` says the model is below the algorithm by more than 2 SE, and
    ``median`` is the algorithm's median per-prompt risk. ``quantiles`` are the
    model's per-prompt risk quantiles (0.5, 0.9, 0.99): beside the mean they
    show a heavy tail, as deep linear attention has (a polynomial of Gaussian
    data). ``bayes_ratio`` is the distance to the Bayes-optimal floor. With
    ``earlier`` (the same run at 80% of its steps), ``late_gain`` is the
    relative risk reduction of the last 20% of training,
    ``(risk_earlier - risk) / risk_earlier``, with its paired SE.
    """
    data = EvalSet.draw(task, n, trials, queries, seed)
    mine = model_risk(model, data)
    result: dict[str, Any] = {"n": n, "trials": trials, **risk_summary(mine), "algorithms": {},
                              "quantiles": {str(q): float(np.quantile(mine, q)) for q in RISK_QUANTILES}}
    for name, theirs in reference_risks(data, task).items():
        diff = mine - theirs
        sem = float(diff.std(ddof=1) / np.sqrt(diff.size))
        result["algorithms"][name] = {"risk": float(theirs.mean()), "ratio": float(mine.mean() / theirs.mean()),
                                      "diff": float(diff.mean()), "diff_sem": sem,
                                      "below": bool(diff.mean() < -2 * sem), "median": float(np.median(theirs))}
    result["bayes_ratio"] = result["algorithms"]["bayes"]["ratio"]
    if earlier is not None:
        result.update(late_gain(model_risk(earlier, data), mine))
    return result


# ----------------------------------------------------------------------------- heads
#: A layer is "dominated by one head" when its top head carries at least this share of the layer's
#: positive risk increases, and "spread" otherwise. Fixed before any converged model was analysed.
DOMINANCE = 0.5
#: The pattern of a layer with a single head: it has no share to call, so reports show none.
ONE_HEAD = "one head"


def top_share(increase: np.ndarray) -> np.ndarray:
    """The largest share ``max_h max(0, inc_h) / sum_h max(0, inc_h)`` over the last axis (0 when no head matters)."""
    pos = np.clip(increase, 0, None)
    total = pos.sum(axis=-1)
    return np.divide(pos.max(axis=-1), total, out=np.zeros_like(total), where=total > 0)


def top_share_bootstrap(diffs: np.ndarray, resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Bootstrap over prompts of one layer's top head share: its standard error and 95% percentile interval.

    ``diffs[h, i]`` is prompt i's risk increase when head h is masked. Each of
    ``resamples`` replicates draws the prompts with replacement (the same draw
    for every head, so the heads stay paired) and recomputes :func:`top_share`
    of the mean increases. Returns ``(sem, low, high)``.
    """
    rng = np.random.default_rng(seed)
    n = diffs.shape[1]
    shares = np.empty(resamples)
    for b in range(resamples):
        shares[b] = top_share(diffs[:, rng.integers(0, n, n)].mean(axis=1))
    low, high = np.quantile(shares, [0.025, 0.975])
    return float(shares.std(ddof=1)), float(low), float(high)


def head_importance(model: ICLTransformer, task: Problem, ns: list[int], trials: int = 500, queries: int = 16,
                    seed: int = 1) -> dict[str, Any]:
    """Risk increase from masking each head alone, on the same prompts, averaged over context lengths ``ns``.

    For head h of layer l, ``increase[l][h]`` is the mean over prompts (pooled
    over ``ns``) of ``risk(masked) - risk(full)``, with its paired standard
    error ``increase_sem``. Normalised per layer,
    ``normalized[l][h] = max(0, inc[l][h]) / sum_h' max(0, inc[l][h'])``
    (all zeros when no head of the layer matters). Per layer, ``top_share`` is
    the largest normalised value, ``effective_heads = 1 / sum_h normalized^2``
    (1 for one head, h for equal heads), and ``pattern`` is ``"one dominant
    head"`` when ``top_share >= DOMINANCE`` (0.5), ``"no head matters"`` when
    masking no head of the layer raises the risk (a model worse than its
    ablations, e.g. one with heavy-tailed predictions), and ``"spread"``
    otherwise; a layer with a single head is ``"one head"``. The pattern is
    called on the point estimate; ``top_share_sem`` and ``top_share_interval``
    (:func:`top_share_bootstrap` over prompts, paired across heads) say how
    firmly.
    """
    sets = [EvalSet.draw(task, n, trials, queries, seed) for n in ns]

    def per_prompt() -> np.ndarray:
        return np.concatenate([model_risk(model, data) for data in sets])

    base = per_prompt()
    heads = [int(m.numel()) for m in model.head_masks]
    increase, increase_sem, normalized, layers = [], [], [], []
    for layer, h in enumerate(heads):
        diffs = np.empty((h, base.size))
        for head in range(h):
            keep = [np.ones(k) for k in heads]
            keep[layer][head] = 0.0
            with masked(model, keep):
                diffs[head] = per_prompt() - base
        row = diffs.mean(axis=1)
        increase.append(row.tolist())
        increase_sem.append((diffs.std(axis=1, ddof=1) / np.sqrt(base.size)).tolist())
        pos = np.clip(row, 0, None)
        share = pos / pos.sum() if pos.sum() > 0 else pos
        normalized.append(share.tolist())
        top = float(top_share(row))
        effective = float(1 / np.sum(share**2)) if pos.sum() > 0 else 0.0
        pattern = (ONE_HEAD if h == 1 else "no head matters" if pos.sum() == 0
                   else "one dominant head" if top >= DOMINANCE else "spread")
        sem, low, high = top_share_bootstrap(diffs, seed=seed + layer)
        layers.append({"top_share": top, "top_share_sem": sem, "top_share_interval": [low, high],
                       "effective_heads": effective, "pattern": pattern})
    return {"n": list(ns), "base_risk": float(base.mean()), "increase": increase, "increase_sem": increase_sem,
            "normalized": normalized, "layers": layers, "dominance_threshold": DOMINANCE}


def reduced_mask_name(layer: int) -> str:
    """The name of the pruning that reduces ``layer`` (1-based) alone to its top head."""
    return f"layer{layer}_top"


def reduced_mask_layer(name: str) -> int | None:
    """The layer (1-based) that the pruning ``name`` reduces alone to its top head, or None when ``name``
    is not such a pruning (the inverse of :func:`reduced_mask_name`)."""
    match = re.fullmatch(r"layer(\d+)_top", name)
    return int(match.group(1)) if match else None


def pruning_masks(importance: dict[str, Any]) -> dict[str, list[np.ndarray]]:
    """Head masks (1 = kept) of the prunings, by name.

    ``layer1_all``: every head of layer 1 + the top head of each later layer
    (the claimed pruning). ``layer<k>_top``: layer k reduced to its top head,
    every other layer whole, for layer 1 (the converse of the claimed
    pruning) and every later layer with more than one head. The top head is
    the one whose masking raises the risk most (:func:`head_importance`).
    Reducing one layer at a time measures how much each layer needs more than
    one head, at the same number of removed heads per layer."""
    inc = importance["increase"]
    top = [np.eye(len(row))[int(np.argmax(row))] for row in inc]
    full = [np.ones(len(row)) for row in inc]
    masks = {"layer1_all": [full[0]] + top[1:]}
    for k, row in enumerate(inc):
        if k == 0 or len(row) > 1:
            masks[reduced_mask_name(k + 1)] = [top[j] if j == k else full[j] for j in range(len(inc))]
    return masks


def pruning(model: ICLTransformer, task: Problem, importance: dict[str, Any], ns: list[int], trials: int = 1000,
            queries: int = 16, seed: int = 2, single: ICLTransformer | None = None) -> dict[str, Any]:
    """Risk vs n of the full model, both prunings and (if given) a single-head model."""
    masks = pruning_masks(importance)
    result: dict[str, Any] = {"n": list(ns), "kept": {k: [m.tolist() for m in v] for k, v in masks.items()},
                              "risk": {k: [] for k in ("full", *masks, *(["single_head"] if single else []))}}
    for n in ns:
        data = EvalSet.draw(task, n, trials, queries, seed)
        result["risk"]["full"].append(risk_summary(model_risk(model, data)))
        for name, keep in masks.items():
            with masked(model, keep):
                result["risk"][name].append(risk_summary(model_risk(model, data)))
        if single is not None:
            result["risk"]["single_head"].append(risk_summary(model_risk(single, data)))
    return result


# ----------------------------------------------------------------------------- probing
@contextlib.contextmanager
def _searching_steps() -> Iterator[None]:
    """Silence the solvers' unstable-step warning: the fits below search step sizes past 2 / l_max on purpose
    (a diverging step just scores an infinite distance)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*stable range.*")
        yield


def _pto_fixed_steps_risk(data: EvalSet, steps: int) -> float:
    """Oracle-tuned (absolute step grid) excess risk of PtO with a fixed number of steps."""
    p = data.problems
    if steps == 0:
        return float(np.mean(np.sum(p.w_star ** 2, axis=1)))
    with _searching_steps():
        risks = [np.mean(np.sum((solvers.pto(p.X, p.y, eta, steps) - p.w_star) ** 2, axis=1))
                 for eta in PROBING_STEP_SIZES]
    return float(np.nanmin(np.where(np.isfinite(risks), risks, np.nan)))


def probing(model: ICLTransformer, task: Problem, n: int, trials: int = 1000, queries: int = 8, seed: int = 3,
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


def _msd_per_prompt(w: np.ndarray, data: EvalSet, pred: np.ndarray) -> np.ndarray:
    """Mean over each prompt's queries of ``(<w, x_q> - yhat_q)^2``, shape (trials,); inf where it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.mean((np.einsum("tmd,td->tm", data.Xq, w) - pred) ** 2, axis=1)
    return np.where(np.isfinite(value), value, np.inf)


def _msd(w: np.ndarray, data: EvalSet, pred: np.ndarray) -> float:
    return float(np.mean(_msd_per_prompt(w, data, pred)))


def _cosine(w: np.ndarray, grad: np.ndarray) -> float:
    num = np.einsum("tmd,td->tm", grad, w)
    den = np.linalg.norm(grad, axis=-1) * np.linalg.norm(w, axis=-1)[:, None]
    return float(np.mean(num / np.where(den > 0, den, np.inf)))


def _lasso_path_point(p: Problems, alpha: float) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", solvers.LassoConvergenceWarning)
        return solvers.lasso(p.X, p.y, alpha, tol=1e-8)


def agreement(model: ICLTransformer, task: Problem, n: int, trials: int = 1000, queries: int = 8,
              seed: int = 4) -> dict[str, Any]:
    """How closely the model's predictions follow each algorithm (von Oswald et al. metrics).

    Each algorithm's free scalar (step size eta, ridge lam or Lasso alpha) is
    fitted by least squares on the model's predictions over the first half of
    the prompts; the metrics are reported on the second half: ``msd`` = mean
    squared prediction difference (``msd_sem``: its standard error over
    prompts; the model's own mean squared prediction ``pred_power`` gives the
    scale) and ``cosine`` = mean cosine between ``d yhat/d x_q`` (autograd) and
    the algorithm's ``w_hat`` (its sensitivity). Steps are matched to depth L:
    PtO ``L - 1`` (layer 1 preprocesses), GD ``L``. ``bayes`` is the exact
    posterior mean (:func:`solvers.bayes_posterior_mean`), which has no free
    scalar.

    ``pto_family`` fits ``(p, eta, T)`` for every power p of the preconditioner
    ``|r|^p`` and T in 1..2L, and ``best_power`` is the p with the smallest msd.
    ``closest`` names the candidate with the smallest msd among the algorithms
    and the PtO family (``"pto p=..."``). ``pto_vs_rest`` pits the best PtO
    candidate (``pto`` or a power ``p > 0``) against the best other one on
    the same prompts: ``win_fraction`` is the share of prompts where the PtO
    candidate is closer, with its binomial standard error (robust to the
    heavy tails of fixed-step PtO, which make the msd's own SE large).
    """
    with _searching_steps():
        return _agreement(model, task, n, trials, queries, seed)


def _agreement(model: ICLTransformer, task: Problem, n: int, trials: int, queries: int, seed: int) -> dict[str, Any]:
    L = len(model.head_masks)
    data = EvalSet.draw(task, n, trials, queries, seed)
    fit, test = data.half(True), data.half(False)
    pred_fit, pred_test = predict(model, fit), predict(model, test)
    grad_test = input_gradients(model, test)
    etas, lams, alphas = AGREEMENT_STEP_SIZES, AGREEMENT_LAMBDAS, AGREEMENT_ALPHAS
    families: dict[str, tuple[str, np.ndarray, Callable[[Problems, float], np.ndarray]]] = {
        "pto": ("step_size", etas, lambda p, eta: solvers.pto(p.X, p.y, eta, max(L - 1, 0))),
        "gd": ("step_size", etas, lambda p, eta: solvers.gd(p.X, p.y, eta, L)),
        "ridge": ("lam", lams, lambda p, lam: solvers.ridge(p.X, p.y, lam)),
        "lasso": ("alpha", alphas, _lasso_path_point),
    }
    result: dict[str, Any] = {"n": n, "layers": L, "pred_power": float(np.mean(pred_test ** 2)), "algorithms": {}}

    terms: dict[str, np.ndarray] = {}  # per-prompt msd of each candidate, for the paired comparison

    def scores(name: str, w: np.ndarray) -> dict[str, float]:
        terms[name] = _msd_per_prompt(w, test, pred_test)
        return {"msd": float(terms[name].mean()), "msd_sem": float(terms[name].std(ddof=1) / np.sqrt(w.shape[0])),
                "cosine": _cosine(w, grad_test)}

    for name, (parameter, grid, family) in families.items():
        value, _ = _fit_scalar(lambda v: _msd(family(fit.problems, v), fit, pred_fit), grid)
        result["algorithms"][name] = {"parameter": parameter, "value": value,
                                      "steps": {"pto": L - 1, "gd": L}.get(name),
                                      **scores(name, family(test.problems, value))}
    posterior = solvers.bayes_posterior_mean(test.problems.X, test.problems.y, task.s, task.sigma, task.signal)
    result["algorithms"]["bayes"] = {"parameter": None, "value": None, "steps": None,
                                   **scores("bayes", posterior)}
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
        family_fits.append({"power": power, "steps": T, "step_size": eta, **scores(f"pto p={power:g}", w)})
    result["pto_family"] = family_fits
    result["best_power"] = min(family_fits, key=lambda row: row["msd"])["power"]
    candidates = {**{name: row["msd"] for name, row in result["algorithms"].items()},
                  **{f"pto p={row['power']:g}": row["msd"] for row in family_fits}}
    result["closest"] = min(candidates, key=candidates.get)
    pto_like = [k for k in candidates if k == "pto" or (k.startswith("pto p=") and k != "pto p=0")]
    best_pto = min(pto_like, key=candidates.get)
    best_other = min((k for k in candidates if k not in pto_like), key=candidates.get)
    wins = terms[best_pto] < terms[best_other]
    result["pto_vs_rest"] = {"best_pto": best_pto, "best_other": best_other,
                             "win_fraction": float(wins.mean()),
                             "win_fraction_sem": float(np.sqrt(wins.mean() * (1 - wins.mean()) / wins.size))}
    return result


# ----------------------------------------------------------------------------- all analyses
def analyse_all(model: ICLTransformer, task: Problem, ns: list[int], n_probe: int, trials: int = 1000,
                single: ICLTransformer | None = None, seed: int = 0,
                compare: dict[str, ICLTransformer] | None = None,
                earlier: ICLTransformer | None = None) -> dict[str, dict[str, Any]]:
    """Every analysis of one model: ``{name: result}`` for convergence, risk_vs_n, head_importance, pruning,
    probing and agreement.

    ``single`` (a single-head model) joins the pruning comparison; ``compare``
    (name -> model, e.g. the other runs of a heads sweep) joins the risk-vs-n
    panel; ``earlier`` (the same run at 80% of training) gives the
    convergence check its late gain.
    """
    extra = dict(compare or {})
    if single is not None and all(other is not single for other in extra.values()):
        extra["single_head"] = single
    results = {
        "convergence": convergence(model, task, n_probe, earlier, trials=2 * trials, seed=seed + 5),
        "risk_vs_n": risk_vs_n(model, task, ns, trials=trials, seed=seed, extra=extra),
        "head_importance": head_importance(model, task, [n_probe, max(ns)], trials=trials // 2, seed=seed + 1),
    }
    results["pruning"] = pruning(model, task, results["head_importance"], ns, trials=trials, seed=seed + 2,
                                 single=single)
    results["probing"] = probing(model, task, n_probe, trials=trials, seed=seed + 3)
    results["agreement"] = agreement(model, task, n_probe, trials=trials, seed=seed + 4)
    return results
