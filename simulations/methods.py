"""The estimators a sweep compares, each with its hyperparameter grid, theory value and cost.

A :class:`Method` turns a batch of problems and a grid of hyperparameter
values into a path of estimates ``(G, trials, d)``, using the batched
solvers. :data:`METHODS` holds them; their grids are the module constants
below (searched by the ``oracle`` and ``validation`` tuning modes, see
:mod:`simulations.tuning_modes`), and :func:`grid_table` renders them for
docs/simulations.md. Adding a method is one entry of :data:`METHODS` (plus
its plotting style in :data:`simulations.plotting.STYLES`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import solvers
from solvers.bayes import SIGNAL_LAWS as BAYES_SIGNALS
from .spec import Setting

NO_PARAMETER = np.array([np.nan])
#: The sweep's cap on the posterior's enumeration (C(d, s), times 2^s for rademacher): about 1 s of CPU per
#: 2000 instances near the cap (d = 32, s = 4: 0.48 ms per instance, `python benchmarks/bayes.py`).
BAYES_MAX_HYPOTHESES = 40_000
#: Ridge penalties searched: 40 values log-spaced over [1e-6, 1e2].
RIDGE_LAMBDAS = np.logspace(-6, 2, 40)
#: Steps searched by GD (step ``1/l_max``): unique integers of 40 values log-spaced over [1, 1e5].
GD_STEPS = np.unique(np.round(np.geomspace(1, 1e5, 40))).astype(float)
#: Steps searched by PtO (step ``1/l_max`` of the preprocessed covariance): 50 values over [1, 1e8]
#: (PtO needs many steps when ``r`` has a wide range).
PTO_STEPS = np.unique(np.round(np.geomspace(1, 1e8, 50))).astype(float)
#: Lasso alphas searched, in units of ``sqrt(E||w*||^2 + sigma^2)`` (the scale of ``alpha_max``): 30 log-spaced.
LASSO_ALPHA_FRACTIONS = np.geomspace(1e-3, 1.0, 30)
#: Seconds per hypothesis of the Bayes posterior (the cost model of :attr:`Method.cost`).
BAYES_SECONDS_PER_HYPOTHESIS = 6e-8

Fit = Callable[[Any, Any, np.ndarray, Setting, Any], tuple[Any, Any]]
#: ``cost(n, d, s, signal)``: rough seconds per instance on one CPU core, for arrays of n, d, s (float64).
Cost = Callable[[np.ndarray, np.ndarray, np.ndarray, str], np.ndarray]


@dataclass(frozen=True)
class Method:
    """An estimator in a sweep.

    Attributes
    ----------
    name : str
    parameter : str
        Name of the tuned hyperparameter ("" when there is none).
    grid : callable (Setting) -> ndarray (G,)
        Values searched by ``oracle`` and ``validation`` tuning.
    theory : callable (Setting) -> float, or None
        The prescribed value of ``theory`` tuning.
    fit : callable (X, y, grid, setting, support) -> (W, converged)
        ``W`` (G, trials, d) estimates, on the backend of ``X``; ``converged``
        (G, trials) host bool ndarray, or None.
    applies : callable (Setting) -> bool
        Whether the method can run on a setting (the sweep leaves it out of
        the cells where it cannot); default: everywhere.
    cost : callable (n, d, s, signal) -> ndarray
        Rough seconds per instance on one CPU core (float64; fitted to timings
        at d <= 128), for :func:`simulations.sweep.estimate_seconds`.
    grid_text, theory_text : str
        The grid and the theory value in words, for :func:`grid_table`.
    """

    name: str
    parameter: str
    grid: Callable[[Setting], np.ndarray]
    theory: Callable[[Setting], float] | None
    fit: Fit
    applies: Callable[[Setting], bool] = lambda setting: True
    cost: Cost = lambda n, d, s, signal: _spectral_seconds(n, d)
    grid_text: str = "--"
    theory_text: str = "--"


def _spectral_seconds(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Seconds per instance of one spectral method (eigendecomposition of the smaller Gram matrix)."""
    k = np.minimum(n, d)
    return 2e-5 + 1.5e-9 * k**3 + 2e-10 * n * d * k


def _bayes_seconds(n: np.ndarray, d: np.ndarray, s: np.ndarray, signal: str) -> np.ndarray:
    """Seconds per instance of the posterior: per hypothesis enumerated, zero where the sweep leaves it out."""
    from scipy.special import comb

    hypotheses = comb(d, s) * (2.0**s if signal == "rademacher" else 1.0)
    return np.where(hypotheses <= BAYES_MAX_HYPOTHESES, BAYES_SECONDS_PER_HYPOTHESIS * hypotheses, 0.0)


def ridge_theory_lambda(setting: Setting) -> float:
    """``lam = sigma^2 d / (n E||w*||^2)``, the optimal lam of the dense-signal limit."""
    return setting.sigma**2 * setting.d / (setting.n * setting.norm2)


def early_stopping_theory_steps(setting: Setting) -> float:
    """``T = ceil((1 + sqrt(d/n))^2 / lam_theory)``: gradient-flow time ``1/lam`` at step ``1/l_max``.

    ``(1 + sqrt(d/n))^2`` is the Marchenko-Pastur upper edge, the limit of ``l_max``.
    With no noise (``lam = 0``) the rule asks for T = infinity; it is capped at 10^8.
    """
    lam = ridge_theory_lambda(setting)
    edge = (1 + math.sqrt(setting.d / setting.n)) ** 2
    return float(min(1e8, math.ceil(edge / lam))) if lam > 0 else 1e8


def lasso_grid(setting: Setting) -> np.ndarray:
    """:data:`LASSO_ALPHA_FRACTIONS` times ``sqrt(E||w*||^2 + sigma^2)``."""
    return LASSO_ALPHA_FRACTIONS * math.sqrt(setting.norm2 + setting.sigma**2)


def lasso_theory(setting: Setting) -> float:
    return solvers.lasso_theory_alpha(setting.n, setting.d, setting.sigma)


def _constant(values: np.ndarray) -> Callable[[Setting], np.ndarray]:
    """A grid that is the same at every setting (a fresh copy each call)."""
    return lambda setting: values.copy()


def _ols(X, y, grid, setting, support):
    return solvers.ols(X, y)[None, ...], None


def _oracle(X, y, grid, setting, support):
    return solvers.oracle_support(X, y, support)[None, ...], None


def _ridge(X, y, grid, setting, support):
    return solvers.ridge(X, y, grid), None


def _gd(X, y, grid, setting, support):
    return solvers.gd(X, y, "auto", grid.astype(np.int64)), None


def _pto(X, y, grid, setting, support):
    return solvers.pto(X, y, "auto", grid.astype(np.int64)), None


def _lasso(X, y, grid, setting, support):
    with warnings.catch_warnings():  # non-convergence is counted in the `unconverged` column
        warnings.simplefilter("ignore", solvers.LassoConvergenceWarning)
        # default tol: 1e-8 in float64, 1e-5 in float32 (which cannot certify smaller gaps)
        W, info = solvers.lasso(X, y, grid, max_iter=300, finish_max_iter=10_000, return_info=True)
    return W, info.converged


def _bayes(X, y, grid, setting, support):
    return solvers.bayes_posterior_mean(X, y, setting.s, setting.sigma, setting.signal)[None, ...], None


def bayes_applies(setting: Setting) -> bool:
    """The posterior mean is computable: a law it knows, sigma > 0 and at most ``BAYES_MAX_HYPOTHESES`` hypotheses."""
    return (setting.signal in BAYES_SIGNALS and setting.sigma > 0
            and solvers.bayes_hypotheses(setting.d, setting.s, setting.signal) <= BAYES_MAX_HYPOTHESES)


_no_grid = _constant(NO_PARAMETER)

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("ols", "", _no_grid, None, _ols, grid_text="min-norm least squares, no tuning"),
        Method("oracle", "", _no_grid, None, _oracle, cost=lambda n, d, s, signal: 2e-5 + 1e-10 * n * d,
               grid_text="least squares on the true support (the floor)"),
        Method("ridge", "lam", _constant(RIDGE_LAMBDAS), ridge_theory_lambda, _ridge,
               grid_text="40 values log-spaced in [1e-6, 1e2]",
               theory_text="`sigma^2 d / (n r2)` (optimal in the dense proportional limit, [math.md](math.md) 4c)"),
        Method("gd", "steps", _constant(GD_STEPS), early_stopping_theory_steps, _gd,
               grid_text="step `1/l_max`; T log-spaced in [1, 1e5] (40 values, unique integers)",
               theory_text="`T = ceil((1 + sqrt(d/n))^2 / lam_theory)`: gradient-flow time `eta T ~ 1/lam` "
                           "(early stopping <-> ridge), capped at 1e8"),
        Method("pto", "steps", _constant(PTO_STEPS), early_stopping_theory_steps, _pto,
               grid_text="step `1/l_max` of `X~^T X~/n`; T log-spaced in [1, 1e8] (50 values, unique integers)",
               theory_text="the GD rule -- our heuristic, the paper's tuning rule is not available to us"),
        Method("lasso", "alpha", lasso_grid, lasso_theory, _lasso,
               cost=lambda n, d, s, signal: 5e-4 * np.maximum(1.0, d / n) + 5 * _spectral_seconds(n, d),
               grid_text="30 values log-spaced in `[1e-3, 1] sqrt(r2 + sigma^2)` (the scale of `alpha_max`); "
                         "duality-gap tolerance 1e-8 (1e-5 in float32), 300 sweeps then at most 10^4 "
                         "scikit-learn sweeps per unconverged pair, the rest counted as `unconverged`",
               theory_text="`c sigma sqrt(2 log d / n)`, c = 1 (`solvers.lasso_theory_alpha`, see [lasso.md](lasso.md))"),
        Method("bayes", "", _no_grid, None, _bayes, bayes_applies, _bayes_seconds,
               grid_text="the exact posterior mean (`solvers.bayes_posterior_mean`): knows s, sigma and the "
                         "signal law, so no tuning; the Bayes-optimal floor. Left out of cells with sigma = 0 or "
                         f"more than {BAYES_MAX_HYPOTHESES} hypotheses"),
    )
}


def get_methods(names: list[str]) -> list[Method]:
    """Look up methods by name; unknown names (or none) raise ``ValueError`` listing the known ones."""
    unknown = [name for name in names if name not in METHODS]
    if unknown or not names:
        raise ValueError(f"methods: unknown {unknown}; choose from {', '.join(METHODS)}")
    return [METHODS[name] for name in names]


def grid_table() -> str:
    """The methods' grids and theory values as a Markdown table (docs/simulations.md; ``r2 = E||w*||^2``)."""
    lines = ["| method | parameter | oracle/validation grid | theory value (`r2 = E||w*||^2`) |", "|---|---|---|---|"]
    for m in METHODS.values():
        lines.append(f"| {m.name} | {f'`{m.parameter}`' if m.parameter else '--'} | {m.grid_text} | {m.theory_text} |")
    return "\n".join(lines)
