"""The fast import paths: CSV split without csv.reader, column-wise parsing, bulk load with the
secondary indexes (and on PostgreSQL the foreign keys) rebuilt, SQLite loading without per-row key look-ups.
Each must give exactly what the plain paths give."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from observatory.seizures import services
from observatory.seizures.kernels.generator import IDS_COLUMN_MAPPING, write_seizure_cases_csv
from observatory.seizures.models import ImportBatch, SeizureCase
from observatory.seizures.services import import_seizure_file, lookup_tables, read_csv

CSV_TEXTS = [
    "a,b\r\nc,d\r\n",
    'a,"b,c"\nd,e',
    'a,""\n"",b\n',
    'a,"b""c"\n',
    "a,b,\n,,\n",
    "x, y ,z\n",
    'a,"b\nc"\nd,e\n',  # a quoted cell over two lines: csv.reader reads the whole text
    "a,b\n\nc,d\n",
    "a,b\rc,d\r",
]


@pytest.mark.parametrize("text", CSV_TEXTS)
def test_read_csv_gives_the_cells_csv_reader_gives(text: str) -> None:
    """Given CSV text (quotes, CR LF, blank lines, multi-line cells), when read, then header and rows
    are exactly what csv.reader gives."""
    expected = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    table = read_csv(text.encode())
    assert table.header == [cell.strip() for cell in expected[0]]
    assert [list(row) for row in table.rows] == expected[1:]


def test_malformed_csv_is_still_named_by_its_line() -> None:
    """Given a quote left open, when read, then the rows before it come through and the problem names the
    line where the bad record starts (csv.reader's reading, not the line split)."""
    table = read_csv(b'a,b\nc,d\ne,"f\ng,h\n')
    assert [list(row) for row in table.rows] == [["c", "d"]]
    assert [(p.row, p.code) for p in table.problems] == [(3, "malformed_csv")]


def test_columnar_parse_equals_row_parse(tmp_path: Path, reference: Any) -> None:
    """Given a generated file, when parsed column-wise, then every column holds exactly the values of the
    row-wise `NormalisedCase`s (dates as ISO text, lists `;`-joined)."""
    path = tmp_path / "gen.csv"
    write_seizure_cases_csv(path, 2_000, seed=11)
    lookups = lookup_tables()
    by_row = services.SeizureRowParser(
        read_csv(path.read_bytes()).header or [], IDS_COLUMN_MAPPING, lookups, batch_size=700
    )
    by_column = services.SeizureRowParser(
        read_csv(path.read_bytes()).header or [], IDS_COLUMN_MAPPING, lookups, batch_size=700, columnar=True
    )
    rows = by_row.parse(read_csv(path.read_bytes()).rows)
    columns = by_column.parse(read_csv(path.read_bytes()).rows)
    assert rows.ok and columns.ok and columns.rows == [] and columns.case_count == 2_000
    flat = [case for block in columns.blocks for case in zip(*block, strict=True)]
    assert len(flat) == len(rows.rows) == 2_000
    for case, values in zip(rows.rows, flat, strict=True):
        expected = (
            case.row_number, case.fingerprint, case.reporting_country, case.case_reference,
            case.seizure_date.isoformat(), case.seizure_date.year, case.date_precision, case.place,
            case.admin_area, case.latitude, case.longitude, case.site_type, case.transport_mode,
            case.concealment, case.drug_code, case.drug_label, case.quantity, case.unit_code, case.unit_label,
            case.purity_percent, case.kg_equivalent, case.conversion_factor_id, case.origin_country,
            case.departure_country, ";".join(case.transit_countries), case.destination_country,
            case.trafficking_channel, ";".join(case.offender_nationalities), case.seizing_agency,
        )  # fmt: skip
        assert values == expected


def _stored() -> list[tuple[Any, ...]]:
    return list(
        SeizureCase.objects.order_by("fingerprint").values_list(
            "fingerprint", "reporting_country_id", "seizure_date", "drug_id", "quantity", "unit_id",
            "kg_equivalent", "conversion_factor_id", "route", "transit_countries", "channel", "case_reference",
        )
    )  # fmt: skip


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, SeizureCase._meta.db_table)
    return {name for name, info in constraints.items() if info["index"]}


@pytest.mark.django_db(transaction=True)
def test_a_large_load_rebuilds_the_indexes_and_stores_the_same_rows(
    tmp_path: Path, transactional_reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the same file imported once the plain way and once as a 'large' load (indexes dropped and
    built again, and outside a transaction no per-row key checks), then the stored rows are identical,
    every index is back, and a re-import of the rows adds nothing."""
    path = tmp_path / "gen.csv"
    write_seizure_cases_csv(path, 1_500, seed=3)
    indexes = _index_names()
    assert {"seizures_case_route_year", "seizures_case_drug_year", "seizures_case_batch"} <= indexes
    plain = import_seizure_file(None, path, system=True)
    assert plain.batch.rows_imported == 1_500
    expected = _stored()
    SeizureCase.objects.all().delete()
    ImportBatch.objects.all().delete()

    monkeypatch.setattr(services, "REBUILD_INDEXES_FROM", 1)
    large = import_seizure_file(None, path, system=True)
    assert large.batch.status == ImportBatch.Status.IMPORTED and large.batch.rows_imported == 1_500
    assert _stored() == expected
    assert _index_names() == indexes
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1  # checking is back on after the load
            cursor.execute(f"PRAGMA foreign_key_check({SeizureCase._meta.db_table})")
            assert cursor.fetchall() == []
    copy = tmp_path / "copy.csv"
    copy.write_text(path.read_text() + path.read_text().splitlines()[1].replace(",", ",", 1) + "\n")
    again = import_seizure_file(None, copy, system=True)
    assert (again.batch.rows_imported, again.batch.rows_already_present) == (1, 1_500)
