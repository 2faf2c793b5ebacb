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

Each mode is a :class:`TuningMode` in :data:`TUNINGS`, owning the values it
fits a method at (:meth:`TuningMode.grid`) and its choice rule
(:meth:`TuningMode.choose`); adding a mode is one subclass and one entry there.
:func:`tuning_table` renders them for docs/simulations.md.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from solvers import to_numpy
from solvers.backend import namespace
from .methods import NO_PARAMETER, Method
from .problems import Problems
from .risk import RiskSummary, instance_risk
from .spec import Setting

VALIDATION_FRACTION = 0.2


def validation_size(n: int) -> int:
    """Hold-out size ``max(1, round(0.2 n))`` (n >= 2: :meth:`Validation.check_setting`)."""
    return max(1, int(round(VALIDATION_FRACTION * n)))


class TuningMode:
    """How a hyperparameter is chosen: the values a method is fitted at, and the choice among them.

    Attributes
    ----------
    name : str
    chosen, reported : str
        What is chosen and what the row reports, for :func:`tuning_table`.
    fits : float
        Fits per instance (the cost model of :func:`simulations.sweep.estimate_seconds`).
    """

    name = ""
    chosen = ""
    reported = ""
    fits = 1.0

    def grid(self, method: Method, setting: Setting) -> np.ndarray:
        """The values to fit ``method`` at (:data:`~simulations.methods.NO_PARAMETER` without a hyperparameter)."""
        return method.grid(setting) if method.parameter else NO_PARAMETER

    def check_setting(self, setting: Setting) -> None:
        """Refuse (``ValueError``) a setting this mode cannot tune at."""

    def instance_choices(self, method: Method, grid: np.ndarray, setting: Setting,
                         problems: Problems) -> np.ndarray | None:
        """Grid index chosen for each instance of a chunk, when the mode chooses per instance (else None)."""
        return None

    def choose(self, risks: np.ndarray, choices: np.ndarray | None) -> tuple[np.ndarray, int]:
        """Grid index of each instance and the reported index, from the risks ``(G, trials)`` of the cell.

        The default: the grid value with the smallest mean risk, for every instance.
        """
        G, trials = risks.shape
        with np.errstate(invalid="ignore"):
            index = int(np.argmin(risks.mean(axis=1))) if G > 1 else 0
        return np.full(trials, index), index


class Oracle(TuningMode):
    name = "oracle"
    chosen = ("the grid value minimising the mean risk over the cell's instances (\"optimally tuned\", what "
              "theory compares)")
    reported = ("`hyperparameter` = the argmin; `edge` = it is the first or last grid value (then widen the "
                "grid)")


class Theory(TuningMode):
    name = "theory"
    chosen = "the method's prescribed value (`Method.theory`), no search"
    reported = "`hyperparameter` = the value; `edge` = False"

    def grid(self, method: Method, setting: Setting) -> np.ndarray:
        return np.array([method.theory(setting)]) if method.parameter else NO_PARAMETER


class Validation(TuningMode):
    name = "validation"
    chosen = ("per instance: fit on the first `n - n_val` examples, pick the value with the smallest hold-out "
              "error on the last `n_val = max(1, round(0.2 n))`, refit on all n")
    reported = "`hyperparameter` = the median choice; `edge` = the median is on the grid edge"
    fits = 2.0

    def check_setting(self, setting: Setting) -> None:
        if setting.n < 2:
            raise ValueError(f"validation tuning needs n >= 2, got n = {setting.n}")

    def instance_choices(self, method: Method, grid: np.ndarray, setting: Setting,
                         problems: Problems) -> np.ndarray | None:
        if grid.size == 1:
            return None
        X, y = problems.X, problems.y
        xp = namespace(X, y)
        m = X.shape[1] - validation_size(X.shape[1])
        W, _ = method.fit(X[:, :m, :], y[:, :m], grid, setting, problems.support)
        residual = (X[None, :, m:, :] @ W[..., None])[..., 0] - y[None, :, m:]
        with np.errstate(over="ignore", invalid="ignore"):
            error = to_numpy(xp.mean(residual**2, axis=-1))
        error[~np.isfinite(error)] = np.inf
        return np.argmin(error, axis=0)

    def choose(self, risks: np.ndarray, choices: np.ndarray | None) -> tuple[np.ndarray, int]:
        if choices is None:
            return super().choose(risks, choices)
        return choices, int(np.median(choices).round())


#: The tuning modes by name.
TUNINGS: dict[str, TuningMode] = {mode.name: mode for mode in (Oracle(), Theory(), Validation())}


def tuning_table() -> str:
    """The tuning modes as a Markdown table (docs/simulations.md)."""
    lines = ["| mode | what is chosen | reported |", "|---|---|---|"]
    lines += [f"| `{mode.name}` | {mode.chosen} | {mode.reported} |" for mode in TUNINGS.values()]
    return "\n".join(lines)


def grid_id(method: Method, setting: Setting, tuning: str) -> str:
    """Short hash of the values searched, so a store never mixes results of different grids."""
    values = TUNINGS[tuning].grid(method, setting)
    return hashlib.sha1(np.ascontiguousarray(values, dtype=np.float64).tobytes()).hexdigest()[:10]


class Tuner:
    """Accumulates one method's risks over the chunks of a cell and tunes it.

    Parameters
    ----------
    method : Method
    tuning : str
        A key of :data:`TUNINGS`.
    setting : Setting
    """

    def __init__(self, method: Method, tuning: str, setting: Setting) -> None:
        self.method, self.tuning, self.setting = method, tuning, setting
        self.mode = TUNINGS[tuning]
        self.grid = self.mode.grid(method, setting)
        self._risks: list[np.ndarray] = []       # (G, chunk) per chunk
        self._choices: list[np.ndarray] = []     # (chunk,) per chunk, when the mode chooses per instance
        self._converged: list[np.ndarray] = []   # (G, chunk) per chunk

    def evaluate(self, problems: Problems) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Fit the method on a chunk of instances: host arrays (risks, converged, choices)."""
        W, converged = self.method.fit(problems.X, problems.y, self.grid, self.setting, problems.support)
        risks = instance_risk(W, problems.w_star)
        converged = np.ones(W.shape[:2], bool) if converged is None else to_numpy(converged)
        del W
        return risks, converged, self.mode.instance_choices(self.method, self.grid, self.setting, problems)

    def keep(self, part: tuple[np.ndarray, np.ndarray, np.ndarray | None]) -> None:
        """Store a chunk's result from :meth:`evaluate`."""
        risks, converged, choices = part
        self._risks.append(risks)
        self._converged.append(converged)
        if choices is not None:
            self._choices.append(choices)

    def _choice(self, risks: np.ndarray) -> tuple[np.ndarray, int]:
        """Grid index chosen for each instance, and the reported index."""
        return self.mode.choose(risks, np.concatenate(self._choices) if self._choices else None)
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
