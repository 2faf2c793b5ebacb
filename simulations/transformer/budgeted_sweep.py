"""A heads sweep sized to a time budget: several trainings at once on one device.

    python -m simulations.transformer.budgeted_sweep --config CONFIG.json --runs 8:0 4:0 2:0 1:0 \\
        --minutes 4 --out runs/gpu_heads [--steps N] [--probe-steps 150]

Each ``--runs`` entry is ``heads:seed`` (the same heads in every layer). All
runs train at the same time, one process each, on ``CONFIG``'s device, with
one schedule: the same ``steps`` for all.

Without ``--steps``, the step count is chosen for the budget: every process
first times ``--probe-steps`` training steps at the largest context length,
all at once, so the probe sees the same sharing of the device as the
training; then ``steps = floor(0.9 * slowest rate * 60 * minutes)``, rounded
down to a multiple of ``checkpoint_every``. The chosen count goes into each
run's ``config.json``, so the sweep is rerun exactly with ``--steps`` (or with
``sparse-icl train --config RUN/config.json``), without a probe. A run that
still outlasts ``1.2 * minutes`` stops at a checkpoint and resumes with the
same command (``--steps`` given, plus ``--resume``).

Runs go to ``OUT/h{heads}_seed{seed}``; the sweep's log (rate, steps, each
run's last line) to ``OUT/sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from .train import TrainConfig, TrainStep

#: Share of the probed time given to the schedule; the rest absorbs the start-up of each process.
BUDGET_SHARE = 0.9


def parse_run(text: str) -> tuple[int, int]:
    """``"heads:seed"`` -> (heads, seed)."""
    try:
        heads, seed = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--runs entries are heads:seed, got {text!r}") from None
    if heads < 1 or seed < 0:
        raise argparse.ArgumentTypeError(f"--runs entries need heads >= 1 and seed >= 0, got {text!r}")
    return heads, seed


def run_config(base: TrainConfig, heads: int, seed: int, steps: int) -> TrainConfig:
    return replace(base, heads=[heads] * len(base.heads), seed=seed, steps=steps)


def probe_rate(values: dict, probe_steps: int, barrier, results, index: int) -> None:
    """Put (index, training steps per second of this process) on ``results``.

    The timing starts at ``barrier``, once every process has built its model
    and taken ``probe_steps // 5`` warm-up steps, so that all are timed while
    sharing the device.
    """
    import torch

    config = TrainConfig.from_dict(values)
    step = TrainStep(config)
    for _ in range(max(1, probe_steps // 5)):
        step(config.n_max)
    if step.device.type == "cuda":
        torch.cuda.synchronize()
    barrier.wait()
    start = time.perf_counter()
    for _ in range(probe_steps):
        last = step(config.n_max)
    last.tolist()  # waits for the queued steps
    results.put((index, probe_steps / (time.perf_counter() - start)))


def probe_rates(configs: list[dict], probe_steps: int) -> list[float]:
    """Steps per second of each config, all probed at once (one process each)."""
    context = mp.get_context("spawn")
    barrier, results = context.Barrier(len(configs)), context.Queue()
    processes = [context.Process(target=probe_rate, args=(values, probe_steps, barrier, results, i))
                 for i, values in enumerate(configs)]
    for process in processes:
        process.start()
    rates = dict(results.get() for _ in processes)
    for process in processes:
        process.join()
    return [rates[i] for i in range(len(configs))]


def budget_steps(rate: float, minutes: float, multiple: int) -> int:
    """``floor(BUDGET_SHARE * rate * 60 * minutes)`` rounded down to ``multiple`` (at least ``multiple``)."""
    return max(multiple, int(BUDGET_SHARE * rate * 60 * minutes) // multiple * multiple)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="TrainConfig JSON shared by the runs")
    parser.add_argument("--runs", type=parse_run, nargs="+", required=True, help="heads:seed entries")
    parser.add_argument("--minutes", type=float, required=True, help="training budget of the sweep")
    parser.add_argument("--out", type=Path, required=True, help="directory of the runs")
    parser.add_argument("--steps", type=int, default=None, help="skip the probe and train this many steps")
    parser.add_argument("--probe-steps", type=int, default=150)
    parser.add_argument("--resume", action="store_true", help="continue the runs from their checkpoints")
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        parser.error(f"--minutes must be > 0, got {args.minutes}")
    try:
        base = TrainConfig.from_dict(json.loads(args.config.read_text()))
    except (OSError, ValueError, TypeError) as err:
        parser.error(f"--config {args.config}: {err}")

    record: dict = {"config": str(args.config), "runs": [f"h{h}_seed{s}" for h, s in args.runs],
                    "minutes": args.minutes}
    steps = args.steps
    if steps is None:
        probes = [asdict(run_config(base, h, s, base.steps)) for h, s in args.runs]
        rates = probe_rates(probes, args.probe_steps)
        steps = budget_steps(min(rates), args.minutes, base.checkpoint_every)
        record["probe"] = {"steps": args.probe_steps, "rates": [round(r, 2) for r in rates]}
    record["steps"] = steps
    print(f"steps per run: {steps}" + (f" (probed rates {record['probe']['rates']} steps/s)" if "probe" in record
                                       else ""), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    processes = []
    for heads, seed in args.runs:
        run = args.out / f"h{heads}_seed{seed}"
        run.mkdir(parents=True, exist_ok=True)
        config_path = run / "sweep_config.json"
        config_path.write_text(json.dumps(asdict(run_config(base, heads, seed, steps)), indent=2) + "\n")
        command = [sys.executable, "-m", "simulations", "train", "--config", str(config_path), "--out", str(run),
                   "--max-minutes", f"{1.2 * args.minutes:g}", "--quiet"]
        if args.resume and (run / "checkpoint.pt").exists():
            command.append("--resume")
        processes.append((run, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                text=True)))
    start = time.monotonic()
    record["results"] = {}
    failed = 0
    for run, process in processes:
        output, _ = process.communicate()
        lines = output.strip().splitlines()
        record["results"][run.name] = {"returncode": process.returncode, "last_line": lines[-1] if lines else ""}
        failed += process.returncode != 0
        print(f"{run.name}: {lines[-1] if lines else '(no output)'}", flush=True)
        if process.returncode != 0:
            print(output, file=sys.stderr)
    record["wall_seconds"] = round(time.monotonic() - start, 1)
    (args.out / "sweep.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{len(processes)} runs in {record['wall_seconds']} s, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
