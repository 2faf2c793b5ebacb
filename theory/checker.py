"""Check a sweep's ``results.csv`` against the theory: per-cell verdicts, slopes, constants.

Claims checked (details and provenance in ``docs/theory.md``):

===================  ==============  =======  =====================================================
claim                methods         kind     verdict ``holds`` when
===================  ==============  =======  =====================================================
oracle_exact         oracle          exact    ``|risk - sigma^2 s/(n-s-1)| <= 4 SE``
ols_exact            ols             exact    ``|risk - exact| <= 4 SE``
equivariant_floor    ridge, gd, ols  lower    ``risk >= floor - 4 SE - c_fs (r2 + sigma^2)/min(n, d)``
lasso_rate           lasso           rate     ``risk / (C sigma^2 s log(e d/s)/n)`` within ``[1/4, 4]``
pto_rate             pto             upper    ``risk <= 4 (C1 sigma^2 s/n + C2 s d (r2+sigma^2)/n^2)``
C4_pto_vs_equivar.   pto vs ridge,gd compare  ``risk_pto < min(risk_ridge, risk_gd)``
C5_pto_vs_lasso      pto vs lasso    compare  ``risk_pto / risk_lasso <= ln d``
lasso_amp            lasso           limit    ``|risk - lasso_risk_amp(alpha)| <= 4 SE + c_amp limit/min(n, d)``
bayes_mmse           bayes           limit    ``|risk - mmse_replica| <= 4 SE + c_amp limit/min(n, d)``
C5_pto_vs_lasso_lim. pto             compare  ``risk_pto / lasso_optimal_risk_amp <= ln d``
===================  ==============  =======  =====================================================

Cells outside a claim's regime get the verdict ``outside regime`` (their
numbers are still reported). Constants ``C`` are fitted per (tuning, signal)
on the in-regime cells (:func:`theory.fitting.fit_constants`), so the rate
verdicts test the *shape* of a rate, not an invented constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.signals import SIGNALS

from . import bounds
from .amp import bayes_risk_amp, lasso_optimal_risk_amp, lasso_risk_amp, mmse_replica
from .fitting import fit_constants, log_slope

REQUIRED = ("method", "n", "d", "s", "sigma", "signal", "trials", "tuning", "risk_mean", "risk_sem")
NUMERIC = ("n", "d", "s", "sigma", "trials", "risk_mean", "risk_sem")
CELL_KEYS = ["n", "d", "s", "sigma", "signal", "tuning"]
TOLERANCE_SE = 4.0
FINITE_SIZE = 1.0
RATE_BAND = 4.0
#: Finite-size allowance of the AMP limits, ``FINITE_SIZE_AMP * limit / min(n, d)``, and where they are graded.
FINITE_SIZE_AMP = 10.0
AMP_MIN_DIMENSION = 32
HOLDS, VIOLATED, OUTSIDE = "holds", "violated", "outside regime"
SLOPES_NOTE = ("(CIs are widened by sqrt(chi2_dof) where chi2_dof > 1; power_law False: the points curve beyond "
               "their errors (chi-square p < 1e-3), so the slope is a summary, not a test, and consistent is False)")


@dataclass
class CheckReport:
    """What :func:`check_results` found.

    Attributes
    ----------
    cells : DataFrame
        One row per (cell, claim): claim, method, cell keys, risk, risk_sem,
        reference, ratio = risk / reference, in_regime, verdict.
    slopes : DataFrame
        Fitted log-log slopes of risk in n, d or s (the other parameters
        fixed) with 95% CIs (widened by ``sqrt(chi2/dof)`` when that exceeds
        1), the predicted exponent over the same points, ``power_law``
        (whether a power law fits the points, chi-square p-value >= 1e-3)
        and ``consistent``: a power law fits and the CI contains the
        prediction.
    constants : DataFrame
        Fitted constants per claim, tuning and signal, with the spread
        (max / min) of risk / fitted rate over the cells used.
    """

    cells: pd.DataFrame
    slopes: pd.DataFrame
    constants: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Verdict counts per claim."""
        if self.cells.empty:
            return pd.DataFrame()
        return self.cells.pivot_table(index="claim", columns="verdict", values="n", aggfunc="count",
                                      fill_value=0)

    def to_string(self, cells: bool = False) -> str:
        """A plain-text report: verdict counts, constants, slopes (and the per-cell table if ``cells``)."""
        fmt = {"float_format": lambda v: f"{v:.4g}"}
        parts = ["== verdicts per claim", self.summary().to_string(),
                 "== fitted constants", self.constants.to_string(index=False, **fmt) if len(self.constants) else "(none)",
                 "== log-log slopes (95% CI) vs predicted exponents",
                 self.slopes.to_string(index=False, **fmt) if len(self.slopes) else "(no parameter varies over >= 3 values)",
                 SLOPES_NOTE]
        if cells:
            parts += ["== cells", self.cells.to_string(index=False, **fmt)]
        return "\n".join(parts)

    def save(self, out: str | Path) -> list[Path]:
        """Write ``check.csv`` (cells), ``slopes.csv``, ``constants.csv`` and the PNGs into ``out``."""
        from .figures import lasso_figure, phase_figure

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("check.csv", self.cells), ("slopes.csv", self.slopes), ("constants.csv", self.constants)):
            frame.to_csv(out / name, index=False)
            written.append(out / name)
        c4 = self.cells[self.cells.claim == "C4_pto_vs_equivariant"]
        if len(c4):
            written += phase_figure(c4, out)
        c5 = self.cells[self.cells.claim == "C5_pto_vs_lasso"]
        if len(c5):
            written.append(lasso_figure(c5, out / "pto_vs_lasso.png"))
        return written


def check_results(results: pd.DataFrame) -> CheckReport:
    """Check a tidy results table (one row per cell x method) against the theory.

    Parameters
    ----------
    results : DataFrame
        At least the columns ``method, n, d, s, sigma, signal, trials, tuning,
        risk_mean, risk_sem`` (the sweep's ``results.csv``). Rows with a
        non-finite risk (diverged) are reported as violations of nothing and
        skipped.

    Returns
    -------
    CheckReport
    """
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise ValueError(f"results is missing columns {missing}; expected the sweep's results.csv")
    if results.empty:
        raise ValueError("results has no rows")
    df = results.copy()
    for column in NUMERIC:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & df[column].notna().to_numpy())
        if bad.size:
            raise ValueError(f"column {column!r}, row {bad[0] + 1} (line {bad[0] + 2} of a CSV file): "
                             f"{df[column].iloc[bad[0]]!r} is not a number")
        df[column] = values
    unknown = sorted(set(df.signal) - set(SIGNALS), key=str)
    if unknown:
        raise ValueError(f"signal: unknown values {unknown}; expected {sorted(SIGNALS)}")
    from .figures import TUNING_WORDS  # the tuning modes' names (imported here: it loads matplotlib)

    unknown = sorted(set(df.tuning) - set(TUNING_WORDS), key=str)
    if unknown:
        raise ValueError(f"tuning: unknown values {unknown}; expected {list(TUNING_WORDS)}")
    df["r2"] = [SIGNALS[g].norm2(s) for g, s in zip(df.signal, df.s)]
    df = df[np.isfinite(df.risk_mean.astype(float))]
    frames = [_exact(df, "oracle_exact", ("oracle",), bounds.oracle_exact, bounds.oracle_exact_regime),
              _exact(df, "ols_exact", ("ols",), bounds.ols_exact, bounds.ols_exact_regime),
              _floor(df)]
    constants = []
    for frame, const in (_lasso(df), _pto(df)):
        frames.append(frame)
        constants.append(const)
    frames += [_c4(df), _c5(df), _lasso_amp(df), _bayes_mmse(df), _c5_limit(df)]
    cells = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    constants = pd.concat([c for c in constants if len(c)], ignore_index=True) if any(len(c) for c in constants) \
        else pd.DataFrame()
    slopes = _slopes(df, constants)
    return CheckReport(cells=cells, slopes=slopes, constants=constants)


def _args(frame: pd.DataFrame) -> tuple:
    return tuple(frame[c].to_numpy(float) for c in ("n", "d", "s", "sigma", "r2"))


def _at(function, args: tuple):
    """A bound of :mod:`theory.bounds` at the cells ``args = (n, d, s, sigma, r2)`` of :func:`_args`."""
    n, d, s, sigma, r2 = args
    return function(n, d, s, signal_norm2=r2, sigma=sigma)


def _base(frame: pd.DataFrame, claim: str, reference: np.ndarray, regime: np.ndarray) -> pd.DataFrame:
    out = frame[["method", *CELL_KEYS]].copy()
    out.insert(0, "claim", claim)
    out["risk"] = frame.risk_mean.to_numpy(float)
    out["risk_sem"] = frame.risk_sem.to_numpy(float)
    out["reference"] = reference
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio"] = out.risk / reference
    out["in_regime"] = regime & np.isfinite(reference)
    return out


def _verdict(out: pd.DataFrame, ok: np.ndarray) -> pd.DataFrame:
    out["verdict"] = np.where(~out.in_regime, OUTSIDE, np.where(ok, HOLDS, VIOLATED))
    return out


def _exact(df, claim, methods, reference, regime) -> pd.DataFrame:
    rows = df[df.method.isin(methods)]
    if rows.empty:
        return pd.DataFrame()
    args = _args(rows)
    out = _base(rows, claim, _at(reference, args), _at(regime, args))
    return _verdict(out, np.abs(out.risk - out.reference) <= TOLERANCE_SE * out.risk_sem)


def _floor(df) -> pd.DataFrame:
    rows = df[df.method.isin(("ridge", "gd", "ols"))]
    if rows.empty:
        return pd.DataFrame()
    n, d, s, sigma, r2 = args = _args(rows)
    out = _base(rows, "equivariant_floor", _at(bounds.equivariant_floor, args),
                _at(bounds.equivariant_floor_regime, args))
    slack = TOLERANCE_SE * out.risk_sem + FINITE_SIZE * (r2 + sigma**2) / np.minimum(n, d)
    return _verdict(out, out.risk >= out.reference - slack)


def _fit_groups(out: pd.DataFrame, terms: np.ndarray, claim: str, names: tuple[str, ...]):
    """Fit constants per (tuning, signal) on in-regime cells; return fitted reference and constants."""
    reference = np.full(len(out), np.nan)
    rows = []
    for (tuning, signal), idx in out.groupby(["tuning", "signal"]).groups.items():
        pos = out.index.get_indexer(idx)
        use = pos[out.in_regime.to_numpy()[pos] & (out.risk.to_numpy()[pos] > 0)]
        if use.size == 0:
            continue
        coef = fit_constants(terms[use], out.risk.to_numpy()[use])
        reference[pos] = terms[pos] @ coef
        ratio = out.risk.to_numpy()[use] / reference[use]
        rows.append({"claim": claim, "tuning": tuning, "signal": signal, **dict(zip(names, coef)),
                     "cells": int(use.size), "ratio_min": ratio.min(), "ratio_max": ratio.max()})
    return reference, pd.DataFrame(rows)


def _fitted_rate(df, method: str, claim: str, terms, regime, names: tuple[str, ...]):
    """Cells of ``method`` against ``C . terms`` with constants fitted per (tuning, signal)."""
    rows = df[df.method == method]
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame()
    args = _args(rows)
    out = _base(rows, claim, np.nan, _at(regime, args))
    out["in_regime"] = _at(regime, args)  # _base's regime needs a finite reference; this one is fitted below
    reference, const = _fit_groups(out, terms(args), claim, names)
    out["reference"], out["ratio"] = reference, out.risk / reference
    return out, const


def _lasso(df):
    out, const = _fitted_rate(df, "lasso", "lasso_rate", lambda a: _at(bounds.lasso_rate, a)[:, None],
                              bounds.lasso_regime, ("C",))
    if out.empty:
        return out, const
    return _verdict(out, (out.ratio <= RATE_BAND) & (out.ratio >= 1 / RATE_BAND)), const


def _pto(df):
    out, const = _fitted_rate(df, "pto", "pto_rate", lambda a: np.column_stack(_at(bounds.pto_rate, a)),
                              bounds.pto_regime, ("C1", "C2"))
    if out.empty:
        return out, const
    return _verdict(out, out.ratio <= RATE_BAND), const


def _paired(df, other: tuple[str, ...]) -> pd.DataFrame:
    """PtO rows joined with the best of ``other`` in the same cell."""
    pto = df[df.method == "pto"].set_index(CELL_KEYS)
    rivals = df[df.method.isin(other)]
    if pto.empty or rivals.empty:
        return pd.DataFrame()
    best = rivals.loc[rivals.groupby(CELL_KEYS).risk_mean.idxmin()].set_index(CELL_KEYS)
    rival = best[["method", "risk_mean", "risk_sem"]].add_suffix("_rival")
    return pto.join(rival, how="inner").reset_index()


def _c4(df) -> pd.DataFrame:
    joined = _paired(df, ("ridge", "gd"))
    if joined.empty:
        return joined
    n, d, s = (joined[c].to_numpy(float) for c in ("n", "d", "s"))
    out = _base(joined, "C4_pto_vs_equivariant", joined.risk_mean_rival.to_numpy(float), (n <= d) & (8 * s <= d))
    out["method"] = "pto vs " + joined.method_rival
    out["z"] = (joined.risk_mean_rival - joined.risk_mean) / np.hypot(joined.risk_sem, joined.risk_sem_rival)
    return _verdict(out, out.ratio < 1)


def _c5(df) -> pd.DataFrame:
    joined = _paired(df, ("lasso",))
    if joined.empty:
        return joined
    joined["r2"] = [SIGNALS[g].norm2(s) for g, s in zip(joined.signal, joined.s)]
    n, d, s, sigma, r2 = _args(joined)
    regime = (d <= n) & bounds.lasso_regime(n, d, s, signal_norm2=r2, sigma=sigma)
    out = _base(joined, "C5_pto_vs_lasso", joined.risk_mean_rival.to_numpy(float), regime)
    out["method"] = "pto vs lasso"
    out["log_d"] = np.log(d)
    return _verdict(out, out.ratio <= np.log(d))


def _amp_reference(rows: pd.DataFrame, limit, usable: np.ndarray | None = None, **extra: np.ndarray) -> np.ndarray:
    """``limit(n, d, s, sigma=, signal=, **extra)`` per signal law where ``sigma > 0`` and ``usable``; else NaN."""
    reference = np.full(len(rows), np.nan)
    ok = rows.sigma.to_numpy(float) > 0
    if usable is not None:
        ok &= usable
    for signal in rows.signal.unique():
        mask = ok & (rows.signal == signal).to_numpy()
        if mask.any():
            n, d, s, sigma = (rows[c].to_numpy(float)[mask] for c in ("n", "d", "s", "sigma"))
            reference[mask] = limit(n, d, s, sigma=sigma, signal=signal, **{k: v[mask] for k, v in extra.items()})
    return reference


def _amp_regime(rows: pd.DataFrame) -> np.ndarray:
    """``min(n, d) >= AMP_MIN_DIMENSION`` and ``sigma > 0``."""
    return (np.minimum(rows.n, rows.d).to_numpy(float) >= AMP_MIN_DIMENSION) & (rows.sigma.to_numpy(float) > 0)


def _graded(rows: pd.DataFrame, claim: str, reference: np.ndarray, regime: np.ndarray) -> pd.DataFrame:
    """Monte Carlo against a limit: ``|risk - limit| <= 4 SE + FINITE_SIZE_AMP limit / min(n, d)``, with ``z``."""
    out = _base(rows, claim, reference, regime)
    out["z"] = (out.risk - out.reference) / out.risk_sem
    slack = TOLERANCE_SE * out.risk_sem + FINITE_SIZE_AMP * out.reference / np.minimum(out.n, out.d)
    return _verdict(out, (out.risk - out.reference).abs() <= slack)


def _lasso_amp(df) -> pd.DataFrame:
    """Lasso rows at their alpha (``hyperparameter``); a tuned alpha is one alpha only for oracle/theory tuning."""
    rows = df[df.method == "lasso"]
    if rows.empty or "hyperparameter" not in rows:
        return pd.DataFrame()
    alpha = rows.hyperparameter.to_numpy(float)
    usable = np.isfinite(alpha) & (alpha > 0)
    reference = _amp_reference(rows, lasso_risk_amp, usable, alpha=np.where(usable, alpha, 1.0))
    regime = _amp_regime(rows) & rows.tuning.isin(("oracle", "theory")).to_numpy()
    return _graded(rows, "lasso_amp", reference, regime)


def _bayes_mmse(df) -> pd.DataFrame:
    """The exact posterior mean against the Bayes risk limit; ``hard_phase``: AMP's fixed point is worse."""
    rows = df[df.method == "bayes"]
    if rows.empty:
        return pd.DataFrame()
    reference = _amp_reference(rows, mmse_replica)
    out = _graded(rows, "bayes_mmse", reference, _amp_regime(rows))
    out["hard_phase"] = _amp_reference(rows, bayes_risk_amp) > reference * (1 + 1e-6)
    return out


def _c5_limit(df) -> pd.DataFrame:
    """C5 against the exact optimally tuned Lasso limit instead of the Monte Carlo Lasso."""
    rows = df[df.method == "pto"]
    if rows.empty:
        return pd.DataFrame()
    reference = _amp_reference(rows, lambda *a, **k: lasso_optimal_risk_amp(*a, **k).risk)
    n, d, s, sigma, r2 = _args(rows)
    regime = (d <= n) & bounds.lasso_regime(n, d, s, signal_norm2=r2, sigma=sigma) & _amp_regime(rows)
    out = _base(rows, "C5_pto_vs_lasso_limit", reference, regime)
    out["method"] = "pto vs lasso limit"
    out["log_d"] = np.log(d)
    out["z"] = (out.risk - out.reference) / out.risk_sem
    return _verdict(out, out.ratio <= np.log(d))


def _prediction(method: str, frame: pd.DataFrame, constants: pd.DataFrame) -> np.ndarray | None:
    args = _args(frame)
    if method == "oracle":
        return _at(bounds.oracle_exact, args)
    if method == "ols":
        return _at(bounds.ols_exact, args)
    if method in ("ridge", "gd"):
        return _at(bounds.equivariant_floor, args)
    if method == "lasso":
        return _at(bounds.lasso_rate, args)
    if method == "pto" and len(constants):
        tuning, signal = frame.tuning.iloc[0], frame.signal.iloc[0]
        row = constants[(constants.claim == "pto_rate") & (constants.tuning == tuning) & (constants.signal == signal)]
        if len(row):
            variance, leakage = _at(bounds.pto_rate, args)
            return float(row.C1.iloc[0]) * variance + float(row.C2.iloc[0]) * leakage
    return None


def _slopes(df: pd.DataFrame, constants: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for var in ("n", "d", "s"):
        fixed = ["method", "tuning", "signal", "sigma"] + [v for v in ("n", "d", "s") if v != var]
        for key, group in df.groupby(fixed):
            group = group[(group.risk_mean > 0)].sort_values(var)
            if group[var].nunique() < 3:
                continue
            fit = log_slope(group[var], group.risk_mean, group.risk_sem)
            predicted = _prediction(group.method.iloc[0], group, constants)
            pred_slope = np.nan
            if predicted is not None and np.all(np.isfinite(predicted)) and np.all(predicted > 0):
                pred_slope = float(np.polyfit(np.log(group[var].to_numpy(float)), np.log(predicted), 1)[0])
            rows.append({"method": key[0], "variable": var, **dict(zip(fixed[1:], key[1:])),
                         "points": fit.points, "range": f"{group[var].min()}-{group[var].max()}",
                         "slope": fit.slope, "ci_lo": fit.ci_lo, "ci_hi": fit.ci_hi, "chi2_dof": fit.chi2_dof,
                         "power_law": fit.power_law, "predicted": pred_slope,
                         "consistent": bool(fit.power_law and fit.ci_lo <= pred_slope <= fit.ci_hi)
                         if np.isfinite(pred_slope) else None})
    return pd.DataFrame(rows)
