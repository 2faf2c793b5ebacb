"""Figures of sweep results."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

MAX_PANELS = 12

#: One colour, marker and label per method, the same in every figure whatever the methods plotted.
STYLES: dict[str, dict[str, str]] = {
    "ols": {"color": "0.55", "marker": "x", "label": "OLS (min-norm)"},
    "oracle": {"color": "0.2", "marker": "*", "label": "least squares on the true support"},
    "ridge": {"color": "tab:blue", "marker": "s", "label": "ridge"},
    "gd": {"color": "tab:cyan", "marker": "v", "label": "GD (early stopped)"},
    "pto": {"color": "tab:red", "marker": "o", "label": "PtO"},
    "lasso": {"color": "tab:green", "marker": "D", "label": "Lasso"},
    "bayes": {"color": "tab:purple", "marker": "^", "label": "Bayes posterior mean (floor)"},
}


def plot_risk_vs_n(results: pd.DataFrame, path: str | Path) -> Path:
    """Excess risk against n, log-log, one line per method with 95% error bars.

    One panel per (d, s, sigma, signal, tuning) combination (the first
    :data:`MAX_PANELS`). Diverged cells (infinite risk) are left out of the
    lines and marked with an ``x`` on the top edge of their panel.
    """
    panels = list(results.groupby(["d", "s", "sigma", "signal", "tuning"], sort=True))[:MAX_PANELS]
    if not panels:
        raise ValueError("results: no rows to plot")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, ((d, s, sigma, signal, tuning), frame) in zip(axes.flat, panels):
        for method, line in frame.groupby("method", sort=True):
            line = line.sort_values("n")
            finite = np.isfinite(line["risk_mean"])
            ok = line[finite]
            err = np.vstack([ok["risk_mean"] - ok["risk_lo"].clip(lower=1e-300), ok["risk_hi"] - ok["risk_mean"]])
            style = STYLES[method]
            handle = ax.errorbar(ok["n"], ok["risk_mean"], yerr=err, marker=style["marker"], ms=3, capsize=2,
                                 color=style["color"], label=style["label"])
            if (~finite).any():
                ax.plot(line.loc[~finite, "n"], np.full((~finite).sum(), ax.get_ylim()[1]), "x",
                        color=handle[0].get_color())
        ax.axvline(d, color="0.7", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="n (context examples)", ylabel="excess risk",
               title=f"d={d}, s={s}, sigma={sigma:g}, {signal}, {tuning}")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
