"""Notable models over time: load the curated table and fit exponential growth rates.

Used by chapter 01 (growth of parameters and training compute, GPU prices) and chapter 09 (the
same median GPU price); the functions name their chapters ("Taught in"). Pure NumPy/pandas/SciPy;
no TensorFlow.

The table ``data/notable_models.csv`` is a curated subset of Epoch AI's "Data on AI Models"
(CC BY 4.0, https://epoch.ai/data/ai-models); see ``data/README.md`` for what was changed.

>>> fit = fit_log_growth([2010, 2011, 2012, 2013], [1.0, 10.0, 100.0, 1000.0])
>>> round(fit.factor_per_year, 6)
10.0
>>> round(fit.doubling_time_years * 12, 2)   # months
3.61
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._loglinear import decimal_year, fit_log10_line  # noqa: F401 - decimal_year is part of this API
from .paths import data_file

NOTABLE_MODELS_FILE = "notable_models.csv"

#: Columns every version of the curated table must have.
NOTABLE_MODELS_COLUMNS = (
    "model",
    "organization",
    "publication_date",
    "parameters",
    "training_flop",
    "training_cost_usd_2023",
    "source",
    "licence_note",
)

__all__ = [
    "NOTABLE_MODELS_COLUMNS",
    "GrowthFit",
    "decimal_year",
    "fit_log_growth",
    "load_notable_models",
    "PriceQuote",
    "median_gpu_price",
]


def load_notable_models(path=None) -> pd.DataFrame:
    """The curated table of notable models, with ``publication_date`` parsed and a ``year`` column.

    ``parameters`` and ``training_cost_usd_2023`` are missing (NaN) where Epoch AI has no figure
    (closed models do not publish their size; most models have no cost estimate).

    Taught in: notebooks/01_big_models_scale.ipynb

    >>> table = load_notable_models()
    >>> {"model", "year", "training_flop"} <= set(table.columns)
    True
    """
    path = data_file(NOTABLE_MODELS_FILE) if path is None else path
    table = pd.read_csv(path)
    missing = [column for column in NOTABLE_MODELS_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected at least {list(NOTABLE_MODELS_COLUMNS)}")
    table["publication_date"] = pd.to_datetime(table["publication_date"], errors="raise")
    table["year"] = decimal_year(table["publication_date"])
    for column in ("parameters", "training_flop", "training_cost_usd_2023"):
        table[column] = pd.to_numeric(table[column], errors="raise").astype(float)
    return table.sort_values("publication_date", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class GrowthFit:
    """Result of a straight-line fit of log10(value) against year.

    ``factor_per_year`` is 10**slope (e.g. 4.0 means "x4 per year"); ``factor_ci`` is its
    confidence interval from the t-distribution of the OLS slope.
    """

    slope_log10_per_year: float
    intercept_log10: float
    slope_standard_error: float
    factor_per_year: float
    factor_ci: tuple[float, float]
    confidence: float
    doubling_time_years: float
    r_squared: float
    n: int

    def predict(self, year):
        """Fitted value (not its log) at ``year`` (scalar or array)."""
        return 10.0 ** (self.intercept_log10 + self.slope_log10_per_year * np.asarray(year, dtype=float))

    def __str__(self) -> str:
        low, high = self.factor_ci
        return (
            f"x{self.factor_per_year:.2f} per year ({self.confidence:.0%} CI x{low:.2f} to x{high:.2f}), "
            f"doubling every {12 * self.doubling_time_years:.1f} months, n={self.n}, R^2={self.r_squared:.2f}"
        )


def fit_log_growth(years, values, confidence: float = 0.95) -> GrowthFit:
    """Fit ``log10(values) = a + b * years`` by least squares and report the growth per year.

    ``values`` must be positive (they are put on a log scale); at least three points and two
    distinct years are needed for an interval.

    Taught in: notebooks/01_big_models_scale.ipynb

    >>> fit = fit_log_growth([2000, 2001, 2002, 2003], [1, 2.1, 3.9, 8.2])
    >>> 1.9 < fit.factor_per_year < 2.1
    True
    """
    years = np.asarray(years, dtype=float).ravel()
    values = np.asarray(values, dtype=float).ravel()
    if years.shape != values.shape:
        raise ValueError(f"years and values must have the same length, got {years.size} and {values.size}")
    if years.size < 3:
        raise ValueError(f"need at least 3 points to fit a growth rate with an interval, got {years.size}")
    if not (np.all(np.isfinite(years)) and np.all(np.isfinite(values))):
        raise ValueError("years and values must be finite numbers (drop missing rows first, e.g. with .dropna())")
    if np.any(values <= 0):
        raise ValueError(f"values must be > 0 to take logs; smallest given is {values.min()!r}")
    if np.ptp(years) == 0:
        raise ValueError(f"years must not all be equal (all are {years[0]!r}); a rate needs a time span")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")

    line = fit_log10_line(years, values, confidence)
    slope = line.slope
    doubling = math.log10(2) / slope if slope > 0 else math.inf
    return GrowthFit(
        slope_log10_per_year=slope,
        intercept_log10=line.intercept,
        slope_standard_error=line.slope_se,
        factor_per_year=10.0**slope,
        factor_ci=(10.0**line.slope_low, 10.0**line.slope_high),
        confidence=confidence,
        doubling_time_years=doubling,
        r_squared=line.r_squared,
        n=line.n,
    )


GPU_PRICES_FILE = "gpu_prices.csv"


@dataclass(frozen=True)
class PriceQuote:
    """The median of a set of price quotes, with how many there were and their range."""

    median: float
    n_quotes: int
    low: float
    high: float
    description: str

    def __str__(self) -> str:
        return (f"{self.median:.2f} USD, median of {self.n_quotes} {self.description} "
                f"(range {self.low:.2f}-{self.high:.2f})")


def median_gpu_price(hardware: str = "NVIDIA H100 SXM5 80GB", price_type: str = "on_demand",
                     year: int = 2025, path=None) -> PriceQuote:
    """Median quote in ``data/gpu_prices.csv`` for one GPU, price type and year (chapter 01 prices
    a GPU-hour with it; chapter 09 takes the same median).

    Taught in: notebooks/01_big_models_scale.ipynb

    >>> round(median_gpu_price().median, 2)
    3.62
    """
    prices = pd.read_csv(path or data_file(GPU_PRICES_FILE), parse_dates=["date"])
    chosen = prices[(prices["hardware"] == hardware) & (prices["price_type"] == price_type)
                    & (prices["date"].dt.year == year)]
    if chosen.empty:
        raise ValueError(f"no {price_type!r} quotes for {hardware!r} in {year} in {GPU_PRICES_FILE}; "
                         f"hardware there: {sorted(prices['hardware'].unique())}, "
                         f"price types: {sorted(prices['price_type'].unique())}")
    usd = chosen["usd"].astype(float)
    return PriceQuote(float(usd.median()), int(len(usd)), float(usd.min()), float(usd.max()),
                      f"{year} {price_type.replace('_', '-')} quotes for the {hardware} ({GPU_PRICES_FILE})")
