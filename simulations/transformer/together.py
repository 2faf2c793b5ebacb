"""Several training runs in one process, interleaved step by step, each on its own CUDA stream.

Small runs in separate processes share a GPU in time slices: the device runs
one process's kernels at a time. In one process, each run's steps go to its own
stream, so the small kernels of different runs can run side by side; with
``compile="graph"`` (:class:`.train.TrainStep`) a step is one launch, so a
single CPU thread can keep many runs going. On the CPU there are no streams and
the runs simply take turns.

The runs share no state (each has its own weights, optimiser and generators,
and is built in turn, so ``torch.manual_seed`` of one run's weights cannot
interleave with another's): each run is the one :func:`.train.train` gives
alone, bit for bit on the CPU (tested).
"""

from __future__ import annotations

import contextlib
import os
from typing import Sequence

import torch

from simulations.interrupts import critical

from .train import Run, TrainConfig, TrainResult


def train_together(configs: Sequence[TrainConfig], outs: Sequence[str | os.PathLike], resume: Sequence[bool],
                   max_minutes: float | None = None, stop_after: int | None = None) -> list[TrainResult]:
    """Train (or resume) ``configs[i]`` in ``outs[i]`` (resumed where ``resume[i]``), one step of each in turn.

    Each run writes what :func:`.train.train` writes, and stops on its own at its
    ``steps``, after ``max_minutes`` or after ``stop_after`` steps. A
    ``KeyboardInterrupt`` (or the command's SIGTERM, under
    :func:`simulations.interrupts.handled`) is taken between steps: every
    unfinished run is checkpointed where it is, then the interrupt goes on.

    Examples
    --------
    >>> configs = [TrainConfig(heads=[h] * 3, steps=2000, device="cuda", compile="graph") for h in (1, 8)]
    >>> h1, h8 = train_together(configs, ["runs/h1", "runs/h8"], [False, False])  # doctest: +SKIP
    >>> h8.finished                                                               # doctest: +SKIP
    True
    """
    if not len(configs) == len(outs) == len(resume):
        raise ValueError(f"configs, outs and resume must have one entry per run, got {len(configs)}, "
                         f"{len(outs)} and {len(resume)}")
    runs = [Run(config, out, again, max_minutes, stop_after) for config, out, again in zip(configs, outs, resume)]
    streams = [new_stream(run.runner.device) for run in runs]
    try:
        while any(not run.stopped for run in runs):
            for run, stream in zip(runs, streams):
                if not run.stopped:
                    with critical(), on_stream(stream):
                        run.advance()
    except KeyboardInterrupt:
        for run, stream in zip(runs, streams):
            if not run.stopped:
                with on_stream(stream):
                    run.checkpoint()
        raise
    if any(streams):
        torch.cuda.synchronize()  # the models are read on the default stream from here on
    return [run.result() for run in runs]


def new_stream(device: torch.device) -> torch.cuda.Stream | None:
    """A new stream on a CUDA device, ordered after the work queued so far (building and loading the run)."""
    if device.type != "cuda":
        return None
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    return stream


def on_stream(stream: torch.cuda.Stream | None) -> contextlib.AbstractContextManager:
    """``torch.cuda.stream(stream)``, or nothing for no stream (the CPU)."""
    return torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext()
