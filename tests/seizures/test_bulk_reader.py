"""The bulk reader (DuckDB) against the kernel parser: for any CSV file, either it gives exactly the rows the
kernel parser gives (values, fingerprints, keys, kilograms, routes, channels, in file order), or it leaves
the file to the kernel parser; it never accepts a file the kernel parser rejects."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.seizures import bulk, services
from observatory.seizures.kernels.generator import IDS_COLUMN_MAPPING, IDS_COLUMNS, write_seizure_cases_csv
from observatory.seizures.models import ImportBatch
from observatory.seizures.services import lookup_tables, read_csv

BATCH = ImportBatch(pk=7, file_name="cases\t2024.csv", classification="restricted")
MAPPING = {**IDS_COLUMN_MAPPING, "LAT": "latitude", "LON": "longitude"}


def _kernel_rows(data: bytes, mapping: dict[str, str]) -> list[tuple[Any, ...]] | None:
    """The rows the kernel path would store (CASE_COLUMNS order), or None when it rejects the file."""
    table = read_csv(data)
    result = services.parse_table(table, mapping, lookup_tables(), None, services._NoProgress())
    if not result.ok:
        return None
    keys = services._KeyMaps.read()
    return [
        row for block in result.blocks for row in zip(*services._db_columns(block, BATCH, keys), strict=False)
    ]


def _bulk(path: Path, mapping: dict[str, str]) -> bulk.BulkCases | None:
    plain = bulk.plain_csv_header(path)
    if plain is None:
        return None
    header, delimiter = plain
    parser = services.SeizureRowParser(header, mapping, lookup_tables())
    return bulk.load_csv(path, parser, delimiter, services._KeyMaps.read().stored_values())


def _bulk_rows(cases: bulk.BulkCases) -> list[tuple[Any, ...]]:
    values = (BATCH.pk, BATCH.file_name, BATCH.classification)
    return [tuple(row) for rows in cases.row_batches(*values) for row in rows]


def _generated_rows(count: int, seed: int, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / f"gen-{seed}.csv"
    write_seizure_cases_csv(path, count, seed=seed)
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


EDGE_TEXTS = ["", " ", "\t", "\u00a0", "\u2003", "\x1f", "\u3000"]
mutation = st.tuples(
    st.integers(0, 29),  # row
    st.sampled_from([*IDS_COLUMNS, "LAT", "LON"]),  # column
    st.sampled_from(["pad", "upper", "quote", "empty", "bad", "copy"]),
    st.sampled_from(EDGE_TEXTS),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), mutations=st.lists(mutation, max_size=6))
def test_the_bulk_reader_gives_the_kernel_rows_or_leaves_the_file_to_it(
    tmp_path: Path, reference: Any, seed: int, mutations: list[tuple[int, str, str, str]]
) -> None:
    """Given a generated file with coordinates, changed here and there (white space of every kind at the
    edges of cells, upper case, quoted cells with commas, empty cells, impossible values, identical rows),
    when read by the bulk reader, then it gives exactly the kernel parser's rows, or None; and None
    whenever the kernel parser rejects the file."""
    rows = _generated_rows(30, seed, tmp_path)
    header = [*rows[0], "LAT", "LON"]
    body = [[*row, "4.5" if n % 3 else "", "-74.125" if n % 3 else ""] for n, row in enumerate(rows[1:])]
    for row_index, column, kind, edge in mutations:
        row = body[row_index]
        position = header.index(column)
        if kind == "pad":
            row[position] = edge + row[position] + edge
        elif kind == "upper":
            row[position] = row[position].upper()
        elif kind == "quote":
            row[position] = row[position] + ", and more"
        elif kind == "empty":
            row[position] = ""
        elif kind == "bad":
            row[position] = {"AMOUNT_OF_DRUG": "-1", "SEIZURE_DATE": "2999-01-01", "LAT": "91"}.get(
                column, "??"
            )
        else:
            body.append(list(row))
    path = tmp_path / "mutated.csv"
    data = _csv_bytes([header, *body])
    path.write_bytes(data)

    expected = _kernel_rows(data, MAPPING)
    cases = _bulk(path, MAPPING)
    if cases is None:
        return
    try:
        assert expected is not None, "the bulk reader accepted a file the kernel parser rejects"
        assert _bulk_rows(cases) == expected
        assert cases.count == len(expected)
    finally:
        cases.close()


def test_a_generated_file_goes_the_bulk_way_with_identical_rows(tmp_path: Path, reference: Any) -> None:
    """Given a plain generated file, then the bulk reader takes it and gives the kernel's rows."""
    path = tmp_path / "gen.csv"
    write_seizure_cases_csv(path, 3_000, seed=5)
    cases = _bulk(path, dict(IDS_COLUMN_MAPPING))
    assert cases is not None
    try:
        rows = _bulk_rows(cases)
        assert len(rows) == 3_000
        assert rows == _kernel_rows(path.read_bytes(), dict(IDS_COLUMN_MAPPING))
        countries = {row[1] for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8")))}
        assert cases.reporting_countries() == countries - {"COUNTRY_OF_SEIZURE"}
    finally:
        cases.close()


def test_copy_text_is_the_kernel_values_in_copy_format(tmp_path: Path, reference: Any) -> None:
    """Given backslashes, a tab in a quoted cell, signed zeros and identical rows, when the bulk reader writes
    COPY text, then each line is the COPY text of the values the kernel path stores."""
    header = ",".join([*IDS_COLUMNS, "LAT", "LON"])
    cells = {"COUNTRY_OF_SEIZURE": "COL", "SEIZURE_DATE": "2023-04", "DRUG_NAME": "cocaine",
             "AMOUNT_OF_DRUG": "2.5", "DRUG_UNIT": "kg", "SEIZING_AGENCY": '"Police\tcustoms\\"',
             "TRANSIT_COUNTRIES": "PAN"}  # fmt: skip
    lines = [header]
    for number, (lat, lon) in enumerate(
        [("0", "-0"), ("-0", "0"), ("4.5", "-74.1"), ("4.5", "-74.1"), ("", "")]
    ):
        row = {**cells, "CASE_REFERENCE": f"A\\{number % 4}", "PURITY_PERCENT": "" if number % 2 else "80"}
        lines.append(",".join([*(row.get(name, "") for name in IDS_COLUMNS), lat, lon]))
    path = tmp_path / "special.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = _kernel_rows(path.read_bytes(), MAPPING)
    assert expected is not None and len(expected) == 5
    cases = _bulk(path, MAPPING)
    assert cases is not None
    try:
        text = b"".join(cases.copy_chunks(BATCH.pk, BATCH.file_name, BATCH.classification)).decode()
    finally:
        cases.close()
    assert text.splitlines() == ["\t".join(map(_copy_field, row)) for row in expected]
    assert [line.split("\t")[9:11] for line in text.splitlines()[:2]] == [["0.0", "-0.0"], ["-0.0", "0.0"]]


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return repr(value)


GOOD = "\n".join(
    [
        ",".join(IDS_COLUMNS),
        "R1,COL,2023-04-02,,,,,cocaine,2.5,kg,,,,,,,,Police",
        "R2,COL,2023-04-03,,,,,cocaine,1,kg,,,,,,,,Police",
    ]
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (GOOD.replace("\n", "\n\n", 1), "a blank line (csv.reader reads an empty row)"),
        (GOOD.replace("R2", "R\x002"), "a NUL byte"),
        (GOOD.replace("\n", "\r", 1), "a lone carriage return"),
        (GOOD.replace("CASE_REFERENCE", '"CASE_REFERENCE"'), "a quoted header"),
        (GOOD.replace("Police", "Police\t", 1), "white space str.strip removes and DuckDB's trim keeps"),
        (GOOD.replace(",kg,", ",kg,extra,", 1), "a row of the wrong width"),
        (GOOD.replace("cocaine", "unobtainium", 1), "an unknown drug"),
        (GOOD.replace("1,kg", "-1,kg"), "a negative quantity"),
        (GOOD.split("\n")[0], "a header without rows"),
    ],
)
def test_files_the_bulk_reader_leaves_to_the_kernel_parser(
    tmp_path: Path, reference: Any, text: str, reason: str
) -> None:
    """Given a file with {reason}, then the bulk reader gives None (the kernel parser reads it)."""
    path = tmp_path / "edge.csv"
    path.write_bytes(text.encode())
    assert _bulk(path, dict(IDS_COLUMN_MAPPING)) is None, reason


def test_a_file_that_is_not_utf8_is_left_to_the_kernel_parser(tmp_path: Path, reference: Any) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(GOOD.replace("Police", "Polic\xeda").encode("latin-1"))
    assert _bulk(path, dict(IDS_COLUMN_MAPPING)) is None
    assert _kernel_rows(path.read_bytes(), dict(IDS_COLUMN_MAPPING)) is None


def test_a_bom_crlf_lines_and_a_cell_over_two_lines_read_as_the_kernel_reads_them(
    tmp_path: Path, reference: Any
) -> None:
    """Given a file saved by a spreadsheet program (byte order mark, CR LF line ends, a quoted place over
    two lines, a semicolon delimiter), then the bulk reader takes it and gives the kernel's rows."""
    rows = [line.split(",") for line in GOOD.split("\n")]
    rows[1][3] = '"Puerto\r\nBolivar"'
    text = "\ufeff" + "\r\n".join(";".join(row) for row in rows) + "\r\n"
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("utf-8"))
    expected = _kernel_rows(path.read_bytes(), dict(IDS_COLUMN_MAPPING))
    assert expected is not None and expected[0][7] == "Puerto\r\nBolivar"
    cases = _bulk(path, dict(IDS_COLUMN_MAPPING))
    assert cases is not None
    try:
        assert _bulk_rows(cases) == expected
    finally:
        cases.close()
