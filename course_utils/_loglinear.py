"""The one log-linear fit of the package: least squares of log10(value) on time in years, with a
t interval on the slope. Chapter 01's growth rates (:func:`course_utils.scaling.fit_log_growth`)
and chapter 12's price deflation (:func:`course_utils.business.fit_price_deflation`) both use it;
each chooses its time axis (chapter 01 :func:`decimal_year`, chapter 12 days / 365.25, which its
exercise's hidden test uses too)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd


def decimal_year(dates) -> np.ndarray:
    """Dates as fractional years, e.g. 2020-07-02 -> about 2020.5 (each calendar year counts 1).

    >>> decimal_year(["2020-01-01", "2021-01-01"]).tolist()
    [2020.0, 2021.0]
    """
    stamps = pd.to_datetime(pd.Series(dates), errors="coerce")
    if stamps.isna().any():
        bad = list(pd.Series(dates)[stamps.isna()].head(3))
        raise ValueError(f"dates must be parseable dates (YYYY-MM-DD); could not parse {bad!r}")
    start = pd.to_datetime(stamps.dt.year.astype(str) + "-01-01")
    end = pd.to_datetime((stamps.dt.year + 1).astype(str) + "-01-01")
    fraction = (stamps - start) / (end - start)
    return (stamps.dt.year + fraction).to_numpy(dtype=float)


class Log10Line(NamedTuple):
    slope: float  # log10 units per year
    intercept: float
    slope_se: float
    slope_low: float  # the slope's confidence interval
    slope_high: float
    r_squared: float
    n: int


def fit_log10_line(years, values, confidence: float) -> Log10Line:
    """OLS of ``log10(values)`` on ``years``; callers check their inputs (n >= 3, values > 0, a time span).

    >>> line = fit_log10_line(np.array([0.0, 1.0, 2.0]), np.array([1.0, 10.0, 100.0]), 0.95)
    >>> round(line.slope, 12), round(line.r_squared, 12)
    (1.0, 1.0)
    """
    from scipy import stats

    logs = np.log10(values)
    n = years.size
    x_mean = years.mean()
    sxx = np.sum((years - x_mean) ** 2)
    slope = float(np.sum((years - x_mean) * (logs - logs.mean())) / sxx)
    intercept = float(logs.mean() - slope * x_mean)
    ss_res = float(np.sum((logs - (intercept + slope * years)) ** 2))
    ss_tot = float(np.sum((logs - logs.mean()) ** 2))
    standard_error = math.sqrt(ss_res / (n - 2) / sxx)
    t_quantile = float(stats.t.ppf(0.5 + confidence / 2, df=n - 2))
    return Log10Line(slope, intercept, standard_error, slope - t_quantile * standard_error,
                     slope + t_quantile * standard_error, 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0, n)
