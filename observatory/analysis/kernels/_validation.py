"""Small input checks shared by the kernels, so every estimator rejects bad input the same way."""

from __future__ import annotations

import math
import operator
from typing import SupportsIndex


def require_count(name: str, value: object) -> int:
    """Return ``value`` as a non-negative int, or raise ValueError naming the argument."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number of people, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be a whole number of people, got {value}")
        value = int(value)
    if not isinstance(value, SupportsIndex):
        raise ValueError(f"{name} must be a whole number of people, got {value!r}")
    try:
        count = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number of people, got {value!r}") from None
    if count < 0:
        raise ValueError(f"{name} must not be negative, got {count}")
    return count


def require_confidence(confidence: float) -> float:
    """Return ``confidence`` if it is a level strictly between 0 and 1."""
    if not (isinstance(confidence, int | float) and 0.0 < float(confidence) < 1.0):
        raise ValueError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def require_finite(name: str, value: float, *, minimum: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a finite float, optionally bounded below (strictly or not)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None:
        if strict and number <= minimum:
            raise ValueError(f"{name} must be greater than {minimum}, got {number}")
        if not strict and number < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number
