"""False-alarm rates of simulations.testing's one-sided assertions on a true, tight bound.

The risk of least squares on the true support equals ``oracle_ls`` exactly
(``sigma^2 s / (n - s - 1)``), so both ``assert_risk_below("oracle", oracle_ls)``
and ``assert_risk_above("oracle", oracle_ls)`` are true claims with no slack:
each rejects with probability about ``level`` under the normal approximation.
The per-instance risk is right-skewed (an inverse-Wishart trace), heavily so
when ``n - s`` is small, which makes the ``below`` test conservative and the
``above`` test reject more often than ``level``. This script counts the
rejections over ``--seeds`` independent Monte Carlos (seeds 0, 1, ...) at
each level and prints a Markdown table::

    python benchmarks/false_alarms.py --seeds 3000 --trials 200
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from simulations.methods import Setting
from simulations.testing import assert_risk_below, oracle_ls

SETTINGS = (Setting(8, 16, 2, 0.5, "gaussian"), Setting(24, 48, 4, 0.5, "gaussian"))
LEVELS = (1e-2, 1e-3, 1e-4)


def studentized(setting: Setting, trials: int, seeds: int) -> np.ndarray:
    """``(risk - oracle_ls) / se`` of the kit's Monte Carlo for seeds ``0 .. seeds - 1``."""
    exact = oracle_ls(setting)
    values = []
    for seed in range(seeds):
        estimate = assert_risk_below("oracle", 1e300, setting, trials=trials, seed=seed).estimates[0]
        values.append((estimate.risk - exact) / estimate.sem)
    return np.array(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3000, help="independent Monte Carlos per setting")
    parser.add_argument("--trials", type=int, default=200, help="trials of each Monte Carlo")
    args = parser.parse_args(argv)
    print("| setting (n, d, s, sigma) | trials | level | rejections of risk <= exact | of risk >= exact |")
    print("|---|---|---|---|---|")
    for setting in SETTINGS:
        t = studentized(setting, args.trials, args.seeds)
        for level in LEVELS:
            q = stats.t.ppf(1 - level, args.trials - 1)
            print(f"| ({setting.n}, {setting.d}, {setting.s}, {setting.sigma:g}) | {args.trials} | {level:g} | "
                  f"{np.mean(t > q):.4f} | {np.mean(t < -q):.4f} |")


if __name__ == "__main__":
    main()
