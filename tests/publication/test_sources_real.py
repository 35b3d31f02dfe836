"""The demonstration release from the real annex data, read through the owning apps' own import services."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from observatory.access import services as access
from observatory.analysis.models import SeizureStatistic
from observatory.publication import demo, queries
from observatory.publication.models import PublishedObservation, Release
from observatory.reporting.services import load_instruments
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_release(reference) -> Release:
    reviewer = access.create_user(None, "reviewer", PASSWORD, system=True)
    access.assign_role(None, reviewer, "reviewer", system=True)
    load_instruments()
    from observatory.reporting import demo as reporting_demo

    reporting_demo.load_demo()  # imports annex 1.2 through the reporting app
    demo.load_demo()
    demo.load_demo()  # idempotent
    return Release.objects.get(label=demo.DEMO_LABEL)


def test_demo_release_holds_every_dataset_from_real_data(demo_release, tmp_path: Path):
    assert Release.objects.count() == 1
    assert queries.current_release() == demo_release
    assert demo_release.datasets == ["prevalence", "seizures", "estimates", "cultivation"]
    counts = {
        name: PublishedObservation.objects.filter(release=demo_release, dataset=name).count()
        for name in demo_release.datasets
    }
    assert counts["prevalence"] > 2000
    assert counts["cultivation"] > 50
    # Seizures: every (country, drug as reported, year) statistic is published as reported
    assert (
        PublishedObservation.objects.filter(
            release=demo_release, indicator__in=("seizures_reported", "seizures_count")
        ).count()
        == SeizureStatistic.objects.count()
    )
    # Aggregates never add a reported total to its components
    col = SeizureStatistic.objects.filter(country__iso3="COL", drug_group__code="cocaine", year=2023)
    components = sum(s.kilograms or 0 for s in col if not s.is_reported_total and s.kilograms is not None)
    published = PublishedObservation.objects.get(
        release=demo_release, indicator="seizures_kg", area_code="COL", drug="cocaine", year=2023
    )
    assert published.value == pytest.approx(components)
    # Cultivation from annex 6.2.1 as printed
    afghanistan = PublishedObservation.objects.get(
        release=demo_release, indicator="cultivation_ha", area_code="AFG", drug="opium_poppy", year=2010
    )
    assert afghanistan.value == 123000.0
    # The portal is populated at once
    page = Client().get("/publication/drugs/cocaine/").content.decode()
    assert "Colombia" in page
    # And the annex exports in WDR layouts
    call_command("export_annex", release=demo.DEMO_LABEL, out=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "1.2_Prevalence_of_drug_use_in_the_general_population.xlsx",
        "6.1.1_Coca_bush_cultivation.xlsx",
        "6.2.1_Opium_poppy_cultivation.xlsx",
        "7.1_Drug_seizures.xlsx",
    ]
    seizures = load_workbook(tmp_path / "7.1_Drug_seizures.xlsx").active
    assert [c.value for c in seizures[2]] == [
        "Region", "SubRegion", "Country", "DrugGroup", "DrugSubGroup", "DrugName", "Reference year", "Kilograms", "msCode",
    ]  # fmt: skip
    reported = PublishedObservation.objects.filter(
        release=demo_release, indicator="seizures_reported"
    ).count()
    assert seizures.max_row == 2 + reported + 3  # title, header, rows, a blank row, release and source lines
    assert seizures.cell(row=reported + 4, column=1).value.startswith("Release: WDR2025")
