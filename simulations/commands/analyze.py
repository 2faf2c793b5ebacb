"""``sparse-icl analyze``: risk vs n, head importance, pruning, probing and agreement (needs torch).

Reads a checkpoint written by ``sparse-icl train`` (a ``checkpoint.pt`` file or
its run directory) and writes one JSON and one PNG per analysis into ``--out``
(default: ``CHECKPOINT_DIR/analysis``). When the run directory holds
``checkpoint_80pct.pt`` the convergence check reports what the last 20% of
training gained. ``--seeds`` analyses more runs of the same configuration
(other seeds) into ``OUT/seed_<k>``. ``OUT/verdicts.json`` and
``OUT/verdicts.md`` hold the convergence table and the verdicts on C1, C2, C6
and C7 over all seeds (:mod:`simulations.transformer.verdicts`). ``--regrade``
rewrites only the report, those two files and the figures, from the JSON files
an earlier analysis left in ``OUT`` and ``OUT/seed_<k>`` (seconds instead of
minutes: for when the report changes, not the analyses).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..outputs import out_path, output_dir
from . import add_command, int_list, positive_int

if TYPE_CHECKING:  # torch is imported only when the command runs
    from simulations.transformer.train import TrainConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "analyze",
                         "analyse a trained transformer (risk vs n, heads, pruning, probes, agreement)", __doc__, run)
    parser.add_argument("checkpoint", type=Path, help="checkpoint.pt or a run directory")
    parser.add_argument("--out", type=out_path, default=None, help="output directory")
    parser.add_argument("--single", type=Path, default=None,
                        help="checkpoint of a single-head model trained on the same task (pruning comparison)")
    parser.add_argument("--compare", type=Path, nargs="+", default=None,
                        help="other checkpoints (e.g. the rest of a heads sweep) to show in the risk-vs-n panel")
    parser.add_argument("--seeds", type=Path, nargs="+", default=None,
                        help="runs of the same configuration with other seeds: analysed too, verdicts over all")
    parser.add_argument("--ns", type=int_list, default=None,
                        help="context lengths, comma separated (default: 2, 4, ... up to the training n_max)")
    parser.add_argument("--n-probe", type=int, default=None,
                        help="n for head importance, probing and agreement (default: d)")
    parser.add_argument("--trials", type=int, default=1000, help="prompts per evaluation (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=positive_int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--regrade", action="store_true",
                        help="only rewrite the verdicts and figures from the analysis JSON files already in OUT")


def describe(config: TrainConfig, seed: bool = True) -> str:
    """A trained model's name in figures and tables: heads per layer, steps (and seed)."""
    return f"heads {config.heads}, {config.steps:,} steps" + (f", seed {config.seed}" if seed else "")


def run(args: argparse.Namespace) -> int:
    import torch

    from simulations.transformer.analysis import analyse_all
    from simulations.transformer.figures import draw_all
    from simulations.transformer.train import load_model, load_snapshot
    from simulations.transformer.verdicts import decide, markdown

    if args.trials < 4:
        raise ValueError(f"--trials must be >= 4, got {args.trials}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    model, config, step = load_model(args.checkpoint)
    single, single_config, _ = load_model(args.single) if args.single is not None else (None, None, None)
    compare = {}
    for path in args.compare or []:
        same_as_single = args.single is not None and path.resolve() == args.single.resolve()
        other, other_config, _ = (single, single_config, None) if same_as_single else load_model(path)
        if (other_config.d, other_config.s, other_config.sigma) != (config.d, config.s, config.sigma):
            raise ValueError(f"--compare {path}: trained on a different task than {args.checkpoint}")
        compare[describe(other_config)] = other
    ns = args.ns or list(range(2, config.n_max + 1, 2))
    if min(ns) < 1:
        raise ValueError(f"--ns must be >= 1, got {ns}")
    n_probe = args.n_probe or config.d
    ns = sorted(set(ns) | {n_probe})
    if n_probe < 2:
        raise ValueError(f"--n-probe must be >= 2, got {n_probe}")
    out = args.out or (args.checkpoint if args.checkpoint.is_dir() else args.checkpoint.parent) / "analysis"
    label = describe(config, seed=False)
    if args.regrade:
        analyses = read_analyses(out)
        runs = [results for _, results in analyses]
        try:
            decided = decide(runs, int(runs[0]["convergence"]["n"]))
            report = markdown(runs, decided, label)
            for k, (directory, results) in enumerate(analyses):
                draw_all(results, directory, f"{label}, seed {config.seed if k == 0 else int(directory.name[5:])}")
        except (AttributeError, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as err:
            raise ValueError(f"--regrade: {out}: a field of the analysis is missing or malformed ({err!r}); "
                             "rerun sparse-icl analyze") from None
        write_verdicts(out, decided, report)
        print(f"wrote the verdicts and figures of {out} from the analyses of {len(runs)} seed(s)")
        return 0
    output_dir(out)
    task = config.problem
    runs = []
    for k, path in enumerate([args.checkpoint, *(args.seeds or [])]):
        model_k, config_k, _ = (model, config, step) if k == 0 else load_model(path)
        if k and {**asdict(config_k), "seed": 0} != {**asdict(config), "seed": 0}:
            raise ValueError(f"--seeds {path}: not the configuration of {args.checkpoint} with another seed")
        earlier = load_snapshot(path)
        results = analyse_all(model_k, task, ns, n_probe, trials=args.trials, single=single, seed=args.seed,
                              compare=compare if k == 0 else None, earlier=earlier)
        run_out = out if k == 0 else output_dir(out / f"seed_{config_k.seed}")
        write_json(results, run_out)
        draw_all(results, run_out, f"{label}, seed {config_k.seed}")
        runs.append(results)
    results = runs[0]
    decided = decide(runs, n_probe)
    write_verdicts(out, decided, markdown(runs, decided, label))
    agree = results["agreement"]["algorithms"]
    conv = results["convergence"]
    print(f"wrote {out}: risk at n={n_probe}: {conv['risk']:.4g} (ridge {conv['algorithms']['ridge']['risk']:.4g}, "
          f"PtO {conv['algorithms']['pto']['risk']:.4g}, Bayes {conv['algorithms']['bayes']['risk']:.4g}); "
          + ", ".join(f"{k} msd {v['msd']:.3g}" for k, v in agree.items())
          + f"; closest: {results['agreement']['closest']}")
    return 0


def write_verdicts(out: Path, decided: dict, report: str) -> None:
    """``OUT/verdicts.json`` (the verdicts of every claim and seed) and ``OUT/verdicts.md`` (``report``)."""
    (out / "verdicts.json").write_text(json.dumps(decided, indent=1) + "\n")
    (out / "verdicts.md").write_text(report)


#: The analyses that the verdicts and figures read, one JSON file each per seed directory.
REPORTED = ("convergence", "risk_vs_n", "head_importance", "pruning", "probing", "agreement")


def read_analyses(out: Path) -> list[tuple[Path, dict]]:
    """(directory, analyses) of every seed directory of ``out`` (``out`` itself, then ``seed_<k>/``), read back
    from their JSON files: untrusted input, so a missing or unreadable file is one ValueError naming it."""
    from simulations.transformer.model_table import read_json, seed_directories

    if not out.is_dir():
        raise ValueError(f"--regrade: {out} is not a directory (run sparse-icl analyze first)")
    return [(directory, {name: read_json(directory / f"{name}.json") for name in REPORTED})
            for directory in seed_directories(out)]


def write_json(results: dict, out: Path) -> None:
    """``<name>.json`` in ``out`` for every analysis in ``results``."""
    for name, result in results.items():
        (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
