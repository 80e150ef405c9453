"""Input checks shared by every calculator: a bad value raises ``ValueError`` naming the
argument, the offending value and the allowed range, and works for scalars and arrays alike."""

from __future__ import annotations

import math

import numpy as np


def _as_numeric(name: str, value):
    """Scalars stay Python floats; sequences, arrays and Series become float arrays."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got the boolean {value!r}")
    if np.isscalar(value):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        if math.isnan(number):
            raise ValueError(f"{name} must be a number, got NaN")
        return number
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN; remove or fill missing values first")
    return value if hasattr(value, "index") and hasattr(value, "to_numpy") else array


def check_range(name: str, value, low=-math.inf, high=math.inf, low_inclusive=True, high_inclusive=True):
    """Return ``value`` (as float or float array) if every element lies in the range, else raise.

    >>> check_range("utilization", 0.4, 0, 1, low_inclusive=False)
    0.4
    """
    numeric = _as_numeric(name, value)
    data = np.asarray(numeric, dtype=float)
    too_low = data < low if low_inclusive else data <= low
    too_high = data > high if high_inclusive else data >= high
    bad = too_low | too_high
    if np.any(bad):
        offender = data[bad].flat[0] if data.ndim else float(data)
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise ValueError(
            f"{name}={offender:g} is outside the allowed range {left}{low:g}, {high:g}{right}"
        )
    return numeric


def check_nonnegative(name: str, value):
    """Money, counts and durations: 0 or more."""
    return check_range(name, value, 0.0)


def check_positive(name: str, value):
    """Strictly above zero (a divisor, a price)."""
    return check_range(name, value, 0.0, low_inclusive=False)


def check_fraction(name: str, value, allow_zero: bool = True, allow_one: bool = True):
    """A share or probability: in [0, 1], or with open ends as asked."""
    return check_range(name, value, 0.0, 1.0, low_inclusive=allow_zero, high_inclusive=allow_one)
