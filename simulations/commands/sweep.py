"""``sparse-icl sweep``: Monte Carlo excess risk over a grid of (n, d, s, sigma)."""

from __future__ import annotations

import argparse
import sys
import time

from solvers import resolve_backend
from ..grid_args import parse_values
from ..limits import CONNECT_TIMEOUT, MAX_CELLS
from solvers.signals import SIGNALS
from ..methods import METHODS, get_methods
from ..outputs import out_path, output_dir
from ..meta import record_run
from ..problems import DTYPES
from ..tuning import TUNINGS

DEFAULTS = {
    "n": "8,12,16,24,32,48,64,96,128",
    "d": "32",
    "s": "4",
    "sigma": "0.1",
    "trials": 2000,
    "out": "runs/default",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="Monte Carlo excess risk over a grid (default: d=32, s=4, sigma=0.1, n=8..128)",
        description="Monte Carlo excess risk of each method over a grid of n, d, s, sigma. "
        "Values are comma lists of numbers and ranges start:stop:step or start:stop:xFACTOR. "
        "Results are appended cell by cell to OUT; rerunning the same command resumes. "
        f"A grid of more than {MAX_CELLS} cells needs --yes. See docs/reliability.md for what "
        "Ctrl-C, SIGTERM and file-system errors leave behind.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--n", default=DEFAULTS["n"], help="context lengths")
    p.add_argument("--d", default=DEFAULTS["d"], help="dimensions")
    p.add_argument("--s", default=DEFAULTS["s"], help="sparsities (cells with s > d are skipped)")
    p.add_argument("--sigma", default=DEFAULTS["sigma"], help="noise levels")
    p.add_argument("--signal", default="gaussian", help=f"signal laws: {', '.join(SIGNALS)}")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {', '.join(METHODS)}")
    p.add_argument("--trials", type=int, default=DEFAULTS["trials"], help="instances per cell")
    p.add_argument("--seed", type=int, default=0, help="master seed")
    p.add_argument("--tuning", default="oracle", help=f"comma list of {', '.join(TUNINGS)}")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "auto"], help="array backend")
    p.add_argument("--dtype", default="float64", choices=DTYPES,
                   help="precision of the solvers (float32: see docs/performance.md for its accuracy)")
    p.add_argument("--rng", default="auto", choices=["auto", "host", "device"],
                   help="where problems are drawn: host (NumPy), device (counter-based, on the backend); "
                   "auto = device for cupy, host for numpy")
    p.add_argument("--scheduler", default=None,
                   help="run cells on Dask: 'local' (one worker per core) or a scheduler address tcp://HOST:PORT")
    p.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT,
                   help="seconds to wait for a tcp:// scheduler to answer")
    p.add_argument("--chunk", default="auto",
                   help="instances processed at once: an integer or 'auto' (from free memory); results do not depend on it")
    p.add_argument("--out", type=out_path, default=DEFAULTS["out"], help="results directory")
    p.add_argument("--yes", action="store_true", help=f"run a grid of more than {MAX_CELLS} cells")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run, interrupt_hint="finished cells are kept in {out}/results.csv; "
                   "rerun the same command to resume")


def parse_chunk(text: str) -> int | str:
    """``--chunk``: ``auto`` or one integer >= 1 (not a grid)."""
    if text.strip() == "auto":
        return "auto"
    try:
        chunk = int(text)
    except ValueError:
        raise ValueError(f"--chunk must be one integer >= 1 or 'auto', got {text!r}") from None
    if chunk < 1:
        raise ValueError(f"--chunk must be >= 1 or 'auto', got {text}")
    return chunk


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: they load pandas, SciPy and matplotlib, which --help does not need.
    from ..distributed import check_scheduler, check_timeout
    from ..health import HEALTHY, health_lines
    from ..plotting import plot_risk_vs_n
    from ..store import RUN_SETTINGS, ResultStore
    from ..sweep import describe_seconds, estimate_seconds, grid_size, plan_cells, run_sweep

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    try:
        get_methods(methods)
    except ValueError as err:
        raise ValueError(f"--{err}") from None
    chunk = parse_chunk(args.chunk)
    check_scheduler(args.scheduler)
    check_timeout(args.connect_timeout)
    backend = resolve_backend(args.backend)
    axes = (parse_values(args.n, "n"), parse_values(args.d, "d"), parse_values(args.s, "s"),
            parse_values(args.sigma, "sigma", float), args.signal.split(","), args.tuning.split(","))
    cells = plan_cells(*axes, trials=args.trials, seed=args.seed, backend=backend, dtype=args.dtype, rng=args.rng,
                       max_cells=None if args.yes else MAX_CELLS)  # counts the grid (with an estimate) first
    out = output_dir(args.out)
    start = time.perf_counter()
    store = ResultStore(out)
    with store.lock():  # exclusive for the whole run, meta.json included; removes a killed run's *.tmp
        store.check_settings({name: getattr(cell, name) for name in RUN_SETTINGS} for cell in cells[:1])
        if not args.quiet:
            estimate = describe_seconds(estimate_seconds(*axes, trials=args.trials, methods=methods))
            print(f"sparse-icl sweep: {grid_size(*axes)} cells x {len(methods)} methods, roughly {estimate} on one "
                  "CPU core (cells already in --out are skipped)", file=sys.stderr)
        try:
            results = run_sweep(cells, methods, out, chunk=chunk, progress=not args.quiet,
                                scheduler=args.scheduler, connect_timeout=args.connect_timeout)
        except BaseException as err:
            try:  # the run's record; never in place of the error that stopped it
                record_run(out, cells=len(cells), methods=methods, backend=backend,
                           wall_seconds=round(time.perf_counter() - start, 3),
                           interrupted=isinstance(err, KeyboardInterrupt), error=type(err).__name__)
            except Exception:  # noqa: BLE001
                pass
            raise
        record_run(out, cells=len(cells), methods=methods, backend=backend,
                   wall_seconds=round(time.perf_counter() - start, 3), interrupted=False)
        figure = plot_risk_vs_n(results, out / "risk_vs_n.png")
    if not args.quiet:
        print(summary_table(results))
        for line in health_lines(results) or [HEALTHY]:
            print(line)
    print(f"results: {out / 'results.csv'}\nplot:    {figure}", file=sys.stdout)
    return 0


def summary_table(results) -> str:
    """risk_mean per cell (rows) and method (columns); a row per value of every key that varies, so
    rows of different tunings, signals or settings are shown apart, never averaged."""
    from ..store import KEY_COLUMNS

    index = ["d", "s", "sigma", "n"]
    index = [c for c in KEY_COLUMNS if c not in index + ["method", "grid_id"] and results[c].nunique() > 1] + index
    table = results.pivot_table(index=index, columns="method", values="risk_mean", aggfunc="first")
    return table.to_string(float_format=lambda v: f"{v:.4g}")
