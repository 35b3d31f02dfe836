"""Annex 7.1 import: every trap of the real file handled, idempotent, all or nothing, audited."""

from __future__ import annotations

import csv
from collections import defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from observatory.access.models import AuditEvent
from observatory.analysis import queries, services
from observatory.analysis.models import SeizureStatistic, SeizureTrend
from observatory.reference.annex.seizures import aggregate_by_country_drug_year, parse_seizures
from observatory.reference.models import Country
from tests.factories import make_user

ANNEX = Path("/work/shared/unodc/wdr2025_annex")
CSV_FILE = ANNEX / "7.1_Drug_seizures_2019-2023.csv"
SHIPPED = Path(__file__).resolve().parents[2] / "observatory" / "analysis" / "data" / CSV_FILE.name

pytestmark = pytest.mark.django_db


def test_given_the_real_7_1_file_when_imported_twice_then_keys_are_summed_flagged_and_nothing_is_added(
    reference: None,
) -> None:
    parsed = parse_seizures(CSV_FILE)
    aggregates = aggregate_by_country_drug_year(parsed.records)
    events_before = AuditEvent.objects.count()

    out = StringIO()
    call_command("import_annex_seizures", str(CSV_FILE), stdout=out)

    assert SeizureStatistic.objects.count() == len(aggregates) == 8749
    assert parsed.summary.rows_read == 11274
    # duplicate keys are summed: every file row is counted once in rows_summed
    assert sum(SeizureStatistic.objects.values_list("rows_summed", flat=True)) == len(parsed.records)
    assert SeizureStatistic.objects.filter(rows_summed__gt=1).count() == sum(
        1 for a in aggregates if a.rows_summed > 1
    )
    assert SeizureStatistic.objects.filter(is_reported_total=True).count() == sum(
        1 for a in aggregates if a.is_reported_total
    )
    # plant and bush counts never sit in kilograms
    counts = SeizureStatistic.objects.filter(drug_label__in=["Cannabis plants", "Poppy plants", "Coca bush"])
    assert counts.count() == sum(
        1 for a in aggregates if a.drug_name in {"Cannabis plants", "Poppy plants", "Coca bush"}
    )
    assert not counts.filter(kilograms__isnull=False).exists()
    assert counts.filter(count__isnull=False).count() == sum(1 for a in aggregates if a.count is not None)
    assert "8749 (country, drug, year) figures" in out.getvalue()
    assert AuditEvent.objects.count() == events_before + 1

    report = services.import_annex_seizures(None, CSV_FILE, system=True)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 8749)
    assert SeizureStatistic.objects.count() == 8749


def _file_kilograms(iso3s: set[str], group: str, year: int) -> float:
    """Sum the file's own component kilograms (no totals, no plant counts, no blanks)."""
    total = 0.0
    with CSV_FILE.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["msCode"] not in iso3s or row["DrugGroup"] != group or int(row["Reference year"]) != year:
                continue
            subgroup, name = row["DrugSubGroup"], row["DrugName"]
            if subgroup.lower().startswith("reported total") or name.lower().startswith("total "):
                continue
            if "(total of the above" in name.lower() or name in {
                "Cannabis plants",
                "Poppy plants",
                "Coca bush",
            }:
                continue
            if row["Kilograms"].strip():
                total += float(row["Kilograms"])
    return total


def test_given_imported_seizures_when_trends_are_read_then_they_equal_the_files_figures_summed(
    reference: None,
) -> None:
    services.import_annex_seizures(None, SHIPPED, system=True)
    analyst = make_user("analyst")

    points = queries.seizure_trends(
        analyst, drug_group="cocaine", region="Americas", year_from=2022, year_to=2022
    )

    americas = set(Country.objects.filter(wdr_region__name="Americas").values_list("iso3", flat=True))
    assert len(points) == 1
    assert points[0].kilograms == pytest.approx(_file_kilograms(americas, "Cocaine-type", 2022), rel=1e-12)
    colombia = SeizureTrend.objects.get(country__iso3="COL", drug_group__code="cocaine", year=2022)
    assert colombia.kilograms == pytest.approx(_file_kilograms({"COL"}, "Cocaine-type", 2022), rel=1e-12)
    # the maintained aggregate equals the same sum over row-level data
    by_rows: dict[tuple[str, str, int], float] = defaultdict(float)
    for item in queries.seizure_trends_from_rows(analyst):
        by_rows[(item["drug_group__code"], item["country__wdr_region__name"], item["year"])] += item["kg"]
    for point in queries.seizure_trends(analyst):
        assert point.kilograms == pytest.approx(
            by_rows[(point.drug_group, point.region, point.year)], rel=1e-9
        )


def test_given_a_regional_analyst_when_reading_trends_then_only_their_countries_are_summed(
    reference: None,
) -> None:
    services.import_annex_seizures(None, SHIPPED, system=True)

    points = queries.seizure_trends(make_user("analyst", region="Americas"))

    assert {point.region for point in points} == {"Americas"}
    assert queries.seizure_trends(make_user("focal_point", country="COL")) == []


def test_given_a_file_with_an_unknown_drug_when_imported_then_nothing_is_written_and_the_row_is_named(
    reference: None, tmp_path: Path
) -> None:
    lines = CSV_FILE.read_text(encoding="utf-8-sig").splitlines()
    bad = lines[1].split(",")
    bad[5] = "Unheard-of substance"
    path = tmp_path / "7.1.csv"
    path.write_text("\n".join([lines[0], lines[2], ",".join(bad), lines[3]]) + "\n", encoding="utf-8")

    with pytest.raises(services.ImportRejected) as rejected:
        services.import_annex_seizures(None, path, system=True)

    assert "row 3, column DrugName" in str(rejected.value)
    assert "Unheard-of substance" in str(rejected.value)
    assert SeizureStatistic.objects.count() == 0
    assert SeizureTrend.objects.count() == 0


def test_given_a_focal_point_when_importing_the_annex_then_it_is_refused(reference: None) -> None:
    with pytest.raises(services.policy.PermissionDenied):
        services.import_annex_seizures(make_user("focal_point", country="COL"), SHIPPED)
    assert SeizureStatistic.objects.count() == 0
