"""Figures of the transformer analyses (:mod:`.analysis` computes, this module draws).

Every function takes the JSON-able result of one analysis and writes one PNG.
Algorithms keep the colour and marker of :data:`simulations.plotting.STYLES`,
so a method looks the same in every figure of the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import NullLocator

from simulations.plotting import STYLES, plt

from .analysis import ONE_HEAD, reduced_mask_layer, reduced_mask_name

PRUNING_LABELS = {
    "full": "full model",
    "layer1_all": "all layer-1 heads + top head of each later layer (the paper's pruning)",
    reduced_mask_name(1): "top layer-1 head + all later heads (converse)",
    "single_head": "model trained with one head per layer",
}
MODEL_COLOURS = ("black", "tab:brown", "tab:pink", "tab:olive", "darkgoldenrod", "0.5")
MODEL_LABELS = {"transformer": "trained transformer (this analysis)", "single_head": "single-head model"}


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_risk(path: Path, res: dict[str, Any], title: str) -> None:
    """Excess risk against n: the models (solid) and the oracle-tuned algorithms (dashed, fixed styles).

    The legend sits outside the axes, so that it hides no curve."""
    fig, ax = plt.subplots(figsize=(9.0, 4.4))
    ns = res["n"]
    for colour, (name, rows) in zip(MODEL_COLOURS, res["models"].items()):
        ax.errorbar(ns, [r["risk"] for r in rows], yerr=[2 * r["sem"] for r in rows], fmt="-o", ms=4,
                    capsize=2, color=colour, lw=1.6, label=MODEL_LABELS.get(name, name))
    for name, rows in res["baselines"].items():
        style = STYLES[name]
        ax.errorbar(ns, [r["risk"] for r in rows], yerr=[2 * r["sem"] for r in rows], ls="--", lw=1,
                    marker=style["marker"], ms=3, capsize=2, color=style["color"], label=style["label"])
    ax.axhline(res["zero"], color="grey", lw=0.8, ls=":", label=r"zero predictor ($E\|w^*\|^2$)")
    ax.set(xlabel="context length n", ylabel=r"excess risk $E(\hat y_q - \langle w^*, x_q\rangle)^2$",
           yscale="log", title=title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(fig, path)


def plot_importance(path: Path, res: dict[str, Any], title: str) -> None:
    """Heat map of the normalised risk increase from masking each head (rows: layers), each row labelled with
    its pattern and, where a layer has several heads, its top share +- its bootstrap SE."""
    rows = res["normalized"]
    grid = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, row in enumerate(rows):
        grid[i, :len(row)] = row
    fig, ax = plt.subplots(figsize=(3.4 + 0.55 * grid.shape[1], 1.4 + 0.7 * grid.shape[0]))
    im = ax.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value > 0.6 else "black")
    labels = [f"layer {i + 1}\n{layer['pattern']}" + ("" if layer["pattern"] == ONE_HEAD
                                                       else f"\ntop {layer['top_share']:.2f} +- {layer['top_share_sem']:.2f}")
              for i, layer in enumerate(res["layers"])]
    ax.set(xlabel="head", title=title, xticks=range(grid.shape[1]),
           xticklabels=[str(j + 1) for j in range(grid.shape[1])], yticks=range(grid.shape[0]))
    ax.set_yticklabels(labels, fontsize=7)
    fig.colorbar(im, ax=ax, label="share of the layer's risk increase")
    _save(fig, path)


def plot_pruning(path: Path, res: dict[str, Any], title: str) -> None:
    """Risk against n of the full model and the prunings (legend outside the axes)."""
    fig, ax = plt.subplots(figsize=(9.0, 4.4))
    for name, rows in res["risk"].items():
        label = PRUNING_LABELS.get(name) or f"top head of layer {reduced_mask_layer(name)} + all other heads"
        ax.errorbar(res["n"], [r["risk"] for r in rows], yerr=[2 * r["sem"] for r in rows], fmt="-o", ms=3,
                    capsize=2, label=label)
    ax.set(xlabel="context length n", ylabel="excess risk", yscale="log", title=title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(fig, path)


def plot_probing(path: Path, res: dict[str, Any], title: str) -> None:
    """Held-out probe R^2 per layer, and the query readout's risk beside PtO with layer - 1 steps."""
    layers = [r["layer"] for r in res["layers"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    a.plot(layers, [r["r2_rx"] for r in res["layers"]], "-o", label=r"$r \odot x_i$ (preprocessed)")
    a.plot(layers, [r["r2_x"] for r in res["layers"]], "-s", label=r"$x_i$ (raw)")
    a.set(xlabel="layer (0 = embedding)", ylabel=r"probe $R^2$ (held out)", ylim=(-0.05, 1.05), title=title,
          xticks=layers)
    a.legend(fontsize=7)
    b.plot(layers, [r["readout_risk"] for r in res["layers"]], "-o", label="linear readout of the query state")
    b.plot(layers[1:], [r["pto_risk"] for r in res["layers"][1:]], "--s", color=STYLES["pto"]["color"],
           label="PtO with (layer - 1) steps, tuned step")
    b.set(xlabel="layer", ylabel="excess risk", yscale="log", title=f"n = {res['n']}", xticks=layers)
    b.legend(fontsize=7)
    _save(fig, path)


def plot_budget(path: Path, res: dict[str, Any], title: str) -> None:
    """Risk at n against the training budget (prompts), one colour per (heads, batch), beside the algorithms.

    Each run is a point with a 2 SE bar, filled when it meets rule (b) (late gain below
    ``res["late_gain_limit"]``) and hollow when it does not (or has no 80% snapshot); a line joins the
    mean over seeds at each budget. Groups are dodged sideways by a few percent so that their points do
    not overlap. The algorithms are horizontal lines in their fixed styles.
    """
    fig, ax = plt.subplots(figsize=(8.6, 4.4))
    groups: dict[tuple[tuple[int, ...], int], list[dict[str, Any]]] = {}
    for row in res["runs"]:
        groups.setdefault((tuple(row["heads"]), row["batch"]), []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0][1], tuple(-h for h in item[0][0])))
    colours = [*MODEL_COLOURS, *(f"C{i}" for i in range(10))]
    for k, ((heads, batch), rows) in enumerate(ordered):
        colour = colours[k % len(colours)]
        dodge = 1.04 ** (k - (len(groups) - 1) / 2)
        for row in rows:
            ax.errorbar(row["prompts"] * dodge, row["risk"], yerr=2 * row["sem"], fmt="o", ms=5, capsize=2,
                        color=colour, mfc=colour if row.get("converged") else "white")
        budgets = sorted({row["prompts"] for row in rows})
        means = [np.mean([row["risk"] for row in rows if row["prompts"] == b]) for b in budgets]
        ax.plot([b * dodge for b in budgets], means, "-", color=colour, lw=1.4,
                label=f"heads {list(heads)}, batch {batch} (line: mean over seeds)")
    for name, ref in res["algorithms"].items():
        style = STYLES[name]
        ax.axhline(ref["risk"], color=style["color"], ls="--", lw=1, label=style["label"])
    ax.plot([], [], "o", color="0.3", mfc="0.3", label=f"filled: late gain < {res['late_gain_limit']:.0%} (rule b)")
    ax.plot([], [], "o", color="0.3", mfc="white", label="hollow: still improving (or no 80% snapshot)")
    ax.set(xlabel="training prompts (steps x batch)", ylabel=f"excess risk at n = {res['n']}", xscale="log",
           yscale="log", title=title)
    budgets = sorted({row["prompts"] for row in res["runs"]})  # a tick at every budget, none between
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(budgets, [f"{b / 1e6:.3g}M" for b in budgets], fontsize=7, rotation=45)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(fig, path)


PLOTS = {"risk_vs_n": plot_risk, "head_importance": plot_importance, "pruning": plot_pruning,
         "probing": plot_probing}


def draw_all(results: dict[str, Any], out: Path, label: str) -> None:
    """``<name>.png`` in ``out`` for every analysis in ``results`` that has a figure."""
    for name, res in results.items():
        if name in PLOTS:
            PLOTS[name](out / f"{name}.png", res, f"{label}: {name.replace('_', ' ')}")
