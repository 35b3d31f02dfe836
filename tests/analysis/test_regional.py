"""World Drug Report style regional and global estimates, from an analyst's side."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.analysis.kernels.regional import (
    CountryInput,
    EstimationParameters,
    NationalValue,
    PeriodPair,
    estimate_regional_prevalence,
)

# A small invented world: two regions, three subregions. Populations are people aged 15–64.
WORLD = [
    CountryInput("AAA", "North", "Alpha", 10_000_000, NationalValue(0.020, 0.015, 0.025, year=2022)),
    CountryInput("BBB", "North", "Alpha", 30_000_000, NationalValue(0.010, 0.008, 0.012, year=2021)),
    CountryInput("CCC", "North", "Alpha", 5_000_000, NationalValue(0.030)),  # best only
    CountryInput("DDD", "North", "Alpha", 15_000_000),  # no data
    CountryInput(
        "EEE", "South", "Alpha", 20_000_000, NationalValue(0.050, 0.040, 0.060, reference_period="lifetime")
    ),
    CountryInput("FFF", "South", "Alpha", 8_000_000),
    CountryInput(
        "GGG", "East", "Beta", 40_000_000, NationalValue(0.004, 0.003, 0.005, reference_period="past_month")
    ),
    CountryInput("HHH", "East", "Beta", 60_000_000),
]

PAIRS = [
    PeriodPair("AAA", past_year=0.020, lifetime=0.100),  # ratio 0.2
    PeriodPair("BBB", past_year=0.010, lifetime=0.0125),  # ratio 0.8
    PeriodPair("XXX", past_year=0.030, lifetime=0.100, past_month=0.015),  # 0.3 and 2.0
    PeriodPair("YYY", past_year=0.012, past_month=0.004),  # 3.0
    PeriodPair("ZZZ", past_year=0.010, past_month=0.001),  # 10.0
]


def estimate(countries=WORLD, pairs=PAIRS, **parameters):
    return estimate_regional_prevalence(countries, pairs, EstimationParameters(**parameters))


def test_given_a_past_year_15_64_value_then_reported_unchanged_and_users_are_prevalence_times_population():
    result = estimate()
    row = result.country("AAA")

    assert row.status == "reported" and row.method == "as_reported"
    assert (row.prevalence_low, row.prevalence_best, row.prevalence_high) == (0.015, 0.020, 0.025)
    assert row.users_best == pytest.approx(200_000)
    assert row.users_low == pytest.approx(150_000)
    assert row.users_high == pytest.approx(250_000)
    assert row.year == 2022


def test_given_lifetime_value_then_converted_by_median_past_year_to_lifetime_ratio_and_recorded():
    result = estimate()
    row = result.country("EEE")

    assert result.period_ratios.past_year_to_lifetime == pytest.approx(0.3)  # median of 0.2, 0.8, 0.3
    assert result.period_ratios.lifetime_countries == ("AAA", "BBB", "XXX")
    assert row.status == "adjusted"
    assert row.prevalence_best == pytest.approx(0.015)
    assert (row.prevalence_low, row.prevalence_high) == (pytest.approx(0.012), pytest.approx(0.018))
    step = next(s for s in row.adjustments if s.step == "period")
    assert step.factor == pytest.approx(0.3) and step.method == "lifetime_to_past_year_median_ratio"
    assert step in result.adjustment_trail


def test_given_past_month_value_then_converted_by_ratio_and_mean_is_configurable():
    median = estimate().country("GGG")
    by_mean = estimate(period_ratio_statistic="mean")

    assert median.prevalence_best == pytest.approx(0.004 * 3.0)  # median of 2, 3 and 10
    assert by_mean.country("GGG").prevalence_best == pytest.approx(0.004 * 5.0)  # their mean
    assert by_mean.period_ratios.past_year_to_lifetime == pytest.approx((0.2 + 0.8 + 0.3) / 3)
    assert by_mean.country("GGG").method == "past_month_to_past_year_mean_ratio"


def test_given_lifetime_value_but_no_country_with_both_periods_then_imputed_with_reason():
    result = estimate(pairs=[])
    row = result.country("EEE")

    assert row.status == "imputed"
    assert any(s.method == "unusable" for s in row.adjustments)


def test_given_best_only_then_low_and_high_use_best_and_the_rule_is_recorded():
    row = estimate().country("CCC")

    assert row.prevalence_low == row.prevalence_best == row.prevalence_high == 0.030
    assert any(s.step == "bounds" and s.method == "best_used_for_low_and_high" for s in row.adjustments)


def test_given_survey_of_18_to_64_then_population_share_adjustment():
    value = NationalValue(
        0.02, 0.01, 0.03, age_lower=18, age_upper=64, population_surveyed_ages_within_15_64=9e6
    )
    countries = [dataclasses.replace(WORLD[0], national=value), *WORLD[1:]]
    row = estimate(countries).country("AAA")

    assert row.status == "adjusted"
    assert row.prevalence_best == pytest.approx(0.02 * 0.9)
    assert row.users_best == pytest.approx(0.02 * 9e6)
    assert any(s.step == "age" and s.factor == pytest.approx(0.9) for s in row.adjustments)


def test_given_survey_wider_than_15_64_then_used_as_is_with_a_note():
    value = NationalValue(0.02, age_lower=12, age_upper=70)
    countries = [dataclasses.replace(WORLD[0], national=value), *WORLD[1:]]
    row = estimate(countries).country("AAA")

    assert row.prevalence_best == 0.02 and row.status == "reported"
    assert any(s.step == "age" and "cover 15–64" in s.detail for s in row.adjustments)


def test_given_country_without_data_then_imputed_from_subregion_weighted_mean_and_percentiles():
    result = estimate()
    row = result.country("DDD")
    # North donors: AAA (10M, .020, .015–.025), BBB (30M, .010, .008–.012), CCC (5M, .030 best only)
    expected_best = (0.020 * 10 + 0.010 * 30 + 0.030 * 5) / 45

    assert row.status == "imputed" and row.method == "imputed_from_subregion"
    assert row.prevalence_best == pytest.approx(expected_best)
    assert row.prevalence_low == pytest.approx(np.percentile([0.015, 0.008, 0.030], 10))
    assert row.prevalence_high == pytest.approx(np.percentile([0.025, 0.012, 0.030], 90))
    assert row.users_best == pytest.approx(expected_best * 15_000_000)


def test_given_subregion_without_any_data_then_falls_back_to_region():
    countries = [c for c in WORLD if c.iso3 != "EEE"]
    row = estimate(countries).country("FFF")

    assert row.method == "imputed_from_region"
    assert "Alpha" in row.adjustments[-1].detail


def test_when_a_country_data_is_removed_then_it_moves_to_imputed_and_the_figure_changes():
    before = estimate()
    without_bbb = [dataclasses.replace(c, national=None) if c.iso3 == "BBB" else c for c in WORLD]
    after = estimate(without_bbb)

    assert before.country("BBB").status == "reported"
    assert after.country("BBB").status == "imputed"
    assert after.country("BBB").users_best != pytest.approx(before.country("BBB").users_best)
    assert after.subregion("North").users_best != pytest.approx(before.subregion("North").users_best)
    assert "BBB" in after.subregion("North").countries_imputed
    assert after.subregion("North").coverage < before.subregion("North").coverage


def test_coverage_per_level_and_range_only_below_threshold():
    result = estimate(minimum_coverage=0.5)
    north = result.subregion("North")
    east = result.subregion("East")

    assert north.coverage == pytest.approx(45 / 60)
    assert east.coverage == pytest.approx(40 / 100)
    assert east.range_only and east.users_best is None and east.prevalence_best is None
    assert east.users_low <= east.users_best_computed <= east.users_high
    assert not north.range_only and north.users_best == pytest.approx(north.users_best_computed)
    assert result.region("Beta").range_only
    assert result.world.coverage == pytest.approx((10 + 30 + 5 + 20 + 40) / 188)


def test_subregions_sum_to_regions_and_regions_to_world_with_bounds_summed():
    result = estimate()
    for region in result.regions:
        parts = [s for s in result.subregions if s.parent == region.name]
        for attribute in ("users_low", "users_best_computed", "users_high", "population_15_64"):
            assert getattr(region, attribute) == pytest.approx(sum(getattr(s, attribute) for s in parts))
    for attribute in ("users_low", "users_best_computed", "users_high", "population_15_64"):
        assert getattr(result.world, attribute) == pytest.approx(
            sum(getattr(r, attribute) for r in result.regions)
        )
    # Bounds are plain sums of the countries' bounds, not root-sum-of-squares.
    assert result.world.users_low == pytest.approx(sum(c.users_low for c in result.countries))


def test_every_output_states_its_methods_and_thresholds():
    result = estimate(minimum_coverage=0.6, age_adjustment_method="none")
    stated = result.parameters.describe()

    assert stated["minimum_coverage"] == 0.6
    assert stated["age_adjustment_method"] == "none"
    assert stated["imputation_best_method"] == "population_weighted_mean"
    assert stated["imputation_low_percentile"] == 10 and stated["imputation_high_percentile"] == 90
    assert stated["bounds_aggregation"] == "sum_of_bounds_not_quadrature"
    assert result.period_ratios.statistic == "median"


@pytest.mark.parametrize(
    ("countries", "message"),
    [
        ([CountryInput("AAA", "N", "A", 1e6, NationalValue(2.5))], "not a percentage"),
        (
            [CountryInput("AAA", "N", "A", 1e6, NationalValue(0.02)), CountryInput("AAA", "N", "A", 1e6)],
            "twice",
        ),
        (
            [CountryInput("AAA", "N", "A", 1e6, NationalValue(0.02)), CountryInput("BBB", "N", "B", 1e6)],
            "two regions",
        ),
        ([CountryInput("AAA", "N", "A", 0, NationalValue(0.02))], "positive"),
        ([CountryInput("AAA", "N", "A", 1e6, NationalValue(0.02, 0.03, 0.04))], "low ≤ best ≤ high"),
        ([CountryInput("AAA", "N", "A", 1e6)], "no country has usable data"),
        (
            [CountryInput("AAA", "N", "A", 1e6, NationalValue(0.02, reference_period="weekly"))],
            "reference_period",
        ),
    ],
)
def test_given_impossible_input_then_clear_error(countries, message):
    with pytest.raises(ValueError, match=message):
        estimate_regional_prevalence(countries)


def test_given_unknown_method_parameter_then_error():
    with pytest.raises(ValueError, match="age_adjustment_method"):
        EstimationParameters(age_adjustment_method="guess")


@st.composite
def worlds(draw):
    size = draw(st.integers(2, 12))
    countries = []
    for index in range(size):
        region = draw(st.sampled_from(["R1", "R2"]))
        subregion = f"{region}-{draw(st.integers(1, 2))}"
        value = None
        if index == 0 or draw(st.booleans()):
            low, best, high = sorted(draw(st.lists(st.floats(0, 0.2), min_size=3, max_size=3)))
            period = draw(st.sampled_from(["past_year", "lifetime", "past_month"]))
            value = NationalValue(best, low, high, reference_period=period)
        population = draw(st.floats(1e4, 1e8))
        countries.append(CountryInput(f"C{index:02d}", subregion, region, population, value))
    return countries


@settings(max_examples=40, deadline=None)
@given(worlds(), st.floats(0, 1))
def test_property_bounds_ordered_and_sums_consistent(countries, threshold):
    pairs = [PeriodPair("P1", 0.02, lifetime=0.08, past_month=0.01)]
    result = estimate_regional_prevalence(countries, pairs, EstimationParameters(minimum_coverage=threshold))

    for row in result.countries:
        assert row.prevalence_low <= row.prevalence_best + 1e-15 <= row.prevalence_high + 2e-15
    for aggregate in (*result.subregions, *result.regions, result.world):
        assert aggregate.users_low <= aggregate.users_best_computed * (1 + 1e-12) + 1e-9
        assert aggregate.users_best_computed <= aggregate.users_high * (1 + 1e-12) + 1e-9
        assert 0 <= aggregate.coverage <= 1
        assert (aggregate.users_best is None) == (aggregate.coverage < threshold)
    for region in result.regions:
        parts = [s for s in result.subregions if s.parent == region.name]
        assert region.users_high == pytest.approx(sum(s.users_high for s in parts))
        assert region.users_low == pytest.approx(sum(s.users_low for s in parts))
    assert result.world.users_best_computed == pytest.approx(
        sum(r.users_best_computed for r in result.regions)
    )
