"""Annex 6.1.1/6.2.1 cultivation and 2.1 expert trend perception."""

import pytest

from observatory.reference.annex.cultivation import (
    ESTIMATE_BEST,
    ESTIMATE_HIGH,
    ESTIMATE_LOW,
    parse_cultivation,
    split_footnotes,
    year_of_header,
)
from observatory.reference.annex.trends import parse_trends
from tests.reference_annex.conftest import COCA_XLSX, POPPY_XLSX, TRENDS_XLSX


@pytest.fixture(scope="module")
def coca(annex_dir):
    return parse_cultivation(COCA_XLSX)


@pytest.fixture(scope="module")
def poppy(annex_dir):
    return parse_cultivation(POPPY_XLSX.read_bytes(), name=POPPY_XLSX.name)


def value(parse, label, year):
    (record,) = [r for r in parse.records if r.label_reported == label and r.year == year]
    return record


@pytest.mark.parametrize(
    ("header", "year"), [(40182, 2010), (2014, 2014), ("2021", 2021), ("Total", None), (3.5, None)]
)
def test_year_headers_from_serials_and_integers(header, year):
    assert year_of_header(header) == year


def test_footnote_letters_are_split_from_labels():
    assert split_footnotes("Colombia a", "abc") == ("Colombia", ("a",))
    assert split_footnotes("Mexico (best estimate) d,e,f", "abcdef") == (
        "Mexico (best estimate)",
        ("d", "e", "f"),
    )
    assert split_footnotes("Bolivia (Plurinational State of)", "abc") == (
        "Bolivia (Plurinational State of)",
        (),
    )
    assert split_footnotes("Total", "") == ("Total", ())


def test_given_coca_table_then_years_labels_and_both_peru_series_are_kept(coca):
    assert coca.crop == "coca_bush"
    assert sorted({r.year for r in coca.records}) == list(range(2010, 2024))
    colombia = value(coca, "Colombia a", 2010)
    assert (colombia.country, colombia.footnotes, colombia.hectares) == ("Colombia", ("a",), 62000.0)
    assert colombia.source.cell == "C8"
    peru_2011 = sorted(
        (r.label_reported, r.hectares) for r in coca.records if r.country == "Peru" and r.year == 2011
    )
    assert peru_2011 == [("Peru b", 64400.0), ("Peru c", 62500.0)]
    assert coca.footnote_texts["c"].startswith("Net area on 31 December, deducting fields eradicated")


def test_coca_formulas_use_cached_results_and_spacer_footnotes_attach_left(coca):
    colombia_2022 = value(coca, "Colombia a", 2022)
    assert (colombia_2022.hectares, colombia_2022.formula) == (230000.0, "=MROUND(230027.62,100)")
    total_2011 = value(coca, "Total", 2011)
    assert total_2011.is_total and total_2011.cell_footnotes == ("d",) and total_2011.hectares == 155600.0
    assert value(coca, "Peru c", 2021).cell_footnotes == ("e",)
    assert len(coca.records) == 57


def test_given_poppy_table_then_bounds_belong_to_their_country(poppy):
    afghanistan_2010 = sorted(
        (r.estimate, r.hectares) for r in poppy.records if r.country == "Afghanistan" and r.year == 2010
    )
    assert afghanistan_2010 == [
        (ESTIMATE_BEST, 123000.0),
        (ESTIMATE_HIGH, 145000.0),
        (ESTIMATE_LOW, 104000.0),
    ]
    unlabelled = value(poppy, "", 2010)
    assert (unlabelled.estimate, unlabelled.is_total, unlabelled.label_inferred) == (
        ESTIMATE_HIGH,
        True,
        True,
    )
    assert value(poppy, "Colombia (best estimate)", 2018).cell_footnotes == ("h",)


def test_poppy_missing_italic_and_external_links(poppy):
    myanmar_2016 = value(poppy, "Myanmar (best estimate) b, c", 2016)
    assert (myanmar_2016.is_missing, myanmar_2016.hectares, myanmar_2016.is_preliminary) == (True, None, True)
    assert sum(r.is_preliminary for r in poppy.records) == 16  # K13 plus the rounded total row
    external = [s for s in poppy.summary.skipped if "external workbook" in s.reason]
    # 2019 best estimates link to another workbook whose cached value reads 0: not trusted
    assert [s.row for s in external] == [6, 10, 13, 18]
    assert not any(
        r.year == 2019 and r.estimate == ESTIMATE_BEST and not r.is_total and r.hectares == 0
        for r in poppy.records
    )


def test_given_trends_then_every_row_is_parsed_with_codes(annex_dir):
    parsed = parse_trends(TRENDS_XLSX)
    assert parsed.summary.rows_read == len(parsed.records) == 2_944
    assert parsed.unknown_answers == ()
    assert len({r.iso3 for r in parsed.records}) == 129
    first = parsed.records[0]
    assert first.overall is not None and first.age_0_17 is not None
    assert (first.country, first.year, first.drug, first.overall.code, first.age_0_17.code) == (
        "Kenya",
        2023,
        "“Ecstasy”-type substances",
        "small_increase",
        "stable",
    )
    assert sum(1 for r in parsed.records if r.drug is None) == 61  # group-level answers
