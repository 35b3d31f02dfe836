"""Two-source capture–recapture, seen from a national focal point estimating a hidden population."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from observatory.analysis.kernels.capture_recapture import (
    TWO_SOURCE_ASSUMPTIONS,
    chapman,
    lincoln_petersen,
    two_source_estimate,
)


def test_given_the_penn_state_concert_example_when_lincoln_petersen_then_published_figures():
    """Published worked example: Penn State STAT 506, lesson 12.1 (online.stat.psu.edu/stat506/lesson/12):
    500 marked, 200 sampled, 40 marked in the sample → τ̂ = 2500, Var = 115000, SD "339.16",
    95 % CI 2500 ± 664.67. (√115000 = 339.116…; the page's 339.16 is a rounding slip, while its 664.67
    half-width is 1.96 × 339.116, so we hold the SD to 0.05 and the half-width to 0.01.)"""
    result = lincoln_petersen(n1=500, n2=200, m=40)

    assert result.estimate == pytest.approx(2500.0, abs=1e-9)
    assert result.variance == pytest.approx(115000.0, abs=1e-6)
    assert result.standard_error == pytest.approx(339.16, abs=0.05)
    half_width = (result.wald_interval.upper - result.wald_interval.lower) / 2
    # The page uses z = 1.96 exactly; we use the exact quantile 1.959964.
    assert half_width * 1.96 / norm.ppf(0.975) == pytest.approx(664.67, abs=0.01)
    assert result.method == "lincoln_petersen"
    assert result.observed_distinct == 660


def test_given_same_lists_when_chapman_then_matches_seber_formula():
    """Chapman (1951): (n1+1)(n2+1)/(m+1) − 1; Seber's variance (n1+1)(n2+1)(n1−m)(n2−m)/((m+1)²(m+2))."""
    result = chapman(500, 200, 40)

    assert result.estimate == pytest.approx(501 * 201 / 41 - 1, rel=1e-12)
    assert result.variance == pytest.approx(501 * 201 * 460 * 160 / (41**2 * 42), rel=1e-12)
    assert result.estimate == pytest.approx(2455.12, abs=0.005)


def test_given_estimate_when_log_normal_interval_then_chao_formula_and_never_below_observed():
    result = chapman(500, 200, 40, confidence=0.95)
    observed = 660
    unobserved = result.estimate - observed
    spread = math.exp(norm.ppf(0.975) * math.sqrt(math.log(1 + result.variance / unobserved**2)))

    assert result.log_normal_interval.lower == pytest.approx(observed + unobserved / spread, rel=1e-12)
    assert result.log_normal_interval.upper == pytest.approx(observed + unobserved * spread, rel=1e-12)
    assert result.interval == result.log_normal_interval
    assert result.interval.method == "log_normal_chao"
    assert result.interval.lower > observed


def test_given_small_lists_when_wald_goes_below_observed_then_log_normal_does_not():
    result = chapman(10, 10, 0)

    assert result.estimate == pytest.approx(120.0)
    assert result.wald_interval.lower < result.observed_distinct
    assert result.log_normal_interval.lower >= result.observed_distinct


def test_given_everyone_on_list_two_also_on_list_one_then_nobody_is_unobserved():
    result = chapman(30, 12, 12)

    assert result.estimate == pytest.approx(30.0)
    assert result.variance == 0.0
    assert result.interval.lower == result.interval.upper == pytest.approx(30.0)


def test_every_result_states_its_assumptions_and_confidence():
    result = two_source_estimate(120, 80, 30, method="lincoln_petersen", confidence=0.9)

    assert result.assumptions == TWO_SOURCE_ASSUMPTIONS
    assert any("closed population" in a for a in result.assumptions)
    assert any("independence" in a for a in result.assumptions)
    assert any("catchability" in a for a in result.assumptions)
    assert any("matching" in a for a in result.assumptions)
    assert result.confidence == result.interval.confidence == 0.9


@pytest.mark.parametrize(
    ("n1", "n2", "m", "message"),
    [
        (10, 20, 11, "cannot exceed n1"),
        (20, 10, 11, "cannot exceed n2"),
        (-1, 10, 0, "must not be negative"),
        (10, 10, -2, "must not be negative"),
        (10.5, 10, 2, "whole number"),
        ("ten", 10, 2, "whole number"),
        (True, 10, 1, "boolean"),
    ],
)
def test_given_impossible_lists_then_clear_error(n1, n2, m, message):
    with pytest.raises(ValueError, match=message):
        chapman(n1, n2, m)


def test_given_no_match_when_lincoln_petersen_then_error_points_to_chapman():
    with pytest.raises(ValueError, match="use the Chapman estimator"):
        lincoln_petersen(50, 40, 0)


@pytest.mark.parametrize("confidence", [0, 1, 95, -0.5])
def test_given_bad_confidence_then_error(confidence):
    with pytest.raises(ValueError, match="confidence"):
        chapman(50, 40, 10, confidence=confidence)


def test_given_unknown_method_then_error():
    with pytest.raises(ValueError, match="unknown two-source method"):
        two_source_estimate(50, 40, 10, method="petersen")


@st.composite
def two_lists(draw: st.DrawFn, minimum_match: int = 0) -> tuple[int, int, int]:
    n1 = draw(st.integers(minimum_match, 5000))
    n2 = draw(st.integers(minimum_match, 5000))
    m = draw(st.integers(minimum_match, min(n1, n2)))
    return n1, n2, m


@settings(max_examples=60, deadline=None)
@given(two_lists(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_property_chapman_never_below_observed_and_intervals_contain_estimate(lists, confidence):
    n1, n2, m = lists
    result = chapman(n1, n2, m, confidence=confidence)

    assert result.estimate >= result.observed_distinct - 1e-9
    assert result.log_normal_interval.lower >= result.observed_distinct - 1e-9
    assert result.log_normal_interval.contains(result.estimate)
    assert result.wald_interval.contains(result.estimate)


@settings(max_examples=60, deadline=None)
@given(two_lists(minimum_match=1))
def test_property_lincoln_petersen_never_below_observed_and_intervals_contain_estimate(lists):
    result = lincoln_petersen(*lists)

    assert result.estimate >= result.observed_distinct - 1e-9
    assert result.log_normal_interval.lower >= result.observed_distinct - 1e-9
    assert result.log_normal_interval.contains(result.estimate)
    assert result.wald_interval.contains(result.estimate)
