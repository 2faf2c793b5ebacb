"""Where Bayes-optimal AMP falls short of the Bayes risk (the hard phase), for the sampler's priors.

``python -m theory.hard_phase --out docs/data/bayes_hard_phase.csv`` scans
``delta = n/d`` on a geometric grid for each signal law, sparsity ``eps = s/d``
and noise level, and writes the range of the grid where
:func:`theory.bayes_risk_amp` exceeds :func:`theory.mmse_replica` by more than
a relative 1e-6, with the largest ratio of the two. The limits depend on the
sizes only through ``n/d`` and ``s/d`` for these laws (``E||w*||^2 = 1``);
they are evaluated at ``d = 10^4``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from .amp import bayes_risk_amp, mmse_replica

SIGNALS = ("gaussian", "rademacher")
EPS = (1 / 32, 1 / 16, 1 / 8, 1 / 4)
SIGMAS = (0.01, 0.1, 0.5)
#: The delta grid: geometric, this many points on [DELTA_MIN, 1] (about 2% apart).
DELTA_MIN, POINTS = 0.02, 200
D = 1e4


def hard_phase_table() -> pd.DataFrame:
    """One row per (signal, eps, sigma): ``delta_lo, delta_hi`` of the hard phase on the grid (NaN if none)."""
    delta = np.geomspace(DELTA_MIN, 1.0, POINTS)
    rows = []
    for signal in SIGNALS:
        for eps in EPS:
            for sigma in SIGMAS:
                amp = bayes_risk_amp(delta * D, D, eps * D, sigma=sigma, signal=signal)
                mmse = mmse_replica(delta * D, D, eps * D, sigma=sigma, signal=signal)
                hard = amp > mmse * (1 + 1e-6)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(hard, amp / mmse, 1.0)  # inf where the MMSE underflows to 0
                rows.append(dict(signal=signal, eps=eps, sigma=sigma, grid_points=POINTS,
                                 delta_lo=delta[hard].min() if hard.any() else np.nan,
                                 delta_hi=delta[hard].max() if hard.any() else np.nan,
                                 hard_points=int(hard.sum()), max_ratio=float(ratio.max())))
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    table = hard_phase_table()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4g")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
