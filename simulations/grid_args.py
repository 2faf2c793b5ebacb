"""Parsing grid values from the command line."""

from __future__ import annotations

import math

import numpy as np

#: The most values one range item may expand to (``1:1e9:1`` is refused before anything is built).
MAX_RANGE_VALUES = 1_000_000


def parse_values(text: str, name: str, kind: type = int) -> list:
    """Parse a comma list of numbers and ranges.

    Items are finite numbers or ranges ``start:stop:step`` (arithmetic,
    ``stop`` included when hit; for integers the step is an integer) or
    ``start:stop:xF`` (geometric with factor F, rounded for integers), e.g.
    ``8:128:x2`` is 8, 16, 32, 64, 128 and ``0:0.5:0.25`` is 0, 0.25, 0.5.
    A range expands to at most :data:`MAX_RANGE_VALUES` values.
    ``ValueError`` names the parameter on bad input.
    """
    values: list = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            values.extend(_parse_item(item, kind))
        except ValueError as err:
            raise ValueError(f"--{name}: cannot read {item!r} ({err})") from None
    if not values:
        raise ValueError(f"--{name}: no values in {text!r}")
    return values


def _parse_item(item: str, kind: type) -> list:
    parts = item.split(":")
    if len(parts) == 1:
        return [_number(parts[0], kind)]
    if len(parts) != 3:
        raise ValueError("a range is start:stop:step or start:stop:xFACTOR")
    start, stop = _number(parts[0], kind), _number(parts[1], kind)
    if stop < start:
        raise ValueError("stop must be >= start")
    step = parts[2]
    if step.startswith("x"):
        factor = _finite(step[1:])
        if factor <= 1 or start <= 0:
            raise ValueError("a geometric range needs start > 0 and factor > 1")
        count = _count(math.log(stop / start) / math.log(factor))
        raw = start * factor ** np.arange(count)
    else:
        increment = _finite(step)
        if increment <= 0:
            raise ValueError("step must be > 0")
        if kind is int and increment != round(increment):
            raise ValueError("a range of integers needs an integer step")
        count = _count((stop - start) / increment)
        raw = start + increment * np.arange(count)
    return [_number(repr(float(v)), kind, exact=False) for v in raw]


def _count(steps: float) -> int:
    """Values of a range spanning ``steps`` steps, at most :data:`MAX_RANGE_VALUES`."""
    if not steps < MAX_RANGE_VALUES:
        raise ValueError(f"the range has {steps + 1:.3g} values, more than {MAX_RANGE_VALUES}")
    return math.floor(steps + 1e-9) + 1


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def _number(text: str, kind: type, exact: bool = True):
    value = _finite(text)
    if kind is int:
        rounded = round(value)
        if exact and rounded != value:
            raise ValueError("expected an integer")
        return int(rounded)
    return float(np.round(value, 12))
