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


def check_ownership(name: str, ownership, tolerance: float = 1e-9) -> dict:
    """A cap table: a non-empty dict of holder -> share, every share in [0, 1], summing to 1.

    Returns a new dict with float shares.

    >>> check_ownership("pre_ownership", {"founder_a": 0.5, "founder_b": 0.5})
    {'founder_a': 0.5, 'founder_b': 0.5}
    """
    if not isinstance(ownership, dict) or not ownership:
        raise ValueError(f"{name} must be a non-empty dict of holder -> share, got {ownership!r}")
    shares = {}
    for holder, share in ownership.items():
        if not isinstance(holder, str) or not holder:
            raise ValueError(f"{name} keys must be non-empty strings (holder names), got {holder!r}")
        if not np.isscalar(share):
            raise ValueError(f"{name}[{holder!r}] must be a single number, got {type(share).__name__}")
        shares[holder] = check_range(f"{name}[{holder!r}]", share, 0.0, 1.0)
    total = math.fsum(shares.values())
    if abs(total - 1.0) > tolerance:
        raise ValueError(
            f"{name} shares sum to {total:.12g}; they must sum to 1 (within {tolerance:g}). "
            "Give fractions, not percentages, and include every holder"
        )
    return shares
