"""The sweep figure: fixed method styles, off-scale points, one legend, no empty panels."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from simulations.methods import METHODS
from simulations.plotting import CEILING, STYLES, grid_shape, plt, risk_vs_n_figure


def results(methods, ns=(8, 16, 32, 64), d=32, s=(4,), sigmas=(0.1,), blow_up=None):
    """A results table with made-up risks (method k at ``10^-k / n``); ``blow_up``: that method's risk at n = d."""
    rows = []
    for k, method in enumerate(methods):
        for n in ns:
            for s_value in s:
                for sigma in sigmas:
                    risk = 1e4 if method == blow_up and n == d else 10.0 ** -k / n
                    rows.append({"method": method, "n": n, "d": d, "s": s_value, "sigma": sigma,
                                 "signal": "gaussian", "tuning": "oracle", "risk_mean": risk,
                                 "risk_lo": 0.9 * risk, "risk_hi": 1.1 * risk})
    return pd.DataFrame(rows)


def legend_colours(fig):
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    legend = legends[0]
    return {text.get_text(): mcolors.to_hex(handle.get_color())
            for text, handle in zip(legend.get_texts(), legend.legend_handles)}


def test_styles_cover_the_method_registry():
    assert list(STYLES) == list(METHODS)
    assert len({style["color"] for style in STYLES.values()}) == len(STYLES)
    assert len({(style["marker"], style["linestyle"]) for style in STYLES.values()}) == len(STYLES)


@pytest.mark.parametrize("methods", [["pto"], ["lasso", "pto", "ols"], list(reversed(list(METHODS))),
                                     ["ridge", "gd", "bayes"]])
def test_a_method_keeps_its_colour_whatever_the_method_list(methods):
    fig = risk_vs_n_figure(results(methods).sample(frac=1.0, random_state=1))
    colours = legend_colours(fig)
    lines = {mcolors.to_hex(line.get_color()) for line in fig.axes[0].get_lines()}
    plt.close(fig)
    for method in methods:
        assert colours[STYLES[method]["label"]] == mcolors.to_hex(STYLES[method]["color"])
        assert mcolors.to_hex(STYLES[method]["color"]) in lines
    assert not {STYLES[m]["label"] for m in set(METHODS) - set(methods)} & set(colours)


def test_a_blow_up_is_marked_on_the_top_edge_not_scaled_to():
    fig = risk_vs_n_figure(results(["ols", "ridge"], blow_up="ols"))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert ax.get_ylim()[1] == pytest.approx(CEILING * 1.0)  # E||w*||^2 = 1 for the gaussian law
    assert r"$1.0 \times 10^{4}$" in texts and "n = d" in texts
    assert "off scale (value written)" in legend_colours(fig)


def test_a_zero_risk_and_a_negative_lower_limit_are_drawn_not_an_error():
    """Exact recovery (risk 0, as the Bayes mean of a sign signal in float32) and a normal-approximation
    interval below 0 (a few huge OLS risks) go on a log axis: a triangle on the bottom edge, a clipped bar."""
    frame = results(["ols", "bayes"])
    bayes, ols = frame.method == "bayes", frame.method == "ols"
    frame.loc[bayes & (frame.n == 64), ["risk_mean", "risk_lo", "risk_hi"]] = 0.0
    frame.loc[bayes & (frame.n == 32), ["risk_mean", "risk_lo", "risk_hi"]] = [9e-9, -8e-9, 2.6e-8]
    frame.loc[ols & (frame.n == 8), ["risk_lo"]] = -5.0
    fig = risk_vs_n_figure(frame)
    ax = fig.axes[0]
    bottom = ax.get_ylim()[0]
    zero_marks = [line for line in ax.get_lines() if line.get_marker() == "v"]
    plt.close(fig)
    assert len(zero_marks) == 1 and zero_marks[0].get_ydata()[0] == pytest.approx(bottom)
    assert 0 < bottom <= 9e-9
    assert "risk exactly 0 (exact recovery)" in legend_colours(fig)


@pytest.mark.parametrize("panels", range(1, 13))
def test_grids_leave_at_most_the_legend_slot_empty(panels):
    rows, cols = grid_shape(panels)
    assert 0 <= rows * cols - panels <= 1 and cols <= 4


def test_multi_panel_figure_has_one_legend_and_words_for_the_tuning():
    fig = risk_vs_n_figure(results(["ridge", "pto"], s=(1, 2, 4), sigmas=(0.1, 0.5)))
    assert len([ax for ax in fig.axes if ax.has_data()]) == 6
    legend_colours(fig)  # exactly one legend
    assert "oracle tuning" in fig._suptitle.get_text()
    fig.canvas.draw()
    visible = [(t.get_text(), t.get_position()[0]) for ax in fig.axes if ax.has_data() for t in ax.get_xticklabels()]
    limits = fig.axes[0].get_xlim()
    plt.close(fig)
    assert sorted({text for text, x in visible if limits[0] <= x <= limits[1]}, key=int) == ["8", "16", "32", "64"]
