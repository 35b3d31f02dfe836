"""Annex 1.2 and 1.4: counts per sheet cross-checked against a plain openpyxl count."""

import openpyxl
import pytest

from observatory.reference.annex.prevalence import (
    LAYOUT_BEST_LOW_HIGH,
    LAYOUT_NPS,
    LAYOUT_TOTAL_MALE_FEMALE,
    adjustment_codes,
    first_year,
    parse_general_population,
    parse_youth,
)
from tests.reference_annex.conftest import PREVALENCE_XLSX, YOUTH_XLSX


def simple_counts(path, header_row):
    """Rows under the header whose 'Country…' column is filled — counted the plainest way."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    counts = {}
    for sheet in workbook.worksheets:
        if sheet.title == "Lookup":
            continue
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[header_row - 1]
        country = next(i for i, cell in enumerate(header) if str(cell or "").startswith("Country"))
        counts[sheet.title] = sum(
            1
            for row in rows[header_row:]
            if country < len(row)
            and str(row[country] or "").strip()
            and str(row[country]).strip() not in {"Total", "All", "Male", "Female"}
        )
    workbook.close()
    return counts


@pytest.fixture(scope="module")
def general(annex_dir):
    return parse_general_population(PREVALENCE_XLSX)


@pytest.fixture(scope="module")
def youth(annex_dir):
    return parse_youth(YOUTH_XLSX)


def test_given_1_2_then_every_sheet_is_read_with_counts_matching_the_file(general):
    expected = simple_counts(PREVALENCE_XLSX, header_row=3)
    assert {s.sheet: s.data_rows for s in general.sheets} == expected
    assert expected["Cannabis"] == 439
    assert len(general.sheets) == 10


def test_1_2_rows_without_any_value_are_reported_not_silently_dropped(general):
    skipped = [(s.sheet, s.row) for s in general.summary.skipped if s.reason == "no prevalence value"]
    assert skipped == [
        ("Cannabis", 418),
        ("Tranquillizers and sedatives", 73),
        ("Tranquillizers and sedatives", 74),
    ]
    for sheet in general.sheets:
        if sheet.layout != LAYOUT_NPS:
            lost = sum(1 for s in skipped if s[0] == sheet.sheet)
            assert sheet.records == sheet.data_rows - lost


def test_1_2_header_on_third_row_and_region_forward_filled(general):
    kenya_2007 = next(r for r in general.records if r.sheet == "Cannabis" and r.source.row == 6)
    assert (kenya_2007.region, kenya_2007.subregion, kenya_2007.country) == ("Africa", "East Africa", "Kenya")
    assert (kenya_2007.best, kenya_2007.low, kenya_2007.high, kenya_2007.year) == (2.1, 0.3, 4.0, 2007)
    assert kenya_2007.adjustment_codes == ("b", "e")
    assert kenya_2007.source.cell == "E6"
    assert all(r.region and r.subregion for r in general.records if r.layout == LAYOUT_BEST_LOW_HIGH)


def test_tranquillizer_sheet_has_total_male_female_and_no_bounds(general):
    (sheet,) = [s for s in general.sheets if s.sheet == "Tranquillizers and sedatives"]
    assert sheet.layout == LAYOUT_TOTAL_MALE_FEMALE
    records = [r for r in general.records if r.sheet == sheet.sheet]
    assert len(records) == 179
    assert all(r.low is None and r.high is None and r.value_column == "Total" for r in records)
    algeria = next(r for r in records if r.country == "Algeria")
    assert (algeria.best, algeria.male, algeria.female, algeria.age_range) == (0.59, 0.54, 0.63, "12+")


def test_nps_sheet_gives_one_record_per_recall_period(general):
    nps = [r for r in general.records if r.sheet == "NPS"]
    us_2019 = [
        r
        for r in nps
        if r.country == "United States of America"
        and r.year == 2019
        and r.substance == "Synthetic cannabinoids"
    ]
    assert [(r.recall_period, r.best, r.male, r.female) for r in us_2019] == [("past_year", 1.1, 1.5, 0.9)]
    assert {r.recall_period for r in nps} == {"lifetime", "past_year", "past_month"}
    assert all(r.nps_type for r in nps)  # merged NPS-type cells forward-filled


def test_given_1_4_then_counts_per_sheet_match_the_file(youth):
    expected = simple_counts(YOUTH_XLSX, header_row=4)
    assert {s.sheet: s.data_rows for s in youth.sheets} == expected
    assert sum(s.records for s in youth.sheets) == len(youth.records) == 4_087


def test_1_4_censored_values_are_kept_as_reported(youth):
    censored = [(r, column) for r in youth.records for column, text in r.non_numeric if text == "@"]
    assert len(censored) == 28  # "@" = less than 0.005 (Hong Kong SAR)
    assert all(r.country == "China, Hong Kong SAR" for r, _ in censored)
    assert all(r.past_month is None for r, column in censored if column == "pastmonth")


def test_1_4_nps_sheet_keeps_sex_split(youth):
    nps = [r for r in youth.records if r.sheet == "NPS"]
    assert (
        nps[0].country == "Egypt" and nps[0].lifetime == 0.7 and nps[0].nps_type == "Synthetic cannabinoids"
    )
    assert any(r.lifetime_male is not None for r in nps)


@pytest.mark.parametrize(
    ("reported", "codes"), [("b, e", ("b", "e")), ("a,x", ("a", "x")), ("z**", ("z**",)), (None, ())]
)
def test_adjustment_codes(reported, codes):
    assert adjustment_codes(reported) == codes


@pytest.mark.parametrize(
    ("reported", "year"), [(2019, 2019), ("2022/23", 2022), ("2010-11", 2010), ("n/a", None)]
)
def test_first_year(reported, year):
    assert first_year(reported) == year
