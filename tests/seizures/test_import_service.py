"""Import service: all-or-nothing, every bad row named, idempotent, kg only through a factor."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from observatory.access import policy
from observatory.reference.models import ConversionFactor, Country
from observatory.seizures.kernels.generator import IDS_COLUMNS, write_seizure_cases_csv
from observatory.seizures.models import ImportBatch, SeizureCase
from observatory.seizures.services import import_seizure_file
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("reference")

HEADER = ",".join(IDS_COLUMNS)


def row(**cells: str) -> str:
    values = {
        "CASE_REFERENCE": "COL-1",
        "COUNTRY_OF_SEIZURE": "COL",
        "SEIZURE_DATE": "2023-04-05",
        "DRUG_NAME": "Cocaine hydrochloride",
        "AMOUNT_OF_DRUG": "250",
        "DRUG_UNIT": "kg",
        "PRODUCING_COUNTRY": "COL",
        "DEPARTURE_COUNTRY": "COL",
        "TRANSIT_COUNTRIES": "PAN",
        "DESTINATION_COUNTRY": "USA",
        "TRAFFICKING_CHANNEL": "",
        "OFFENDER_NATIONALITIES": "COL;USA",
        "SEIZING_AGENCY": "Police",
        **cells,
    }
    return ",".join(values.get(name, "") for name in IDS_COLUMNS)


def write(tmp_path: Path, name: str, *rows: str, raw: bytes | None = None) -> Path:
    path = tmp_path / name
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_clean_file_is_stored_with_kg_from_a_factor_and_counts_without_one_stay_none(tmp_path: Path) -> None:
    """Given a clean file of three cases, when imported, then all three are stored as reported, kg comes
    from the versioned factor whose id is kept, and plants (no factor) have no kg."""
    path = write(
        tmp_path,
        "good.csv",
        row(),
        row(CASE_REFERENCE="COL-2", AMOUNT_OF_DRUG="1500", DRUG_UNIT="grams", SEIZURE_DATE="2023-07"),
        row(CASE_REFERENCE="COL-3", DRUG_NAME="Cannabis plants", AMOUNT_OF_DRUG="40", DRUG_UNIT="plants"),
    )
    outcome = import_seizure_file(None, path, country_iso3="COL", system=True)
    assert outcome.created and outcome.batch.status == ImportBatch.Status.IMPORTED
    assert outcome.batch.rows_imported == 3
    cases = {c.case_reference: c for c in SeizureCase.objects.select_related("conversion_factor__unit")}
    assert cases["COL-1"].kg_equivalent == 250.0
    assert cases["COL-1"].conversion_factor is not None
    assert cases["COL-1"].conversion_factor.unit.code == "kg"
    assert cases["COL-2"].kg_equivalent == pytest.approx(1.5)
    assert cases["COL-2"].unit_label == "grams" and cases["COL-2"].quantity == 1500.0
    assert cases["COL-2"].date_precision == "month" and str(cases["COL-2"].seizure_date) == "2023-07-01"
    assert cases["COL-3"].kg_equivalent is None and cases["COL-3"].conversion_factor_id is None
    assert cases["COL-1"].route == "COL>PAN>USA"
    assert cases["COL-1"].offender_nationalities == "COL;USA"
    assert cases["COL-1"].drug.code == "cocaine.cocaine.cocaine-hydrochloride"
    assert ConversionFactor.objects.filter(pk=cases["COL-1"].conversion_factor_id or 0).exists()


FIFTY_ONE_COUNTRIES = [  # more than a stored list holds
    "AFG", "ALB", "DZA", "AGO", "ARG", "ARM", "AUS", "AUT", "AZE", "BHS", "BHR", "BGD", "BLR", "BEL", "BLZ", "BEN", "BTN",
    "BOL", "BIH", "BWA", "BRA", "BRN", "BGR", "BFA", "BDI", "KHM", "CMR", "CAN", "CPV", "CAF", "TCD", "CHL", "CHN", "COL",
    "COM", "COG", "CRI", "CIV", "HRV", "CUB", "CYP", "CZE", "DNK", "DJI", "DMA", "DOM", "ECU", "EGY", "SLV", "GNQ", "ERI",
]  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "raw", "expected"),
    [
        ({"DRUG_NAME": "Moonshine powder"}, None, [(3, "DRUG_NAME", "unknown_drug")]),
        ({"AMOUNT_OF_DRUG": "-5"}, None, [(3, "AMOUNT_OF_DRUG", "negative_quantity")]),
        ({"DRUG_UNIT": "bushels"}, None, [(3, "DRUG_UNIT", "unknown_unit")]),
        ({"SEIZURE_DATE": "2999-01-01"}, None, [(3, "SEIZURE_DATE", "future_date")]),
        ({"TRANSIT_COUNTRIES": ";".join(FIFTY_ONE_COUNTRIES)}, None, [(3, "TRANSIT_COUNTRIES", "too_many_countries")]),
        (None, b"", [(1, None, "empty_file")]),
        (None, ("\n".join([HEADER, row(), row(CASE_REFERENCE="caf\xe9")]) + "\n").encode("latin-1"),
         [(3, None, "wrong_encoding")]),
        (None, ("\n".join([HEADER, row(), row(CASE_REFERENCE='"COL-2'), row()]) + "\n").encode(),
         [(3, None, "malformed_csv")]),
    ],
    ids=["unknown-drug", "negative-quantity", "unknown-unit", "future-date", "51-transits", "0-byte", "latin-1", "bad-csv"],
)  # fmt: skip
def test_bad_file_names_every_bad_row_and_writes_nothing(
    tmp_path: Path,
    cells: dict[str, str] | None,
    raw: bytes | None,
    expected: list[tuple[int, str | None, str]],
) -> None:
    """Given a file with one bad row after a good one, when imported, then the batch is rejected with the
    row, column and reason, and no case is stored."""
    path = write(tmp_path, "bad.csv", row(), row(CASE_REFERENCE="COL-2", **(cells or {})), raw=raw)
    outcome = import_seizure_file(None, path, country_iso3="COL", system=True)
    batch = outcome.batch
    assert batch.status == ImportBatch.Status.REJECTED
    assert [(e["row"], e["column"], e["code"]) for e in batch.errors] == expected
    assert all(e["message"] for e in batch.errors)
    assert SeizureCase.objects.count() == 0


def test_every_bad_row_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many.csv",
        row(DRUG_NAME="Unobtainium"),
        row(),
        row(AMOUNT_OF_DRUG="-1", DRUG_UNIT="bushels"),
        row(SEIZURE_DATE="2999"),
    )
    batch = import_seizure_file(None, path, country_iso3="COL", system=True).batch
    assert [(e["row"], e["column"], e["code"]) for e in batch.errors] == [
        (2, "DRUG_NAME", "unknown_drug"),
        (4, "AMOUNT_OF_DRUG", "negative_quantity"),
        (4, "DRUG_UNIT", "unknown_unit"),
        (5, "SEIZURE_DATE", "future_date"),
    ]
    assert batch.errors[0]["message"] == "unknown drug 'Unobtainium'"
    assert SeizureCase.objects.count() == 0


def test_reimporting_the_same_file_or_its_rows_adds_nothing(tmp_path: Path) -> None:
    """Given an imported generated file, when the same file is imported again, nothing is added; when a
    second file repeats its rows plus one more, only the new row is added."""
    path = tmp_path / "gen.csv"
    write_seizure_cases_csv(path, 300, seed=5)
    first = import_seizure_file(None, path, system=True)
    assert first.batch.rows_imported == 300
    again = import_seizure_file(None, path, system=True)
    assert not again.created and again.batch.pk == first.batch.pk
    assert SeizureCase.objects.count() == 300 and ImportBatch.objects.count() == 1
    extended = tmp_path / "extended.csv"
    lines = path.read_text().splitlines()
    extended.write_text("\n".join([*lines, lines[1].replace(lines[1].split(",")[0], "NEW-REF", 1)]) + "\n")
    third = import_seizure_file(None, extended, system=True)
    assert (third.batch.rows_imported, third.batch.rows_already_present) == (1, 300)
    assert SeizureCase.objects.count() == 301


def test_rows_of_another_country_are_refused_for_a_country_import(tmp_path: Path) -> None:
    path = write(tmp_path, "other.csv", row(COUNTRY_OF_SEIZURE="PER"))
    batch = import_seizure_file(None, path, country_iso3="COL", system=True).batch
    assert [(e["row"], e["code"]) for e in batch.errors] == [(2, "country_mismatch")]
    assert SeizureCase.objects.count() == 0


def test_a_user_cannot_import_for_another_country_and_nothing_changes(tmp_path: Path) -> None:
    focal_per = make_user("focal_point", country="PER")
    path = write(tmp_path, "good.csv", row())
    with pytest.raises(policy.PermissionDenied):
        import_seizure_file(focal_per, path, country_iso3="COL")
    assert (SeizureCase.objects.count(), ImportBatch.objects.count()) == (0, 0)


def test_command_imports_and_reports_rejections(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", row())
    call_command("import_seizure_cases", str(good), "--country", "COL")
    assert SeizureCase.objects.count() == 1
    bad = write(tmp_path, "bad.csv", row(DRUG_UNIT="bushels"))
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_seizure_cases", str(bad), "--country", "COL")
    assert SeizureCase.objects.count() == 1


def test_generate_command_writes_the_requested_rows(tmp_path: Path) -> None:
    out = tmp_path / "g.csv"
    call_command("generate_seizure_cases", "--count", "25", "--seed", "4", "--out", str(out))
    lines = out.read_text().splitlines()
    assert lines[0] == HEADER and len(lines) == 26


def test_xlsx_file_is_imported_like_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(IDS_COLUMNS))
    cells = row().split(",")
    cells[IDS_COLUMNS.index("AMOUNT_OF_DRUG")] = 12.5  # type: ignore[call-overload]
    sheet.append(cells)
    path = tmp_path / "cases.xlsx"
    workbook.save(path)
    batch = import_seizure_file(None, path, country_iso3="COL", system=True).batch
    assert batch.status == ImportBatch.Status.IMPORTED
    assert SeizureCase.objects.get().quantity == 12.5


def test_an_import_picks_the_countrys_remembered_layout_that_names_its_columns(tmp_path: Path) -> None:
    """Given COL's remembered layout for its own column names (and none elsewhere), when a COL focal point
    and the shell import a file with those names, then both read it with that layout; the same file for
    PER finds no layout and is rejected for missing columns."""
    from observatory.seizures.services import save_column_mapping

    focal_col = make_user("focal_point", country="COL")
    names = {
        "Ref": "case_reference",
        "Date": "seizure_date",
        "Drug": "drug",
        "Qty": "quantity",
        "Unit": "unit",
    }
    save_column_mapping(focal_col, Country.objects.get(iso3="COL"), "Customs export", names)
    path = tmp_path / "own.csv"
    path.write_text("Ref,Date,Drug,Qty,Unit\nC-1,2023-04-05,cocaine,2,kg\n", encoding="utf-8")

    by_user = import_seizure_file(focal_col, path, country_iso3="COL").batch
    assert (by_user.status, by_user.mapping_name, by_user.rows_imported) == ("imported", "Customs export", 1)
    SeizureCase.objects.all().delete()
    ImportBatch.objects.all().delete()
    by_shell = import_seizure_file(None, path, country_iso3="COL", system=True).batch
    assert (by_shell.mapping_name, by_shell.rows_imported) == ("Customs export", 1)

    path.write_text("Ref,Date,Drug,Qty,Unit\nP-1,2023-04-05,cocaine,2,kg\n", encoding="utf-8")
    other = import_seizure_file(None, path, country_iso3="PER", system=True).batch
    assert other.status == "rejected" and other.mapping_name == "IDS layout"
    assert {e["code"] for e in other.errors} == {"missing_column"}
