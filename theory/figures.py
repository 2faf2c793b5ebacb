"""Figures of the checker: the C4 phase diagram and PtO / Lasso against log d (C5)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402


def phase_figure(c4: pd.DataFrame, out: Path) -> list[Path]:
    """One PNG per (signal, tuning): ratio PtO / min(ridge, GD) over (n/d, s/d), a panel per sigma.

    Cells with the same (n/d, s/d) (different d) are averaged in log ratio.
    Colour: log2 of the ratio, blue = PtO better, red = worse; each marker is
    annotated with the ratio.
    """
    written = []
    for (signal, tuning), block in c4.groupby(["signal", "tuning"]):
        block = block.assign(x=block.n / block.d, y=block.s / block.d, lr=np.log2(block.ratio))
        sigmas = sorted(block.sigma.unique())
        fig, axes = plt.subplots(1, len(sigmas), figsize=(4.5 * len(sigmas), 4), squeeze=False)
        limit = max(1.0, float(np.nanmax(np.abs(block.lr))))
        norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
        for ax, sigma in zip(axes[0], sigmas):
            cells = block[block.sigma == sigma].groupby(["x", "y"]).lr.mean().reset_index()
            points = ax.scatter(cells.x, cells.y, c=cells.lr, cmap="coolwarm", norm=norm, s=260, marker="s")
            for x, y, lr in zip(cells.x, cells.y, cells.lr):
                ax.annotate(f"{2 ** lr:.2g}", (x, y), ha="center", va="center", fontsize=7)
            ax.set(xscale="log", yscale="log", xlabel="n / d", ylabel="s / d", title=f"sigma = {sigma:g}")
            ax.minorticks_off()
            ax.set_xticks(sorted(cells.x.unique()), [f"{v:.2g}" for v in sorted(cells.x.unique())], rotation=45)
            ax.set_yticks(sorted(cells.y.unique()), [f"{v:.2g}" for v in sorted(cells.y.unique())])
        fig.colorbar(points, ax=axes[0].tolist(), label="log2 risk(PtO) / min(risk ridge, risk GD)")
        fig.suptitle(f"C4: PtO vs best rotation-equivariant method ({signal}, {tuning} tuning)")
        path = out / f"phase_diagram_{signal}_{tuning}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written


def lasso_figure(c5: pd.DataFrame, path: Path) -> Path:
    """Ratio PtO / Lasso against log d, a line per (n, s, sigma, signal, tuning), with y = ln d."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for key, line in c5.groupby(["n", "s", "sigma", "signal", "tuning"]):
        line = line.sort_values("d")
        style = "-o" if line.in_regime.any() else ":x"
        ax.plot(np.log(line.d), line.ratio, style, label="n={} s={} sigma={:g} {} {}".format(*key))
    logd = np.log(np.sort(c5.d.unique()))
    ax.plot(logd, logd, "k--", label="ratio = ln d")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set(xlabel="ln d", ylabel="risk(PtO) / risk(Lasso)", yscale="log",
           title="C5: PtO vs Lasso (solid: d <= n and n >= s ln d)")
    ax.legend(fontsize=6)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
