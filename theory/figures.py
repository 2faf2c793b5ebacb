"""Figures of the checker: the C4 phase diagram and PtO / Lasso against log d (C5)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

SIGNAL_WORDS = {"gaussian": r"Gaussian $w^\star$", "rademacher": r"$w^\star_j = \pm 1/\sqrt{s}$",
                "unnormalized": r"$w^\star_j \sim N(0, 1)$"}
TUNING_WORDS = {"oracle": "oracle tuning", "theory": "theory tuning", "validation": "validation tuning"}


def file_part(value: object, known: tuple[str, ...], column: str) -> str:
    """``value`` if it is one of the ``known`` names, for use in a file name; ``ValueError`` otherwise.

    File names are built only from validated values, so a results file whose
    ``signal`` reads ``x/../../ESCAPED`` cannot make a figure land outside
    the output directory.
    """
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"{column}: unknown value {value!r}; expected one of {list(known)}")
    return value


def phase_figure(c4: pd.DataFrame, out: Path) -> list[Path]:
    """One PNG per (signal, tuning): a heat map of the ratio PtO / min(ridge, GD) over (n/d, s/d), a panel per sigma.

    Cells with the same (n/d, s/d) (different d) are averaged in log ratio.
    Colour: log2 of the ratio on a diverging scale, blue = PtO better, red =
    worse; each cell shows the ratio; cells inside the graded C4 regime are
    boxed.
    """
    written = []
    signals, tunings = tuple(SIGNAL_WORDS), tuple(TUNING_WORDS)
    for (signal, tuning), block in c4.groupby(["signal", "tuning"]):
        name = f"phase_diagram_{file_part(signal, signals, 'signal')}_{file_part(tuning, tunings, 'tuning')}.png"
        block = block.assign(x=block.n / block.d, y=block.s / block.d, lr=np.log2(block.ratio))
        sigmas = sorted(block.sigma.unique())
        xs, ys = sorted(block.x.unique()), sorted(block.y.unique())
        limit = max(1.0, float(np.ceil(np.nanmax(np.abs(block.lr)))))
        norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
        fig, axes = plt.subplots(1, len(sigmas), figsize=(1.2 + 0.62 * len(xs) * len(sigmas), 1.9 + 0.42 * len(ys)),
                                 squeeze=False, sharey=True, layout="constrained")
        for ax, sigma in zip(axes[0], sigmas):
            cells = block[block.sigma == sigma].groupby(["x", "y"]).agg(lr=("lr", "mean"), inside=("in_regime", "all"))
            grid = np.full((len(ys), len(xs)), np.nan)
            for (x, y), row in cells.iterrows():
                i, j = ys.index(y), xs.index(x)
                grid[i, j] = row.lr
                ax.text(j, i, f"{2 ** row.lr:.2g}", ha="center", va="center", fontsize=7,
                        color="white" if abs(row.lr) > 0.6 * limit else "black")
                if row.inside:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.2, ec="black"))
            image = ax.imshow(grid, cmap="RdBu_r", norm=norm, origin="lower", aspect="auto")
            ax.set_xticks(range(len(xs)), [fraction(v) for v in xs])
            ax.set_yticks(range(len(ys)), [fraction(v) for v in ys])
            ax.set(xlabel="n / d  (context examples per dimension)", title=rf"$\sigma = {sigma:g}$")
        axes[0, 0].set_ylabel("s / d  (sparsity)")
        ticks = np.arange(-limit, limit + 1, 1 if limit <= 4 else 2)
        bar = fig.colorbar(image, ax=axes[0].tolist(), ticks=ticks, shrink=0.9)
        bar.ax.set_yticklabels([fraction(2.0 ** t) for t in ticks])
        bar.set_label("risk(PtO) / min(risk(ridge), risk(GD))")
        fig.suptitle(f"C4: PtO against the better of ridge and GD ({SIGNAL_WORDS.get(signal, signal)}, "
                     f"{TUNING_WORDS.get(tuning, tuning)})\nblue: PtO lower; boxed: the graded regime "
                     r"$n \leq d$, $s \leq d/8$", fontsize=9)
        path = out / name
        fig.savefig(path, dpi=130)
        plt.close(fig)
        written.append(path)
    return written


def lasso_figure(c5: pd.DataFrame, path: Path) -> Path:
    """Ratio PtO / Lasso against n/d (claim C5): a panel per (sigma, signal, tuning), a colour per d,
    a marker per s, and ``ln d`` as a dashed line of the same colour.

    Filled markers are cells inside the graded C5 regime (d <= n, n >= s ln d).
    """
    panels = list(c5.groupby(["sigma", "signal", "tuning"], sort=True))
    ds, ss = sorted(c5.d.unique()), sorted(c5.s.unique())
    colours = dict(zip(ds, plt.cm.viridis(np.linspace(0.0, 0.75, len(ds)))))  # no yellow end
    markers = dict(zip(ss, "osD^vPX*"))
    fig, axes = plt.subplots(1, len(panels), figsize=(1.5 + 3.8 * len(panels), 3.9), squeeze=False, sharey=True,
                             layout="constrained")
    varying = [key for key in ("signal", "tuning") if c5[key].nunique() > 1]
    for ax, ((sigma, signal, tuning), panel) in zip(axes.flat, panels):
        for (d, s), line in panel.groupby(["d", "s"]):
            line = line.sort_values("n")
            x = (line.n / d).to_numpy(float)
            ratio = line.ratio.to_numpy(float)
            inside = line.in_regime.astype(bool).to_numpy()
            ax.plot(x, ratio, "-", color=colours[d], lw=0.8, alpha=0.6)
            ax.plot(x[inside], ratio[inside], markers[s], color=colours[d], ms=4.5, ls="none")
            ax.plot(x[~inside], ratio[~inside], markers[s], color=colours[d], mfc="white", ms=4.5, ls="none")
        for d in ds:
            ax.axhline(np.log(d), color=colours[d], ls="--", lw=1)
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel="n / d  (context examples per dimension)")
        ax.xaxis.set_major_locator(LogLocator(base=2.0 if len(np.unique(panel.n / panel.d)) <= 9 else 4.0))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fraction(v)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        title = rf"$\sigma = {sigma:g}$"
        if varying:
            title += ", " + ", ".join(SIGNAL_WORDS.get(signal, signal) if key == "signal" else
                                      TUNING_WORDS.get(tuning, tuning) for key in varying)
        ax.set_title(title, fontsize=9)
    axes.flat[0].set_ylabel("risk(PtO) / risk(Lasso)")
    handles = [Line2D([], [], color=colours[d], ls="--", label=rf"$d = {d}$: $\ln d = {np.log(d):.2f}$") for d in ds]
    handles += [Line2D([], [], color="0.4", marker=markers[s], ls="none", label=f"$s = {s}$") for s in ss]
    handles += [Line2D([], [], color="0.4", marker="o", ls="none", label=r"inside the regime $d \leq n$, $n \geq s \ln d$"),
                Line2D([], [], color="0.4", marker="o", mfc="white", ls="none", label="outside it")]
    fig.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
    fixed = "" if varying else f" ({SIGNAL_WORDS.get(c5.signal.iloc[0])}, {TUNING_WORDS.get(c5.tuning.iloc[0])})"
    fig.suptitle(f"C5: PtO against Lasso{fixed}; the claim: ratio below the dashed $\\ln d$ of its colour",
                 fontsize=9)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def fraction(value: float) -> str:
    """``1/8`` for 0.125, ``16`` for 16.0, ``0.3`` for 0.3: tick labels of ratios that are powers of 2."""
    if 0 < value < 1 and abs(1 / value - round(1 / value)) < 1e-6:
        return f"1/{round(1 / value)}"
    return f"{value:g}"
