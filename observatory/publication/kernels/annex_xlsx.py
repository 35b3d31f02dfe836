"""Statistical annex workbooks in the World Drug Report layouts.

Three tables, shaped like the WDR 2025 annex files so readers and importers find things where they
expect them:

- seizures (annex 7.1): title on row 1, header on row 2, one row per country × drug × year;
- prevalence (annex 1.2): one sheet per drug, title row 1, population note row 2, header row 3
  starting in column B, region and sub-region printed only on the first row of their block,
  Best/Low/High, notes below the table;
- cultivation (annex 6.x): title row 1, years as column headers on row 3, region label rows,
  country rows with optional lower/upper bound rows, ``..`` for missing, italics for preliminary.

Every workbook ends with the release label and a source/attribution line. Text that a spreadsheet
would run as a formula is stored as a text cell with Excel's quote-prefix flag, never as a formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .csv_safe import is_formula_like

SEIZURES_HEADER_ROW = 2
PREVALENCE_HEADER_ROW = 3
CULTIVATION_HEADER_ROW = 3
MISSING_MARK = ".."

SEIZURES_HEADER = (
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
PREVALENCE_HEADER = (
    "Region",
    "Sub-region",
    "Country/Territory",
    "Best",
    "Low",
    "High",
    "Male",
    "Female",
    "Year",
    "Age",
    "Source",
    "Method",
    "Adjustment/\n notes",
    "Specific notes",
)
PREVALENCE_FIRST_COLUMN = 2  # WDR leaves column A empty
DEFAULT_PREVALENCE_SUBTITLE = (
    "Annual Prevalence of Use as a percentage of the population aged 15-64 (unless otherwise indicated)"
)
_BOLD = Font(bold=True)
_ITALIC = Font(italic=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
CellInput = str | int | float | None


@dataclass(frozen=True)
class AnnexRelease:
    """Which release a workbook reproduces, and whom to credit."""

    label: str
    released_on: date
    source: str = "Source: UNODC, responses to the annual report questionnaire and other official sources."

    @property
    def release_line(self) -> str:
        return f"Release: {self.label} (published {self.released_on.isoformat()})"


@dataclass(frozen=True)
class SeizureRow:
    region: str
    subregion: str
    country: str
    drug_group: str
    drug_subgroup: str
    drug_name: str
    year: int
    kilograms: float | None
    country_code: str


@dataclass(frozen=True)
class PrevalenceRow:
    region: str
    subregion: str
    country: str
    year: int
    best: float | None = None
    low: float | None = None
    high: float | None = None
    male: float | None = None
    female: float | None = None
    age_range: str = "15-64"
    source: str = ""
    method: str = ""
    adjustment_notes: str = ""
    specific_notes: str = ""


@dataclass(frozen=True)
class PrevalenceSheet:
    drug: str
    rows: Sequence[PrevalenceRow]
    subtitle: str = DEFAULT_PREVALENCE_SUBTITLE
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class CultivationRow:
    """One line of a cultivation table; ``label`` defaults to the country (e.g. 'lower bound a')."""

    region: str
    country: str
    values: Mapping[int, float | None]
    label: str | None = None
    preliminary_years: frozenset[int] = frozenset()


@dataclass(frozen=True)
class CultivationTable:
    title: str
    years: Sequence[int]
    rows: Sequence[CultivationRow]
    total: Mapping[int, float | None] | None = None
    total_label: str = "TOTAL"
    notes: Sequence[str] = field(default_factory=tuple)


def put(sheet: Worksheet, row: int, column: int, value: CellInput) -> Cell:
    """Write one cell; formula-like text becomes a quote-prefixed text cell, never a formula."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str) and is_formula_like(value):
        cell.value = value
        # openpyxl infers 'f' (formula) from a leading '='; force text and mark it as Excel's
        # apostrophe prefix so editing the cell in Excel keeps it text as well.
        cell.data_type = "s"
        cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _release_lines(sheet: Worksheet, row: int, column: int, release: AnnexRelease) -> None:
    put(sheet, row, column, release.release_line).font = _ITALIC
    put(sheet, row + 1, column, release.source).font = _ITALIC


def _to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_title(text: str) -> str:
    """An Excel-legal sheet name: no []:*?/\\ and at most 31 characters."""
    cleaned = " ".join(re.sub(r"[\[\]:*?/\\]", " ", text).split())
    return cleaned[:31].rstrip() or "Sheet"


def seizures_workbook(
    rows: Sequence[SeizureRow], release: AnnexRelease, title: str = "Drug seizures"
) -> bytes:
    """Annex 7.1 layout. Rows are written as given: the caller sums multiple units, never this writer."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Seizures"
    put(sheet, 1, 1, title).font = _BOLD
    for column, name in enumerate(SEIZURES_HEADER, start=1):
        put(sheet, SEIZURES_HEADER_ROW, column, name).font = _BOLD
    row_number = SEIZURES_HEADER_ROW
    for row_number, row in enumerate(rows, start=SEIZURES_HEADER_ROW + 1):
        values: tuple[CellInput, ...] = (
            row.region,
            row.subregion,
            row.country,
            row.drug_group,
            row.drug_subgroup,
            row.drug_name,
            row.year,
            row.kilograms,
            row.country_code,
        )
        for column, value in enumerate(values, start=1):
            put(sheet, row_number, column, value)
    sheet.freeze_panes = sheet.cell(row=SEIZURES_HEADER_ROW + 1, column=1)
    _release_lines(sheet, row_number + 2, 1, release)
    return _to_bytes(workbook)


def _grouped(rows: Sequence[PrevalenceRow]) -> list[PrevalenceRow]:
    """Rows grouped by region then sub-region in first-seen order, input order kept inside a group."""
    region_order: dict[str, int] = {}
    subregion_order: dict[tuple[str, str], int] = {}
    for row in rows:
        region_order.setdefault(row.region, len(region_order))
        subregion_order.setdefault((row.region, row.subregion), len(subregion_order))
    return sorted(rows, key=lambda r: (region_order[r.region], subregion_order[(r.region, r.subregion)]))


def prevalence_workbook(sheets: Sequence[PrevalenceSheet], release: AnnexRelease) -> bytes:
    """Annex 1.2 layout, one sheet per drug."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    first = PREVALENCE_FIRST_COLUMN
    last = first + len(PREVALENCE_HEADER) - 1
    for drug_sheet in sheets:
        sheet = workbook.create_sheet(sheet_title(drug_sheet.drug))
        put(sheet, 1, first, drug_sheet.drug.upper()).font = _BOLD
        put(sheet, 2, first, drug_sheet.subtitle)
        for title_row in (1, 2):
            sheet.merge_cells(start_row=title_row, start_column=first, end_row=title_row, end_column=last)
        for offset, name in enumerate(PREVALENCE_HEADER):
            cell = put(sheet, PREVALENCE_HEADER_ROW, first + offset, name)
            cell.font = _BOLD
            cell.alignment = _WRAP
        previous_region: str | None = None
        previous_subregion: tuple[str, str] | None = None
        row_number = PREVALENCE_HEADER_ROW
        for row_number, row in enumerate(_grouped(drug_sheet.rows), start=PREVALENCE_HEADER_ROW + 1):
            # WDR prints region and sub-region once, on the first row of their block.
            region = row.region if row.region != previous_region else None
            subregion = row.subregion if (row.region, row.subregion) != previous_subregion else None
            previous_region, previous_subregion = row.region, (row.region, row.subregion)
            values: tuple[CellInput, ...] = (
                region,
                subregion,
                row.country,
                row.best,
                row.low,
                row.high,
                row.male,
                row.female,
                row.year,
                row.age_range,
                row.source,
                row.method,
                row.adjustment_notes,
                row.specific_notes,
            )
            for offset, value in enumerate(values):
                put(sheet, row_number, first + offset, value if value != "" else None)
        note_row = row_number + 2
        for note in drug_sheet.notes:
            cell = put(sheet, note_row, first, note)
            cell.alignment = _WRAP
            sheet.merge_cells(start_row=note_row, start_column=first, end_row=note_row, end_column=last)
            note_row += 1
        _release_lines(sheet, note_row, first, release)
        sheet.freeze_panes = sheet.cell(row=PREVALENCE_HEADER_ROW + 1, column=first + 3)
        sheet.column_dimensions[get_column_letter(first + 2)].width = 28
    if not workbook.worksheets:
        workbook.create_sheet("Prevalence")
    return _to_bytes(workbook)


def cultivation_workbook(table: CultivationTable, release: AnnexRelease) -> bytes:
    """Annex 6.x layout: years as columns (plain integers, not date serials), ``..`` where unknown."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Cultivation"
    last_column = 1 + len(table.years)
    put(sheet, 1, 1, table.title).font = _BOLD
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_column)
    put(sheet, CULTIVATION_HEADER_ROW, 1, "Country").font = _BOLD
    for offset, year in enumerate(table.years, start=2):
        put(sheet, CULTIVATION_HEADER_ROW, offset, year).font = _BOLD
    row_number = CULTIVATION_HEADER_ROW + 1
    current_region: str | None = None
    for line in table.rows:
        if line.region != current_region:
            row_number += 1
            put(sheet, row_number, 1, line.region.upper()).font = _BOLD
            current_region = line.region
            row_number += 1
        put(sheet, row_number, 1, line.label or line.country)
        for offset, year in enumerate(table.years, start=2):
            value = line.values.get(year)
            cell = put(sheet, row_number, offset, MISSING_MARK if value is None else value)
            if year in line.preliminary_years:
                cell.font = _ITALIC
            cell.alignment = Alignment(horizontal="right")
        row_number += 1
    if table.total is not None:
        row_number += 1
        put(sheet, row_number, 1, table.total_label).font = _BOLD
        for offset, year in enumerate(table.years, start=2):
            value = table.total.get(year)
            cell = put(sheet, row_number, offset, MISSING_MARK if value is None else value)
            cell.font = _BOLD
            cell.alignment = Alignment(horizontal="right")
        row_number += 1
    note_row = row_number + 1
    for note in table.notes:
        put(sheet, note_row, 1, note).alignment = _WRAP
        sheet.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=last_column)
        note_row += 1
    _release_lines(sheet, note_row, 1, release)
    sheet.column_dimensions["A"].width = 40
    return _to_bytes(workbook)
