"""Annex table 2.1 — expert perception of trend changes in drug use, by country, drug and year."""

from __future__ import annotations

from dataclasses import dataclass

from observatory.reference.annex._common import (
    ParseSummary,
    Provenance,
    SkippedRow,
    Source,
    as_number,
    clean_text,
    load_workbook,
    source_name,
)

# Perceived-trend answers as printed → stable codes (the printed text is kept on the record too).
TREND_CODES = {
    "Large increase (>10%)": "large_increase",
    "Small increase (5-10%)": "small_increase",
    "Stable situation (+-5%)": "stable",
    "Small decrease (5-10%)": "small_decrease",
    "Large decrease (>10%)": "large_decrease",
    "Not known": "not_known",
}
AGE_COLUMNS = {"Overall": "overall", "0-17": "age_0_17", "18-24": "age_18_24", "25+": "age_25_plus"}
_REQUIRED = ("Region", "SubRegion", "Country", "Year", "DrugGroup", "Drug", "msCode", *AGE_COLUMNS)


@dataclass(frozen=True, slots=True)
class TrendAnswer:
    reported: str
    code: str | None  # None when the text is not one of TREND_CODES (reported, not guessed)


@dataclass(frozen=True, slots=True)
class TrendRecord:
    region: str | None
    subregion: str | None
    country: str
    iso3: str | None
    year: int
    drug_group: str
    drug: str | None  # blank in some rows: the answer is about the whole group
    overall: TrendAnswer | None
    age_0_17: TrendAnswer | None
    age_18_24: TrendAnswer | None
    age_25_plus: TrendAnswer | None
    source: Provenance


@dataclass(frozen=True, slots=True)
class TrendParse:
    records: tuple[TrendRecord, ...]
    unknown_answers: tuple[str, ...]
    summary: ParseSummary


def trend_answer(value: object) -> TrendAnswer | None:
    text = clean_text(value)
    if text is None:
        return None
    return TrendAnswer(text, TREND_CODES.get(text))


def parse_trends(source: Source, *, name: str | None = None) -> TrendParse:
    file_name = source_name(source, name)
    workbook = load_workbook(source, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    header_index = next(
        (index for index, row in enumerate(rows[:10]) if "msCode" in [clean_text(cell) for cell in row]), None
    )
    if header_index is None:
        raise ValueError(f"{file_name}: no header row with 'msCode'")
    columns = {clean_text(cell): index for index, cell in enumerate(rows[header_index]) if clean_text(cell)}
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise ValueError(f"{file_name}: header lacks {missing}")

    def cell(row: tuple[object, ...], column: str) -> object:
        index = columns[column]
        return row[index] if index < len(row) else None

    records: list[TrendRecord] = []
    skipped: list[SkippedRow] = []
    unknown: set[str] = set()
    read = 0
    for offset, row in enumerate(rows[header_index + 1 :]):
        row_number = header_index + offset + 2
        if not any(clean_text(value) for value in row):
            continue
        read += 1
        country, group = clean_text(cell(row, "Country")), clean_text(cell(row, "DrugGroup"))
        year = as_number(cell(row, "Year"))
        if country is None or group is None or year is None:
            skipped.append(
                SkippedRow(file_name, sheet.title, row_number, "missing country, drug group or year")
            )
            continue
        answers = {field: trend_answer(cell(row, column)) for column, field in AGE_COLUMNS.items()}
        unknown.update(answer.reported for answer in answers.values() if answer and answer.code is None)
        records.append(
            TrendRecord(
                region=clean_text(cell(row, "Region")),
                subregion=clean_text(cell(row, "SubRegion")),
                country=country,
                iso3=clean_text(cell(row, "msCode")),
                year=int(year),
                drug_group=group,
                drug=clean_text(cell(row, "Drug")),
                source=Provenance(file_name, sheet.title, row_number),
                **answers,
            )
        )
    return TrendParse(
        tuple(records), tuple(sorted(unknown)), ParseSummary(read, len(records), tuple(skipped))
    )
