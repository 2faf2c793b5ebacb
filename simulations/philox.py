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
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

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
    """Uniforms on [0, 1) with 53 random bits: array ``(count, width)`` for instances ``first ..``.

    Entry ``(i, j)`` depends only on ``(key, stream, first + i, j)``.
    """
    a, b, c, e = _words(key, stream, first, count, (width + 1) // 2, xp)
    pairs = xp.stack((_to_unit(a, b, xp), _to_unit(c, e, xp)), axis=-1)
    return xp.reshape(pairs, (count, -1))[:, :width]


def normals(key: tuple[int, int], stream: int, first: int, count: int, width: int,
            xp: ModuleType) -> Any:
    """Standard normals (float64): array ``(count, width)`` for instances ``first ..``.

    Box-Muller on the two uniforms of each counter,
    ``(r cos 2 pi u2, r sin 2 pi u2)`` with ``r = sqrt(-2 log(1 - u1))``.
    Entry ``(i, j)`` depends only on ``(key, stream, first + i, j)``.
    """
    a, b, c, e = _words(key, stream, first, count, (width + 1) // 2, xp)
    radius = xp.sqrt(-2.0 * xp.log1p(-_to_unit(a, b, xp)))
    angle = (2.0 * math.pi) * _to_unit(c, e, xp)
    pairs = xp.stack((radius * xp.cos(angle), radius * xp.sin(angle)), axis=-1)
    return xp.reshape(pairs, (count, -1))[:, :width]


def instances_per_slab(width: int) -> int:
    """Instances generated at once for rows of ``width`` numbers (the result does not depend on it)."""
    return max(1, MAX_COUNTERS // max(1, (width + 1) // 2))


def _words(key: tuple[int, int], stream: int, first: int, count: int, pairs: int, xp: ModuleType):
    """Random words for counters ``(j, i mod 2**32, i // 2**32, stream)``, i = first .. first + count - 1."""
    if first < 0 or pairs >= 2**32:
        raise ValueError(f"first must be >= 0 and rows shorter than 2**33 numbers, got {first}, {2 * pairs}")
    index = xp.arange(first, first + count, dtype=xp.uint64)[:, None]
    j = xp.arange(pairs, dtype=xp.uint64)[None, :]
    mask = xp.asarray(MASK32, dtype=xp.uint64)
    return philox4x32((j, index & mask, index >> xp.asarray(32, dtype=xp.uint64), stream), key, xp)


def _to_unit(high: Any, low: Any, xp: ModuleType) -> Any:
    """53-bit float in [0, 1) from two 32-bit words: ``(high * 2**21 + low // 2**11) / 2**53``."""
    bits = (high << xp.asarray(21, dtype=xp.uint64)) | (low >> xp.asarray(11, dtype=xp.uint64))
    return xp.astype(bits, xp.float64) * 2.0**-53
