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
    """Ratio PtO / Lasso against n/d: a panel per (sigma, signal, tuning), a colour per d,
    a line per s, and ``ln d`` as a dashed line of the same colour (claim C5).

    Filled markers are cells inside the C5 regime (d <= n, n >= s ln d).
    """
    panels = list(c5.groupby(["sigma", "signal", "tuning"], sort=True))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4), squeeze=False, sharey=True)
    colours = {d: plt.cm.viridis(i / max(1, c5.d.nunique() - 1)) for i, d in enumerate(sorted(c5.d.unique()))}
    for ax, ((sigma, signal, tuning), panel) in zip(axes.flat, panels):
        for (d, s), line in panel.groupby(["d", "s"]):
            line = line.sort_values("n")
            x = line.n / d
            ax.plot(x, line.ratio, "-", color=colours[d], lw=0.8, alpha=0.7)
            inside = line.in_regime.astype(bool)
            ax.plot(x[inside], line.ratio[inside], "o", color=colours[d], ms=4)
            ax.plot(x[~inside], line.ratio[~inside], "o", mfc="none", color=colours[d], ms=4)
        for d, colour in colours.items():
            ax.axhline(np.log(d), color=colour, ls="--", lw=1, label=f"d = {d}: ln d = {np.log(d):.2f}")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel="n / d", title=f"sigma = {sigma:g}, {signal}, {tuning}")
    axes.flat[0].set_ylabel("risk(PtO) / risk(Lasso)  (a line per s)")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("C5: PtO vs Lasso; filled = inside the regime d <= n, n >= s ln d", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
