"""Counter-based random numbers computed in any array namespace (Philox4x32-10).

Why our own generator: problems for a GPU sweep must be drawn where the
solvers run (copying ~2 000 host normals per instance caps a sweep at the
host RNG's speed), and the draws must not depend on how a cell is chunked.
CuPy's stateful generators give neither a NumPy twin nor per-instance
streams. A counter-based generator gives both: the random words of instance
``i`` are a pure function ``philox(counter=(j, i, stream), key)``, so any
slice of instances is computed independently, on the host or on the device,
with the same integer arithmetic (uniforms agree bit for bit across
backends; normals to the last few ulps of ``log``/``cos``).

Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC'11) maps a 128-bit counter ``(c0, c1, c2, c3)`` and a 64-bit key
``(k0, k1)`` through ten rounds of

    (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)),

with the key bumped by the Weyl constants ``(W0, W1)`` between rounds. Words
are held in ``uint64`` arrays so that the 32 x 32 -> 64-bit products are
exact in every array library. Uniforms take 53 bits from two words; normals
come from pairs of uniforms by Box-Muller (tails to 8.6 standard deviations).

Two implementations of the same function. The array-API one below runs on
any namespace (NumPy, array_api_strict, CuPy) in slabs of ``MAX_COUNTERS``
counters, each Philox round being a few elementwise array operations. On
CuPy, :func:`uniforms` and :func:`normals` instead run :data:`C_SOURCE` as one
fused ``ElementwiseKernel`` (one thread per output number, no temporaries):
the array version launches ~120 kernels per slab, each reading and writing
whole ``uint64`` arrays, about 100x the bytes of the numbers it returns.
``C_SOURCE`` is plain C, so the tests compile it on the host and check it
against the array version.
"""

from __future__ import annotations

import functools
import math
from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import is_cupy_namespace

MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
WEYL = (0x9E3779B9, 0xBB67AE85)
MASK32 = 0xFFFFFFFF
ROUNDS = 10
MAX_COUNTERS = 2**21  # counters per slab: bounds the generator's temporaries (~8 x 16 MB)


def philox4x32(counter: tuple[Any, Any, Any, Any], key: tuple[int, int],
               xp: ModuleType) -> tuple[Any, Any, Any, Any]:
    """Philox4x32-10 of ``counter`` (four uint64 arrays holding 32-bit words) under ``key``.

    Parameters
    ----------
    counter : tuple of four broadcastable ``uint64`` arrays, values < 2**32
    key : tuple of two ints in [0, 2**32)
    xp : array namespace

    Returns
    -------
    Four ``uint64`` arrays (the broadcast shape) of 32-bit random words.
    """
    c0, c1, c2, c3 = (xp.asarray(c, dtype=xp.uint64) for c in counter)
    shape = xp.broadcast_arrays(c0, c1, c2, c3)[0].shape
    c0, c1, c2, c3 = (xp.broadcast_to(c, shape) for c in (c0, c1, c2, c3))
    m0, m1, mask, shift = (xp.asarray(v, dtype=xp.uint64) for v in (*MULTIPLIERS, MASK32, 32))
    k0, k1 = key
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + WEYL[0]) & MASK32, (k1 + WEYL[1]) & MASK32
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = (
            (p1 >> shift) ^ c1 ^ xp.asarray(k0, dtype=xp.uint64),
            p1 & mask,
            (p0 >> shift) ^ c3 ^ xp.asarray(k1, dtype=xp.uint64),
            p0 & mask,
        )
    return c0, c1, c2, c3


def uniforms(key: tuple[int, int], stream: int, first: int, count: int, width: int,
             xp: ModuleType) -> Any:
    """Uniforms on [0, 1) with 53 random bits (float64): array ``(count, width)`` for instances ``first ..``.

    Counter ``(p, i mod 2**32, i // 2**32, stream)`` gives entries ``2p`` and
    ``2p + 1`` of instance ``i``: ``(w0 * 2**21 + w1 // 2**11) / 2**53`` and
    the same of ``(w2, w3)``. Entry ``(i, j)`` depends only on
    ``(key, stream, first + i, j)``.
    """
    return _draw(key, stream, first, count, width, xp, normal=False)


def normals(key: tuple[int, int], stream: int, first: int, count: int, width: int,
            xp: ModuleType) -> Any:
    """Standard normals (float64): array ``(count, width)`` for instances ``first ..``.

    Box-Muller on the two uniforms ``u1, u2`` of each counter:
    ``(r cos 2 pi u2, r sin 2 pi u2)`` with ``r = sqrt(-2 log(1 - u1))``.
    Entry ``(i, j)`` depends only on ``(key, stream, first + i, j)``.
    """
    return _draw(key, stream, first, count, width, xp, normal=True)


def _draw(key: tuple[int, int], stream: int, first: int, count: int, width: int, xp: ModuleType,
          normal: bool) -> Any:
    if first < 0 or width >= 2**33:
        raise ValueError(f"first must be >= 0 and rows shorter than 2**33 numbers, got {first}, {width}")
    if is_cupy_namespace(xp):
        out = xp.empty((count, width), dtype=xp.float64)
        _cupy_kernel()(np.uint64(first), np.uint64(width), np.uint32(stream), np.uint32(key[0]),
                       np.uint32(key[1]), np.int32(normal), out)
        return out
    step = max(1, MAX_COUNTERS // max(1, (width + 1) // 2))
    slabs = [_draw_array_api(key, stream, first + a, min(step, count - a), width, xp, normal)
             for a in range(0, count, step)]
    return slabs[0] if len(slabs) == 1 else xp.concat(slabs, axis=0)


def _draw_array_api(key: tuple[int, int], stream: int, first: int, count: int, width: int, xp: ModuleType,
                    normal: bool) -> Any:
    a, b, c, e = _words(key, stream, first, count, (width + 1) // 2, xp)
    u1, u2 = _to_unit(a, b, xp), _to_unit(c, e, xp)
    if normal:
        radius = xp.sqrt(-2.0 * xp.log1p(-u1))
        angle = (2.0 * math.pi) * u2
        u1, u2 = radius * xp.cos(angle), radius * xp.sin(angle)
    return xp.reshape(xp.stack((u1, u2), axis=-1), (count, -1))[:, :width]


#: The generator in C (CUDA device code with ``PHILOX_FN`` = ``__device__``; host C in the tests).
#: ``philox_value(i, j, ...)`` is entry ``j`` of instance ``i``, exactly as :func:`uniforms` / :func:`normals`.
C_SOURCE = r"""
PHILOX_FN void philox4x32_10(unsigned int c[4], unsigned int k0, unsigned int k1) {
    for (int r = 0; r < 10; ++r) {
        if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        unsigned long long p0 = (unsigned long long)0xD2511F53u * c[0];
        unsigned long long p1 = (unsigned long long)0xCD9E8D57u * c[2];
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c[1] ^ k0;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0; c[1] = (unsigned int)p1; c[2] = n2; c[3] = (unsigned int)p0;
    }
}

PHILOX_FN double philox_unit(unsigned int high, unsigned int low) {
    return (double)(((unsigned long long)high << 21) | (low >> 11)) * 1.1102230246251565404e-16;
}

PHILOX_FN double philox_value(unsigned long long instance, unsigned long long j, unsigned int stream,
                              unsigned int k0, unsigned int k1, int normal) {
    unsigned int c[4] = {(unsigned int)(j >> 1), (unsigned int)instance, (unsigned int)(instance >> 32), stream};
    philox4x32_10(c, k0, k1);
    double u1 = philox_unit(c[0], c[1]), u2 = philox_unit(c[2], c[3]);
    if (!normal) return (j & 1) ? u2 : u1;
    double radius = sqrt(-2.0 * log1p(-u1));
    double angle = 6.283185307179586232 * u2;
    return (j & 1) ? radius * sin(angle) : radius * cos(angle);
}
"""


@functools.lru_cache(maxsize=None)
def _cupy_kernel():
    """The fused generator: one CUDA thread per output number (compiled once, then cached by CuPy)."""
    import cupy

    return cupy.ElementwiseKernel(
        "uint64 first, uint64 width, uint32 stream, uint32 k0, uint32 k1, int32 normal",
        "float64 out",
        "out = philox_value(first + (unsigned long long)i / width, (unsigned long long)i % width, "
        "stream, k0, k1, normal)",
        "sparse_icl_philox",
        preamble="#define PHILOX_FN __device__\n" + C_SOURCE,
    )


def _words(key: tuple[int, int], stream: int, first: int, count: int, pairs: int, xp: ModuleType):
    """Random words for counters ``(j, i mod 2**32, i // 2**32, stream)``, i = first .. first + count - 1."""
    index = xp.arange(first, first + count, dtype=xp.uint64)[:, None]
    j = xp.arange(pairs, dtype=xp.uint64)[None, :]
    mask = xp.asarray(MASK32, dtype=xp.uint64)
    return philox4x32((j, index & mask, index >> xp.asarray(32, dtype=xp.uint64), stream), key, xp)


def _to_unit(high: Any, low: Any, xp: ModuleType) -> Any:
    """53-bit float in [0, 1) from two 32-bit words: ``(high * 2**21 + low // 2**11) / 2**53``."""
    bits = (high << xp.asarray(21, dtype=xp.uint64)) | (low >> xp.asarray(11, dtype=xp.uint64))
    return xp.astype(bits, xp.float64) * 2.0**-53
