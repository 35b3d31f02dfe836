"""Excel round trip of a questionnaire: build a pre-filled workbook, parse an uploaded one defensively.

Each module is one sheet holding a long table: one row per cell (question, its dimension codes, the
value, last year's value for reference).  Rows for required cells and for cells already reported are
pre-filled and only their Value cell is editable; blank rows below let a user add other cells with
drop-downs.  A hidden sheet carries the instrument, country and year so an upload can be checked.
Parsing is all or nothing: any error in form gives the complete error list and no values.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from observatory.reporting.kernels.instrument import (
    NOT_KNOWN,
    CellKey,
    Dimension,
    Instrument,
    Module,
    NotKnown,
    Question,
    Value,
    cell_key,
)

META_SHEET: Final = "_meta"
LISTS_SHEET: Final = "_lists"
FORMAT_VERSION: Final = "1"
HEADER_ROW: Final = 4
FIRST_DATA_ROW: Final = HEADER_ROW + 1
BLANK_ROWS: Final = 100  # rows left open under the pre-filled ones for cells the user adds
MAX_UPLOAD_BYTES: Final = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES: Final = 50 * 1024 * 1024  # zip bomb guard, checked before openpyxl reads
MAX_ZIP_ENTRIES: Final = 500
MAX_ERRORS: Final = 1000  # a hopeless file still gets a bounded report
NOT_KNOWN_TEXTS: Final = frozenset({"--", "not known", "n/k"})
_YEAR_RANGE: Final = re.compile(r"^\s*(\d{4})\s*(?:[-–/]\s*(\d{4}))?\s*$")
_UNLOCKED: Final = Protection(locked=False)
_INPUT_FILL: Final = PatternFill("solid", fgColor="FFF9E5")


@dataclass(frozen=True, slots=True)
class WorkbookError:
    sheet: str
    cell: str
    reason: str

    def __str__(self) -> str:
        where = f"sheet {self.sheet!r}" + (f", cell {self.cell}" if self.cell else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    values: dict[CellKey, Value] | None
    errors: tuple[WorkbookError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def module_columns(module: Module) -> list[str]:
    """Dimension codes used by any question of the module, in first-use order: the sheet's columns."""
    return list(dict.fromkeys(qd.code for question in module.questions for qd in question.dimensions))


def _headers(instrument: Instrument, module: Module, year: int) -> list[str]:
    dimension_labels = [instrument.dimension(code).label for code in module_columns(module)]
    return ["Question", "Label", *dimension_labels, "Unit", "Value", f"Previous year ({year - 1})"]


# -------------------------------------------------------------------------------------------- building


def build_workbook(
    instrument: Instrument,
    values: Mapping[CellKey, Value],
    previous_values: Mapping[CellKey, Value],
    country: str,
    year: int,
) -> bytes:
    """A workbook to fill offline: one protected sheet per module, value cells open, drop-downs."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # start without the default sheet
    lists = _write_lists_sheet(workbook, instrument)
    for module in instrument.modules:
        _write_module_sheet(
            workbook.create_sheet(module.sheet), instrument, module, values, previous_values, lists, year
        )
    meta = workbook.create_sheet(META_SHEET)
    for row, (name, value) in enumerate(
        [("format", FORMAT_VERSION), ("instrument", instrument.code), ("version", instrument.version),
         ("country", country), ("year", year)], start=1,
    ):  # fmt: skip
        meta.cell(row, 1, name)
        meta.cell(row, 2, value)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_lists_sheet(workbook: Workbook, instrument: Instrument) -> dict[str, str]:
    """Drop-down lists live on a hidden sheet (an inline list is capped at 255 characters)."""
    sheet = workbook.create_sheet(LISTS_SHEET)
    ranges: dict[str, str] = {}
    columns: list[tuple[str, list[str]]] = [
        (f"dim:{dimension.code}", [option.label for option in dimension.options])
        for dimension in instrument.dimensions
    ]
    columns += [
        (f"question:{q.code}", [o.label for o in q.options]) for q in instrument.questions() if q.options
    ]
    columns += [
        (f"module:{module.code}", [question.code for question in module.questions])
        for module in instrument.modules
    ]
    for index, (name, entries) in enumerate(columns, start=1):
        for row, entry in enumerate(entries, start=1):
            _write_text(sheet.cell(row, index), entry)
        letter = get_column_letter(index)
        ranges[name] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(entries)}"
    sheet.sheet_state = "hidden"
    sheet.protection.sheet = True
    return ranges


def _write_module_sheet(
    sheet: Worksheet, instrument: Instrument, module: Module, values: Mapping[CellKey, Value],
    previous_values: Mapping[CellKey, Value], lists: Mapping[str, str], year: int,
) -> None:  # fmt: skip
    columns = module_columns(module)
    headers = _headers(instrument, module, year)
    value_column = len(headers) - 1
    sheet.cell(1, 1, module.title).font = Font(bold=True, size=13)
    sheet.cell(
        2, 1, 'Enter figures in the Value column; "--" means not known. Add other cells in the blank rows.'
    )
    for index, header in enumerate(headers, start=1):
        sheet.cell(HEADER_ROW, index, header).font = Font(bold=True)

    row = FIRST_DATA_ROW
    for question in module.questions:
        keys = dict.fromkeys(question.required_cells())
        keys.update(dict.fromkeys(key for key in question.cells() if key in values or key in previous_values))
        for key in keys:
            dims = dict(key[1])
            _write_text(sheet.cell(row, 1), question.code)
            _write_text(sheet.cell(row, 2), question.label)
            for offset, dim in enumerate(columns):
                if dim in dims:
                    _write_text(sheet.cell(row, 3 + offset), instrument.dimension(dim).label_of(dims[dim]))
            _write_text(sheet.cell(row, value_column - 1), question.unit)
            value_cell = sheet.cell(row, value_column)
            _write_value(value_cell, question, values.get(key))
            value_cell.protection = _UNLOCKED
            value_cell.fill = _INPUT_FILL
            _write_value(sheet.cell(row, value_column + 1), question, previous_values.get(key))
            if question.options:
                _add_list_validation(sheet, lists[f"question:{question.code}"], value_cell.coordinate)
            row += 1

    # Open rows: question and dimension columns get drop-downs, everything but label/previous is editable.
    last_row = row + BLANK_ROWS - 1
    if BLANK_ROWS:
        _add_list_validation(sheet, lists[f"module:{module.code}"], f"A{row}:A{last_row}")
        for offset, dim in enumerate(columns):
            letter = get_column_letter(3 + offset)
            _add_list_validation(sheet, lists[f"dim:{dim}"], f"{letter}{row}:{letter}{last_row}")
        for blank_row in range(row, last_row + 1):
            for column in [1, *range(3, 3 + len(columns)), value_column]:
                cell = sheet.cell(blank_row, column)
                cell.protection = _UNLOCKED
                cell.fill = _INPUT_FILL
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 3)
    sheet.column_dimensions["B"].width = 50
    sheet.protection.sheet = True  # labels, codes and last year's values stay as the office wrote them


def _add_list_validation(sheet: Worksheet, source: str, cells: str) -> None:
    validation = DataValidation(type="list", formula1=f"={source}", allow_blank=True)
    validation.error = "Choose a value from the list."
    validation.showErrorMessage = True
    sheet.add_data_validation(validation)
    validation.add(cells)


def _write_text(cell: Cell, text: str) -> None:
    cell.value = text
    if text.startswith(("=", "+", "-", "@")):
        cell.data_type = "s"  # never let exported text become a formula (formula injection)


def _write_value(cell: Cell, question: Question, value: Value | None) -> None:
    if value is None:
        return
    if isinstance(value, NotKnown):
        _write_text(cell, NOT_KNOWN.value)
    elif question.value_type == "year_range" and isinstance(value, tuple):
        _write_text(cell, str(value[0]) if value[0] == value[1] else f"{value[0]}-{value[1]}")
    elif question.value_type == "choice" and isinstance(value, str):
        labels = {option.code: option.label for option in question.options}
        _write_text(cell, labels.get(value, value))
    elif isinstance(value, str):
        _write_text(cell, value)
    elif isinstance(value, int | float):
        cell.value = value


# --------------------------------------------------------------------------------------------- parsing


class _Errors:
    def __init__(self) -> None:
        self.items: list[WorkbookError] = []

    def add(self, sheet: str, cell: str, reason: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append(WorkbookError(sheet, cell, reason))

    def result(self) -> ParseResult:
        return ParseResult(None, tuple(self.items))


def parse_workbook(
    data: bytes,
    instrument: Instrument,
    country: str,
    year: int,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> ParseResult:
    """The values of an uploaded workbook, or every error in it (sheet, cell, reason) and no values."""
    errors = _Errors()
    if len(data) > max_bytes:
        errors.add("", "", f"the file is {len(data):,} bytes; uploads are limited to {max_bytes:,} bytes")
        return errors.result()
    container_error = _check_container(data, max_uncompressed_bytes)
    if container_error:
        errors.add("", "", container_error)
        return errors.result()
    try:
        # Formulas are read as their text and refused below; nothing is ever calculated.
        workbook = load_workbook(io.BytesIO(data), data_only=False, keep_links=False, keep_vba=False)
    except Exception as error:  # openpyxl raises many types on a corrupt package; all mean "unreadable"
        errors.add("", "", f"the file cannot be read as an Excel workbook ({type(error).__name__})")
        return errors.result()

    _check_meta(workbook, instrument, country, year, errors)
    expected = {module.sheet for module in instrument.modules} | {META_SHEET, LISTS_SHEET}
    for title in workbook.sheetnames:
        if title not in expected:
            errors.add(
                title, "", "unexpected sheet: this workbook must keep the sheets it was downloaded with"
            )
    values: dict[CellKey, Value] = {}
    seen_at: dict[CellKey, str] = {}
    for module in instrument.modules:
        if module.sheet not in workbook.sheetnames:
            errors.add(module.sheet, "", f"sheet for module '{module.title}' is missing")
            continue
        _parse_module_sheet(workbook[module.sheet], instrument, module, year, values, seen_at, errors)
    if errors.items:
        return errors.result()
    return ParseResult(values, ())


def _check_container(data: bytes, max_uncompressed_bytes: int) -> str | None:
    """Refuse what is not an .xlsx package, or would expand beyond the cap, before parsing it."""
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        return "the file is not an Excel workbook (.xlsx): it is not a zip package"
    try:
        with zipfile.ZipFile(buffer) as package:
            entries = package.infolist()
            names = {entry.filename for entry in entries}
    except (zipfile.BadZipFile, OSError, ValueError):
        return "the file is not an Excel workbook (.xlsx): the zip package is damaged"
    if len(entries) > MAX_ZIP_ENTRIES:
        return f"the package holds {len(entries)} parts; an exported questionnaire holds far fewer"
    total = sum(entry.file_size for entry in entries)
    if total > max_uncompressed_bytes:
        return f"the workbook expands to {total:,} bytes, over the limit of {max_uncompressed_bytes:,} bytes"
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return "the file is not an Excel workbook (.xlsx): the workbook part is missing"
    return None


def _check_meta(workbook: Any, instrument: Instrument, country: str, year: int, errors: _Errors) -> None:
    if META_SHEET not in workbook.sheetnames:
        errors.add(META_SHEET, "", "the identification sheet is missing: download a fresh workbook")
        return
    sheet = workbook[META_SHEET]
    found = {str(sheet.cell(row, 1).value): (sheet.cell(row, 2).value, f"B{row}") for row in range(1, 10)}
    for name, wanted in (
        ("format", FORMAT_VERSION), ("instrument", instrument.code), ("version", instrument.version),
        ("country", country), ("year", str(year)),
    ):  # fmt: skip
        value, coordinate = found.get(name, (None, "B?"))
        if str(value) != wanted:
            errors.add(META_SHEET, coordinate, f"this workbook is for {name} {value!r}, expected {wanted!r}")


def _parse_module_sheet(
    sheet: Worksheet, instrument: Instrument, module: Module, year: int,
    values: dict[CellKey, Value], seen_at: dict[CellKey, str], errors: _Errors,
) -> None:  # fmt: skip
    title = sheet.title
    columns = module_columns(module)
    headers = _headers(instrument, module, year)
    value_column = len(headers) - 1
    for index, header in enumerate(headers, start=1):
        found = sheet.cell(HEADER_ROW, index).value
        if found != header:
            errors.add(
                title, f"{get_column_letter(index)}{HEADER_ROW}", f"header {found!r} should be {header!r}"
            )
    for merged in sheet.merged_cells.ranges:
        if merged.max_row >= HEADER_ROW:
            errors.add(title, str(merged), "merged cells are not allowed in the data area")
    if any(error.sheet == title for error in errors.items):
        return  # with a broken layout the cell-by-cell messages would only add noise

    labels_by_dimension = {dim: _label_lookup(instrument.dimension(dim)) for dim in columns}
    for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_col=max(len(headers), sheet.max_column)):
        for cell in row:
            if _is_formula(cell):
                errors.add(title, cell.coordinate, "formulas are not accepted; type the figure itself")
        if any(_is_formula(cell) for cell in row):
            continue
        question_cell, value_cell = row[0], row[value_column - 1]
        dimension_cells = row[2 : 2 + len(columns)]
        if _blank(value_cell.value):
            continue  # an unanswered row (pre-filled or open) reports nothing
        if _blank(question_cell.value):
            errors.add(title, question_cell.coordinate, "a value is given but the question code is empty")
            continue
        question_code = str(question_cell.value).strip()
        if question_code not in {question.code for question in module.questions}:
            errors.add(title, question_cell.coordinate, f"{question_code!r} is not a question of this module")
            continue
        question = instrument.question(question_code)
        dims = _parse_dimensions(title, question, columns, dimension_cells, labels_by_dimension, errors)
        if dims is None:
            continue
        key = cell_key(question.code, dims)
        if key in seen_at:
            errors.add(title, value_cell.coordinate, f"the same cell is already given at {seen_at[key]}")
            continue
        seen_at[key] = f"{title}!{value_cell.coordinate}"
        parsed = _parse_value(question, value_cell.value)
        if isinstance(parsed, _Invalid):
            errors.add(title, value_cell.coordinate, parsed.reason)
        else:
            values[key] = parsed


def _parse_dimensions(
    sheet: str, question: Question, columns: list[str], cells: Iterable[Cell],
    labels_by_dimension: Mapping[str, Mapping[str, str]], errors: _Errors,
) -> dict[str, str] | None:  # fmt: skip
    dims: dict[str, str] = {}
    ok = True
    question_dims = {qd.code for qd in question.dimensions}
    for dim, cell in zip(columns, cells, strict=True):
        text = "" if _blank(cell.value) else str(cell.value).strip()
        if dim not in question_dims:
            if text:
                errors.add(
                    sheet, cell.coordinate, f"{question.code!r} has no dimension {dim!r}; leave it empty"
                )
                ok = False
            continue
        code = labels_by_dimension[dim].get(text.casefold())
        if code is None or code not in question.dimension(dim).codes:
            allowed = ", ".join(question.dimension(dim).codes)
            reason = f"{dim!r} is empty" if not text else f"{text!r} is not allowed for {dim!r}"
            errors.add(sheet, cell.coordinate, f"{reason} (allowed for {question.code}: {allowed})")
            ok = False
        else:
            dims[dim] = code
    return dims if ok else None


@dataclass(frozen=True, slots=True)
class _Invalid:
    reason: str


def _parse_value(question: Question, raw: object) -> Value | _Invalid:
    """Check a value's form against the question's type (ranges are left to the validation rules)."""
    if isinstance(raw, str) and raw.strip().casefold() in NOT_KNOWN_TEXTS:
        return NOT_KNOWN
    kind = question.value_type
    if kind in ("number", "percentage", "integer"):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return _Invalid(f'{raw!r} is not a number ({question.code} expects a {kind}; "--" if not known)')
        if raw != raw or raw in (float("inf"), float("-inf")):
            return _Invalid(f"{raw!r} is not a finite number")
        if kind == "integer":
            if float(raw) != int(raw):
                return _Invalid(f"{raw!r} is not a whole number ({question.code} expects a count)")
            return int(raw)
        return raw
    text = str(raw).strip() if not isinstance(raw, float) or not raw.is_integer() else str(int(raw))
    if kind == "choice":
        lookup = {option.label.casefold(): option.code for option in question.options}
        lookup.update({option.code.casefold(): option.code for option in question.options})
        code = lookup.get(text.casefold())
        if code is None:
            choices = "; ".join(option.label for option in question.options)
            return _Invalid(f"{text!r} is not one of the choices: {choices}")
        return code
    if kind == "year_range":
        match = _YEAR_RANGE.match(text)
        if match is None:
            return _Invalid(f"{text!r} is not a year or a year range such as 2021-2022")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            return _Invalid(f"{text!r}: the range ends before it starts")
        return (first, last)
    if isinstance(raw, int | float | str):
        return text
    return _Invalid(f"{raw!r} is not text")


def _label_lookup(dimension: Dimension) -> dict[str, str]:
    lookup = {option.code.casefold(): option.code for option in dimension.options}
    lookup.update({option.label.casefold(): option.code for option in dimension.options})
    return lookup


def _is_formula(cell: Any) -> bool:
    return getattr(cell, "data_type", None) == "f" or type(cell.value).__name__ in (
        "ArrayFormula",
        "DataTableFormula",
    )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
