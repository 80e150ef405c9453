"""Calculators for the business worksheets (Part III). Pure Python, NumPy and pandas; no TensorFlow.

Every function validates its inputs and raises ``ValueError`` naming the argument, the value
and the allowed range. Most accept NumPy arrays or pandas Series for sensitivity tables and
Monte Carlo runs.
"""

# market sizing, scenario scoring, adoption (chapter 11); risk, NPV, bubble, deflation (12); carbon (13);
# the running example, its monthly plan and the capstone's go / no-go rule (11, 12, 14)
from .carbon import emissions_kg, energy_kwh, inference_energy_kwh, pareto_front, relative_difference  # noqa: E402
from .market import (  # noqa: E402
    BassFit,
    MarketSize,
    bass_adoptions,
    bass_cumulative,
    bass_peak_time,
    channel_economics,
    check_market_order,
    fit_bass,
    tam_sam_som_bottom_up,
    tam_sam_som_top_down,
    weighted_scores,
)
from .plan import (  # noqa: E402
    DIGIT_READING,
    DigitReadingBusiness,
    FieldOutcomes,
    PlanDecision,
    PlanProjection,
    field_outcomes,
    go_no_go,
    project_plan,
)
from .risk import (  # noqa: E402
    RISK_CATEGORIES,
    PriceDeflationFit,
    fit_price_deflation,
    npv,
    probability_of_loss,
    required_ai_revenue,
    risk_level,
    risk_score,
    risks_without_owner,
    score_risk_register,
    simulate_npv,
)

from .compute import (  # noqa: F401
    compute_flops,
    gpu_hours,
    ownership_cost_per_gpu_hour,
    rent_vs_buy_breakeven_utilization,
    training_cost_usd,
)
from .funding import (  # noqa: F401
    PricedRound,
    RunwaySimulation,
    Safe,
    apply_round,
    cancel_unissued_options,
    cap_table_over_rounds,
    exit_waterfall,
    loan_monthly_payment,
    post_money_ownership,
    runway_months,
    safe_conversion_ownership,
    simulate_runway,
)
from .unit_economics import (  # noqa: F401
    break_even_units,
    cac_payback_months,
    cost_per_million_tokens,
    cost_per_request,
    cost_profit_margin,
    gross_margin,
    inference_cost_per_request,
    ltv,
    plot_tornado,
    pricing_model_comparison,
    prompt_answer_cost_per_request,
    serving_cost_usd,
    token_revenue_usd,
    tornado_table,
)
