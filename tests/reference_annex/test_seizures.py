"""Annex 7.1 seizures: every trap of the README, counted exactly."""

import csv
from collections import Counter

import pytest

from observatory.reference.annex.seizures import (
    SeizureParse,
    aggregate_by_country_drug_year,
    group_year_totals,
    parse_seizures,
    parse_seizures_csv,
)
from tests.reference_annex.conftest import SEIZURES_CSV, SEIZURES_XLSX


@pytest.fixture(scope="module")
def from_csv(annex_dir) -> SeizureParse:
    return parse_seizures(SEIZURES_CSV)


@pytest.fixture(scope="module")
def from_xlsx(annex_dir) -> SeizureParse:
    return parse_seizures(SEIZURES_XLSX)


def test_given_the_csv_when_parsed_then_every_row_is_kept_with_its_line(from_csv):
    assert from_csv.summary.rows_read == 11_274
    assert len(from_csv.records) == 11_274
    assert from_csv.summary.skipped == ()
    assert len({record.iso3 for record in from_csv.records}) == 164
    first = from_csv.records[0]
    assert (first.country, first.iso3, first.drug_name, first.year, first.kilograms) == (
        "Comoros",
        "COM",
        "Other drugs/substances",
        2023,
        45.0,
    )
    assert (first.source.file, first.source.sheet, first.source.row) == (SEIZURES_CSV.name, None, 2)


def test_blank_and_zero_kilograms_are_kept_apart(from_csv):
    assert sum(record.kilograms is None for record in from_csv.records) == 76
    assert sum(record.kilograms == 0 for record in from_csv.records) == 839


def test_xlsx_and_csv_give_the_same_values(from_csv, from_xlsx):
    assert len(from_xlsx.records) == 11_274
    assert from_xlsx.records[0].source.sheet == "Seizures"
    assert from_xlsx.records[0].source.cell == "H3"  # title row 1, header row 2
    for a, b in zip(from_csv.records, from_xlsx.records, strict=True):
        assert (a.iso3, a.drug_group, a.drug_subgroup, a.drug_name, a.year) == (
            b.iso3,
            b.drug_group,
            b.drug_subgroup,
            b.drug_name,
            b.year,
        )
        assert a.kilograms == pytest.approx(b.kilograms)


def test_reported_totals_are_all_flagged(from_csv):
    totals = Counter(r.drug_subgroup for r in from_csv.records if r.is_reported_total)
    assert sum(totals.values()) == 609
    assert totals["Cocaine"] == 77  # "Cocaine (total of the above, …)"
    assert totals["“Ecstasy”-type substances"] == 108  # "Total "ecstasy"…" inside the ordinary subgroup
    # every row whose subgroup says "Reported total" is flagged, and no component is
    assert all(r.is_reported_total for r in from_csv.records if r.drug_subgroup.startswith("Reported total"))
    assert not any(r.is_reported_total for r in from_csv.records if r.drug_name == "Cocaine hydrochloride")


def test_plant_and_bush_counts_are_flagged_as_counts(from_csv):
    counts = Counter(r.drug_name for r in from_csv.records if r.is_count_not_mass)
    assert counts == {"Cannabis plants": 426, "Poppy plants": 81, "Coca bush": 5}


def test_duplicate_keys_are_summed_never_dropped(from_csv):
    by_name = Counter((r.iso3, r.drug_name, r.year) for r in from_csv.records)
    assert sum(1 for n in by_name.values() if n > 1) == 1_739
    aggregates = aggregate_by_country_drug_year(from_csv.records)
    assert sum(a.rows_summed for a in aggregates) == 11_274
    assert sum(1 for a in aggregates if a.rows_summed > 1) == 1_736  # keyed with group and subgroup too
    mass_total = sum(r.kilograms or 0 for r in from_csv.records if not r.is_count_not_mass)
    assert sum(a.kilograms or 0 for a in aggregates) == pytest.approx(mass_total)


def test_an_aggregate_sums_its_rows_and_keeps_their_provenance():
    data = (
        b"Region,SubRegion,Country,DrugGroup,DrugSubGroup,DrugName,Reference year,Kilograms,msCode\n"
        b"Europe,West,Atlantis,Opioids,Opiates,Heroin,2022,10,ATL\n"
        b"Europe,West,Atlantis,Opioids,Opiates,Heroin,2022,2.5,ATL\n"
        b"Europe,West,Atlantis,Opioids,Opiates,Heroin,2022,,ATL\n"
        b"Europe,West,Atlantis,Opioids,Opiates,Poppy plants,2022,300,ATL\n"
        b"Europe,West,Atlantis,Opioids,Reported total opioids,Total opioids (including the above),2022,20,ATL\n"
    )
    parsed = parse_seizures_csv(data, name="mini.csv")
    heroin, poppy, total = aggregate_by_country_drug_year(parsed.records)
    assert (heroin.drug_name, heroin.kilograms, heroin.rows_summed, heroin.blank_rows) == (
        "Heroin",
        12.5,
        3,
        1,
    )
    assert [s.row for s in heroin.sources] == [2, 3, 4]
    assert (poppy.kilograms, poppy.count) == (None, 300.0)
    assert total.is_reported_total
    (group,) = group_year_totals([heroin, poppy, total])
    # the total is never added to its components, and plant counts never enter kilograms
    assert (group.components_kg, group.reported_total_kg) == (12.5, 20.0)


def test_a_malformed_row_is_skipped_with_its_reason():
    data = (
        b"Region,SubRegion,Country,DrugGroup,DrugSubGroup,DrugName,Reference year,Kilograms,msCode\n"
        b"Europe,West,Atlantis,Opioids,Opiates,Heroin,2022,ten,ATL\n"
    )
    parsed = parse_seizures_csv(data, name="bad.csv")
    assert parsed.records == ()
    assert parsed.summary.skipped[0].row == 2
    assert parsed.summary.skipped[0].reason == "Kilograms is not a number: 'ten'"


def test_wrong_header_is_refused():
    with pytest.raises(ValueError, match="unexpected header"):
        parse_seizures_csv(b"a,b,c\n1,2,3\n")


def test_csv_counts_cross_checked_with_the_csv_module(from_csv):
    with SEIZURES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(from_csv.records)
    assert sum(1 for row in rows if row["Kilograms"] == "") == 76
