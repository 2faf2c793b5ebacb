"""A heads sweep sized to a time budget: several trainings at once on one device.

    python -m simulations.transformer.budgeted_sweep --config CONFIG.json --runs 8:0 4:0 2:0 1:0 \\
        --minutes 4 --out runs/gpu_heads [--steps N] [--probe-steps 150] [--compile auto] [--together auto]

Each ``--runs`` entry is ``heads:seed`` (the same heads in every layer). All
runs train at the same time, one process each, on ``CONFIG``'s device, with
one schedule: the same ``steps`` for all. With ``--together yes`` they train
in this one process instead, a step of each in turn, each on its own CUDA
stream (:mod:`.together`): processes share a GPU in time slices, streams of
one process can run their small kernels side by side. ``--together auto``
probes both layouts (see :func:`candidates`).

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
from collections.abc import Callable
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
    """``base`` with ``heads`` in every layer, ``seed`` and ``steps``; the hold at ``lr / 10`` keeps its
    share of the steps (``base.hold / base.steps``: the schedule's shape, whatever the budget), within
    ``steps - warmup``."""
    hold = min(round(base.hold * steps / base.steps), max(0, steps - base.warmup))
    return replace(base, heads=[heads] * len(base.heads), seed=seed, steps=steps, hold=hold)


def warm_then_time(one_round: Callable[[int], object], lengths: int, probe_steps: int, cuda: bool,
                   start: float, ready: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """(rounds per second, warm-up seconds) of ``one_round(i)``, round ``i`` at the ``i % lengths``-th length.

    The warm-up takes at least one round per context length and ``probe_steps // 5`` (a compiled step
    meets each shape once; any ``torch.compile`` compilation falls in it) and counts from ``start`` (so
    that it includes building the models). ``ready()`` is called between the warm-up and the
    ``probe_steps`` timed rounds; on CUDA both phases end with a synchronisation, so that no queued
    kernel is left out of either.
    """
    import torch

    synchronize = torch.cuda.synchronize if cuda else (lambda: None)
    for i in range(max(lengths, probe_steps // 5)):
        one_round(i)
    synchronize()
    warmup = time.perf_counter() - start
    ready()
    timed = time.perf_counter()
    for i in range(probe_steps):
        one_round(i)
    synchronize()
    return probe_steps / (time.perf_counter() - timed), warmup


def probe_rate(values: dict, probe_steps: int, barrier, results, index: int) -> None:
    """Put (index, steps per second, warm-up seconds, error) of this process on ``results``.

    Steps cycle through every context length ``n_min .. n_max`` (:func:`warm_then_time`). The timing
    starts at ``barrier``, once every process has built its model and taken its warm-up steps, so that
    all are timed while sharing the device. A process that fails reports its error and breaks the
    barrier, so that the others report instead of waiting.
    """
    try:
        start = time.perf_counter()
        step = TrainStep(TrainConfig.from_dict(values))
        lengths = list(range(step.config.n_min, step.config.n_max + 1))
        rate, warmup = warm_then_time(lambda i: step(lengths[i % len(lengths)]), len(lengths), probe_steps,
                                      step.device.type == "cuda", start, barrier.wait)
        results.put((index, rate, warmup, None))
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


def probe_together_rate(configs: list[dict], probe_steps: int, results) -> None:
    """Put (steps per second of every run, warm-up seconds, error) of ``configs`` trained together on ``results``.

    Builds every run in turn, each on its own stream (:mod:`.together`); one round is one step of each
    run, at the same context length (:func:`warm_then_time`).
    """
    from .together import new_stream, on_stream

    try:
        start = time.perf_counter()
        steps = [TrainStep(TrainConfig.from_dict(values)) for values in configs]
        streams = [new_stream(step.device) for step in steps]
        lengths = list(range(steps[0].config.n_min, steps[0].config.n_max + 1))

        def one_round(i: int) -> None:
            for step, stream in zip(steps, streams):
                with on_stream(stream):
                    step(lengths[i % len(lengths)])

        rate, warmup = warm_then_time(one_round, len(lengths), probe_steps, any(streams), start)
        results.put((rate, warmup, None))
    except Exception as error:  # noqa: BLE001 -- reported to the parent, which decides
        results.put((None, None, f"{type(error).__name__}: {error}"))


def probe_together(configs: list[dict], probe_steps: int) -> list[tuple[float | None, float | None, str | None]]:
    """(steps per second, warm-up seconds, error) of each config, trained together in one spawned process."""
    context = mp.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=probe_together_rate, args=(configs, probe_steps, results))
    process.start()
    report = results.get()
    process.join()
    return [report] * len(configs)


def budget_steps(rate: float, seconds: float, multiple: int) -> int:
    """``floor(BUDGET_SHARE * rate * seconds)`` rounded down to ``multiple`` (at least ``multiple``)."""
    return max(multiple, int(BUDGET_SHARE * rate * seconds) // multiple * multiple)


#: The compile modes that ``--compile auto`` probes.
AUTO_MODES = ("none", "reduce-overhead", "graph")
#: The layouts of ``--together``: one process per run, or all runs in this process.
LAYOUTS = {"no": (False,), "yes": (True,), "auto": (False, True)}


def candidates(compile_arg: str, config_mode: str, together_arg: str) -> list[tuple[str, bool]]:
    """The (compile mode, together) pairs to probe.

    ``--compile auto`` probes eager steps, CUDA graphs of the model and CUDA graphs of the whole step; a
    mode given (or the config's) alone. ``--together auto`` probes both layouts, except ``torch.compile``'s
    reduce-overhead together: one process would compile every run's model in turn (a minute or more each
    on the GPU), which no budget of minutes absorbs.
    """
    modes = list(AUTO_MODES) if compile_arg == "auto" else [config_mode if compile_arg == "config" else compile_arg]
    return [(mode, together) for together in LAYOUTS[together_arg] for mode in modes
            if not (together and mode == "reduce-overhead" and compile_arg == "auto")]


def choose_steps(base: TrainConfig, runs: list[tuple[int, int]], options: list[tuple[str, bool]], minutes: float,
                 probe_steps: int) -> tuple[str, bool, int, dict]:
    """Probe each (compile mode, together) option in turn; the one that fits the most steps in the budget.

    An option's budget is ``60 * minutes`` less its warm-up (the compilation,
    which every training process pays again). Together, the runs are probed in
    one process (:func:`probe_together`), otherwise one process each
    (:func:`probe_rates`). Returns (mode, together, steps, the probes' record,
    keyed ``mode`` or ``mode, together``).
    """
    record, best = {}, None
    for mode, together in options:
        probe = probe_together if together else probe_rates
        reports = probe([asdict(replace(run_config(base, h, s, base.steps), compile=mode))
                         for h, s in runs], probe_steps)
        key = f"{mode}, together" if together else mode
        errors = [error for _, _, error in reports if error]
        if errors:
            record[key] = {"error": errors[0]}
            continue
        rate, warmup = min(r for r, _, _ in reports), max(w for _, w, _ in reports)
        steps = budget_steps(rate, 60 * minutes - warmup, base.checkpoint_every)
        record[key] = {"rates": [round(r, 2) for r, _, _ in reports], "warmup_seconds": round(warmup, 1),
                       "steps": steps}
        if best is None or steps > best[2]:
            best = (mode, together, steps)
    if best is None:
        raise RuntimeError(f"every probe failed: {record}")
    return (*best, record)


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
    parser.add_argument("--together", choices=tuple(LAYOUTS), default="no",
                        help="yes: train the runs in this one process, a step of each in turn, each on its own "
                             "CUDA stream, instead of one process each (no, the default); auto: probe both")
    args = parser.parse_args(argv)
    if not (math.isfinite(args.minutes) and args.minutes > 0):
        parser.error(f"--minutes must be finite and > 0, got {args.minutes}")
    for flag, value in (("--steps", args.steps), ("--probe-steps", args.probe_steps)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be an integer >= 1, got {value}")
    if args.resume and args.steps is None:
        parser.error("--resume needs --steps: the step count of the runs it continues (in their config.json)")
    if args.together == "auto" and args.steps is not None:
        parser.error("--together auto needs the probe: give yes or no with --steps")
    try:
        base = TrainConfig.from_dict(json.loads(args.config.read_text()))
    except (OSError, ValueError, TypeError) as err:
        parser.error(f"--config {args.config}: {err}")

    record: dict = {"config": str(args.config), "runs": [f"h{h}_seed{s}" for h, s in args.runs],
                    "minutes": args.minutes}
    mode, steps = base.compile if args.compile in ("config", "auto") else args.compile, args.steps
    together = args.together == "yes"
    if steps is None:
        options = candidates(args.compile, base.compile, args.together)
        try:
            mode, together, steps, record["probe"] = choose_steps(base, args.runs, options, args.minutes,
                                                                  args.probe_steps)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
    record.update(compile=mode, together=together, steps=steps)
    print(f"steps per run: {steps}, compile {mode}" + (", together" if together else "")
          + (f" (probes: {json.dumps(record['probe'])})" if "probe" in record else ""), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    runs, configs = [], []
    for heads, seed in args.runs:
        run = args.out / f"h{heads}_seed{seed}"
        run.mkdir(parents=True, exist_ok=True)
        config = replace(run_config(base, heads, seed, steps), compile=mode)
        (run / "sweep_config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
        runs.append(run)
        configs.append(config)
    resume = [args.resume and (run / "checkpoint.pt").exists() for run in runs]
    start = time.monotonic()
    record["results"] = {}
    if together:
        return _train_together(configs, runs, resume, args, record, start)
    processes = []
    for run, again in zip(runs, resume):
        command = [sys.executable, "-m", "simulations", "train", "--config", str(run / "sweep_config.json"),
                   "--out", str(run), "--max-minutes", f"{1.2 * args.minutes:g}", "--quiet"]
        if again:
            command.append("--resume")
        processes.append((run, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                text=True)))
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


def _train_together(configs: list[TrainConfig], runs: list[Path], resume: list[bool], args: argparse.Namespace,
                    record: dict, start: float) -> int:
    """The runs trained together in this process (SIGTERM or SIGINT: every run checkpointed, exit 128 + signal)."""
    from simulations.interrupts import Interrupted, handled

    from .together import train_together

    try:
        with handled():
            results = train_together(configs, runs, resume, max_minutes=1.2 * args.minutes)
    except Interrupted as stop:
        print(f"{stop}: every run checkpointed; rerun with --steps and --resume to continue", file=sys.stderr)
        return stop.exit_status
    except ValueError as error:  # a checkpoint that does not fit its run, or is not one
        print(f"budgeted_sweep: error: {error}", file=sys.stderr)
        return 2
    for config, result in zip(configs, results):
        state = "finished" if result.finished else "stopped (resume with --resume)"
        line = f"{state} at step {result.step}/{config.steps}; run directory {result.out}"
        record["results"][result.out.name] = {"returncode": 0, "last_line": line}
        print(f"{result.out.name}: {line}", flush=True)
    record["wall_seconds"] = round(time.monotonic() - start, 1)
    (args.out / "sweep.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{len(runs)} runs together in {record['wall_seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
