"""Funding arithmetic: runway, priced rounds, SAFEs, option pools, cap tables, exits, loans.

Ownership is always a dict ``holder -> fraction`` whose values sum to 1, in and out.
Bad input raises ``ValueError`` naming the argument, the value and the allowed range.

>>> runway_months(cash=1_200_000, monthly_burn=100_000)
12.0
>>> post_money_ownership({"founders": 1.0}, investment=2e6, pre_money=8e6)
{'founders': 0.8, 'new_investor': 0.2}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._simulate import growth_factor_paths
from ._validate import check_fraction, check_int, check_nonnegative, check_ownership, check_positive, check_range

__all__ = [
    "runway_months",
    "post_money_ownership",
    "safe_conversion_ownership",
    "Safe",
    "PricedRound",
    "apply_round",
    "cap_table_over_rounds",
    "RunwaySimulation",
    "simulate_runway",
    "exit_waterfall",
    "cancel_unissued_options",
    "loan_monthly_payment",
]

OPTION_POOL = "option_pool"


def runway_months(cash, monthly_burn):
    """Months until the cash is gone at a constant net burn: cash / burn.

    A burn of zero or less (the company is not losing money) gives ``inf``.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> runway_months(500_000, 0)
    inf
    """
    cash = check_nonnegative("cash", cash)
    burn = np.asarray(check_range("monthly_burn", monthly_burn), dtype=float)
    cash_array = np.asarray(cash, dtype=float)
    burning = burn > 0
    result = np.where(burning, cash_array / np.where(burning, burn, 1.0), np.inf)
    if isinstance(monthly_burn, pd.Series):
        return pd.Series(result, index=monthly_burn.index, name="runway_months")
    if isinstance(cash, pd.Series):
        return pd.Series(result, index=cash.index, name="runway_months")
    return float(result) if result.ndim == 0 else result


def _scaled(ownership: Mapping[str, float], factor: float) -> dict:
    return {holder: share * factor for holder, share in ownership.items()}


def _renormalised(ownership: dict) -> dict:
    """Remove floating-point drift so that shares sum to 1 exactly as far as floats allow."""
    total = math.fsum(ownership.values())
    return {holder: share / total for holder, share in ownership.items()}


def post_money_ownership(pre_ownership: Mapping[str, float], investment, pre_money, investor: str = "new_investor") -> dict:
    """Ownership after a priced round: every holder is diluted by pre / (pre + investment) and
    ``investor`` receives investment / (pre + investment).

    ``investor`` must be a new key (an existing holder buying more is a separate line, e.g.
    ``"seed_fund_series_a"``).

    Taught in: solutions/10_funding_runway.ipynb

    >>> after = post_money_ownership({"ana": 0.6, "ben": 0.4}, investment=1e6, pre_money=4e6, investor="vc")
    >>> {holder: round(share, 6) for holder, share in after.items()}
    {'ana': 0.48, 'ben': 0.32, 'vc': 0.2}
    """
    ownership = check_ownership("pre_ownership", dict(pre_ownership))
    investment = check_nonnegative("investment", investment)
    pre_money = check_positive("pre_money", pre_money)
    if not np.isscalar(investment) or not np.isscalar(pre_money):
        raise ValueError("investment and pre_money must be single numbers: one cap table per round")
    if not isinstance(investor, str) or not investor:
        raise ValueError(f"investor must be a non-empty name, got {investor!r}")
    if investor in ownership:
        raise ValueError(f"investor={investor!r} already holds shares; give the new stake its own name")
    post_money = pre_money + investment
    result = _scaled(ownership, pre_money / post_money)
    result[investor] = investment / post_money
    return _renormalised(result)


def safe_conversion_ownership(investment, post_money_cap, round_pre_money=None, discount=0.0):
    """Share of the company a post-money SAFE converts into just before the priced round.

    The SAFE converts at the better (for the investor) of the valuation cap and the round's
    price less ``discount``: share = investment / min(cap, (1 - discount) x round pre-money).
    This follows the Y Combinator post-money SAFE in valuation terms (share counts ignored).

    Simplification on the discount path: the YC SAFE defines the discount price on the fully
    diluted count *including* a pool created in the round, whereas :func:`apply_round` converts the
    SAFE first and then lets the pool top-up dilute it. So when the discount (not the cap) sets
    the price and the round creates a pool, the SAFE holder's share here is slightly too small.
    When the cap binds (the usual case, and the course's defaults) the two agree.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> round(safe_conversion_ownership(500_000, post_money_cap=5e6), 3)
    0.1
    >>> round(safe_conversion_ownership(500_000, 10e6, round_pre_money=8e6, discount=0.2), 4)
    0.0781
    """
    investment = check_nonnegative("investment", investment)
    cap = check_positive("post_money_cap", post_money_cap)
    discount = check_fraction("discount", discount, allow_one=False)
    valuation = cap
    if round_pre_money is not None:
        round_pre_money = check_positive("round_pre_money", round_pre_money)
        valuation = np.minimum(cap, (1.0 - discount) * round_pre_money)
    elif np.any(np.asarray(discount) > 0):
        raise ValueError("discount needs round_pre_money (the round's price) to take effect; pass both")
    share = investment / valuation
    if np.any(np.asarray(share) >= 1):
        raise ValueError(
            f"investment={float(np.max(investment)):g} buys 100 % or more at valuation "
            f"{float(np.min(valuation)):g}; the SAFE amount must be below the conversion valuation"
        )
    return float(share) if np.ndim(share) == 0 else share


@dataclass(frozen=True)
class Safe:
    """A post-money SAFE that converts at the next priced round.

    Taught in: notebooks/10_funding_runway.ipynb
    """

    holder: str
    investment: float
    post_money_cap: float
    discount: float = 0.0


@dataclass(frozen=True)
class PricedRound:
    """A priced equity round, with SAFEs converting in it and an option-pool top-up before it.

    ``option_pool_post`` is the pool's target share *after* the round; investors usually ask
    for it to be created before their money comes in (the "option pool shuffle"), so the
    top-up dilutes only the existing holders.

    Taught in: notebooks/10_funding_runway.ipynb
    """

    name: str
    investment: float
    pre_money: float
    investor: str
    option_pool_post: float = 0.0
    safes: Sequence[Safe] = field(default_factory=tuple)


def apply_round(ownership: Mapping[str, float], round_: PricedRound) -> dict:
    """Ownership after one :class:`PricedRound`. Order: SAFEs convert, the pool is topped up,
    then the new money comes in.

    Taught in: solutions/10_funding_runway.ipynb

    >>> after = apply_round({"founders": 1.0}, PricedRound("Seed", 2e6, 8e6, "seed_vc", option_pool_post=0.10))
    >>> {k: round(v, 3) for k, v in after.items()}
    {'founders': 0.7, 'option_pool': 0.1, 'seed_vc': 0.2}
    """
    if not isinstance(round_, PricedRound):
        raise ValueError(f"round_ must be a PricedRound, got {type(round_).__name__}")
    table = check_ownership("ownership", dict(ownership))
    investment = check_nonnegative(f"{round_.name}.investment", round_.investment)
    pre_money = check_positive(f"{round_.name}.pre_money", round_.pre_money)
    pool_target = check_fraction(f"{round_.name}.option_pool_post", round_.option_pool_post, allow_one=False)

    # 1. SAFEs convert into a share of the pre-round company.
    safe_shares = {}
    for safe in round_.safes:
        if safe.holder in table or safe.holder in safe_shares:
            raise ValueError(f"SAFE holder {safe.holder!r} already holds shares; give each SAFE its own name")
        safe_shares[safe.holder] = safe_conversion_ownership(
            safe.investment, safe.post_money_cap, round_pre_money=pre_money, discount=safe.discount
        )
    total_safe = math.fsum(safe_shares.values())
    if total_safe >= 1:
        raise ValueError(f"the SAFEs in {round_.name} would convert into {total_safe:.1%} of the company; must be below 100 %")
    table = _scaled(table, 1.0 - total_safe)
    table.update(safe_shares)

    # 2. Option pool top-up, sized so that the pool is `pool_target` of the post-money company.
    new_money_share = investment / (pre_money + investment)
    needed_pre_round = pool_target / (1.0 - new_money_share)
    if needed_pre_round >= 1:
        raise ValueError(f"{round_.name}.option_pool_post={pool_target:g} is impossible with a new-money share of {new_money_share:.1%}")
    current_pool = table.get(OPTION_POOL, 0.0)
    if needed_pre_round > current_pool:
        others = {h: s for h, s in table.items() if h != OPTION_POOL}
        table = _scaled(others, (1.0 - needed_pre_round) / (1.0 - current_pool))
        table[OPTION_POOL] = needed_pre_round

    # 3. New money.
    return post_money_ownership(_renormalised(table), investment, pre_money, investor=round_.investor)


def cap_table_over_rounds(founders: Mapping[str, float], rounds: Sequence[PricedRound]) -> pd.DataFrame:
    """Ownership after each round: one row per stage (``"Founding"`` first), one column per holder.

    Every row sums to 1; holders that do not exist yet have 0.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> table = cap_table_over_rounds({"ana": 0.5, "ben": 0.5},
    ...     [PricedRound("Seed", 2e6, 8e6, "seed_vc"), PricedRound("Series A", 10e6, 30e6, "a_vc")])
    >>> table.round(3).loc["Series A"].to_dict()
    {'ana': 0.3, 'ben': 0.3, 'seed_vc': 0.15, 'a_vc': 0.25}
    """
    current = check_ownership("founders", dict(founders))
    stages = [("Founding", dict(current))]
    names = {"Founding"}
    for round_ in rounds:
        if round_.name in names:
            raise ValueError(f"round name {round_.name!r} is used twice; give each round its own name")
        names.add(round_.name)
        current = apply_round(current, round_)
        stages.append((round_.name, dict(current)))
    holders: list[str] = []
    for _, table in stages:
        holders.extend(h for h in table if h not in holders)
    frame = pd.DataFrame([[table.get(h, 0.0) for h in holders] for _, table in stages],
                         index=[name for name, _ in stages], columns=holders)
    frame.index.name = "stage"
    return frame


@dataclass(frozen=True)
class RunwaySimulation:
    """Monte Carlo cash paths: ``cash[path, month]`` (month 0 = today, 0 once the cash has run
    out), each path's runway and the first month its revenue covers its costs."""

    months: np.ndarray
    cash: np.ndarray
    runway_months: np.ndarray
    profitable_month: np.ndarray

    def quantiles(self, levels: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
        """Cash quantiles per month (rows = months, columns = quantile levels) for a fan chart."""
        levels = [check_fraction("levels", q) for q in levels]
        return pd.DataFrame(np.quantile(self.cash, levels, axis=0).T, index=self.months, columns=levels)

    def probability_out_of_cash(self, by_month: float) -> float:
        """Share of paths whose cash runs out within ``by_month`` months."""
        by_month = check_nonnegative("by_month", by_month)
        return float(np.mean(self.runway_months <= by_month))

    def probability_default_alive(self) -> float:
        """Share of paths that reach a profitable month before their cash runs out (Paul Graham's
        "default alive": the company survives on the money it has, with no new round). A path that
        neither turns a profit nor runs out within the horizon does not count as alive."""
        profitable = np.isfinite(self.profitable_month)
        return float(np.mean(profitable & (self.profitable_month <= self.runway_months)))


def simulate_runway(cash, monthly_costs, monthly_revenue, revenue_growth_mean, revenue_growth_sd,
                    months=36, n_paths=2000, cost_growth=0.0, seed=0, cost_of_revenue_share=0.0) -> RunwaySimulation:
    """Monte Carlo runway under uncertain revenue growth.

    Each month revenue grows by a random rate drawn from Normal(mean, sd) (floored at -100 %),
    fixed costs grow by the fixed ``cost_growth``, serving the revenue costs
    ``cost_of_revenue_share`` of it (1 - gross margin), and cash changes by revenue - costs.
    A path's runway is the (interpolated) month its cash falls below zero (``inf`` if it never
    does within ``months``); with no uncertainty it equals :func:`runway_months`. A company
    with no cash is dead (or has raised, which this simulation does not model), so from that
    month on the path's cash stays at 0 instead of going negative and "recovering".
    ``profitable_month`` is the first month whose revenue covers all costs (``inf`` if none
    within ``months``); a path is *default alive* when that month comes before its cash ends.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> sim = simulate_runway(1.05e6, 100_000, 0, 0.0, 0.0, months=24, n_paths=10)
    >>> float(sim.runway_months[0])
    10.5
    """
    cash = check_nonnegative("cash", cash)
    monthly_costs = check_nonnegative("monthly_costs", monthly_costs)
    monthly_revenue = check_nonnegative("monthly_revenue", monthly_revenue)
    growth_mean = check_range("revenue_growth_mean", revenue_growth_mean, -1.0, 10.0)
    growth_sd = check_range("revenue_growth_sd", revenue_growth_sd, 0.0, 10.0)
    cost_growth = check_range("cost_growth", cost_growth, -1.0, 10.0)
    cost_of_revenue_share = check_fraction("cost_of_revenue_share", cost_of_revenue_share)
    for name, value in [("cash", cash), ("monthly_costs", monthly_costs), ("monthly_revenue", monthly_revenue),
                        ("revenue_growth_mean", growth_mean), ("revenue_growth_sd", growth_sd), ("cost_growth", cost_growth),
                        ("cost_of_revenue_share", cost_of_revenue_share)]:
        if not np.isscalar(value):
            raise ValueError(f"{name} must be a single number; the randomness comes from the simulation")
    check_int("months", months, low=1)
    check_int("n_paths", n_paths, low=1)
    rng = np.random.default_rng(seed)
    revenue = monthly_revenue * growth_factor_paths(rng, growth_mean, growth_sd, n_paths, months)
    costs = monthly_costs * (1.0 + cost_growth) ** np.arange(1, months + 1) + cost_of_revenue_share * revenue
    profit = revenue - costs
    cash_paths = np.empty((n_paths, months + 1))
    cash_paths[:, 0] = cash
    cash_paths[:, 1:] = cash + np.cumsum(profit, axis=1)
    profitable = profit >= 0
    profitable_month = np.where(profitable.any(axis=1), profitable.argmax(axis=1) + 1.0, np.inf)
    below = cash_paths < 0
    ran_out = below.any(axis=1)
    first_negative = np.where(ran_out, below.argmax(axis=1), 1)
    rows = np.arange(n_paths)
    before = cash_paths[rows, first_negative - 1]
    after = cash_paths[rows, first_negative]
    # Cash turns negative during month `first_negative`; interpolate within that month, so that a
    # constant burn gives exactly runway_months(cash, burn).
    fraction = np.where(ran_out, before / np.where(ran_out, before - after, 1.0), 0.0)
    runway = np.where(ran_out, first_negative - 1 + fraction, np.inf)
    dead = np.arange(months + 1)[None, :] >= np.where(ran_out, first_negative, months + 1)[:, None]
    cash_paths[dead] = 0.0
    return RunwaySimulation(months=np.arange(months + 1), cash=cash_paths, runway_months=runway,
                            profitable_month=profitable_month)


def exit_waterfall(exit_value, ownership: Mapping[str, float], preferences: Mapping[str, float]) -> pd.DataFrame:
    """Who gets what when the company is sold: 1x non-participating liquidation preferences.

    ``preferences`` maps each preferred holder to its preference amount (1x = the amount it
    invested); all preferences rank equally (pari passu). Each preferred holder takes the
    larger of its preference and converting to common (its ownership share of what is left
    after the preferences of those who do not convert). Holders not in ``preferences`` are common.
    An option pool is not a holder at a sale: options never granted are cancelled, so pass the
    ownership through :func:`cancel_unissued_options` first. Participating and senior
    (stacked) preferences are not modelled.
    Returns one row per holder with ``ownership``, ``preference``, ``converts`` and ``payout``;
    payouts sum to ``exit_value``.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> w = exit_waterfall(10e6, {"founders": 0.7, "vc": 0.3}, {"vc": 5e6})
    >>> w["payout"].to_dict()   # the VC's 5M preference beats 30 % of 10M
    {'founders': 5000000.0, 'vc': 5000000.0}
    """
    exit_value = check_nonnegative("exit_value", exit_value)
    if not np.isscalar(exit_value):
        raise ValueError("exit_value must be a single number (call once per exit value)")
    shares = check_ownership("ownership", dict(ownership))
    if not isinstance(preferences, Mapping):
        raise ValueError(f"preferences must be a dict of holder -> preference amount, got {preferences!r}")
    prefs = {}
    for holder, amount in preferences.items():
        if holder not in shares:
            raise ValueError(f"preferences names {holder!r}, who is not in ownership ({sorted(shares)})")
        prefs[holder] = float(check_nonnegative(f"preferences[{holder!r}]", amount))

    def payouts(converters: set) -> dict:
        standing = {h: p for h, p in prefs.items() if h not in converters}
        total_pref = math.fsum(standing.values())
        out = dict.fromkeys(shares, 0.0)
        if total_pref >= exit_value:
            for h, p in standing.items():
                out[h] = exit_value * p / total_pref if total_pref > 0 else 0.0
            return out
        for h, p in standing.items():
            out[h] = p
        sharing = {h: s for h, s in shares.items() if h not in standing}
        sharing_total = math.fsum(sharing.values())
        residual = exit_value - total_pref
        for h, s in sharing.items():
            out[h] += residual * s / sharing_total if sharing_total > 0 else 0.0
        return out

    converters: set = set()
    changed = True
    while changed:
        changed = False
        current = payouts(converters)
        order = sorted((h for h in prefs if h not in converters),
                       key=lambda h: prefs[h] / shares[h] if shares[h] > 0 else math.inf)
        for holder in order:
            if shares[holder] > 0 and payouts(converters | {holder})[holder] > current[holder] + 1e-9:
                converters.add(holder)
                changed = True
                break
    final = payouts(converters)
    # Leftover with nobody to share it (no common and no converters) cannot happen after the loop,
    # except when every holder with shares has a zero share; guard against silent loss.
    if not math.isclose(math.fsum(final.values()), exit_value, rel_tol=1e-9, abs_tol=1e-6):
        raise ValueError("exit_waterfall could not allocate the whole exit value; check ownership and preferences")
    frame = pd.DataFrame({
        "ownership": pd.Series(shares),
        "preference": pd.Series({h: prefs.get(h, 0.0) for h in shares}),
        "converts": pd.Series({h: (h in converters) if h in prefs else None for h in shares}, dtype=object),
        "payout": pd.Series(final),
    })
    frame.index.name = "holder"
    return frame


def cancel_unissued_options(ownership: Mapping[str, float], granted_fraction, pool: str = OPTION_POOL,
                            employees: str = "employees") -> dict:
    """Ownership at a sale once the options never granted are cancelled.

    ``granted_fraction`` of the pool has been granted, vested and exercised by the sale; it
    becomes the holder ``employees`` (common stock; the exercise price is ignored). The rest
    of the pool is cancelled, which raises every other holder's share in proportion.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> after = cancel_unissued_options({"founders": 0.6, "vc": 0.3, "option_pool": 0.1}, granted_fraction=0.5)
    >>> {holder: round(share, 4) for holder, share in after.items()}
    {'founders': 0.6316, 'vc': 0.3158, 'employees': 0.0526}
    """
    table = check_ownership("ownership", dict(ownership))
    granted_fraction = check_fraction("granted_fraction", granted_fraction)
    if not np.isscalar(granted_fraction):
        raise ValueError("granted_fraction must be a single number (one cap table at a time)")
    if pool not in table:
        raise ValueError(f"ownership has no option pool named {pool!r} (holders: {sorted(table)}); pass pool=<its name>")
    if employees in table and employees != pool:
        raise ValueError(f"ownership already has a holder {employees!r}; pass employees=<another name>")
    pool_share = table.pop(pool)
    if granted_fraction > 0:
        table[employees] = pool_share * granted_fraction
    if math.fsum(table.values()) <= 0:
        raise ValueError("cancelling the unissued pool leaves no holders; the pool cannot be the whole company")
    return _renormalised(table)


def loan_monthly_payment(principal, annual_rate, months):
    """Monthly payment of a fully amortising loan (the annuity formula).

    payment = P r / (1 - (1 + r)^-n) with r = annual_rate / 12; a zero rate gives P / n.

    Taught in: notebooks/10_funding_runway.ipynb

    >>> round(loan_monthly_payment(100_000, 0.06, 36), 2)
    3042.19
    """
    principal = check_nonnegative("principal", principal)
    annual_rate = check_range("annual_rate", annual_rate, 0.0, 1.0)
    months = check_positive("months", months)
    monthly_rate = np.asarray(annual_rate, dtype=float) / 12.0
    months = np.asarray(months, dtype=float)
    # 1 - (1 + r)^-n written with expm1/log1p: the plain form rounds to 0/0 for tiny rates
    discount_sum = -np.expm1(-months * np.log1p(monthly_rate))
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(monthly_rate > 0, principal * monthly_rate / discount_sum, principal / months)
    return float(annuity) if np.ndim(annuity) == 0 else annuity
