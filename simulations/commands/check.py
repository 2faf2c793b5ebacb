"""``sparse-icl check RESULTS.csv``: compare a sweep's results with the theory.

For every cell and claim (exact oracle/OLS risks, the rotation-equivariant
floor, the Lasso rate, the project's PtO upper bound, C4 PtO vs ridge/GD,
C5 PtO vs Lasso, the Lasso and the posterior mean against their exact AMP
limits, C5 against the optimally tuned Lasso limit): holds / violated /
outside regime; log-log slopes of the
risk in n, d, s with 95% CIs next to the predicted exponents; fitted
constants. Writes DIR/check.csv, slopes.csv, constants.csv and the PNGs
(default DIR: the results file's folder). See docs/theory.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..outputs import out_path, output_dir
from . import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "check", "check a results.csv against the theory (verdicts, slopes, phase diagram)", __doc__, run)
    parser.add_argument("results", type=Path, help="results.csv written by sparse-icl sweep")
    parser.add_argument("--out", type=out_path, default=None, help="output directory (default: next to RESULTS)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict counts")
    parser.add_argument("--cells", action="store_true", help="also print the verdict of every cell (check.csv)")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from theory import check_results

    if not args.results.is_file():
        raise ValueError(f"results: no such file {args.results}")
    try:
        frame = pd.read_csv(args.results)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"results: cannot read {args.results} as CSV ({err})") from err
    report = check_results(frame)
    out = output_dir(args.out if args.out is not None else args.results.parent)
    written = report.save(out)
    print(report.summary().to_string() if args.quiet else report.to_string(cells=args.cells))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
