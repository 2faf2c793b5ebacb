"""A heads sweep sized to a time budget: several trainings at once on one device.

    python -m simulations.transformer.budgeted_sweep --config CONFIG.json --runs 8:0 4:0 2:0 1:0 \\
        --minutes 4 --out runs/gpu_heads [--steps N] [--probe-steps 150]

Each ``--runs`` entry is ``heads:seed`` (the same heads in every layer). All
runs train at the same time, one process each, on ``CONFIG``'s device, with
one schedule: the same ``steps`` for all.

Without ``--steps``, the step count is chosen for the budget: every process
first times ``--probe-steps`` training steps, cycling through the context lengths,
all at once, so the probe sees the same sharing of the device as the
training; then ``steps = floor(0.9 * slowest rate * (60 * minutes - warm-up))``,
rounded down to a multiple of ``checkpoint_every``; the warm-up (seconds to
build the model and take the first steps, ``torch.compile``'s compilation
included) is paid again by every run. ``--compile auto`` probes eager steps,
CUDA graphs of the model (``torch.compile(mode="reduce-overhead")``) and CUDA
graphs of the whole step (``compile="graph"``, :class:`.train.TrainStep`) one
after the other and keeps the mode that fits the most steps; a mode whose
probe fails is skipped, with its error in the log. The chosen count goes into each
run's ``config.json``, so the sweep is rerun exactly with ``--steps`` (or with
``sparse-icl train --config RUN/config.json``), without a probe. A run that
still outlasts ``1.2 * minutes`` stops at a checkpoint and resumes with the
same command (``--steps`` given, plus ``--resume``).

Runs go to ``OUT/h{heads}_seed{seed}``; the sweep's log (rate, steps, each
run's last line) to ``OUT/sweep.json``. SIGTERM (``timeout``, a batch
system) is passed on to the runs, which stop at a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from .train import COMPILE_MODES, TrainConfig, TrainStep

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
    """Put (index, steps per second, warm-up seconds, error) of this process on ``results``.

    Steps cycle through every context length ``n_min .. n_max`` (a compiled
    step meets each shape once in the warm-up). The timing starts at
    ``barrier``, once every process has built its model and taken its
    warm-up steps (at least one per length and ``probe_steps // 5``; they
    include any ``torch.compile`` compilation), so that all are timed while
    sharing the device. A process that fails reports its error and breaks the barrier,
    so that the others report instead of waiting.
    """
    import torch

    try:
        config = TrainConfig.from_dict(values)
        start = time.perf_counter()
        step = TrainStep(config)
        lengths = list(range(config.n_min, config.n_max + 1))  # every context length, as training meets them
        for i in range(max(len(lengths), probe_steps // 5)):
            step(lengths[i % len(lengths)])
        if step.device.type == "cuda":
            torch.cuda.synchronize()
        warmup = time.perf_counter() - start
        barrier.wait()
        start = time.perf_counter()
        for i in range(probe_steps):
            last = step(lengths[i % len(lengths)])
        last.tolist()  # waits for the queued steps
        results.put((index, probe_steps / (time.perf_counter() - start), warmup, None))
    except Exception as error:  # noqa: BLE001 -- reported to the parent, which decides
        barrier.abort()
        results.put((index, None, None, f"{type(error).__name__}: {error}"))


def probe_rates(configs: list[dict], probe_steps: int) -> list[tuple[float | None, float | None, str | None]]:
    """(steps per second, warm-up seconds, error) of each config, all probed at once (one process each)."""
    context = mp.get_context("spawn")
    barrier, results = context.Barrier(len(configs)), context.Queue()
    processes = [context.Process(target=probe_rate, args=(values, probe_steps, barrier, results, i))
                 for i, values in enumerate(configs)]
    for process in processes:
        process.start()
    reports = {index: rest for index, *rest in (results.get() for _ in processes)}
    for process in processes:
        process.join()
    return [tuple(reports[i]) for i in range(len(configs))]


def budget_steps(rate: float, seconds: float, multiple: int) -> int:
    """``floor(BUDGET_SHARE * rate * seconds)`` rounded down to ``multiple`` (at least ``multiple``)."""
    return max(multiple, int(BUDGET_SHARE * rate * seconds) // multiple * multiple)


def choose_steps(base: TrainConfig, runs: list[tuple[int, int]], modes: list[str], minutes: float,
                 probe_steps: int) -> tuple[str, int, dict]:
    """Probe each compile mode in turn; the mode and step count that fit the most steps in the budget.

    A mode's budget is ``60 * minutes`` less its warm-up (the compilation,
    which every training process pays again). Returns (mode, steps, the
    probes' record).
    """
    record, best = {}, None
    for mode in modes:
        reports = probe_rates([asdict(replace(run_config(base, h, s, base.steps), compile=mode))
                               for h, s in runs], probe_steps)
        errors = [error for _, _, error in reports if error]
        if errors:
            record[mode] = {"error": errors[0]}
            continue
        rate, warmup = min(r for r, _, _ in reports), max(w for _, w, _ in reports)
        steps = budget_steps(rate, 60 * minutes - warmup, base.checkpoint_every)
        record[mode] = {"rates": [round(r, 2) for r, _, _ in reports], "warmup_seconds": round(warmup, 1),
                        "steps": steps}
        if best is None or steps > best[1]:
            best = (mode, steps)
    if best is None:
        raise RuntimeError(f"every probe failed: {record}")
    return best[0], best[1], record


def _stop_runs(processes: list[tuple[Path, subprocess.Popen]]):
    """SIGTERM handler: pass the signal on to every run (each checkpoints and stops), wait, exit 143."""
    def stop(signum, frame) -> None:
        for _, process in processes:
            if process.poll() is None:
                process.terminate()
        for _, process in processes:
            process.wait(timeout=60)
        sys.exit(128 + signum)

    return stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="TrainConfig JSON shared by the runs")
    parser.add_argument("--runs", type=parse_run, nargs="+", required=True, help="heads:seed entries")
    parser.add_argument("--minutes", type=float, required=True, help="training budget of the sweep")
    parser.add_argument("--out", type=Path, required=True, help="directory of the runs")
    parser.add_argument("--steps", type=int, default=None, help="skip the probe and train this many steps")
    parser.add_argument("--probe-steps", type=int, default=150)
    parser.add_argument("--compile", choices=("config", "auto") + COMPILE_MODES, default="config",
                        help="compile mode of the runs: the config's (default), one of the modes, or auto: "
                             "probe none, reduce-overhead and graph, keep the one that fits the most steps")
    parser.add_argument("--resume", action="store_true", help="continue the runs from their checkpoints")
    args = parser.parse_args(argv)
    if not (math.isfinite(args.minutes) and args.minutes > 0):
        parser.error(f"--minutes must be finite and > 0, got {args.minutes}")
    for flag, value in (("--steps", args.steps), ("--probe-steps", args.probe_steps)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be an integer >= 1, got {value}")
    if args.resume and args.steps is None:
        parser.error("--resume needs --steps: the step count of the runs it continues (in their config.json)")
    try:
        base = TrainConfig.from_dict(json.loads(args.config.read_text()))
    except (OSError, ValueError, TypeError) as err:
        parser.error(f"--config {args.config}: {err}")

    record: dict = {"config": str(args.config), "runs": [f"h{h}_seed{s}" for h, s in args.runs],
                    "minutes": args.minutes}
    mode, steps = base.compile if args.compile in ("config", "auto") else args.compile, args.steps
    if steps is None:
        modes = ["none", "reduce-overhead", "graph"] if args.compile == "auto" else [mode]
        try:
            mode, steps, record["probe"] = choose_steps(base, args.runs, modes, args.minutes, args.probe_steps)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
    record.update(compile=mode, steps=steps)
    print(f"steps per run: {steps}, compile {mode}"
          + (f" (probes: {json.dumps(record['probe'])})" if "probe" in record else ""), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    processes = []
    for heads, seed in args.runs:
        run = args.out / f"h{heads}_seed{seed}"
        run.mkdir(parents=True, exist_ok=True)
        config_path = run / "sweep_config.json"
        config = replace(run_config(base, heads, seed, steps), compile=mode)
        config_path.write_text(json.dumps(asdict(config), indent=2) + "\n")
        command = [sys.executable, "-m", "simulations", "train", "--config", str(config_path), "--out", str(run),
                   "--max-minutes", f"{1.2 * args.minutes:g}", "--quiet"]
        if args.resume and (run / "checkpoint.pt").exists():
            command.append("--resume")
        processes.append((run, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                text=True)))
    start = time.monotonic()
    record["results"] = {}
    failed = 0
    signal.signal(signal.SIGTERM, _stop_runs(processes))
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
