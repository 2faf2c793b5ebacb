"""Parsing grid values from the command line."""

from __future__ import annotations

import numpy as np


def parse_values(text: str, name: str, kind: type = int) -> list:
    """Parse a comma list of numbers and ranges.

    Items are numbers or ranges ``start:stop:step`` (arithmetic, ``stop``
    included when hit) or ``start:stop:xF`` (geometric with factor F), e.g.
    ``8:128:x2`` is 8, 16, 32, 64, 128 and ``0:0.5:0.25`` is 0, 0.25, 0.5.
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
        factor = float(step[1:])
        if factor <= 1 or start <= 0:
            raise ValueError("a geometric range needs start > 0 and factor > 1")
        count = int(np.floor(np.log(stop / start) / np.log(factor) + 1e-9)) + 1
        raw = start * factor ** np.arange(count)
    else:
        increment = float(step)
        if increment <= 0:
            raise ValueError("step must be > 0")
        raw = start + increment * np.arange(int(np.floor((stop - start) / increment + 1e-9)) + 1)
    return [_number(repr(float(v)), kind, exact=False) for v in raw]


def _number(text: str, kind: type, exact: bool = True):
    value = float(text)
    if kind is int:
        rounded = round(value)
        if exact and rounded != value:
            raise ValueError("expected an integer")
        return int(rounded)
    return float(np.round(value, 12))
