"""Closed forms, deterministic equivalents, bounds and the results checker.

Exact finite-sample formulas (one GD step), Marchenko-Pastur limits of the
ridge, GD and gradient-flow risks with their optimal tuning, the reference
rates the Monte Carlo sweeps are compared with, the exact proportional limits
of the Lasso and Bayes risks from AMP state evolution, and :func:`check_results`.
All numeric functions broadcast over NumPy parameter arrays.

Property tests of bounds over regimes, on the sweep's Monte Carlo, are
:mod:`theory.testing` (with the named bounds of :mod:`theory.references`),
imported on its own: its strategies need hypothesis and its Monte Carlo is
the sweep's (:mod:`simulations`).
"""

from .amp import (LassoOptimum, bayes_risk_amp, lasso_optimal_risk_amp, lasso_risk_amp, mmse_replica,
                  replica_potential)
from .bounds import (equivariant_floor, equivariant_floor_regime, lasso_rate, lasso_regime, ols_exact,
                     ols_exact_regime, oracle_exact, oracle_exact_regime, pto_rate, pto_regime)
from .checker import CheckReport, check_results
from .fixed_point import FixedPointError
from .gradient_descent import (gd_optimal_steps, gd_risk_limit, gradient_flow_optimal_time,
                               gradient_flow_risk_limit)
from .marchenko_pastur import filter_risk, mp_edges, mp_integrate
from .one_step import one_step_gd_optimal_step, one_step_gd_risk
from .ridge import effective_regularization, ridge_optimal_lambda, ridge_optimal_risk, ridge_risk_limit

__all__ = [
    "CheckReport",
    "FixedPointError",
    "LassoOptimum",
    "bayes_risk_amp",
    "check_results",
    "effective_regularization",
    "equivariant_floor",
    "equivariant_floor_regime",
    "filter_risk",
    "gd_optimal_steps",
    "gd_risk_limit",
    "gradient_flow_optimal_time",
    "gradient_flow_risk_limit",
    "lasso_optimal_risk_amp",
    "lasso_rate",
    "lasso_regime",
    "lasso_risk_amp",
    "mp_edges",
    "mmse_replica",
    "mp_integrate",
    "ols_exact",
    "ols_exact_regime",
    "one_step_gd_optimal_step",
    "one_step_gd_risk",
    "oracle_exact",
    "oracle_exact_regime",
    "pto_rate",
    "pto_regime",
    "replica_potential",
    "ridge_optimal_lambda",
    "ridge_optimal_risk",
    "ridge_risk_limit",
]
