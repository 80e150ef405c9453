"""The Monte Carlo growth paths behind chapter 10's runway and chapter 12's NPV simulations."""

from __future__ import annotations

import numpy as np


def growth_factor_paths(rng: np.random.Generator, growth_mean, growth_sd, n_paths: int, n_periods: int) -> np.ndarray:
    """Cumulative growth factors, shape ``(n_paths, n_periods)``: the product of ``1 + g`` over the
    periods so far, each period's growth ``g`` drawn from Normal(mean, sd) and floored at -1 (a
    quantity can fall to zero, never below)."""
    growth = np.maximum(rng.normal(growth_mean, growth_sd, size=(n_paths, n_periods)), -1.0)
    return np.cumprod(1.0 + growth, axis=1)
