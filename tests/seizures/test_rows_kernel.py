"""Row parser: every bad row reported with row/column/reason, valid rows normalised exactly."""

import csv
import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.seizures.kernels.rows import (
    FIELDS,
    LookupTables,
    NormalisedCase,
    RowError,
    SeizureRowParser,
    parse_seizure_rows,
)

HEADER = ["Ref", "Country", "Date", "Drug", "Qty", "Unit", "Purity", "From", "Via", "To", "Nationality"]
MAPPING = {
    "Ref": "case_reference",
    "Country": "reporting_country",
    "Date": "seizure_date",
    "Drug": "drug",
    "Qty": "quantity",
    "Unit": "unit",
    "Purity": "purity",
    "From": "origin_country",
    "Via": "transit_countries",
    "To": "destination_country",
    "Nationality": "offender_nationalities",
}
LOOKUPS = LookupTables(
    drug_aliases={"Cocaine HCl": "cocaine_hcl", "cocaine": "cocaine_hcl", "Cannabis plants": "cannabis_plant",
                  "MDMA": "mdma"},
    unit_aliases={"kg": "kg", "g": "g", "grams": "g", "plants": "plant", "tablets": "tablet"},
    conversion_factors={
        (None, "g", None, None): (1, 0.001),
        (None, "kg", None, None): (2, 1.0),
        ("mdma", "tablet", None, None): (7, 0.0003),
        ("mdma", "tablet", "EUR", 2023): (8, 0.00025),
    },
    country_codes=frozenset({"COL", "ECU", "BEL", "NLD", "ESP", "PAN"}),
    today=date(2024, 6, 30),
    country_regions={"BEL": "EUR", "NLD": "EUR", "ESP": "EUR"},
)  # fmt: skip
GOOD = ["BE-1", "BEL", "2023-04-05", "Cocaine HCl", "250", "kg", "71.5", "COL", "ECU;PAN", "NLD", "BEL; COL"]


def parse(rows, **options):
    return parse_seizure_rows(HEADER, rows, MAPPING, LOOKUPS, **options)


def test_valid_row_is_normalised_exactly():
    result = parse([GOOD])
    assert result.ok and result.rows_read == 1
    (case,) = result.rows
    assert case == NormalisedCase(
        row_number=2, fingerprint=case.fingerprint, reporting_country="BEL", case_reference="BE-1",
        seizure_date=date(2023, 4, 5), date_precision="day", place="", admin_area="", latitude=None,
        longitude=None, site_type="", transport_mode="", concealment="", drug_code="cocaine_hcl",
        drug_label="Cocaine HCl", quantity=250.0, unit_code="kg", unit_label="kg", purity_percent=71.5,
        kg_equivalent=250.0, conversion_factor_id=2, origin_country="COL", departure_country=None,
        transit_countries=("ECU", "PAN"), destination_country="NLD", trafficking_channel="",
        offender_nationalities=("BEL", "COL"), seizing_agency="",
    )  # fmt: skip
    assert len(case.fingerprint) == 32


def test_kg_comes_from_the_most_specific_factor_and_counts_without_factor_stay_none():
    rows = [
        ["1", "ESP", "2023-07", "grams", "1500", "g", "", "", "", "", ""],  # generic mass factor
        ["2", "ESP", "2023", "MDMA", "1000", "tablets", "", "", "", "", ""],  # region+year factor
        ["3", "COL", "2022-01-01", "MDMA", "1000", "tablets", "", "", "", "", ""],  # drug-wide factor
        ["4", "COL", "2022-01-01", "Cannabis plants", "40", "plants", "", "", "", "", ""],  # no factor
    ]
    rows[0][3] = "cocaine"
    result = parse(rows)
    assert result.ok
    assert [(c.kg_equivalent, c.conversion_factor_id) for c in result.rows] == [
        (pytest.approx(1.5), 1), (pytest.approx(0.25), 8), (pytest.approx(0.3), 7), (None, None),
    ]  # fmt: skip
    assert [(c.seizure_date, c.date_precision) for c in result.rows[:2]] == [
        (date(2023, 7, 1), "month"), (date(2023, 1, 1), "year"),
    ]  # fmt: skip


def test_every_bad_row_is_reported_with_row_column_and_reason():
    rows = [
        GOOD,
        [*GOOD[:3], "Cocaïne XYZ", *GOOD[4:]],  # row 3
        [*GOOD[:4], "-5", *GOOD[5:]],  # row 4
        [*GOOD[:5], "bales", *GOOD[6:]],  # row 5
        [*GOOD[:2], "2024-07-01", *GOOD[3:]],  # row 6: after today
        [*GOOD[:2], "31/12/2023", *GOOD[3:]],  # row 7
        GOOD[:5],  # row 8
        [*GOOD[:7], "ATLANTIS", *GOOD[8:]],  # row 9
        [*GOOD[:8], "ECU;XXY", *GOOD[9:]],  # row 10
        [*GOOD[:4], "1,5", *GOOD[5:]],  # row 11
        [*GOOD[:6], "140", *GOOD[7:]],  # row 12
        [*GOOD[:4], "0", "bales", *GOOD[6:]],  # row 13: two problems in one row
        GOOD,
    ]
    result = parse(rows)
    assert result.rows == []
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "Drug", "unknown_drug"),
        (4, "Qty", "negative_quantity"),
        (5, "Unit", "unknown_unit"),
        (6, "Date", "future_date"),
        (7, "Date", "malformed_date"),
        (8, None, "wrong_column_count"),
        (9, "From", "unknown_country"),
        (10, "Via", "unknown_country"),
        (11, "Qty", "malformed_quantity"),
        (12, "Purity", "malformed_purity"),
        (13, "Qty", "zero_quantity"),
        (13, "Unit", "unknown_unit"),
    ]
    messages = {e.row: e.message for e in result.errors}
    assert messages[3] == "unknown drug 'Cocaïne XYZ'"
    assert messages[6] == "date '2024-07-01' is in the future"
    assert messages[8] == "row has 5 cells, the header has 11"
    assert messages[10] == "unknown country 'XXY': use ISO 3166-1 alpha-3"


def test_a_country_list_longer_than_can_be_stored_is_a_row_error():
    """Given transit and nationality lists of 50 countries (the most a stored list holds) and one of 51,
    when parsed, then only the 51-country list is an error, named on its row and column."""
    fifty, fifty_one = ";".join(["ECU", "PAN"] * 25), ";".join(["ECU", "PAN"] * 25 + ["COL"])
    rows = [[*GOOD[:8], fifty, GOOD[9], fifty], [*GOOD[:8], GOOD[8], GOOD[9], fifty_one]]
    result = parse(rows)
    assert [(e.row, e.column, e.code, e.message) for e in result.errors] == [
        (3, "Nationality", "too_many_countries", "more than 50 countries in one list")
    ]
    accepted = parse(rows[:1]).rows[0]
    assert len(accepted.transit_countries) == len(accepted.offender_nationalities) == 50


def test_errors_across_batches_keep_spreadsheet_row_numbers():
    rows = [GOOD] * 5 + [[*GOOD[:3], "unknown", *GOOD[4:]]] + [GOOD] * 3 + [[*GOOD[:4], "-1", *GOOD[5:]]]
    parser = SeizureRowParser(HEADER, MAPPING, LOOKUPS, batch_size=4)
    result = parser.parse(rows)
    assert [(e.row, e.code) for e in result.errors] == [(7, "unknown_drug"), (11, "negative_quantity")]
    assert result.rows_read == 10


def test_missing_required_column_is_reported_on_the_header_row():
    header = [h for h in HEADER if h != "Unit"]
    rows = [[cell for h, cell in zip(HEADER, GOOD, strict=True) if h != "Unit"]]
    result = parse_seizure_rows(header, rows, MAPPING, LOOKUPS)
    assert result.errors == [RowError(1, "Unit", "missing_column", "no column for unit")]


def test_import_country_fills_empty_cells_and_rejects_other_countries():
    rows = [[*GOOD[:1], "", *GOOD[2:]], [*GOOD[:1], "ESP", *GOOD[2:]]]
    result = parse(rows, default_reporting_country="BEL")
    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "Country", "country_mismatch")]
    assert parse(rows[:1], default_reporting_country="bel").rows[0].reporting_country == "BEL"


def test_dict_rows_from_csv_dictreader_with_ragged_lines():
    text = ",".join(HEADER) + "\n" + ",".join(GOOD).replace("ECU;PAN", "ECU") + "\n" + "BE-2,BEL\n"
    reader = csv.DictReader(io.StringIO(text))
    result = parse_seizure_rows(reader.fieldnames or [], reader, MAPPING, LOOKUPS)
    assert [(e.row, e.code) for e in result.errors] == [(3, "wrong_column_count")]


def test_fingerprints_are_identical_on_reparse_and_duplicates_stay_separate():
    rows = [GOOD, GOOD, [*GOOD[:1], "ESP", *GOOD[2:]]]
    first = [c.fingerprint for c in parse(rows).rows]
    second = [c.fingerprint for c in parse([list(r) for r in rows]).rows]
    assert first == second
    assert len(set(first)) == 3  # the identical second row is a separate report, not dropped
    # Batching does not change fingerprints
    batched = SeizureRowParser(HEADER, MAPPING, LOOKUPS, batch_size=1).parse(rows)
    assert [c.fingerprint for c in batched.rows] == first
    # Cosmetic differences (case, spacing of aliases) normalise to the same content except labels
    assert parse([[*GOOD[:4], " 250.0 ", *GOOD[5:]]]).rows[0].fingerprint == first[0]


def test_max_errors_truncates_the_report():
    rows = [[*GOOD[:4], "-1", *GOOD[5:]]] * 10
    result = parse(rows, max_errors=3)
    assert len(result.errors) == 3 and result.errors_truncated


def test_unknown_mapping_target_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown fields"):
        SeizureRowParser(HEADER, {"Drug": "substance"}, LOOKUPS)
    assert set(MAPPING.values()) <= set(FIELDS)


cell_text = st.one_of(st.none(), st.text(max_size=12))  # spreadsheet readers give None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell_text, min_size=len(HEADER) - 1, max_size=len(HEADER) + 1), max_size=6))
def test_arbitrary_cells_give_a_row_or_an_error_never_a_crash(rows):
    result = parse(rows)
    assert result.rows_read == len(rows)
    rows_with_errors = {e.row for e in result.errors}
    if result.errors:
        assert result.rows == []
        assert rows_with_errors <= set(range(2, len(rows) + 2))
    else:
        assert [c.row_number for c in result.rows] == list(range(2, len(rows) + 2))


@settings(max_examples=150, deadline=None)
@given(st.floats(min_value=1e-9, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_quantities_round_trip(quantity):
    row = [*GOOD[:4], repr(quantity), *GOOD[5:]]
    (case,) = parse([row]).rows
    assert case.quantity == quantity
    assert case.kg_equivalent == quantity  # kg has factor 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(cell_text, min_size=len(HEADER) - 1, max_size=len(HEADER) + 1), max_size=7),
    st.integers(min_value=1, max_value=4),
)
def test_parse_columns_equals_parse_of_the_rows(rows, batch_size):
    """Given rows of any cells, when the rows of the header's width are given column by column, then
    the result (cases, errors, fingerprints, row numbers) is exactly that of parsing the rows."""
    rows = [row for row in rows if len(row) == len(HEADER)]
    by_rows = SeizureRowParser(HEADER, MAPPING, LOOKUPS, batch_size=batch_size, columnar=True).parse(rows)
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in HEADER]
    parser = SeizureRowParser(HEADER, MAPPING, LOOKUPS, batch_size=batch_size, columnar=True)
    by_columns = parser.parse_columns(columns)
    assert by_columns.errors == by_rows.errors
    assert by_columns.rows_read == by_rows.rows_read == len(rows)
    assert [list(zip(*b, strict=True)) for b in by_columns.blocks] == [
        list(zip(*b, strict=True)) for b in by_rows.blocks
    ]


def test_parse_columns_continues_row_numbers_and_refuses_ragged_columns():
    parser = SeizureRowParser(HEADER, MAPPING, LOOKUPS)
    bad = [*GOOD[:4], "-1", *GOOD[5:]]
    result = parser.parse_columns([list(column) for column in zip(GOOD, bad, strict=True)], 10)
    assert [(e.row, e.column, e.code) for e in result.errors] == [(11, "Qty", "negative_quantity")]
    with pytest.raises(ValueError, match="differ in length"):
        parser.parse_columns([[cell] for cell in GOOD[:-1]] + [[]])
    with pytest.raises(ValueError, match="columns given"):
        parser.parse_columns([[cell] for cell in GOOD[:-1]])
