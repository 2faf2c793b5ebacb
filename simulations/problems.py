"""Sampling batches of sparse linear-regression problems (docs/math.md, section 1).

Two generators, chosen by ``rng``; each is fully determined by the seed and
the cell, whatever the chunk size, the order of the grid or the worker.

``rng="host"`` (the default; NumPy sweeps). Instances are generated in fixed blocks of
``block_size(n, d)`` instances (256, fewer for big problems so a block stays
under 32 MB); block ``k`` of a cell draws from
``SeedSequence(seed, spawn_key=(*cell_key, k))`` where ``cell_key`` hashes
``(n, d, s, signal)``. So instance ``i`` of a cell is the same whatever the
chunk size, the order of the grid or the worker that computes it, and a cell
with more trials extends one with fewer. The noise level is deliberately not
in the key: cells that differ only in sigma share ``X``, ``w*`` and the
standardised noise ``z`` (common random numbers, ``y = X w* + sigma z``),
which makes curves in sigma smooth and paired comparisons sharper.

``rng="device"`` (the default of CuPy sweeps). Counter-based Philox
(:mod:`simulations.philox`) computed in the backend's own array namespace, so
a GPU sweep draws its problems on the GPU. Instance ``i`` of a cell is a pure
function of ``(seed, cell_key, i)`` -- no blocks needed -- with separate
streams for ``X``, the support, the nonzero values and ``z``; sigma is again
left out of the key. Run on NumPy it gives the same problems as on CuPy (to
rounding of ``log``/``cos``; CuPy runs the generator as one fused kernel whose
C source the tests check against the NumPy run). The two generators give
different (equally distributed) instances.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers import to_backend
from solvers.backend import backend_namespace
from solvers.signals import SIGNALS, signal_norm2
from . import philox
from .spec import Setting, check_positive_integer, is_integer

__all__ = ["DTYPES", "RNGS", "SIGNALS", "Problems", "draw_problems", "rng_for_backend", "sample_problems",
           "signal_norm2"]

MAX_BLOCK = 256
DTYPES = ("float64", "float32")
RNGS = ("host", "device")
#: Host draws of the signal laws' bases (:data:`solvers.signals.BASES`) from a NumPy generator.
HOST_BASES = {
    "normal": lambda rng, shape: rng.standard_normal(shape),
    "sign": lambda rng, shape: rng.choice(np.array([-1.0, 1.0]), size=shape),
}
#: Counter-based draws of the bases: ``draw(sampler)`` gives one row of Philox numbers per instance.
DEVICE_BASES = {
    "normal": lambda draw, xp: draw(philox.normals),
    "sign": lambda draw, xp: 2.0 * xp.astype(draw(philox.uniforms) >= 0.5, xp.float64) - 1.0,
}


@dataclass(frozen=True)
class Problems:
    """A batch of problems ``y = X w* + sigma z``.

    Attributes
    ----------
    X : array (trials, n, d)       rows x_i ~ N(0, I_d)
    y : array (trials, n)
    w_star : array (trials, d)     s-sparse
    support : int array (trials, s)  sorted support of each ``w*``
    sigma : float
    signal : str
    """

    X: Any
    y: Any
    w_star: Any
    support: Any
    sigma: float
    signal: str

    @property
    def trials(self) -> int:
        return int(self.X.shape[0])


def rng_for_backend(backend: str) -> str:
    """The generator ``rng="auto"`` means: draw where the solvers run (``"device"`` on CuPy, else ``"host"``)."""
    return "device" if backend == "cupy" else "host"


def block_size(n: int, d: int) -> int:
    """Instances per random-stream block: a function of the cell's shape only."""
    return max(1, min(MAX_BLOCK, 2**22 // (n * d)))


def cell_key(n: int, d: int, s: int, signal: str) -> tuple[int, ...]:
    """Four 32-bit words identifying a cell's random stream (order independent)."""
    digest = hashlib.sha256(f"{n}|{d}|{s}|{signal}".encode()).digest()
    return tuple(int.from_bytes(digest[4 * i: 4 * i + 4], "little") for i in range(4))


def sample_problems(n: int, d: int, s: int, sigma: float, trials: int, seed: int = 0,
                    signal: str = "gaussian", backend: str = "numpy", offset: int = 0,
                    dtype: str = "float64", rng: str = "host") -> Problems:
    """Draw instances ``offset .. offset + trials - 1`` of a cell (the checked entry to :func:`draw_problems`).

    Parameters
    ----------
    n, d, s : int
        Context length, dimension and sparsity (1 <= s <= d).
    sigma : float
        Noise standard deviation (>= 0).
    trials : int
        Number of instances.
    seed : int
        Master seed; with the cell parameters it fixes every instance.
    signal : str
        Law of the nonzero entries, a key of :data:`solvers.signals.SIGNALS`:
        ``"gaussian"`` N(0, 1/s) (E||w*||^2 = 1), ``"rademacher"`` +-1/sqrt(s)
        (||w*|| = 1 exactly), ``"unnormalized"`` N(0, 1) (Garg et al. 2022).
    backend : {"numpy", "cupy", "auto"}
        Where the returned arrays live.
    offset : int
        Index of the first instance (for chunked computation).
    dtype : {"float64", "float32"}
        Precision of the returned arrays. Draws are made in float64 and
        rounded, so a float32 run sees the float64 problems to 1e-7.
    rng : {"host", "device"}
        ``"host"``: NumPy draws copied to ``backend`` (identical problems on
        every backend). ``"device"``: counter-based draws computed on
        ``backend`` itself (see the module docstring).

    Raises ``ValueError`` naming the first argument that breaks its rule.
    """
    setting = Setting(n, d, s, sigma, signal)
    check_positive_integer("trials", trials)
    if not is_integer(offset) or offset < 0:
        raise ValueError(f"offset must be an integer >= 0, got {offset!r}")
    if not is_integer(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if rng not in RNGS:
        raise ValueError(f"rng must be one of {RNGS}, got {rng!r}")
    return draw_problems(setting, int(trials), int(seed), offset=int(offset), backend=backend, dtype=dtype, rng=rng)


def draw_problems(setting: Setting, trials: int, seed: int, offset: int = 0, backend: str = "numpy",
                  dtype: str = "float64", rng: str = "host") -> Problems:
    """Instances ``offset .. offset + trials - 1`` of ``setting`` (arguments as :func:`sample_problems`, trusted)."""
    n, d, s, sigma, signal = setting.n, setting.d, setting.s, float(setting.sigma), setting.signal
    key = cell_key(n, d, s, signal)
    if rng == "device":
        xp = backend_namespace(backend)
        X, y, w_star, support = _draw_counter_based(setting, seed, key, offset, trials, xp)
        X, y, w_star = (xp.astype(a, getattr(xp, dtype)) for a in (X, y, w_star))
        return Problems(X=X, y=y, w_star=w_star, support=support, sigma=sigma, signal=signal)
    size = block_size(n, d)
    first, last = offset // size, (offset + trials - 1) // size
    blocks = [_block(setting, seed, key, k, size) for k in range(first, last + 1)]
    start = offset - first * size
    X, w_star, support, z = (np.concatenate(parts)[start:start + trials] for parts in zip(*blocks))
    y = np.einsum("tnd,td->tn", X, w_star) + sigma * z
    X, y, w_star = (a.astype(dtype) for a in (X, y, w_star))
    X, y, w_star, support = (to_backend(a, backend) for a in (X, y, w_star, support))
    return Problems(X=X, y=y, w_star=w_star, support=support, sigma=sigma, signal=signal)


def _block(setting: Setting, seed: int, key: tuple[int, ...], k: int, size: int):
    n, d, s, law = setting.n, setting.d, setting.s, setting.law
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(*key, k)))
    X = rng.standard_normal((size, n, d))
    support = np.sort(np.argsort(rng.random((size, d)), axis=1)[:, :s], axis=1)
    values = HOST_BASES[law.base](rng, (size, s)) / law.divisor(s)
    w_star = np.zeros((size, d))
    np.put_along_axis(w_star, support, values, axis=1)
    z = rng.standard_normal((size, n))
    return X, w_star, support, z


def _draw_counter_based(setting: Setting, seed: int, key: tuple[int, ...], offset: int, trials: int, xp):
    """``X, y, w*, support`` of instances ``offset ..`` from Philox streams 0 (X), 1 (support), 2 (values), 3 (z).

    The support is the ``s`` smallest of ``d`` uniforms (uniform over the
    ``s``-subsets); ``w*`` keeps stream 2's value at each support coordinate.
    """
    n, d, s, law = setting.n, setting.d, setting.s, setting.law
    words = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, np.uint32)
    stream_key = (int(words[0]), int(words[1]))

    def draw(sampler, stream: int, width: int):
        return sampler(stream_key, stream, offset, trials, width, xp)

    X = xp.reshape(draw(philox.normals, 0, n * d), (trials, n, d))
    support = xp.sort(xp.argsort(draw(philox.uniforms, 1, d), axis=1)[:, :s], axis=1)
    on_support = xp.any(support[:, :, None] == xp.arange(d)[None, None, :], axis=1)
    values = DEVICE_BASES[law.base](lambda sampler: draw(sampler, 2, d), xp)
    w_star = xp.where(on_support, (1.0 / law.divisor(s)) * values, 0.0)
    y = xp.matmul(X, w_star[:, :, None])[:, :, 0] + float(setting.sigma) * draw(philox.normals, 3, n)
    return X, y, w_star, support
