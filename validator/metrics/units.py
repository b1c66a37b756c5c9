"""Logarithm bases and their unit names (docs/DESIGN.md: bits by default)."""

from __future__ import annotations

import math

UNITS = {2: "bits", "e": "nats", 10: "hartleys"}


def log_base(base) -> float:
    """ln(base) for ``base`` in {2, 'e', 10}: divide a value in nats by it to change units.

    Raises
    ------
    ValueError
        For any other base.
    """
    if base == 2:
        return math.log(2.0)
    if base == "e" or base == math.e:
        return 1.0
    if base == 10:
        return math.log(10.0)
    raise ValueError(f"The 'base' parameter must be 2, 'e' or 10. Got {base!r} instead.")


def unit(base) -> str:
    """The unit name of a logarithm base: 'bits', 'nats' or 'hartleys'."""
    log_base(base)
    return UNITS["e" if base == math.e else base]
