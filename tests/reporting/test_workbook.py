"""Excel round trip: a user fills the downloaded workbook; broken uploads are refused whole."""

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from observatory.reporting.kernels.instrument import NOT_KNOWN, CellKey, Value, cell_key, load_instrument
from observatory.reporting.kernels.workbook import build_workbook, parse_workbook


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


@pytest.fixture(scope="module")
def blank_workbook(instrument):
    previous = {cell_key("tr_persons", {"drug": "all_drugs", "sex": "total", "treatment_entry": "all"}): 812}
    return build_workbook(instrument, {}, previous, "KEN", 2024)


def fill(data: bytes, edits) -> bytes:
    """Open like a user would, apply edits(workbook), save."""
    workbook = load_workbook(io.BytesIO(data))
    edits(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row_of(sheet, question, **labels):
    for row in range(5, sheet.max_row + 1):
        if sheet.cell(row, 1).value == question and all(
            any(sheet.cell(row, col).value == label for col in range(3, sheet.max_column))
            for label in labels.values()
        ):
            return row
    raise AssertionError(f"no row for {question} {labels}")


def value_column(sheet):
    return next(col for col in range(1, sheet.max_column + 1) if sheet.cell(4, col).value == "Value")


def test_workbook_layout_protection_dropdowns_and_previous_year(blank_workbook, instrument):
    workbook = load_workbook(io.BytesIO(blank_workbook))
    assert workbook.sheetnames[1:12] == [module.sheet for module in instrument.modules]
    assert workbook["_meta"].sheet_state == "hidden"
    sheet = workbook["Treatment"]
    assert sheet.protection.sheet is True
    row = row_of(sheet, "tr_persons", drug="All drugs")
    column = value_column(sheet)
    assert sheet.cell(row, 2).protection.locked is True
    assert sheet.cell(row, column).protection.locked is False
    assert sheet.cell(row, column + 1).value == 812  # last year's figure beside this year's
    assert sheet.cell(4, column + 1).value == "Previous year (2023)"
    assert sheet.data_validations.dataValidation  # drop-downs for questions, dimensions and choices


def test_round_trip_gives_back_exactly_what_the_user_typed(blank_workbook, instrument):
    def edits(workbook):
        treatment = workbook["Treatment"]
        column = value_column(treatment)
        treatment.cell(row_of(treatment, "tr_persons", drug="All drugs"), column, 1234)
        deaths = workbook["Drug-related deaths"]
        deaths.cell(
            row_of(deaths, "dd_case_definition"),
            value_column(deaths),
            "Deaths directly caused by drug use (overdose, poisoning)",
        )
        deaths.cell(row_of(deaths, "dd_deaths", drug="All drugs"), value_column(deaths), "--")
        general = workbook["Prevalence general"]
        gcol = value_column(general)
        general.cell(row_of(general, "gp_prevalence", drug="Cannabis"), gcol, 4.25)
        general.cell(row_of(general, "gp_survey_year"), gcol, "2022-2023")
        # A cell the user adds in an open row, with the drop-down labels:
        free = general.max_row - 50
        general.cell(free, 1, "gp_prevalence")
        for column, label in enumerate(["Cannabis", "Lifetime", "Male", "15-24", "Best"], start=3):
            general.cell(free, column, label)
        general.cell(free, gcol, 12.5)

    result = parse_workbook(fill(blank_workbook, edits), instrument, "KEN", 2024)
    assert result.errors == ()
    assert result.values == {
        cell_key("tr_persons", {"drug": "all_drugs", "sex": "total", "treatment_entry": "all"}): 1234,
        cell_key("dd_case_definition"): "direct",
        cell_key("dd_deaths", {"drug": "all_drugs", "sex": "total"}): NOT_KNOWN,
        cell_key(
            "gp_prevalence",
            {
                "drug": "cannabis",
                "period": "past_year",
                "sex": "total",
                "age_group": "total",
                "estimate": "best",
            },
        ): 4.25,
        cell_key("gp_survey_year"): (2022, 2023),
        cell_key(
            "gp_prevalence",
            {
                "drug": "cannabis",
                "period": "lifetime",
                "sex": "male",
                "age_group": "15_24",
                "estimate": "best",
            },
        ): 12.5,
    }


def test_prefilled_values_round_trip(instrument):
    values: dict[CellKey, Value] = {
        cell_key("gp_age_range"): "=15-64",
        cell_key("pp_currency"): "KES",
        cell_key("sz_quantity", {"drug": "heroin", "seizure_unit": "kg"}): 12.75,
    }
    result = parse_workbook(build_workbook(instrument, values, {}, "KEN", 2024), instrument, "KEN", 2024)
    assert result.values == values  # text starting with "=" stays text, never a formula


def assert_refused(result, pattern):
    assert result.values is None
    assert result.errors
    assert any(re.search(pattern, str(error)) for error in result.errors), [str(e) for e in result.errors]


def test_text_in_a_number_cell_names_sheet_and_cell(blank_workbook, instrument):
    def edits(workbook):
        sheet = workbook["Treatment"]
        sheet.cell(row_of(sheet, "tr_persons", drug="All drugs"), value_column(sheet), "about 1200")

    data = fill(blank_workbook, edits)
    result = parse_workbook(data, instrument, "KEN", 2024)
    assert_refused(result, r"sheet 'Treatment', cell G5: 'about 1200' is not a number")


def test_a_formula_is_refused_and_never_evaluated(blank_workbook, instrument):
    def edits(workbook):
        sheet = workbook["Treatment"]
        sheet.cell(row_of(sheet, "tr_persons", drug="All drugs"), value_column(sheet), "=1+1")

    assert_refused(
        parse_workbook(fill(blank_workbook, edits), instrument, "KEN", 2024),
        r"sheet 'Treatment', cell G5: formulas are not accepted",
    )


def test_merged_cells_in_the_data_area(blank_workbook, instrument):
    assert_refused(
        parse_workbook(
            fill(blank_workbook, lambda wb: wb["Seizures"].merge_cells("A6:B7")), instrument, "KEN", 2024
        ),
        r"sheet 'Seizures', cell A6:B7: merged cells are not allowed",
    )


def test_wrong_or_missing_sheet(blank_workbook, instrument):
    def edits(workbook):
        workbook["Laboratories"].title = "Labs"

    result = parse_workbook(fill(blank_workbook, edits), instrument, "KEN", 2024)
    assert_refused(result, r"sheet 'Laboratories': sheet for module 'Clandestine laboratories' is missing")
    assert_refused(result, r"sheet 'Labs': unexpected sheet")


def test_workbook_of_another_country_or_year(blank_workbook, instrument):
    assert_refused(
        parse_workbook(blank_workbook, instrument, "UGA", 2024),
        r"cell B4: this workbook is for country 'KEN'",
    )
    assert_refused(
        parse_workbook(blank_workbook, instrument, "KEN", 2025), r"cell B5: this workbook is for year 2024"
    )


def test_huge_file_is_refused_before_reading(instrument):
    assert_refused(
        parse_workbook(b"x" * 6_000_000, instrument, "KEN", 2024), r"uploads are limited to 5,242,880 bytes"
    )


def test_zip_bomb_is_refused_by_uncompressed_size(instrument):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.xml", b"\0" * 60_000_000)
    assert len(buffer.getvalue()) < 1_000_000
    assert_refused(parse_workbook(buffer.getvalue(), instrument, "KEN", 2024), r"expands to 60,000,008 bytes")


def test_non_excel_file_renamed_xlsx(instrument):
    assert_refused(
        parse_workbook(b"%PDF-1.7 not a spreadsheet", instrument, "KEN", 2024), r"not an Excel workbook"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("word/document.xml", "<w/>")
    assert_refused(parse_workbook(buffer.getvalue(), instrument, "KEN", 2024), r"workbook part is missing")
