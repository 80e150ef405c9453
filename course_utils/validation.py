"""Parameter checks for every module, in one place, modelled on scikit-learn's ``check_scalar``.

- a value of the wrong *type* raises :class:`InvalidTypeError` (a ``TypeError``);
- a value outside its *bounds* raises ``ValueError``;
- ``bool`` is refused wherever a number is meant (``True`` is an ``int`` to Python, never to us).

:class:`InvalidTypeError` also derives from ``ValueError``, as NumPy's ``AxisError`` derives from
two builtins, so code written when every bad input raised ``ValueError`` keeps working.
Messages name the parameter, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "InvalidTypeError", "check_scalar", "check_int", "check_real", "check_choice",
    "check_range", "check_1d", "check_nonnegative", "check_positive", "check_fraction", "scalar_or_array",
]


class InvalidTypeError(TypeError, ValueError):
    """A parameter of the wrong type (a ``TypeError``; also a ``ValueError``, see the module doc)."""


def _interval(min_val, max_val, include_boundaries: str) -> str:
    left = "[" if include_boundaries in ("left", "both") else "("
    right = "]" if include_boundaries in ("right", "both") else ")"
    low = "-inf" if min_val is None else f"{min_val:g}"
    high = "inf" if max_val is None else f"{max_val:g}"
    return f"{left}{low}, {high}{right}"


def check_scalar(x, name: str, target_type=numbers.Real, *, min_val=None, max_val=None,
                 include_boundaries: str = "both"):
    """Return ``x`` if it is a ``target_type`` inside the bounds, else raise.

    >>> check_scalar(3, "epochs", numbers.Integral, min_val=1)
    3
    >>> check_scalar(True, "epochs", numbers.Integral)
    Traceback (most recent call last):
    ...
    course_utils.validation.InvalidTypeError: epochs must be an integer, got the boolean True
    >>> check_scalar(0.0, "epsilon", min_val=0, include_boundaries="right")
    Traceback (most recent call last):
    ...
    ValueError: epsilon=0 is outside the allowed range (0, inf]
    """
    if include_boundaries not in ("left", "right", "both", "neither"):
        raise ValueError(f"include_boundaries must be 'left', 'right', 'both' or 'neither', got {include_boundaries!r}")
    kind = "an integer" if target_type is numbers.Integral else "a number"
    if isinstance(x, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be {kind}, got the boolean {x!r}")
    if not isinstance(x, target_type):
        raise InvalidTypeError(f"{name} must be {kind}, got {type(x).__name__} {x!r}")
    if isinstance(x, numbers.Real) and math.isnan(x):
        raise ValueError(f"{name} must be a number, got NaN")
    low_ok = min_val is None or (x >= min_val if include_boundaries in ("left", "both") else x > min_val)
    high_ok = max_val is None or (x <= max_val if include_boundaries in ("right", "both") else x < max_val)
    if not (low_ok and high_ok):
        raise ValueError(f"{name}={x:g} is outside the allowed range {_interval(min_val, max_val, include_boundaries)}")
    return x


def _int_requirement(low, high) -> str:
    if high is None:
        return {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
    return f"an integer <= {high}" if low is None else f"an integer in [{low}, {high}]"


def check_int(name: str, value, low: int | None = None, high: int | None = None, hint: str = "") -> int:
    """An integer (Python or NumPy, never bool) in ``[low, high]``, returned as ``int``.

    ``hint`` (e.g. ``"64-128 is typical"``) is added to the message in brackets.

    >>> check_int("n_users", 50, low=1)
    50
    >>> check_int("steps", 0, low=1, hint="64-128 is typical")
    Traceback (most recent call last):
    ...
    ValueError: steps must be a positive integer, got steps=0 (64-128 is typical)
    >>> check_int("seed", True, low=0)
    Traceback (most recent call last):
    ...
    course_utils.validation.InvalidTypeError: seed must be a non-negative integer, got the boolean True
    """
    requirement = _int_requirement(low, high)
    suffix = f" ({hint})" if hint else ""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be {requirement}, got the boolean {value!r}{suffix}")
    if not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{name} must be {requirement}, got {type(value).__name__} {value!r}{suffix}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {requirement}, got {name}={value!r}{suffix}")
    return int(value)


def check_real(name: str, value, low=None, high=None, include_boundaries: str = "both", *,
               finite: bool = False, hint: str = "") -> float:
    """A real number (never bool, never NaN; never infinite with ``finite``) in the bounds, as ``float``.

    >>> check_real("alpha", 0.05, 0, 1, include_boundaries="neither")
    0.05
    >>> check_real("epsilon", True, 0, include_boundaries="right")
    Traceback (most recent call last):
    ...
    course_utils.validation.InvalidTypeError: epsilon must be a number, got the boolean True
    """
    suffix = f" ({hint})" if hint else ""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be a number, got the boolean {value!r}{suffix}")
    if not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be a number, got {type(value).__name__} {value!r}{suffix}")
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}{suffix}")
    try:
        return float(check_scalar(value, name, numbers.Real, min_val=low, max_val=high,
                                  include_boundaries=include_boundaries))
    except ValueError as err:
        if not suffix:
            raise
        raise ValueError(f"{err}{suffix}") from None


def check_1d(name: str, values, allow_empty: bool = True) -> np.ndarray:
    """``values`` as a 1-D array (labels, groups, flags), else ``ValueError`` naming the shape.

    >>> check_1d("y_true", [[0, 1]])
    Traceback (most recent call last):
    ...
    ValueError: y_true must be a 1-D array, got shape (1, 2)
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} is empty; pass at least one value")
    return array


def check_choice(name: str, value, choices):
    """One of ``choices``.

    >>> check_choice("normalize", "true", ("true", "pred", None))
    'true'
    """
    if value not in tuple(choices):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _as_numeric(name: str, value):
    """Scalars become Python floats; sequences and arrays float arrays; pandas objects stay."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be a number, got the boolean {value!r}")
    if np.isscalar(value):
        if not isinstance(value, numbers.Real):
            raise InvalidTypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
        number = float(value)
        if math.isnan(number):
            raise ValueError(f"{name} must be a number, got NaN")
        return number
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN; remove or fill missing values first")
    return value if hasattr(value, "index") and hasattr(value, "to_numpy") else array


def check_range(name: str, value, low=-math.inf, high=math.inf, low_inclusive=True, high_inclusive=True):
    """Return ``value`` (float, or float array) if every element lies in the range, else raise.

    The array form of :func:`check_scalar`, for calculators that take scalars or arrays alike.

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
        raise ValueError(f"{name}={offender:g} is outside the allowed range {left}{low:g}, {high:g}{right}")
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


def scalar_or_array(result, *inputs):
    """A Python float when every input was a scalar, else the array: calculators return what they got.

    >>> scalar_or_array(np.array(2.5), 1.0, 2)
    2.5
    >>> scalar_or_array(np.array([1.0, 2.0]), [1, 2])
    array([1., 2.])
    """
    if all(np.ndim(x) == 0 for x in inputs) and np.ndim(result) == 0:
        return float(result)
    return result
