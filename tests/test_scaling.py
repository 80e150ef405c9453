"""Tests of course_utils.scaling: the curated notable-models table and the growth-rate fit."""

import math

import numpy as np
import pandas as pd
import pytest

from course_utils import scaling


# --------------------------------------------------------------------------- the table
@pytest.fixture(scope="module")
def table():
    return scaling.load_notable_models()


def test_table_size_and_columns(table):
    assert 40 <= len(table) <= 80
    assert set(scaling.NOTABLE_MODELS_COLUMNS) <= set(table.columns)
    assert table["model"].is_unique


def test_table_values_are_sane(table):
    assert table["publication_date"].is_monotonic_increasing
    assert (table["training_flop"] > 0).all(), "every curated row has a training-compute figure"
    params = table["parameters"].dropna()
    assert (params > 0).all()
    assert table["parameters"].isna().sum() < len(table) / 4, "most rows should have a parameter count"
    assert table["source"].str.contains("Epoch AI").all()
    assert table["licence_note"].str.contains("CC BY 4.0").all()
    assert table["year"].between(1950, 2030).all()


def test_table_has_known_anchor_rows(table):
    gpt3 = table.set_index("model").loc["GPT-3 175B (davinci)"]
    assert gpt3["parameters"] == pytest.approx(175e9)
    assert gpt3["training_flop"] == pytest.approx(3.14e23, rel=0.01)
    # C ~ 6 N D with D = 300e9 tokens reproduces Epoch's figure within 1 %
    assert 6 * gpt3["parameters"] * 300e9 == pytest.approx(gpt3["training_flop"], rel=0.01)


def test_load_rejects_a_table_without_required_columns(tmp_path):
    path = tmp_path / "broken.csv"
    pd.DataFrame({"model": ["x"], "publication_date": ["2020-01-01"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="missing columns"):
        scaling.load_notable_models(path)


# --------------------------------------------------------------------------- decimal years
def test_decimal_year_midyear():
    value = scaling.decimal_year(["2020-07-02"])[0]
    assert 2020.49 < value < 2020.51


def test_decimal_year_rejects_garbage():
    with pytest.raises(ValueError, match="could not parse"):
        scaling.decimal_year(["not a date"])


# --------------------------------------------------------------------------- growth fit
def test_exact_exponential_is_recovered():
    years = np.arange(2010, 2020)
    values = 3.0 * 4.0 ** (years - 2010)
    fit = scaling.fit_log_growth(years, values)
    assert fit.factor_per_year == pytest.approx(4.0)
    assert fit.factor_ci[0] == pytest.approx(4.0) and fit.factor_ci[1] == pytest.approx(4.0)
    assert fit.doubling_time_years == pytest.approx(0.5)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.predict(2012) == pytest.approx(48.0)


def test_interval_covers_true_rate_most_of_the_time():
    rng = np.random.default_rng(0)
    years = np.linspace(2012, 2024, 40)
    covered = 0
    trials = 200
    for _ in range(trials):
        logs = 1.0 + np.log10(3.0) * (years - 2012) + rng.normal(0, 0.5, years.size)
        fit = scaling.fit_log_growth(years, 10**logs)
        low, high = fit.factor_ci
        covered += low <= 3.0 <= high
    assert 0.9 <= covered / trials <= 0.99  # nominal 95 %


def test_wider_confidence_gives_wider_interval():
    rng = np.random.default_rng(1)
    years = np.arange(2000, 2020)
    values = 10 ** (0.3 * (years - 2000) + rng.normal(0, 0.3, years.size))
    narrow = scaling.fit_log_growth(years, values, confidence=0.8)
    wide = scaling.fit_log_growth(years, values, confidence=0.99)
    assert wide.factor_ci[0] < narrow.factor_ci[0] < narrow.factor_per_year < narrow.factor_ci[1] < wide.factor_ci[1]


def test_matches_statsmodels_ols():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(2)
    years = rng.uniform(2010, 2024, 30)
    values = 10 ** (0.5 * years - 990 + rng.normal(0, 0.4, 30))
    fit = scaling.fit_log_growth(years, values)
    result = sm.OLS(np.log10(values), sm.add_constant(years)).fit()
    low, high = result.conf_int(alpha=0.05)[1]
    assert fit.slope_log10_per_year == pytest.approx(result.params[1])
    assert fit.factor_ci[0] == pytest.approx(10**low)
    assert fit.factor_ci[1] == pytest.approx(10**high)


def test_no_growth_gives_infinite_doubling_time():
    fit = scaling.fit_log_growth([2000, 2001, 2002, 2003], [5.0, 4.0, 5.0, 4.0])
    assert fit.factor_per_year <= 1.0
    assert math.isinf(fit.doubling_time_years)


def test_str_mentions_rate_and_interval():
    fit = scaling.fit_log_growth([2000, 2001, 2002, 2003], [1, 2.1, 3.9, 8.2])
    text = str(fit)
    assert "per year" in text and "CI" in text and "n=4" in text


@pytest.mark.parametrize(
    "years, values, kwargs, match",
    [
        ([2000, 2001], [1, 2], {}, "at least 3 points"),
        ([2000, 2001, 2002], [1, 2], {}, "same length"),
        ([2000, 2001, 2002], [1, 0, 2], {}, "must be > 0"),
        ([2000, 2001, 2002], [1, np.nan, 2], {}, "finite"),
        ([2000, 2000, 2000], [1, 2, 3], {}, "must not all be equal"),
        ([2000, 2001, 2002], [1, 2, 3], {"confidence": 95}, "confidence must be in"),
    ],
)
def test_bad_input_is_rejected_clearly(years, values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        scaling.fit_log_growth(years, values, **kwargs)


def test_median_gpu_price_is_the_median_of_the_matching_rows(tmp_path):
    from course_utils.scaling import median_gpu_price

    table = pd.DataFrame({
        "date": ["2025-01-05", "2025-02-01", "2025-03-01", "2024-06-01", "2025-01-01"],
        "hardware": ["G"] * 4 + ["other"],
        "price_type": ["on_demand", "on_demand", "on_demand", "on_demand", "on_demand"],
        "usd": [3.0, 9.0, 4.0, 100.0, 100.0],
    })
    path = tmp_path / "prices.csv"
    table.to_csv(path, index=False)
    quote = median_gpu_price("G", "on_demand", 2025, path=path)
    assert (quote.median, quote.n_quotes, quote.low, quote.high) == (4.0, 3, 3.0, 9.0)
    with pytest.raises(ValueError, match="no 'commit_3yr' quotes"):
        median_gpu_price("G", "commit_3yr", 2025, path=path)


def test_shipped_h100_median_matches_pandas():
    from course_utils.paths import data_file
    from course_utils.scaling import median_gpu_price

    prices = pd.read_csv(data_file("gpu_prices.csv"), parse_dates=["date"])
    rows = prices[(prices["hardware"] == "NVIDIA H100 SXM5 80GB") & (prices["price_type"] == "on_demand")
                  & (prices["date"].dt.year == 2025)]
    quote = median_gpu_price()
    assert quote.median == pytest.approx(rows["usd"].median()) and quote.n_quotes == len(rows) > 3
