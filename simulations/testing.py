"""Property tests of risk bounds, the way ``numpy.testing`` tests arrays.

A conjectured bound ("PtO beats ridge whenever n <= d and 8 s <= d") becomes
a test in five lines::

    from hypothesis import given
    from simulations.testing import assert_risk_ratio_below, monte_carlo_settings, settings_in

    @monte_carlo_settings()
    @given(settings_in(n=(8, 32), d=(32, 64), s=(1, 4), where=lambda n, d, s, sigma: (n <= d) & (8 * s <= d)))
    def test_pto_beats_ridge(setting):
        assert_risk_ratio_below("pto", "ridge", 1.0, setting, trials=200)

- :func:`settings_in` -- a hypothesis strategy of problem settings inside a
  regime, shrinking towards small ones;
- :func:`assert_risk_below`, :func:`assert_risk_above` -- the Monte Carlo risk
  of a method against a bound (a number, a function of the setting, or a
  built-in :class:`~theory.references.Bound` such as ``0.5 * oracle_ls``);
- :func:`assert_risk_ratio_below` -- ``risk(a) / risk(b)`` against a ratio, on
  the same problems (paired);
- :func:`fixed` -- a method at a fixed hyperparameter;
- :func:`monte_carlo_settings` -- the hypothesis settings the decision rule
  below assumes (derandomised).

**The Monte Carlo** is the sweep's: problems from
:func:`simulations.problems.sample_problems` (instance ``i`` of a setting is a
function of ``(seed, n, d, s, signal, i)`` only) and each method tuned by
:class:`simulations.tuning.Tuner` with the method's grid and rule from
:mod:`simulations.methods`, so an assertion sees the numbers
``sparse-icl sweep`` writes for that cell (same risk, standard error and
hyperparameter; tested against :func:`simulations.sweep.run_cell`). Oracle
tuning picks the hyperparameter on the instances it then reports, which biases
the risk slightly downwards; assertions of lower bounds on oracle-tuned
methods should allow for that, or use ``tuning="theory"`` or :func:`fixed`.

**The decision.** With ``m`` trials, mean risk ``R`` and standard error
``se``, ``assert_risk_below`` fails when the one-sided ``1 - level`` lower
confidence limit exceeds the bound,

.. math:: R - t_{1-\\text{level}, m-1}\\, \\text{se} > \\text{bound},

so a method whose risk equals the bound fails with probability about
``level``. That is the normal approximation: excess risks are right-skewed,
which makes upper-bound tests conservative and lets lower-bound tests
(:func:`assert_risk_above`) reject true bounds more often than ``level`` when
the risk is heavy-tailed (measured rates in ``docs/testing.md``).
``assert_risk_ratio_below`` tests ``E a <= r E b`` with the paired
differences ``D_i = a_i - r b_i``: it fails when
``mean(D) > t_{1-level, m-1} sd(D) / sqrt(m)``, and reports the Fieller lower
confidence limit of the ratio (the smallest ``r`` this test accepts).

**False alarms.** ``level`` is per assertion. A hypothesis test that runs
``k`` examples of a true bound fails somewhere with probability at most
``k * level`` (the union bound; a bound with slack much less). With
:func:`monte_carlo_settings` the examples are derandomised and every
setting's Monte Carlo is seeded by the setting, so a test's verdict is the
same on every run and machine: that probability is paid once, when the test
is written (or when its examples, seeds or methods change), never as a flaky
red in CI. The default ``level = 1e-4`` with the default 10 examples keeps it
near 0.1%; a failure reproduces exactly from the setting and seed the
message prints.

**Layering.** :mod:`theory` sits below :mod:`simulations` (the sweep imports
the theory; the theory's functions take plain numbers), but this kit runs the
sweep's Monte Carlo. It therefore imports :mod:`simulations` inside its
functions, never at import time, and ``import theory`` does not import it (or
hypothesis, which only :func:`settings_in` and :func:`monte_carlo_settings`
need: ``pip install sparse-icl[test]``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from scipy import stats

from theory.references import (Bound, as_bound, bayes_amp, equivariant_floor, finite_size, gd_limit,
                               lasso_optimal_amp, lasso_rate, log_d, mmse, ols, oracle_ls, ridge_limit,
                               signal_energy)

from .methods import METHODS, Method, get_methods
from .problems import SIGNALS, sample_problems
from .spec import Setting
from .sweep import Cell, auto_chunk
from .tuning import Tuner

__all__ = [
    "Bound", "Check", "Estimate", "assert_risk_above", "assert_risk_below", "assert_risk_ratio_below",
    "bayes_amp", "equivariant_floor", "finite_size", "fixed", "gd_limit", "lasso_optimal_amp", "lasso_rate",
    "log_d", "mmse", "monte_carlo_settings", "ols", "oracle_ls", "ridge_limit", "settings_in", "signal_energy",
]

#: Default one-sided level of an assertion (see the module docstring).
LEVEL = 1e-4
#: Default Monte Carlo size of an assertion.
TRIALS = 1000
#: The most (n, d, s) combinations :func:`settings_in` enumerates.
MAX_BOX = 1_000_000
#: Decimals of a generated sigma (readable settings).
SIGMA_DECIMALS = 3

Where = Callable[[Any, Any, Any, Any], Any]
Range = int | tuple[int, int] | Sequence[int]


# --------------------------------------------------------------------------------------- settings

def _integers(name: str, spec: Range) -> np.ndarray:
    """Allowed values of n, d or s: a number, an inclusive ``(lo, hi)`` tuple, or a list of values."""
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ValueError(f"{name}: a range is (lo, hi), got {spec!r}")
        values = np.arange(spec[0], spec[1] + 1) if all(_is_int(v) for v in spec) else None
    elif _is_int(spec):
        values = np.array([spec])
    else:
        values = np.array(sorted(set(spec))) if all(_is_int(v) for v in spec) else None
    if values is None or values.size == 0 or values.min() < 1:
        raise ValueError(f"{name} must be an integer >= 1, an inclusive range (lo, hi) of them or a list, got {spec!r}")
    return values.astype(np.int64)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _sigma_values(spec: float | tuple[float, float] | Sequence[float]) -> tuple[list[float], bool]:
    """``(values, continuous)``: a range ``(lo, hi)`` (continuous) or the listed values."""
    values = list(spec) if isinstance(spec, (tuple, list)) else [spec]
    if not values or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                             for v in values):
        raise ValueError(f"sigma must be a number >= 0, a range (lo, hi) or a list of them, got {spec!r}")
    if isinstance(spec, tuple):
        if len(values) != 2 or values[0] > values[1]:
            raise ValueError(f"sigma: a range is (lo, hi) with lo <= hi, got {spec!r}")
        return [float(v) for v in values], values[0] < values[1]
    return sorted(float(v) for v in set(values)), False


def _feasible(ns: np.ndarray, ds: np.ndarray, ss: np.ndarray, sigma: float, where: Where | None) -> np.ndarray:
    """Boolean ``(n, d, s)`` array: ``s <= d`` and ``where`` (called on arrays, else element by element)."""
    N, D, S = np.meshgrid(ns, ds, ss, indexing="ij")
    ok = S <= D
    if where is not None:
        try:
            inside = np.broadcast_to(np.asarray(where(N, D, S, sigma), dtype=bool), N.shape)
        except (TypeError, ValueError):  # `and`, math.log, ...: not vectorisable
            inside = np.vectorize(lambda *a: bool(where(*a)), otypes=[bool])(N, D, S, sigma)
        ok = ok & inside
    return ok


def settings_in(n: Range = (8, 64), d: Range = (8, 64), s: Range = (1, 8),
                sigma: float | tuple[float, float] | Sequence[float] = (0.1, 1.0),
                signal: str | Sequence[str] = "gaussian", where: Where | None = None):
    """A hypothesis strategy of problem settings inside a regime.

    Draws the signal law, then ``sigma``, then ``d``, ``n`` and ``s`` each from
    the values that still admit a setting of the regime, so every example
    satisfies ``s <= d`` and ``where`` (nothing is filtered after the fact),
    and each coordinate shrinks towards its smallest allowed value (sigma
    towards simple numbers with at most 3 decimals).

    Parameters
    ----------
    n, d, s : int, (lo, hi) or list of int
        A value, an inclusive range or the allowed values.
    sigma : float, (lo, hi) or list of float
        Noise level: a value, a range or the allowed values.
    signal : str or list of str
        Signal law(s), see :func:`simulations.problems.sample_problems`.
    where : callable (n, d, s, sigma) -> bool, optional
        The regime. Called once on NumPy arrays of all ``(n, d, s)`` combinations
        (write ``&``, ``|``, ``np.log``), else element by element.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of simulations.spec.Setting
        Frozen dataclasses with attributes ``n, d, s, sigma, signal``.

    Raises
    ------
    ValueError
        Bad ranges, more than :data:`MAX_BOX` combinations, or an empty
        regime (checked at ``sigma``'s ends and 7 points between).

    Examples
    --------
    >>> from hypothesis import find
    >>> find(settings_in(n=(4, 64), d=(8, 64), s=(1, 8), where=lambda n, d, s, sigma: 8 * s <= d), lambda st: True)
    Setting(n=4, d=8, s=1, sigma=1.0, signal='gaussian')
    """
    from hypothesis import assume
    from hypothesis import strategies as st


    ns, ds, ss = _integers("n", n), _integers("d", d), _integers("s", s)
    if ns.size * ds.size * ss.size > MAX_BOX:
        raise ValueError(f"settings_in enumerates the (n, d, s) box, here {ns.size * ds.size * ss.size} "
                         f"combinations, above {MAX_BOX}: narrow the ranges or pass lists of values")
    sigmas, continuous = _sigma_values(sigma)
    signals = [signal] if isinstance(signal, str) else list(signal)
    if not signals or any(g not in SIGNALS for g in signals):
        raise ValueError(f"signal: choose from {SIGNALS}, got {signal!r}")
    cache: dict[float, np.ndarray] = {}

    def feasible(value: float) -> np.ndarray:
        if value not in cache:
            cache[value] = _feasible(ns, ds, ss, value, where)
        return cache[value]

    probes = np.linspace(sigmas[0], sigmas[1], 9) if continuous else sigmas
    if not any(feasible(float(v)).any() for v in probes):
        raise ValueError("no setting of the ranges satisfies s <= d and `where` (probed at sigma = "
                         f"{', '.join(f'{v:g}' for v in probes)})")
    lo, hi = sigmas[0], sigmas[-1]
    sigma_strategy = (st.floats(lo, hi).map(lambda v: min(hi, max(lo, round(v, SIGMA_DECIMALS))))
                      if continuous else st.sampled_from(sigmas))

    @st.composite
    def draw(data: Any) -> Setting:
        law = data(st.sampled_from(signals))
        noise = data(sigma_strategy)
        ok = feasible(noise)
        assume(ok.any())
        j = data(st.sampled_from(np.flatnonzero(ok.any(axis=(0, 2))).tolist()))
        i = data(st.sampled_from(np.flatnonzero(ok[:, j, :].any(axis=1)).tolist()))
        k = data(st.sampled_from(np.flatnonzero(ok[i, j]).tolist()))
        return Setting(int(ns[i]), int(ds[j]), int(ss[k]), float(noise), law)

    return draw()


def monte_carlo_settings(max_examples: int = 10, **kwargs: Any):
    """Hypothesis settings for Monte Carlo properties: derandomised, no deadline, no database.

    Derandomised examples and per-setting seeds make a verdict the same on
    every run (the false-alarm discipline of the module docstring);
    ``max_examples`` times the assertions' ``level`` bounds the chance that a
    true bound fails. Other keyword arguments go to ``hypothesis.settings``.

    Examples
    --------
    >>> monte_carlo_settings(max_examples=5).derandomize
    True
    """
    from hypothesis import HealthCheck, settings

    options = dict(max_examples=max_examples, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
    return settings(**{**options, **kwargs})


# --------------------------------------------------------------------------------------- methods

def fixed(method: str, value: float | Callable[[Setting], float]) -> Method:
    """The sweep's ``method`` with its hyperparameter set to ``value`` under every tuning mode.

    Parameters
    ----------
    method : str
        A method of :data:`simulations.methods.METHODS` with a hyperparameter.
    value : float or callable (setting) -> float
        The hyperparameter (lam, steps or alpha), or a rule giving it.

    Examples
    --------
    >>> fixed("ridge", 0.3).name
    'ridge[lam=0.3]'
    """
    base = get_methods([method])[0]
    if not base.parameter:
        raise ValueError(f"{method} has no hyperparameter; methods with one: "
                         f"{sorted(m for m, spec in METHODS.items() if spec.parameter)}")
    rule = value if callable(value) else (lambda setting: float(value))
    label = getattr(value, "__name__", "rule") if callable(value) else f"{float(value):g}"
    return dataclasses.replace(base, name=f"{method}[{base.parameter}={label}]",
                               grid=lambda setting: np.array([float(rule(setting))]), theory=rule)


def _method(method: str | Method) -> Method:
    return method if isinstance(method, Method) else get_methods([method])[0]


def _setting(setting: Any) -> Setting:
    """The sweep's (hashable) :class:`simulations.spec.Setting` of anything with ``n, d, s, sigma, signal``."""

    return Setting(int(setting.n), int(setting.d), int(setting.s), float(setting.sigma), str(setting.signal))


@functools.lru_cache(maxsize=32)
def _tuned(method: Method, setting: Setting, trials: int, seed: int, tuning: str) -> Tuner:
    """The sweep's evaluation of one method on a cell (:func:`simulations.sweep.run_cell`), tuner kept.

    The problems are those of the cell, in chunks of the sweep's size, so two
    methods evaluated at the same setting and seed see the same instances
    (the paired test), and the tuner holds their per-instance risks. A pure
    function of its arguments, cached: the two sides of a two-sided claim
    cost one Monte Carlo.
    """
    if not _is_int(trials) or trials < 2:
        raise ValueError(f"trials must be an integer >= 2 (a standard error needs two), got {trials!r}")
    if not method.applies(setting):
        raise ValueError(f"{method.name} does not apply at {setting!r}")
    tuner = Tuner(method, tuning, setting)
    cell = Cell(setting.n, setting.d, setting.s, setting.sigma, setting.signal, trials, seed, tuning, "numpy")
    chunk = auto_chunk(cell)
    for offset in range(0, trials, chunk):
        problems = sample_problems(setting.n, setting.d, setting.s, setting.sigma, min(chunk, trials - offset),
                                   seed=seed, signal=setting.signal, offset=offset)
        tuner.keep(tuner.evaluate(problems))
    return tuner


# --------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Estimate:
    """One method's Monte Carlo risk at a setting, as the sweep reports it.

    Attributes
    ----------
    method, tuning : str
        ``tuning`` is ``"fixed"`` for a method of :func:`fixed` (under oracle or validation tuning).
    trials, seed : int
    risk, sem : float
        Mean excess risk ``||w_hat - w*||^2`` over the trials and its standard error.
    parameter : str
        Name of the hyperparameter ("" when there is none).
    hyperparameter : float
        The chosen value (the median choice under validation tuning).
    edge : bool
        Whether it is an end of the method's grid (then the grid is too small).
    unconverged, diverged : int
        Instances whose solver did not converge / whose risk is infinite.
    """
    method: str
    tuning: str
    trials: int
    seed: int
    risk: float
    sem: float
    parameter: str
    hyperparameter: float
    edge: bool
    unconverged: int
    diverged: int

    @classmethod
    def of(cls, tuner: Tuner, trials: int, seed: int) -> Estimate:
        """The tuner's row; ``tuning`` is ``"fixed"`` for a one-value grid outside ``theory`` tuning."""
        row = tuner.result()
        tuning = tuner.tuning if tuner.grid.size > 1 or tuner.tuning == "theory" else "fixed"
        return cls(tuner.method.name, tuning, trials, seed, row["risk_mean"], row["risk_sem"],
                   row["parameter"], row["hyperparameter"], row["edge"], row["unconverged"], row["diverged"])

    def __str__(self) -> str:
        text = f"{self.method}: risk {self.risk:.5g} +- {self.sem:.2g} (SE; {self.trials} trials, seed {self.seed})"
        if self.parameter:
            text += f", {self.tuning} tuning, {self.parameter} = {self.hyperparameter:.4g}"
            text += " (an end of the grid)" if self.edge else ""
        text += f", {self.diverged} diverged" if self.diverged else ""
        return text + (f", {self.unconverged} unconverged" if self.unconverged else "")


@dataclass(frozen=True)
class Check:
    """The outcome of an assertion; its string is the failure message.

    Attributes
    ----------
    claim : str
        E.g. ``"risk(lasso) <= 0.5 * oracle_ls"``.
    setting : Setting
    value : float
        The estimated risk or ratio.
    limit : float
        Its one-sided ``1 - level`` confidence limit (lower for ``<=`` claims, upper for ``>=``).
    bound : float
        The bound's value at the setting.
    level : float
    holds : bool
        False when the claim is rejected at ``level``.
    estimates : tuple of Estimate
    """
    claim: str
    setting: Any
    value: float
    limit: float
    bound: float
    level: float
    holds: bool
    estimates: tuple[Estimate, ...]

    def __str__(self) -> str:
        side = "lower" if "<=" in self.claim else "upper"
        verdict = "holds" if self.holds else "is violated"
        lines = [f"{self.claim} {verdict} at {self.setting!r}:",
                 f"  estimate {self.value:.5g}, one-sided {100 * (1 - self.level):g}% {side} confidence limit "
                 f"{self.limit:.5g}, bound {self.bound:.5g}"]
        return "\n".join(lines + [f"  {e}" for e in self.estimates])


def _quantile(level: float, trials: int) -> float:
    if not 0 < level < 0.5:
        raise ValueError(f"level must be in (0, 0.5), got {level!r}")
    return float(stats.t.ppf(1 - level, trials - 1))


def _bound_value(bound: Bound, setting: Setting) -> float:
    value = bound(setting)
    if not math.isfinite(value):
        raise ValueError(f"the bound {bound.name} is {value} at {setting!r}: outside its domain")
    return value


def _finish(check: Check) -> Check:
    if not check.holds:
        raise AssertionError(str(check))
    return check


# --------------------------------------------------------------------------------------- assertions

def _one_sided(method: str | Method, bound: Bound | float | Callable[[Setting], float], setting: Setting,
               trials: int, seed: int, tuning: str, level: float, below: bool) -> Check:
    spec, bound, setting = _method(method), as_bound(bound), _setting(setting)
    value = _bound_value(bound, setting)
    estimate = Estimate.of(_tuned(spec, setting, trials, seed, tuning), trials, seed)
    margin = _quantile(level, trials) * estimate.sem
    limit = estimate.risk - margin if below else estimate.risk + margin
    holds = (limit <= value) if below else (limit >= value)
    claim = f"risk({spec.name}) {'<=' if below else '>='} {bound.name}"
    return _finish(Check(claim, setting, estimate.risk, limit, value, level, bool(holds), (estimate,)))


def assert_risk_below(method: str | Method, bound: Bound | float | Callable[[Setting], float], setting: Setting,
                      *, trials: int = TRIALS, seed: int = 0, tuning: str = "oracle", level: float = LEVEL) -> Check:
    """Assert that a method's excess risk at ``setting`` is at most ``bound``.

    Runs the sweep's Monte Carlo of the cell (``trials`` problems from
    ``seed``, the method tuned by ``tuning``) and fails when the one-sided
    ``1 - level`` lower confidence limit of the risk exceeds the bound,
    ``R - t_{1-level, m-1} se > bound``.

    Parameters
    ----------
    method : str or Method
        A sweep method (``"ols"``, ``"oracle"``, ``"ridge"``, ``"gd"``, ``"pto"``,
        ``"lasso"``, ``"bayes"``) or a :class:`simulations.methods.Method`, e.g. from :func:`fixed`.
    bound : float, callable (setting) -> float, or Bound
        E.g. ``0.5 * oracle_ls`` or ``lambda st: st.sigma**2``.
    setting : Setting
        Anything with ``n, d, s, sigma, signal``, e.g. from :func:`settings_in`.
    trials, seed : int
        Monte Carlo size and seed (instance ``i`` depends on the seed and the setting only).
    tuning : {"oracle", "theory", "validation"}
    level : float
        Probability of failing when the risk equals the bound.

    Returns
    -------
    Check
        When the claim holds.

    Raises
    ------
    AssertionError
        The claim is rejected; the message names the setting, the risk with
        its standard error and confidence limit, the bound and the hyperparameter.
    ValueError
        The bound is not finite at the setting, or the method does not apply there.

    Examples
    --------
    >>> from simulations.methods import Setting
    >>> check = assert_risk_below("oracle", 2 * oracle_ls, Setting(32, 64, 4, 0.5, "gaussian"), trials=200)
    >>> check.holds
    True
    """
    return _one_sided(method, bound, setting, trials, seed, tuning, level, below=True)


def assert_risk_above(method: str | Method, bound: Bound | float | Callable[[Setting], float], setting: Setting,
                      *, trials: int = TRIALS, seed: int = 0, tuning: str = "oracle", level: float = LEVEL) -> Check:
    """Assert that a method's excess risk at ``setting`` is at least ``bound`` (a lower bound).

    The mirror of :func:`assert_risk_below`: fails when the one-sided upper
    confidence limit ``R + t_{1-level, m-1} se`` is below the bound.
    Parameters, returns and raises as there.

    Examples
    --------
    >>> from simulations.methods import Setting
    >>> assert_risk_above("ols", 0.5, Setting(16, 32, 2, 0.1, "rademacher"), trials=200).holds
    True
    """
    return _one_sided(method, bound, setting, trials, seed, tuning, level, below=False)


def _fieller_lower(a: np.ndarray, b: np.ndarray, q: float) -> float:
    """Smallest ``r`` that the paired test of ``E a <= r E b`` accepts (``-inf`` when unbounded).

    Solves ``(mean(a) - r mean(b))^2 = q var(a - r b)`` with ``q = t^2 / m``:
    the lower root of ``A r^2 - 2 B r + C`` with ``A = mean(b)^2 - q S_bb``,
    ``B = mean(a) mean(b) - q S_ab``, ``C = mean(a)^2 - q S_aa``.
    """
    (saa, sab), (_, sbb) = np.cov(a, b, ddof=1)
    A, B, C = b.mean() ** 2 - q * sbb, a.mean() * b.mean() - q * sab, a.mean() ** 2 - q * saa
    disc = B * B - A * C
    if A <= 0 or disc < 0:
        return -math.inf
    return float((B - math.sqrt(disc)) / A)


def _paired(a: np.ndarray, b: np.ndarray, r: float, level: float) -> tuple[bool, float, float]:
    """The paired one-sided test of ``E a <= r E b``: ``(holds, mean(a) / mean(b), Fieller lower limit)``.

    Rejects when ``mean(D) > t_{1-level, m-1} sd(D) / sqrt(m)`` with
    ``D = a - r b``. Infinite risks (diverged estimates): ``a`` infinite
    anywhere rejects, ``b`` infinite (and ``a`` finite) accepts.
    """
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        value = 0.0 if np.all(np.isfinite(a)) else math.inf
        return value <= r, value, value
    t = _quantile(level, a.size)
    diff = a - r * b
    holds = bool(diff.mean() <= t * diff.std(ddof=1) / math.sqrt(a.size))
    value = float(a.mean() / b.mean()) if b.mean() > 0 else math.inf
    return holds, value, _fieller_lower(a, b, t * t / a.size)


def assert_risk_ratio_below(method_a: str | Method, method_b: str | Method,
                            ratio: Bound | float | Callable[[Setting], float], setting: Setting, *,
                            setting_b: Setting | None = None, trials: int = TRIALS, seed: int = 0,
                            tuning: str = "oracle", level: float = LEVEL) -> Check:
    """Assert ``risk(a) <= ratio * risk(b)``, with both methods on the same problems.

    Both methods are tuned on the same ``trials`` instances (paired), and the
    claim ``E a <= r E b`` is tested with the differences ``D_i = a_i - r b_i``
    of the per-instance risks: it fails when
    ``mean(D) > t_{1-level, m-1} sd(D) / sqrt(m)``. Pairing removes the
    instance-to-instance variation the two risks share, so the test is much
    sharper than comparing two independent means. The message reports the
    ratio with its Fieller lower confidence limit.

    Parameters
    ----------
    method_a, method_b : str or Method
    ratio : float, callable (setting) -> float, or Bound
    setting : Setting
    setting_b : Setting, optional
        Run ``method_b`` at another setting (e.g. to test that a risk does not
        depend on ``s``). Instances are then paired by index: problems of
        settings that differ only in sigma share ``X``, ``w*`` and the noise
        (common random numbers), others are independent, and the test stays
        valid either way.
    trials, seed, tuning, level
        As in :func:`assert_risk_below`.

    Returns
    -------
    Check
        When the claim holds; ``value`` is the ratio of the mean risks.

    Raises
    ------
    AssertionError
        The claim is rejected (or method a diverged where b did not).

    Examples
    --------
    >>> from simulations.methods import Setting
    >>> assert_risk_ratio_below("ridge", "ols", 1.0, Setting(16, 32, 2, 0.5, "gaussian"), trials=200).holds
    True
    """
    spec_a, spec_b, ratio, setting = _method(method_a), _method(method_b), as_bound(ratio), _setting(setting)
    setting_b = setting if setting_b is None else _setting(setting_b)
    r = _bound_value(ratio, setting)
    tuners = (_tuned(spec_a, setting, trials, seed, tuning), _tuned(spec_b, setting_b, trials, seed, tuning))
    a, b = (tuner.instance_risks() for tuner in tuners)
    estimates = tuple(Estimate.of(tuner, trials, seed) for tuner in tuners)
    where = "" if setting_b == setting else f" (b at {setting_b!r})"
    claim = f"risk({spec_a.name}) / risk({spec_b.name}){where} <= {ratio.name}"
    holds, value, limit = _paired(a, b, r, level)
    return _finish(Check(claim, setting, value, limit, r, level, holds, estimates))
