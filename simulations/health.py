"""Health flags of a sweep's results, one printable line each.

A row of ``results.csv`` is flagged when its tuned hyperparameter sits on the
edge of the grid searched (the grid may be too small: the best value may lie
beyond it), when its iterative solver left instances unconverged at the
chosen value (Lasso), or when instances diverged (infinite risk). The sweep
prints these lines under its table; the same facts are the ``edge``,
``unconverged`` and ``diverged`` columns of the CSV.
"""

from __future__ import annotations

import math

import pandas as pd

#: Lines printed at most; the rest are counted in one closing line.
MAX_LINES = 20
#: What the sweep prints when :func:`health_lines` finds nothing.
HEALTHY = "health: no grid-edge choice, no unconverged or diverged instance"


def health_lines(results: pd.DataFrame, limit: int = MAX_LINES) -> list[str]:
    """One line per flagged (cell, method, flag), at most ``limit`` of them and then a count of the rest.

    Parameters
    ----------
    results : DataFrame
        Rows of a sweep's ``results.csv``; the flag columns ``edge``,
        ``unconverged`` and ``diverged`` are read when present.
    limit : int
        Number of flag lines shown before the remainder is summarised.

    Returns
    -------
    list of str
        Empty when nothing is flagged.
    """
    lines = []
    for _, row in results.sort_values(["method", "d", "s", "sigma", "n"]).iterrows():
        where = _cell(row)
        if bool(row.get("edge", False)):
            lines.append(f"grid edge: {where} chose {row['parameter']} = {row['hyperparameter']:.3g}, "
                         f"{_end(row)} of its grid (the best value may lie beyond it)")
        if _count(row, "unconverged"):
            lines.append(f"unconverged: {where}: {_count(row, 'unconverged')} of {int(row['trials'])} instances "
                         "did not reach the solver's tolerance at the chosen value")
        if _count(row, "diverged"):
            lines.append(f"diverged: {where}: {_count(row, 'diverged')} of {int(row['trials'])} instances have "
                         "infinite risk")
    if len(lines) > limit:
        rest = len(lines) - limit
        lines = lines[:limit] + [f"... and {rest} more (columns edge, unconverged, diverged of results.csv)"]
    return lines


def _cell(row: pd.Series) -> str:
    extra = "".join(f", {row[key]} {key}" for key in ("signal", "tuning") if key in row)
    return f"{row['method']} at n={row['n']}, d={row['d']}, s={row['s']}, sigma={row['sigma']:g}{extra}"


def _count(row: pd.Series, column: str) -> int:
    value = row.get(column, 0)
    return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def _end(row: pd.Series) -> str:
    """Which end of the method's grid the row's choice is: "the smallest value" or "the largest value"."""
    from .methods import METHODS
    from .spec import Setting
    from .tuning import TUNINGS

    setting = Setting(int(row["n"]), int(row["d"]), int(row["s"]), float(row["sigma"]), row.get("signal", "gaussian"))
    grid = TUNINGS[row.get("tuning", "oracle")].grid(METHODS[row["method"]], setting)
    return "the smallest value" if row["hyperparameter"] <= grid.min() else "the largest value"
