"""Choosing hyperparameters: ``oracle``, ``theory`` and ``validation`` tuning.

- ``oracle``: the grid value with the smallest *mean* excess risk over the
  cell's instances (the "optimally tuned" comparison of theory). The chosen
  value and whether it sits on the edge of the grid (then the grid is too
  small) are reported.
- ``theory``: the prescribed value of :mod:`simulations.methods`.
- ``validation``: per instance, fit on the first ``n - n_val`` examples,
  pick the value with the smallest squared error on the last
  ``n_val = max(1, round(0.2 n))`` examples, then refit on all n with that
  value -- what a practitioner without ``w*`` would do. The reported
  hyperparameter is the median choice; ``edge`` says whether that median sits
  on the grid edge.

Instances are fed in chunks (:meth:`Tuner.evaluate` then :meth:`Tuner.keep`,
so a chunk that runs out of memory can be retried smaller without leaving
half a chunk behind); the per-instance risks of every grid value are kept on
the host (trials x G floats) because the oracle choice needs the whole cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solvers import to_numpy
from solvers.backend import namespace
from .methods import Method, Setting
from .problems import Problems
from .risk import RiskSummary, instance_risk

TUNINGS = ("oracle", "theory", "validation")
VALIDATION_FRACTION = 0.2


def validation_size(n: int) -> int:
    """Hold-out size ``max(1, round(0.2 n))``; needs n >= 2."""
    if n < 2:
        raise ValueError(f"validation tuning needs n >= 2, got n = {n}")
    return max(1, int(round(VALIDATION_FRACTION * n)))


class Tuner:
    """Accumulates one method's risks over the chunks of a cell and tunes it.

    Parameters
    ----------
    method : Method
    tuning : {"oracle", "theory", "validation"}
    setting : Setting
    """

    def __init__(self, method: Method, tuning: str, setting: Setting) -> None:
        if tuning not in TUNINGS:
            raise ValueError(f"tuning must be one of {TUNINGS}, got {tuning!r}")
        self.method, self.tuning, self.setting = method, tuning, setting
        self.grid = method.grid_for(setting, tuning)
        self._risks: list[np.ndarray] = []       # (G, chunk) per chunk
        self._choices: list[np.ndarray] = []     # (chunk,) per chunk, validation only
        self._converged: list[np.ndarray] = []   # (G, chunk) per chunk

    def evaluate(self, problems: Problems) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Fit the method on a chunk of instances: host arrays (risks, converged, choices)."""
        X, y = problems.X, problems.y
        W, converged = self.method.fit(X, y, self.grid, self.setting, problems.support)
        risks = instance_risk(W, problems.w_star)
        converged = np.ones(W.shape[:2], bool) if converged is None else to_numpy(converged)
        del W
        validate = self.tuning == "validation" and self.grid.size > 1
        return risks, converged, self._validate(X, y, problems.support) if validate else None

    def keep(self, part: tuple[np.ndarray, np.ndarray, np.ndarray | None]) -> None:
        """Store a chunk's result from :meth:`evaluate`."""
        risks, converged, choices = part
        self._risks.append(risks)
        self._converged.append(converged)
        if choices is not None:
            self._choices.append(choices)

    def _validate(self, X: Any, y: Any, support: Any) -> np.ndarray:
        xp = namespace(X, y)
        m = X.shape[1] - validation_size(X.shape[1])
        W, _ = self.method.fit(X[:, :m, :], y[:, :m], self.grid, self.setting, support)
        residual = (X[None, :, m:, :] @ W[..., None])[..., 0] - y[None, :, m:]
        with np.errstate(over="ignore", invalid="ignore"):
            error = to_numpy(xp.mean(residual**2, axis=-1))
        error[~np.isfinite(error)] = np.inf
        return np.argmin(error, axis=0)

    def _choice(self, risks: np.ndarray) -> tuple[np.ndarray, int]:
        """Grid index chosen for each instance, and the reported (oracle, theory or median) index."""
        G, trials = risks.shape
        if self._choices:
            choice = np.concatenate(self._choices)
            return choice, int(np.median(choice).round())
        with np.errstate(invalid="ignore"):
            index = int(np.argmin(risks.mean(axis=1))) if G > 1 else 0
        return np.full(trials, index), index

    def instance_risks(self) -> np.ndarray:
        """Excess risk of each instance at its chosen hyperparameter, ``(trials,)`` in instance order.

        The values whose mean and standard error :meth:`result` reports;
        paired comparisons of two methods on the same instances use them.
        """
        risks = np.concatenate(self._risks, axis=1)
        choice, _ = self._choice(risks)
        return risks[choice, np.arange(risks.shape[1])]

    def result(self) -> dict[str, Any]:
        """Row fields: risk summary, hyperparameter, edge flag, unconverged count."""
        risks = np.concatenate(self._risks, axis=1)
        converged = np.concatenate(self._converged, axis=1)
        G, trials = risks.shape
        choice, index = self._choice(risks)
        picked = risks[choice, np.arange(trials)]
        summary = RiskSummary.of(picked)
        return {
            "risk_mean": summary.mean,
            "risk_sem": summary.sem,
            "risk_lo": summary.lo,
            "risk_hi": summary.hi,
            "diverged": summary.diverged,
            "unconverged": int(np.sum(~converged[choice, np.arange(trials)])),
            "parameter": self.method.parameter,
            "hyperparameter": float(self.grid[index]),
            "edge": bool(G > 1 and index in (0, G - 1)),
        }
