"""Verdicts on the paper's mechanism claims C1, C2, C6 and C7 from the analyses of trained models.

The criteria were fixed before any converged model was analysed; each is
applied to every seed of a model, and a claim is *reproduced* when every seed
meets it, *not reproduced* when none does, and *mixed* otherwise.

C1 (many heads in layer 1, one head in each later layer)
    Per layer, the pattern of :func:`.analysis.head_importance` (top head's
    share of the layer's risk increase ``>= 0.5``: "one dominant head", else
    "spread"; "no head matters" when masking no head raises the risk), called
    on the point estimate; its bootstrap SE over prompts is reported beside it. Met
    when layer 1 is spread and every later layer has one dominant head. A layer
    with two heads cannot be called spread: negative increases count as 0, so
    its top share is at least 0.5 whenever a head matters. The verdict then
    follows from the head counts alone, and ``two_head_layers`` lists such
    layers so that ``verdicts.md`` says so.
C2 (layer 1 preprocesses to ``r (.) x_i``; later layers take GD steps)
    Held-out R^2 of a linear probe for ``r (.) x_i`` from the context tokens
    after layer 1 (:func:`.analysis.probing`). Met when it is ``>= 0.8`` and
    at least 0.3 above the embedding's; not met when it is below 0.5; mixed
    in between. (The GD half of the claim is what C7 measures: a linear
    readout of the query state need not improve layer by layer even in the
    exact construction, so it is reported, not graded.)
C6 (pruning to all layer-1 heads + the top head of each later layer keeps the risk)
    Ratio of the pruned model's risk to the full model's at n = d. Met at
    ``<= 1.5``, not met above 3, mixed in between. Not applicable when every
    later layer has a single head (the pruning removes nothing); C1 is not
    applicable when every layer has one head. Reported beside it, not graded:
    the risk ratio when one layer alone is reduced to its top head
    (``reduced_ratio``; layer 1's is the converse of the claimed pruning).
C7 (predictions follow PtO more closely than GD and ridge)
    The candidate with the smallest mean prediction difference
    (:func:`.analysis.agreement`: PtO with ``L - 1`` steps, the PtO family with
    preconditioner powers ``p``, GD, ridge, Lasso, Bayes; ``p = 0`` is plain
    GD and counts as non-PtO), and the share of prompts on which the best
    PtO candidate is closer than the best other one. Met when a PtO candidate
    is closest and wins on more than half the prompts by over 2 binomial
    standard errors; not met when another algorithm is closest and PtO wins
    on fewer than half by over 2 SE; mixed otherwise. The verdict names the
    closest algorithm.

The heads sweep ("more heads, lower in-context risk") compares two head
counts over training seeds, the unit that varies between runs
(:func:`more_heads`; fixed before the second and third h = 1 seeds of the
converged budget finished). With risks ``a_1..a_m`` (more heads) and
``b_1..b_k`` (fewer heads) at n = d, the exact one-sided Mann-Whitney test
of "the more-heads risks are lower" has p-value
``P(U <= U_obs)`` over all ``C(m + k, m)`` equally likely rankings, where
``U = #{(i, j): a_i > b_j}``; with three seeds each, ``U = 0`` (every seed
of the more-heads model below every seed of the other) gives
``p = 1 / C(6, 3) = 0.05``, the smallest possible. Reproduced at
``p <= 0.05``, not reproduced when the reverse test has ``p <= 0.05``,
mixed otherwise; *undecided* with fewer than three seeds of either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from .analysis import ONE_HEAD, reduced_mask_layer

REPRODUCED, NOT_REPRODUCED, MIXED = "reproduced", "not reproduced", "mixed"
NOT_APPLICABLE = "not applicable (one head per later layer)"
UNDECIDED = "undecided"

#: The heads-sweep rule: the fewest seeds per head count it grades, and its level.
MIN_SEEDS = 3
HEADS_LEVEL = 0.05


def _single_heads(run: dict[str, Any]) -> bool:
    return all(len(row) == 1 for row in run["head_importance"]["increase"])


def c1(run: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    layers = run["head_importance"]["layers"]
    two_heads = [k + 1 for k, row in enumerate(run["head_importance"]["increase"]) if len(row) == 2]
    if _single_heads(run):
        return NOT_APPLICABLE, {"patterns": [layer["pattern"] for layer in layers], "top_share": [1.0] * len(layers),
                                "top_share_sem": [0.0] * len(layers), "two_head_layers": two_heads}
    first_spread = layers[0]["pattern"] == "spread"
    later_single = all(layer["pattern"] in ("one dominant head", ONE_HEAD) for layer in layers[1:])
    verdict = REPRODUCED if first_spread and later_single else NOT_REPRODUCED
    return verdict, {"patterns": [layer["pattern"] for layer in layers],
                     "top_share": [layer["top_share"] for layer in layers],
                     "top_share_sem": [layer["top_share_sem"] for layer in layers], "two_head_layers": two_heads}


def c2(run: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    layers = run["probing"]["layers"]
    r2_first, r2_embedding = layers[1]["r2_rx"], layers[0]["r2_rx"]
    readout = [layer["readout_risk"] for layer in layers[1:]]
    if r2_first >= 0.8 and r2_first - r2_embedding >= 0.3:
        verdict = REPRODUCED
    elif r2_first < 0.5:
        verdict = NOT_REPRODUCED
    else:
        verdict = MIXED
    return verdict, {"r2_rx": [layer["r2_rx"] for layer in layers], "readout_risk": readout}


def c6(run: dict[str, Any], n: int) -> tuple[str, dict[str, Any]]:
    if all(len(row) == 1 for row in run["head_importance"]["increase"][1:]):
        return NOT_APPLICABLE, {"pruned_ratio": 1.0, "reduced_ratio": {}}  # the pruning keeps every head
    pruning = run["pruning"]
    i = pruning["n"].index(n)
    full = pruning["risk"]["full"][i]["risk"]
    ratio = pruning["risk"]["layer1_all"][i]["risk"] / full
    verdict = REPRODUCED if ratio <= 1.5 else NOT_REPRODUCED if ratio > 3 else MIXED
    reduced = {name: rows[i]["risk"] / full for name, rows in pruning["risk"].items()
               if reduced_mask_layer(name) is not None}
    return verdict, {"pruned_ratio": ratio, "reduced_ratio": reduced}


def c7(run: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    agreement = run["agreement"]
    duel = agreement["pto_vs_rest"]
    pto_first = agreement["closest"] == duel["best_pto"]
    significant = duel["win_fraction"] > 0.5 + 2 * duel["win_fraction_sem"]
    losing = duel["win_fraction"] < 0.5 - 2 * duel["win_fraction_sem"]
    if pto_first and significant:
        verdict = REPRODUCED
    elif not pto_first and losing:
        verdict = NOT_REPRODUCED
    else:
        verdict = MIXED
    return verdict, {"closest": agreement["closest"], **duel}


def combine(verdicts: list[str]) -> str:
    if all(v == NOT_APPLICABLE for v in verdicts):
        return NOT_APPLICABLE
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    if all(v == NOT_REPRODUCED for v in verdicts):
        return NOT_REPRODUCED
    return MIXED


def decide(runs: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """Per-seed and combined verdicts for C1, C2, C6, C7 from the :func:`~.analysis.analyse_all` results of each seed."""
    out: dict[str, Any] = {}
    for claim, rule in (("C1", c1), ("C2", c2), ("C6", lambda r: c6(r, n)), ("C7", c7)):
        per_seed = [rule(run) for run in runs]
        out[claim] = {"verdict": combine([v for v, _ in per_seed]),
                      "seeds": [{"verdict": v, **details} for v, details in per_seed]}
    return out


def more_heads(more: Sequence[float], fewer: Sequence[float]) -> tuple[str, dict[str, Any]]:
    """Verdict on "more heads, lower risk" from the risks of two head counts' seeds (see the module docstring).

    Parameters
    ----------
    more, fewer : sequence of float
        Excess risk at n = d of each seed of the model with more heads and of the one with fewer,
        evaluated on the same prompts.

    Returns
    -------
    verdict : str
        ``reproduced`` when the exact one-sided Mann-Whitney p-value of "``more`` is lower" is at most
        :data:`HEADS_LEVEL`, ``not reproduced`` when that of "``more`` is higher" is, ``mixed``
        otherwise, ``undecided`` with fewer than :data:`MIN_SEEDS` seeds on either side.
    details : dict
        ``p_lower``, ``p_higher`` (``None`` when undecided), ``diff``: the difference of the seed means
        (more - fewer), and ``diff_sem``, its Welch standard error ``sqrt(s_a^2/m + s_b^2/k)`` over seeds
        (``None`` with one seed on either side).

    Examples
    --------
    >>> more_heads([0.006, 0.007, 0.008], [0.009, 0.010, 0.011])[0]
    'reproduced'
    >>> more_heads([0.006, 0.010, 0.008], [0.009, 0.007, 0.011])[0]
    'mixed'
    """
    a, b = np.asarray(more, dtype=float), np.asarray(fewer, dtype=float)
    if not (np.isfinite(a).all() and np.isfinite(b).all()) or a.ndim != 1 or b.ndim != 1 or not (a.size and b.size):
        raise ValueError("more_heads: risks must be non-empty 1-d sequences of finite numbers")
    diff_sem = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)) if min(a.size, b.size) > 1 else None
    details: dict[str, Any] = {"seeds": [a.size, b.size], "diff": float(a.mean() - b.mean()), "diff_sem": diff_sem,
                               "p_lower": None, "p_higher": None}
    if min(a.size, b.size) < MIN_SEEDS:
        return UNDECIDED, details
    for key, alternative in (("p_lower", "less"), ("p_higher", "greater")):
        details[key] = float(stats.mannwhitneyu(a, b, alternative=alternative, method="exact").pvalue)
    if details["p_lower"] <= HEADS_LEVEL:
        return REPRODUCED, details
    return (NOT_REPRODUCED if details["p_higher"] <= HEADS_LEVEL else MIXED), details


def spread(values: list[float]) -> str:
    """``mean +- sd (k seeds)`` of one statistic over seeds."""
    arr = np.asarray(values, dtype=float)
    sd = f" +- {arr.std(ddof=1):.3g}" if arr.size > 1 else ""
    return f"{arr.mean():.3g}{sd} ({arr.size} seed{'s' if arr.size > 1 else ''})"


def markdown(runs: list[dict[str, Any]], decided: dict[str, Any], label: str) -> str:
    """The convergence table and the verdicts of :func:`decide` as Markdown (what ``verdicts.md`` holds)."""
    lines = [f"## {label}", "", "Convergence at n = d (paired, same prompts; +- one SE):", "",
             "| seed | model | ridge | PtO | Lasso | Bayes | model / ridge | model / Bayes | last-20% gain |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, run in enumerate(runs):
        conv = run["convergence"]
        alg = conv["algorithms"]
        gain = (f"{conv['late_gain']:.1%} +- {conv['late_gain_sem']:.1%}" if "late_gain" in conv else "n/a")
        lines.append(f"| {k} | {conv['risk']:.4f} +- {conv['sem']:.4f} | {alg['ridge']['risk']:.4f} | "
                     f"{alg['pto']['risk']:.4f} | {alg['lasso']['risk']:.4f} | {alg['bayes']['risk']:.4f} | "
                     f"{alg['ridge']['ratio']:.2f} | {alg['bayes']['ratio']:.1f} | {gain} |")
    lines += ["", "| claim | verdict | per seed |", "|---|---|---|"]
    for claim, row in decided.items():
        seeds = "; ".join(_seed_summary(claim, seed) for seed in row["seeds"])
        lines.append(f"| {claim} | **{row['verdict']}** | {seeds} |")
    return "\n".join(lines) + "\n"


def _seed_summary(claim: str, seed: dict[str, Any]) -> str:
    if claim == "C1":
        shares = ", ".join("--" if pattern == ONE_HEAD else f"{v:.2f} +- {e:.2f}"
                           for pattern, v, e in zip(seed["patterns"], seed["top_share"], seed["top_share_sem"]))
        forced, caveat = seed["two_head_layers"], ""
        if forced:
            many = len(forced) > 1
            caveat = (f"; {'layers' if many else 'layer'} {', '.join(map(str, forced))} {'have' if many else 'has'}"
                      " two heads, so a top share below 0.5 is impossible there: the rule cannot call"
                      f" {'them' if many else 'it'} spread")
        return f"{seed['verdict']}: layers {', '.join(seed['patterns'])} (top shares {shares}){caveat}"
    if claim == "C2":
        return f"{seed['verdict']}: R^2(r x_i) by layer " + ", ".join(f"{v:.2f}" for v in seed["r2_rx"])
    if claim == "C6":
        reduced = "".join(f"; layer {reduced_mask_layer(name)} reduced to its top head / full {value:.2f}"
                          for name, value in seed["reduced_ratio"].items())
        return f"{seed['verdict']}: pruned / full {seed['pruned_ratio']:.2f}{reduced}"
    return (f"{seed['verdict']}: closest {seed['closest']}; {seed['best_pto']} beats {seed['best_other']} "
            f"on {seed['win_fraction']:.0%} +- {seed['win_fraction_sem']:.0%} of prompts")
