"""``sparse-icl budget``: risk at n = d against the training budget, beside the algorithms (needs torch).

Reads finished runs of one task (``checkpoint.pt`` files or run directories;
any heads, seeds and budgets) and evaluates them all on one set of prompts
(those of the convergence check in ``sparse-icl analyze``): each run's excess
risk at n (default d), its ratio to the Bayes floor, and, when the run
directory holds ``checkpoint_80pct.pt``, what the last 20% of training gained
and whether that meets rule (b) (less than 5%). The oracle-tuned algorithms
and the Bayes posterior mean are evaluated on the same prompts. Writes
OUT/budget.json and OUT/budget.png (default OUT: runs/budget) and prints one
line per run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..outputs import out_path, output_dir
from . import add_command, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "budget", "risk at n = d of trained runs against their training budget",
                         __doc__, run)
    parser.add_argument("runs", type=Path, nargs="+", help="checkpoint.pt files or run directories")
    parser.add_argument("--out", type=out_path, default=Path("runs/budget"), help="output directory")
    parser.add_argument("--n", type=positive_int, default=None, help="context length (default: d)")
    parser.add_argument("--trials", type=int, default=2000, help="prompts (default 2000)")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch.set_num_threads (CPU)")


def run(args: argparse.Namespace) -> int:
    import torch

    from simulations.transformer.budget import budget_curve
    from simulations.transformer.figures import plot_budget
    from simulations.transformer.train import load_model, load_snapshot

    if args.trials < 4:
        raise ValueError(f"--trials must be >= 4, got {args.trials}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    runs = []
    for path in args.runs:
        model, config, step = load_model(path)
        if step < config.steps:
            raise ValueError(f"{path}: unfinished run (step {step} of {config.steps}); finish it with --resume")
        runs.append((model, config, load_snapshot(path)))
    n = args.n or runs[0][1].d
    result = budget_curve(runs, n, trials=args.trials)
    output_dir(args.out)
    (args.out / "budget.json").write_text(json.dumps(result, indent=1) + "\n")
    plot_budget(args.out / "budget.png", result, f"d = {runs[0][1].d}, s = {runs[0][1].s}: risk at n = {n} "
                                                  "vs training budget")
    for path, row in zip(args.runs, result["runs"]):
        gain = (f"late gain {row['late_gain']:.1%} +- {row['late_gain_sem']:.1%} "
                f"({'meets' if row['converged'] else 'misses'} rule b)" if "late_gain" in row else "no 80% snapshot")
        print(f"{path}: heads {row['heads']}, seed {row['seed']}, {row['prompts']:,} prompts: "
              f"risk {row['risk']:.4g} +- {row['sem']:.2g} ({row['bayes_ratio']:.3g}x Bayes), {gain}")
    print("algorithms: " + ", ".join(f"{k} {v['risk']:.4g}" for k, v in result["algorithms"].items()))
    print(f"wrote {args.out}/budget.json and budget.png")
    return 0
