"""Annex tables 6.1.1 (coca bush) and 6.2.1 (opium poppy) — illicit cultivation in hectares.

Traps handled: year headers stored as Excel dates/serials (40182 → 2010) beside plain integers;
footnote letters glued to labels ("Colombia a", "Mexico (best estimate) d,e,f"); ".." for missing;
spacer columns between years (which sometimes hold a footnote letter for the year to their left);
italic figures are preliminary; one country in two series ("Peru b" and "Peru c"), both kept;
lower/upper bound rows that belong to the country above; formulas whose cached value comes from an
external workbook (unreliable, reported as skipped rather than trusted).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

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

MISSING_MARKER = ".."
CROP_COCA = "coca_bush"
CROP_OPIUM_POPPY = "opium_poppy"

ESTIMATE_POINT = "point"
ESTIMATE_BEST = "best"
ESTIMATE_BEST_ROUNDED = "best_rounded"
ESTIMATE_LOW = "low"
ESTIMATE_HIGH = "high"


@dataclass(frozen=True, slots=True)
class CultivationRecord:
    crop: str
    region: str | None  # the heading above the row, as reported (" SOUTH-WEST ASIA")
    label_reported: str  # the row label exactly as in the sheet, stripped
    # Label without footnote letters ("Peru", "Afghanistan (best estimate)"). A country reported in
    # two series (coca: "Peru b" satellite area, "Peru c" net area) keeps both rows, told apart by
    # `footnotes` and `label_reported`.
    series: str
    country: str | None  # None for totals
    estimate: str  # point / best / best_rounded / low / high
    is_total: bool
    footnotes: tuple[str, ...]  # letters attached to the row label
    cell_footnotes: tuple[str, ...]  # letters written in the spacer column right of this year
    year: int
    hectares: float | None
    is_missing: bool  # ".." in the sheet: data unavailable
    is_preliminary: bool  # figure in italics
    formula: str | None  # the formula whose cached result is `hectares`, if any
    label_inferred: bool  # True for an unlabelled bound row whose role was inferred
    source: Provenance


@dataclass(frozen=True, slots=True)
class CultivationParse:
    crop: str
    title: str | None
    footnote_texts: dict[str, str]
    records: tuple[CultivationRecord, ...]
    summary: ParseSummary


_FOOTNOTE_DEFINITION = re.compile(r"^([a-z])\)\s*(.+)", re.DOTALL)
_ESTIMATE_IN_LABEL = re.compile(r"\((best estimate(?:, rounded)?)\)", re.IGNORECASE)


def year_of_header(value: object) -> int | None:
    """Year columns are headed by datetimes, Excel date serials (40182 → 2010) or plain years."""
    if isinstance(value, dt.datetime | dt.date):
        return value.year
    number = as_number(value)
    if number is None or number != int(number):
        return None
    if 1900 <= number <= 2100:
        return int(number)
    if 20000 <= number <= 80000:  # an Excel serial date in the 1954–2119 range
        converted = from_excel(number)
        return converted.year if isinstance(converted, dt.datetime | dt.date) else None
    return None


def split_footnotes(label: str, known_letters: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """'Colombia a' → ('Colombia', ('a',)); 'Mexico (best estimate) d,e,f' → (…, ('d','e','f')).
    Only letters that the sheet's footnotes define are taken, so names are never truncated."""
    if not known_letters:
        return label, ()
    letters = "".join(sorted(set(known_letters)))
    pattern = re.compile(rf"^(?P<name>.*?\S)\s+(?P<notes>[{letters}](?:\s*,\s*[{letters}])*)\s*$")
    match = pattern.match(label)
    if not match:
        return label, ()
    notes = tuple(letter.strip() for letter in match.group("notes").split(","))
    return match.group("name").strip(), notes


def parse_cultivation(source: Source, *, name: str | None = None) -> CultivationParse:
    file_name = source_name(source, name)
    data = read_bytes(source)
    formulas_book = load_workbook(data, data_only=False)
    values_book = load_workbook(data, data_only=True)
    sheet = formulas_book.worksheets[0]
    cached = values_book.worksheets[0]
    rows: list[tuple[Cell, ...]] = [tuple(row) for row in sheet.iter_rows()]

    header_index, year_columns = _find_year_header(rows)
    first_year_column = min(year_columns)
    title = _title(rows[:header_index])
    crop = _crop(title, file_name)
    label_column = _label_column(rows[header_index + 1 :], first_year_column)
    footnote_texts = _footnote_definitions(rows, label_column)

    records: list[CultivationRecord] = []
    skipped: list[SkippedRow] = []
    region: str | None = None
    country: str | None = None
    parent_is_total = False  # whether the best-estimate row that bound rows belong to is a total
    previous_estimate: str | None = None
    read = 0
    for row in rows[header_index + 1 :]:
        row_number = row[0].row if row else 0
        label = clean_text(row[label_column].value) if label_column < len(row) else None
        year_cells = [
            (year_columns[cell.column - 1], cell) for cell in row if cell.column - 1 in year_columns
        ]
        has_values = any(cell.value is not None for _, cell in year_cells)
        if label is None and not has_values:
            continue
        read += 1
        if not has_values:
            assert label is not None
            if _FOOTNOTE_DEFINITION.match(label) or len(label) > 80:
                skipped.append(SkippedRow(file_name, sheet.title, row_number, "note or footnote text"))
            else:
                region, country, previous_estimate = label, None, None
            continue
        label_inferred = label is None
        if label is None:
            if previous_estimate != ESTIMATE_LOW:
                skipped.append(SkippedRow(file_name, sheet.title, row_number, "values without a row label"))
                continue
            label = ""  # an unlabelled row right after a lower bound is its upper bound
        series, footnotes = split_footnotes(label, list(footnote_texts))
        estimate, is_total, row_country = _classify(series, country, parent_is_total, label_inferred)
        if estimate not in (ESTIMATE_LOW, ESTIMATE_HIGH):
            country, parent_is_total = row_country, is_total
        previous_estimate = estimate
        cell_notes = _spacer_footnotes(row, year_columns, footnote_texts)
        for year, cell in year_cells:
            record = _record(
                cell=cell,
                cached_value=cached[cell.coordinate].value,
                crop=crop,
                region=region,
                label=label,
                series=series if series else "upper bound",
                country=row_country,
                estimate=estimate,
                is_total=is_total,
                footnotes=footnotes,
                cell_footnotes=cell_notes.get(cell.column - 1, ()),
                year=year,
                label_inferred=label_inferred,
                provenance=Provenance(file_name, sheet.title, row_number, cell.coordinate),
                skipped=skipped,
            )
            if record is not None:
                records.append(record)
    return CultivationParse(
        crop, title, footnote_texts, tuple(records), ParseSummary(read, len(records), tuple(skipped))
    )


def _find_year_header(rows: list[tuple[Cell, ...]]) -> tuple[int, dict[int, int]]:
    for index, row in enumerate(rows):
        years = {cell.column - 1: year for cell in row if (year := year_of_header(cell.value)) is not None}
        if len(years) >= 5:
            return index, years
    raise ValueError("no row of year headers found")


def _title(rows: Sequence[tuple[Cell, ...]]) -> str | None:
    for row in rows:
        for cell in row:
            if (text := clean_text(cell.value)) is not None:
                return text
    return None


def _crop(title: str | None, file_name: str) -> str:
    text = f"{title or ''} {file_name}".casefold()
    if "coca" in text:
        return CROP_COCA
    if "poppy" in text or "opium" in text:
        return CROP_OPIUM_POPPY
    raise ValueError(f"{file_name}: cannot tell which crop this table is about")


def _label_column(rows: Sequence[tuple[Cell, ...]], first_year_column: int) -> int:
    """The column left of the years that holds most text: the row labels."""
    counts: dict[int, int] = {}
    for row in rows:
        for cell in row[:first_year_column]:
            if isinstance(cell.value, str) and cell.value.strip():
                counts[cell.column - 1] = counts.get(cell.column - 1, 0) + 1
    if not counts:
        raise ValueError("no row labels left of the year columns")
    return max(counts, key=lambda column: counts[column])


def _footnote_definitions(rows: Sequence[tuple[Cell, ...]], label_column: int) -> dict[str, str]:
    """Footnotes are 'a) text' rows, or lines of a long sources/notes cell."""
    definitions: dict[str, str] = {}
    for row in rows:
        if label_column >= len(row) or not isinstance(row[label_column].value, str):
            continue
        for line in row[label_column].value.splitlines():
            match = _FOOTNOTE_DEFINITION.match(line.strip())
            if match:
                definitions.setdefault(match.group(1), clean_text(match.group(2)) or "")
    return definitions


def _classify(
    series: str, current_country: str | None, parent_is_total: bool, inferred: bool
) -> tuple[str, bool, str | None]:
    """(estimate kind, is_total, country) of a row label; bound rows belong to the row above."""
    lowered = series.casefold()
    if inferred or lowered.startswith("upper bound"):
        return ESTIMATE_HIGH, parent_is_total, current_country
    if lowered.startswith("lower bound"):
        return ESTIMATE_LOW, parent_is_total, current_country
    estimate_match = _ESTIMATE_IN_LABEL.search(series)
    estimate = ESTIMATE_POINT
    if estimate_match:
        estimate = ESTIMATE_BEST_ROUNDED if "rounded" in estimate_match.group(1).casefold() else ESTIMATE_BEST
    name = _ESTIMATE_IN_LABEL.sub("", series).strip()
    if name.casefold() == "total":
        return estimate, True, None
    return estimate, False, name


def _spacer_footnotes(
    row: tuple[Cell, ...], year_columns: dict[int, int], footnote_texts: dict[str, str]
) -> dict[int, tuple[str, ...]]:
    """A footnote letter in a spacer column annotates the year column to its left."""
    notes: dict[int, tuple[str, ...]] = {}
    first_year_column = min(year_columns)
    for cell in row:
        column = cell.column - 1
        text = clean_text(cell.value)
        if column in year_columns or column < first_year_column or text is None:
            continue
        letters = tuple(letter.strip() for letter in text.split(","))
        if all(letter in footnote_texts for letter in letters):
            left = max((year_column for year_column in year_columns if year_column < column), default=None)
            if left is not None:
                notes[left] = letters
    return notes


def _record(
    *,
    cell: Cell,
    cached_value: object,
    crop: str,
    region: str | None,
    label: str,
    series: str,
    country: str | None,
    estimate: str,
    is_total: bool,
    footnotes: tuple[str, ...],
    cell_footnotes: tuple[str, ...],
    year: int,
    label_inferred: bool,
    provenance: Provenance,
    skipped: list[SkippedRow],
) -> CultivationRecord | None:
    raw = cell.value
    if raw is None:
        return None
    formula = raw if isinstance(raw, str) and raw.startswith("=") else None
    if formula is not None and "[" in formula:
        # Cached results of links to another workbook are not this table's data (they read 0).
        skipped.append(
            SkippedRow(
                provenance.file,
                provenance.sheet,
                provenance.row,
                f"{cell.coordinate}: formula refers to an external workbook: {formula}",
            )
        )
        return None
    is_missing = clean_text(raw) == MISSING_MARKER
    value = as_number(cached_value if formula is not None else raw)
    if value is None and not is_missing:
        skipped.append(
            SkippedRow(
                provenance.file, provenance.sheet, provenance.row, f"{cell.coordinate}: not a number: {raw!r}"
            )
        )
        return None
    return CultivationRecord(
        crop=crop,
        region=region,
        label_reported=label,
        series=series,
        country=country,
        estimate=estimate,
        is_total=is_total,
        footnotes=footnotes,
        cell_footnotes=cell_footnotes,
        year=year,
        hectares=value,
        is_missing=is_missing,
        is_preliminary=bool(cell.font is not None and cell.font.i),
        formula=formula,
        label_inferred=label_inferred,
        source=provenance,
    )


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letter (kept for callers building provenance)."""
    return get_column_letter(index + 1)
