"""The signal laws: how the nonzero entries of an s-sparse ``w*`` are distributed.

One :class:`SignalLaw` per law, in :data:`SIGNALS`. A law is declared once
here and everything else is derived from it: the problem samplers of
:mod:`simulations.problems` (host NumPy and counter-based Philox) and of
:mod:`simulations.transformer.train` (torch) each implement the few
:data:`BASES` and divide by the law's :attr:`~SignalLaw.divisor`; the theory
checker and the tuning rules read ``E ||w*||^2`` from :attr:`~SignalLaw.norm2`;
the command-line help lists :data:`SIGNALS`.

Adding a law whose nonzeros are a scaled normal or sign draw is one entry of
:data:`SIGNALS`. A law with a new base draw also adds that base to each
sampler's table (``HOST_BASES`` and ``DEVICE_BASES`` in
:mod:`simulations.problems`, ``TORCH_BASES`` in :mod:`simulations.transformer.train`).
The exact Bayes posterior (:func:`solvers.bayes_posterior_mean`) and the AMP
limits of :mod:`theory.amp` are derived per law by hand and support the laws
they list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

#: The base draws a law's nonzeros are made from: standard normals, or signs +-1 with probability 1/2 each.
BASES = ("normal", "sign")


@dataclass(frozen=True)
class SignalLaw:
    """A law of the nonzero entries of ``w*``: ``base`` draws divided by ``divisor(s)``.

    Attributes
    ----------
    name : str
        The name used on the command line, in configs and in results.csv.
    base : {"normal", "sign"}
        The draw each nonzero entry is made from (see :data:`BASES`).
    divisor : callable (s) -> float
        Each nonzero is ``base / divisor(s)``.
    norm2 : callable (s) -> float
        ``E ||w*||^2`` for sparsity ``s`` (given exactly, not as ``s / divisor(s)^2``, which rounds).
    description : str
        One line for help texts and docs.
    """

    name: str
    base: str
    divisor: Callable[[int], float]
    norm2: Callable[[int], float]
    description: str


SIGNALS: dict[str, SignalLaw] = {
    law.name: law
    for law in (
        SignalLaw("gaussian", "normal", math.sqrt, lambda s: 1.0, "N(0, 1/s) nonzeros: E||w*||^2 = 1"),
        SignalLaw("rademacher", "sign", math.sqrt, lambda s: 1.0, "+-1/sqrt(s) nonzeros: ||w*|| = 1 exactly"),
        SignalLaw("unnormalized", "normal", lambda s: 1.0, float,
                  "N(0, 1) nonzeros, E||w*||^2 = s (Garg et al. 2022)"),
    )
}


def signal_law(name: str) -> SignalLaw:
    """The law called ``name``; ``ValueError`` listing the known laws otherwise."""
    if name not in SIGNALS:
        raise ValueError(f"signal must be one of {tuple(SIGNALS)}, got {name!r}")
    return SIGNALS[name]


def signal_norm2(signal: str, s: int) -> float:
    """``E ||w*||^2`` under the law ``signal`` at sparsity ``s``: 1 (gaussian, rademacher) or s (unnormalized)."""
    return signal_law(signal).norm2(s)
