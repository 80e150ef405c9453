"""The running example of Part III (a service that reads handwritten digit fields on paper forms),
its month-by-month plan and the capstone's go / no-go rule (chapters 11, 12 and 14).

The example's price, costs and customer numbers are defined once, in :data:`DIGIT_READING`, so
the market sizing (11), the Monte Carlo NPV (12) and the capstone plan (14) describe the same
business. They are the course authors' assumptions (bets), not sourced figures, except the
server price (AWS EC2 ``c5.large`` on demand, us-east-1).

>>> DIGIT_READING.revenue_per_customer_month_usd
600.0
>>> round(DIGIT_READING.steady_state_customers)   # new customers per month / churn
100
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_fraction, check_int, check_nonnegative, check_positive, check_range

__all__ = [
    "DigitReadingBusiness",
    "DIGIT_READING",
    "FieldOutcomes",
    "field_outcomes",
    "PlanProjection",
    "project_plan",
    "PlanDecision",
    "go_no_go",
]


@dataclass(frozen=True)
class DigitReadingBusiness:
    """Price, volume, costs and customer flow of the digit-field reading service (per month, USD).

    Taught in: solutions/14_capstone_plan.ipynb
    """

    price_usd_per_1k_fields: float = 4.00
    fields_per_customer_month: float = 150_000  # a mid-size logistics customer
    digits_per_field: int = 6  # e.g. a postcode or a short amount
    human_review_usd_per_field: float = 0.01
    reviewer_field_error_rate: float = 0.01  # share of reviewed fields a person still gets wrong (a bet)
    starting_customers: float = 3
    new_customers_per_month: float = 3
    monthly_churn: float = 0.03
    cac_usd: float = 6_000
    team_and_overhead_usd_per_month: float = 70_000
    cash_usd: float = 1_500_000
    server_usd_per_hour: float = 0.085  # AWS EC2 c5.large on demand, us-east-1

    def __post_init__(self):
        check_positive("price_usd_per_1k_fields", self.price_usd_per_1k_fields)
        check_positive("fields_per_customer_month", self.fields_per_customer_month)
        check_int("digits_per_field", self.digits_per_field, low=1)
        check_nonnegative("human_review_usd_per_field", self.human_review_usd_per_field)
        check_fraction("reviewer_field_error_rate", self.reviewer_field_error_rate)
        check_nonnegative("starting_customers", self.starting_customers)
        check_nonnegative("new_customers_per_month", self.new_customers_per_month)
        check_fraction("monthly_churn", self.monthly_churn, allow_zero=False)
        check_nonnegative("cac_usd", self.cac_usd)
        check_nonnegative("team_and_overhead_usd_per_month", self.team_and_overhead_usd_per_month)
        check_nonnegative("cash_usd", self.cash_usd)
        check_nonnegative("server_usd_per_hour", self.server_usd_per_hour)

    @property
    def revenue_per_customer_month_usd(self) -> float:
        """What one customer pays a month: price per 1,000 fields x fields / 1,000."""
        return self.price_usd_per_1k_fields * self.fields_per_customer_month / 1000.0

    @property
    def acquisition_usd_per_month(self) -> float:
        """Sales and marketing spend: new customers a month x CAC."""
        return self.new_customers_per_month * self.cac_usd

    @property
    def spend_usd_per_month(self) -> float:
        """Everything but the cost of revenue: team and overhead plus acquisition."""
        return self.team_and_overhead_usd_per_month + self.acquisition_usd_per_month

    @property
    def steady_state_customers(self) -> float:
        """The customer count the plan approaches: inflow = outflow, new / churn."""
        return self.new_customers_per_month / self.monthly_churn

    def customers_after(self, months: int) -> float:
        """Customers at the end of month ``months`` (churn, then new customers each month)."""
        return float(project_plan(self, gross_margin=1.0, horizon_months=max(int(months), 1)).customers[int(months)])

    def first_year_revenue_usd(self) -> float:
        """Revenue of months 1-12 of the plan."""
        return float(project_plan(self, gross_margin=1.0, horizon_months=12).revenue[1:13].sum())


#: The one definition of the running example used by chapters 11, 12 and 14.
DIGIT_READING = DigitReadingBusiness()


# --------------------------------------------------------------------------- digits -> fields
@dataclass(frozen=True)
class FieldOutcomes:
    """What happens to fields of ``digits_per_field`` digits read by a digit classifier.

    ``digit_accuracy``: share of single digits right; ``field_accuracy``: share of fields with
    every digit right (no review); ``review_share``: share of fields sent to a person;
    ``delivered_accuracy``: share of delivered fields that are right when unsure fields are
    reviewed by people who themselves get ``reviewer_error_rate`` of them wrong.
    """

    digits_per_field: int
    n_fields: int
    digit_accuracy: float
    field_accuracy: float
    review_share: float
    delivered_accuracy: float
    accepted_error_share: float


def field_outcomes(digit_probabilities, digit_labels, digits_per_field, confidence_threshold,
                   reviewer_error_rate) -> FieldOutcomes:
    """Group test digits into fields of ``digits_per_field`` consecutive digits and score them.

    A field is right only if all its digits are; its confidence is the product of its digits'
    top probabilities (the model's probability that the whole field is right). Fields below
    ``confidence_threshold`` go to a person, who is wrong on ``reviewer_error_rate`` of them.
    Digits left over after the last whole field are ignored.

    Taught in: notebooks/14_capstone_plan.ipynb

    >>> probs = np.array([[0.99, 0.01], [0.98, 0.02], [0.6, 0.4], [0.99, 0.01]])
    >>> out = field_outcomes(probs, [0, 0, 1, 0], 2, 0.9, 0.1)
    >>> out.field_accuracy, out.review_share, round(out.delivered_accuracy, 3)
    (0.5, 0.5, 0.95)
    """
    probs = np.asarray(digit_probabilities, dtype=float)
    labels = np.asarray(digit_labels)
    if probs.ndim != 2 or probs.shape[0] != labels.shape[0]:
        raise ValueError(f"digit_probabilities must be (n_digits, n_classes) with one row per label; "
                         f"got shape {probs.shape} for {labels.shape[0]} labels")
    check_int("digits_per_field", digits_per_field, low=1)
    n_fields = probs.shape[0] // digits_per_field
    if n_fields == 0:
        raise ValueError(f"{probs.shape[0]} digits make no field of {digits_per_field} digits; pass more digits")
    threshold = check_fraction("confidence_threshold", confidence_threshold)
    reviewer_error_rate = check_fraction("reviewer_error_rate", reviewer_error_rate)
    used = n_fields * digits_per_field
    digit_right = (probs[:used].argmax(axis=1) == labels[:used]).reshape(n_fields, digits_per_field)
    field_right = digit_right.all(axis=1)
    field_confidence = probs[:used].max(axis=1).reshape(n_fields, digits_per_field).prod(axis=1)
    reviewed = field_confidence < threshold
    delivered_right = np.where(reviewed, 1.0 - reviewer_error_rate, field_right.astype(float))
    return FieldOutcomes(
        digits_per_field=int(digits_per_field), n_fields=int(n_fields),
        digit_accuracy=float(digit_right.mean()), field_accuracy=float(field_right.mean()),
        review_share=float(reviewed.mean()), delivered_accuracy=float(delivered_right.mean()),
        accepted_error_share=float(np.mean(~reviewed & ~field_right)),
    )


# --------------------------------------------------------------------------- the monthly plan
@dataclass(frozen=True)
class PlanProjection:
    """Month-by-month plan: arrays indexed by month 0..horizon (month 0 = today, no flows).

    ``runway_months``: first month the cash is below zero (``inf`` if never within the horizon);
    ``profitable_from_month``: first month from which gross profit covers the spend in every
    later month of the horizon (``None`` if never); ``cash_trough_usd``: the lowest cash balance,
    so ``cash_usd - cash_trough_usd`` is what the plan consumes before it turns around.
    """

    months: np.ndarray
    customers: np.ndarray
    revenue: np.ndarray
    gross_profit: np.ndarray
    spend: np.ndarray
    cash: np.ndarray
    runway_months: float
    profitable_from_month: int | None
    steady_state_monthly_profit: float
    cash_trough_usd: float = field(default=0.0)


def project_plan(business: DigitReadingBusiness, gross_margin, horizon_months=48) -> PlanProjection:
    """Simulate customers, revenue, gross profit, spend and cash month by month.

    Each month a share ``monthly_churn`` of customers leaves and ``new_customers_per_month``
    arrive, each costing ``cac_usd``; the team costs ``team_and_overhead_usd_per_month``.
    Cash is allowed to go below zero so the chart shows how far the plan is from funded; the
    runway is the first month it does.

    Taught in: notebooks/14_capstone_plan.ipynb

    >>> plan = project_plan(DigitReadingBusiness(cac_usd=0, team_and_overhead_usd_per_month=0), 0.9, 12)
    >>> plan.profitable_from_month, plan.runway_months
    (1, inf)
    """
    if not isinstance(business, DigitReadingBusiness):
        raise ValueError(f"business must be a DigitReadingBusiness, got {type(business).__name__}")
    margin = check_range("gross_margin", gross_margin, -math.inf, 1.0)
    check_int("horizon_months", horizon_months, low=1, high=600)
    months = np.arange(horizon_months + 1)
    customers = np.empty(len(months))
    customers[0] = business.starting_customers
    for month in months[1:]:
        customers[month] = customers[month - 1] * (1 - business.monthly_churn) + business.new_customers_per_month
    revenue = customers * business.revenue_per_customer_month_usd
    gross_profit = revenue * margin
    spend = np.full(len(months), business.spend_usd_per_month)
    net = gross_profit - spend
    net[0] = 0.0
    cash = business.cash_usd + np.cumsum(net)
    below_zero = np.flatnonzero(cash < 0)
    runway = float(months[below_zero[0]]) if len(below_zero) else math.inf
    covers = gross_profit[1:] >= spend[1:]
    # first month from which every later month covers its spend (suffix of True values)
    profitable_from = None
    if covers[-1]:
        losing = np.flatnonzero(~covers)
        profitable_from = int(losing[-1] + 2) if len(losing) else 1
    steady = business.steady_state_customers * business.revenue_per_customer_month_usd * margin - business.spend_usd_per_month
    return PlanProjection(months=months, customers=customers, revenue=revenue, gross_profit=gross_profit,
                          spend=spend, cash=cash, runway_months=runway, profitable_from_month=profitable_from,
                          steady_state_monthly_profit=float(steady), cash_trough_usd=float(cash.min()))


# --------------------------------------------------------------------------- the decision rule
@dataclass(frozen=True)
class PlanDecision:
    """``decision`` is "GO" or "NO-GO"; ``checks`` maps each criterion to (value shown, passes)."""

    decision: str
    checks: dict
    failing: list


def go_no_go(plan: PlanProjection, *, delivered_accuracy, min_delivered_accuracy, gross_margin, min_gross_margin,
             ltv_to_cac, min_ltv_to_cac, cac_payback_months, max_cac_payback_months, min_runway_months,
             fundraise_months, high_risks, p95_latency_ms=None, max_p95_latency_ms=None) -> PlanDecision:
    """The capstone's rule: GO only if every check passes.

    With ``p95_latency_ms`` and ``max_p95_latency_ms`` (give both or neither) the measured 95th
    percentile latency of one request is a check too: a product that cannot answer in time has no
    customers, whatever its margin.

    The path-to-profit check is what keeps a never-profitable plan from GO: the plan must come to
    cover its monthly spend from gross profit (and keep doing so), and at its lowest the cash must
    still pay for ``fundraise_months`` more months of the loss it was making just before, so that
    if profitability slips the founders still have time to raise (a round takes months: chapter
    10). A plan that never covers its spend within the horizon fails it, however good its ratios
    look; so does one whose cash goes below zero on the way.

    Taught in: notebooks/14_capstone_plan.ipynb

    >>> plan = project_plan(DIGIT_READING, gross_margin=0.95)
    >>> go_no_go(plan, delivered_accuracy=0.99, min_delivered_accuracy=0.97, gross_margin=0.95,
    ...          min_gross_margin=0.6, ltv_to_cac=5, min_ltv_to_cac=3, cac_payback_months=6,
    ...          max_cac_payback_months=18, min_runway_months=18, fundraise_months=6, high_risks=0).decision
    'NO-GO'
    """
    min_runway_months = check_nonnegative("min_runway_months", min_runway_months)
    fundraise_months = check_nonnegative("fundraise_months", fundraise_months)
    runway = plan.runway_months
    runway_text = f"beyond {int(plan.months[-1])}" if math.isinf(runway) else f"{runway:.0f}"
    profit_month = plan.profitable_from_month
    if profit_month is None:
        profit_text = f"not within {int(plan.months[-1])} months (steady state {plan.steady_state_monthly_profit:+,.0f} USD/month)"
        profit_ok = False
    else:
        # the loss of the last month before profit: what each month of slippage would cost
        last_loss = max(0.0, float(plan.spend[profit_month - 1] - plan.gross_profit[profit_month - 1])) \
            if profit_month > 1 else 0.0
        reserve = fundraise_months * last_loss
        profit_text = (f"from month {profit_month}; lowest cash {plan.cash_trough_usd:,.0f} USD "
                       f"vs {reserve:,.0f} USD for {fundraise_months:g} months of the last loss")
        profit_ok = plan.cash_trough_usd >= reserve
    checks = {
        f"profitable at least {fundraise_months:g} months (a raise) before cash runs out": (profit_text, profit_ok),
        f"runway >= {min_runway_months:g} months": (runway_text, runway >= min_runway_months),
        f"accuracy of delivered fields >= {min_delivered_accuracy:.0%}": (f"{delivered_accuracy:.2%}", delivered_accuracy >= min_delivered_accuracy),
        f"gross margin >= {min_gross_margin:.0%}": (f"{gross_margin:.1%}", gross_margin >= min_gross_margin),
        f"LTV/CAC >= {min_ltv_to_cac:g}": (f"{ltv_to_cac:.1f}", ltv_to_cac >= min_ltv_to_cac),
        f"CAC payback <= {max_cac_payback_months:g} months": (f"{cac_payback_months:.1f}", cac_payback_months <= max_cac_payback_months),
        "no high risks in the register": (str(int(high_risks)), int(high_risks) == 0),
    }
    if (p95_latency_ms is None) != (max_p95_latency_ms is None):
        raise ValueError("give both p95_latency_ms (measured) and max_p95_latency_ms (the target), or neither")
    if p95_latency_ms is not None:
        p95 = check_nonnegative("p95_latency_ms", p95_latency_ms)
        limit = check_nonnegative("max_p95_latency_ms", max_p95_latency_ms)
        checks[f"p95 latency <= {limit:g} ms"] = (f"{p95:.1f} ms", p95 <= limit)
    failing = [name for name, (_, passes) in checks.items() if not passes]
    return PlanDecision(decision="GO" if not failing else "NO-GO", checks=checks, failing=failing)
