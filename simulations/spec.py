"""The problem spec: what a prompt distribution is, validated once where it is made.

:class:`Problem` is the distribution of docs/math.md section 1 -- ``x ~ N(0, I_d)``,
an s-sparse ``w*`` with a uniform support and nonzeros from a signal law
(:data:`solvers.signals.SIGNALS`), ``y = <w*, x> + sigma z``. :class:`Setting`
is a problem at one context length ``n``: what a tuning rule or a method's grid
may look at (never ``w*`` itself). The sweep's :class:`simulations.sweep.Cell`
adds the run settings to a setting, and the training config
(:class:`simulations.transformer.train.TrainConfig`) holds a problem plus a
range of ``n``.

Both are frozen and check their fields when they are made, with one message
per rule (the functions below, which the sweep's grid planner applies to whole
axes too); code that receives one trusts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from solvers.signals import SignalLaw, signal_law


def is_integer(value: Any) -> bool:
    """An integer that is not a bool (NumPy integers included)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number that is not a bool (NumPy scalars included)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def check_positive_integer(name: str, value: Any) -> None:
    """``n``, ``d``, ``s``: an integer >= 1."""
    if not is_integer(value) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def check_sparsity(s: int, d: int) -> None:
    """``s <= d`` (both already integers >= 1)."""
    if s > d:
        raise ValueError(f"s must be <= d = {d}, got {s}")


def check_noise(sigma: Any) -> None:
    """``sigma``: a finite number >= 0."""
    if not (is_number(sigma) and math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma!r}")


class SignalOf:
    """The signal law of a spec with fields ``s`` and ``signal`` (shared by :class:`Problem` and :class:`Setting`)."""

    s: int
    signal: str

    @property
    def law(self) -> SignalLaw:
        return signal_law(self.signal)

    @property
    def norm2(self) -> float:
        """``E ||w*||^2``."""
        return self.law.norm2(self.s)


@dataclass(frozen=True)
class Problem(SignalOf):
    """A prompt distribution: dimension ``d``, sparsity ``s``, noise ``sigma`` and the signal law.

    Raises ``ValueError`` naming the field when ``d`` or ``s`` is not an
    integer >= 1, ``s > d``, ``sigma`` is not finite and >= 0, or ``signal``
    is not a law of :data:`solvers.signals.SIGNALS`.
    """

    d: int
    s: int
    sigma: float
    signal: str = "gaussian"

    def __post_init__(self) -> None:
        check_problem(self.d, self.s, self.sigma, self.signal)

    def at(self, n: int) -> Setting:
        """This problem at context length ``n``."""
        return Setting(n, self.d, self.s, self.sigma, self.signal)


@dataclass(frozen=True)
class Setting(SignalOf):
    """A problem at one context length: ``n`` examples per prompt (checked like :class:`Problem`, and ``n >= 1``)."""

    n: int
    d: int
    s: int
    sigma: float
    signal: str

    def __post_init__(self) -> None:
        check_positive_integer("n", self.n)
        check_problem(self.d, self.s, self.sigma, self.signal)

    @property
    def problem(self) -> Problem:
        return Problem(self.d, self.s, self.sigma, self.signal)


def check_problem(d: Any, s: Any, sigma: Any, signal: Any) -> None:
    """The rules of :class:`Problem`, in the order a reader would check them."""
    check_positive_integer("d", d)
    check_positive_integer("s", s)
    check_sparsity(s, d)
    check_noise(sigma)
    signal_law(signal)
