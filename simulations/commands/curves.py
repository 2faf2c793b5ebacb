"""``sparse-icl curves``: Monte-Carlo-free risk curves from the deterministic equivalents.

Plots, against gamma = d / n, the Marchenko-Pastur limits of the excess risk
of optimally tuned ridge, ridgeless least squares, and GD with step
1 / (1 + sqrt(gamma))^2 (= 1 / l_max of the limit spectrum) at several step
counts T, at ||w*||^2 = --signal-norm2 and noise --sigma; and, for an
s-sparse w* (s/d = --eps, nonzeros from --signal), the AMP state-evolution
limits of the optimally tuned Lasso and of the Bayes risk (the AMP fixed
point and the replica MMSE, which differ only in the hard phase;
theory.amp). No sampling (the sparse limits take a few seconds). With
--results, the ridge, gd, lasso and bayes rows of a sweep (the given sigma,
any signal law with that E||w*||^2; for lasso and bayes the --signal law and
s/d = --eps) are overlaid as points with 95% bars at x = d / n, each Lasso
point with its limit at the alpha the sweep chose. Writes DIR/curves.png and
DIR/curves.csv; DIR is --out, by default the folder of --results (where
sparse-icl check writes too), or runs/curves without --results.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..outputs import out_path, output_dir
from . import add_command

#: Laws of the sparse limits (both with E||w*||^2 = 1) and the d at which their d-free limits are evaluated.
SPARSE_SIGNALS = ("gaussian", "rademacher")
NOMINAL_D = 10_000

MAX_POINTS = 100_000


def _range(text: str) -> tuple[float, float, int]:
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH,POINTS, got {text!r}")
    try:
        low, high, points = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH,POINTS, got {text!r}") from err
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low < high) or not 2 <= points <= MAX_POINTS:
        raise argparse.ArgumentTypeError(f"needs finite 0 < LOW < HIGH and 2 <= POINTS <= {MAX_POINTS}, got {text!r}")
    return low, high, points


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "curves", "deterministic-equivalent ridge / GD risk curves vs gamma = d/n", __doc__, run)
    parser.add_argument("--gamma-range", type=_range, default=(0.05, 8.0, 120),
                        help="LOW,HIGH,POINTS of the geometric gamma grid (default 0.05,8,120)")
    parser.add_argument("--sigma", type=float, default=0.1, help="noise standard deviation (default 0.1)")
    parser.add_argument("--signal-norm2", type=float, default=1.0, help="||w*||^2 (default 1)")
    parser.add_argument("--steps", default="1,4,16,64", help="GD step counts, comma separated")
    parser.add_argument("--eps", type=float, default=0.125, help="s/d of the Lasso and Bayes limits (default 1/8)")
    parser.add_argument("--signal", default="gaussian", help="law of the nonzeros: gaussian (default) or rademacher")
    parser.add_argument("--results", type=Path, default=None, help="results.csv to overlay")
    parser.add_argument("--out", type=out_path, default=None,
                        help="output directory (default: the folder of --results, else runs/curves)")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from theory import gd_risk_limit, ridge_optimal_risk, ridge_risk_limit

    if args.out is None:  # next to the results it reads, like sparse-icl check
        args.out = args.results.parent if args.results is not None else Path("runs/curves")
    if not 0 < args.eps <= 1:
        raise ValueError(f"--eps must be in (0, 1], got {args.eps}")
    if args.signal not in SPARSE_SIGNALS:
        raise ValueError(f"--signal must be one of {SPARSE_SIGNALS}, got {args.signal!r}")

    low, high, points = args.gamma_range
    if not (0 < low < high) or points < 2:
        raise ValueError(f"--gamma-range needs 0 < LOW < HIGH and POINTS >= 2, got {args.gamma_range}")
    if not (args.sigma >= 0 and np.isfinite(args.sigma)):
        raise ValueError(f"--sigma must be finite and >= 0, got {args.sigma}")
    if not (args.signal_norm2 >= 0 and np.isfinite(args.signal_norm2)):
        raise ValueError(f"--signal-norm2 must be finite and >= 0, got {args.signal_norm2}")
    try:
        steps = [int(v) for v in args.steps.split(",")]
    except ValueError as err:
        raise ValueError(f"--steps must be comma-separated integers, got {args.steps!r}") from err
    if any(t < 0 for t in steps):
        raise ValueError(f"--steps must be >= 0, got {steps}")
    if args.results is not None and not args.results.is_file():  # fail before computing the curves
        raise ValueError(f"--results: no such file {args.results}")
    output_dir(args.out)
    gamma = np.geomspace(low, high, points)
    problem = {"signal_norm2": args.signal_norm2, "sigma": args.sigma}
    r2 = args.signal_norm2
    eta = 1.0 / (1.0 + np.sqrt(gamma)) ** 2
    curves = pd.DataFrame({"gamma": gamma, "ridge_optimal": ridge_optimal_risk(gamma, **problem),
                           "ridgeless": ridge_risk_limit(gamma, **problem, lam=0.0)})
    for T in steps:
        curves[f"gd_T{T}"] = gd_risk_limit(gamma, **problem, step_size=eta, steps=T)
    if args.sigma > 0 and r2 > 0:
        curves = curves.assign(**_sparse_limits(gamma, args.sigma, r2, args.eps, args.signal))
    overlay = _overlay(args.results, args.sigma, r2, args) if args.results is not None else None
    curves.to_csv(args.out / "curves.csv", index=False)
    _plot(curves, overlay, args, args.out / "curves.png")
    print(f"wrote {args.out / 'curves.csv'}, {args.out / 'curves.png'}"
          + (f" ({len(overlay)} Monte Carlo points overlaid)" if overlay is not None else ""))
    return 0


def _sparse_limits(gamma: np.ndarray, sigma: float, r2: float, eps: float, signal: str) -> dict[str, np.ndarray]:
    """Optimal Lasso and Bayes limits at ``d/n = gamma``, ``s/d = eps``, ``E||w*||^2 = r2``.

    The laws have ``E||w*||^2 = 1``; scaling ``w*`` by ``c = sqrt(r2)`` scales
    the risks by ``c^2`` at noise ``sigma / c`` (and the Lasso's alpha by c).
    The limits depend on the sizes only through ``d/n``, ``s/d`` and
    ``alpha sqrt(d)``; they are evaluated at ``d = NOMINAL_D``.
    """
    from theory import bayes_risk_amp, lasso_optimal_risk_amp, mmse_replica

    c = np.sqrt(r2)
    d = NOMINAL_D
    sizes = (d / gamma, d, eps * d)
    optimum = lasso_optimal_risk_amp(*sizes, sigma=sigma / c, signal=signal)
    return {"lasso_optimal": r2 * optimum.risk, "lasso_optimal_alpha_sqrt_d": c * optimum.alpha * np.sqrt(d),
            "bayes_amp": r2 * bayes_risk_amp(*sizes, sigma=sigma / c, signal=signal),
            "bayes_mmse": r2 * mmse_replica(*sizes, sigma=sigma / c, signal=signal)}


def _overlay(path: Path, sigma: float, r2: float, args: argparse.Namespace):
    import pandas as pd

    from theory import lasso_risk_amp

    from simulations.problems import signal_norm2

    if not path.is_file():
        raise ValueError(f"--results: no such file {path}")
    frame = pd.read_csv(path)
    missing = {"method", "n", "d", "s", "sigma", "signal", "risk_mean", "risk_lo", "risk_hi"} - set(frame.columns)
    if missing:
        raise ValueError(f"--results is missing columns {sorted(missing)}")
    sparse = frame.method.isin(["lasso", "bayes"]) & (frame.signal == args.signal) & np.isclose(frame.s / frame.d,
                                                                                                  args.eps)
    frame = frame[(frame.method.isin(["ridge", "gd"]) | sparse) & np.isclose(frame.sigma, sigma)]
    frame = frame[[np.isclose(signal_norm2(g, int(s)), r2) for g, s in zip(frame.signal, frame.s)]]
    frame = frame.assign(gamma=frame.d / frame.n, limit_at_alpha=np.nan)
    lasso = (frame.method == "lasso") & (frame.sigma > 0)
    if "hyperparameter" in frame and lasso.any():
        rows = frame[lasso]
        frame.loc[lasso, "limit_at_alpha"] = lasso_risk_amp(rows.n.to_numpy(float), rows.d.to_numpy(float),
                                                            rows.s.to_numpy(float), sigma=sigma,
                                                            alpha=rows.hyperparameter.to_numpy(float),
                                                            signal=args.signal)
    return frame


def _plot(curves, overlay, args, path: Path) -> None:
    """The limits as lines and the Monte Carlo rows as points, in the methods' colours of ``STYLES``."""
    from simulations.plotting import STYLES, plt

    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    ax.plot(curves.gamma, curves.ridge_optimal, "-", color=STYLES["ridge"]["color"], lw=2,
            label=r"ridge at the optimal $\lambda$")
    ax.plot(curves.gamma, curves.ridgeless, ":", color=STYLES["ols"]["color"], lw=1.5,
            label="ridgeless (min-norm least squares)")
    steps = [c for c in curves.columns if c.startswith("gd_T")]
    for shade, column in zip(np.linspace(0.35, 0.9, len(steps)), steps):
        ax.plot(curves.gamma, curves[column], "--", color=plt.cm.Oranges(shade), lw=1.2,
                label=f"GD, $T = {column[4:]}$")
    if "lasso_optimal" in curves:
        sparse = rf"$s/d = {args.eps:g}$"
        ax.plot(curves.gamma, curves.lasso_optimal, "-", color=STYLES["lasso"]["color"], lw=2,
                label=rf"Lasso at the optimal $\alpha$ (AMP, {sparse})")
        ax.plot(curves.gamma, curves.bayes_mmse, "-", color=STYLES["bayes"]["color"], lw=2,
                label=f"Bayes-optimal (replica MMSE, {sparse})")
        hard = curves.bayes_amp > curves.bayes_mmse * (1 + 1e-6)
        if hard.any():
            ax.plot(curves.gamma.where(hard), curves.bayes_amp.where(hard), ":", color=STYLES["bayes"]["color"],
                    label="Bayes AMP fixed point (hard phase)")
    if overlay is not None:
        limits = overlay[np.isfinite(overlay.limit_at_alpha)]
        if len(limits):
            ax.plot(limits.gamma, limits.limit_at_alpha, "x", color=STYLES["lasso"]["color"], ms=6,
                    label=r"Lasso limit at the sweep's $\alpha$")
        for method in ("ridge", "gd", "lasso", "bayes"):
            rows = overlay[overlay.method == method]
            if len(rows):
                style = STYLES[method]
                err = [rows.risk_mean - rows.risk_lo, rows.risk_hi - rows.risk_mean]
                tuning = ", ".join(sorted(rows.tuning.unique())) + " tuning" if "tuning" in rows else ""
                ax.errorbar(rows.gamma, rows.risk_mean, yerr=err, fmt=style["marker"], ms=4, capsize=2,
                            color=style["color"], mfc="none" if method == "gd" else style["color"],
                            label=f"Monte Carlo: {style['label']}" + (f", {tuning}" if tuning else ""))
    ax.set(xscale="log", yscale="log", xlabel=r"$\gamma = d / n$  (dimensions per context example)",
           ylabel=r"excess risk $\|\hat w - w^\star\|^2$",
           ylim=(max(1e-5, float(np.nanmin(curves.drop(columns="gamma").to_numpy())) / 2), None),
           title=rf"Proportional limits at $E\|w^\star\|^2 = {args.signal_norm2:g}$, $\sigma = {args.sigma:g}$; "
                 r"GD step $1/(1+\sqrt{\gamma})^2$")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
