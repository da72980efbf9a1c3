"""Turning raw shares into a distribution, with errors that name the row and the field.

Loaders call `to_distribution` for every row. A `RowError` names what is wrong; the loader
adds the file and row number and either collects it (then rejects the whole file: nothing
is half-loaded) or, for sources with documented quirks, drops the row and reports it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .schema import MAX_OPTIONS

# A total within 2% of 100 / 1 is rounding in the published tables: renormalise and count it.
ROUNDING_TOLERANCE = 0.02
EXPECTED_TOTAL = {"percent": 100.0, "fraction": 1.0}


class RowError(ValueError):
    """One row cannot be used. `field` names the offending field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"field {field!r}: {message}")


def to_distribution(values: Sequence, scale: str, field: str = "distribution") -> tuple[np.ndarray, bool]:
    """Validate raw shares and return (normalised vector, whether it was renormalised).

    `scale` is "percent" (total 100), "fraction" (total 1) or "counts" (any positive total).
    Raises RowError for: no values, a value that is not a finite number, a negative value,
    all zeros, more than 26 options, or a percent/fraction total off by more than 2%.
    """
    if len(values) == 0:
        raise RowError(field, "is empty")
    if len(values) > MAX_OPTIONS:
        raise RowError(field, f"has {len(values)} options; at most {MAX_OPTIONS} (letters A-Z) are supported")
    numbers = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise RowError(field, f"value {i} is {v!r}, not a finite number")
        if v < 0:
            raise RowError(field, f"value {i} is negative ({v})")
        numbers.append(float(v))
    total = sum(numbers)
    if total <= 0:
        raise RowError(field, "all shares are zero, so it is not a distribution")
    renormalised = False
    if scale in EXPECTED_TOTAL:
        expected = EXPECTED_TOTAL[scale]
        off = abs(total / expected - 1)
        if off > ROUNDING_TOLERANCE:
            raise RowError(field, f"sums to {total:g}, more than 2% away from {expected:g}")
        renormalised = off > 1e-9
    elif scale != "counts":
        raise ValueError(f"unknown scale {scale!r}")
    return np.asarray(numbers) / total, renormalised


def option_text(value) -> str:
    """Option labels sometimes arrive as numbers (scale points 1.0, 2.0): write them as text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise RowError("options", f"option {value!r} is not a non-empty text")
    return value.strip()
