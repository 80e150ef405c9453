"""Training compute, GPU-hours and their cost; renting versus buying an accelerator.

All functions take scalars, NumPy arrays or pandas Series (element-wise) and raise
``ValueError`` naming the argument, the value and the allowed range.

>>> flops = compute_flops(175e9, 300e9)          # GPT-3: 175B parameters, 300B tokens
>>> f"{flops:.3g}"
'3.15e+23'
>>> round(gpu_hours(3600 * 1e15, peak_flops_per_s=1e15, utilization=0.5), 6)
2.0
"""

from __future__ import annotations

import numpy as np

from ._validate import check_fraction, check_nonnegative, check_positive, check_range

SECONDS_PER_HOUR = 3600.0
HOURS_PER_YEAR = 8760.0

__all__ = [
    "compute_flops",
    "gpu_hours",
    "training_cost_usd",
    "ownership_cost_per_gpu_hour",
    "rent_vs_buy_breakeven_utilization",
]


def compute_flops(params, tokens):
    """Training compute of a dense transformer, C ≈ 6·N·D FLOP (Kaplan et al. 2020).

    ``params`` (N) is the number of parameters, ``tokens`` (D) the number of training tokens;
    2·N·D for the forward pass and 4·N·D for the backward pass.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> compute_flops(1e9, 20e9)
    1.2e+20
    """
    params = check_positive("params", params)
    tokens = check_positive("tokens", tokens)
    return 6.0 * params * tokens


def gpu_hours(flops, peak_flops_per_s, utilization):
    """Accelerator-hours needed for ``flops`` at ``utilization`` (model FLOP utilisation, MFU) of peak.

    ``utilization`` is a fraction in (0, 1]; real large runs reach roughly 0.3-0.5.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(gpu_hours(3.14e23, 312e12, 0.4))   # GPT-3 on A100s (bf16 dense peak) at 40 % MFU
    698896
    """
    flops = check_nonnegative("flops", flops)
    peak_flops_per_s = check_positive("peak_flops_per_s", peak_flops_per_s)
    utilization = check_fraction("utilization", utilization, allow_zero=False)
    return flops / (peak_flops_per_s * utilization) / SECONDS_PER_HOUR


def training_cost_usd(gpu_hours, usd_per_gpu_hour):
    """Rental cost of a run: GPU-hours times the hourly price of one accelerator.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> training_cost_usd(2.788e6, 2.0)   # DeepSeek-V3's final run as reported (H800 at 2 USD/h)
    5576000.0
    """
    hours = check_nonnegative("gpu_hours", gpu_hours)
    price = check_nonnegative("usd_per_gpu_hour", usd_per_gpu_hour)
    return hours * price


def _energy_usd_per_hour(power_kw, electricity_usd_per_kwh, pue):
    power_kw = check_nonnegative("power_kw", power_kw)
    electricity_usd_per_kwh = check_nonnegative("electricity_usd_per_kwh", electricity_usd_per_kwh)
    pue = check_range("pue", pue, 1.0, 5.0)  # power usage effectiveness: 1.0 is a perfect data centre
    return power_kw * pue * electricity_usd_per_kwh


def ownership_cost_per_gpu_hour(
    purchase_usd,
    utilization,
    lifetime_years=4.0,
    power_kw=0.7,
    electricity_usd_per_kwh=0.10,
    pue=1.2,
    overhead_fraction=0.0,
):
    """Cost of one *used* hour of an accelerator you own.

    The purchase price (plus ``overhead_fraction`` of it for servers, networking and hosting)
    is spread over the hours the card actually works in its lifetime
    (``lifetime_years`` × 8760 × ``utilization``); electricity is paid only while it works.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(ownership_cost_per_gpu_hour(30_000, utilization=1.0, lifetime_years=4, power_kw=0.7,
    ...                                   electricity_usd_per_kwh=0.1, pue=1.2), 3)
    0.94
    """
    purchase_usd = check_nonnegative("purchase_usd", purchase_usd)
    utilization = check_fraction("utilization", utilization, allow_zero=False)
    lifetime_years = check_positive("lifetime_years", lifetime_years)
    overhead_fraction = check_nonnegative("overhead_fraction", overhead_fraction)
    energy = _energy_usd_per_hour(power_kw, electricity_usd_per_kwh, pue)
    capital_per_hour = purchase_usd * (1.0 + overhead_fraction) / (lifetime_years * HOURS_PER_YEAR)
    return capital_per_hour / utilization + energy


def rent_vs_buy_breakeven_utilization(
    purchase_usd,
    rental_usd_per_hour,
    lifetime_years=4.0,
    power_kw=0.7,
    electricity_usd_per_kwh=0.10,
    pue=1.2,
    overhead_fraction=0.0,
):
    """Utilisation above which owning an accelerator is cheaper than renting it by the hour.

    Solves ``ownership_cost_per_gpu_hour(u) == rental_usd_per_hour`` for ``u``. A result above 1
    means buying never pays within the lifetime; ``inf`` means the rental price does not even
    cover the electricity.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(rent_vs_buy_breakeven_utilization(30_000, 2.0, lifetime_years=4), 3)
    0.447
    """
    purchase_usd = check_nonnegative("purchase_usd", purchase_usd)
    rental = check_positive("rental_usd_per_hour", rental_usd_per_hour)
    lifetime_years = check_positive("lifetime_years", lifetime_years)
    overhead_fraction = check_nonnegative("overhead_fraction", overhead_fraction)
    energy = _energy_usd_per_hour(power_kw, electricity_usd_per_kwh, pue)
    capital_per_hour = purchase_usd * (1.0 + overhead_fraction) / (lifetime_years * HOURS_PER_YEAR)
    margin_over_energy = np.asarray(rental - energy, dtype=float)
    covers_energy = margin_over_energy > 0
    safe_divisor = np.where(covers_energy, margin_over_energy, 1.0)
    result = np.where(covers_energy, capital_per_hour / safe_divisor, np.inf)
    return float(result) if result.ndim == 0 else result
