"""Market sizing, scenario scoring and adoption curves (chapter 11).

- TAM/SAM/SOM, top-down (a market figure times shares) and bottom-up (customers times price);
  TAM >= SAM >= SOM is enforced.
- Weighted scoring of application scenarios against criteria the student weighs.
- The Bass (1969) diffusion model: cumulative adopters
  ``N(t) = m * (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))``, with ``p`` the coefficient of
  innovation, ``q`` of imitation and ``m`` the market potential; and a least-squares fit of it.

>>> size = tam_sam_som_top_down(tam=1e9, serviceable_share=0.2, obtainable_share=0.05)
>>> size.sam, size.som
(200000000.0, 10000000.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validate import check_fraction, check_nonnegative, check_positive, check_range

__all__ = [
    "MarketSize",
    "check_market_order",
    "tam_sam_som_top_down",
    "tam_sam_som_bottom_up",
    "weighted_scores",
    "channel_economics",
    "bass_cumulative",
    "bass_adoptions",
    "bass_peak_time",
    "BassFit",
    "fit_bass",
]


# --------------------------------------------------------------------------- go-to-market channels
def channel_economics(channels, revenue_per_customer_month, gross_margin, monthly_churn,
                      min_ltv_to_cac=3.0, max_payback_months=12.0) -> pd.DataFrame:
    """Customer acquisition cost, LTV/CAC and payback of each go-to-market channel, and whether it
    pays for itself.

    ``channels`` is a DataFrame indexed by channel with ``spend_usd_per_month`` and
    ``new_customers_per_month``. CAC = spend / new customers (``inf`` when a channel wins nobody);
    LTV = revenue x gross margin / churn (undiscounted); payback = CAC / (revenue x gross margin).
    A channel *passes* when LTV/CAC >= ``min_ltv_to_cac`` and payback <= ``max_payback_months``
    (Skok's rules of thumb: 3 and 12). A last row, ``"blended"``, is the whole mix: total spend /
    total new customers, which is what a plan's single CAC hides.

    Taught in: notebooks/11_market_strategy.ipynb

    >>> table = channel_economics(pd.DataFrame({"spend_usd_per_month": [9000, 1000],
    ...     "new_customers_per_month": [1, 1]}, index=["sales", "content"]), 600, 0.9, 0.03)
    >>> table["cac_usd"].to_dict(), table["passes"].to_dict()
    ({'sales': 9000.0, 'content': 1000.0, 'blended': 5000.0}, {'sales': False, 'content': True, 'blended': True})
    """
    from .unit_economics import cac_payback_months, ltv

    if not isinstance(channels, pd.DataFrame):
        raise ValueError(f"channels must be a DataFrame indexed by channel, got {type(channels).__name__}")
    needed = ["spend_usd_per_month", "new_customers_per_month"]
    missing = [c for c in needed if c not in channels.columns]
    if missing:
        raise ValueError(f"channels lacks columns {missing}; it needs {needed}, one row per channel")
    if channels.empty:
        raise ValueError("channels is empty; give at least one channel")
    if "blended" in channels.index:
        raise ValueError("'blended' is the name of the whole-mix row; rename that channel")
    spend = check_nonnegative("channels['spend_usd_per_month']", channels["spend_usd_per_month"].to_numpy(dtype=float))
    won = check_nonnegative("channels['new_customers_per_month']", channels["new_customers_per_month"].to_numpy(dtype=float))
    revenue = check_nonnegative("revenue_per_customer_month", revenue_per_customer_month)
    min_ratio = check_nonnegative("min_ltv_to_cac", min_ltv_to_cac)
    max_payback = check_nonnegative("max_payback_months", max_payback_months)
    spend = np.append(spend, spend.sum())
    won = np.append(won, won.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        cac = np.where(won > 0, spend / np.where(won > 0, won, 1.0), np.inf)
    lifetime_value = float(ltv(revenue, gross_margin, monthly_churn))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cac > 0, lifetime_value / np.where(cac > 0, cac, 1.0), np.inf)
    ratio = np.where(np.isinf(cac), 0.0, ratio)
    payback = np.asarray(cac_payback_months(cac, revenue, gross_margin), dtype=float)
    payback = np.where(np.isinf(cac), np.inf, payback)
    table = pd.DataFrame({"spend_usd_per_month": spend, "new_customers_per_month": won, "cac_usd": cac,
                          "ltv_usd": lifetime_value, "ltv_to_cac": ratio, "payback_months": payback},
                         index=list(channels.index) + ["blended"])
    table["passes"] = (table["ltv_to_cac"] >= min_ratio) & (table["payback_months"] <= max_payback) & (lifetime_value > 0)
    table.index.name = "channel"
    return table


# --------------------------------------------------------------------------- TAM / SAM / SOM
@dataclass(frozen=True)
class MarketSize:
    """Total, serviceable and obtainable market, in money per year (floats or arrays)."""

    tam: object
    sam: object
    som: object

    def as_series(self) -> pd.Series:
        """The three figures as a labelled Series (scalars only), handy for a bar chart."""
        if not all(np.isscalar(v) for v in (self.tam, self.sam, self.som)):
            raise ValueError("as_series() needs scalar figures; this MarketSize holds arrays")
        return pd.Series({"TAM": self.tam, "SAM": self.sam, "SOM": self.som}, name="market size")


def check_market_order(tam, sam, som) -> MarketSize:
    """Raise ``ValueError`` unless 0 <= SOM <= SAM <= TAM (element-wise); return the MarketSize.

    Taught in: notebooks/11_market_strategy.ipynb

    >>> check_market_order(100, 40, 5).som
    5.0
    >>> check_market_order(100, 140, 5)
    Traceback (most recent call last):
    ...
    ValueError: sam=140 is larger than tam=100; the serviceable market is part of the total market (need TAM >= SAM >= SOM)
    """
    tam = check_nonnegative("tam", tam)
    sam = check_nonnegative("sam", sam)
    som = check_nonnegative("som", som)
    for small_name, small, big_name, big in (("sam", sam, "tam", tam), ("som", som, "sam", sam)):
        small_a, big_a = np.broadcast_arrays(np.asarray(small, dtype=float), np.asarray(big, dtype=float))
        bad = small_a > big_a * (1 + 1e-12)
        if np.any(bad):
            index = np.flatnonzero(bad.ravel())[0]
            what = "serviceable market is part of the total" if small_name == "sam" else "obtainable market is part of the serviceable"
            raise ValueError(
                f"{small_name}={small_a.ravel()[index]:g} is larger than {big_name}={big_a.ravel()[index]:g}; "
                f"the {what} market (need TAM >= SAM >= SOM)"
            )
    return MarketSize(tam, sam, som)


def tam_sam_som_top_down(tam, serviceable_share, obtainable_share) -> MarketSize:
    """Top-down sizing: start from a total market figure and narrow it with two shares.

    ``serviceable_share`` is the part of the TAM your product can serve (segment, region,
    language); ``obtainable_share`` the part of that SAM you can realistically win in the
    plan's horizon. Both in [0, 1].

    Taught in: notebooks/11_market_strategy.ipynb

    >>> tam_sam_som_top_down(500.0, 0.5, 0.1)
    MarketSize(tam=500.0, sam=250.0, som=25.0)
    """
    tam = check_nonnegative("tam", tam)
    serviceable_share = check_fraction("serviceable_share", serviceable_share)
    obtainable_share = check_fraction("obtainable_share", obtainable_share)
    sam = np.asarray(tam, dtype=float) * np.asarray(serviceable_share, dtype=float)
    som = sam * np.asarray(obtainable_share, dtype=float)
    return check_market_order(_squeeze(tam), _squeeze(sam), _squeeze(som))


def tam_sam_som_bottom_up(total_customers, serviceable_customers, obtainable_customers, annual_revenue_per_customer) -> MarketSize:
    """Bottom-up sizing: count customers at each level and multiply by the yearly revenue of one.

    The counts must satisfy total >= serviceable >= obtainable (checked, with the names).

    Taught in: notebooks/11_market_strategy.ipynb

    >>> tam_sam_som_bottom_up(1_000_000, 200_000, 5_000, annual_revenue_per_customer=120)
    MarketSize(tam=120000000.0, sam=24000000.0, som=600000.0)
    """
    total = check_nonnegative("total_customers", total_customers)
    serviceable = check_nonnegative("serviceable_customers", serviceable_customers)
    obtainable = check_nonnegative("obtainable_customers", obtainable_customers)
    price = check_nonnegative("annual_revenue_per_customer", annual_revenue_per_customer)
    for small_name, small, big_name, big in (
        ("serviceable_customers", serviceable, "total_customers", total),
        ("obtainable_customers", obtainable, "serviceable_customers", serviceable),
    ):
        small_a, big_a = np.broadcast_arrays(np.asarray(small, dtype=float), np.asarray(big, dtype=float))
        if np.any(small_a > big_a):
            index = np.flatnonzero((small_a > big_a).ravel())[0]
            raise ValueError(
                f"{small_name}={small_a.ravel()[index]:g} is larger than {big_name}={big_a.ravel()[index]:g}; "
                "need total_customers >= serviceable_customers >= obtainable_customers"
            )
    return check_market_order(
        _squeeze(np.asarray(total) * price), _squeeze(np.asarray(serviceable) * price), _squeeze(np.asarray(obtainable) * price)
    )


def _squeeze(value):
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


# --------------------------------------------------------------------------- weighted scoring
def weighted_scores(scores: pd.DataFrame, weights, scale=(1, 5)) -> pd.Series:
    """Weighted score of each row of ``scores`` (one column per criterion), on the same scale.

    ``weights`` maps criterion -> non-negative weight (a dict or Series); they are normalised to
    sum to 1, so ``{"market": 2, "data": 1}`` means "market counts twice as much as data".
    Every score must lie within ``scale`` (inclusive). Criteria where *lower is better* (e.g.
    regulatory burden) should be entered already reversed (5 = light regulation).

    Taught in: notebooks/11_market_strategy.ipynb

    >>> table = pd.DataFrame({"market": [5, 2], "data": [1, 4]}, index=["A", "B"])
    >>> weighted_scores(table, {"market": 3, "data": 1}).round(2).to_dict()
    {'A': 4.0, 'B': 2.5}
    """
    if not isinstance(scores, pd.DataFrame):
        raise ValueError(f"scores must be a pandas DataFrame with one column per criterion, got {type(scores).__name__}")
    weight_series = pd.Series(weights, dtype=float) if not isinstance(weights, pd.Series) else weights.astype(float)
    if weight_series.empty:
        raise ValueError("weights is empty; give at least one criterion with a positive weight")
    missing = [name for name in weight_series.index if name not in scores.columns]
    if missing:
        raise ValueError(f"weights names criteria {missing} that are not columns of scores; columns are {list(scores.columns)}")
    for name, weight in weight_series.items():
        check_nonnegative(f"weights[{name!r}]", weight)
    total = weight_series.sum()
    if total <= 0:
        raise ValueError(f"weights sum to {total:g}; at least one weight must be positive")
    low, high = scale
    if not low < high:
        raise ValueError(f"scale={scale!r} must be (low, high) with low < high, e.g. (1, 5)")
    used = scores[list(weight_series.index)]
    for name in used.columns:
        check_range(f"scores[{name!r}]", used[name].to_numpy(dtype=float), low, high)
    result = used.to_numpy(dtype=float) @ (weight_series / total).to_numpy()
    return pd.Series(result, index=scores.index, name="weighted score")


# --------------------------------------------------------------------------- Bass diffusion
def _check_bass(p, q, m):
    p = check_range("p", p, 0.0, 1.0, low_inclusive=False)
    q = check_range("q", q, 0.0, 10.0)
    m = check_positive("m", m)
    return p, q, m


def bass_cumulative(t, p, q, m=1.0):
    """Cumulative adopters at time ``t`` (same unit as 1/p, e.g. years) under the Bass model.

    ``p`` in (0, 1] (innovation), ``q`` in [0, 10] (imitation), ``m`` > 0 (market potential;
    ``m=1`` gives the adopted fraction).

    Taught in: notebooks/11_market_strategy.ipynb

    >>> round(bass_cumulative(0, 0.03, 0.4, 100), 6)
    0.0
    >>> round(float(bass_cumulative(1000, 0.03, 0.4, 100)), 6)
    100.0
    """
    time = check_nonnegative("t", t)
    p, q, m = _check_bass(p, q, m)
    decay = np.exp(-(p + q) * np.asarray(time, dtype=float))
    result = m * (1.0 - decay) / (1.0 + (q / p) * decay)
    return float(result) if np.ndim(result) == 0 else result


def bass_adoptions(t, p, q, m=1.0):
    """New adopters per unit time at ``t`` (the derivative of :func:`bass_cumulative`).

    Taught in: notebooks/11_market_strategy.ipynb

    >>> round(bass_adoptions(0, 0.03, 0.4, 100), 6)  # at t=0 only innovators adopt: p * m
    3.0
    """
    time = check_nonnegative("t", t)
    p, q, m = _check_bass(p, q, m)
    decay = np.exp(-(p + q) * np.asarray(time, dtype=float))
    result = m * ((p + q) ** 2 / p) * decay / (1.0 + (q / p) * decay) ** 2
    return float(result) if np.ndim(result) == 0 else result


def bass_peak_time(p, q) -> float:
    """Time at which new adoptions peak: ``ln(q/p) / (p+q)``, or 0 when ``q <= p`` (no hump).

    Taught in: notebooks/11_market_strategy.ipynb

    >>> round(bass_peak_time(0.03, 0.38), 2)
    6.19
    """
    p, q, _ = _check_bass(p, q, 1.0)
    if q <= p:
        return 0.0
    return math.log(q / p) / (p + q)


@dataclass(frozen=True)
class BassFit:
    """Result of :func:`fit_bass`: the parameters, their standard errors and the fit quality."""

    p: float
    q: float
    m: float
    p_se: float
    q_se: float
    m_se: float
    rmse: float
    n_points: int

    @property
    def peak_time(self) -> float:
        return bass_peak_time(self.p, self.q)

    def predict(self, t):
        """Cumulative adopters predicted at times ``t`` (same origin as the fitted data)."""
        return bass_cumulative(t, self.p, self.q, self.m)


def fit_bass(t, cumulative_adopters, m_bounds=None) -> BassFit:
    """Fit p, q and m of the Bass model to observed cumulative adopters by least squares.

    ``t`` are times since launch (>= 0, increasing), ``cumulative_adopters`` the running totals
    (non-decreasing). ``m_bounds`` = (low, high) limits the market potential; by default from the
    last observation to 100 times it. At least 4 points are needed for 3 parameters. Before the
    inflection point the data say little about ``m``: look at ``m_se``.

    Taught in: notebooks/11_market_strategy.ipynb

    >>> times = np.arange(0, 12)
    >>> fit = fit_bass(times, bass_cumulative(times, 0.02, 0.5, 1000))
    >>> round(fit.p, 3), round(fit.q, 3), round(fit.m)
    (0.02, 0.5, 1000)
    """
    from scipy.optimize import curve_fit

    times = np.asarray(check_nonnegative("t", t), dtype=float)
    counts = np.asarray(check_nonnegative("cumulative_adopters", cumulative_adopters), dtype=float)
    if times.ndim != 1 or times.shape != counts.shape:
        raise ValueError(f"t and cumulative_adopters must be 1-D and the same length, got {times.shape} and {counts.shape}")
    if times.size < 4:
        raise ValueError(f"t has {times.size} points; fitting p, q and m needs at least 4")
    if np.any(np.diff(times) <= 0):
        raise ValueError("t must be strictly increasing (sort the data by time first)")
    if np.any(np.diff(counts) < 0):
        raise ValueError("cumulative_adopters must never decrease (give running totals, not per-period counts)")
    if counts[-1] <= 0:
        raise ValueError("cumulative_adopters are all zero; there is nothing to fit")
    low, high = m_bounds if m_bounds is not None else (counts[-1], 100 * counts[-1])
    check_positive("m_bounds[1]", high)
    if not 0 <= low < high:
        raise ValueError(f"m_bounds={m_bounds!r} must be (low, high) with 0 <= low < high")

    def model(x, p, q, m):
        decay = np.exp(-(p + q) * x)
        return m * (1.0 - decay) / (1.0 + (q / p) * decay)

    start = [0.01, 0.4, float(np.clip(2 * counts[-1], low * 1.0001 + 1e-9, high * 0.9999))]
    params, cov = curve_fit(
        model, times, counts, p0=start, bounds=([1e-6, 0.0, low], [1.0, 10.0, high]), maxfev=20_000
    )
    errors = np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(cov)) else np.full(3, np.nan)
    residuals = counts - model(times, *params)
    return BassFit(
        p=float(params[0]), q=float(params[1]), m=float(params[2]),
        p_se=float(errors[0]), q_se=float(errors[1]), m_se=float(errors[2]),
        rmse=float(np.sqrt(np.mean(residuals**2))), n_points=int(times.size),
    )
