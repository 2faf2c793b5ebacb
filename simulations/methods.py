"""The estimators a sweep compares, each with its hyperparameter grid and theory value.

A :class:`Method` turns a batch of problems and a grid of hyperparameter
values into a path of estimates ``(G, trials, d)``, using the batched solvers.
Grids (used by the ``oracle`` and ``validation`` tuning modes):

=======  ===========  ==========================================================
method   parameter    grid / theory value (``r2 = E||w*||^2``)
=======  ===========  ==========================================================
ols      --           min-norm least squares, no tuning
oracle   --           least squares on the true support (the floor)
ridge    lam          40 values, log-spaced 1e-6 .. 1e2; theory ``sigma^2 d / (n r2)``
gd       steps        step ``1/l_max`` per instance, T log-spaced 1 .. 1e5 (40);
                      theory ``T = ceil((1 + sqrt(d/n))^2 / lam_theory)``, i.e. gradient-flow
                      time ``eta T ~ 1 / lam_theory`` (ridge <-> early stopping)
pto      steps        step ``1/l_max`` of the preprocessed covariance, T log-spaced
                      1 .. 1e8 (50, PtO needs many steps when ``r`` has a wide range);
                      theory: the GD rule (a heuristic: no tuning rule of the paper is
                      available to us)
bayes    --           the exact posterior mean (``solvers.bayes_posterior_mean``): knows s,
                      sigma and the signal law, so no tuning; the Bayes-optimal floor. Left
                      out of cells with sigma = 0 or more than 40 000 hypotheses
lasso    alpha        30 values log-spaced in ``[1e-3, 1] * sqrt(r2 + sigma^2)`` (the scale of
                      ``alpha_max = ||X^T y / n||_inf``); theory ``sigma sqrt(2 log d / n)``
                      (``solvers.lasso_theory_alpha``, c = 1); duality-gap tolerance 1e-8
                      (1e-5 in float32), 300 sweeps then at most 10^4 scikit-learn sweeps
                      per unconverged pair; what remains unconverged is counted
=======  ===========  ==========================================================
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import solvers
from .problems import signal_norm2

NO_PARAMETER = np.array([np.nan])
#: The sweep's cap on the posterior's enumeration (C(d, s), times 2^s for rademacher): about 1 s of CPU per
#: 2000 instances near the cap (d = 32, s = 4: 0.48 ms per instance, `python benchmarks/bayes.py`).
BAYES_MAX_HYPOTHESES = 40_000


@dataclass(frozen=True)
class Setting:
    """The parameters of a cell that tuning rules may look at (never w* itself)."""

    n: int
    d: int
    s: int
    sigma: float
    signal: str


Fit = Callable[[Any, Any, np.ndarray, Setting, Any], tuple[Any, Any]]


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
    """

    name: str
    parameter: str
    grid: Callable[[Setting], np.ndarray]
    theory: Callable[[Setting], float] | None
    fit: Fit
    applies: Callable[[Setting], bool] = lambda setting: True

    def grid_for(self, setting: Setting, tuning: str) -> np.ndarray:
        """The values to evaluate under a tuning mode (one value for ``theory``)."""
        if not self.parameter:
            return NO_PARAMETER
        if tuning == "theory":
            return np.array([self.theory(setting)])
        return self.grid(setting)

    def grid_id(self, setting: Setting, tuning: str) -> str:
        """Short hash of the values searched, so a store never mixes results of different grids."""
        values = self.grid_for(setting, tuning)
        return hashlib.sha1(np.ascontiguousarray(values, dtype=np.float64).tobytes()).hexdigest()[:10]


def ridge_theory_lambda(setting: Setting) -> float:
    """``lam = sigma^2 d / (n E||w*||^2)``, the optimal lam of the dense-signal limit."""
    return setting.sigma**2 * setting.d / (setting.n * signal_norm2(setting.signal, setting.s))


def early_stopping_theory_steps(setting: Setting) -> float:
    """``T = ceil((1 + sqrt(d/n))^2 / lam_theory)``: gradient-flow time ``1/lam`` at step ``1/l_max``.

    ``(1 + sqrt(d/n))^2`` is the Marchenko-Pastur upper edge, the limit of ``l_max``.
    With no noise (``lam = 0``) the rule asks for T = infinity; it is capped at 10^8.
    """
    lam = ridge_theory_lambda(setting)
    edge = (1 + math.sqrt(setting.d / setting.n)) ** 2
    return float(min(1e8, math.ceil(edge / lam))) if lam > 0 else 1e8


def _step_grid(largest: float, count: int) -> Callable[[Setting], np.ndarray]:
    return lambda setting: np.unique(np.round(np.geomspace(1, largest, count))).astype(float)


def lasso_grid(setting: Setting) -> np.ndarray:
    """30 alphas log-spaced over ``[1e-3, 1] * sqrt(E||w*||^2 + sigma^2)``."""
    scale = math.sqrt(signal_norm2(setting.signal, setting.s) + setting.sigma**2)
    return np.geomspace(1e-3, 1.0, 30) * scale


def lasso_theory(setting: Setting) -> float:
    return solvers.lasso_theory_alpha(setting.n, setting.d, setting.sigma)


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
    """The posterior mean is computable: sigma > 0 and at most ``BAYES_MAX_HYPOTHESES`` hypotheses."""
    return setting.sigma > 0 and solvers.bayes_hypotheses(setting.d, setting.s, setting.signal) <= BAYES_MAX_HYPOTHESES


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("ols", "", lambda s: NO_PARAMETER, None, _ols),
        Method("oracle", "", lambda s: NO_PARAMETER, None, _oracle),
        Method("ridge", "lam", lambda s: np.logspace(-6, 2, 40), ridge_theory_lambda, _ridge),
        Method("gd", "steps", _step_grid(1e5, 40), early_stopping_theory_steps, _gd),
        Method("pto", "steps", _step_grid(1e8, 50), early_stopping_theory_steps, _pto),
        Method("lasso", "alpha", lasso_grid, lasso_theory, _lasso),
        Method("bayes", "", lambda s: NO_PARAMETER, None, _bayes, bayes_applies),
    )
}


def get_methods(names: list[str]) -> list[Method]:
    """Look up methods by name; unknown names raise ``ValueError`` listing the known ones."""
    unknown = [name for name in names if name not in METHODS]
    if unknown:
        raise ValueError(f"methods: unknown {unknown}; choose from {sorted(METHODS)}")
    return [METHODS[name] for name in names]
