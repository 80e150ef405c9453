"""Tests of the core business calculators (compute, unit economics, funding).

Known cases come from published figures (the numbers and their sources are in
data/README.md and /work/shared/reference/business_facts.csv); property tests check the
invariants the worksheets rely on.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.business import (
    PricedRound,
    Safe,
    apply_round,
    break_even_units,
    cac_payback_months,
    cap_table_over_rounds,
    compute_flops,
    cost_per_million_tokens,
    cost_per_request,
    cost_profit_margin,
    exit_waterfall,
    gpu_hours,
    gross_margin,
    inference_cost_per_request,
    loan_monthly_payment,
    ltv,
    ownership_cost_per_gpu_hour,
    post_money_ownership,
    pricing_model_comparison,
    rent_vs_buy_breakeven_utilization,
    runway_months,
    safe_conversion_ownership,
    serving_cost_usd,
    simulate_runway,
    token_revenue_usd,
    tornado_table,
    training_cost_usd,
)
from course_utils.paths import data_file

money = st.floats(min_value=1.0, max_value=1e12, allow_nan=False, allow_infinity=False)
share = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)


# --------------------------------------------------------------------------- known cases
def test_gpt3_compute_matches_epoch_estimate():
    # Epoch AI lists 3.14e23 FLOP for GPT-3 175B trained on 300B tokens.
    assert compute_flops(175e9, 300e9) == pytest.approx(3.14e23, rel=0.01)


def test_deepseek_v3_training_cost_as_reported():
    # DeepSeek-V3 report: 2.788M H800 GPU-hours at 2 USD/hour = 5.576M USD.
    assert training_cost_usd(2.788e6, 2.0) == pytest.approx(5.576e6)


def test_deepseek_serving_day_reproduces_published_figures():
    # open-infra-index day 6: 226.75 nodes x 8 H800 x 24 h x 2 USD = 87,072 USD; revenue 562,027 USD; 545 %.
    cost = serving_cost_usd(226.75, 8, 2.0, hours=24)
    revenue = token_revenue_usd(608e9, 342 / 608, 168e9, 0.14, 0.55, 2.19)
    assert cost == pytest.approx(87_072)
    assert revenue == pytest.approx(562_027, rel=1e-3)  # token counts are published rounded to 1B
    assert round(cost_profit_margin(562_027, 87_072) * 100) == 545
    assert gross_margin(562_027, 87_072) == pytest.approx(0.845, abs=5e-4)


def test_serving_economics_csv_reproduces_published_day():
    table = pd.read_csv(data_file("serving_economics.csv")).set_index("quantity")
    value = table["value"]
    cost = serving_cost_usd(value["average_nodes"], value["gpus_per_node"], value["gpu_rental_usd_per_hour"],
                            hours=value["hours"])
    revenue = token_revenue_usd(value["input_tokens"], value["input_cache_hit_tokens"] / value["input_tokens"],
                                value["output_tokens"], value["price_input_cache_hit_usd_per_m"],
                                value["price_input_cache_miss_usd_per_m"], value["price_output_usd_per_m"])
    assert cost == pytest.approx(value["published_daily_cost_usd"])
    assert revenue == pytest.approx(value["published_daily_revenue_usd"], rel=1e-3)


def test_gpu_hours_known_value():
    # 1e15 FLOP/s at 50 % for one hour does 1.8e18 FLOP.
    assert gpu_hours(1.8e18, 1e15, 0.5) == pytest.approx(1.0)


def test_rent_vs_buy_breakeven():
    # 30,000 USD over 4 years = 0.856 USD per calendar hour; energy 0.7 kW x 1.2 x 0.1 = 0.084 USD/h.
    u = rent_vs_buy_breakeven_utilization(30_000, 2.0, lifetime_years=4, power_kw=0.7,
                                          electricity_usd_per_kwh=0.1, pue=1.2)
    assert u == pytest.approx((30_000 / (4 * 8760)) / (2.0 - 0.084))
    assert rent_vs_buy_breakeven_utilization(30_000, 0.05) == math.inf  # rent below the power bill


def test_cost_per_million_tokens_and_request():
    # One 8-GPU node at 2 USD/GPU-h producing 14,800 tokens/s: 16 USD per 53.28M tokens.
    assert cost_per_million_tokens(14_800, 2.0, gpus=8) == pytest.approx(16 / 53.28)
    assert inference_cost_per_request(1000, 14_800, 2.0, gpus=8) == pytest.approx(16 / 53.28 / 1000)
    # Half the utilisation doubles the cost.
    assert cost_per_million_tokens(14_800, 2.0, gpus=8, utilization=0.5) == pytest.approx(2 * 16 / 53.28)


def test_cost_per_request_scales_with_utilisation():
    assert cost_per_request(100, 3.6) == pytest.approx(1e-5)
    np.testing.assert_allclose(cost_per_request(100, 3.6, np.array([1.0, 0.5, 0.25])), [1e-5, 2e-5, 4e-5])


def test_post_money_matches_carta_median_seed_dilution():
    # A 2M round at 8M pre-money sells 20 %, the Carta Q1 2024 median seed dilution (20.1 %).
    after = post_money_ownership({"founders": 1.0}, 2e6, 8e6)
    assert after == pytest.approx({"founders": 0.8, "new_investor": 0.2})


def test_yc_standard_deal_safe():
    # YC: 125k USD for 7 % on a post-money SAFE, i.e. a post-money cap of 125k / 0.07.
    assert safe_conversion_ownership(125_000, 125_000 / 0.07) == pytest.approx(0.07)


def test_safe_discount_beats_cap_when_round_price_is_low():
    share = safe_conversion_ownership(500_000, post_money_cap=10e6, round_pre_money=8e6, discount=0.2)
    assert share == pytest.approx(500_000 / 6.4e6)


def test_option_pool_shuffle_dilutes_only_existing_holders():
    after = apply_round({"founders": 1.0}, PricedRound("Seed", 2e6, 8e6, "seed", option_pool_post=0.1))
    assert after["seed"] == pytest.approx(0.2)
    assert after["option_pool"] == pytest.approx(0.1)
    assert after["founders"] == pytest.approx(0.7)


def test_cap_table_with_safe_converting():
    table = cap_table_over_rounds(
        {"ana": 0.5, "ben": 0.5},
        [PricedRound("Seed", 3e6, 12e6, "seed_vc", option_pool_post=0.1,
                     safes=[Safe("angel", 500_000, post_money_cap=5e6)])],
    )
    seed = table.loc["Seed"]
    assert seed.sum() == pytest.approx(1.0)
    assert seed["seed_vc"] == pytest.approx(0.2)
    assert seed["option_pool"] == pytest.approx(0.1)
    # Angel converts to 10 % pre-round, then is diluted by the pool top-up and the new money.
    pool_pre = 0.1 / 0.8
    assert seed["angel"] == pytest.approx(0.1 * (1 - pool_pre) * 0.8)
    assert table.loc["Founding", "angel"] == 0.0


def test_exit_waterfall_three_regimes():
    ownership = {"founders": 0.7, "vc": 0.3}
    low = exit_waterfall(3e6, ownership, {"vc": 5e6})            # below the preference: VC takes all
    middle = exit_waterfall(10e6, ownership, {"vc": 5e6})        # preference beats 30 %
    high = exit_waterfall(50e6, ownership, {"vc": 5e6})          # converting beats the preference
    assert low["payout"].to_dict() == pytest.approx({"founders": 0.0, "vc": 3e6})
    assert middle["payout"].to_dict() == pytest.approx({"founders": 5e6, "vc": 5e6})
    assert high["payout"].to_dict() == pytest.approx({"founders": 35e6, "vc": 15e6})
    assert not middle.loc["vc", "converts"] and high.loc["vc", "converts"]


def test_exit_waterfall_two_preferred_classes():
    # Seed (cheap) converts first; Series A keeps its preference.
    ownership = {"founders": 0.5, "seed": 0.2, "series_a": 0.3}
    result = exit_waterfall(40e6, ownership, {"seed": 1e6, "series_a": 20e6})
    assert result.loc["seed", "converts"] and not result.loc["series_a", "converts"]
    assert result.loc["series_a", "payout"] == pytest.approx(20e6)
    assert result.loc["founders", "payout"] == pytest.approx(20e6 * 0.5 / 0.7)
    assert result["payout"].sum() == pytest.approx(40e6)


def test_loan_payment_textbook_value():
    assert loan_monthly_payment(100_000, 0.06, 36) == pytest.approx(3042.19, abs=0.01)
    assert loan_monthly_payment(1200, 0.0, 12) == pytest.approx(100.0)


def test_runway_infinite_when_not_burning():
    assert runway_months(1e6, 0) == math.inf
    assert runway_months(1e6, -5_000) == math.inf
    assert runway_months(1.2e6, 1e5) == pytest.approx(12.0)


def test_pricing_model_comparison_table():
    table = pricing_model_comparison(1000, 100, 0.01, 20, 0.05, 200, 120, 400, 0.1)
    assert list(table.index) == ["subscription", "usage (API)", "service", "platform take-rate"]
    assert table.loc["service", "cost_of_revenue"] == pytest.approx(1000 + 120_000)
    assert (table["gross_profit"] == table["revenue"] - table["cost_of_revenue"]).all()


def test_tornado_table_orders_by_swing():
    table = tornado_table(lambda price, cost, units: (price - cost) * units,
                          {"price": 10, "cost": 4, "units": 100},
                          {"price": (9, 11), "cost": (3, 5), "units": (50, 150)})
    assert list(table.index) == ["units", "price", "cost"]
    assert table.attrs["base_output"] == 600
    assert table.loc["units", "swing"] == pytest.approx(600)


# --------------------------------------------------------------------------- vectorised use
def test_vectorised_inputs():
    utilisation = np.array([0.25, 0.5, 1.0])
    hours = gpu_hours(3.6e18, 1e15, utilisation)
    np.testing.assert_allclose(hours, [4.0, 2.0, 1.0])
    burn = pd.Series([1e5, 2e5, 0.0], index=["lean", "hiring", "profitable"])
    runway = runway_months(1.2e6, burn)
    assert isinstance(runway, pd.Series) and list(runway.index) == list(burn.index)
    np.testing.assert_allclose(runway.to_numpy(), [12.0, 6.0, np.inf])
    margins = gross_margin(pd.Series([100.0, 200.0]), pd.Series([50.0, 50.0]))
    np.testing.assert_allclose(np.asarray(margins), [0.5, 0.75])
    np.testing.assert_allclose(break_even_units(1000, np.array([12.0, 15.0]), 10.0), [500.0, 200.0])


# --------------------------------------------------------------------------- unprofitable inputs
def test_unprofitable_inputs_give_never_not_an_error():
    """A worksheet explores loss-making cases: they must show 'never', not crash (review 09)."""
    assert break_even_units(50_000, 20.0, 20.0) == np.inf
    assert break_even_units(50_000, 20.0, 25.0) == np.inf
    np.testing.assert_array_equal(break_even_units(1000, np.array([12.0, 8.0]), 10.0), [500.0, np.inf])
    assert cac_payback_months(240.0, 20.0, 0.0) == np.inf
    assert cac_payback_months(240.0, 20.0, -0.5) == np.inf
    assert cac_payback_months(240.0, 0.0, 0.5) == np.inf
    np.testing.assert_array_equal(cac_payback_months(240.0, 20.0, np.array([0.6, -0.2])), [20.0, np.inf])
    # a margin below -1 (AI cost above twice the price) is a loss per customer, not invalid input
    assert ltv(20.0, -1.5, 0.05) == pytest.approx(-600.0)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: compute_flops(-1, 1e9), ["params", "-1"]),
        (lambda: gpu_hours(1e20, 1e15, 0.0), ["utilization", "0", "(0, 1]"]),
        (lambda: gpu_hours(1e20, 1e15, 1.5), ["utilization", "1.5"]),
        (lambda: gross_margin(0, 10), ["revenue", "0"]),
        (lambda: gross_margin(100, -5), ["cost_of_revenue", "-5"]),
        (lambda: ltv(10, 0.5, 0.0), ["monthly_churn", "0"]),
        (lambda: ltv(10, 0.5, 1.2), ["monthly_churn", "1.2"]),
        (lambda: cac_payback_months(-100, 10, 0.5), ["cac", "-100"]),
        (lambda: runway_months(-1, 100), ["cash", "-1"]),
        (lambda: post_money_ownership({"a": 0.6, "b": 0.6}, 1e6, 4e6), ["pre_ownership", "1.2", "sum"]),
        (lambda: post_money_ownership({"a": 60, "b": 40}, 1e6, 4e6), ["pre_ownership['a']", "60"]),
        (lambda: post_money_ownership({"a": 1.0}, -1e6, 4e6), ["investment", "-1e+06"]),
        (lambda: post_money_ownership({"a": 1.0}, 1e6, 4e6, investor="a"), ["investor", "'a'"]),
        (lambda: safe_conversion_ownership(1e6, 1e6), ["investment", "100 %"]),
        (lambda: exit_waterfall(1e6, {"a": 1.0}, {"b": 1e5}), ["preferences", "'b'"]),
        (lambda: serving_cost_usd(10, 8, 2.0, utilization=0), ["utilization", "0"]),
        (lambda: token_revenue_usd(1e9, 1.5, 1e9, 0.1, 0.5, 2.0), ["cache_hit_share", "1.5"]),
        (lambda: rent_vs_buy_breakeven_utilization(30_000, 2.0, pue=0.9), ["pue", "0.9"]),
        (lambda: simulate_runway(1e6, 1e5, 0, 0.0, -0.1), ["revenue_growth_sd", "-0.1"]),
        (lambda: loan_monthly_payment(1e5, 1.5, 12), ["annual_rate", "1.5"]),
    ],
)
def test_bad_input_names_argument_and_value(call, words):
    with pytest.raises(ValueError) as excinfo:
        call()
    message = str(excinfo.value)
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_array_with_one_bad_element_is_rejected():
    with pytest.raises(ValueError, match="utilization=1.2"):
        gpu_hours(1e20, 1e15, np.array([0.5, 1.2]))


# --------------------------------------------------------------------------- properties
holders = st.dictionaries(st.text(alphabet="abcdefgh", min_size=1, max_size=4), st.floats(0.01, 1.0),
                          min_size=1, max_size=6)


def _normalise(weights: dict) -> dict:
    total = math.fsum(weights.values())
    return {k: v / total for k, v in weights.items()}


@settings(max_examples=200, deadline=None)
@given(weights=holders, investment=money, pre_money=money)
def test_ownership_sums_to_one_and_ratios_kept(weights, investment, pre_money):
    pre = _normalise(weights)
    post = post_money_ownership(pre, investment, pre_money, investor="investor_new")
    assert math.fsum(post.values()) == pytest.approx(1.0, abs=1e-12)
    assert post["investor_new"] == pytest.approx(investment / (pre_money + investment), rel=1e-9, abs=1e-15)
    first, *_ = pre
    for holder in pre:
        # Everyone is diluted by the same factor, so ratios between old holders do not change.
        assert post[holder] * pre[first] == pytest.approx(post[first] * pre[holder], rel=1e-9, abs=1e-15)


round_strategy = st.builds(
    # new money is 1-50 % of the post-money company, as in real rounds (more plus a pool is impossible)
    lambda sold, pre, pool, safe_amount, cap: (pre * sold / (1 - sold), pre, pool, safe_amount, cap),
    st.floats(0.01, 0.5), st.floats(5e6, 1e9), st.floats(0.0, 0.2), st.floats(0.0, 1e6), st.floats(2e6, 1e8),
)


@settings(max_examples=100, deadline=None)
@given(rounds=st.lists(round_strategy, min_size=1, max_size=4))
def test_cap_table_rows_sum_to_one(rounds):
    priced = [
        PricedRound(f"R{i}", inv, pre, f"investor_{i}", option_pool_post=pool,
                    safes=[Safe(f"safe_{i}", amount, cap)] if amount > 0 else [])
        for i, (inv, pre, pool, amount, cap) in enumerate(rounds)
    ]
    table = cap_table_over_rounds({"founder_a": 0.6, "founder_b": 0.4}, priced)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-12)
    assert (table.to_numpy() >= 0).all()
    # The founders' ratio never changes: they are always diluted together.
    np.testing.assert_allclose(table["founder_a"] / table["founder_b"], 1.5)


@settings(max_examples=200, deadline=None)
@given(fixed=money, unit_cost=st.floats(0.0, 1e4), markup=st.floats(0.01, 1e4))
def test_break_even_profit_is_zero(fixed, unit_cost, markup):
    price = unit_cost + markup
    units = break_even_units(fixed, price, unit_cost)
    profit = units * price - units * unit_cost - fixed
    assert profit == pytest.approx(0.0, abs=1e-9 * fixed)


@settings(max_examples=200, deadline=None)
@given(arpu=st.floats(0.0, 1e4), margin=st.floats(-1.0, 1.0), churn=st.floats(0.01, 1.0))
def test_ltv_is_arpu_times_margin_times_lifetime(arpu, margin, churn):
    lifetime = 1.0 / churn
    assert ltv(arpu, margin, churn) == pytest.approx(arpu * margin * lifetime, rel=1e-12, abs=1e-12)
    # The lifetime is the sum of the survival probabilities: 1 + (1-c) + (1-c)^2 + ...
    months = np.arange(5000)
    survival_sum = np.sum((1.0 - churn) ** months)
    assert ltv(arpu, margin, churn) == pytest.approx(arpu * margin * survival_sum, rel=1e-6, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(flops=st.floats(1e15, 1e26), peak=st.floats(1e12, 1e16), utilization=st.floats(0.01, 1.0))
def test_gpu_hours_inverts_compute(flops, peak, utilization):
    hours = gpu_hours(flops, peak, utilization)
    assert hours * 3600 * peak * utilization == pytest.approx(flops, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(purchase=st.floats(1e3, 1e5), rental=st.floats(0.5, 20.0), years=st.floats(1.0, 8.0))
def test_at_breakeven_utilisation_owning_costs_the_rental_price(purchase, rental, years):
    u = rent_vs_buy_breakeven_utilization(purchase, rental, lifetime_years=years)
    if u <= 1.0:
        assert ownership_cost_per_gpu_hour(purchase, u, lifetime_years=years) == pytest.approx(rental, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(exit_value=st.floats(0.0, 1e9), weights=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=5),
       prefs=st.lists(st.floats(0.0, 1e8), min_size=1, max_size=4))
def test_waterfall_pays_out_exactly_the_exit_value(exit_value, weights, prefs):
    names = [f"h{i}" for i in range(len(weights))]
    ownership = _normalise(dict(zip(names, weights, strict=False)))
    preferences = dict(zip(names[1:], prefs, strict=False))  # h0 is always common
    result = exit_waterfall(exit_value, ownership, preferences)
    assert result["payout"].sum() == pytest.approx(exit_value, rel=1e-9, abs=1e-6)
    assert (result["payout"] >= -1e-9).all()
    for holder, amount in preferences.items():
        # A preferred holder never gets less than it would by converting, nor less than its
        # preference when the exit covers all preferences.
        if exit_value >= sum(preferences.values()):
            assert result.loc[holder, "payout"] >= min(amount, exit_value) - 1e-6


@settings(max_examples=50, deadline=None)
@given(cash=st.floats(1e4, 1e8), costs=st.floats(1e3, 1e6))
def test_simulated_runway_without_uncertainty_matches_formula(cash, costs):
    sim = simulate_runway(cash, costs, 0.0, 0.0, 0.0, months=600, n_paths=3)
    expected = runway_months(cash, costs)
    if expected < 600:
        np.testing.assert_allclose(sim.runway_months, expected, rtol=1e-9)


def test_monte_carlo_runway_is_seeded_and_sensible():
    first = simulate_runway(2e6, 150_000, 30_000, 0.08, 0.05, months=36, n_paths=500, seed=1)
    second = simulate_runway(2e6, 150_000, 30_000, 0.08, 0.05, months=36, n_paths=500, seed=1)
    np.testing.assert_array_equal(first.cash, second.cash)
    fan = first.quantiles()
    assert (fan.diff(axis=1).iloc[:, 1:] >= 0).all().all()  # quantiles ordered low to high
    assert 0.0 <= first.probability_out_of_cash(24) <= 1.0
    # With faster growth fewer paths run out of cash.
    faster = simulate_runway(2e6, 150_000, 30_000, 0.15, 0.05, months=36, n_paths=500, seed=1)
    assert faster.probability_out_of_cash(36) <= first.probability_out_of_cash(36)


# --------------------------------------------------------------------------- runway: dead at zero, default alive
def test_a_path_that_runs_out_of_cash_stays_at_zero():
    # Costs 100k/month, revenue flat at 50k: cash ends in month 20 of a 1M start and stays at 0.
    sim = simulate_runway(1e6, 100_000, 50_000, 0.0, 0.0, months=24, n_paths=2)
    assert (sim.cash >= 0).all()
    out_month = int(math.ceil(sim.runway_months[0]))
    assert out_month == 20  # 1e6 / 50k net burn
    assert (sim.cash[:, out_month:] == 0).all()
    assert (sim.cash[:, :out_month] > 0).all()
    # Revenue growing 5 %/month covers costs from month 15, but 200k of cash ends in month 5: the
    # unclipped path would go negative and then "recover" above zero. A company at zero is dead.
    recovering = simulate_runway(2e5, 100_000, 50_000, 0.05, 0.0, months=60, n_paths=1)
    out = int(math.ceil(recovering.runway_months[0]))
    assert recovering.profitable_month[0] > recovering.runway_months[0]  # profit comes too late
    assert (recovering.cash[0, out:] == 0).all()
    assert recovering.probability_default_alive() == 0.0


@pytest.mark.parametrize("growth, cash, alive", [
    (0.10, 5e6, True),    # revenue 50k -> 100k by month 8, long before 5M is spent
    (0.10, 1e5, False),   # same growth, cash gone in month 3, before the first profitable month (8)
    (0.0, 1e9, False),    # never grows: never profitable, however much cash (and never out of it)
])
def test_default_alive_on_known_paths(growth, cash, alive):
    sim = simulate_runway(cash, 100_000, 50_000, growth, 0.0, months=48, n_paths=3)
    if growth > 0:
        expected_month = math.ceil(math.log(2) / math.log(1 + growth))  # first month revenue >= 100k
        assert sim.profitable_month[0] == expected_month
    else:
        assert np.isinf(sim.profitable_month).all()
    assert sim.probability_default_alive() == (1.0 if alive else 0.0)


def test_cost_of_revenue_share_is_charged_on_revenue():
    # 100 % of revenue spent serving it: revenue never reduces the burn, so runway = cash / fixed costs.
    sim = simulate_runway(1.2e6, 100_000, 80_000, 0.05, 0.0, months=36, n_paths=2, cost_of_revenue_share=1.0)
    np.testing.assert_allclose(sim.runway_months, 12.0)
    half = simulate_runway(1.2e6, 100_000, 80_000, 0.0, 0.0, months=36, n_paths=2, cost_of_revenue_share=0.5)
    np.testing.assert_allclose(half.runway_months, runway_months(1.2e6, 100_000 - 0.5 * 80_000))
    with pytest.raises(ValueError, match="cost_of_revenue_share"):
        simulate_runway(1e6, 1e5, 0, 0.0, 0.0, cost_of_revenue_share=1.5)


# --------------------------------------------------------------------------- unissued options at a sale
def test_cancelling_the_unissued_pool():
    from course_utils.business import cancel_unissued_options

    table = {"founders": 0.54, "vc": 0.36, "option_pool": 0.10}
    none_granted = cancel_unissued_options(table, 0.0)
    assert set(none_granted) == {"founders", "vc"}
    assert none_granted["founders"] == pytest.approx(0.6) and none_granted["vc"] == pytest.approx(0.4)
    all_granted = cancel_unissued_options(table, 1.0)
    assert all_granted["employees"] == pytest.approx(0.10) and all_granted["founders"] == pytest.approx(0.54)
    half = cancel_unissued_options(table, 0.5)
    assert math.fsum(half.values()) == pytest.approx(1.0, abs=1e-12)
    assert half["founders"] / half["vc"] == pytest.approx(0.54 / 0.36)  # the others keep their ratio
    assert half["employees"] == pytest.approx(0.05 / 0.95)
    # At a sale the unissued pool no longer takes a share of the common payout.
    sale = exit_waterfall(80e6, none_granted, {"vc": 10e6})
    assert sale["payout"].sum() == pytest.approx(80e6)
    assert "option_pool" not in sale.index
    with pytest.raises(ValueError, match="option pool named 'pool'"):
        cancel_unissued_options(table, 0.5, pool="pool")
    with pytest.raises(ValueError, match="granted_fraction"):
        cancel_unissued_options(table, 1.2)
