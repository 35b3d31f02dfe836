"""Reference data: shipped files loaded completely and idempotently; substance status on a date."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from observatory.reference import queries
from observatory.reference.loading import DATA_DIR, load_reference, normalize_label
from observatory.reference.models import (
    ControlledSubstance,
    Country,
    Drug,
    DrugAlias,
    Population,
    ScheduleListing,
)

pytestmark = pytest.mark.usefixtures("reference")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_shipped_files_are_the_shared_reference_files() -> None:
    if not SHARED.exists():
        pytest.skip("../shared/reference is not beside this checkout")
    for name in ("countries.csv", "population.csv", "controlled_substances.csv", "world_110m.geojson"):
        assert (DATA_DIR / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_every_row_of_the_files_is_loaded() -> None:
    assert Country.objects.count() == len(_csv_rows("countries.csv")) == 251
    assert Population.objects.count() == len(_csv_rows("population.csv")) == 7347
    substances = _csv_rows("controlled_substances.csv")
    assert ControlledSubstance.objects.filter(name__in={r["name"] for r in substances}).count() == len(
        {r["name"] for r in substances}
    )
    assert ScheduleListing.objects.filter(effective_to__isnull=True).count() == 400


def test_loading_again_changes_nothing() -> None:
    """Given the reference data is loaded, when it is loaded again, then nothing is created or updated."""
    counts = [
        model.objects.count() for model in (Country, Population, ControlledSubstance, ScheduleListing, Drug)
    ]
    report = load_reference()
    assert report.created == {}
    assert report.updated == {}
    assert [
        m.objects.count() for m in (Country, Population, ControlledSubstance, ScheduleListing, Drug)
    ] == counts


def test_namibia_keeps_its_iso2_code_and_regions_follow_the_world_drug_report() -> None:
    namibia = Country.objects.get(iso3="NAM")
    assert namibia.iso2 == "NA"
    assert namibia.m49 == "516"
    afghanistan = Country.objects.select_related("wdr_subregion", "m49_subregion").get(iso3="AFG")
    assert afghanistan.wdr_subregion is not None
    assert afghanistan.wdr_subregion.name == "Near and Middle East/South-West Asia"
    assert afghanistan.m49_subregion is not None
    assert afghanistan.m49_subregion.name == "Southern Asia"


def test_population_of_india_in_2024() -> None:
    india = Population.objects.get(country__iso3="IND", year=2024)
    assert india.total == 1450935779
    assert india.variant == "medium"


def test_isotonitazene_is_uncontrolled_before_its_scheduling_and_controlled_after() -> None:
    """Isotonitazene was placed in Schedule I of the 1961 Convention in 2021."""
    before = queries.substance_status("Isotonitazene", date(2020, 6, 30))
    after = queries.substance_status("isotonitazene", date(2021, 6, 30))
    assert not before.controlled
    assert after.controlled
    assert [
        (listing.convention, listing.schedule, listing.since_precision) for listing in after.listings
    ] == [("1961", "I", "year")]


def test_cannabis_left_schedule_iv_in_december_2020_but_stays_in_schedule_i() -> None:
    name = "Cannabis and cannabis resin"
    assert [
        (x.convention, x.schedule) for x in queries.substance_status(name, date(2020, 12, 1)).listings
    ] == [("1961", "IV")]
    assert queries.substance_status(name, date(2020, 12, 2)).listings == ()
    main_entry = "Cannabis and cannabis resin and extracts and tinctures of cannabis"
    assert [
        (x.convention, x.schedule) for x in queries.substance_status(main_entry, date(2021, 1, 1)).listings
    ] == [("1961", "I")]


def test_unknown_substance_is_reported_as_unknown() -> None:
    with pytest.raises(queries.UnknownSubstance, match="no controlled substance named 'water'"):
        queries.substance_status("water", date(2024, 1, 1))


def test_aliases_resolve_real_file_spellings_to_taxonomy_drugs() -> None:
    assert DrugAlias.objects.count() > Drug.objects.count()
    cocaine = queries.drug_for_label("Cocaine hydrochloride")
    assert cocaine is not None
    assert queries.drug_for_label("  COCAINE   hydrochloride ") == cocaine
    assert normalize_label("“Yaba”") == normalize_label('"yaba"') == "yaba"


def test_mass_units_convert_by_si_ratio_and_counts_have_no_factor_unless_listed() -> None:
    gram = queries.conversion_factor("cocaine.cocaine.cocaine-hydrochloride", "g", None, 2023)
    assert gram is not None
    assert gram.kg_per_unit == 0.001
    assert queries.conversion_factor("cannabis.cannabis-plants.cannabis-plants", "plant", None, 2023) is None


def test_tablets_of_methamphetamine_have_a_factor_and_its_version_is_recorded() -> None:
    factor = queries.conversion_factor("ats.methamphetamine.yaba", "tablet", None, 2023)
    assert factor is not None
    assert (factor.kg_per_unit, factor.version) == (0.0001, "2025.1")
    assert (
        queries.conversion_factor("hallucinogens.lsd.lysergic-acid-diethylamide-lsd", "tablet", None, 2023)
        is None
    )
