"""Annex tables 1.2 (general population) and 1.4 (youth) — national prevalence of drug use.

Layouts differ between sheets, so columns are found by their header text, never by position:
- 1.2: title rows, header on the third row; Best/Low/High, Male, Female, Year, Age, Source, Method,
  adjustment codes; the tranquillizer sheet has Total/Male/Female instead of Best/Low/High; the NPS
  sheet has Lifetime/Past year/Past month each split into Total/Male/Female on a second header row.
- 1.4: header on the fourth row; Lifetime/Past Year/Past Month; the NPS sheet splits each into
  All/Male/Female and adds NPS type and substance.
Region and subregion appear only on the first row of a block and are forward-filled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

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

LAYOUT_BEST_LOW_HIGH = "best_low_high"
LAYOUT_TOTAL_MALE_FEMALE = "total_male_female"
LAYOUT_NPS = "nps_by_recall_period"
LAYOUT_YOUTH = "youth"
LAYOUT_YOUTH_NPS = "youth_nps"

RECALL_PERIODS = ("lifetime", "pastyear", "pastmonth")
RECALL_PERIOD_NAMES = {"lifetime": "lifetime", "pastyear": "past_year", "pastmonth": "past_month"}
NON_DATA_SHEETS = frozenset({"Lookup"})  # 1.4's country→region lookup, not prevalence data


@dataclass(frozen=True, slots=True)
class PrevalenceRecord:
    """One national estimate from 1.2, values as reported (percent of the population)."""

    sheet: str  # the drug group as the sheet names it
    layout: str
    recall_period: str  # "past_year" except on the NPS sheet, which also has lifetime/past month
    region: str | None
    subregion: str | None
    country: str
    nps_type: str | None
    substance: str | None
    best: float | None  # "Best", or "Total" on the tranquillizer and NPS sheets (see value_column)
    value_column: str
    low: float | None
    high: float | None
    male: float | None
    female: float | None
    year_reported: str | None  # "2019", "2022/23", "2010-11"…
    year: int | None  # first year of year_reported
    age_range: str | None
    source_label: str | None
    method: str | None
    adjustment_codes: tuple[str, ...]
    adjustment_reported: str | None
    notes: str | None
    # Value cells holding text instead of a number, as (column header, text); e.g. "@" = below 0.005.
    non_numeric: tuple[tuple[str, str], ...]
    source: Provenance


@dataclass(frozen=True, slots=True)
class YouthPrevalenceRecord:
    """One youth/school estimate from 1.4 (percent), lifetime / past year / past month as reported."""

    sheet: str
    layout: str
    region: str | None
    subregion: str | None
    country: str
    nps_type: str | None
    substance: str | None
    coverage: str | None  # age or grade covered, as reported
    lifetime: float | None
    past_year: float | None
    past_month: float | None
    lifetime_male: float | None
    lifetime_female: float | None
    past_year_male: float | None
    past_year_female: float | None
    past_month_male: float | None
    past_month_female: float | None
    year_reported: str | None
    year: int | None
    source_label: str | None
    notes: str | None
    # Value cells holding text instead of a number, as (column header, text); 1.4 writes "@" for
    # "less than 0.005" — kept so that a censored value is not mistaken for a missing one.
    non_numeric: tuple[tuple[str, str], ...]
    source: Provenance


@dataclass(frozen=True, slots=True)
class SheetCount:
    sheet: str
    layout: str
    data_rows: int
    records: int


@dataclass(frozen=True, slots=True)
class PrevalenceParse:
    records: tuple[PrevalenceRecord, ...]
    sheets: tuple[SheetCount, ...]
    summary: ParseSummary


@dataclass(frozen=True, slots=True)
class YouthPrevalenceParse:
    records: tuple[YouthPrevalenceRecord, ...]
    sheets: tuple[SheetCount, ...]
    summary: ParseSummary


def header_key(text: object) -> str:
    """'Country/ Territory' → 'countryterritory', 'Life-time' → 'lifetime', 'Adjustment/\\n notes' →
    'adjustmentnotes': header spellings differ between sheets."""
    return re.sub(r"[^a-z]", "", (clean_text(text) or "").casefold())


_YEAR = re.compile(r"(19|20)\d\d")


def first_year(value: object) -> int | None:
    match = _YEAR.search(clean_text(value) or "")
    return int(match.group(0)) if match else None


def adjustment_codes(value: object) -> tuple[str, ...]:
    """'b, e' → ('b', 'e'); 'a,x' → ('a', 'x'); 'z**' stays 'z**' (a distinct code)."""
    text = clean_text(value)
    if text is None:
        return ()
    return tuple(code for code in re.split(r"[,;\s]+", text) if code)


@dataclass(frozen=True, slots=True)
class _Table:
    header_row: int  # last header row (data starts below it)
    columns: dict[str, int]  # header key (sub-headers as "lifetime.male") → 0-based column index


def _find_table(rows: Sequence[Sequence[object]]) -> _Table:
    """Find the header row (the one naming the country column) and an optional sub-header row of
    Total/All/Male/Female under grouped headers such as 'Lifetime'."""
    for index, row in enumerate(rows[:8]):
        keys = [header_key(cell) for cell in row]
        if not any(key.startswith("country") for key in keys):
            continue
        columns: dict[str, int] = {}
        for column, key in enumerate(keys):
            if key and key not in columns:
                columns[key] = column
        sub = [header_key(cell) for cell in rows[index + 1]] if index + 1 < len(rows) else []
        has_sub_header = any(key in {"male", "female"} for key in sub) and not any(
            key.startswith("country") for key in sub
        )
        if not has_sub_header:
            return _Table(index + 1, columns)
        group = ""
        for column, sub_key in enumerate(sub):
            if column < len(keys) and keys[column]:
                group = keys[column]
            if sub_key and group:
                columns[f"{group}.{'total' if sub_key == 'all' else sub_key}"] = column
        return _Table(index + 2, columns)
    raise ValueError("no header row naming a Country/Territory column")


def _cell(row: Sequence[object], table: _Table, *names: str) -> object:
    for name in names:
        column = table.columns.get(name)
        if column is not None and column < len(row):
            return row[column]
    return None


class _Values:
    """Reads numeric cells of one row, remembering value cells that hold text instead."""

    def __init__(self, row: Sequence[object], table: _Table) -> None:
        self.row, self.table = row, table
        self.non_numeric: list[tuple[str, str]] = []

    def number(self, key: str) -> float | None:
        raw = _cell(self.row, self.table, key)
        number = as_number(raw)
        text = clean_text(raw)
        if number is None and text is not None:
            self.non_numeric.append((key, text))
        return number


def _iter_sheet_rows(sheet: Worksheet) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


@dataclass
class _Fill:
    """Forward-fill of block labels that appear only on the first row of a block."""

    region: str | None = None
    subregion: str | None = None
    nps_type: str | None = None

    def update(self, region: str | None, subregion: str | None, nps_type: str | None) -> None:
        if region is not None:
            self.region, self.subregion = region, subregion
        elif subregion is not None:
            self.subregion = subregion
        if nps_type is not None:
            self.nps_type = nps_type


def _country_column(table: _Table) -> int:
    return next(column for key, column in table.columns.items() if key.startswith("country"))


def _data_rows(
    rows: list[tuple[object, ...]], table: _Table, file_name: str, sheet: str, skipped: list[SkippedRow]
) -> Iterator[tuple[int, tuple[object, ...], _Fill]]:
    """Rows below the header that name a country; title, note and blank rows are reported as skipped."""
    country_column = _country_column(table)
    fill = _Fill()
    for offset, row in enumerate(rows[table.header_row :]):
        row_number = table.header_row + offset + 1
        if not any(clean_text(cell) for cell in row):
            continue
        country = clean_text(row[country_column]) if country_column < len(row) else None
        if country is None:
            skipped.append(SkippedRow(file_name, sheet, row_number, "no country: note or footnote row"))
            continue
        fill.update(
            clean_text(_cell(row, table, "region")),
            clean_text(_cell(row, table, "subregion")),
            clean_text(_cell(row, table, "npstype")),
        )
        yield row_number, row, fill


def parse_general_population(source: Source, *, name: str | None = None) -> PrevalenceParse:
    """Parse every sheet of annex 1.2."""
    file_name = source_name(source, name)
    workbook = load_workbook(source, read_only=True)
    records: list[PrevalenceRecord] = []
    sheets: list[SheetCount] = []
    skipped: list[SkippedRow] = []
    read = 0
    try:
        for sheet in workbook.worksheets:
            if sheet.title in NON_DATA_SHEETS:
                continue
            rows = _iter_sheet_rows(sheet)
            table = _find_table(rows)
            layout = _general_layout(table)
            before, data_rows = len(records), 0
            for row_number, row, fill in _data_rows(rows, table, file_name, sheet.title, skipped):
                data_rows += 1
                produced = list(
                    _general_records(row, row_number, table, layout, fill, file_name, sheet.title)
                )
                if not produced:
                    skipped.append(SkippedRow(file_name, sheet.title, row_number, "no prevalence value"))
                records.extend(produced)
            read += data_rows
            sheets.append(SheetCount(sheet.title, layout, data_rows, len(records) - before))
    finally:
        workbook.close()
    return PrevalenceParse(tuple(records), tuple(sheets), ParseSummary(read, len(records), tuple(skipped)))


def _general_layout(table: _Table) -> str:
    if "best" in table.columns:
        return LAYOUT_BEST_LOW_HIGH
    if "lifetime.total" in table.columns:
        return LAYOUT_NPS
    if "total" in table.columns:
        return LAYOUT_TOTAL_MALE_FEMALE
    raise ValueError(f"unknown 1.2 layout with columns {sorted(table.columns)}")


def _general_records(
    row: tuple[object, ...],
    row_number: int,
    table: _Table,
    layout: str,
    fill: _Fill,
    file_name: str,
    sheet: str,
) -> Iterator[PrevalenceRecord]:
    country = clean_text(_cell(row, table, *[key for key in table.columns if key.startswith("country")]))
    assert country is not None  # _data_rows only yields rows with a country
    adjustment = clean_text(_cell(row, table, "adjustmentnotes"))
    common = {
        "sheet": sheet,
        "layout": layout,
        "region": fill.region,
        "subregion": fill.subregion,
        "country": country,
        "nps_type": fill.nps_type if layout == LAYOUT_NPS else None,
        "substance": clean_text(_cell(row, table, "substance")),
        "year_reported": clean_text(_cell(row, table, "year")),
        "year": first_year(_cell(row, table, "year")),
        "age_range": clean_text(_cell(row, table, "age")),
        "source_label": clean_text(_cell(row, table, "source")),
        "method": clean_text(_cell(row, table, "method")),
        "adjustment_codes": adjustment_codes(adjustment),
        "adjustment_reported": adjustment,
        "notes": clean_text(_cell(row, table, "specificnotes")),
    }
    if layout == LAYOUT_NPS:
        # One record per recall period that carries a value.
        for period in RECALL_PERIODS:
            values = _Values(row, table)
            total = values.number(f"{period}.total")
            male = values.number(f"{period}.male")
            female = values.number(f"{period}.female")
            if total is None and male is None and female is None and not values.non_numeric:
                continue
            column = table.columns[f"{period}.total"]
            yield PrevalenceRecord(
                **common,  # type: ignore[arg-type]
                recall_period=RECALL_PERIOD_NAMES[period],
                best=total,
                value_column="Total",
                low=None,
                high=None,
                male=male,
                female=female,
                non_numeric=tuple(values.non_numeric),
                source=Provenance(
                    file_name, sheet, row_number, f"{get_column_letter(column + 1)}{row_number}"
                ),
            )
        return
    point_key = "best" if layout == LAYOUT_BEST_LOW_HIGH else "total"
    values = _Values(row, table)
    best = values.number(point_key)
    low = values.number("low")
    high = values.number("high")
    male = values.number("male")
    female = values.number("female")
    if all(value is None for value in (best, low, high, male, female)) and not values.non_numeric:
        return
    column = table.columns[point_key]
    yield PrevalenceRecord(
        **common,  # type: ignore[arg-type]
        recall_period="past_year",
        best=best,
        value_column="Best" if layout == LAYOUT_BEST_LOW_HIGH else "Total",
        low=low,
        high=high,
        male=male,
        female=female,
        non_numeric=tuple(values.non_numeric),
        source=Provenance(file_name, sheet, row_number, f"{get_column_letter(column + 1)}{row_number}"),
    )


def parse_youth(source: Source, *, name: str | None = None) -> YouthPrevalenceParse:
    """Parse every data sheet of annex 1.4 (the 'Lookup' sheet is reference, not data)."""
    file_name = source_name(source, name)
    workbook = load_workbook(source, read_only=True)
    records: list[YouthPrevalenceRecord] = []
    sheets: list[SheetCount] = []
    skipped: list[SkippedRow] = []
    read = 0
    try:
        for sheet in workbook.worksheets:
            if sheet.title in NON_DATA_SHEETS:
                continue
            rows = _iter_sheet_rows(sheet)
            table = _find_table(rows)
            layout = LAYOUT_YOUTH_NPS if "lifetime.total" in table.columns else LAYOUT_YOUTH
            before, data_rows = len(records), 0
            for row_number, row, fill in _data_rows(rows, table, file_name, sheet.title, skipped):
                data_rows += 1
                record = _youth_record(row, row_number, table, layout, fill, file_name, sheet.title)
                if record is None:
                    skipped.append(SkippedRow(file_name, sheet.title, row_number, "no prevalence value"))
                else:
                    records.append(record)
            read += data_rows
            sheets.append(SheetCount(sheet.title, layout, data_rows, len(records) - before))
    finally:
        workbook.close()
    return YouthPrevalenceParse(
        tuple(records), tuple(sheets), ParseSummary(read, len(records), tuple(skipped))
    )


def _youth_record(
    row: tuple[object, ...],
    row_number: int,
    table: _Table,
    layout: str,
    fill: _Fill,
    file_name: str,
    sheet: str,
) -> YouthPrevalenceRecord | None:
    cells = _Values(row, table)

    def value(period: str, sex: str | None = None) -> float | None:
        if layout == LAYOUT_YOUTH_NPS:
            return cells.number(f"{period}.{sex or 'total'}")
        return None if sex else cells.number(period)

    values = {
        "lifetime": value("lifetime"),
        "past_year": value("pastyear"),
        "past_month": value("pastmonth"),
        "lifetime_male": value("lifetime", "male"),
        "lifetime_female": value("lifetime", "female"),
        "past_year_male": value("pastyear", "male"),
        "past_year_female": value("pastyear", "female"),
        "past_month_male": value("pastmonth", "male"),
        "past_month_female": value("pastmonth", "female"),
    }
    if all(number is None for number in values.values()) and not cells.non_numeric:
        return None
    country = clean_text(row[_country_column(table)])
    assert country is not None
    year = _cell(row, table, "yearofestimate")
    first_value_key = next(key for key in ("lifetime", "lifetime.total") if key in table.columns)
    column = table.columns[first_value_key]
    return YouthPrevalenceRecord(
        sheet=sheet,
        layout=layout,
        region=fill.region,
        subregion=fill.subregion,
        country=country,
        nps_type=fill.nps_type if layout == LAYOUT_YOUTH_NPS else None,
        substance=clean_text(_cell(row, table, "substance")),
        coverage=clean_text(_cell(row, table, "coverageagegrade")),
        year_reported=clean_text(year),
        year=first_year(year),
        source_label=clean_text(_cell(row, table, "source")),
        notes=clean_text(_cell(row, table, "notes")),
        non_numeric=tuple(cells.non_numeric),
        source=Provenance(file_name, sheet, row_number, f"{get_column_letter(column + 1)}{row_number}"),
        **values,
    )
