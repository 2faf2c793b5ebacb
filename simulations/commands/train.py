"""``sparse-icl train``: train an in-context regression transformer (needs torch).

Settings come from ``--config FILE.json`` (keys of ``TrainConfig``), then
individual flags, which override the file. ``--resume`` continues the run in
``--out`` from its checkpoint; ``--max-minutes`` stops cleanly after a
checkpoint, so a long run can be done in chained chunks.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

from . import add_command

_FLAG_TYPES = {"heads": lambda text: [int(h) for h in text.split(",")]}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "train", "train a transformer on sparse-regression prompts", __doc__, run)
    parser.add_argument("--config", type=Path, help="JSON file with TrainConfig fields")
    parser.add_argument("--out", type=Path, required=True, help="run directory (checkpoint, metrics, config)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after M minutes")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--quiet", "--no-progress", dest="no_progress", action="store_true", help="hide the progress bar")
    group = parser.add_argument_group("TrainConfig fields (override --config)")
    group.add_argument("--heads", type=_FLAG_TYPES["heads"], help="heads per layer, comma separated, e.g. 8,8,8")
    for name, kind in (("d", int), ("s", int), ("sigma", float), ("signal", str), ("n-min", int),
                       ("n-max", int), ("curriculum-steps", int), ("queries", int), ("width", int),
                       ("head-dim", int), ("attention", str), ("init-std", float), ("steps", int),
                       ("batch", int), ("lr", float), ("weight-decay", float), ("warmup", int),
                       ("grad-clip", float), ("seed", int), ("device", str), ("dtype", str),
                       ("log-every", int), ("checkpoint-every", int)):
        group.add_argument(f"--{name}", type=kind)
    group.add_argument("--mlp", action=argparse.BooleanOptionalAction, default=None)


def run(args: argparse.Namespace) -> int:
    import torch

    from simulations.transformer.train import TrainConfig, train

    values: dict = {}
    if args.config is not None:
        if not args.config.exists():
            raise ValueError(f"--config file not found: {args.config}")
        values.update(json.loads(args.config.read_text()))
    elif args.resume and (args.out / "config.json").exists():
        values.update(json.loads((args.out / "config.json").read_text()))
    for f in fields(TrainConfig):
        flag = getattr(args, f.name, None)
        if flag is not None:
            values[f.name] = flag
    config = TrainConfig.from_dict(values)
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise ValueError(f"--max-minutes must be > 0, got {args.max_minutes}")
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.resume and not (args.out / "checkpoint.pt").exists():
        raise ValueError(f"--resume: no checkpoint in {args.out}")
    result = train(config, args.out, resume=args.resume, max_minutes=args.max_minutes,
                   progress=not args.no_progress)
    state = "finished" if result.finished else "stopped (resume with --resume)"
    print(f"{state} at step {result.step}/{config.steps}; run directory {result.out}")
    return 0
