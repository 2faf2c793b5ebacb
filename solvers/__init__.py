"""Batched estimators for in-context sparse linear regression (NumPy and CuPy).

Every solver takes a batch of problems ``X`` (trials, n, d), ``y`` (trials, n)
(or a single problem ``(n, d)``, ``(n,)``) and returns estimates of ``w*`` on
the same backend as its input. Hyperparameters given as 1-D arrays return the
whole path with a leading path axis.
"""

from .backend import cupy_available, free_memory, release_memory, resolve_backend, to_backend, to_numpy
from .gradient_descent import gd, gd_iterative
from .lasso import LassoConvergenceWarning, LassoInfo, lasso, lasso_alpha_max, lasso_theory_alpha
from .bayes import bayes_hypotheses, bayes_posterior_mean
from .least_squares import ols, oracle_support
from .pto import preprocess, pto, pto_iterative
from .ridge import ridge
from .spectral import Spectrum

__all__ = [
    "LassoConvergenceWarning",
    "LassoInfo",
    "Spectrum",
    "bayes_hypotheses",
    "bayes_posterior_mean",
    "cupy_available",
    "free_memory",
    "gd",
    "gd_iterative",
    "lasso",
    "lasso_alpha_max",
    "lasso_theory_alpha",
    "ols",
    "oracle_support",
    "preprocess",
    "pto",
    "pto_iterative",
    "release_memory",
    "resolve_backend",
    "ridge",
    "to_backend",
    "to_numpy",
]
