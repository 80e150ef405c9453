"""The running example, its monthly plan and the capstone's go / no-go rule (course_utils.business.plan),
and the finance formulas checked against numpy-financial as an independent oracle."""

import dataclasses
import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import business
from course_utils.business import DIGIT_READING, DigitReadingBusiness, field_outcomes, go_no_go, project_plan

GOOD_RATIOS = dict(delivered_accuracy=0.99, min_delivered_accuracy=0.97, gross_margin=0.95, min_gross_margin=0.6,
                   ltv_to_cac=5.0, min_ltv_to_cac=3.0, cac_payback_months=6.0, max_cac_payback_months=18.0,
                   min_runway_months=18.0, fundraise_months=6.0, high_risks=0)


def closed_form_customers(b: DigitReadingBusiness, month):
    """c_t = s + (c_0 - s)(1 - churn)^t with s = new / churn: the recursion's solution."""
    steady = b.new_customers_per_month / b.monthly_churn
    return steady + (b.starting_customers - steady) * (1 - b.monthly_churn) ** month


# --------------------------------------------------------------------------- the running example
def test_running_example_is_defined_once_and_consistent():
    assert DIGIT_READING.revenue_per_customer_month_usd == pytest.approx(
        DIGIT_READING.price_usd_per_1k_fields * DIGIT_READING.fields_per_customer_month / 1000)
    assert DIGIT_READING.spend_usd_per_month == pytest.approx(
        DIGIT_READING.team_and_overhead_usd_per_month + DIGIT_READING.new_customers_per_month * DIGIT_READING.cac_usd)
    assert DIGIT_READING.customers_after(36) == pytest.approx(closed_form_customers(DIGIT_READING, 36))
    months = np.arange(1, 13)
    expected_revenue = closed_form_customers(DIGIT_READING, months).sum() * DIGIT_READING.revenue_per_customer_month_usd
    assert DIGIT_READING.first_year_revenue_usd() == pytest.approx(expected_revenue)


@pytest.mark.parametrize("field_name, value, words", [
    ("monthly_churn", 0.0, ["monthly_churn", "0"]),
    ("digits_per_field", 0, ["digits_per_field", "0"]),
    ("cac_usd", -1.0, ["cac_usd", "-1"]),
    ("reviewer_field_error_rate", 1.5, ["reviewer_field_error_rate", "1.5"]),
])
def test_bad_business_inputs_are_named(field_name, value, words):
    with pytest.raises(ValueError) as err:
        dataclasses.replace(DIGIT_READING, **{field_name: value})
    for word in words:
        assert word in str(err.value)


# --------------------------------------------------------------------------- the monthly plan
@settings(max_examples=100, deadline=None)
@given(start=st.floats(0, 500), new=st.floats(0, 50), churn=st.floats(0.005, 1.0))
def test_customers_follow_the_closed_form(start, new, churn):
    b = dataclasses.replace(DIGIT_READING, starting_customers=start, new_customers_per_month=new, monthly_churn=churn)
    plan = project_plan(b, gross_margin=0.9, horizon_months=24)
    np.testing.assert_allclose(plan.customers, closed_form_customers(b, plan.months), rtol=1e-9, atol=1e-9)


def test_cash_is_cumulative_net_of_spend_and_runway_is_first_negative_month():
    b = dataclasses.replace(DIGIT_READING, cash_usd=100_000, new_customers_per_month=0, starting_customers=0,
                            cac_usd=0, team_and_overhead_usd_per_month=30_000)
    plan = project_plan(b, gross_margin=0.9, horizon_months=12)
    np.testing.assert_allclose(plan.cash[:5], [100_000, 70_000, 40_000, 10_000, -20_000])
    assert plan.runway_months == 4
    assert plan.profitable_from_month is None
    assert plan.steady_state_monthly_profit == pytest.approx(-30_000)


def test_review_case_cac_5000_is_never_profitable():
    """Issue 11: the old rule said GO for CAC 5,000 while printing 'profitable (not within 48)'."""
    b = dataclasses.replace(DIGIT_READING, cac_usd=5_000)
    plan = project_plan(b, gross_margin=0.95)
    # 100 customers at most x 600 USD x 0.95 = 57,000 USD/month against 70,000 + 3 x 5,000 of spend
    assert plan.steady_state_monthly_profit == pytest.approx(100 * 600 * 0.95 - 85_000)
    assert plan.profitable_from_month is None
    decision = go_no_go(plan, **GOOD_RATIOS)
    assert decision.decision == "NO-GO"
    assert any(name.startswith("profitable") for name in decision.failing)


@pytest.mark.parametrize("cac", [0, 1_000, 3_000, 5_000, 6_000, 20_000])
@pytest.mark.parametrize("team", [58_000, 70_000, 120_000])
@pytest.mark.parametrize("cash", [5e5, 1.5e6, 5e7])
def test_never_profitable_plan_never_gets_go(cac, team, cash):
    """The defaults' customer flow plateaus at 100 customers = 57,000 USD/month of gross profit
    at a 95 % margin, below every team cost here: no amount of cash or CAC makes it GO."""
    b = dataclasses.replace(DIGIT_READING, cac_usd=cac, team_and_overhead_usd_per_month=team, cash_usd=cash)
    plan = project_plan(b, gross_margin=0.95)
    assert plan.steady_state_monthly_profit < 0
    assert go_no_go(plan, **GOOD_RATIOS).decision == "NO-GO"


def test_profitable_plan_with_enough_runway_gets_go_and_the_raise_allowance_bites():
    b = dataclasses.replace(DIGIT_READING, starting_customers=100, new_customers_per_month=6, cac_usd=3_000)
    plan = project_plan(b, gross_margin=0.95)
    # month 1: 103 customers x 570 USD = 58.7k < 88k spend; the first month with gross profit >= 88k
    month = next(int(m) for m in plan.months[1:] if closed_form_customers(b, m) * 600 * 0.95 >= 88_000)
    assert plan.profitable_from_month == month
    assert math.isinf(plan.runway_months)
    assert go_no_go(plan, **GOOD_RATIOS).decision == "GO"
    # Cash that only just lasts to profitability: it passes with no time allowed for a raise and
    # fails with six months, because the trough could not pay six more months of the last loss.
    consumed = b.cash_usd - plan.cash.min()
    p = plan.profitable_from_month
    last_loss = float(plan.spend[p - 1] - plan.gross_profit[p - 1])
    assert last_loss > 0
    tight = project_plan(dataclasses.replace(b, cash_usd=consumed * 1.001), gross_margin=0.95)
    assert math.isinf(tight.runway_months) and 0 <= tight.cash_trough_usd < 6 * last_loss
    assert go_no_go(tight, **{**GOOD_RATIOS, "fundraise_months": 0}).decision == "GO"
    assert go_no_go(tight, **GOOD_RATIOS).decision == "NO-GO"
    # Six months of that loss in reserve at the trough: GO again
    funded = project_plan(dataclasses.replace(b, cash_usd=consumed + 6 * last_loss + 1), gross_margin=0.95)
    assert go_no_go(funded, **GOOD_RATIOS).decision == "GO"
    # Cash that runs out before profitability fails whatever the allowance
    short = project_plan(dataclasses.replace(b, cash_usd=consumed * 0.999), gross_margin=0.95)
    assert go_no_go(short, **{**GOOD_RATIOS, "fundraise_months": 0}).decision == "NO-GO"


@pytest.mark.parametrize("check, override", [
    ("accuracy", dict(delivered_accuracy=0.96)),
    ("gross margin", dict(gross_margin=0.5)),
    ("LTV/CAC", dict(ltv_to_cac=2.9)),
    ("CAC payback", dict(cac_payback_months=18.5)),
    ("high risks", dict(high_risks=1)),
])
def test_each_ratio_check_alone_turns_go_into_no_go(check, override):
    b = dataclasses.replace(DIGIT_READING, starting_customers=100, new_customers_per_month=6, cac_usd=3_000)
    plan = project_plan(b, gross_margin=0.95)
    decision = go_no_go(plan, **{**GOOD_RATIOS, **override})
    assert decision.decision == "NO-GO"
    assert len(decision.failing) == 1 and check in decision.failing[0]


@settings(max_examples=200, deadline=None)
@given(new=st.floats(0, 20), churn=st.floats(0.01, 0.2), cac=st.floats(0, 30_000), team=st.floats(0, 200_000),
       cash=st.floats(0, 5e6), margin=st.floats(-0.5, 1.0))
def test_go_implies_profit_before_cash_runs_out(new, churn, cac, team, cash, margin):
    b = dataclasses.replace(DIGIT_READING, new_customers_per_month=new, monthly_churn=churn, cac_usd=cac,
                            team_and_overhead_usd_per_month=team, cash_usd=cash)
    plan = project_plan(b, gross_margin=margin)
    decision = go_no_go(plan, **{**GOOD_RATIOS, "gross_margin": margin, "min_gross_margin": -1.0})
    if decision.decision == "GO":
        month = plan.profitable_from_month
        assert month is not None
        assert (plan.gross_profit[month:] >= plan.spend[month:]).all()
        assert (plan.cash[: month + 6 + 1] >= 0).all()


# --------------------------------------------------------------------------- digits -> fields
def test_field_outcomes_by_hand():
    # 3 fields of 2 digits: (right, sure), (one digit wrong, sure), (right, unsure)
    probs = np.array([[0.99, 0.01], [0.01, 0.99],
                      [0.97, 0.03], [0.96, 0.04],
                      [0.7, 0.3], [0.99, 0.01]])
    labels = np.array([0, 1, 0, 1, 0, 0])
    out = field_outcomes(probs, labels, digits_per_field=2, confidence_threshold=0.9, reviewer_error_rate=0.02)
    assert out.n_fields == 3
    assert out.digit_accuracy == pytest.approx(5 / 6)
    assert out.field_accuracy == pytest.approx(2 / 3)
    assert out.review_share == pytest.approx(1 / 3)
    assert out.accepted_error_share == pytest.approx(1 / 3)
    assert out.delivered_accuracy == pytest.approx((1 + 0 + 0.98) / 3)


def test_reviewer_errors_make_the_delivered_accuracy_check_bite():
    """With perfect reviewers, reviewing everything gives 100 %; with real ones it cannot."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=600)
    labels = rng.integers(0, 10, size=600)
    everything_reviewed = field_outcomes(probs, labels, 3, confidence_threshold=1.0, reviewer_error_rate=0.0)
    assert everything_reviewed.review_share == 1.0 and everything_reviewed.delivered_accuracy == 1.0
    real_reviewers = field_outcomes(probs, labels, 3, confidence_threshold=1.0, reviewer_error_rate=0.04)
    assert real_reviewers.delivered_accuracy == pytest.approx(0.96)


def test_field_accuracy_is_digit_accuracy_to_the_power_k_for_independent_errors():
    rng = np.random.default_rng(1)
    n, k, p_right = 60_000, 6, 0.99
    labels = rng.integers(0, 10, size=n)
    right = rng.random(n) < p_right
    predicted = np.where(right, labels, (labels + 1) % 10)
    probs = np.full((n, 10), 0.0)
    probs[np.arange(n), predicted] = 1.0
    out = field_outcomes(probs, labels, k, confidence_threshold=0.5, reviewer_error_rate=0.0)
    assert out.field_accuracy == pytest.approx(out.digit_accuracy ** k, abs=0.01)
    with pytest.raises(ValueError, match="digits_per_field"):
        field_outcomes(probs, labels, 0, 0.5, 0.0)
    with pytest.raises(ValueError, match="no field"):
        field_outcomes(probs[:2], labels[:2], 3, 0.5, 0.0)


# --------------------------------------------------------------------------- numpy-financial as oracle
@settings(max_examples=200, deadline=None)
@given(flows=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=15), rate=st.floats(-0.5, 1.0))
def test_npv_matches_numpy_financial(flows, rate):
    # numpy-financial's npv, like ours, leaves the first flow undiscounted (year 0)
    assert business.npv(flows, rate) == pytest.approx(npf.npv(rate, flows), rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(principal=st.floats(0, 1e7), rate=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), months=st.integers(1, 360))
def test_loan_payment_matches_numpy_financial_pmt(principal, rate, months):
    expected = -npf.pmt(rate / 12, months, principal) if rate > 0 else principal / months
    assert business.loan_monthly_payment(principal, rate, months) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_loan_payment_is_finite_for_tiny_rates():
    """The plain annuity formula gives 0/0 for a rate of 1e-300; the payment is principal / months."""
    assert business.loan_monthly_payment(1200.0, 1e-300, 12) == pytest.approx(100.0)


@pytest.mark.parametrize("flows", [[-100, 60, 60], [-1e6, 2e5, 3e5, 4e5, 5e5], [-50, 0, 0, 80]])
def test_npv_is_zero_at_numpy_financial_irr(flows):
    irr = npf.irr(flows)
    assert business.npv(flows, irr) == pytest.approx(0.0, abs=1e-6 * abs(flows[0]))


@pytest.mark.parametrize("p95, limit, decision", [(120.0, 500.0, "GO"), (500.0, 500.0, "GO"), (500.1, 500.0, "NO-GO")])
def test_latency_check_turns_a_go_plan_into_no_go_only_above_the_target(p95, limit, decision):
    b = dataclasses.replace(DIGIT_READING, starting_customers=100, new_customers_per_month=6, cac_usd=3_000)
    plan = project_plan(b, gross_margin=0.95)
    verdict = go_no_go(plan, **GOOD_RATIOS, p95_latency_ms=p95, max_p95_latency_ms=limit)
    assert verdict.decision == decision
    assert any("latency" in name for name in verdict.checks)
    if decision == "NO-GO":
        assert len(verdict.failing) == 1 and "latency" in verdict.failing[0]


def test_latency_check_needs_both_numbers():
    plan = project_plan(DIGIT_READING, gross_margin=0.95)
    with pytest.raises(ValueError, match="both p95_latency_ms"):
        go_no_go(plan, **GOOD_RATIOS, p95_latency_ms=100.0)
    assert not any("latency" in name for name in go_no_go(plan, **GOOD_RATIOS).checks)
