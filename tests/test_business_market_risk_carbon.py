"""Tests of course_utils.business market / risk / carbon calculators and their curated data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_utils import business
from course_utils.paths import data_file

finite = dict(allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------- carbon
def test_energy_and_emissions_known_cases():
    # GPT-3 per Patterson et al. 2021: 3.552M V100-hours x 330 W x PUE 1.1 ~ 1,287 MWh; x 429 g/kWh ~ 552 t
    energy = business.energy_kwh(3_552_000, 330, 1.1)
    assert energy == pytest.approx(1_289_376)
    assert business.emissions_kg(1_287_000, 429) / 1000 == pytest.approx(552.1, abs=0.1)
    assert business.energy_kwh(1, 1000, 1.0) == 1.0
    assert business.inference_energy_kwh(1e6, 0.3) == pytest.approx(300.0)


def test_energy_vectorised_and_keeps_series_index():
    out = business.energy_kwh(np.array([1.0, 2.0]), 500, np.array([1.0, 1.5]))
    np.testing.assert_allclose(out, [0.5, 1.5])
    series = pd.Series([10.0, 20.0], index=["a", "b"])
    result = business.energy_kwh(series, 100, 1.0)
    assert list(result.index) == ["a", "b"]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(gpu_hours=-1, gpu_watts=300, pue=1.1), "gpu_hours=-1"),
        (dict(gpu_hours=10, gpu_watts=0, pue=1.1), "gpu_watts=0"),
        (dict(gpu_hours=10, gpu_watts=300, pue=0.9), "pue=0.9"),
        (dict(gpu_hours=10, gpu_watts=300, pue=float("nan")), "pue"),
    ],
)
def test_energy_rejects_nonsense(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        business.energy_kwh(**kwargs)


def test_emissions_rejects_kg_per_kwh_and_negative():
    with pytest.raises(ValueError, match="looks like kg/kWh"):
        business.emissions_kg(100, 0.429)
    with pytest.raises(ValueError, match="grid_gco2_per_kwh=-5"):
        business.emissions_kg(100, -5)
    with pytest.raises(ValueError, match="energy_kwh"):
        business.emissions_kg(-1, 400)
    assert business.emissions_kg(100, 0) == 0.0  # a fully renewable (market-based) supply is allowed


@given(
    hours=st.floats(0, 1e7, **finite), watts=st.floats(1, 2000, **finite),
    pue=st.floats(1, 3, **finite), factor=st.floats(0.1, 100, **finite),
)
def test_energy_scales_linearly_with_hours(hours, watts, pue, factor):
    base = business.energy_kwh(hours, watts, pue)
    assert business.energy_kwh(hours * factor, watts, pue) == pytest.approx(base * factor, rel=1e-9, abs=1e-9)
    assert base >= business.energy_kwh(hours, watts, 1.0) - 1e-9  # overhead never reduces energy


@given(energy=st.floats(0, 1e9, **finite), grid=st.floats(1, 2000, **finite), factor=st.floats(0.1, 10, **finite))
def test_emissions_scale_linearly(energy, grid, factor):
    base = business.emissions_kg(energy, grid)
    assert business.emissions_kg(energy * factor, grid) == pytest.approx(base * factor, rel=1e-9, abs=1e-9)
    other_grid = min(max(grid * factor, 1.0), 2000.0)
    expected_order = business.emissions_kg(energy, other_grid) - base
    assert np.sign(round(expected_order, 6)) in (0, np.sign(other_grid - grid))  # cleaner grid, fewer emissions


def test_relative_difference():
    assert business.relative_difference(110, 100) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="published=0"):
        business.relative_difference(1, 0)


def test_pareto_front_known_case_and_errors():
    mask = business.pareto_front([1, 2, 3, 2.5, 1], [0.90, 0.95, 0.96, 0.94, 0.80])
    assert mask.tolist() == [True, True, True, False, False]
    with pytest.raises(ValueError, match="same length"):
        business.pareto_front([1, 2], [0.1])


@given(st.lists(st.tuples(st.floats(0, 100, **finite), st.floats(0, 1, **finite)), min_size=1, max_size=30))
def test_pareto_front_points_are_not_dominated(points):
    cost = np.array([p[0] for p in points])
    benefit = np.array([p[1] for p in points])
    mask = business.pareto_front(cost, benefit)
    assert mask.any()  # the cheapest-with-best-benefit point is always on the front
    for i in np.flatnonzero(mask):
        dominated = (cost <= cost[i]) & (benefit >= benefit[i]) & ((cost < cost[i]) | (benefit > benefit[i]))
        assert not dominated.any()


# --------------------------------------------------------------------------- market sizing
def test_tam_sam_som_known_cases():
    top = business.tam_sam_som_top_down(1e9, 0.2, 0.05)
    assert (top.tam, top.sam, top.som) == (1e9, 2e8, pytest.approx(1e7))
    bottom = business.tam_sam_som_bottom_up(1_000_000, 200_000, 5_000, 120)
    assert (bottom.tam, bottom.sam, bottom.som) == (1.2e8, 2.4e7, 6e5)
    assert list(bottom.as_series().index) == ["TAM", "SAM", "SOM"]


def test_market_order_enforced():
    with pytest.raises(ValueError, match="sam=140 is larger than tam=100"):
        business.check_market_order(100, 140, 5)
    with pytest.raises(ValueError, match="som=50 is larger than sam=40"):
        business.check_market_order(100, 40, 50)
    with pytest.raises(ValueError, match="obtainable_customers=10 is larger than serviceable_customers=5"):
        business.tam_sam_som_bottom_up(100, 5, 10, 1.0)
    with pytest.raises(ValueError, match="serviceable_share=1.2"):
        business.tam_sam_som_top_down(100, 1.2, 0.1)


@given(
    tam=st.floats(0, 1e12, **finite), s1=st.floats(0, 1, **finite), s2=st.floats(0, 1, **finite),
)
def test_top_down_invariant(tam, s1, s2):
    size = business.tam_sam_som_top_down(tam, s1, s2)
    assert size.tam >= size.sam >= size.som >= 0


@given(
    counts=st.lists(st.integers(0, 10**7), min_size=3, max_size=3), price=st.floats(0, 1e5, **finite),
)
def test_bottom_up_invariant(counts, price):
    total, serviceable, obtainable = sorted(counts, reverse=True)
    size = business.tam_sam_som_bottom_up(total, serviceable, obtainable, price)
    assert size.tam >= size.sam >= size.som >= 0


def test_top_down_vectorised():
    size = business.tam_sam_som_top_down(100.0, np.array([0.1, 0.5]), 0.5)
    np.testing.assert_allclose(size.sam, [10, 50])
    np.testing.assert_allclose(size.som, [5, 25])


def test_weighted_scores():
    table = pd.DataFrame({"market": [5, 2], "data": [1, 4]}, index=["A", "B"])
    scores = business.weighted_scores(table, {"market": 3, "data": 1})
    assert scores.to_dict() == {"A": 4.0, "B": 2.5}
    with pytest.raises(ValueError, match="not columns"):
        business.weighted_scores(table, {"price": 1})
    with pytest.raises(ValueError, match=r"weights\['data'\]=-1"):
        business.weighted_scores(table, {"market": 1, "data": -1})
    with pytest.raises(ValueError, match=r"scores\['market'\]=7"):
        business.weighted_scores(table.assign(market=[7, 1]), {"market": 1})
    with pytest.raises(ValueError, match="sum to 0"):
        business.weighted_scores(table, {"market": 0})


@given(st.lists(st.floats(0.01, 10, **finite), min_size=2, max_size=2), st.floats(0.1, 10, **finite))
def test_weighted_scores_stay_on_scale_and_ignore_weight_units(weights, factor):
    table = pd.DataFrame({"a": [1, 3, 5], "b": [5, 2, 1]})
    scores = business.weighted_scores(table, {"a": weights[0], "b": weights[1]})
    assert scores.between(1, 5).all()
    rescaled = business.weighted_scores(table, {"a": weights[0] * factor, "b": weights[1] * factor})
    np.testing.assert_allclose(scores, rescaled)


# --------------------------------------------------------------------------- Bass diffusion
def test_bass_known_values():
    assert business.bass_cumulative(0, 0.03, 0.38, 100) == pytest.approx(0.0)
    assert business.bass_adoptions(0, 0.03, 0.38, 100) == pytest.approx(3.0)
    assert business.bass_peak_time(0.03, 0.38) == pytest.approx(math.log(0.38 / 0.03) / 0.41)
    assert business.bass_peak_time(0.5, 0.1) == 0.0
    # numerical derivative of the cumulative curve equals the adoption rate
    t = np.linspace(0.5, 15, 20)
    h = 1e-5
    slope = (business.bass_cumulative(t + h, 0.03, 0.38, 100) - business.bass_cumulative(t - h, 0.03, 0.38, 100)) / (2 * h)
    np.testing.assert_allclose(slope, business.bass_adoptions(t, 0.03, 0.38, 100), rtol=1e-5)
    with pytest.raises(ValueError, match="p=0"):
        business.bass_cumulative(1, 0, 0.3)


@given(p=st.floats(0.001, 0.5, **finite), q=st.floats(0, 2, **finite), m=st.floats(1, 1e6, **finite))
def test_bass_cumulative_is_monotone_and_bounded(p, q, m):
    t = np.linspace(0, 50, 60)
    values = business.bass_cumulative(t, p, q, m)
    assert np.all(np.diff(values) >= -1e-9 * m)
    assert np.all(values <= m * (1 + 1e-12)) and np.all(values >= 0)


def test_fit_bass_recovers_parameters_from_noisy_data():
    rng = np.random.default_rng(0)
    t = np.arange(0, 15, 0.5)
    clean = business.bass_cumulative(t, 0.02, 0.6, 500)
    noisy = np.maximum.accumulate(clean + rng.normal(0, 3, size=t.size).clip(-5, 5))
    fit = business.fit_bass(t, np.clip(noisy, 0, None))
    assert fit.p == pytest.approx(0.02, rel=0.3)
    assert fit.q == pytest.approx(0.6, rel=0.15)
    assert fit.m == pytest.approx(500, rel=0.05)
    assert fit.rmse < 5
    assert fit.predict(100) == pytest.approx(fit.m, rel=1e-6)


def test_fit_bass_rejects_bad_data():
    with pytest.raises(ValueError, match="at least 4"):
        business.fit_bass([0, 1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="never decrease"):
        business.fit_bass([0, 1, 2, 3], [1, 5, 3, 6])
    with pytest.raises(ValueError, match="strictly increasing"):
        business.fit_bass([0, 2, 1, 3], [1, 2, 3, 4])


# --------------------------------------------------------------------------- risk register
def test_risk_scores_and_register():
    assert business.risk_score(0.4, 5) == 2.0
    assert business.risk_level([0.5, 1.5, 3.0]).tolist() == ["low", "medium", "high"]
    table = pd.DataFrame(
        {"risk": ["a", "b", "c"], "category": ["data", "market", "legal/ethical"], "probability": [0.1, 0.8, 0.5], "impact": [5, 3, 1]}
    )
    scored = business.score_risk_register(table)
    assert scored["risk"].tolist() == ["b", "a", "c"]
    assert scored["score"].tolist() == pytest.approx([2.4, 0.5, 0.5])
    with pytest.raises(ValueError, match="probability=1.5"):
        business.risk_score(1.5, 3)
    with pytest.raises(ValueError, match="impact=6"):
        business.risk_score(0.5, 6)
    with pytest.raises(ValueError, match="allowed categories"):
        business.score_risk_register(table.assign(category=["tech", "data", "data"]))


@given(p=st.floats(0, 1, **finite), impact=st.floats(1, 5, **finite), bump=st.floats(0, 1, **finite))
def test_risk_score_monotone(p, impact, bump):
    base = business.risk_score(p, impact)
    assert 0 <= base <= 5
    assert business.risk_score(min(1.0, p + bump), impact) >= base - 1e-12
    assert business.risk_score(p, min(5.0, impact + bump)) >= base - 1e-12


# --------------------------------------------------------------------------- NPV and Monte Carlo
def test_npv_known_cases():
    assert business.npv([-100, 110], 0.10) == pytest.approx(0.0, abs=1e-9)
    assert business.npv([-100, 60, 60], 0.10) == pytest.approx(-100 + 60 / 1.1 + 60 / 1.21)
    np.testing.assert_allclose(business.npv([[-100, 50, 50], [-100, 0, 0]], 0.0), [0.0, -100.0])
    with pytest.raises(ValueError, match="discount_rate=-1"):
        business.npv([1, 2], -1.0)


@given(flows=st.lists(st.floats(-1e6, 1e6, **finite), min_size=1, max_size=10), rate=st.floats(0, 0.5, **finite),
       factor=st.floats(0.1, 10, **finite))
def test_npv_is_linear_in_cash_flows(flows, rate, factor):
    base = business.npv(flows, rate)
    assert business.npv(np.array(flows) * factor, rate) == pytest.approx(base * factor, rel=1e-9, abs=1e-6)


def test_simulate_npv_deterministic_and_sensible():
    args = dict(n_simulations=4000, years=5, initial_investment=1e6, first_year_revenue=5e5, growth_mean=0.3,
                growth_sd=0.2, gross_margin=0.6, annual_fixed_costs=2e5, discount_rate=0.12)
    a = business.simulate_npv(**args, seed=7)
    b = business.simulate_npv(**args, seed=7)
    np.testing.assert_array_equal(a, b)
    # with no uncertainty every simulation equals the deterministic NPV
    flat, flows = business.simulate_npv(**{**args, "growth_sd": 0.0}, seed=1, return_cash_flows=True)
    revenue = 5e5 * 1.3 ** np.arange(5)
    expected = business.npv(np.concatenate([[-1e6], revenue * 0.6 - 2e5]), 0.12)
    np.testing.assert_allclose(flat, expected)
    assert flows.shape == (4000, 6)
    # better growth lowers the probability of a loss
    worse = business.probability_of_loss(business.simulate_npv(**{**args, "growth_mean": 0.0}, seed=3))[0]
    better = business.probability_of_loss(business.simulate_npv(**{**args, "growth_mean": 0.6}, seed=3))[0]
    assert worse > better
    with pytest.raises(ValueError, match="n_simulations=0"):
        business.simulate_npv(**{**args, "n_simulations": 0})
    with pytest.raises(ValueError, match="gross_margin=1.5"):
        business.simulate_npv(**{**args, "gross_margin": 1.5})


def test_probability_of_loss_interval():
    share, low, high = business.probability_of_loss([-1, 2, 3, -4])
    assert share == 0.5 and 0 <= low < 0.5 < high <= 1
    share, low, high = business.probability_of_loss(np.ones(1000))
    assert share == 0.0 and low == 0.0 and high < 0.01


# --------------------------------------------------------------------------- $600B and deflation
def test_required_ai_revenue():
    assert business.required_ai_revenue(150e9) == pytest.approx(600e9)
    assert business.required_ai_revenue(100, 1.0, 0.0) == pytest.approx(100)
    with pytest.raises(ValueError, match="end_user_gross_margin=1"):
        business.required_ai_revenue(100, 0.5, 1.0)


def test_fit_price_deflation_exact_and_noisy():
    dates = pd.to_datetime(["2021-01-01", "2022-01-01", "2023-01-01", "2024-01-01"])
    fit = business.fit_price_deflation(dates, [100, 10, 1, 0.1])
    assert fit.factor_per_year == pytest.approx(10, rel=5e-3)  # 365.25-day years
    assert fit.r_squared == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    days = pd.date_range("2020-01-01", periods=30, freq="60D")
    years = (days - days[0]).days / 365.25
    prices = 50 * 4.0 ** -years * np.exp(rng.normal(0, 0.2, size=30))
    noisy = business.fit_price_deflation(days, prices)
    assert noisy.factor_low < 4.0 < noisy.factor_high
    assert noisy.predict("2020-01-01") == pytest.approx(50, rel=0.3)
    with pytest.raises(ValueError, match="prices=0"):
        business.fit_price_deflation(dates, [1, 0, 1, 1])
    with pytest.raises(ValueError, match="at least 3"):
        business.fit_price_deflation(["2020-01-01"] * 4, [1, 2, 3, 4])


# --------------------------------------------------------------------------- curated data
MY_FILES = ["grid_carbon.csv", "pue.csv", "training_emissions.csv", "app_scenarios.csv", "ai_funding_market.csv"]


@pytest.mark.parametrize("name", MY_FILES)
def test_curated_csv_has_source_and_url(name):
    table = pd.read_csv(data_file(name))
    assert len(table) >= 4
    for column in ("source", "url", "source_type"):
        assert column in table.columns and table[column].notna().all(), f"{name}: empty {column}"
    assert table["url"].str.startswith("http").all()


def test_curated_values_pass_the_validators():
    grid = pd.read_csv(data_file("grid_carbon.csv"))
    business.emissions_kg(1.0, grid["gco2_per_kwh"])
    pue = pd.read_csv(data_file("pue.csv"))
    business.energy_kwh(1.0, 100, pue["pue"])
    runs = pd.read_csv(data_file("training_emissions.csv"))
    energy = business.energy_kwh(runs["gpu_hours"], runs["gpu_watts"], runs["pue"])
    published = runs.dropna(subset=["published_energy_kwh"])
    rel = business.relative_difference(energy[published.index], published["published_energy_kwh"])
    assert np.all(np.abs(rel) < 0.01)  # GPT-3 and BLOOM energy recompute to within 1%
    scenarios = pd.read_csv(data_file("app_scenarios.csv"))
    for column in ("industry", "use_case", "data_needed", "model_type", "regulation", "example"):
        assert scenarios[column].notna().all()
    market = pd.read_csv(data_file("ai_funding_market.csv"), parse_dates=["date"])
    prices = market[market["metric"] == "api_price_usd_per_mtok"]
    assert len(prices) >= 6 and (prices["value"] > 0).all()


ALL_DATA_FILES = sorted(path.name for path in data_file("pue.csv").parent.glob("*.csv"))


@pytest.mark.parametrize("name", ALL_DATA_FILES)
def test_every_data_row_has_a_source_a_reader_can_open(name):
    table = pd.read_csv(data_file(name))
    url_column = "url" if "url" in table.columns else "source_url"
    assert table["source"].notna().all(), f"{name}: a row without a source"
    assert table[url_column].astype(str).str.startswith("http").all(), f"{name}: a row without an http(s) link"


def test_gpu_purchase_rows_say_whether_the_server_is_included():
    prices = pd.read_csv(data_file("gpu_prices.csv"))
    purchases = prices[prices["price_type"] == "purchase"]
    assert set(purchases["price_basis"]) == {"GPU board", "per-GPU share of a server system (includes the server)"}
    # the review's five H100 system rows (DGX H100, Supermicro server) are marked as such
    h100_systems = purchases[(purchases["hardware"] == "NVIDIA H100 SXM5 80GB")
                             & purchases["price_basis"].str.startswith("per-GPU share")]
    assert sorted(h100_systems["usd"]) == [37080.5, 41197.5, 41217.0, 44489.88, 46875.0]
    # the H100 row whose quote URL is an A100 page is flagged in the data itself
    flagged = prices[prices["verification"].str.startswith("UNVERIFIED")]
    assert list(flagged["original_quote_url"].str.contains("a100-80gb")) == [True]


def test_terminal_value_is_gordon_growth_on_the_last_flow_and_floored_at_zero():
    args = dict(n_simulations=50, years=3, initial_investment=1e6, first_year_revenue=1e6, growth_mean=0.2,
                growth_sd=0.0, gross_margin=0.5, annual_fixed_costs=2e5, discount_rate=0.12, seed=0)
    plain, flows = business.simulate_npv(**args, return_cash_flows=True)
    with_tv = business.simulate_npv(**args, terminal_growth=0.03)
    terminal = flows[0, -1] * 1.03 / (0.12 - 0.03)
    assert with_tv[0] == pytest.approx(plain[0] + terminal / 1.12 ** 3)
    losing = business.simulate_npv(**{**args, "annual_fixed_costs": 5e6}, terminal_growth=0.03)
    assert losing[0] == pytest.approx(business.simulate_npv(**{**args, "annual_fixed_costs": 5e6})[0])
    with pytest.raises(ValueError, match="terminal_growth"):
        business.simulate_npv(**args, terminal_growth=0.12)


@pytest.mark.parametrize("probability, impact, owner, mitigation, flagged", [
    (0.5, 5, "CTO", "encrypt", False),     # high, owned and mitigated
    (0.5, 5, None, "encrypt", True),        # high, no owner
    (0.5, 5, "CTO", "  ", True),            # high, blank mitigation
    (0.3, 4, "", "plan", True),             # medium (1.2), empty owner
    (0.1, 4, None, None, False),            # low (0.4): not required
    (0.2, 5, None, None, True),             # exactly the medium threshold (1.0)
])
def test_serious_risks_need_an_owner_and_a_mitigation(probability, impact, owner, mitigation, flagged):
    from course_utils.business import risks_without_owner

    register = pd.DataFrame({"risk": ["r"], "category": ["data"], "probability": [probability], "impact": [impact],
                             "owner": [owner], "mitigation": [mitigation]})
    assert risks_without_owner(business.score_risk_register(register)) == (["r"] if flagged else [])


def test_risks_without_owner_names_missing_columns():
    from course_utils.business import risks_without_owner

    bare = business.score_risk_register(pd.DataFrame({"risk": ["r"], "category": ["data"], "probability": [0.5], "impact": [5]}))
    with pytest.raises(ValueError, match=r"\['owner', 'mitigation'\]"):
        risks_without_owner(bare)


# --------------------------------------------------------------------------- go-to-market channels
def _channels(spend, won):
    return pd.DataFrame({"spend_usd_per_month": spend, "new_customers_per_month": won},
                        index=[f"c{i}" for i in range(len(spend))])


@pytest.mark.parametrize("spend, won, margin, churn, passes", [
    (6000, 1, 0.9, 0.03, True),       # LTV 18,000 / CAC 6,000 = 3.0 exactly, payback 11.1 months: on the bar
    (6001, 1, 0.9, 0.03, False),      # just below 3x
    (6000, 1, 0.9, 0.10, False),      # high churn: LTV 5,400
    (7000, 1, 0.9, 0.01, False),      # LTV/CAC 7.7 but payback 13 months > 12
    (1000, 0, 0.9, 0.03, False),      # wins nobody: CAC inf
    (0, 0, 0.9, 0.03, False),         # spends nothing, wins nobody: not a channel that pays
    (100, 1, -0.2, 0.03, False),      # every customer loses money: cheap acquisition cannot save it
    (0, 2, 0.9, 0.03, True),          # free customers (referrals): CAC 0
])
def test_channel_passes_only_when_it_pays_for_itself(spend, won, margin, churn, passes):
    table = business.channel_economics(_channels([spend], [won]), 600, margin, churn)
    assert bool(table.loc["c0", "passes"]) is passes


def test_channel_economics_matches_the_unit_economics_formulas_and_blends():
    table = business.channel_economics(_channels([10_000, 4_000, 2_000, 2_000], [1.2, 0.5, 0.8, 0.5]), 600, 0.875, 0.03)
    ltv = 600 * 0.875 / 0.03
    assert table.loc["c0", "cac_usd"] == pytest.approx(10_000 / 1.2)
    assert table.loc["c2", "ltv_to_cac"] == pytest.approx(ltv / 2_500)
    assert table.loc["c1", "payback_months"] == pytest.approx(8_000 / (600 * 0.875))
    assert table.loc["blended", "cac_usd"] == pytest.approx(18_000 / 3.0)
    assert table.loc["blended", "new_customers_per_month"] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="new_customers_per_month"):
        business.channel_economics(_channels([1.0], [-1.0]), 600, 0.9, 0.03)
    with pytest.raises(ValueError, match=r"lacks columns \['new_customers_per_month'\]"):
        business.channel_economics(pd.DataFrame({"spend_usd_per_month": [1.0]}), 600, 0.9, 0.03)
