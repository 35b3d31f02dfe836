"""Regional/global estimation on the real annex 1.2 data, through the service, stored as runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from observatory.analysis import services
from observatory.analysis.models import EstimateRun
from observatory.analysis.national import NationalPrevalenceRow, annex_national_rows
from observatory.reporting.services import import_annex_prevalence
from tests.conftest import ensure_reference_data
from tests.factories import make_user

ANNEX_1_2 = Path(
    "/work/shared/unodc/wdr2025_annex/1.2_Prevalence_of_drug_use_in_the_general_population_national_data.xlsx"
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def national(django_db_blocker: Any) -> list[NationalPrevalenceRow]:
    with django_db_blocker.unblock():
        ensure_reference_data()  # a transactional test on this worker may have flushed it
        rows, unknown = annex_national_rows(ANNEX_1_2)
    # sub-national UK series are not countries of the reference list
    assert all("Kingdom" in name or "Ireland" in name for name in unknown)
    return rows


def test_given_real_1_2_data_when_estimating_cannabis_2023_then_every_region_states_its_coverage(
    reference: None, national: list[NationalPrevalenceRow]
) -> None:
    run = services.run_regional_estimate(make_user("analyst"), "cannabis", 2023, national=national)

    output = EstimateRun.objects.get(pk=run.pk).output
    assert {region["name"] for region in output["regions"]} == {
        "Africa",
        "Americas",
        "Asia",
        "Europe",
        "Oceania",
    }
    for aggregate in [*output["regions"], *output["subregions"], output["world"]]:
        members = len(aggregate["countries_with_data"]) + len(aggregate["countries_imputed"])
        assert 0.0 <= aggregate["coverage"] <= 1.0
        assert aggregate["range_only"] is (aggregate["coverage"] < 0.5)
        assert (aggregate["users_best"] is None) is aggregate["range_only"]
        assert aggregate["users_low"] <= aggregate["users_best_computed"] <= aggregate["users_high"]
        if aggregate["level"] == "subregion":
            assert members == len(aggregate["members"])
    # regions sum to the world, bounds summed (not in quadrature)
    assert output["world"]["users_low"] == pytest.approx(sum(r["users_low"] for r in output["regions"]))
    assert output["world"]["users_high"] == pytest.approx(sum(r["users_high"] for r in output["regions"]))
    assert output["methods"]["minimum_coverage"] == 0.5
    assert run.world_coverage == output["world"]["coverage"]


def test_given_a_reporting_country_when_it_is_removed_then_it_is_imputed_and_the_figure_changes(
    reference: None, national: list[NationalPrevalenceRow]
) -> None:
    analyst = make_user("analyst")
    before = services.run_regional_estimate(analyst, "cannabis", 2023, national=national).output
    usa = next(row for row in before["countries"] if row["iso3"] == "USA")
    assert usa["status"] == "reported"

    after = services.run_regional_estimate(
        analyst, "cannabis", 2023, national=national, exclude=["USA"]
    ).output

    usa_after = next(row for row in after["countries"] if row["iso3"] == "USA")
    assert usa_after["status"] == "imputed"
    north_america = next(row for row in after["subregions"] if row["name"] == "North America")
    assert "USA" in north_america["countries_imputed"]
    donors = [
        row
        for row in after["countries"]
        if row["subregion"] == "North America" and row["status"] != "imputed"
    ]
    expected = sum(r["prevalence_best"] * r["population_15_64"] for r in donors) / sum(
        r["population_15_64"] for r in donors
    )
    assert usa_after["prevalence_best"] == pytest.approx(expected, rel=1e-12)
    assert usa_after["prevalence_low"] == pytest.approx(
        min(np.percentile([r["prevalence_low"] for r in donors], 10), expected), rel=1e-12
    )
    americas_before = next(r for r in before["regions"] if r["name"] == "Americas")
    americas_after = next(r for r in after["regions"] if r["name"] == "Americas")
    assert americas_after["users_best_computed"] != americas_before["users_best_computed"]
    assert americas_after["users_best_computed"] == pytest.approx(
        sum(row["users_best"] for row in after["countries"] if row["region"] == "Americas")
    )
    assert americas_after["coverage"] < americas_before["coverage"]
    assert any(step["iso3"] == "USA" and step["step"] == "imputation" for step in after["adjustment_trail"])


def test_given_a_saved_country_estimate_when_estimating_then_it_replaces_imputation_as_reported_estimate(
    reference: None, national: list[NationalPrevalenceRow]
) -> None:
    analyst = make_user("analyst")
    before = services.run_regional_estimate(analyst, "cannabis", 2023, national=national).output
    imputed = next(row for row in before["countries"] if row["status"] == "imputed")
    people = round(imputed["population_15_64"] * 0.031)
    services.save_country_estimate(
        analyst,
        country_iso3=imputed["iso3"],
        drug_code="cannabis",
        population="past_year_users_15_64",
        year=2022,
        method="benchmark_multiplier",
        inputs={"benchmark": people * 0.1, "proportion": 0.1},
    )

    after = services.run_regional_estimate(analyst, "cannabis", 2023, national=national).output

    row = next(r for r in after["countries"] if r["iso3"] == imputed["iso3"])
    assert row["status"] == "reported_estimate"
    assert row["prevalence_best"] == pytest.approx(people / imputed["population_15_64"], rel=1e-9)
    subregion = next(r for r in after["subregions"] if r["name"] == imputed["subregion"])
    assert imputed["iso3"] in subregion["countries_with_data"]


def test_given_annex_1_2_imported_by_the_reporting_app_when_estimating_then_national_values_come_from_it(
    reference: None,
) -> None:
    """The estimate reads national prevalence through the reporting app's read interface: after the
    real annex 1.2 is imported there, Colombia's cannabis value (2.68% in 2019) is what the 2023
    estimate uses as reported."""
    import_annex_prevalence(None, ANNEX_1_2, system=True)

    run = services.run_regional_estimate(make_user("analyst"), "cannabis", 2023)

    colombia = next(row for row in run.output["countries"] if row["iso3"] == "COL")
    assert colombia["status"] == "reported"
    assert colombia["prevalence_best"] == pytest.approx(0.0268)
    assert len(run.output["world"]["countries_with_data"]) > 100


def test_given_a_regional_analyst_when_running_a_world_estimate_then_it_is_refused(
    reference: None, national: list[NationalPrevalenceRow]
) -> None:
    with pytest.raises(services.policy.PermissionDenied):
        services.run_regional_estimate(
            make_user("analyst", region="Americas"), "cannabis", 2023, national=national
        )
    assert EstimateRun.objects.count() == 0
