"""Training an :class:`ICLTransformer` on fresh sparse-regression prompts.

Every step draws a new batch of prompts on the training device (the laws of
docs/math.md section 1: ``x ~ N(0, I_d)``, s-sparse ``w*`` with a uniform support, ``y = <w*,
x> + sigma xi``) from a dedicated ``torch.Generator``, so no data is stored.
The training objective is the mean squared error of the query predictions
against the noisy ``y_q`` (``loss="mse"``), or its Huber version
(``loss="huber"``): ``r^2`` for ``|r| <= delta`` and ``2 delta |r| - delta^2``
beyond, which has the same gradient as the MSE on small residuals and a bounded
one on the rare huge predictions of deep linear attention (a polynomial of
Gaussian data, so heavy-tailed). The log records the MSE either way, and also the excess risk ``(yhat_q - <w*, x_q>)^2``,
which the zero predictor puts at ``E||w*||^2`` (the loss at
``E||w*||^2 + sigma^2``).

Context lengths. Each step uses one n, drawn uniformly from
``[n_min, n_hi(t)]``; with a curriculum ``n_hi`` grows linearly from ``n_min``
to ``n_max`` over ``curriculum_steps`` steps (0: always ``n_max``).

Optimiser: AdamW with linear warm-up, cosine decay to ``lr / 10``, and an
optional ``hold`` of steps at ``lr / 10`` after the decay, the learning rate
being a function of the step alone. A held schedule is the unheld one of
``steps - hold`` steps, prolonged at its floor: a finished run resumes into it
bit for bit, and the last 20% of a run whose hold is a fifth of its steps
measure what training at a constant rate still gains (a plateau test that the
decay does not confound). Checkpoints hold the model,
optimiser, step, both random states and the config, so a run stopped at any
checkpoint and resumed reproduces the uninterrupted run bit for bit (same
device and threads). ``max_minutes`` stops a run cleanly (checkpoint first),
so long trainings can be chained in chunks.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from simulations.spec import Problem

from .construction import construct_pto
from .model import ICLTransformer, ModelConfig

CHECKPOINT = "checkpoint.pt"
#: A copy of the checkpoint at 80% of the steps, kept to measure what the last 20% of training gained.
SNAPSHOT, SNAPSHOT_FRACTION = "checkpoint_80pct.pt", 0.8
METRICS = "metrics.jsonl"
CHECKPOINT_KEYS = ("model", "optimizer", "step", "rng", "config")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
LOSSES = ("mse", "huber")
#: Values of ``TrainConfig.compile``: eager, ``torch.compile`` of the model in that mode ("reduce-overhead" replays
#: CUDA graphs of its forward and backward passes on a GPU, where an eager step of these small models is bound by
#: the CPU's kernel launches), or "graph": the whole step (prompts, forward, backward, clipping, AdamW) captured as
#: one CUDA graph per context length and replayed (CUDA only; see :class:`TrainStep`).
COMPILE_MODES = ("none", "default", "reduce-overhead", "graph")
#: Values of ``TrainConfig.init``: normal weights of std ``init_std``, or the exact PtO construction.
INITS = ("random", "pto")
#: Torch draws of the signal laws' bases (:data:`solvers.signals.BASES`): ``draw(shape, generator, device, dtype)``.
TORCH_BASES = {
    "normal": lambda shape, generator, device, dtype: torch.randn(*shape, generator=generator, device=device,
                                                                 dtype=dtype),
    "sign": lambda shape, generator, device, dtype: (
        2 * torch.randint(0, 2, shape, generator=generator, device=device) - 1).to(dtype),
}


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint, as a flat dict of these fields).

    Problem: ``d, s, sigma, signal``, checked as a :class:`simulations.spec.Problem`
    (:attr:`problem`); context lengths ``n_min .. n_max`` with an
    optional linear ``curriculum_steps``; ``queries`` query points per prompt.
    Model: ``heads`` (per layer), ``width``, ``head_dim``, ``attention``,
    ``mlp``, ``init_std`` (see :class:`~.model.ModelConfig`); ``init``: "random"
    (normal weights of std ``init_std``) or "pto", which starts from the exact
    PtO construction of :func:`~.construction.construct_pto` with step size
    ``init_step_size`` (linear attention, heads ``[d, 1, ..., 1]``, width
    ``2 d + 1``, head_dim ``d``, no MLP: the construction's shape). Optimisation:
    ``steps``, ``batch``, ``lr``, ``weight_decay``, ``warmup``, ``hold`` (steps at
    ``lr / 10`` after the decay, see :func:`learning_rate`), ``grad_clip``,
    ``loss`` ("mse" or "huber") and ``huber_delta``.
    Bookkeeping: ``seed``, ``device`` ("cpu", "cuda" or "auto"), ``dtype``
    ("float32" or "float64"), ``compile`` (:data:`COMPILE_MODES`; compiled
    kernels round differently, so a run resumes bit for bit only with the same
    mode), ``log_every``, ``checkpoint_every``.
    """

    d: int = 8
    s: int = 2
    sigma: float = 0.1
    signal: str = "gaussian"
    n_min: int = 2
    n_max: int = 16
    curriculum_steps: int = 0
    queries: int = 4
    heads: list[int] = field(default_factory=lambda: [4, 4, 4])
    width: int | None = None
    head_dim: int | None = None
    attention: str = "linear"
    mlp: bool = False
    init_std: float | None = None
    init: str = "random"
    init_step_size: float | None = None
    steps: int = 2000
    batch: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup: int = 100
    hold: int = 0
    grad_clip: float = 1.0
    loss: str = "mse"
    huber_delta: float = 1.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    compile: str = "none"
    log_every: int = 50
    checkpoint_every: int = 500

    def __post_init__(self) -> None:
        self._check_types()
        self.problem  # checks d, s, sigma and signal
        for name in ("n_min", "n_max", "queries", "steps", "batch", "log_every", "checkpoint_every"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.n_min > self.n_max:
            raise ValueError(f"n_min must be <= n_max = {self.n_max}, got {self.n_min}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be finite and > 0, got {self.lr!r}")
        for name in ("weight_decay", "grad_clip") + (("init_std",) if self.init_std is not None else ()):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}")
        if self.curriculum_steps < 0 or self.warmup < 0 or self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError("curriculum_steps, warmup, weight_decay and grad_clip must be >= 0")
        if not 0 <= self.hold <= max(0, self.steps - self.warmup):
            raise ValueError(f"hold must be in [0, max(0, steps - warmup) = {max(0, self.steps - self.warmup)}], "
                             f"got {self.hold}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if not (math.isfinite(self.huber_delta) and self.huber_delta > 0):
            raise ValueError(f"huber_delta must be finite and > 0, got {self.huber_delta!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")
        if self.compile not in COMPILE_MODES:
            raise ValueError(f"compile must be one of {COMPILE_MODES}, got {self.compile!r}")
        self.model_config()  # validates the architecture fields
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.init == "pto":
            self._check_pto_shape()
        elif self.init_step_size is not None:
            raise ValueError(f"init_step_size applies to init 'pto' only, got {self.init_step_size!r} "
                             f"with init {self.init!r}")

    def _check_pto_shape(self) -> None:
        if self.init_step_size is None or not (math.isfinite(self.init_step_size) and self.init_step_size > 0):
            raise ValueError(f"init_step_size must be finite and > 0 for init 'pto', got {self.init_step_size!r}")
        config, d = self.model_config(), self.d
        shape = (config.attention, config.heads[0], config.heads[1:], config.width, config.head_dim, config.mlp)
        if shape != ("linear", d, [1] * (config.layers - 1), 2 * d + 1, d, False):
            raise ValueError(f"init 'pto' needs the construction's shape: attention 'linear', heads "
                             f"[{d}, 1, ..., 1], width {2 * d + 1}, head_dim {d}, mlp false; got attention "
                             f"{config.attention!r}, heads {config.heads}, width {config.width}, "
                             f"head_dim {config.head_dim}, mlp {config.mlp}")

    def _check_types(self) -> None:
        """``TypeError`` naming the field for a value of the wrong JSON type ("44" for 44, true for 1, null)."""
        def integer(value):
            return isinstance(value, int) and not isinstance(value, bool)

        def number(value):
            return isinstance(value, (int, float)) and not isinstance(value, bool)

        kinds = {"an integer": (integer, ("d", "s", "n_min", "n_max", "curriculum_steps", "queries", "steps",
                                          "batch", "warmup", "hold", "seed", "log_every", "checkpoint_every")),
                 "an integer or null": (lambda v: v is None or integer(v), ("width", "head_dim")),
                 "a number": (number, ("sigma", "lr", "weight_decay", "grad_clip", "huber_delta")),
                 "a number or null": (lambda v: v is None or number(v), ("init_std", "init_step_size")),
                 "a string": (lambda v: isinstance(v, str), ("signal", "attention", "init", "device", "dtype",
                                                                 "loss", "compile")),
                 "true or false": (lambda v: isinstance(v, bool), ("mlp",))}
        for kind, (ok, names) in kinds.items():
            for name in names:
                if not ok(getattr(self, name)):
                    raise TypeError(f"{name} must be {kind}, got {getattr(self, name)!r}")
        if (not isinstance(self.heads, (list, tuple)) or not self.heads
                or not all(integer(h) and h >= 1 for h in self.heads)):
            raise TypeError(f"heads must be a non-empty list of integers >= 1 (heads per layer), got {self.heads!r}")

    @property
    def problem(self) -> Problem:
        """The prompt distribution (``d, s, sigma, signal``)."""
        return Problem(self.d, self.s, self.sigma, self.signal)

    def model_config(self) -> ModelConfig:
        return ModelConfig(d=self.d, heads=list(self.heads), width=self.width, head_dim=self.head_dim,
                           attention=self.attention, mlp=self.mlp, init_std=self.init_std)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        if not isinstance(values, dict):
            raise TypeError(f"a config is a JSON object of TrainConfig fields, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**values)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch sees no CUDA device")
    return torch.device(device)


def sample_batch(config: TrainConfig, n: int, generator: torch.Generator, device: torch.device,
                 dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Fresh prompts on ``device``: X (B, n, d), y (B, n), x_query (B, m, d), y_query, f_query (noiseless), w_star."""
    B, d, s, m, law = config.batch, config.d, config.s, config.queries, config.problem.law
    kw = dict(generator=generator, device=device, dtype=dtype)
    support = torch.rand(B, d, **kw).argsort(dim=1)[:, :s]
    values = TORCH_BASES[law.base]((B, s), generator, device, dtype) / law.divisor(s)
    w_star = torch.zeros(B, d, device=device, dtype=dtype).scatter_(1, support, values)
    X = torch.randn(B, n + m, d, **kw)
    f = X @ w_star[:, :, None]
    y = f[..., 0] + config.sigma * torch.randn(B, n + m, **kw)
    return dict(X=X[:, :n], y=y[:, :n], x_query=X[:, n:], y_query=y[:, n:], f_query=f[:, n:, 0], w_star=w_star)


def learning_rate(config: TrainConfig, step: int) -> float:
    r"""The rate of step ``t`` (from 0): warm-up, cosine decay, hold.

    With :math:`\eta` = ``lr``, :math:`W` = ``warmup`` and :math:`D` = ``steps - hold``
    (the end of the decay),

    .. math::
        \eta_t = \eta \frac{t + 1}{W} \ (t < W), \qquad
        \eta_t = \eta \Big(0.1 + 0.45 \big(1 + \cos \pi \min(1, \tfrac{t - W}{D - W})\big)\Big) \ (t \ge W),

    so the rate sits at :math:`\eta / 10` for the last ``hold`` steps.
    """
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.hold - config.warmup)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def context_length(config: TrainConfig, step: int, generator: torch.Generator) -> int:
    """n for this step: uniform on ``[n_min, n_hi(step)]`` (curriculum on ``n_hi``)."""
    hi = config.n_max
    if config.curriculum_steps:
        frac = min(1.0, step / config.curriculum_steps)
        hi = config.n_min + round(frac * (config.n_max - config.n_min))
    return int(torch.randint(config.n_min, hi + 1, (1,), generator=generator).item())


class TrainStep:
    """The state of a run and one optimisation step on fresh prompts.

    Holds the model, the AdamW optimiser and the data generator, seeded from
    ``config.seed`` (weights from ``torch.manual_seed(seed)``, prompts from a
    generator seeded ``seed + 1``). Calling it with a context length ``n`` and
    a learning rate draws one batch, takes one step and returns the batch's
    loss (MSE against the noisy ``y_q``) and excess risk (against ``<w*, x_q>``)
    as one float64 tensor ``[loss, excess]`` on the device: reading it is left
    to the caller, so that a GPU step queues its kernels without waiting for
    the last step to finish.

    Context lengths come from ``length_generator``: the data generator itself
    on the CPU; on a GPU a CPU generator seeded ``seed + 2``, whose draw needs
    no device synchronisation.

    With ``compile="graph"`` (CUDA only) the first step at each context length
    runs eagerly on a side stream, which allocates the gradients and the
    optimiser state that every graph then shares (gradients are zeroed, never
    freed), and then records that step as a CUDA graph; later steps at that
    length replay it, one launch instead of hundreds. The optimiser is AdamW
    with ``capturable=True`` and its learning rate a device tensor, filled
    before each replay; the data generator is registered with every graph, so
    a replay draws the prompts an eager step would have drawn.
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.device, self.dtype = resolve_device(config.device), DTYPES[config.dtype]
        torch.manual_seed(config.seed)
        self.model = ICLTransformer(config.model_config()).to(device=self.device, dtype=self.dtype)
        if config.init == "pto":
            built = construct_pto(config.d, config.model_config().layers - 1, config.init_step_size, self.dtype)
            self.model.load_state_dict(built.state_dict())
        graphed = config.compile == "graph"
        if graphed and self.device.type != "cuda":
            raise ValueError(f"compile 'graph' records CUDA graphs: it needs a CUDA device, got {self.device.type!r}")
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), weight_decay=config.weight_decay, capturable=graphed,
            lr=torch.tensor(config.lr, device=self.device) if graphed else config.lr)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(config.seed + 1)
        self.length_generator = (self.generator if self.device.type == "cpu"
                                 else torch.Generator().manual_seed(config.seed + 2))
        if config.compile != "none":
            # Inductor's memory-coalescing tiling analysis asserts on symbolic sizes (torch 2.11, H100: the
            # context length n is dynamic here); without it Inductor tiles as it did before that analysis.
            torch._inductor.config.triton.coalesce_tiling_analysis = False
        self.forward = (self.model if config.compile in ("none", "graph")
                        else torch.compile(self.model, mode=config.compile, dynamic=True))
        #: compile "graph": the capture stream, and (graph, its output) by context length.
        self.stream = torch.cuda.Stream(self.device) if graphed else None
        self.graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor]] = {}
        self.model.train()

    def __call__(self, n: int, lr: float | None = None) -> torch.Tensor:
        if lr is not None:
            for group in self.optimizer.param_groups:
                if self.stream is None:
                    group["lr"] = lr
                else:
                    group["lr"].fill_(lr)
        if self.stream is None:
            return self.step(n)
        if n in self.graphs:
            graph, out = self.graphs[n]
            graph.replay()
            return out.clone()  # the next replay overwrites the graph's output
        main = torch.cuda.current_stream(self.device)
        self.stream.wait_stream(main)
        with torch.cuda.stream(self.stream):
            out = self.step(n)
        main.wait_stream(self.stream)
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(self.generator)
        with torch.cuda.graph(graph, stream=self.stream):
            self.graphs[n] = (graph, self.step(n))
        return out

    def step(self, n: int) -> torch.Tensor:
        """One eager step at context length ``n`` (what ``compile="graph"`` records)."""
        if self.config.compile == "reduce-overhead":
            torch.compiler.cudagraph_mark_step_begin()  # the last step's graph outputs may now be overwritten
        batch = sample_batch(self.config, n, self.generator, self.device, self.dtype)
        pred = self.forward(batch["X"], batch["y"], batch["x_query"])
        residual = pred - batch["y_query"]
        loss = torch.mean(residual ** 2)
        objective = loss if self.config.loss == "mse" else 2 * F.huber_loss(
            pred, batch["y_query"], delta=self.config.huber_delta)
        self.optimizer.zero_grad(set_to_none=self.stream is None)  # graphs write into the same gradients
        objective.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        excess = torch.mean((pred.detach() - batch["f_query"]) ** 2)
        return torch.stack([loss.detach(), excess]).double()

    def save_state(self, path: Path, step: int) -> None:
        """Checkpoint (model, optimiser, step, both random states, config) written atomically."""
        rng = {"data": self.generator.get_state(), "torch": torch.get_rng_state()}
        if self.length_generator is not self.generator:
            rng["length"] = self.length_generator.get_state()
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": step,
                 "rng": rng,
                 "config": asdict(self.config)}
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def load_state(self, path: Path) -> int:
        """Restore a checkpoint written by :meth:`save_state`; returns its step."""
        state = read_checkpoint(path, self.device)
        _check_resumable(state["config"], self.config)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.generator.set_state(state["rng"]["data"].to("cpu"))
            torch.set_rng_state(state["rng"]["torch"])
            if self.length_generator is not self.generator:
                self.length_generator.set_state(state["rng"]["length"].to("cpu"))
        except (KeyError, TypeError, RuntimeError, ValueError, AttributeError) as error:
            raise ValueError(f"{path}: malformed checkpoint ({type(error).__name__})") from None
        return state["step"]


@dataclass
class TrainResult:
    model: ICLTransformer
    step: int
    finished: bool
    out: Path


class Run:
    """A run in directory ``out``, advanced one step at a time: what :func:`train` loops over, and what
    :func:`.together.train_together` interleaves with other runs.

    Building it starts the run, or with ``resume`` restores it from ``out/checkpoint.pt`` (see
    :func:`train`), and writes ``out/config.json``. ``max_minutes`` (from when it was built) and
    ``stop_after`` (steps from where it started) end it early, after a checkpoint.
    """

    def __init__(self, config: TrainConfig, out: str | os.PathLike, resume: bool = False,
                 max_minutes: float | None = None, stop_after: int | None = None) -> None:
        self.config, self.out = config, Path(out)
        self.max_minutes, self.stop_after = max_minutes, stop_after
        self.runner = TrainStep(config)  # first: a config it refuses leaves no directory behind
        self.out.mkdir(parents=True, exist_ok=True)
        self.step, self.snapshot_step = 0, round(SNAPSHOT_FRACTION * config.steps)
        if resume:
            self.step = self.runner.load_state(self.out / CHECKPOINT)
            if self.step > config.steps:
                raise ValueError(f"--resume: the checkpoint is at step {self.step}, past steps = {config.steps}")
            _truncate_metrics(self.out / METRICS, self.step)
            if self.step == self.snapshot_step:  # a prolonged run starts at its snapshot
                self.runner.save_state(self.out / SNAPSHOT, self.step)
        elif (self.out / METRICS).exists():
            (self.out / METRICS).unlink()
        (self.out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
        self.start, self.first = time.monotonic(), self.step
        self.sums, self.count = torch.zeros(2, dtype=torch.float64, device=self.runner.device), 0
        #: The last line written to ``metrics.jsonl`` (None before the first).
        self.record: dict | None = None
        self.stopped = self.step >= config.steps

    def advance(self) -> None:
        """One step, then its log line every ``log_every`` steps and a checkpoint every ``checkpoint_every``
        steps, at the end and where the run stops early (``stopped`` is then True)."""
        config = self.config
        n = context_length(config, self.step, self.runner.length_generator)
        self.sums += self.runner(n, learning_rate(config, self.step))
        self.step += 1
        self.count += 1
        if self.step % config.log_every == 0 or self.step == config.steps:
            loss, excess = (self.sums / self.count).tolist()
            self.record = {"step": self.step, "n": n, "loss": loss, "excess": excess,
                           "lr": learning_rate(config, self.step - 1), "seconds": time.monotonic() - self.start}
            with open(self.out / METRICS, "a") as fh:
                fh.write(json.dumps(self.record) + "\n")
            self.sums.zero_()
            self.count = 0
        out_of_time = ((self.max_minutes is not None and time.monotonic() - self.start > 60 * self.max_minutes)
                       or (self.stop_after is not None and self.step - self.first >= self.stop_after))
        self.stopped = self.step >= config.steps or out_of_time
        if self.step % config.checkpoint_every == 0 or self.stopped:
            self.checkpoint()
        if self.step == self.snapshot_step:
            self.runner.save_state(self.out / SNAPSHOT, self.step)

    def checkpoint(self) -> None:
        """Save the run where it is (between steps), so that ``resume`` continues it from here."""
        self.runner.save_state(self.out / CHECKPOINT, self.step)

    def result(self) -> TrainResult:
        return TrainResult(model=self.runner.model.eval(), step=self.step, finished=self.step >= self.config.steps,
                           out=self.out)


def train(config: TrainConfig, out: str | os.PathLike, resume: bool = False, max_minutes: float | None = None,
          progress: bool = True, stop_after: int | None = None) -> TrainResult:
    """Train (or resume) a run in directory ``out``.

    Writes ``out/config.json``, ``out/metrics.jsonl`` (one JSON object per
    ``log_every`` steps: step, n_hi, loss, excess, lr, seconds) and
    ``out/checkpoint.pt`` (every ``checkpoint_every`` steps and at the end), and
    ``out/checkpoint_80pct.pt`` at 80% of the steps (the convergence check
    compares the two).
    With ``resume`` the run continues from ``out/checkpoint.pt``, whose config
    must equal ``config`` except for ``device``, and for ``steps`` and ``hold``
    where the end of the decay ``steps - hold`` is the same (a longer hold
    prolongs a run, finished or not, at its floor rate: the schedule of the steps
    already taken is unchanged). ``max_minutes`` and ``stop_after`` (steps in this
    call) end the call early, after a checkpoint, without changing the schedule.
    """
    run = Run(config, out, resume, max_minutes, stop_after)
    bar = tqdm(total=config.steps, initial=run.step, disable=not progress, desc="train", dynamic_ncols=True)
    while not run.stopped:
        logged = run.record
        run.advance()
        bar.update(1)
        if run.record is not logged:
            bar.set_postfix(loss=f"{run.record['loss']:.4f}", excess=f"{run.record['excess']:.4f}")
    bar.close()
    return run.result()


def read_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """The contents of a checkpoint file, read as untrusted input.

    Loaded with ``torch.load(weights_only=True)``, which unpickles only tensors
    and plain containers (no code runs); anything else, a missing key or a
    config that ``TrainConfig`` rejects raises ``ValueError`` naming the file.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"checkpoint not found: {path}") from None
    except Exception as error:  # pickle.UnpicklingError, RuntimeError, EOFError, ...
        raise ValueError(f"{path} is not a plain-weights checkpoint ({type(error).__name__}); "
                         "refusing to load it") from None
    missing = set(CHECKPOINT_KEYS) - (set(state) if isinstance(state, dict) else set())
    if missing:
        raise ValueError(f"{path}: not a training checkpoint (missing {sorted(missing)})")
    if not isinstance(state["config"], dict) or not isinstance(state["step"], int) or state["step"] < 0:
        raise ValueError(f"{path}: malformed config or step")
    try:
        TrainConfig.from_dict(state["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: bad config: {error}") from None
    return state


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[ICLTransformer, TrainConfig, int]:
    """Model (eval mode), its training config and step from a checkpoint file or run directory.

    Examples
    --------
    >>> model, config, step = load_model("docs/data/models/h8_seed0")   # doctest: +SKIP
    >>> predictions = model(X, y, x_query)                               # doctest: +SKIP
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    state = read_checkpoint(path, device)
    config = TrainConfig.from_dict(state["config"])
    model = ICLTransformer(config.model_config()).to(device=device, dtype=DTYPES[config.dtype])
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"{path}: weights do not fit the config: {str(error).splitlines()[0]}") from None
    return model.eval(), config, state["step"]


def load_snapshot(path: str | os.PathLike, device: str = "cpu") -> ICLTransformer | None:
    """The run at 80% of its steps (``checkpoint_80pct.pt`` beside the checkpoint ``path``), or None.

    ``path`` is a checkpoint file or its run directory, as for :func:`load_model`; the late-gain
    check of the convergence rule compares the two.
    """
    path = Path(path)
    snapshot = (path if path.is_dir() else path.parent) / SNAPSHOT
    return load_model(snapshot, device)[0] if snapshot.exists() else None


def _check_resumable(saved: dict, config: TrainConfig) -> None:
    current, defaults = asdict(config), asdict(TrainConfig())
    saved = {k: saved.get(k, defaults[k]) for k in current}  # a key missing from an older checkpoint had its default
    diff = sorted(k for k in current if k not in ("steps", "hold", "device") and saved[k] != current[k])
    if diff:
        raise ValueError(f"--resume: config differs from the checkpoint's in {diff}")
    if saved["steps"] - saved["hold"] != config.steps - config.hold:
        raise ValueError(f"--resume: the decay ends at step steps - hold = {config.steps - config.hold}, "
                         f"the checkpoint's at {saved['steps'] - saved['hold']}; steps may change only with the hold")


def _truncate_metrics(path: Path, step: int) -> None:
    if not path.exists():
        return
    lines = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in lines))
