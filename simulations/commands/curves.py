"""``sparse-icl curves``: Monte-Carlo-free risk curves from the deterministic equivalents.

Plots, against gamma = d / n, the Marchenko-Pastur limits of the excess risk
of optimally tuned ridge, ridgeless least squares, and GD with step
1 / (1 + sqrt(gamma))^2 (= 1 / l_max of the limit spectrum) at several step
counts T, at ||w*||^2 = --signal-norm2 and noise --sigma. Instant: no
sampling. With --results, the ridge and gd rows of a sweep (the given sigma,
any signal law with that E||w*||^2) are overlaid as points with 95% bars at
x = d / n. Writes DIR/curves.png and DIR/curves.csv.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import add_command


def _range(text: str) -> tuple[float, float, int]:
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH,POINTS, got {text!r}")
    try:
        low, high, points = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH,POINTS, got {text!r}") from err
    return low, high, points


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "curves", "deterministic-equivalent ridge / GD risk curves vs gamma = d/n", __doc__, run)
    parser.add_argument("--gamma-range", type=_range, default=(0.05, 8.0, 120),
                        help="LOW,HIGH,POINTS of the geometric gamma grid (default 0.05,8,120)")
    parser.add_argument("--sigma", type=float, default=0.1, help="noise standard deviation (default 0.1)")
    parser.add_argument("--signal-norm2", type=float, default=1.0, help="||w*||^2 (default 1)")
    parser.add_argument("--steps", default="1,4,16,64", help="GD step counts, comma separated")
    parser.add_argument("--results", type=Path, default=None, help="results.csv to overlay")
    parser.add_argument("--out", type=Path, default=Path("runs/curves"), help="output directory")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from theory import gd_risk_limit, ridge_optimal_risk, ridge_risk_limit

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
    gamma = np.geomspace(low, high, points)
    s2, r2 = args.sigma**2, args.signal_norm2
    eta = 1.0 / (1.0 + np.sqrt(gamma)) ** 2
    curves = pd.DataFrame({"gamma": gamma, "ridge_optimal": ridge_optimal_risk(gamma, r2, s2),
                           "ridgeless": ridge_risk_limit(gamma, r2, s2, 0.0)})
    for T in steps:
        curves[f"gd_T{T}"] = gd_risk_limit(gamma, r2, s2, eta, T)
    overlay = _overlay(args.results, args.sigma, r2) if args.results is not None else None
    args.out.mkdir(parents=True, exist_ok=True)
    curves.to_csv(args.out / "curves.csv", index=False)
    _plot(curves, overlay, args, args.out / "curves.png")
    print(f"wrote {args.out / 'curves.csv'}, {args.out / 'curves.png'}"
          + (f" ({len(overlay)} Monte Carlo points overlaid)" if overlay is not None else ""))
    return 0


def _overlay(path: Path, sigma: float, r2: float):
    import pandas as pd

    from simulations.problems import signal_norm2

    if not path.is_file():
        raise ValueError(f"--results: no such file {path}")
    frame = pd.read_csv(path)
    missing = {"method", "n", "d", "s", "sigma", "signal", "risk_mean", "risk_lo", "risk_hi"} - set(frame.columns)
    if missing:
        raise ValueError(f"--results is missing columns {sorted(missing)}")
    frame = frame[frame.method.isin(["ridge", "gd"]) & np.isclose(frame.sigma, sigma)]
    frame = frame[[np.isclose(signal_norm2(g, int(s)), r2) for g, s in zip(frame.signal, frame.s)]]
    return frame.assign(gamma=frame.d / frame.n)


def _plot(curves, overlay, args, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(curves.gamma, curves.ridge_optimal, "k-", lw=2, label="ridge, optimal lam (MP limit)")
    ax.plot(curves.gamma, curves.ridgeless, "k:", label="ridgeless (min-norm LS)")
    for column in [c for c in curves.columns if c.startswith("gd_T")]:
        ax.plot(curves.gamma, curves[column], "--", label=f"GD, T = {column[4:]}, eta = 1/(1+sqrt(gamma))^2")
    if overlay is not None:
        for method, marker in (("ridge", "o"), ("gd", "s")):
            rows = overlay[overlay.method == method]
            if len(rows):
                err = [rows.risk_mean - rows.risk_lo, rows.risk_hi - rows.risk_mean]
                tuning = ",".join(sorted(rows.tuning.unique())) if "tuning" in rows else ""
                ax.errorbar(rows.gamma, rows.risk_mean, yerr=err, fmt=marker, ms=4, capsize=2,
                            label=f"Monte Carlo {method} ({tuning} tuning)")
    ax.set(xscale="log", yscale="log", xlabel="gamma = d / n", ylabel="excess risk ||w_hat - w*||^2",
           ylim=(max(1e-4, float(np.nanmin(curves.ridge_optimal)) / 2), None),
           title=f"deterministic equivalents, ||w*||^2 = {args.signal_norm2:g}, sigma = {args.sigma:g}")
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
