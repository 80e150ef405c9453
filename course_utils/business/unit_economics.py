"""Unit economics of an AI product: margins, break-even, customer value, serving cost, pricing.

Scalars, NumPy arrays and pandas Series work element-wise wherever that makes sense.
Bad input raises ``ValueError`` naming the argument, the value and the allowed range.

>>> gross_margin(100.0, 40.0)
0.6
>>> ltv(arpu=20.0, gross_margin=0.6, monthly_churn=0.05)   # 20 x 0.6 x 20-month lifetime
240.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ._validate import check_fraction, check_nonnegative, check_positive, check_range

SECONDS_PER_HOUR = 3600.0

__all__ = [
    "gross_margin",
    "break_even_units",
    "ltv",
    "cac_payback_months",
    "cost_per_million_tokens",
    "inference_cost_per_request",
    "prompt_answer_cost_per_request",
    "cost_per_request",
    "serving_cost_usd",
    "token_revenue_usd",
    "cost_profit_margin",
    "pricing_model_comparison",
    "tornado_table",
    "plot_tornado",
]


def gross_margin(revenue, cost_of_revenue):
    """(revenue - cost of revenue) / revenue. Revenue must be > 0; the result can be negative.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(gross_margin(562_027, 87_072), 4)   # DeepSeek's theoretical serving day (USD)
    0.8451
    """
    revenue = check_positive("revenue", revenue)
    cost_of_revenue = check_nonnegative("cost_of_revenue", cost_of_revenue)
    return (revenue - cost_of_revenue) / revenue


def break_even_units(fixed_costs, price, unit_cost):
    """Units to sell so that profit is zero: fixed costs / (price - unit cost).

    When the price does not exceed the unit cost every sale loses money, so no volume breaks
    even: the result is ``inf`` (element-wise), so a worksheet shows "never" instead of crashing.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> break_even_units(fixed_costs=50_000, price=20.0, unit_cost=4.0)
    3125.0
    >>> break_even_units(fixed_costs=50_000, price=20.0, unit_cost=25.0)
    inf
    """
    fixed_costs = check_nonnegative("fixed_costs", fixed_costs)
    price = check_positive("price", price)
    unit_cost = check_nonnegative("unit_cost", unit_cost)
    contribution = np.asarray(price, dtype=float) - np.asarray(unit_cost, dtype=float)
    fixed = np.broadcast_to(np.asarray(fixed_costs, dtype=float), np.broadcast(contribution, np.asarray(fixed_costs)).shape)
    contribution = np.broadcast_to(contribution, fixed.shape)
    result = np.full(fixed.shape, np.inf)
    np.divide(fixed, contribution, out=result, where=contribution > 0)
    if result.ndim == 0:
        return float(result)
    if isinstance(fixed_costs, pd.Series) or isinstance(price, pd.Series) or isinstance(unit_cost, pd.Series):
        index = next(v.index for v in (fixed_costs, price, unit_cost) if isinstance(v, pd.Series))
        return pd.Series(result, index=index)
    return result


def ltv(arpu, gross_margin, monthly_churn):
    """Customer lifetime value: monthly ARPU x gross margin x expected lifetime (1 / churn months).

    ``gross_margin`` is a fraction at most 1 and may be any negative number (a product whose AI
    cost exceeds twice its price has a margin below -1; its LTV is a loss, not an error);
    ``monthly_churn`` a fraction in (0, 1]. This is the simple undiscounted form (Skok, "SaaS Metrics 2.0").

    Taught in: notebooks/09_unit_economics.ipynb

    >>> ltv(10.0, 0.5, 0.1)
    50.0
    """
    arpu = check_nonnegative("arpu", arpu)
    gross_margin = check_range("gross_margin", gross_margin, -np.inf, 1.0)
    monthly_churn = check_fraction("monthly_churn", monthly_churn, allow_zero=False)
    return arpu * gross_margin / monthly_churn


def cac_payback_months(cac, arpu, gross_margin):
    """Months of gross profit needed to earn back the cost of acquiring a customer.

    cac / (arpu x gross_margin). When a customer brings no gross profit (margin <= 0 or ARPU 0)
    the CAC is never earned back: the result is ``inf``, element-wise.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> cac_payback_months(cac=240.0, arpu=20.0, gross_margin=0.6)
    20.0
    >>> cac_payback_months(cac=240.0, arpu=20.0, gross_margin=-0.1)
    inf
    """
    cac = check_nonnegative("cac", cac)
    arpu = check_nonnegative("arpu", arpu)
    gross_margin = check_range("gross_margin", gross_margin, -np.inf, 1.0)
    monthly_gross_profit = np.asarray(arpu, dtype=float) * np.asarray(gross_margin, dtype=float)
    cac_array = np.asarray(cac, dtype=float)
    shape = np.broadcast(cac_array, monthly_gross_profit).shape
    result = np.full(shape, np.inf)
    np.divide(np.broadcast_to(cac_array, shape), np.broadcast_to(monthly_gross_profit, shape), out=result,
              where=np.broadcast_to(monthly_gross_profit, shape) > 0)
    return float(result) if result.ndim == 0 else result


def cost_per_million_tokens(tokens_per_second, usd_per_gpu_hour, gpus=1, utilization=1.0):
    """Serving cost per million generated tokens for a deployment of ``gpus`` accelerators.

    ``tokens_per_second`` is the throughput of the whole deployment when busy; ``utilization``
    the share of paid hours it is busy, in (0, 1].

    >>> round(cost_per_million_tokens(14_800, 2.0, gpus=8), 4)   # one H800 node, DeepSeek decode rate
    0.3003
    """
    tokens_per_second = check_positive("tokens_per_second", tokens_per_second)
    usd_per_gpu_hour = check_nonnegative("usd_per_gpu_hour", usd_per_gpu_hour)
    gpus = check_positive("gpus", gpus)
    utilization = check_fraction("utilization", utilization, allow_zero=False)
    usd_per_hour = usd_per_gpu_hour * gpus
    tokens_per_paid_hour = tokens_per_second * SECONDS_PER_HOUR * utilization
    return usd_per_hour / tokens_per_paid_hour * 1e6


def inference_cost_per_request(tokens_per_request, tokens_per_second, usd_per_gpu_hour, gpus=1, utilization=1.0):
    """Serving cost of one request of ``tokens_per_request`` tokens (see :func:`cost_per_million_tokens`).

    >>> round(inference_cost_per_request(500, 14_800, 2.0, gpus=8), 6)
    0.00015
    """
    tokens_per_request = check_nonnegative("tokens_per_request", tokens_per_request)
    per_million = cost_per_million_tokens(tokens_per_second, usd_per_gpu_hour, gpus, utilization)
    return tokens_per_request * per_million / 1e6


def prompt_answer_cost_per_request(prompt_tokens, answer_tokens, prefill_tokens_per_second, decode_tokens_per_second,
                                   usd_per_gpu_hour, gpus=1, utilization=1.0):
    """Serving cost of one request, prompt (input) and answer (output) tokens priced separately.

    Reading the prompt (prefill) processes all its tokens in parallel and is several times
    faster per token than writing the answer (decode), one token at a time per sequence; each
    phase costs GPU time at its own throughput. Returns ``(prompt_cost, answer_cost)`` in the
    currency of ``usd_per_gpu_hour``; their sum is the request's cost. With equal rates it is
    :func:`inference_cost_per_request` of the total tokens.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> prompt, answer = prompt_answer_cost_per_request(2500, 500, 73_700, 14_800, 2.0, gpus=8)
    >>> round(prompt * 1e6, 1), round(answer * 1e6, 1)   # millionths of a USD, DeepSeek node rates
    (150.8, 150.2)
    """
    prompt_cost = inference_cost_per_request(prompt_tokens, prefill_tokens_per_second, usd_per_gpu_hour, gpus,
                                             utilization)
    answer_cost = inference_cost_per_request(answer_tokens, decode_tokens_per_second, usd_per_gpu_hour, gpus,
                                             utilization)
    return prompt_cost, answer_cost


def cost_per_request(requests_per_second, usd_per_hour, utilization=1.0):
    """Serving cost of one request for a server that handles ``requests_per_second`` when busy.

    ``usd_per_hour`` is what the server (CPU or GPU machine) costs per hour; ``utilization`` in
    (0, 1] is the busy share of the hours you pay for.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(cost_per_request(100, 3.6, utilization=0.5), 6)   # 3.6 USD/h, 100 req/s, busy half the time
    2e-05
    """
    requests_per_second = check_positive("requests_per_second", requests_per_second)
    usd_per_hour = check_nonnegative("usd_per_hour", usd_per_hour)
    utilization = check_fraction("utilization", utilization, allow_zero=False)
    return usd_per_hour / (requests_per_second * SECONDS_PER_HOUR * utilization)


def serving_cost_usd(average_nodes, gpus_per_node, usd_per_gpu_hour, hours=24.0, utilization=1.0):
    """Rental cost of a serving fleet: paid node-hours x GPUs per node x hourly GPU price.

    ``average_nodes`` is the average number of nodes *busy* serving; ``utilization`` (0, 1] is the
    busy share of the nodes you pay for, so paid nodes = ``average_nodes / utilization``.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> serving_cost_usd(226.75, 8, 2.0)   # DeepSeek V3/R1, 2025-02-27/28
    87072.0
    """
    average_nodes = check_nonnegative("average_nodes", average_nodes)
    gpus_per_node = check_positive("gpus_per_node", gpus_per_node)
    usd_per_gpu_hour = check_nonnegative("usd_per_gpu_hour", usd_per_gpu_hour)
    hours = check_nonnegative("hours", hours)
    utilization = check_fraction("utilization", utilization, allow_zero=False)
    return average_nodes / utilization * gpus_per_node * hours * usd_per_gpu_hour


def token_revenue_usd(input_tokens, cache_hit_share, output_tokens,
                      usd_per_m_input_hit, usd_per_m_input_miss, usd_per_m_output, billed_share=1.0):
    """Revenue from tokens billed at per-million-token list prices.

    Input tokens split into cache hits (``cache_hit_share``) and misses; ``billed_share`` in [0, 1]
    is the share of all tokens that is actually paid for at these prices (free app traffic,
    discounts and cheaper models lower it).

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(token_revenue_usd(608e9, 342 / 608, 168e9, 0.14, 0.55, 2.19))
    562100
    """
    input_tokens = check_nonnegative("input_tokens", input_tokens)
    cache_hit_share = check_fraction("cache_hit_share", cache_hit_share)
    output_tokens = check_nonnegative("output_tokens", output_tokens)
    hit = check_nonnegative("usd_per_m_input_hit", usd_per_m_input_hit)
    miss = check_nonnegative("usd_per_m_input_miss", usd_per_m_input_miss)
    out = check_nonnegative("usd_per_m_output", usd_per_m_output)
    billed_share = check_fraction("billed_share", billed_share)
    list_revenue = (input_tokens * cache_hit_share * hit
                    + input_tokens * (1.0 - cache_hit_share) * miss
                    + output_tokens * out) / 1e6
    return list_revenue * billed_share


def cost_profit_margin(revenue, cost):
    """Profit as a share of *cost*, (revenue - cost) / cost: the "cost-profit margin" DeepSeek
    reported (545 %). Not the same as gross margin, which divides by revenue.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> round(cost_profit_margin(562_027, 87_072), 3)
    5.455
    """
    revenue = check_nonnegative("revenue", revenue)
    cost = check_positive("cost", cost)
    return (revenue - cost) / cost


def pricing_model_comparison(
    users,
    requests_per_user,
    cost_per_request,
    subscription_price_per_user,
    usage_price_per_request,
    service_fee_per_user,
    service_staff_cost_per_user,
    platform_gmv_per_user,
    platform_take_rate,
) -> pd.DataFrame:
    """Monthly revenue, cost of revenue and gross margin of one user base under four pricing models.

    - subscription: a flat fee per user; AI cost grows with use;
    - usage (API): a price per request;
    - service: a fee per user that includes human work (``service_staff_cost_per_user``);
    - platform: a take rate on the value (GMV) users trade through the product.

    The model serves every request in all four, so the AI cost is the same; only revenue and
    the people cost differ.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> table = pricing_model_comparison(1000, 100, 0.01, 20, 0.05, 200, 120, 400, 0.1)
    >>> table["gross_margin"].round(3).to_dict()
    {'subscription': 0.95, 'usage (API)': 0.8, 'service': 0.395, 'platform take-rate': 0.975}
    """
    users = check_nonnegative("users", users)
    requests_per_user = check_nonnegative("requests_per_user", requests_per_user)
    cost_per_request = check_nonnegative("cost_per_request", cost_per_request)
    subscription = check_nonnegative("subscription_price_per_user", subscription_price_per_user)
    usage = check_nonnegative("usage_price_per_request", usage_price_per_request)
    service_fee = check_nonnegative("service_fee_per_user", service_fee_per_user)
    staff = check_nonnegative("service_staff_cost_per_user", service_staff_cost_per_user)
    gmv = check_nonnegative("platform_gmv_per_user", platform_gmv_per_user)
    take_rate = check_fraction("platform_take_rate", platform_take_rate)
    for name, value in [("users", users), ("requests_per_user", requests_per_user)]:
        if not np.isscalar(value):
            raise ValueError(f"{name} must be a single number here (one scenario per table), got an array")
    ai_cost = users * requests_per_user * cost_per_request
    rows = {
        "subscription": (users * subscription, ai_cost),
        "usage (API)": (users * requests_per_user * usage, ai_cost),
        "service": (users * service_fee, ai_cost + users * staff),
        "platform take-rate": (users * gmv * take_rate, ai_cost),
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["revenue", "cost_of_revenue"])
    table["gross_profit"] = table["revenue"] - table["cost_of_revenue"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["gross_margin"] = np.where(table["revenue"] > 0, table["gross_profit"] / table["revenue"], np.nan)
    table.index.name = "pricing_model"
    return table


def tornado_table(model: Callable[..., float], base: Mapping[str, float],
                  ranges: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """One-at-a-time sensitivity: move each input to its low and high value, keep the others at base.

    ``model(**inputs)`` must return a number. Returns one row per varied input, sorted with the
    widest swing first (the order of a tornado chart), with columns ``low``, ``high``,
    ``output_low``, ``output_high`` and ``swing`` (= |output_high - output_low|). The base
    output is in ``table.attrs["base_output"]``.

    Taught in: notebooks/09_unit_economics.ipynb

    >>> t = tornado_table(lambda price, cost: price - cost, {"price": 10, "cost": 4},
    ...                   {"price": (8, 12), "cost": (3, 5)})
    >>> t["swing"].to_dict()
    {'price': 4.0, 'cost': 2.0}
    """
    if not callable(model):
        raise ValueError(f"model must be a function of the inputs, got {type(model).__name__}")
    if not ranges:
        raise ValueError("ranges must name at least one input to vary, e.g. {'price': (8, 12)}")
    unknown = sorted(set(ranges) - set(base))
    if unknown:
        raise ValueError(f"ranges names inputs that are not in base: {unknown}; base has {sorted(base)}")
    base_output = float(model(**base))
    rows = []
    for name, bounds in ranges.items():
        if len(bounds) != 2:
            raise ValueError(f"ranges[{name!r}]={bounds!r} must be a (low, high) pair")
        low, high = (float(b) for b in bounds)
        if low > high:
            raise ValueError(f"ranges[{name!r}]=({low:g}, {high:g}): low must not exceed high")
        out_low = float(model(**{**base, name: low}))
        out_high = float(model(**{**base, name: high}))
        rows.append({"input": name, "low": low, "high": high, "base": float(base[name]),
                     "output_low": out_low, "output_high": out_high, "swing": abs(out_high - out_low)})
    table = pd.DataFrame(rows).set_index("input").sort_values("swing", ascending=False, kind="stable")
    table.attrs["base_output"] = base_output
    return table


def plot_tornado(table: pd.DataFrame, title: str, output_label: str, ax=None):
    """Draw a tornado chart from :func:`tornado_table`: one bar per input, widest on top.

    Bars start at the base output and reach the output at the input's low (blue) and high
    (orange) values; the input's range is written beside each bar.

    Taught in: notebooks/09_unit_economics.ipynb
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 * len(table) + 1.5))
    base_output = table.attrs.get("base_output")
    if base_output is None:
        raise ValueError("table has no attrs['base_output']; build it with tornado_table()")
    ordered = table.iloc[::-1]
    positions = np.arange(len(ordered))
    ax.barh(positions, ordered["output_low"] - base_output, left=base_output, color="tab:blue",
            label="input at its low value")
    ax.barh(positions, ordered["output_high"] - base_output, left=base_output, color="tab:orange",
            label="input at its high value")
    ax.axvline(base_output, color="black", linewidth=1)
    ax.set_yticks(positions)
    ax.set_yticklabels([f"{name}\n({row.low:,g} to {row.high:,g})" for name, row in ordered.iterrows()])
    ax.set_title(title)
    ax.set_xlabel(output_label)
    ax.set_ylabel("assumption (low to high)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    return ax
