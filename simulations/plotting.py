"""Figures of sweep results: excess risk against n, one fixed style per method.

Every method has one colour, marker, line style and label (:data:`STYLES`,
keyed like :data:`simulations.methods.METHODS`), whatever the methods a
figure shows, so a method looks the same in every figure of the project.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from .problems import signal_norm2  # noqa: E402

MAX_PANELS = 12
#: Points above ``CEILING * E||w*||^2`` (that many times the risk of predicting 0) are drawn on the top edge with
#: their value written beside them, so a blow-up (OLS at n = d) does not squash the other curves.
CEILING = 3.0

#: One colour, marker, line style and label per method (the keys of ``simulations.methods.METHODS``).
STYLES: dict[str, dict[str, str]] = {
    "ols": {"color": "0.35", "marker": "x", "linestyle": ":", "label": "min-norm least squares (OLS)"},
    "oracle": {"color": "black", "marker": "*", "linestyle": "-", "label": "least squares on the true support"},
    "ridge": {"color": "tab:blue", "marker": "s", "linestyle": "-", "label": r"ridge (tuned $\lambda$)"},
    "gd": {"color": "tab:orange", "marker": "v", "linestyle": "--", "label": "gradient descent (tuned steps)"},
    "pto": {"color": "tab:red", "marker": "o", "linestyle": "-", "label": "preprocess-then-optimize (PtO)"},
    "lasso": {"color": "tab:green", "marker": "D", "linestyle": "-", "label": r"Lasso (tuned $\alpha$)"},
    "bayes": {"color": "tab:purple", "marker": "^", "linestyle": "-.",
              "label": "Bayes posterior mean (optimal)"},
}
TUNING_WORDS = {
    "oracle": "each method at its best hyperparameter on a grid (oracle tuning)",
    "theory": "hyperparameters set by the theory rules",
    "validation": "hyperparameters chosen on a hold-out split",
}
SIGNAL_WORDS = {
    "gaussian": r"$w^\star_j \sim N(0, 1/s)$",
    "rademacher": r"$w^\star_j = \pm 1/\sqrt{s}$",
    "unnormalized": r"$w^\star_j \sim N(0, 1)$",
}
PANEL_KEYS = ["d", "s", "sigma", "signal", "tuning"]


def plot_risk_vs_n(results: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`risk_vs_n_figure` of ``results`` to ``path`` (PNG) and return the path."""
    fig = risk_vs_n_figure(results)
    path = Path(path)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def risk_vs_n_figure(results: pd.DataFrame) -> plt.Figure:
    """Excess risk against n, log-log, one line per method with 95% error bars.

    One panel per (d, s, sigma, signal, tuning) combination (the first
    :data:`MAX_PANELS`), one legend for all panels. Each panel marks
    n = d and the risk of predicting zero (``E||w*||^2``). Points far above
    every other method (see :data:`CEILING`) sit on the top edge as a
    triangle with their value; diverged cells (infinite risk) as an ``x``
    there; a risk of exactly 0 (an estimator that recovers ``w*`` exactly,
    as the Bayes posterior mean of a sign signal can) as a downward triangle
    on the bottom edge, since a log axis has no 0.

    Parameters
    ----------
    results : DataFrame
        The sweep's ``results.csv`` rows (columns ``method, n, risk_mean,
        risk_lo, risk_hi`` and those of ``PANEL_KEYS``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = list(results.groupby(PANEL_KEYS, sort=True))[:MAX_PANELS]
    if not panels:
        raise ValueError("results: no rows to plot")
    unknown = sorted(set(results.method) - set(STYLES))
    if unknown:
        raise ValueError(f"results: no style for methods {unknown}; known: {list(STYLES)}")
    rows, cols = grid_shape(len(panels))
    size = (5.2, 3.9) if len(panels) == 1 else (4.0 * cols, 3.3 * rows)
    fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False)
    varying = [key for key in ("signal", "tuning") if results[key].nunique() > 1]
    marks: set[str] = set()
    for ax, (key, frame) in zip(axes.flat, panels):
        marks |= _draw_panel(ax, dict(zip(PANEL_KEYS, key)), frame, varying)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    for ax in axes.flat[:max(0, len(panels) - cols)]:  # a panel below shows the x label
        ax.set_xlabel("")
    fixed = [key for key in ("signal", "tuning") if key not in varying]
    title = "Excess risk against the number of context examples"
    if fixed:
        title += "\n" + "; ".join(_words(key, results[key].iloc[0]) for key in fixed)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _legend(fig, axes, len(panels), results, marks)
    return fig


def grid_shape(panels: int) -> tuple[int, int]:
    """(rows, columns) for ``panels`` panels: at most one empty slot (it holds the legend), as square as possible."""
    best = None
    for cols in range(1, min(4, panels) + 1):
        rows = -(-panels // cols)
        empty = rows * cols - panels
        if empty <= 1:
            cost = (abs(rows - cols), -cols)
            if best is None or cost < best[0]:
                best = (cost, (rows, cols))
    return best[1]


def _words(key: str, value: str) -> str:
    return SIGNAL_WORDS.get(value, value) if key == "signal" else TUNING_WORDS.get(value, value)


def _draw_panel(ax: plt.Axes, cell: dict, frame: pd.DataFrame, varying: list[str]) -> set[str]:
    """One panel; returns the off-scale marks used (``"clipped"``, ``"diverged"``, ``"zero"``)."""
    r2 = signal_norm2(cell["signal"], int(cell["s"]))
    top = CEILING * r2
    lows = pd.concat([frame.risk_lo, frame.risk_mean])
    low_values = lows[np.isfinite(lows) & (lows > 0)]
    bottom = 0.5 * float(low_values.min()) if len(low_values) else top * 1e-4
    marks = set()
    for method in [m for m in STYLES if m in set(frame.method)]:
        line = frame[frame.method == method].sort_values("n")
        style = STYLES[method]
        finite = np.isfinite(line.risk_mean.to_numpy(float))
        ok = line[finite]
        shown = ok[(ok.risk_mean <= top) & (ok.risk_mean > 0)]
        err = np.vstack([(shown.risk_mean - shown.risk_lo.clip(lower=bottom)).clip(lower=0),
                         shown.risk_hi - shown.risk_mean])
        mfc = "none" if method == "gd" else style["color"]
        ax.plot(ok.n, ok.risk_mean.where(ok.risk_mean > 0, bottom), color=style["color"], ls=style["linestyle"],
                lw=1.3)
        ax.errorbar(shown.n, shown.risk_mean, yerr=err, color=style["color"], marker=style["marker"], ls="none",
                    ms=4, capsize=2, mfc=mfc)
        for n, value in zip(ok.n, ok.risk_mean):
            if value > top:
                ax.plot(n, top, "^", color=style["color"], ms=7, clip_on=False, zorder=5)
                ax.annotate(_power_of_ten(value), (n, top), xytext=(6, -2), textcoords="offset points",
                            fontsize=7, color=style["color"], va="top")
                marks.add("clipped")
        zero = ok.n[ok.risk_mean <= 0]
        if len(zero):
            ax.plot(zero, np.full(len(zero), bottom), "v", color=style["color"], ms=7, clip_on=False, zorder=5)
            marks.add("zero")
        if (~finite).any():
            ax.plot(line.n[~finite], np.full(int((~finite).sum()), top), "x", color=style["color"], ms=8,
                    mew=2, clip_on=False, zorder=5)
            marks.add("diverged")
    ax.axhline(r2, color="0.75", lw=0.9)
    ax.axvline(cell["d"], color="0.6", lw=0.8, ls=(0, (4, 3)))
    ax.annotate("n = d", (cell["d"], 0.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                textcoords="offset points", fontsize=7, color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    _log_ticks(ax, frame.n.min(), frame.n.max())
    ax.set_xlabel("context examples n")
    ax.set_ylabel(r"excess risk $\|\hat w - w^\star\|^2$")
    title = rf"$d = {cell['d']}$, $s = {cell['s']}$, $\sigma = {cell['sigma']:g}$"
    if varying:
        title += "".join("\n" + _words(key, cell[key]) for key in varying)
    ax.set_title(title, fontsize=9)
    return marks


def _power_of_ten(value: float) -> str:
    """``1.6e3`` as mathtext ``1.6 x 10^3``."""
    exponent = math.floor(math.log10(value))
    return rf"${value / 10**exponent:.1f} \times 10^{{{exponent}}}$"


def _log_ticks(ax: plt.Axes, n_min: float, n_max: float) -> None:
    """Plain integer n ticks at powers of 2 (of 4, 8, ... over a wide range); no labelled minor ticks."""
    octaves = math.log2(max(n_max / n_min, 2.0))
    ax.xaxis.set_major_locator(LogLocator(base=2.0 ** math.ceil(octaves / 6)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def _legend(fig: plt.Figure, axes: np.ndarray, panels: int, results: pd.DataFrame, marks: set[str]) -> None:
    """One legend: the methods in registry order, then the reference lines and off-scale marks used."""
    handles = [Line2D([], [], color=STYLES[m]["color"], marker=STYLES[m]["marker"], ls=STYLES[m]["linestyle"],
                      mfc="none" if m == "gd" else STYLES[m]["color"], label=STYLES[m]["label"])
               for m in STYLES if m in set(results.method)]
    handles.append(Line2D([], [], color="0.75", lw=0.9, label=r"predicting 0 (risk $E\|w^\star\|^2$)"))
    if "clipped" in marks:
        handles.append(Line2D([], [], color="0.3", marker="^", ls="none", label="off scale (value written)"))
    if "zero" in marks:
        handles.append(Line2D([], [], color="0.3", marker="v", ls="none", label="risk exactly 0 (exact recovery)"))
    if "diverged" in marks:
        handles.append(Line2D([], [], color="0.3", marker="x", mew=2, ls="none", label="diverged (infinite risk)"))
    if axes.size > panels:  # the empty slot of the grid
        slot = axes.flat[panels]
        slot.legend(handles=handles, loc="center", fontsize=8, frameon=False)
    elif axes.size == 1:
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    else:
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(handles)),
                   fontsize=8, frameon=False)
