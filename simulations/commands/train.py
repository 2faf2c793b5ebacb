"""``sparse-icl train``: train an in-context regression transformer (needs torch).

Settings come from ``--config FILE.json`` (keys of ``TrainConfig``), then
individual flags, which override the file. ``--resume`` continues the run in
``--out`` from its checkpoint (``--steps`` and ``--hold`` raised by the same
amount prolong it at its floor rate); ``--max-minutes`` stops cleanly after a
checkpoint, so a long run can be done in chained chunks.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

from ..outputs import out_path, output_dir
from . import add_command, int_list, positive_int


#: The TrainConfig fields given as flags (besides --heads and --mlp): flag, type, help. The defaults named in
#: the help are TrainConfig's (tests/test_cli_help.py checks them); a flag not given keeps --config's value.
FIELD_FLAGS = (
    ("d", int, "dimension (default 8)"),
    ("s", int, "nonzeros of w* (default 2)"),
    ("sigma", float, "noise standard deviation (default 0.1)"),
    ("signal", str, "law of the nonzeros: gaussian, rademacher or unnormalized (default gaussian)"),
    ("n-min", int, "smallest context length (default 2)"),
    ("n-max", int, "largest context length (default 16)"),
    ("curriculum-steps", int, "steps over which the largest context length grows from n-min to n-max; "
                              "0: n-max from the start (default 0)"),
    ("queries", int, "query points per prompt (default 4)"),
    ("width", int, "embedding width (default: 2d + 1 for linear attention, 64 for softmax)"),
    ("head-dim", int, "query/key/value width of every head (default: width // heads)"),
    ("attention", str, "linear or softmax (default linear)"),
    ("init-std", float, "standard deviation of the normal weight init (default: 1 / sqrt(width))"),
    ("init", str, "random, or pto: start at the exact PtO construction (linear attention, heads d,1,...,1, "
                  "width 2d + 1, head-dim d) (default random)"),
    ("init-step-size", float, "GD step size of the construction that --init pto starts from "
                              "(default: none; required by pto)"),
    ("steps", int, "optimiser steps (default 2000)"),
    ("batch", int, "prompts per step (default 128)"),
    ("lr", float, "peak AdamW learning rate, reached after the warm-up, then cosine decay to lr / 10 "
                  "(default 0.001)"),
    ("weight-decay", float, "AdamW weight decay (default 0)"),
    ("warmup", int, "steps of linear learning-rate warm-up (default 100)"),
    ("hold", int, "last steps held at lr / 10 after the decay; with --resume, raising steps and hold together "
                  "prolongs a run at its floor rate, bit for bit (default 0)"),
    ("grad-clip", float, "clip the gradient norm at this value; 0: no clipping (default 1)"),
    ("loss", str, "training objective: mse, or huber (the MSE's gradient for residuals up to huber-delta, "
                  "bounded beyond) (default mse)"),
    ("huber-delta", float, "residual beyond which the huber objective grows linearly (default 1)"),
    ("seed", int, "seed of the initial weights and of the prompt stream (default 0)"),
    ("device", str, "cpu, cuda or auto: cuda when available (default auto)"),
    ("dtype", str, "float32 or float64 (default float32)"),
    ("compile", str, "none, default or reduce-overhead: torch.compile the model in that mode (reduce-overhead "
                     "replays CUDA graphs of the model on a GPU); graph: record each whole training step as a "
                     "CUDA graph and replay it (CUDA only) (default none)"),
    ("log-every", int, "steps between lines of metrics.jsonl (default 50)"),
    ("checkpoint-every", int, "steps between checkpoints (default 500)"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "train", "train a transformer on sparse-regression prompts", __doc__, run)
    parser.set_defaults(interrupt_hint="the last checkpoint is kept in {out}; rerun with --resume to continue")
    parser.add_argument("--config", type=Path, help="JSON file with TrainConfig fields")
    parser.add_argument("--out", type=out_path, required=True, help="run directory (checkpoint, metrics, config)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after M minutes")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--quiet", "--no-progress", dest="no_progress", action="store_true", help="hide the progress bar")
    group = parser.add_argument_group(
        "TrainConfig fields", "each overrides --config; the defaults shown are those of a field absent from both")
    group.add_argument("--heads", type=int_list, help="heads per layer, comma separated, e.g. 8,8,8 (default 4,4,4)")
    for name, kind, text in FIELD_FLAGS:
        group.add_argument(f"--{name}", type=kind, help=text)
    group.add_argument("--mlp", action=argparse.BooleanOptionalAction, default=None,
                       help="a GELU MLP after each attention sub-layer (default: none)")


def run(args: argparse.Namespace) -> int:
    import torch

    from simulations.transformer.train import TrainConfig, train

    values: dict = {}
    if args.config is not None:
        if not args.config.exists():
            raise ValueError(f"--config file not found: {args.config}")
        values.update(read_config(args.config, "--config"))
    elif args.resume and (args.out / "config.json").exists():
        values.update(read_config(args.out / "config.json", "--resume"))
    for f in fields(TrainConfig):
        flag = getattr(args, f.name, None)
        if flag is not None:
            values[f.name] = flag
    try:
        config = TrainConfig.from_dict(values)
    except (TypeError, ValueError) as err:
        source = f"--config {args.config}" if args.config is not None else "config"
        raise ValueError(f"{source}: {err}") from None
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise ValueError(f"--max-minutes must be > 0, got {args.max_minutes}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.resume and not (args.out / "checkpoint.pt").exists():
        raise ValueError(f"--resume: no checkpoint in {args.out}")
    output_dir(args.out)
    result = train(config, args.out, resume=args.resume, max_minutes=args.max_minutes,
                   progress=not args.no_progress)
    state = "finished" if result.finished else "stopped (resume with --resume)"
    print(f"{state} at step {result.step}/{config.steps}; run directory {result.out}")
    return 0


def read_config(path: Path, flag: str) -> dict:
    """The JSON object of TrainConfig fields in ``path``; ``ValueError`` naming the file otherwise."""
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{flag} {path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{flag} {path}: not a text file") from None
    if not isinstance(values, dict):
        raise ValueError(f"{flag} {path}: expected a JSON object of TrainConfig fields, got {type(values).__name__}")
    return values
