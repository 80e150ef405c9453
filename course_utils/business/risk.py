"""Risk register, Monte Carlo NPV, the "$600B question" and price deflation (chapter 12).

>>> risk_score(0.4, 5)
2.0
>>> round(npv([-100, 60, 60], 0.10), 2)
4.13
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._loglinear import fit_log10_line
from ._simulate import growth_factor_paths
from ._validate import check_fraction, check_int, check_nonnegative, check_positive, check_range

__all__ = [
    "RISK_CATEGORIES",
    "risk_score",
    "risk_level",
    "score_risk_register",
    "risks_without_owner",
    "npv",
    "simulate_npv",
    "probability_of_loss",
    "required_ai_revenue",
    "PriceDeflationFit",
    "fit_price_deflation",
]

#: The five risk families of chapter 12 (seed 004 ch.8 names four; legal/ethical comes from seed 003 ch.6).
RISK_CATEGORIES = ("technical", "data", "market", "financial", "legal/ethical")


# --------------------------------------------------------------------------- risk register
def risk_score(probability, impact, impact_scale=5):
    """Expected severity ``probability x impact``: probability in [0, 1], impact in [1, impact_scale].

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> risk_score([0.1, 0.5], [5, 2]).tolist()
    [0.5, 1.0]
    """
    check_int("impact_scale", impact_scale, low=2, hint="e.g. 5 for a 1-5 scale")
    prob = check_fraction("probability", probability)
    imp = check_range("impact", impact, 1, impact_scale)
    result = np.asarray(prob, dtype=float) * np.asarray(imp, dtype=float)
    return float(result) if result.ndim == 0 else result


def risk_level(score, thresholds=(1.0, 2.0)):
    """``"low"``, ``"medium"`` or ``"high"`` for each score: below ``thresholds[0]`` is low,
    from ``thresholds[1]`` on is high.

    >>> risk_level([0.5, 1.5, 3.0]).tolist()
    ['low', 'medium', 'high']
    """
    values = np.asarray(check_nonnegative("score", score), dtype=float)
    low, high = thresholds
    check_nonnegative("thresholds[0]", low)
    if not low < high:
        raise ValueError(f"thresholds={thresholds!r} must be increasing (low, high), e.g. (1.0, 2.0)")
    levels = np.where(values >= high, "high", np.where(values >= low, "medium", "low"))
    return str(levels) if levels.ndim == 0 else levels


def score_risk_register(register: pd.DataFrame, impact_scale=5, thresholds=(1.0, 2.0)) -> pd.DataFrame:
    """Add ``score`` and ``level`` columns to a register with ``risk``, ``category``,
    ``probability`` and ``impact`` columns; sorted from the highest score down.

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> table = pd.DataFrame({"risk": ["GPU price rise", "data leak"], "category": ["financial", "data"],
    ...                       "probability": [0.5, 0.1], "impact": [3, 5]})
    >>> score_risk_register(table)[["risk", "score", "level"]].values.tolist()
    [['GPU price rise', 1.5, 'medium'], ['data leak', 0.5, 'low']]
    """
    if not isinstance(register, pd.DataFrame):
        raise ValueError(f"register must be a pandas DataFrame, got {type(register).__name__}")
    needed = ["risk", "category", "probability", "impact"]
    missing = [c for c in needed if c not in register.columns]
    if missing:
        raise ValueError(f"register lacks columns {missing}; it needs {needed}")
    unknown = sorted(set(register["category"]) - set(RISK_CATEGORIES))
    if unknown:
        raise ValueError(f"register['category'] holds {unknown}; allowed categories are {list(RISK_CATEGORIES)}")
    out = register.copy()
    out["score"] = risk_score(out["probability"].to_numpy(dtype=float), out["impact"].to_numpy(dtype=float), impact_scale)
    out["level"] = risk_level(out["score"].to_numpy(), thresholds)
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def risks_without_owner(scored: pd.DataFrame, levels=("high", "medium")) -> list:
    """Names of the risks at ``levels`` that lack an ``owner`` or a ``mitigation`` (missing, NaN
    or blank). A register whose serious risks nobody owns is a list of worries, not a plan.

    ``scored`` is the output of :func:`score_risk_register`, with ``owner`` and ``mitigation``
    columns.

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> table = score_risk_register(pd.DataFrame({
    ...     "risk": ["data leak", "GPU price rise", "typo in docs"], "category": ["data", "financial", "technical"],
    ...     "probability": [0.5, 0.5, 0.1], "impact": [5, 3, 1],
    ...     "owner": ["CTO", " ", None], "mitigation": ["encrypt scans", "commit to 1 year", None]}))
    >>> risks_without_owner(table)
    ['GPU price rise']
    """
    if not isinstance(scored, pd.DataFrame):
        raise ValueError(f"scored must be the DataFrame from score_risk_register, got {type(scored).__name__}")
    needed = ["risk", "level", "owner", "mitigation"]
    missing = [c for c in needed if c not in scored.columns]
    if missing:
        raise ValueError(f"the register lacks columns {missing}; add an owner and a mitigation per risk "
                         f"and score it with score_risk_register")
    unknown = sorted(set(levels) - {"low", "medium", "high"})
    if unknown:
        raise ValueError(f"levels holds {unknown}; allowed: 'low', 'medium', 'high'")

    def blank(column):
        return scored[column].isna() | (scored[column].astype(str).str.strip() == "")

    serious = scored["level"].isin(list(levels))
    return scored.loc[serious & (blank("owner") | blank("mitigation")), "risk"].tolist()


# --------------------------------------------------------------------------- NPV
def npv(cash_flows, discount_rate):
    """Net present value of yearly cash flows, the first at year 0 (not discounted).

    ``cash_flows`` is 1-D (one plan) or 2-D (one row per simulated plan: returns one NPV per row).
    ``discount_rate`` in (-1, 1] per year (0.10 = 10%).

    >>> npv([-100, 50, 50], 0.0)
    0.0
    >>> npv([[-100, 50, 50], [-100, 0, 0]], 0.0).tolist()
    [0.0, -100.0]
    """
    flows = np.asarray(check_range("cash_flows", cash_flows), dtype=float)
    rate = check_range("discount_rate", discount_rate, -1.0, 1.0, low_inclusive=False)
    if flows.ndim not in (1, 2) or flows.shape[-1] == 0:
        raise ValueError(f"cash_flows must be 1-D (years) or 2-D (plans x years) and non-empty, got shape {flows.shape}")
    factors = (1.0 + rate) ** -np.arange(flows.shape[-1])
    result = flows @ factors
    return float(result) if np.ndim(result) == 0 else result


def simulate_npv(
    n_simulations,
    years,
    initial_investment,
    first_year_revenue,
    growth_mean,
    growth_sd,
    gross_margin,
    annual_fixed_costs,
    discount_rate,
    seed=0,
    return_cash_flows=False,
    terminal_growth=None,
):
    """Monte Carlo NPV of a simple startup plan; returns one NPV per simulated future.

    Each year's revenue grows by a random rate drawn from Normal(``growth_mean``, ``growth_sd``)
    (floored at -100%: revenue cannot go negative); cash flow = revenue x gross margin - fixed
    costs; year 0 carries ``-initial_investment``. Seeded, so the same inputs give the same NPVs.
    With ``return_cash_flows=True`` also returns the (n_simulations, years + 1) cash-flow matrix.

    ``terminal_growth`` (a yearly rate below ``discount_rate``) adds the value of the years after
    the horizon to the last year's flow: the Gordon growth value CF_last x (1 + g) / (r - g),
    floored at zero because the owners can close a business that keeps losing money. Without it
    everything after the last year is worth nothing, which biases a young company's NPV down.

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> npvs = simulate_npv(1000, 5, 1e6, 5e5, 0.3, 0.2, 0.6, 2e5, 0.12, seed=1)
    >>> npvs.shape
    (1000,)
    """
    check_int("n_simulations", n_simulations, low=1, high=10_000_000)
    check_int("years", years, low=1, high=100)
    initial_investment = check_nonnegative("initial_investment", initial_investment)
    first_year_revenue = check_nonnegative("first_year_revenue", first_year_revenue)
    growth_mean = check_range("growth_mean", growth_mean, -1.0, 10.0)
    growth_sd = check_range("growth_sd", growth_sd, 0.0, 10.0)
    gross_margin = check_range("gross_margin", gross_margin, -1.0, 1.0)
    annual_fixed_costs = check_nonnegative("annual_fixed_costs", annual_fixed_costs)
    rng = np.random.default_rng(seed)
    factors = growth_factor_paths(rng, growth_mean, growth_sd, n_simulations, years - 1)
    revenue = first_year_revenue * np.concatenate([np.ones((n_simulations, 1)), factors], axis=1)
    flows = np.concatenate([np.full((n_simulations, 1), -initial_investment), revenue * gross_margin - annual_fixed_costs], axis=1)
    if terminal_growth is not None:
        rate = check_range("discount_rate", discount_rate, -1.0, 1.0, low_inclusive=False)
        growth = check_range("terminal_growth", terminal_growth, -1.0, 1.0)
        if not growth < rate:
            raise ValueError(f"terminal_growth={growth:g} must be below discount_rate={rate:g}: "
                             "a perpetuity growing as fast as the discount rate has no finite value")
        flows[:, -1] += np.maximum(flows[:, -1] * (1 + growth) / (rate - growth), 0.0)
    values = npv(flows, discount_rate)
    return (values, flows) if return_cash_flows else values


def probability_of_loss(npvs, confidence=0.95):
    """Share of simulated NPVs below zero, with a Wilson score interval: ``(p, low, high)``.

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> probability_of_loss([-1, 2, 3, -4])[0]
    0.5
    """
    values = np.atleast_1d(np.asarray(check_range("npvs", npvs), dtype=float))
    if values.size == 0:
        raise ValueError("npvs is empty; simulate at least one NPV")
    level = check_range("confidence", confidence, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    from scipy.stats import norm

    n = values.size
    share = float(np.mean(values < 0))
    z = float(norm.ppf(0.5 + level / 2))
    centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = 0.0 if share == 0.0 else max(0.0, centre - half)  # exact ends: no rounding dust
    high = 1.0 if share == 1.0 else min(1.0, centre + half)
    return share, low, high


# --------------------------------------------------------------------------- the $600B question
def required_ai_revenue(gpu_revenue_run_rate, gpu_share_of_datacenter_cost=0.5, end_user_gross_margin=0.5):
    """Yearly AI revenue needed to pay for the GPUs being bought (D. Cahn's "$600B question").

    GPU spending is only part of a data centre's cost (energy, buildings, networking), so total
    cost = GPU spend / ``gpu_share_of_datacenter_cost``; whoever sells the AI service needs a
    gross margin, so revenue = cost / (1 - ``end_user_gross_margin``).

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> required_ai_revenue(150e9) / 1e9  # Cahn, June 2024: $150B run-rate -> $600B
    600.0
    """
    spend = check_nonnegative("gpu_revenue_run_rate", gpu_revenue_run_rate)
    share = check_range("gpu_share_of_datacenter_cost", gpu_share_of_datacenter_cost, 0.0, 1.0, low_inclusive=False)
    margin = check_range("end_user_gross_margin", end_user_gross_margin, 0.0, 1.0, high_inclusive=False)
    result = np.asarray(spend, dtype=float) / share / (1.0 - np.asarray(margin, dtype=float))
    return float(result) if result.ndim == 0 else result


# --------------------------------------------------------------------------- price deflation
@dataclass(frozen=True)
class PriceDeflationFit:
    """Log-linear fit ``log10(price) = intercept + slope * years_since_start``.

    ``factor_per_year`` is how many times cheaper the price gets each year (10 ** -slope), with
    its confidence interval ``factor_low``..``factor_high``; ``start`` is the date of year 0.
    """

    slope: float
    intercept: float
    slope_se: float
    factor_per_year: float
    factor_low: float
    factor_high: float
    confidence: float
    n_points: int
    start: pd.Timestamp
    r_squared: float

    def predict(self, dates):
        """Fitted price at ``dates`` (anything ``pd.to_datetime`` reads)."""
        years = _years_since(pd.to_datetime(dates), self.start)
        return 10 ** (self.intercept + self.slope * years)


def _years_since(dates, start):
    """Years from ``start`` as days / 365.25: chapter 12 and its exercise (whose hidden test fits
    the same way) measure time so. Chapter 01's :func:`course_utils.scaling.decimal_year` counts
    each calendar year as 1; the two differ by under 0.1 % over the table's span."""
    return np.asarray((pd.DatetimeIndex(np.atleast_1d(dates)) - start).days, dtype=float) / 365.25


def fit_price_deflation(dates, prices, confidence=0.95) -> PriceDeflationFit:
    """Fit the yearly rate at which a price falls, from dated prices (at least 3 distinct dates).

    Ordinary least squares of log10(price) on time in years; the interval on the slope uses the
    t distribution with n - 2 degrees of freedom. Prices must be > 0.

    Taught in: notebooks/12_risk_bubble.ipynb

    >>> dates = ["2021-01-01", "2022-01-01", "2023-01-01", "2024-01-01"]
    >>> fit = fit_price_deflation(dates, [100, 10, 1, 0.1])
    >>> round(fit.factor_per_year, 1)
    10.0
    """
    try:
        when = pd.to_datetime(pd.Series(list(dates) if not isinstance(dates, pd.Series) else dates.to_list()))
    except (TypeError, ValueError) as err:
        raise ValueError(f"dates must be dates (strings like '2024-07-18' or datetimes): {err}") from None
    values = np.asarray(check_positive("prices", prices), dtype=float)
    level = check_range("confidence", confidence, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    if values.ndim != 1 or values.size != len(when):
        raise ValueError(f"dates and prices must have the same length, got {len(when)} and {values.size}")
    if when.isna().any():
        raise ValueError("dates contain a missing value (NaT); drop those rows first")
    if when.nunique() < 3:
        raise ValueError(f"dates hold {when.nunique()} distinct dates; a rate with an interval needs at least 3")
    start = when.min()
    years = _years_since(when, start)
    line = fit_log10_line(years, values, level)
    return PriceDeflationFit(
        slope=line.slope, intercept=line.intercept, slope_se=line.slope_se,
        factor_per_year=float(10 ** -line.slope),
        factor_low=float(10 ** -line.slope_high), factor_high=float(10 ** -line.slope_low),
        confidence=level, n_points=line.n, start=start, r_squared=line.r_squared,
    )
