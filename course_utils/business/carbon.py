"""Energy and emissions of training and serving a model (chapter 13).

The arithmetic is short on purpose, so every figure can be checked by hand:

- energy (kWh) = device-hours x device power (W) x PUE / 1000
- emissions (kg CO2e) = energy (kWh) x grid carbon intensity (g CO2e/kWh) / 1000

PUE (power usage effectiveness) is total facility power over IT power, so it is at least 1.
All functions accept scalars or NumPy arrays / pandas Series (for what-if tables).

>>> round(energy_kwh(gpu_hours=3_552_000, gpu_watts=330, pue=1.1))  # GPT-3 inputs, Patterson et al. 2021
1289376
>>> round(emissions_kg(1_287_000, grid_gco2_per_kwh=429) / 1000)  # tonnes CO2e
552
"""

from __future__ import annotations

import numpy as np

from ._validate import _as_numeric, check_nonnegative, check_range

__all__ = [
    "energy_kwh",
    "emissions_kg",
    "inference_energy_kwh",
    "relative_difference",
    "pareto_front",
]

#: Allowed ranges, in one place so error messages and tests agree.
MAX_DEVICE_WATTS = 20_000.0  # one device (a GPU, a CPU socket, a whole 8-GPU server at most)
MAX_PUE = 3.0  # the worst data centres in surveys are near 2.5
MAX_GRID_GCO2_PER_KWH = 2_000.0  # coal plants emit roughly 800-1,100 g/kWh; no grid is above that
MAX_WH_PER_QUERY = 10_000.0


def energy_kwh(gpu_hours, gpu_watts, pue=1.0):
    """Energy drawn from the grid, in kWh: ``gpu_hours * gpu_watts * pue / 1000``.

    ``gpu_hours`` are device-hours (number of devices x wall-clock hours); any device works
    (GPU, TPU, CPU socket) as long as ``gpu_watts`` is its average power draw in watts.
    ``pue`` >= 1 adds the data centre's cooling and power-conversion overhead (1.0 = none counted).

    Taught in: notebooks/13_green_ai.ipynb

    >>> energy_kwh(1000, 400, 1.0)
    400.0
    >>> energy_kwh([10, 20], 500, 1.2).tolist()
    [6.0, 12.0]
    """
    hours = check_nonnegative("gpu_hours", gpu_hours)
    watts = check_range("gpu_watts", gpu_watts, 0.0, MAX_DEVICE_WATTS, low_inclusive=False)
    ratio = check_range("pue", pue, 1.0, MAX_PUE)
    return _float_or_array(np.asarray(hours, dtype=float) * watts * ratio / 1000.0, hours, watts, ratio)


def emissions_kg(energy_kwh, grid_gco2_per_kwh):
    """Emissions in kg CO2e: ``energy_kwh * grid_gco2_per_kwh / 1000``.

    ``grid_gco2_per_kwh`` is the carbon intensity of the electricity in grams per kWh
    (world average about 480, France about 55). A value between 0 and 1 is almost certainly
    kg/kWh by mistake, and is rejected with a hint.

    Taught in: notebooks/13_green_ai.ipynb

    >>> emissions_kg(1000, 500)
    500.0
    """
    energy = check_nonnegative("energy_kwh", energy_kwh)
    grid = check_range("grid_gco2_per_kwh", grid_gco2_per_kwh, 0.0, MAX_GRID_GCO2_PER_KWH)
    grid_array = np.asarray(grid, dtype=float)
    suspicious = (grid_array > 0) & (grid_array < 1)
    if np.any(suspicious):
        value = grid_array[suspicious].flat[0] if grid_array.ndim else float(grid_array)
        raise ValueError(
            f"grid_gco2_per_kwh={value:g} is in grams per kWh and must be 0 or in [1, {MAX_GRID_GCO2_PER_KWH:g}]; "
            f"{value:g} looks like kg/kWh: multiply by 1000 (e.g. 0.429 kg/kWh -> 429 g/kWh)"
        )
    return _float_or_array(np.asarray(energy, dtype=float) * grid / 1000.0, energy, grid)


def inference_energy_kwh(queries, wh_per_query):
    """Energy of serving ``queries`` requests at ``wh_per_query`` watt-hours each, in kWh.

    Taught in: notebooks/13_green_ai.ipynb

    >>> inference_energy_kwh(1_000_000, 0.3)
    300.0
    """
    count = check_nonnegative("queries", queries)
    per_query = check_range("wh_per_query", wh_per_query, 0.0, MAX_WH_PER_QUERY)
    return _float_or_array(np.asarray(count, dtype=float) * per_query / 1000.0, count, per_query)


def relative_difference(estimate, published):
    """``(estimate - published) / published``: how far a recomputed figure is from the published one.

    Taught in: notebooks/13_green_ai.ipynb

    >>> relative_difference(110, 100)
    0.1
    """
    est = _as_numeric("estimate", estimate)
    pub = check_range("published", published, 0.0, low_inclusive=False)
    return _float_or_array((np.asarray(est, dtype=float) - pub) / pub, est, pub)


def pareto_front(cost, benefit):
    """Boolean mask of the Pareto-optimal points when ``cost`` is minimised and ``benefit`` maximised.

    A point is on the front when no other point has lower-or-equal cost and higher-or-equal
    benefit with at least one strictly better (e.g. cost = training energy, benefit = accuracy).

    Taught in: notebooks/13_green_ai.ipynb

    >>> pareto_front([1, 2, 3, 2.5], [0.90, 0.95, 0.96, 0.94]).tolist()
    [True, True, True, False]
    """
    costs = np.atleast_1d(np.asarray(check_nonnegative("cost", cost), dtype=float))
    benefits = np.atleast_1d(np.asarray(_as_numeric("benefit", benefit), dtype=float))
    if costs.ndim != 1 or costs.shape != benefits.shape:
        raise ValueError(
            f"cost and benefit must be 1-D and of the same length, got shapes {costs.shape} and {benefits.shape}"
        )
    if costs.size == 0:
        raise ValueError("cost must hold at least one point, got an empty sequence")
    no_worse = (costs[None, :] <= costs[:, None]) & (benefits[None, :] >= benefits[:, None])
    strictly_better = (costs[None, :] < costs[:, None]) | (benefits[None, :] > benefits[:, None])
    dominated = np.any(no_worse & strictly_better, axis=1)
    return ~dominated


def _float_or_array(result, *inputs):
    """A Python float when every input was a scalar, otherwise the array (or Series) result."""
    if all(isinstance(x, float) for x in inputs):
        return float(result)
    for x in inputs:  # keep a pandas index when one came in
        if hasattr(x, "index") and hasattr(x, "to_numpy"):
            return type(x)(np.asarray(result, dtype=float), index=x.index)
    return np.asarray(result, dtype=float)
