"""Annex table 7.1 — drug seizures 2019-2023 (CSV or XLSX), with its traps handled.

Traps (see the annex README): duplicate (country, drug, year) keys are separate reports and are
summed; "reported total" rows stand beside their components and are never added to them; plant and
bush rows hold counts in the Kilograms column and are kept out of kilogram totals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from observatory.reference.annex._common import (
    ParseSummary,
    Provenance,
    SkippedRow,
    Source,
    as_number,
    clean_text,
    load_workbook,
    read_bytes,
    source_name,
)

HEADER = (
    "Region",
    "SubRegion",
    "Country",
    "DrugGroup",
    "DrugSubGroup",
    "DrugName",
    "Reference year",
    "Kilograms",
    "msCode",
)

# The questionnaire asks for the number of plants/bushes here, not their mass.
COUNT_DRUG_NAMES = frozenset({"Cannabis plants", "Poppy plants", "Coca bush"})


@dataclass(frozen=True, slots=True)
class SeizureRecord:
    region: str
    subregion: str
    country: str
    iso3: str
    drug_group: str
    drug_subgroup: str
    drug_name: str
    year: int
    kilograms: float | None  # as reported in the "Kilograms" column; None when blank
    is_reported_total: bool
    is_count_not_mass: bool
    source: Provenance


@dataclass(frozen=True, slots=True)
class SeizureParse:
    records: tuple[SeizureRecord, ...]
    summary: ParseSummary


def is_reported_total(drug_subgroup: str, drug_name: str) -> bool:
    """Rows that report a total of other rows: 'Reported total …' subgroups, 'Total …' drugs, and
    cocaine's 'Cocaine (total of the above, …)'."""
    return (
        drug_subgroup.casefold().startswith("reported total")
        or drug_name.casefold().startswith("total ")
        or "(total of the above" in drug_name.casefold()
    )


def is_count_not_mass(drug_name: str) -> bool:
    return drug_name in COUNT_DRUG_NAMES


def parse_seizures_csv(source: Source, *, name: str | None = None) -> SeizureParse:
    file_name = source_name(source, name)
    text = read_bytes(source).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = tuple(next(reader))
    if header != HEADER:
        raise ValueError(f"{file_name}: unexpected header {header!r}")
    # The CSV's line numbers are the provenance (header is line 1).
    rows = ((line, list[object](row)) for line, row in enumerate(reader, start=2))
    return _parse_rows(rows, file_name, sheet=None)


def parse_seizures_xlsx(source: Source, *, name: str | None = None) -> SeizureParse:
    file_name = source_name(source, name)
    workbook = load_workbook(source, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        next(values)  # title row ("Drug seizures, 2019-2023")
        header = tuple(clean_text(cell) for cell in next(values))
        if header[: len(HEADER)] != HEADER:
            raise ValueError(f"{file_name}: unexpected header {header!r}")
        rows = ((index, list(row)) for index, row in enumerate(values, start=3))
        return _parse_rows(rows, file_name, sheet=sheet.title)
    finally:
        workbook.close()


def parse_seizures(source: Source, *, name: str | None = None) -> SeizureParse:
    """Parse 7.1 as CSV or XLSX, told apart by the zip signature of XLSX."""
    data = read_bytes(source)
    label = source_name(source, name)
    if data[:2] == b"PK":
        return parse_seizures_xlsx(data, name=label)
    return parse_seizures_csv(data, name=label)


def _parse_rows(
    rows: Iterable[tuple[int, Sequence[object]]], file_name: str, sheet: str | None
) -> SeizureParse:
    records: list[SeizureRecord] = []
    skipped: list[SkippedRow] = []
    read = 0
    for row_number, row in rows:
        if not any(clean_text(cell) for cell in row):
            continue  # empty trailing rows are not data
        read += 1
        cells = [clean_text(cell) for cell in (list(row) + [None] * len(HEADER))[: len(HEADER)]]
        region, subregion, country, group, subgroup, drug, year_text, kg_text, iso3 = cells
        if not (country and iso3 and group and subgroup and drug and year_text):
            skipped.append(SkippedRow(file_name, sheet, row_number, "missing country, drug or year"))
            continue
        year = as_number(year_text)
        if year is None or year != int(year):
            skipped.append(SkippedRow(file_name, sheet, row_number, f"year is not a year: {year_text!r}"))
            continue
        kilograms = as_number(kg_text)
        if kg_text is not None and kilograms is None:
            skipped.append(
                SkippedRow(file_name, sheet, row_number, f"Kilograms is not a number: {kg_text!r}")
            )
            continue
        records.append(
            SeizureRecord(
                region=region or "",
                subregion=subregion or "",
                country=country,
                iso3=iso3,
                drug_group=group,
                drug_subgroup=subgroup,
                drug_name=drug,
                year=int(year),
                kilograms=kilograms,
                is_reported_total=is_reported_total(subgroup, drug),
                is_count_not_mass=is_count_not_mass(drug),
                source=Provenance(file_name, sheet, row_number, None if sheet is None else f"H{row_number}"),
            )
        )
    return SeizureParse(tuple(records), ParseSummary(read, len(records), tuple(skipped)))


@dataclass(frozen=True, slots=True)
class SeizureAggregate:
    """One (country, drug, year) figure: the sum of every row reported under that key."""

    iso3: str
    country: str
    drug_group: str
    drug_subgroup: str
    drug_name: str
    year: int
    kilograms: float | None  # None when the rows hold counts, or every reported cell was blank
    count: float | None  # plants/bushes; None for mass rows
    rows_summed: int
    blank_rows: int
    is_reported_total: bool
    sources: tuple[Provenance, ...]


AggregateKey = tuple[str, str, str, str, int]


def aggregate_by_country_drug_year(records: Iterable[SeizureRecord]) -> tuple[SeizureAggregate, ...]:
    """Sum rows that share (country, drug group, subgroup, drug, year) — they are separate reports
    (one per originally reported unit), never duplicates to drop. Counts stay in `count`, never kg."""
    grouped: dict[AggregateKey, list[SeizureRecord]] = {}
    for record in records:
        key = (record.iso3, record.drug_group, record.drug_subgroup, record.drug_name, record.year)
        grouped.setdefault(key, []).append(record)
    return tuple(_aggregate(rows) for _, rows in sorted(grouped.items()))


def _aggregate(rows: list[SeizureRecord]) -> SeizureAggregate:
    first = rows[0]
    reported = [row.kilograms for row in rows if row.kilograms is not None]
    total = sum(reported) if reported else None
    return SeizureAggregate(
        iso3=first.iso3,
        country=first.country,
        drug_group=first.drug_group,
        drug_subgroup=first.drug_subgroup,
        drug_name=first.drug_name,
        year=first.year,
        kilograms=None if first.is_count_not_mass else total,
        count=total if first.is_count_not_mass else None,
        rows_summed=len(rows),
        blank_rows=len(rows) - len(reported),
        is_reported_total=first.is_reported_total,
        sources=tuple(row.source for row in rows),
    )


@dataclass(frozen=True, slots=True)
class GroupYearTotal:
    """Kilograms of one drug group in one country and year, with both sides kept apart:
    the sum of component rows, and the separately reported total (if any). Never their sum."""

    iso3: str
    drug_group: str
    year: int
    components_kg: float | None
    # Sum of the "reported total" rows, which may cover less than the group (cocaine's total
    # excludes coca leaf and bush): the analyst chooses, this kernel never mixes the two.
    reported_total_kg: float | None


def group_year_totals(aggregates: Iterable[SeizureAggregate]) -> tuple[GroupYearTotal, ...]:
    components: dict[tuple[str, str, int], list[float]] = {}
    totals: dict[tuple[str, str, int], list[float]] = {}
    for aggregate in aggregates:
        key = (aggregate.iso3, aggregate.drug_group, aggregate.year)
        target = totals if aggregate.is_reported_total else components
        bucket = target.setdefault(key, [])
        if aggregate.kilograms is not None:  # counts and blanks never enter kilograms
            bucket.append(aggregate.kilograms)
    keys = sorted(set(components) | set(totals))
    return tuple(
        GroupYearTotal(
            iso3=key[0],
            drug_group=key[1],
            year=key[2],
            components_kg=_sum_or_none(components.get(key)),
            reported_total_kg=_sum_or_none(totals.get(key)),
        )
        for key in keys
    )


def _sum_or_none(values: list[float] | None) -> float | None:
    return sum(values) if values else None


def iter_mass_records(records: Iterable[SeizureRecord]) -> Iterator[SeizureRecord]:
    """Rows whose Kilograms column really is a mass."""
    return (record for record in records if not record.is_count_not_mass)
