"""Calculators for the business worksheets (Part III). Pure Python, NumPy and pandas; no TensorFlow.

Every function validates its inputs and raises ``ValueError`` naming the argument, the value
and the allowed range. Most accept NumPy arrays or pandas Series for sensitivity tables and
Monte Carlo runs.
"""

# market sizing, scenario scoring, adoption (chapter 11); risk, NPV, bubble, deflation (12); carbon (13)
from .carbon import emissions_kg, energy_kwh, inference_energy_kwh, pareto_front, relative_difference  # noqa: E402
from .market import (  # noqa: E402
    BassFit,
    MarketSize,
    bass_adoptions,
    bass_cumulative,
    bass_peak_time,
    check_market_order,
    fit_bass,
    tam_sam_som_bottom_up,
    tam_sam_som_top_down,
    weighted_scores,
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
    score_risk_register,
    simulate_npv,
)
