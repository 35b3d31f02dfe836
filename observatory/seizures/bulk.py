"""Large CSV files validated and normalised in DuckDB, by the kernel parser's own rules.

The kernel parser (`kernels/rows.py`) defines what a valid row is and words every error. For a CSV file
this module gives the same cases without a Python object per row: DuckDB reads the file (in parallel),
Python resolves each *distinct* raw value of a column once with the parser's resolvers, and DuckDB
applies those answers to every row by joins, trims free text, multiplies quantities by their factor and
hashes each row's normalised content into its fingerprint.

It decides only whether a file is wholly valid. When it is not, or when DuckDB might read the file
differently from `csv.reader` (NUL bytes, lone carriage returns, blank lines, a quoted header, lines
longer than the csv module accepts) or trim a text differently from `str.strip` (white space other than
Unicode spaces at its edges), `load_csv` returns None and the caller parses with the kernel parser,
which names every bad row. Nothing is written to the database here.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from observatory.seizures.kernels.rows import MAX_TEXT_LENGTH, Invalid, SeizureRowParser

# Columns of the case table in insert order (the services use this tuple for both readers).
CASE_COLUMNS: tuple[str, ...] = (
    "batch_id", "reporting_country_id", "case_reference", "fingerprint", "seizure_date", "seizure_year",
    "date_precision", "place", "admin_area", "latitude", "longitude", "site_type", "transport_mode",
    "concealment", "drug_id", "drug_label", "quantity", "unit_id", "unit_label", "purity_percent",
    "kg_equivalent", "conversion_factor_id", "channel", "channel_label", "source", "classification",
    "origin_country_id", "departure_country_id", "transit_countries", "destination_country_id", "route",
    "offender_nationalities", "seizing_agency",
)  # fmt: skip
# Columns that may hold any text: escaped for PostgreSQL's COPY text format. The others are keys, numbers,
# dates, fingerprints, precisions and ISO3 codes joined by `;` or `>`.
_FREE_TEXT_COLUMNS = (
    "case_reference", "place", "admin_area", "site_type", "transport_mode", "concealment", "drug_label",
    "unit_label", "channel_label", "seizing_agency",
)  # fmt: skip
FETCH_ROWS = 50_000
# A case's normalised content, hashed (md5) into its fingerprint: the fields the kernel parser hashes, in its
# order, joined by chr(31); numbers as Python's repr() wrote them when their raw text was resolved.
_CONTENT = "concat_ws(chr(31), " + ", ".join(
    (
        "country", "case_reference", "seizure_date", "date_precision", "place", "admin_area",
        "latitude_text", "longitude_text", "site_type", "transport_mode", "concealment", "drug", "drug_label",
        "quantity_text", "unit", "unit_label", "purity_text", "coalesce(origin, '')", "coalesce(departure, '')",
        "transit_countries", "coalesce(destination, '')", "channel_label", "offender_nationalities",
        "seizing_agency",
    )
) + ")"  # fmt: skip


@cache
def python_whitespace() -> str:
    """Every character `str.strip()` removes. DuckDB's trim removes 17 of them (the Unicode space
    separators), so a text trimmed by DuckDB that still starts or ends with one of these is one to leave
    to the kernel parser."""
    return "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())


@dataclass(frozen=True)
class StoredValues:
    """How codes become stored values, given by the caller: keys (which it checks again inside its import
    transaction), and the route path and channel of a case (`route_of(origin, departure, transits,
    destination, reporting)`, transits `;`-joined, unknown countries None)."""

    country: Mapping[str, int]
    drug: Mapping[str, int]
    unit: Mapping[str, int]
    route_of: Callable[[str | None, str | None, str, str | None, str], str]
    channel_of: Callable[[str], str]


def plain_csv_header(path: Path) -> tuple[list[str], str] | None:
    """The header and delimiter of a CSV file that DuckDB reads exactly as `csv.reader` does, else None.

    Refused here (the kernel path reads them): NUL bytes, a carriage return not followed by a line feed,
    blank lines (csv.reader gives an empty row, DuckDB skips it), a header with a quote, no data line."""
    data = path.read_bytes()
    if not data or b"\x00" in data:
        return None
    if b"\r" in data:
        if data.count(b"\r") != data.count(b"\r\n"):
            return None
        data = data.replace(b"\r\n", b"\n")
    if data.startswith(b"\n") or b"\n\n" in data or b"\n" not in data.rstrip(b"\n"):
        return None
    try:
        first_line = data[: data.index(b"\n")].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if '"' in first_line:
        return None
    delimiter = max((",", ";", "\t"), key=first_line.count)  # as services.read_csv chooses
    return [cell.strip() for cell in first_line.split(delimiter)], delimiter


class BulkCases:
    """A wholly valid file's cases, held in DuckDB in file order, ready to be written in CASE_COLUMNS."""

    def __init__(self, con: duckdb.DuckDBPyConnection, factor_ids: set[int]) -> None:
        self._con = con
        self.factor_ids = factor_ids

    def close(self) -> None:
        self._con.close()

    @property
    def count(self) -> int:
        return _count(self._con, "SELECT count(*) FROM resolved")

    def reporting_countries(self) -> set[str]:
        return {code for (code,) in self._con.execute("SELECT DISTINCT country FROM resolved").fetchall()}

    def fingerprints(self) -> set[str]:
        return {fp for (fp,) in self._con.execute("SELECT fingerprint FROM resolved").fetchall()}

    def exclude(self, fingerprints: set[str]) -> None:
        """Drop the cases with these fingerprints (already stored)."""
        if fingerprints:
            self._con.register("present", {"fingerprint": np.array(sorted(fingerprints), dtype=object)})
            self._con.execute("DELETE FROM resolved WHERE fingerprint IN (SELECT fingerprint FROM present)")

    def _select(
        self, batch_id: int, source: str, classification: str, escape: bool = False
    ) -> tuple[str, list[Any]]:
        """The query of the cases in CASE_COLUMNS, in file order; `escape`: free text in COPY's text format
        (backslash, tab, line feed and carriage return escaped; NULL is then `\\N`)."""
        constants = {"batch_id": batch_id, "source": source, "classification": classification}
        columns = []
        for name in CASE_COLUMNS:
            if name in constants:
                columns.append(f"? AS {name}")
            elif escape and name in _FREE_TEXT_COLUMNS:
                columns.append(f"copy_text({name}) AS {name}")
            else:
                columns.append(name)
        parameters = [
            _copy_text(str(constants[name])) if escape else constants[name]
            for name in CASE_COLUMNS
            if name in constants
        ]
        return f"SELECT {', '.join(columns)} FROM cases ORDER BY rid", parameters

    def row_batches(self, batch_id: int, source: str, classification: str) -> Iterator[list[tuple[Any, ...]]]:
        """The cases as rows of CASE_COLUMNS values, FETCH_ROWS at a time."""
        query, parameters = self._select(batch_id, source, classification)
        cursor = self._con.cursor()
        cursor.execute(query, parameters)
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield rows

    def copy_chunks(self, batch_id: int, source: str, classification: str) -> Iterator[bytes]:
        """The cases in the text format of PostgreSQL's COPY, in chunks read while DuckDB writes them (a
        named pipe), so that DuckDB formats while PostgreSQL parses."""
        query, parameters = self._select(batch_id, source, classification, escape=True)
        self._con.execute(
            "CREATE OR REPLACE MACRO copy_text(x) AS CASE WHEN regexp_matches(x, '[\\\\\t\n\r]') THEN "
            "replace(replace(replace(replace(x, '\\', '\\\\'), chr(9), '\\t'), chr(10), '\\n'), chr(13), '\\r') "
            "ELSE x END"
        )
        with tempfile.TemporaryDirectory(prefix="seizure-cases-") as directory:
            pipe = Path(directory) / "cases.tsv"
            os.mkfifo(pipe, 0o600)
            # Our own write end keeps the reader from seeing the end before DuckDB opens the pipe; it is
            # closed when DuckDB is done (or failed), which ends the reading.
            read_end = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
            held_write_end = os.open(pipe, os.O_WRONLY)
            os.set_blocking(read_end, True)
            failures: list[BaseException] = []

            def write() -> None:
                try:
                    self._con.execute(
                        f"COPY ({query}) TO '{_sql_text(str(pipe))}' "
                        "(FORMAT csv, DELIMITER '\t', QUOTE '', ESCAPE '', NULLSTR '\\N', HEADER false)",
                        parameters,
                    )
                except BaseException as error:  # raised again in the reading thread
                    failures.append(error)
                finally:
                    os.close(held_write_end)

            writer = threading.Thread(target=write, name="seizure-copy-writer", daemon=True)
            writer.start()
            try:
                with os.fdopen(read_end, "rb") as handle:  # closing it early stops DuckDB (broken pipe)
                    while chunk := handle.read(1 << 20):
                        yield chunk
            finally:
                writer.join()
        if failures:
            raise failures[0]


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """The single number a query gives (its result read to the end, as DuckDB requires)."""
    ((number,),) = con.execute(query).fetchall()
    return int(number)


def _copy_text(text: str) -> str:
    """A text in COPY's text format (as the `copy_text` macro writes it)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def load_csv(
    path: Path,
    parser: SeizureRowParser,
    delimiter: str,
    stored: StoredValues,
) -> BulkCases | None:
    """Read and validate a whole CSV file in DuckDB; None when any row is invalid or the file is one for
    the kernel path (see the module notes). `parser` was made for this file's header and mapping."""
    if parser.header_errors:
        return None
    # In memory; anything DuckDB has to spill goes to the system's temporary directory, not the working one.
    con = duckdb.connect(config={"temp_directory": str(Path(tempfile.gettempdir()) / "observatory-duckdb")})
    try:
        factor_ids = _load(con, path, parser, delimiter, stored)
    except (duckdb.InvalidInputException, duckdb.ConversionException):
        con.close()  # malformed CSV, wrong column counts, invalid UTF-8: the kernel path names the row
        return None
    except BaseException:
        con.close()
        raise
    if factor_ids is None:
        con.close()
        return None
    return BulkCases(con, factor_ids)


def _load(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    parser: SeizureRowParser,
    delimiter: str,
    stored: StoredValues,
) -> set[int] | None:
    width = len(parser.header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    con.execute(
        f"CREATE TABLE raw AS SELECT * FROM read_csv('{_sql_text(str(path))}', header = false, "
        f"skip = 1, delim = '{_sql_text(delimiter)}', quote = '\"', escape = '\"', columns = {columns}, "
        "auto_detect = false, strict_mode = true, null_padding = false, encoding = 'utf-8', "
        f"max_line_size = {csv.field_size_limit()})"
    )
    if not _count(con, "SELECT count(*) FROM raw"):
        return None

    def raw(name: str) -> str:
        position = parser.column_position(name)
        return f"coalesce(r.c{position}, '')" if position is not None else "''"

    def text(name: str) -> str:
        return f"trim({raw(name)})"  # Unicode spaces only: `_texts_as_python_strips` checks the rest

    maps = _Maps(con, parser)
    reporting = parser.column_position("reporting_country")
    if reporting is not None and not maps.add("reporting_country", raw("reporting_country")):
        return None
    for name in ("seizure_date", "drug", "unit", "quantity", "purity", "latitude", "longitude"):
        if not maps.add(name, raw(name)):
            return None
    if not maps.add_shared(
        "country", ["origin_country", "departure_country", "destination_country"], raw
    ) or not maps.add_shared("country_list", ["transit_countries", "offender_nationalities"], raw):
        return None

    # Every value is valid: one row per case with its resolved fields.
    country = "m_reporting_country.value" if reporting is not None else "getvariable('default_country')"
    con.execute("SET VARIABLE default_country = ?", [parser.default_reporting_country or ""])
    joins = " ".join(
        f"JOIN {table} AS m_{name} ON m_{name}.raw = {raw(name)}" for name, table in maps.tables.items()
    )
    con.execute(
        f"""CREATE TABLE resolved AS SELECT *, md5({_CONTENT}) AS fingerprint FROM (
            SELECT r.rowid AS rid, {country} AS country,
            {text("case_reference")} AS case_reference, m_seizure_date.value AS seizure_date,
            m_seizure_date.year AS seizure_year, m_seizure_date.precision AS date_precision,
            {text("place")} AS place, {text("admin_area")} AS admin_area,
            m_latitude.value AS latitude, m_latitude.text AS latitude_text,
            m_longitude.value AS longitude, m_longitude.text AS longitude_text,
            {text("site_type")} AS site_type, {text("transport_mode")} AS transport_mode,
            {text("concealment")} AS concealment, m_drug.value AS drug, {text("drug")} AS drug_label,
            m_quantity.value AS quantity, m_quantity.text AS quantity_text, m_unit.value AS unit,
            {text("unit")} AS unit_label, m_purity.value AS purity_percent, m_purity.text AS purity_text,
            m_origin_country.value AS origin, m_departure_country.value AS departure,
            m_transit_countries.value AS transit_countries, m_destination_country.value AS destination,
            {text("trafficking_channel")} AS channel_label,
            m_offender_nationalities.value AS offender_nationalities,
            {text("seizing_agency")} AS seizing_agency
        FROM raw r {joins})"""
    )
    con.execute("DROP TABLE raw")
    if not _texts_as_python_strips(con):
        return None

    factor_ids = _add_derived_maps(con, parser, stored)
    con.execute(
        """CREATE VIEW cases AS SELECT c.rid, c.country, k.id AS reporting_country_id, c.case_reference,
            c.fingerprint, c.seizure_date, c.seizure_year, c.date_precision, c.place, c.admin_area,
            c.latitude, c.longitude, c.site_type, c.transport_mode, c.concealment, d.id AS drug_id,
            c.drug_label, c.quantity, u.id AS unit_id, c.unit_label, c.purity_percent,
            c.quantity * f.kg_per_unit AS kg_equivalent, f.factor_id AS conversion_factor_id, ch.channel,
            c.channel_label, o.id AS origin_country_id, dp.id AS departure_country_id, c.transit_countries,
            ds.id AS destination_country_id, rt.route, c.offender_nationalities, c.seizing_agency
        FROM resolved c
        JOIN k_country k ON k.code = c.country
        JOIN k_drug d ON d.code = c.drug
        JOIN k_unit u ON u.code = c.unit
        JOIN m_factor f ON f.country = c.country AND f.drug = c.drug AND f.unit = c.unit
            AND f.year = c.seizure_year
        JOIN m_route rt ON rt.origin = coalesce(c.origin, '') AND rt.departure = coalesce(c.departure, '')
            AND rt.transit = c.transit_countries AND rt.destination = coalesce(c.destination, '')
            AND rt.country = c.country
        JOIN m_channel ch ON ch.label = c.channel_label
        LEFT JOIN k_country o ON o.code = c.origin
        LEFT JOIN k_country dp ON dp.code = c.departure
        LEFT JOIN k_country ds ON ds.code = c.destination"""
    )
    _number_identical_rows(con)
    return factor_ids


# Texts of the resolved table trimmed by DuckDB; all but the labels are free text with a length limit.
_TRIMMED_TEXTS = (
    "case_reference", "place", "admin_area", "site_type", "transport_mode", "concealment", "channel_label",
    "seizing_agency", "drug_label", "unit_label",
)  # fmt: skip


def _texts_as_python_strips(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every text, trimmed of spaces by DuckDB, is what `str.strip()` gives (no other white space
    at either end) and within the kernel's length limit; and coordinates come in pairs."""
    spaces = ", ".join(str(ord(ch)) for ch in python_whitespace())
    checks = " OR ".join(
        f"ord({name}) IN ({spaces}) OR ord(reverse({name})) IN ({spaces})"
        + (f" OR length({name}) > {MAX_TEXT_LENGTH}" if name not in {"drug_label", "unit_label"} else "")
        for name in _TRIMMED_TEXTS
    )
    unpaired = "(latitude IS NULL) <> (longitude IS NULL)"
    return _count(con, f"SELECT count(*) FROM resolved WHERE {checks} OR {unpaired}") == 0


class _Maps:
    """Map tables (raw text -> resolved value) of every distinct raw value of a field; `tables` names the
    table of each field (fields of one kind share one)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, parser: SeizureRowParser) -> None:
        self.con = con
        self.parser = parser
        self.tables: dict[str, str] = {}

    def _distinct(self, expressions: Sequence[str]) -> list[str]:
        union = " UNION ".join(f"SELECT DISTINCT {expression} AS v FROM raw r" for expression in expressions)
        return [value for (value,) in self.con.execute(union).fetchall()]

    def add(self, name: str, expression: str) -> bool:
        """False when a value of the field is invalid."""
        self.tables[name] = f"m_{name}"
        return self._register(f"m_{name}", name, self._distinct([expression]))

    def add_shared(self, kind: str, names: list[str], raw: Callable[[str], str]) -> bool:
        """One map for fields of one kind (country columns share their resolutions)."""
        self.tables.update((name, f"m_{kind}") for name in names)
        return self._register(f"m_{kind}", names[0], self._distinct([raw(name) for name in names]))

    def _register(self, table: str, name: str, values: list[str]) -> bool:
        resolved = self.parser.resolve_values(name, values)
        outcomes = list(resolved.values())
        if any(isinstance(outcome, Invalid) for outcome in outcomes):
            return False
        frame: dict[str, np.ndarray[Any, Any]] = {"raw": np.array(list(resolved), dtype=object)}
        if name == "seizure_date":  # (date, precision, ISO text, year)
            frame["value"] = np.array([o[2] for o in outcomes], dtype=object)
            frame["precision"] = np.array([o[1] for o in outcomes], dtype=object)
            frame["year"] = np.array([o[3] for o in outcomes], dtype=np.int64)
        elif name in {"transit_countries", "offender_nationalities"}:  # (codes, joined text)
            frame["value"] = np.array([o[1] for o in outcomes], dtype=object)
        elif name in {"quantity", "purity", "latitude", "longitude"}:  # float, or None when empty
            frame["value"] = np.array([np.nan if o is None else o for o in outcomes], dtype=np.float64)
            frame["empty"] = np.array([o is None for o in outcomes], dtype=bool)
            frame["text"] = np.array(list(map(repr, outcomes)), dtype=object)  # as fingerprinted
        else:  # codes, or None for an unknown optional country
            frame["value"] = np.array(outcomes, dtype=object)
        self.con.register(f"{table}_frame", frame)
        if "empty" in frame:
            self.con.execute(
                f"CREATE TABLE {table} AS SELECT raw, CASE WHEN empty THEN NULL ELSE value END AS value, "
                f"text FROM {table}_frame"
            )
        else:
            self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_frame")
        self.con.unregister(f"{table}_frame")
        return True


def _add_derived_maps(
    con: duckdb.DuckDBPyConnection,
    parser: SeizureRowParser,
    stored: StoredValues,
) -> set[int]:
    """Key tables (code -> id), and the factor, route and channel of each distinct combination."""
    for kind, ids in (("country", stored.country), ("drug", stored.drug), ("unit", stored.unit)):
        con.register(
            f"k_{kind}_frame",
            {"code": np.array(list(ids), dtype=object), "id": np.array(list(ids.values()), dtype=np.int64)},
        )
        con.execute(f"CREATE TABLE k_{kind} AS SELECT * FROM k_{kind}_frame")
        con.unregister(f"k_{kind}_frame")

    regions = parser.lookups.country_regions
    combinations = con.execute("SELECT DISTINCT country, drug, unit, seizure_year FROM resolved").fetchall()
    factors = [
        parser.factor((drug, unit, regions.get(country), year)) for country, drug, unit, year in combinations
    ]
    con.register(
        "m_factor_frame",
        {
            "country": np.array([c[0] for c in combinations], dtype=object),
            "drug": np.array([c[1] for c in combinations], dtype=object),
            "unit": np.array([c[2] for c in combinations], dtype=object),
            "year": np.array([c[3] for c in combinations], dtype=np.int64),
            "factor_id": np.array([f[0] if f else 0 for f in factors], dtype=np.int64),
            "kg_per_unit": np.array([f[1] if f else np.nan for f in factors], dtype=np.float64),
            "found": np.array([f is not None for f in factors], dtype=bool),
        },
    )
    con.execute(
        "CREATE TABLE m_factor AS SELECT country, drug, unit, year, "
        "CASE WHEN found THEN factor_id END AS factor_id, CASE WHEN found THEN kg_per_unit END AS kg_per_unit "
        "FROM m_factor_frame"
    )
    con.unregister("m_factor_frame")

    routes = con.execute(
        "SELECT DISTINCT coalesce(origin, ''), coalesce(departure, ''), transit_countries, "
        "coalesce(destination, ''), country FROM resolved"
    ).fetchall()
    route_columns = list(zip(*routes, strict=True))
    con.register(
        "m_route_frame",
        {
            **{
                name: np.array(values, dtype=object)
                for name, values in zip(
                    ("origin", "departure", "transit", "destination", "country"), route_columns, strict=True
                )
            },
            "route": np.array(
                [stored.route_of(o or None, d or None, t, e or None, c) for o, d, t, e, c in routes],
                dtype=object,
            ),
        },
    )
    con.execute("CREATE TABLE m_route AS SELECT * FROM m_route_frame")
    con.unregister("m_route_frame")

    labels = [label for (label,) in con.execute("SELECT DISTINCT channel_label FROM resolved").fetchall()]
    con.register(
        "m_channel_frame",
        {
            "label": np.array(labels, dtype=object),
            "channel": np.array([stored.channel_of(label) for label in labels], dtype=object),
        },
    )
    con.execute("CREATE TABLE m_channel AS SELECT * FROM m_channel_frame")
    con.unregister("m_channel_frame")
    return {f[0] for f in factors if f is not None}


def _number_identical_rows(con: duckdb.DuckDBPyConnection) -> None:
    """The n-th identical row of the file (n > 1) hashes its content followed by chr(30) and n, as the
    kernel parser does (`_disambiguate_duplicates`)."""
    if _count(con, "SELECT count(*) - count(DISTINCT fingerprint) FROM resolved"):
        con.execute(
            f"""UPDATE resolved SET fingerprint = md5({_CONTENT} || chr(30) || copies.occurrence::VARCHAR)
            FROM (SELECT rid, row_number() OVER (PARTITION BY fingerprint ORDER BY rid) AS occurrence
                  FROM resolved) AS copies
            WHERE copies.rid = resolved.rid AND copies.occurrence > 1"""
        )
