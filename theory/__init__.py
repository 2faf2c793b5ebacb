"""Closed forms, deterministic equivalents, bounds and the results checker.

Exact finite-sample formulas (one GD step), Marchenko-Pastur limits of the
ridge, GD and gradient-flow risks with their optimal tuning, the reference
rates the Monte Carlo sweeps are compared with, the exact proportional limits
of the Lasso and Bayes risks from AMP state evolution, and :func:`check_results`.
All numeric functions broadcast over NumPy parameter arrays.

One calling convention throughout:

* The sizes come first and are the only positional arguments: ``n, d, s``
  for finite-size formulas, bounds and AMP limits, ``n, d`` for one GD step,
  ``gamma = d / n`` for the Marchenko-Pastur limits (:func:`mp_integrate`
  also takes its integrand first).
* Everything after the sizes is keyword-only, in this order: the signal
  strength ``signal_norm2`` (``||w*||^2``, where the formula needs it), the
  noise ``sigma``, the method's own parameter (``lam``, ``step_size`` and
  ``steps``, ``time``, ``alpha``, ``risk``, or the filter of
  :func:`filter_risk`), then options with defaults (``signal``, the law of
  the nonzero entries of the AMP limits; ``nodes``, ``max_steps``,
  ``max_time``).
* ``sigma`` is always the noise standard deviation (``y = <w*, x> + sigma xi``,
  ``xi ~ N(0, 1)``), never its variance; the formulas square it.
* Several results come back as named tuples: :class:`GDOptimum`,
  :class:`GradientFlowOptimum`, :class:`LassoOptimum` (risk first, then the
  optimal parameter), :class:`PtoTerms` and :class:`MPEdges`.

For example ``ridge_risk_limit(2.0, signal_norm2=1.0, sigma=0.5, lam=0.1)``
and ``pto_rate(256, 128, 4, signal_norm2=1.0, sigma=0.5).leakage``.

The named bounds of :mod:`theory.references` (``0.5 * oracle_ls``, ...) are
what :mod:`simulations.testing`, the property-test kit on the sweep's Monte
Carlo, asserts against.
"""

from .amp import (LassoOptimum, bayes_risk_amp, lasso_optimal_risk_amp, lasso_risk_amp, mmse_replica,
                  replica_potential)
from .bounds import (PtoTerms, equivariant_floor, equivariant_floor_regime, lasso_rate, lasso_regime, ols_exact,
                     ols_exact_regime, oracle_exact, oracle_exact_regime, pto_rate, pto_regime)
from .checker import CheckReport, check_results
from .fixed_point import FixedPointError
from .gradient_descent import (GDOptimum, GradientFlowOptimum, gd_optimal_steps, gd_risk_limit,
                               gradient_flow_optimal_time, gradient_flow_risk_limit)
from .marchenko_pastur import MPEdges, filter_risk, mp_edges, mp_integrate
from .one_step import one_step_gd_optimal_step, one_step_gd_risk
from .ridge import effective_regularization, ridge_optimal_lambda, ridge_optimal_risk, ridge_risk_limit

__all__ = [
    "CheckReport",
    "FixedPointError",
    "GDOptimum",
    "GradientFlowOptimum",
    "LassoOptimum",
    "MPEdges",
    "PtoTerms",
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
