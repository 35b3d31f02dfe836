"""Seizure trends also count individual cases; the mortality multiplier is on the analyst page too."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from observatory.analysis import queries, services
from observatory.seizures.services import import_seizure_file
from tests.factories import make_user
from tests.seizures.test_import_service import row, write

pytestmark = pytest.mark.usefixtures("reference")


def test_given_imported_cases_when_trends_are_refreshed_then_cases_and_kg_appear_by_group_region_year(
    tmp_path: Path, client: Client
) -> None:
    """Two cocaine cases of Colombia in 2023 (250 kg and 1.5 kg) and one cannabis-plant case (no kg):
    after the refresh, the cases basis shows 2 cocaine cases with 251.5 kg in the Americas, 1 cannabis
    case with 0 kg; a refresh again changes nothing; another region's analyst sees none of it."""
    path = write(
        tmp_path,
        "cases.csv",
        row(),
        row(CASE_REFERENCE="COL-2", AMOUNT_OF_DRUG="1500", DRUG_UNIT="grams"),
        row(CASE_REFERENCE="COL-3", DRUG_NAME="Cannabis plants", AMOUNT_OF_DRUG="40", DRUG_UNIT="plants"),
    )
    import_seizure_file(None, path, country_iso3="COL", system=True)

    assert services.rebuild_case_trends() == 2
    assert services.rebuild_case_trends() == 2

    analyst = make_user("analyst")
    points = {(p.drug_group, p.region, p.year): p for p in queries.seizure_trends(analyst, basis="cases")}
    cocaine = points[("cocaine", "Americas", 2023)]
    assert (cocaine.cases, cocaine.kilograms) == (2, pytest.approx(251.5))
    cannabis = points[("cannabis", "Americas", 2023)]
    assert (cannabis.cases, cannabis.kilograms) == (1, 0.0)
    assert queries.seizure_trends(make_user("analyst", region="Europe"), basis="cases") == []

    client.force_login(analyst)
    page = client.get("/analysis/trends/?basis=cases").content.decode()
    assert '<option value="cases" selected>individual seizure cases</option>' in page
    api = client.get("/api/v1/analysis/seizure-trends?basis=cases&group=cocaine").json()
    assert [(p["region"], p["year"], p["cases"]) for p in api] == [("Americas", 2023, 2)]


def test_given_deaths_and_a_mortality_rate_when_a_focal_point_uses_the_page_then_the_estimate_shows(
    client: Client,
) -> None:
    """120 deaths at an annual mortality rate of 1.5% (1.0–2.0%) give 8,000 people (6,000–12,000)."""
    client.force_login(make_user("focal_point", country="COL"))
    page = client.post(
        "/analysis/hidden-population/",
        {
            "calculator": "mortality_multiplier",
            "mortality_multiplier-deaths": "120",
            "mortality_multiplier-mortality_rate": "0.015",
            "mortality_multiplier-rate_low": "0.01",
            "mortality_multiplier-rate_high": "0.02",
        },
    ).content.decode()
    assert "8,000" in page
    assert "6,000" in page
    assert "12,000" in page
