"""Benchmark (treatment) and mortality multipliers, from a focal point's side."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from observatory.analysis.kernels.multiplier import (
    BENCHMARK_ASSUMPTIONS,
    MORTALITY_ASSUMPTIONS,
    benchmark_multiplier,
    mortality_multiplier,
    wilson_interval,
)


def test_given_treatment_count_and_survey_share_when_multiplied_then_benchmark_over_share():
    """1,200 people in treatment; 24 % (18–30 %) of surveyed users were treated → 5,000 (4,000–6,667)."""
    result = benchmark_multiplier(1200, 0.24, proportion_low=0.18, proportion_high=0.30)

    assert result.estimate == pytest.approx(5000.0)
    assert result.lower == pytest.approx(4000.0)
    assert result.upper == pytest.approx(1200 / 0.18)
    assert result.interval_method == "supplied proportion bounds"
    assert result.assumptions == BENCHMARK_ASSUMPTIONS


def test_given_survey_sample_size_when_multiplied_then_wilson_bounds_match_statsmodels():
    result = benchmark_multiplier(1200, 0.24, sample_size=250, confidence=0.95)
    p_low, p_high = proportion_confint(60, 250, alpha=0.05, method="wilson")

    assert result.lower == pytest.approx(1200 / p_high, rel=1e-9)
    assert result.upper == pytest.approx(1200 / p_low, rel=1e-9)
    assert result.confidence == 0.95
    assert "wilson" in result.interval_method


def test_given_no_uncertainty_then_point_estimate_only():
    result = benchmark_multiplier(300, 0.5)

    assert result.estimate == pytest.approx(600.0)
    assert result.lower is None and result.upper is None
    assert result.interval_method == "none"


def test_given_deaths_and_mortality_rate_when_multiplied_then_deaths_over_rate():
    """50 drug-related deaths, 1 % annual mortality (0.5–2 %) → 5,000 (2,500–10,000)."""
    result = mortality_multiplier(50, 0.01, rate_low=0.005, rate_high=0.02)

    assert result.estimate == pytest.approx(5000.0)
    assert (result.lower, result.upper) == (pytest.approx(2500.0), pytest.approx(10000.0))
    assert result.method == "mortality_multiplier"
    assert result.assumptions == MORTALITY_ASSUMPTIONS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"benchmark": 100, "proportion": 25}, "not a percentage"),
        ({"benchmark": 100, "proportion": 0}, "greater than 0"),
        ({"benchmark": -1, "proportion": 0.2}, "at least 0"),
        ({"benchmark": 100, "proportion": 0.2, "proportion_low": 0.1}, "give both"),
        ({"benchmark": 100, "proportion": 0.2, "proportion_low": 0.3, "proportion_high": 0.4}, "≤"),
        (
            {
                "benchmark": 100,
                "proportion": 0.2,
                "proportion_low": 0.1,
                "proportion_high": 0.3,
                "sample_size": 9,
            },
            "not both",
        ),
        ({"benchmark": 100, "proportion": 0.2, "sample_size": 0}, "sample_size"),
    ],
)
def test_given_impossible_benchmark_input_then_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        benchmark_multiplier(**kwargs)


def test_wilson_interval_matches_statsmodels_at_the_edges():
    for successes, n in [(0, 40), (40, 40), (3, 17)]:
        ours = wilson_interval(successes / n, n, 0.9)
        reference = proportion_confint(successes, n, alpha=0.1, method="wilson")
        assert ours == pytest.approx(reference, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0, 1e6),
    st.floats(0.001, 1.0),
    st.integers(1, 5000),
)
def test_property_bounds_ordered_low_best_high(benchmark, proportion, sample_size):
    result = benchmark_multiplier(benchmark, proportion, sample_size=sample_size)

    assert result.lower is not None and result.upper is not None
    assert result.lower <= result.estimate * (1 + 1e-12) + 1e-9
    assert result.estimate <= result.upper * (1 + 1e-12) + 1e-9
