"""Input checks of the calculators: the shared ones come from :mod:`course_utils.validation` (a bad
value raises ``ValueError``, or its ``TypeError`` subclass for a wrong type, naming the argument,
the value and the allowed range, for scalars and arrays alike); the cap-table check is business's own."""

from __future__ import annotations

import math

import numpy as np

from ..validation import (  # noqa: F401 - re-exported for the calculator modules
    _as_numeric,
    check_fraction,
    check_int,
    check_nonnegative,
    check_positive,
    check_range,
)


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
