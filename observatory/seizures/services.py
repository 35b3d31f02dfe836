"""Every write of the seizures app: uploads, imports (all-or-nothing, idempotent), column mappings.

An import validates every row before it stores any. A CSV file is read by DuckDB (`bulk.py`) with the
kernel parser's rules; a file with any bad row, a spreadsheet, or a CSV file DuckDB might read differently
is parsed by the kernel parser, which names every bad row; then nothing but the batch's error report is
stored. A clean file is inserted in one transaction: PostgreSQL's COPY, or SQLite's executemany.
Re-importing a file adds nothing: the file's SHA-256 matches an imported batch, and each row's fingerprint
is unique per reporting country.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import compress, islice, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from observatory.access import audit, policy
from observatory.access.policy import Classification
from observatory.jobs.services import start_job
from observatory.reference import queries as reference_queries
from observatory.reference.models import ConversionFactor, Country, Drug, Unit
from observatory.seizures import bulk, queries
from observatory.seizures.bulk import CASE_COLUMNS
from observatory.seizures.kernels.generator import IDS_COLUMN_MAPPING
from observatory.seizures.kernels.routes import route_path
from observatory.seizures.kernels.rows import (
    FIELDS,
    CaseColumns,
    FactorKey,
    LookupTables,
    ParseResult,
    RowError,
    SeizureRowParser,
)
from observatory.seizures.models import ColumnMapping, ImportBatch, SeizureCase

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from observatory.access.policy import Actor

DRUG_ALIAS_FILE = Path(__file__).resolve().parent / "data" / "drug_aliases.json"
MAX_STORED_ERRORS = 10_000  # a file with more bad rows reports the first ones and says so
PARSE_CHUNK = 50_000
# A load of at least this many rows, and at least as many as the table holds, drops the secondary indexes
# (the unique fingerprint index too, not the primary key) and builds them again after the load, inside the
# import transaction. On PostgreSQL the foreign keys go too and are added again; SQLite checks the keys
# itself (`_check_references`).
REBUILD_INDEXES_FROM = 100_000
DEFAULT_MAPPING_NAME = "IDS layout"
INTERNET_CHANNELS = frozenset({"internet", "darknet", "dark web", "darkweb", "online", "web", "social media"})
POSTAL_CHANNELS = frozenset({"postal", "post", "courier", "mail", "parcel", "express courier"})


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, done: int, force: bool = False) -> None: ...


class _NoProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, done: int, force: bool = False) -> None:
        pass


class UploadRefused(ValueError):
    """The upload itself is unacceptable (too large, unknown format, bad mapping): nothing was stored."""


# --- reference look-ups ----------------------------------------------------------------------------------


def seizure_drug_aliases() -> dict[str, str]:
    """Spellings of seizure reports -> taxonomy drug code (the app's own data file)."""
    data = json.loads(DRUG_ALIAS_FILE.read_text(encoding="utf-8"))
    return dict(data["drug_aliases"])


def lookup_tables(today: date | None = None) -> LookupTables:
    """Reference data as the plain dicts the kernel parser wants. The reference alias table wins."""
    drug_aliases = {**seizure_drug_aliases(), **reference_queries.drug_alias_table()}
    countries = list(Country.objects.values_list("iso3", "wdr_region__code", "name"))
    factors: dict[FactorKey, tuple[int, float]] = {}
    # Oldest set first, so the newest published set wins for every key.
    for factor_id, drug_code, unit_code, region_code, year, kg in ConversionFactor.objects.order_by(
        "factor_set__published_on", "pk"
    ).values_list("pk", "drug__code", "unit__code", "region__code", "year", "kg_per_unit"):
        factors[(drug_code, unit_code, region_code, year)] = (factor_id, kg)
    return LookupTables(
        drug_aliases=drug_aliases,
        unit_aliases=reference_queries.unit_alias_table(),
        conversion_factors=factors,
        country_codes=frozenset(iso3 for iso3, _, _ in countries),
        today=today or timezone.localdate(),
        country_regions={iso3: region for iso3, region, _ in countries if region},
        country_aliases={name: iso3 for iso3, _, name in countries},
    )


# --- reading files ---------------------------------------------------------------------------------------


@dataclass
class ColumnBlock:
    """Consecutive data rows of a file given column by column (one list per header column)."""

    columns: list[list[str]]


Part = ColumnBlock | list[Sequence[str | None]]  # a block of columns, or of rows (any width)


@dataclass
class TableFile:
    """The header and data rows of an uploaded file, or the problem that stops reading it.

    `rows` gives the data rows one by one. A reader may also give `parts`, the same rows in consecutive
    blocks (`ColumnBlock`s where every row of a block has the header's width, read without a Python
    object per row, else lists of rows): `rows` then reads `parts`, so use one or the other."""

    header: list[str] | None
    rows: Iterator[Sequence[str | None]]
    problems: list[RowError]
    estimated_rows: int
    parts: Iterator[Part] | None = None

    def blocks(self) -> Iterator[Part]:
        """The data rows in blocks: `parts`, or `rows` in lists of up to PARSE_CHUNK rows."""
        return self.parts if self.parts is not None else _row_blocks(self.rows)


def _rows_of(parts: Iterator[Part]) -> Iterator[Sequence[str | None]]:
    for part in parts:
        if isinstance(part, ColumnBlock):
            yield from zip(*part.columns, strict=True)
        else:
            yield from part


def _row_blocks(rows: Iterator[Sequence[str | None]]) -> Iterator[Part]:
    while block := list(islice(rows, PARSE_CHUNK)):
        yield block


def file_format_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in {".csv", ".txt"}:
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    raise UploadRefused(f"{name!r}: upload a CSV (.csv) or Excel (.xlsx) file")


def _undecodable_rows(data: bytes, limit: int) -> list[RowError]:
    problems = []
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = line[error.start : error.start + 1].hex()
            problems.append(
                RowError(
                    number,
                    None,
                    "wrong_encoding",
                    f"row {number} is not valid UTF-8 (byte 0x{bad} at character {error.start + 1}): "
                    "save the file as CSV UTF-8",
                )
            )
            if len(problems) >= limit:
                break
    return problems


def _guarded(reader: Any, problems: list[RowError]) -> Iterator[Sequence[str]]:
    """Rows of a csv reader until it meets malformed CSV, which becomes a problem naming the line."""
    last_line = 0
    try:
        for row in reader:
            last_line = reader.line_num
            yield row
    except csv.Error as error:
        start = last_line + 1
        message = f"malformed CSV in the record starting on line {start}: {error}"
        problems.append(RowError(start, None, "malformed_csv", message))


def _split_rows(text: str, delimiter: str) -> tuple[list[str], Iterator[Part]] | None:
    """The header and rows of a CSV text whose records each fit on one line, with no NULs, lone CRs,
    blank lines or huge fields: lines without a quote are split in C (several times faster than
    csv.reader), lines with one go through csv.reader alone; the cells are the same. None when the text
    needs csv.reader whole (then it also names the line of any malformed record)."""
    if "\x00" in text:
        return None
    if "\r" in text:  # outside quoted cells a CR LF can only end a line, as csv.reader reads it
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    if "\n\n" in text or text.startswith("\n"):  # csv.reader gives [] for a blank line
        return None
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    if max(map(len, lines)) > csv.field_size_limit():  # csv.reader refuses such a field
        return None
    quoted: dict[int, list[str]] = {}
    if '"' in text:
        for number in [i for i, line in enumerate(lines) if '"' in line]:
            try:
                records = list(csv.reader([lines[number]], delimiter=delimiter, strict=True))
            except csv.Error:  # a quoted cell going on to the next line, or malformed CSV
                return None
            if len(records) != 1:
                return None
            quoted[number] = records[0]
    header = quoted[0] if 0 in quoted else lines[0].split(delimiter)
    return header, _split_lines(lines, delimiter, quoted, len(header))


def _split_lines(
    lines: list[str], delimiter: str, quoted: dict[int, list[str]], width: int
) -> Iterator[Part]:
    """The data lines (all but the first) in blocks. A block whose records all have the header's width
    is split column by column: its lines joined by the delimiter and split once, each column a stride
    of that list (no list per row, no transposition); lines with a quote stand in as empty cells there,
    then get the cells csv.reader gave them. Other blocks come as rows."""
    step = PARSE_CHUNK
    empty_record = delimiter * (width - 1)
    for start in range(1, len(lines), step):
        chunk = lines[start : start + step]
        numbers = [n for n in quoted if start <= n < start + step] if quoted else []
        for number in numbers:
            chunk[number - start] = empty_record
        if all(len(quoted[n]) == width for n in numbers) and set(
            map(str.count, chunk, repeat(delimiter))
        ) == {width - 1}:
            cells = delimiter.join(chunk).split(delimiter)
            columns = [cells[i::width] for i in range(width)]
            for number in numbers:
                for column, cell in zip(columns, quoted[number], strict=True):
                    column[number - start] = cell
            yield ColumnBlock(columns)
            continue
        rows: list[Sequence[str | None]] = list(map(str.split, chunk, repeat(delimiter)))
        for number in numbers:
            rows[number - start] = quoted[number]
        yield rows


def read_csv(data: bytes) -> TableFile:
    if not data:
        return TableFile(None, iter(()), [RowError(1, None, "empty_file", "the file is empty (0 bytes)")], 0)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return TableFile(None, iter(()), _undecodable_rows(data, MAX_STORED_ERRORS), 0)
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = max((",", ";", "\t"), key=first_line.count)
    problems: list[RowError] = []
    split = _split_rows(text, delimiter)
    header: Sequence[str] | None
    parts: Iterator[Part] | None = None
    rows: Iterator[Sequence[str | None]]
    if split is not None:
        header, parts = split
        rows = _rows_of(parts)
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        rows = _guarded(reader, problems)
        header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        problems.append(RowError(1, None, "missing_header", "the first row must name the columns"))
        return TableFile(None, iter(()), problems, 0)
    return TableFile([cell.strip() for cell in header], rows, problems, text.count("\n"), parts)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


def read_xlsx(path: Path) -> TableFile:
    import zipfile

    from openpyxl import load_workbook

    if path.stat().st_size == 0:
        return TableFile(None, iter(()), [RowError(1, None, "empty_file", "the file is empty (0 bytes)")], 0)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        message = f"not a readable Excel .xlsx workbook ({type(error).__name__})"
        return TableFile(None, iter(()), [RowError(1, None, "malformed_xlsx", message)], 0)
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header_cells = next(values, None)
    if header_cells is None or not any(cell is not None for cell in header_cells):
        workbook.close()
        return TableFile(None, iter(()), [RowError(1, None, "missing_header", "the first row is empty")], 0)
    header = [_cell_text(cell).strip() for cell in header_cells]
    while header and not header[-1]:
        header.pop()
    width = len(header)

    def rows() -> Iterator[Sequence[str]]:
        try:
            for cells in values:
                texts = [_cell_text(cell) for cell in cells]
                if len(texts) > width and not any(t.strip() for t in texts[width:]):
                    texts = texts[:width]
                elif len(texts) < width:
                    texts.extend([""] * (width - len(texts)))
                yield texts
        finally:
            workbook.close()

    return TableFile(header, rows(), [], sheet.max_row - 1 if sheet.max_row else 0)


def read_table(path: Path, file_format: str) -> TableFile:
    if file_format == "xlsx":
        return read_xlsx(path)
    return read_csv(path.read_bytes())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- column mappings -------------------------------------------------------------------------------------


def validate_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    cleaned = {
        str(k).strip(): str(v).strip() for k, v in mapping.items() if str(k).strip() and str(v).strip()
    }
    unknown = sorted(set(cleaned.values()) - set(FIELDS))
    if unknown:
        raise UploadRefused(f"the column mapping names unknown fields: {', '.join(unknown)}")
    if not cleaned:
        raise UploadRefused("the column mapping is empty")
    return cleaned


def parse_mapping_text(text: str) -> dict[str, str]:
    """`Their column = field` per line (or a JSON object) -> mapping."""
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        try:
            loaded = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise UploadRefused(f"the column mapping is not valid JSON: {error}") from error
        if not isinstance(loaded, dict):
            raise UploadRefused("the column mapping must be a JSON object")
        return validate_mapping(loaded)
    mapping = {}
    for number, line in enumerate(stripped.splitlines(), 1):
        if not line.strip():
            continue
        separator = "=" if "=" in line else ":" if ":" in line else None
        if separator is None:
            raise UploadRefused(f"column mapping line {number}: write 'Their column = field'")
        theirs, ours = line.rsplit(separator, 1)
        mapping[theirs.strip()] = ours.strip()
    return validate_mapping(mapping)


def save_column_mapping(
    actor: Actor | None, country: Country, name: str, mapping: Mapping[str, str]
) -> ColumnMapping:
    policy.require(actor, "seizures.import", country)
    cleaned = validate_mapping(mapping)
    with transaction.atomic():
        existing = ColumnMapping.objects.filter(country=country, name=name).first()
        before = existing.mapping if existing else None
        saved, _ = ColumnMapping.objects.update_or_create(
            country=country,
            name=name,
            defaults={"mapping": cleaned, "created_by": actor if actor and actor.is_authenticated else None},
        )
        audit.record(
            actor, "seizures.mapping.save", "column_mapping", saved.pk, country_iso3=country.iso3,
            before=before, after={"name": name, "mapping": cleaned},
        )  # fmt: skip
    return saved


def choose_mapping(
    header: Sequence[str], country: Country | None, actor: Actor | None, *, system: bool = False
) -> tuple[str, dict[str, str]]:
    """The remembered mapping (or the IDS layout) that names the most columns of this header."""
    names = {name.strip() for name in header}
    candidates: list[tuple[str, dict[str, str]]] = [(DEFAULT_MAPPING_NAME, dict(IDS_COLUMN_MAPPING))]
    if country is not None:
        layouts = queries.layouts_of(country, actor, system=system)
        candidates += [(layout.name, dict(layout.mapping)) for layout in layouts]
    return max(candidates, key=lambda item: len(names.intersection(item[1])))


# --- the import ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    batch: ImportBatch
    created: bool  # False: the same file had been imported before (nothing added)

    @property
    def status(self) -> str:
        return self.batch.status


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The cyclic collector would rescan the growing heap of row lists again and again (reading and
    storing several times slower); rows, columns and tuples form no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_table(
    table: TableFile,
    mapping: Mapping[str, str],
    lookups: LookupTables,
    country_iso3: str | None,
    progress: Progress,
) -> ParseResult:
    result = ParseResult(errors=list(table.problems))
    if table.header is None:
        return result
    parser = SeizureRowParser(
        table.header,
        mapping,
        lookups,
        default_reporting_country=country_iso3,
        max_errors=MAX_STORED_ERRORS,
        batch_size=PARSE_CHUNK,
        columnar=True,
    )
    progress.stage("validating rows", total=max(table.estimated_rows, 1))
    next_row = 2
    with _without_cyclic_gc():
        for part in table.blocks():
            if isinstance(part, ColumnBlock):
                parser.parse_columns(part.columns, first_row_number=next_row, result=result)
                next_row += len(part.columns[0]) if part.columns else 0
            else:
                parser.parse(part, first_row_number=next_row, result=result)
                next_row += len(part)
            progress.advance(next_row - 2)
    late = [problem for problem in table.problems if problem not in result.errors]
    if late:  # malformed CSV met while reading: everything before it was read, nothing is stored
        result.errors.extend(late)
        result.discard_cases()
    if result.rows_read == 0 and not result.errors:
        result.errors.append(RowError(2, None, "no_rows", "the file has a header but no data rows"))
    result.errors.sort(key=lambda e: (e.row, e.column or ""))
    return result


def _channel(label: str) -> str:
    key = label.strip().casefold()
    if not key or key in {"none", "-"}:
        return ""
    if key in INTERNET_CHANNELS:
        return SeizureCase.Channel.INTERNET.value
    if key in POSTAL_CHANNELS:
        return SeizureCase.Channel.POSTAL.value
    return SeizureCase.Channel.OTHER.value


def _route_text(
    origin: str | None, departure: str | None, transit: str, destination: str | None, reporting: str
) -> str:
    """The stored route path (ISO3>ISO3>...) of a case; `transit` is `;`-joined."""
    legs = transit.split(";") if transit else ()
    return ">".join(route_path(origin, departure, legs, destination, reporting))


def _routes_and_channels(block: CaseColumns, keys: _KeyMaps) -> tuple[list[str], list[str]]:
    """The route path and channel of each case, each derived once per distinct input."""
    routes, channels = keys.routes, keys.channels
    route_keys = list(
        zip(
            block.origin_countries, block.departure_countries, block.transit_countries,
            block.destination_countries, block.reporting_countries, strict=True,
        )
    )  # fmt: skip
    for key in set(route_keys).difference(routes):
        routes[key] = _route_text(*key)
    for label in set(block.trafficking_channels).difference(channels):
        channels[label] = _channel(label)
    return list(map(routes.__getitem__, route_keys)), list(
        map(channels.__getitem__, block.trafficking_channels)
    )


def _db_columns(
    block: CaseColumns,
    batch: ImportBatch,
    keys: _KeyMaps,
) -> list[Iterable[Any]]:
    """One block of valid cases as table columns (CASE_COLUMNS order), built with C-level maps: no
    Python object per row. Codes become keys through dicts read before any row is stored."""
    country_id, drug_id, unit_id = keys.country_id, keys.drug_id, keys.unit_id
    get_country = country_id.get
    route_texts, channel_values = _routes_and_channels(block, keys)
    return [
        repeat(batch.pk), list(map(country_id.__getitem__, block.reporting_countries)), block.case_references,
        block.fingerprints, block.seizure_dates, block.seizure_years, block.date_precisions, block.places,
        block.admin_areas, block.latitudes, block.longitudes, block.site_types, block.transport_modes,
        block.concealments, list(map(drug_id.__getitem__, block.drug_codes)), block.drug_labels,
        block.quantities, list(map(unit_id.__getitem__, block.unit_codes)), block.unit_labels,
        block.purities, block.kg_equivalents, block.conversion_factor_ids,
        channel_values, block.trafficking_channels,
        repeat(batch.file_name[:255]), repeat(batch.classification),
        list(map(get_country, block.origin_countries)),  # type: ignore[arg-type]
        list(map(get_country, block.departure_countries)),  # type: ignore[arg-type]
        block.transit_countries, list(map(get_country, block.destination_countries)),  # type: ignore[arg-type]
        route_texts, block.offender_nationalities, block.seizing_agencies,
    ]  # fmt: skip


@dataclass
class _KeyMaps:
    """Codes -> primary keys, read before the load, and the route and channel of each distinct input."""

    country_id: dict[str, int]
    drug_id: dict[str, int]
    unit_id: dict[str, int]
    routes: dict[tuple[Any, ...], str]
    channels: dict[str, str]

    @classmethod
    def read(cls) -> _KeyMaps:
        return cls(
            dict(Country.objects.values_list("iso3", "pk")),
            dict(Drug.objects.values_list("code", "pk")),
            dict(Unit.objects.values_list("code", "pk")),
            {},
            {},
        )

    def stored_values(self) -> bulk.StoredValues:
        return bulk.StoredValues(self.country_id, self.drug_id, self.unit_id, _route_text, _channel)


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes other than those of its primary key and constraints
    (`_drop_constraints` takes those): unique ones first, so that a duplicate stops the rebuild early."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, connection.ops.quote_name(table)],
        )
    else:  # automatic indexes (primary key, inline constraints) have no SQL
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [table],
        )
    indexes = cursor.fetchall()
    return sorted(indexes, key=lambda index: "UNIQUE" not in index[1].upper().split("(")[0])


def _drop_constraints(cursor: Any, table: str) -> list[tuple[str, str]]:
    """Drop the table's constraints for a large load; (name, definition) of each, the primary key and
    unique ones first, to be added again after it. PostgreSQL checks a foreign key per inserted row with
    a trigger running a query (8 keys a row), and adds each row to every index as it goes; after the load
    an index is built by one sort."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype = 'f', conname",
        [connection.ops.quote_name(table)],
    )
    constraints = [(name, definition) for name, definition in cursor.fetchall()]
    quoted = connection.ops.quote_name(table)
    for name, _ in constraints:
        cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    return constraints


def _lock_referenced_rows(batch: ImportBatch) -> None:
    """Inside the import transaction, before its keys are checked (`_check_references`): hold the
    reference rows a case can point to, and the batch, as a foreign key check would (FOR KEY SHARE), so
    none can be deleted or re-keyed before the commit. On SQLite this write takes the database's write
    lock, which does the same."""
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Country, Drug, Unit, ConversionFactor):
                cursor.execute(
                    f"SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)} FOR KEY SHARE"
                )


def validate_case_keys() -> list[str]:
    """Validate the case table's foreign keys that a large import added back NOT VALID (on PostgreSQL);
    the names validated. Run by the worker after such an import commits: it reads the whole table once
    per key without blocking reads or writes (SHARE UPDATE EXCLUSIVE)."""
    if connection.vendor != "postgresql":
        return []
    quoted = _quoted_table()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND NOT convalidated ORDER BY conname",
            [quoted],
        )
        names = [name for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f"ALTER TABLE {quoted} VALIDATE CONSTRAINT {connection.ops.quote_name(name)}")
    return names


# Stores the cases through the cursor, inside the import transaction, and returns how many it stored.
CaseWriter = Callable[[Any, Progress], int]


def _kernel_writer(
    blocks: Sequence[CaseColumns], present: set[str], batch: ImportBatch, keys: _KeyMaps
) -> CaseWriter:
    """Cases parsed by the kernel parser (spreadsheets, and CSV files the bulk reader leaves to it)."""

    def rows_of_blocks() -> Iterator[list[tuple[Any, ...]]]:
        for block in blocks:
            rows = list(zip(*_db_columns(block, batch, keys), strict=False))
            if present:
                rows = list(compress(rows, [f not in present for f in block.fingerprints]))
            yield rows

    def write(cursor: Any, progress: Progress) -> int:
        if connection.vendor != "postgresql":
            return _sqlite_insert(cursor, rows_of_blocks(), progress)
        inserted = 0
        with cursor.copy(_copy_statement()) as copy:
            for rows in rows_of_blocks():
                for row in rows:
                    copy.write_row(row)
                inserted += len(rows)
                progress.advance(inserted)
        return inserted

    return write


def _bulk_writer(cases: bulk.BulkCases, batch: ImportBatch) -> CaseWriter:
    """Cases validated by the bulk reader: PostgreSQL reads DuckDB's output with COPY; SQLite gets DuckDB's
    rows through executemany."""
    values = (batch.pk, batch.file_name[:255], batch.classification)

    def write(cursor: Any, progress: Progress) -> int:
        if connection.vendor != "postgresql":
            return _sqlite_insert(cursor, cases.row_batches(*values), progress)
        sent = 0
        with cursor.copy(_copy_statement()) as copy:
            for chunk in cases.copy_chunks(*values):
                copy.write(chunk)
                sent += chunk.count(b"\n")  # one line a case: line feeds within texts are escaped
                progress.advance(sent)
        return cases.count

    return write


def _quoted_table() -> str:
    return connection.ops.quote_name(SeizureCase._meta.db_table)


def _copy_statement() -> str:
    return f"COPY {_quoted_table()} ({', '.join(CASE_COLUMNS)}) FROM STDIN"


def _sqlite_insert(cursor: Any, batches: Iterable[list[tuple[Any, ...]]], progress: Progress) -> int:
    """executemany of a prepared INSERT on the raw sqlite3 connection (no query rewriting per call)."""
    # sqlite3 binds None by looking for an adapter the slow way (failed attribute look-ups) unless one is
    # registered: this one gives None back, bound as NULL as before, at a third of the cost per value.
    sqlite3.register_adapter(type(None), cast(Any, {}.get))
    raw = cursor.connection.cursor()
    cursor.execute("PRAGMA cache_size")
    (cache_size,) = cursor.fetchone()
    # 1 GiB of page cache for this load (taken only as pages are used): a million cases with their unique
    # index fit, so pages are not written out and read back during the transaction.
    cursor.execute("PRAGMA cache_size = -1048576")
    placeholders = ", ".join(["?"] * len(CASE_COLUMNS))
    sql = f"INSERT INTO {_quoted_table()} ({', '.join(CASE_COLUMNS)}) VALUES ({placeholders})"
    inserted = 0
    try:
        for rows in batches:
            sqlite3.Cursor.executemany(raw, sql, rows)
            inserted += len(rows)
            progress.advance(inserted)
    finally:
        raw.close()
        cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
    return inserted


def _insert_cases(write: CaseWriter, total: int, progress: Progress) -> int:
    """Bulk insert inside the caller's transaction. A large load into a table no larger than it drops the
    secondary indexes (on PostgreSQL also the primary key, unique and foreign key constraints) and builds
    them again after it."""
    quoted = _quoted_table()
    progress.stage("storing cases", total=total)
    with connection.cursor() as cursor, _without_cyclic_gc():
        rebuilt: list[tuple[str, str]] = []
        constraints: list[tuple[str, str]] = []
        if total >= REBUILD_INDEXES_FROM:
            cursor.execute(f"SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) FROM {quoted}")
            (held,) = cursor.fetchone()
            if total >= held:
                rebuilt = _secondary_indexes(cursor, SeizureCase._meta.db_table)
                for name, _ in rebuilt:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                if connection.vendor == "postgresql":
                    constraints = _drop_constraints(cursor, SeizureCase._meta.db_table)
        if connection.vendor == "postgresql" and rebuilt:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        inserted = write(cursor, progress)
        progress.advance(inserted, force=True)
        if rebuilt or constraints:
            progress.stage("building indexes")
            if connection.vendor == "postgresql":  # no CREATE INDEX while deferred key checks are pending
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            else:  # SQLite sorts an index's keys with helper threads when allowed to (0 by default)
                cursor.execute(f"PRAGMA threads = {os.cpu_count() or 1}")
            for name, definition in constraints:  # primary key and unique: a duplicate fails the import
                if not definition.startswith("FOREIGN KEY"):
                    cursor.execute(
                        f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
                    )
            for _, create in rebuilt:
                cursor.execute(create)
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Every key was checked once per distinct value under FOR KEY SHARE locks (`_lock_referenced_rows`,
        # `_check_references`), so the keys come back NOT VALID: enforced from now on for every write and
        # every delete of a referenced row, without a join over the whole table inside the import. The
        # worker validates them after the commit (`validate_case_keys`).
        foreign_keys = [(n, d) for n, d in constraints if d.startswith("FOREIGN KEY")]
        for name, definition in foreign_keys:
            cursor.execute(
                f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition} NOT VALID"
            )
        if foreign_keys:
            from observatory.seizures.tasks import validate_seizure_case_keys

            transaction.on_commit(validate_seizure_case_keys.enqueue)
    return inserted


@contextmanager
def _sqlite_bulk_session() -> Iterator[None]:
    """On SQLite outside any transaction: sorts in memory, and no per-row foreign key look-ups during
    the load (8 keys a row); `_check_references` checks every distinct key instead. Both settings are
    restored afterwards. These pragmas cannot change inside a transaction; there (as in tests) nothing
    changes and SQLite checks."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA temp_store")
        (temp_store,) = cursor.fetchone()
        cursor.execute("PRAGMA temp_store = MEMORY")
    unchecked = connection.disable_constraint_checking()
    try:
        yield
    finally:
        if unchecked:
            connection.enable_constraint_checking()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA temp_store = {int(temp_store)}")


def _check_references(factor_ids: set[int], keys: _KeyMaps, batch: ImportBatch) -> None:
    """What the foreign keys would refuse, checked once per distinct key inside the import transaction,
    after `_lock_referenced_rows` (so nothing checked can vanish before the commit): the conversion
    factors, the batch, and the code -> key maps read before the transaction."""
    found = set(ConversionFactor.objects.filter(pk__in=factor_ids).values_list("pk", flat=True))
    missing = sorted(factor_ids - found)
    now = _KeyMaps.read()
    changed = (now.country_id, now.drug_id, now.unit_id) != (keys.country_id, keys.drug_id, keys.unit_id)
    if missing or changed or not ImportBatch.objects.filter(pk=batch.pk).exists():
        raise RuntimeError(
            f"reference data changed during the import (conversion factors {missing}, countries, drugs or "
            f"units, or batch {batch.pk} gone): nothing was stored; import the file again"
        )


def _error_dicts(errors: Iterable[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.row, "column": e.column, "code": e.code, "message": e.message} for e in errors]


def import_seizure_file(
    actor: Actor | None,
    path: str | Path,
    *,
    file_name: str | None = None,
    country_iso3: str | None = None,
    mapping: Mapping[str, str] | None = None,
    mapping_name: str = "",
    classification: str = Classification.RESTRICTED.value,
    system: bool = False,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import one file: validate every row, then store all of it or nothing.

    ``system=True`` is for the shell command (no acting user); otherwise the actor needs seizures.import
    on ``country_iso3``, and every row must report that country.
    """
    progress = progress or _NoProgress()
    path = Path(path)
    country = Country.objects.get(iso3=country_iso3.upper()) if country_iso3 else None
    if not system:
        if country is None:
            raise UploadRefused("choose the reporting country of the file")
        policy.require(actor, "seizures.import", country)
    Classification(classification)  # raises on an unknown value
    file_format = file_format_of(file_name or path.name)
    progress.stage("checking the file")
    sha = sha256_of(path)
    earlier = ImportBatch.objects.filter(sha256=sha, status=ImportBatch.Status.IMPORTED)
    if batch is not None:
        earlier = earlier.exclude(pk=batch.pk)
    previous = earlier.order_by("created_at").first()
    if previous is not None:
        if batch is not None:
            _finish(batch, ImportBatch.Status.DUPLICATE, duplicate_of=previous)
            return ImportOutcome(batch, False)
        return ImportOutcome(previous, False)
    if batch is None:
        batch = ImportBatch.objects.create(
            file_name=(file_name or path.name)[:255], file_format=file_format, file_size=path.stat().st_size,
            sha256=sha, stored_path=str(path), country=country, classification=classification,
            status=ImportBatch.Status.RUNNING, uploaded_by=actor if actor and actor.is_authenticated else None,
        )  # fmt: skip
    else:
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)

    lookups = lookup_tables()
    keys = _KeyMaps.read()
    default_country = country.iso3 if country else None
    valid: _ValidFile | None = None
    plain = bulk.plain_csv_header(path) if file_format == "csv" else None
    if plain is not None:  # a wholly valid CSV file is read and checked by DuckDB, else by the kernel parser
        header, delimiter = plain
        if mapping is None:
            mapping_name, mapping = choose_mapping(header, country, actor, system=system)
        parser = SeizureRowParser(header, mapping, lookups, default_reporting_country=default_country)
        progress.stage("validating rows")
        cases = bulk.load_csv(path, parser, delimiter, keys.stored_values())
        valid = _ValidFile.of_bulk(cases) if cases is not None else None
    if valid is None:
        table = read_table(path, file_format)
        if mapping is None:
            mapping_name, mapping = (
                choose_mapping(table.header, country, actor, system=system)
                if table.header
                else (DEFAULT_MAPPING_NAME, dict(IDS_COLUMN_MAPPING))
            )
        result = parse_table(table, mapping, lookups, default_country, progress)
        batch.rows_read = result.rows_read
        if not result.ok:
            batch.column_mapping, batch.mapping_name = dict(mapping), mapping_name[:100]
            with transaction.atomic():
                _finish(
                    batch,
                    ImportBatch.Status.REJECTED,
                    errors=result.errors,
                    truncated=result.errors_truncated,
                )
                audit.record(
                    actor, "seizures.batch.reject", "import_batch", batch.pk,
                    country_iso3=country.iso3 if country else "",
                    after={"file": batch.file_name, "sha256": sha, "errors": len(result.errors)},
                )  # fmt: skip
            return ImportOutcome(batch, True)
        valid = _ValidFile.of_blocks(result.blocks, keys)

    batch.column_mapping = dict(mapping or {})
    batch.mapping_name = mapping_name[:100]
    batch.rows_read = valid.rows
    try:
        with _sqlite_bulk_session(), transaction.atomic():
            _lock_referenced_rows(batch)
            _check_references(valid.factor_ids, keys, batch)
            present = queries.stored_fingerprints(valid.countries, actor, system=system)
            if present:
                present &= valid.fingerprints()
            inserted = _insert_cases(valid.writer(present, batch), valid.rows - len(present), progress)
            batch.rows_imported = inserted
            batch.rows_already_present = valid.rows - inserted
            _finish(batch, ImportBatch.Status.IMPORTED)
            audit.record(
                actor, "seizures.batch.import", "import_batch", batch.pk,
                country_iso3=country.iso3 if country else "",
                after={"file": batch.file_name, "sha256": sha, "rows": inserted,
                       "already_present": batch.rows_already_present, "mapping": batch.mapping_name},
            )  # fmt: skip
    finally:
        valid.close()
    return ImportOutcome(batch, True)


@dataclass
class _ValidFile:
    """A wholly valid file, from either reader: what storing it needs."""

    rows: int
    countries: set[str]  # reporting countries (ISO3)
    factor_ids: set[int]  # conversion factors used
    fingerprints: Callable[[], set[str]]
    writer: Callable[[set[str], ImportBatch], CaseWriter]  # given the fingerprints already stored
    close: Callable[[], None]

    @classmethod
    def of_bulk(cls, cases: bulk.BulkCases) -> _ValidFile:
        def writer(present: set[str], batch: ImportBatch) -> CaseWriter:
            cases.exclude(present)
            return _bulk_writer(cases, batch)

        return cls(
            cases.count,
            cases.reporting_countries(),
            cases.factor_ids,
            cases.fingerprints,
            writer,
            cases.close,
        )

    @classmethod
    def of_blocks(cls, blocks: Sequence[CaseColumns], keys: _KeyMaps) -> _ValidFile:
        def writer(present: set[str], batch: ImportBatch) -> CaseWriter:
            return _kernel_writer(blocks, present, batch, keys)

        return cls(
            sum(len(block.fingerprints) for block in blocks),
            set().union(*(set(block.reporting_countries) for block in blocks)),
            {i for block in blocks for i in set(block.conversion_factor_ids) if i is not None},
            lambda: set().union(*(block.fingerprints for block in blocks)),
            writer,
            lambda: None,
        )


def _finish(
    batch: ImportBatch,
    status: str,
    *,
    errors: Sequence[RowError] = (),
    truncated: bool = False,
    duplicate_of: ImportBatch | None = None,
) -> None:
    batch.status = status
    batch.errors = _error_dicts(errors)
    batch.errors_truncated = truncated
    batch.duplicate_of = duplicate_of
    batch.finished_at = timezone.now()
    batch.save()


# --- uploads through the web and the API, imported by the worker -----------------------------------------


def upload_dir() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "seizures"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class CheckedUpload(NamedTuple):
    country: Country
    file_name: str
    file_format: str
    size: int


def check_upload(
    actor: Actor | None, upload: UploadedFile, country_iso3: str, classification: str
) -> CheckedUpload:
    """What every upload must be, before its bytes are kept: a country the actor may import for, a CSV or
    XLSX name, a size within the limit, a known classification."""
    country = Country.objects.filter(iso3=(country_iso3 or "").upper()).first()
    if country is None:
        raise UploadRefused("choose the reporting country of the file")
    policy.require(actor, "seizures.import", country)
    name = Path(upload.name or "upload.csv").name
    file_format = file_format_of(name)
    size = upload.size or 0
    if size > settings.OBSERVATORY_MAX_UPLOAD_BYTES:
        raise UploadRefused(
            f"the file has {size:,} bytes; uploads are limited to {settings.OBSERVATORY_MAX_UPLOAD_BYTES:,}"
        )
    try:
        Classification(classification)
    except ValueError as error:
        raise UploadRefused(f"unknown classification {classification!r}") from error
    return CheckedUpload(country, name, file_format, size)


def start_upload(
    actor: Actor | None,
    upload: UploadedFile,
    *,
    country_iso3: str,
    mapping: Mapping[str, str] | None = None,
    mapping_name: str = "",
    remember_as: str = "",
    classification: str = Classification.RESTRICTED.value,
) -> ImportOutcome:
    """Store the uploaded file and start the import job; the same file imported before starts nothing."""
    from observatory.seizures.tasks import import_seizure_batch

    country, name, file_format, size = check_upload(actor, upload, country_iso3, classification)
    if mapping is not None:
        mapping = validate_mapping(mapping)
    elif mapping_name and mapping_name != DEFAULT_MAPPING_NAME:
        saved = queries.layouts_of(country, actor).filter(name=mapping_name).first()
        if saved is None:
            raise UploadRefused(f"no remembered column mapping {mapping_name!r} for {country.iso3}")
        mapping = dict(saved.mapping)
    elif mapping_name == DEFAULT_MAPPING_NAME:
        mapping = dict(IDS_COLUMN_MAPPING)

    stored = upload_dir() / f"{uuid.uuid4().hex}.{file_format}"
    digest = hashlib.sha256()
    with stored.open("wb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    sha = digest.hexdigest()
    previous = ImportBatch.objects.filter(sha256=sha, status=ImportBatch.Status.IMPORTED).first()
    if previous is not None:
        stored.unlink()
        return ImportOutcome(previous, False)

    with transaction.atomic():
        if mapping is not None and remember_as.strip():
            save_column_mapping(actor, country, remember_as.strip()[:100], mapping)
            mapping_name = remember_as.strip()[:100]
        batch = ImportBatch.objects.create(
            file_name=name[:255], file_format=file_format, file_size=size, sha256=sha,
            stored_path=str(stored), country=country, column_mapping=dict(mapping or {}),
            mapping_name=mapping_name[:100] if mapping is not None else "", classification=classification,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
        )  # fmt: skip
        job = start_job(
            actor, "seizures.import", f"Import seizure cases: {name}", import_seizure_batch,
            {"batch_id": batch.pk}, country_iso3=country.iso3, idempotency_key=f"seizures.batch:{batch.pk}",
        )  # fmt: skip
        batch.job = job
        batch.save(update_fields=["job"])
        audit.record(
            actor, "seizures.batch.upload", "import_batch", batch.pk, country_iso3=country.iso3,
            after={"file": name, "sha256": sha, "bytes": size, "job": str(job.pk)},
        )  # fmt: skip
    return ImportOutcome(batch, True)


def run_import_batch(batch_id: int, progress: Progress) -> dict[str, Any]:
    """The worker's part of an upload. Running it again after it finished changes nothing."""
    batch = ImportBatch.objects.select_related("country", "uploaded_by").get(pk=batch_id)
    if batch.status in {ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING, ImportBatch.Status.FAILED}:
        try:
            outcome = import_seizure_file(
                batch.uploaded_by, batch.stored_path, file_name=batch.file_name,
                country_iso3=batch.country.iso3 if batch.country else None,
                mapping=batch.column_mapping or None, mapping_name=batch.mapping_name,
                classification=batch.classification, batch=batch, progress=progress,
            )  # fmt: skip
        except Exception:
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.FAILED, finished_at=timezone.now()
            )
            raise
        batch = outcome.batch
    return batch_summary(batch)


def batch_summary(batch: ImportBatch) -> dict[str, Any]:
    return {
        "batch_id": batch.pk,
        "status": batch.status,
        "rows_read": batch.rows_read,
        "rows_imported": batch.rows_imported,
        "rows_already_present": batch.rows_already_present,
        "errors": len(batch.errors),
        "errors_truncated": batch.errors_truncated,
    }
