"""Reference risks as functions of a problem setting: the bounds of :mod:`simulations.testing`.

A :class:`Bound` is a function ``setting -> float`` with a name that failure
messages print; a setting is anything with the attributes ``n, d, s, sigma,
signal`` (the sweep's :class:`simulations.spec.Setting`, which
:func:`simulations.testing.settings_in` generates). Bounds combine with numbers and
with each other, and the name follows::

    0.5 * oracle_ls                   # "0.5 * oracle_ls"
    4 * log_d * oracle_ls             # "4 * log(d) * oracle_ls"
    equivariant_floor - finite_size   # "(equivariant_floor - finite_size)"

Built-in bounds (``r2 = E||w*||^2`` of the signal law, ``gamma = d / n``):

=====================  =======  ===============================================================
bound                  kind     value
=====================  =======  ===============================================================
``oracle_ls``          exact    least squares on the true support, ``sigma^2 s / (n - s - 1)``
                                (``n >= s + 2``; :func:`theory.bounds.oracle_exact`)
``ols``                exact    min-norm least squares (``|n - d| >= 2``; :func:`theory.bounds.ols_exact`)
``equivariant_floor``  limit    optimally tuned ridge, Marchenko-Pastur limit: the limit of the
                                sweep's ridge at its ``theory`` lam and the floor of rotation-
                                equivariant methods (:func:`theory.bounds.equivariant_floor`)
``lasso_rate``         rate     ``sigma^2 s log(e d / s) / n``, no constant (multiply it by one)
``lasso_optimal_amp``  limit    optimally tuned Lasso, AMP state evolution (``sigma > 0``)
``bayes_amp``          limit    Bayes-optimal AMP (``sigma > 0``)
``mmse``               limit    the Bayes risk (replica formula; ``sigma > 0``)
``signal_energy``      exact    ``r2``, the risk of the estimate 0
``log_d``              factor   ``log d``
``finite_size``        slack    ``(r2 + sigma^2) / min(n, d)``, the order of a Marchenko-Pastur
                                limit's finite-size error
``ridge_limit(lam)``   limit    ridge at ``lam`` (a number or a function of the setting)
``gd_limit(steps)``    limit    ``steps`` GD steps of size ``fraction / (1 + sqrt(gamma))^2`` (default
                                ``fraction = 1``: the limit of the sweep's step ``1 / l_max``)
=====================  =======  ===============================================================

"limit" values are proportional limits (``n, d, s -> inf`` at fixed ratios):
a finite-size Monte Carlo differs from them by ``O(1 / min(n, d))``, which a
test states as slack (:mod:`simulations.testing`, ``docs/testing.md``). The
mathematics of each is in ``docs/theory.md``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

from solvers.signals import signal_norm2

from . import bounds
from .amp import bayes_risk_amp, lasso_optimal_risk_amp, mmse_replica
from .gradient_descent import gd_risk_limit
from .ridge import ridge_risk_limit

Rule = Callable[[Any], float]


@dataclass(frozen=True)
class Bound:
    """A named reference risk ``setting -> float``.

    Parameters
    ----------
    name : str
        What failure messages call it.
    function : callable (setting) -> float

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> half = Bound("half the noise", lambda st: st.sigma**2 / 2)
    >>> (2 * half)(SimpleNamespace(n=16, d=32, s=2, sigma=0.5, signal="gaussian"))
    0.25
    >>> 2 * half
    2 * half the noise
    """

    name: str
    function: Rule

    def __call__(self, setting: Any) -> float:
        return float(self.function(setting))

    def __repr__(self) -> str:
        return self.name

    def __mul__(self, other: Bound | float) -> Bound:
        other = as_bound(other)
        return Bound(f"{self.name} * {other.name}", lambda st: self(st) * other(st))

    def __rmul__(self, other: float) -> Bound:
        return as_bound(other) * self

    def __add__(self, other: Bound | float) -> Bound:
        other = as_bound(other)
        return Bound(f"({self.name} + {other.name})", lambda st: self(st) + other(st))

    def __radd__(self, other: float) -> Bound:
        return as_bound(other) + self

    def __sub__(self, other: Bound | float) -> Bound:
        other = as_bound(other)
        return Bound(f"({self.name} - {other.name})", lambda st: self(st) - other(st))


def as_bound(value: Bound | float | Rule) -> Bound:
    """A :class:`Bound` from a bound, a number (a constant) or a function of the setting."""
    if isinstance(value, Bound):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return Bound(f"{float(value):g}", lambda st: float(value))
    if callable(value):
        return Bound(getattr(value, "__name__", repr(value)), value)
    raise TypeError(f"a bound is a number or a function of the setting, got {value!r}")


def _r2(setting: Any) -> float:
    return signal_norm2(setting.signal, setting.s)


def _bound(function: Callable[..., Any]) -> Rule:
    """``setting -> function(n, d, s, signal_norm2=E||w*||^2, sigma=sigma)`` for the bounds of :mod:`theory.bounds`."""
    return lambda st: function(st.n, st.d, st.s, signal_norm2=_r2(st), sigma=st.sigma)


def _amp(function: Callable[..., Any]) -> Rule:
    def rule(setting: Any) -> float:
        value = function(setting.n, setting.d, setting.s, sigma=setting.sigma, signal=setting.signal)
        return float(getattr(value, "risk", value))
    return rule


def _value(rule: float | Rule, setting: Any) -> float:
    return float(rule(setting)) if callable(rule) else float(rule)


def _rule_name(rule: float | Rule) -> str:
    return getattr(rule, "__name__", repr(rule)) if callable(rule) else f"{rule:g}"


oracle_ls = Bound("oracle_ls", _bound(bounds.oracle_exact))
ols = Bound("ols", _bound(bounds.ols_exact))
equivariant_floor = Bound("equivariant_floor", _bound(bounds.equivariant_floor))
lasso_rate = Bound("lasso_rate", _bound(bounds.lasso_rate))
lasso_optimal_amp = Bound("lasso_optimal_amp", _amp(lasso_optimal_risk_amp))
bayes_amp = Bound("bayes_amp", _amp(bayes_risk_amp))
mmse = Bound("mmse", _amp(mmse_replica))
signal_energy = Bound("signal_energy", _r2)
log_d = Bound("log(d)", lambda st: math.log(st.d))
finite_size = Bound("finite_size", lambda st: (_r2(st) + st.sigma**2) / min(st.n, st.d))


def ridge_limit(lam: float | Rule) -> Bound:
    """Marchenko-Pastur limit of ridge at ``lam`` (:func:`theory.ridge.ridge_risk_limit`).

    Parameters
    ----------
    lam : float or callable (setting) -> float
        The penalty, e.g. the sweep's rule ``simulations.methods.METHODS["ridge"].theory``.
    """
    return Bound(f"ridge_limit({_rule_name(lam)})",
                 lambda st: ridge_risk_limit(st.d / st.n, signal_norm2=_r2(st), sigma=st.sigma, lam=_value(lam, st)))


def gd_limit(steps: float | Rule, fraction: float = 1.0) -> Bound:
    """Marchenko-Pastur limit of ``steps`` GD steps of size ``fraction / (1 + sqrt(d/n))^2``.

    ``1 / (1 + sqrt(d/n))^2`` is the limit of ``1 / l_max`` (the upper edge of
    the Marchenko-Pastur law), the step ``"auto"`` of ``solvers.gd`` and of
    the sweep (:func:`theory.gradient_descent.gd_risk_limit`).

    Parameters
    ----------
    steps : int or callable (setting) -> int
        E.g. the sweep's rule ``simulations.methods.METHODS["gd"].theory``.
    fraction : float
        The step as a fraction of ``1 / l_max``'s limit.
    """
    def rule(st: Any) -> float:
        step = fraction / (1.0 + math.sqrt(st.d / st.n)) ** 2
        return gd_risk_limit(st.d / st.n, signal_norm2=_r2(st), sigma=st.sigma, step_size=step,
                             steps=round(_value(steps, st)))
    suffix = "" if fraction == 1.0 else f", fraction={fraction:g}"
    return Bound(f"gd_limit({_rule_name(steps)}{suffix})", rule)
