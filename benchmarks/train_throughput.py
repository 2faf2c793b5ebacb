"""Training throughput of the in-context transformer against the CPU's measured matmul peak.

    python benchmarks/train_throughput.py [--config FILE.json ...] [--heads 8,1] [--mlp config|both]
                                          [--threads 1] [--steps 30] [--batch 128,512] [--compile [MODE]]
                                          [--device cpu|cuda]
                                          [--processes 2] [--sdpa]

Prints, in one run:

1. the machine's float32 matmul rate (GFLOP/s): the best of a few 1024 x 1024
   ``torch.mm`` calls on ``--threads`` threads (with ``--device cuda``: 8192 x
   8192 on the GPU, and the steps below run there); this is the peak every
   ratio below is taken against;
2. per training config (default ``configs/cpu_converge.json``), heads per
   layer (``--heads``), with and without the MLP, and batch size: prompts/s of one full training step
   (sampling, forward, backward, clipping, AdamW), the model's FLOPs per prompt
   (counted by ``torch.utils.flop_counter.FlopCounterMode`` on one step, so the
   count includes the backward pass and the attention matmuls), the achieved
   GFLOP/s and its ratio to the measured peak; the fraction of the step spent
   drawing the prompts; and, with ``--compile [MODE]``, the same with
   ``torch.compile`` in that mode (``TrainConfig.compile``; "reduce-overhead"
   replays CUDA graphs on a GPU), its ratio to eager and the warm-up time
   that includes the compilation; with ``--sdpa``, the same with
   the softmax attention computed by ``F.scaled_dot_product_attention``
   instead of the model's explicit ``softmax(q k^T / sqrt(k)) v`` (swapped in
   here only: the model keeps its explicit form, whose numbers the committed
   runs resume from), and the largest difference of the two forms' outputs;
3. with ``--processes P``: the summed prompts/s of P training processes run at
   once, one thread each, and the sum's ratio to P single-thread peaks.

Nothing here trains a model to convergence: each measurement is ``--steps``
steps after ``--warmup`` untimed ones, at a fixed context length n = n_max.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import time
from dataclasses import replace
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from unittest import mock

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from simulations.transformer.model import Attention
from simulations.transformer.train import COMPILE_MODES, TrainConfig, TrainStep, sample_batch

CONFIG_DIR = Path(__file__).resolve().parents[1] / "simulations" / "transformer" / "configs"
DEFAULT_CONFIGS = ("cpu_converge.json",)


def matmul_peak(threads: int, size: int = 1024, repeats: int = 5, device: str = "cpu") -> float:
    """Best float32 ``torch.mm`` rate in GFLOP/s on ``threads`` threads (or on the GPU: 8192 x 8192)."""
    torch.set_num_threads(threads)
    size = 8192 if device == "cuda" else size
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        synchronize(a.device)
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(a.device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def flops_per_prompt(config: TrainConfig) -> float:
    """FLOPs of one training step (forward + backward) divided by the batch, at n = n_max."""
    step = TrainStep(config)
    counter = FlopCounterMode(display=False)
    with counter:
        step(config.n_max)
    return counter.get_total_flops() / config.batch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def prompts_per_second(config: TrainConfig, steps: int, warmup: int) -> tuple[float, float, float]:
    """(prompts/s, fraction of the time spent sampling, warm-up seconds) at n = n_max.

    The warm-up steps include ``torch.compile``'s compilation when ``config.compile`` asks for it. On a GPU
    the clock stops after the device has finished the queued steps.
    """
    step = TrainStep(config)
    start = time.perf_counter()
    for _ in range(warmup):
        step(config.n_max)
    synchronize(step.device)
    warmup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        step(config.n_max)
    synchronize(step.device)
    total = time.perf_counter() - start
    generator = torch.Generator(device=step.device).manual_seed(1)
    start = time.perf_counter()
    for _ in range(steps):
        sample_batch(config, config.n_max, generator, step.device, torch.float32)
    synchronize(step.device)
    sampling = time.perf_counter() - start
    return steps * config.batch / total, sampling / total, warmup_seconds


def _sdpa_forward(self: Attention, z: torch.Tensor, n: int) -> torch.Tensor:
    """:meth:`Attention.forward` for softmax attention, through ``F.scaled_dot_product_attention``."""
    B, N, _ = z.shape
    split = lambda t: t.view(B, -1, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731
    q, k, v = split(self.q(z)), split(self.k(z[:, :n])), split(self.v(z[:, :n]))
    out = F.scaled_dot_product_attention(q, k, v) * self.head_mask.view(1, -1, 1, 1)
    return self.o(out.transpose(1, 2).reshape(B, N, self.heads * self.head_dim))


@contextmanager
def sdpa_attention() -> Iterator[None]:
    with mock.patch.object(Attention, "forward", _sdpa_forward):
        yield


def sdpa_difference(config: TrainConfig) -> float:
    """Largest |explicit - SDPA| over one batch of predictions of a freshly initialised model, at n = n_max."""
    step = TrainStep(config)
    batch = sample_batch(config, config.n_max, torch.Generator(device=step.device).manual_seed(2), step.device,
                         torch.float32)
    with torch.no_grad():
        explicit = step.model(batch["X"], batch["y"], batch["x_query"])
        with sdpa_attention():
            fused = step.model(batch["X"], batch["y"], batch["x_query"])
    return float((explicit - fused).abs().max())


def _worker(args: tuple[dict, int, int]) -> float:
    values, steps, warmup = args
    torch.set_num_threads(1)
    return prompts_per_second(TrainConfig.from_dict(values), steps, warmup)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", nargs="+", type=Path,
                        default=[CONFIG_DIR / name for name in DEFAULT_CONFIGS])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=lambda t: [int(b) for b in t.split(",")], default=None,
                        help="batch sizes to try (default: each config's own)")
    parser.add_argument("--heads", type=lambda t: [int(h) for h in t.split(",")], default=[8, 1],
                        help="heads per layer to try (every layer), default 8,1")
    parser.add_argument("--mlp", choices=["config", "both"], default="both",
                        help="time the config's MLP setting only, or with and without the MLP")
    parser.add_argument("--compile", nargs="?", const="default", default=None, choices=COMPILE_MODES[1:],
                        help="also time torch.compile in this mode (default: default)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--processes", type=int, default=0, help="also run P one-thread processes at once")
    parser.add_argument("--sdpa", action="store_true",
                        help="also time softmax attention through F.scaled_dot_product_attention")
    args = parser.parse_args()

    peak1 = matmul_peak(1)
    peak = matmul_peak(args.threads, device=args.device)
    print(f"float32 matmul peak: {peak1:.1f} GFLOP/s on 1 CPU thread, {peak:.1f} GFLOP/s on "
          + (f"{args.threads}" if args.device == "cpu" else "the GPU"))
    torch.set_num_threads(args.threads)
    header = f"{'config':>14} {'batch':>6} {'prompts/s':>10} {'MFLOP/prompt':>13} {'GFLOP/s':>8} {'of peak':>8} {'sampling':>9}"
    print(header)
    for path in args.config:
        base = {**json.loads(path.read_text()), "device": args.device}
        mlps = [base["mlp"]] if args.mlp == "config" else [True, False]
        for heads, mlp, batch in itertools.product(args.heads, mlps, args.batch or [base["batch"]]):
            values = {**base, "heads": [heads] * len(base["heads"]), "mlp": mlp, "batch": batch}
            config = TrainConfig.from_dict(values)
            name = f"h={heads}{' mlp' if mlp else ''}"
            flops = flops_per_prompt(config)
            rate, sampling, _ = prompts_per_second(config, args.steps, args.warmup)
            gflops = rate * flops / 1e9
            print(f"{name:>14} {batch:>6} {rate:>10.0f} {flops / 1e6:>13.2f} {gflops:>8.1f} "
                  f"{gflops / peak:>8.1%} {sampling:>9.1%}")
            if args.compile:
                rate_c, _, seconds = prompts_per_second(replace(config, compile=args.compile), args.steps,
                                                        args.warmup)
                print(f"{'  ' + args.compile:>14} {batch:>6} {rate_c:>10.0f} {'':>13} {rate_c * flops / 1e9:>8.1f} "
                      f"{rate_c * flops / 1e9 / peak:>8.1%}   {rate_c / rate:.2f}x eager; warm-up with "
                      f"compilation {seconds:.0f} s")
            if args.sdpa and config.attention == "softmax":
                with sdpa_attention():
                    rate_s, _, _ = prompts_per_second(config, args.steps, args.warmup)
                print(f"{'  SDPA':>14} {batch:>6} {rate_s:>10.0f} {'':>13} {rate_s * flops / 1e9:>8.1f} "
                      f"{rate_s * flops / 1e9 / peak:>8.1%}   {rate_s / rate:.2f}x explicit; "
                      f"max |diff| {sdpa_difference(config):.1e}")
            if args.processes:
                with mp.get_context("spawn").Pool(args.processes) as pool:
                    rates = pool.map(_worker, [(values, args.steps, args.warmup)] * args.processes)
                total = sum(rates) * flops / 1e9
                print(f"{name:>14} {args.processes} processes x 1 thread: {sum(rates):.0f} prompts/s in all, "
                      f"{total:.1f} GFLOP/s = {total / (args.processes * peak1):.1%} of {args.processes} x "
                      "1-thread peak")

if __name__ == "__main__":
    main()
