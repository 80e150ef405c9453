"""course_utils.validation, and the modules that use it: bool is never a number, a wrong type is a
TypeError (that is also a ValueError), a bound is a ValueError, and every message names the parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import data, evaluation, explain, fairness, plots, recsys, serving
from course_utils.business import funding, plan, risk
from course_utils.validation import (
    InvalidTypeError,
    check_1d,
    check_choice,
    check_int,
    check_range,
    check_real,
    check_scalar,
    scalar_or_array,
)


@pytest.mark.parametrize("value", [3, np.int64(3), np.int8(3)])
def test_check_int_accepts_python_and_numpy_integers(value):
    assert check_int("n", value, low=1) == 3 and type(check_int("n", value, low=1)) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_int_refuses_bool_with_a_type_error(value):
    with pytest.raises(TypeError, match=r"n must be a positive integer, got the boolean"):
        check_int("n", value, low=1)


@pytest.mark.parametrize("value", [1.0, "3", None, 2.5])
def test_check_int_wrong_type_is_a_type_error_and_a_value_error(value):
    with pytest.raises(InvalidTypeError, match="n must be") as caught:
        check_int("n", value, low=1)
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("low, high, value, words", [
    (0, None, -1, "a non-negative integer"), (1, None, 0, "a positive integer"),
    (8, None, 7, "an integer >= 8"), (1, 600, 601, r"an integer in \[1, 600\]"), (None, 5, 6, "an integer <= 5"),
])
def test_check_int_bounds_are_value_errors_naming_the_range(low, high, value, words):
    with pytest.raises(ValueError, match=f"k must be {words}, got k={value}") as caught:
        check_int("k", value, low=low, high=high)
    assert not isinstance(caught.value, TypeError)


def test_check_int_hint_is_in_the_message():
    with pytest.raises(ValueError, match=r"steps must be a positive integer, got steps=0 \(64-128 is typical\)"):
        check_int("steps", 0, low=1, hint="64-128 is typical")


@pytest.mark.parametrize("value", [True, np.bool_(False)])
def test_check_real_refuses_bool(value):
    with pytest.raises(TypeError, match="rate must be a number, got the boolean"):
        check_real("rate", value, low=0)


def test_check_real_bounds_nan_and_infinity():
    assert check_real("alpha", np.float32(0.5), 0, 1, include_boundaries="neither") == 0.5
    with pytest.raises(ValueError, match=r"alpha=1 is outside the allowed range \(0, 1\)"):
        check_real("alpha", 1, 0, 1, include_boundaries="neither")
    with pytest.raises(ValueError, match="NaN"):
        check_real("x", math.nan)
    assert check_real("x", math.inf, low=0) == math.inf
    with pytest.raises(ValueError, match="x must be a finite number, got inf"):
        check_real("x", math.inf, low=0, finite=True)
    with pytest.raises(InvalidTypeError, match="x must be a number, got str '1'"):
        check_real("x", "1")


def test_check_scalar_boundaries():
    assert check_scalar(0, "x", min_val=0) == 0
    with pytest.raises(ValueError, match=r"\(0, inf\]"):
        check_scalar(0, "x", min_val=0, include_boundaries="right")
    with pytest.raises(ValueError, match="include_boundaries"):
        check_scalar(0, "x", include_boundaries="open")


def test_check_range_arrays_and_types():
    assert check_range("share", [0.1, 0.9], 0, 1).tolist() == [0.1, 0.9]
    with pytest.raises(ValueError, match=r"share=1.5 is outside the allowed range \[0, 1\]"):
        check_range("share", [0.1, 1.5], 0, 1)
    with pytest.raises(TypeError, match="share must be a number, got the boolean True"):
        check_range("share", True, 0, 1)
    with pytest.raises(ValueError, match="NaN"):
        check_range("share", [0.1, math.nan], 0, 1)


def test_check_choice_check_1d_and_scalar_or_array():
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b'; got 'c'"):
        check_choice("mode", "c", ("a", "b"))
    assert check_1d("y", [1, 2]).tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"y must be a 1-D array, got shape \(2, 1\)"):
        check_1d("y", [[1], [2]])
    with pytest.raises(ValueError, match="y is empty"):
        check_1d("y", [], allow_empty=False)
    assert scalar_or_array(np.array(1.5), 2.0) == 1.5 and isinstance(scalar_or_array(np.array(1.5), 2.0), float)


# bool where a number is meant: each of these was accepted, or refused with another rule, before
# the checks were shared (issue 12: `taste_scale=True` and `epsilon=True` were accepted).
@pytest.mark.parametrize("call", [
    lambda: recsys.UserSimulator(taste_scale=True),
    lambda: recsys.UserSimulator(popularity_strength=True),
    lambda: recsys.UserSimulator(n_users=True),
    lambda: fairness.laplace_mechanism([1.0, 2.0], epsilon=True),
    lambda: explain.integrated_gradients(None, np.zeros((2, 2)), steps=True),
    lambda: evaluation.reliability_bins([0.5], [1], n_bins=True),
    lambda: data.synthetic_cifar10(n_train=True, n_test=1),
    lambda: serving.time_requests(lambda: None, n=True),
    lambda: plots.image_grid(np.zeros((1, 2, 2)), n_cols=True),
    lambda: risk.simulate_npv(True, 5, 1e6, 5e5, 0.3, 0.2, 0.6, 2e5, 0.12, seed=1),
    lambda: risk.risk_score([0.1], [2], impact_scale=True),
    lambda: funding.simulate_runway(1e6, 1e5, 1e4, 0.05, 0.1, months=True),
    lambda: plan.project_plan(plan.DIGIT_READING, 0.6, horizon_months=True),
], ids=["taste_scale", "popularity_strength", "n_users", "epsilon", "steps", "n_bins", "n_train", "n",
        "n_cols", "n_simulations", "impact_scale", "months", "horizon_months"])
def test_bool_is_refused_where_a_number_is_meant(call):
    with pytest.raises(TypeError, match="got the boolean True"):
        call()
