"""Parse, validate and normalise uploaded individual seizure rows, fast and with every error reported.

Input: raw rows (lists of cells with the file's header, or dicts as `csv.DictReader` gives them), a column
mapping (their header -> our canonical field, see `FIELDS`), and lookup tables passed in as plain dicts
(`LookupTables`). Output: `ParseResult` holding either normalised `NormalisedCase` tuples ready for a
bulk insert, or the complete list of `RowError`s (row number as the user sees it in a spreadsheet, with
the header on row 1; the column as named in their file; a reason code and a sentence).

Rules that matter:
- Quantities are stored as reported; the kilogram equivalent comes only from a conversion factor of the
  lookup table, and its id is kept. Counts (plants, tablets, doses) without a factor get kg `None`.
- Factor lookup tries (drug, unit, region, year) first, then drops year, then region, and finally the
  drug (`None` keys): generic mass factors such as (None, "g", None, None) -> 0.001 kg live there.
  Versioned factors valid over year ranges are expanded to one key per year by the caller.
- The seizure date is `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; its form is its precision. The stored date is
  the first day of the period, and a period that starts after `today` is a date in the future.
- The fingerprint is a hash of the normalised content plus reporting country and case reference, so a
  re-imported file yields the same fingerprints. Identical rows within one file are not merged (they may
  be separate reports): the second copy gets the occurrence number mixed in, deterministically.

Speed: every categorical value (drug, unit, country, date, transit list) is resolved once per distinct
raw string and memoised for the life of one parser (one import), so the per-row path is a handful of dict
look-ups, one float() and one hash.
"""

from __future__ import annotations

import gc
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from hashlib import md5
from itertools import islice
from typing import Any, NamedTuple, cast

# Canonical fields a column can be mapped to.
REQUIRED_FIELDS: tuple[str, ...] = ("reporting_country", "seizure_date", "drug", "quantity", "unit")
OPTIONAL_FIELDS: tuple[str, ...] = (
    "case_reference",
    "place",
    "admin_area",
    "latitude",
    "longitude",
    "site_type",
    "transport_mode",
    "concealment",
    "purity",
    "origin_country",
    "departure_country",
    "transit_countries",
    "destination_country",
    "trafficking_channel",
    "offender_nationalities",
    "seizing_agency",
)
FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS

MAX_TEXT_LENGTH = 200
MAX_LIST_COUNTRIES = (MAX_TEXT_LENGTH + 1) // 4  # ISO3 codes joined by ';'
# Tokens meaning "not known" in optional country cells (IDS releases write "Unknown").
_UNKNOWN_TOKENS = frozenset({"", "UNKNOWN", "UNK", "N/A", "-", "NONE", "NULL"})
_LIST_SEPARATORS = (",", "|")  # normalised to ";" before splitting


class NormalisedCase(NamedTuple):
    """One valid case, in bulk-insert column order."""

    row_number: int
    fingerprint: str
    reporting_country: str
    case_reference: str
    seizure_date: date
    date_precision: str  # "day" | "month" | "year"
    place: str
    admin_area: str
    latitude: float | None
    longitude: float | None
    site_type: str
    transport_mode: str
    concealment: str
    drug_code: str
    drug_label: str
    quantity: float
    unit_code: str
    unit_label: str
    purity_percent: float | None
    kg_equivalent: float | None
    conversion_factor_id: int | None
    origin_country: str | None
    departure_country: str | None
    transit_countries: tuple[str, ...]
    destination_country: str | None
    trafficking_channel: str
    offender_nationalities: tuple[str, ...]
    seizing_agency: str


class CaseColumns(NamedTuple):
    """A valid batch column by column (one value per row in each), for bulk inserts without a Python
    object per row. The fields of `NormalisedCase`, except: dates as ISO text with their year; transit
    countries and offender nationalities as `;`-joined ISO3 text."""

    row_numbers: Sequence[int]
    fingerprints: list[str]
    reporting_countries: Sequence[str]
    case_references: list[str]
    seizure_dates: Sequence[str]  # ISO YYYY-MM-DD, the first day of the period
    seizure_years: Sequence[int]
    date_precisions: Sequence[str]
    places: list[str]
    admin_areas: list[str]
    latitudes: list[float | None]
    longitudes: list[float | None]
    site_types: list[str]
    transport_modes: list[str]
    concealments: list[str]
    drug_codes: list[str]
    drug_labels: list[str]
    quantities: list[float]
    unit_codes: list[str]
    unit_labels: list[str]
    purities: list[float | None]
    kg_equivalents: list[float | None]
    conversion_factor_ids: list[int | None]
    origin_countries: list[str | None]
    departure_countries: list[str | None]
    transit_countries: Sequence[str]  # ISO3;ISO3
    destination_countries: list[str | None]
    trafficking_channels: list[str]
    offender_nationalities: Sequence[str]  # ISO3;ISO3
    seizing_agencies: list[str]


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: spreadsheet row (header = 1), column as named in the file (None: whole row)."""

    row: int
    column: str | None
    code: str
    message: str


@dataclass
class ParseResult:
    """Rows are kept only while no error has been seen (an import is all-or-nothing).

    Valid rows go to `rows` (one `NormalisedCase` each), or to `blocks` (`CaseColumns`, one per batch)
    when the parser is `columnar`."""

    rows: list[NormalisedCase] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    errors_truncated: bool = False
    blocks: list[CaseColumns] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def case_count(self) -> int:
        return len(self.rows) + sum(len(block.fingerprints) for block in self.blocks)

    def discard_cases(self) -> None:
        """The file is rejected: keep no valid rows."""
        self.rows.clear()
        self.blocks.clear()


_NOT_LOOKED_UP = object()
FactorKey = tuple[str | None, str | None, str | None, int | None]


@dataclass(frozen=True)
class LookupTables:
    """Reference data, passed in as plain dicts so this module needs no database.

    Alias keys are matched case-insensitively with runs of white space collapsed.
    `conversion_factors`: (drug code | None, unit code, region | None, year | None)
    -> (factor id, kg per unit).
    `country_regions`: ISO3 -> region code used in factor keys. `country_aliases`: name -> ISO3 (optional).
    """

    drug_aliases: Mapping[str, str]
    unit_aliases: Mapping[str, str]
    conversion_factors: Mapping[FactorKey, tuple[int, float]]
    country_codes: frozenset[str] | set[str]
    today: date
    country_regions: Mapping[str, str] = field(default_factory=dict)
    country_aliases: Mapping[str, str] = field(default_factory=dict)


class Invalid:
    """A memoised failure: reason code and message (value already quoted in the message)."""

    __slots__ = ("code", "message")

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


_CURLY_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def normalise_alias(text: str) -> str:
    """The key form of an alias, the same as the reference alias tables use: Unicode NFKC, curly quotes
    straightened, double quotes dropped, case folded, white space collapsed."""
    if text.isascii() and '"' not in text:
        return " ".join(text.casefold().split())
    folded = unicodedata.normalize("NFKC", text).translate(_CURLY_QUOTES).casefold().replace('"', "")
    return " ".join(folded.split())


def _quote(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def parse_seizure_date(text: str, today: date) -> tuple[date, str] | Invalid:
    """`YYYY-MM-DD` | `YYYY-MM` | `YYYY` -> (first day of the period, precision)."""
    value = text.strip()
    length = len(value)
    try:
        if length == 10 and value[4] == "-" and value[7] == "-":
            year, month, day, precision = value[:4], value[5:7], value[8:], "day"
        elif length == 7 and value[4] == "-":
            year, month, day, precision = value[:4], value[5:], "01", "month"
        elif length == 4:
            year, month, day, precision = value, "01", "01", "year"
        else:
            raise ValueError(value)
        # isdecimal() rejects signs, spaces and non-ASCII digits that int() would accept.
        if not (year.isascii() and year.isdecimal() and month.isdecimal() and day.isdecimal()):
            raise ValueError(value)
        start = date(int(year), int(month), int(day))
    except (ValueError, IndexError):
        return Invalid("malformed_date", f"malformed date {_quote(text)}: use YYYY-MM-DD, YYYY-MM or YYYY")
    if start.year < 1900:
        return Invalid("malformed_date", f"date {_quote(text)} is before 1900")
    if start > today:
        return Invalid("future_date", f"date {_quote(text)} is in the future")
    return start, precision


class SeizureRowParser:
    """Validates the rows of one file. Call `parse` once, or repeatedly with consecutive batches.

    Work is column-wise per batch: each distinct raw value of a categorical column is resolved once
    (memoised for the life of the parser), then whole columns are mapped with C-level `map`/`zip`.
    Rows with errors take a slow path that names every problem; valid batches never do.
    """

    def __init__(
        self,
        header: Sequence[str],
        column_mapping: Mapping[str, str],
        lookups: LookupTables,
        *,
        default_reporting_country: str | None = None,
        max_errors: int | None = None,
        batch_size: int = 20_000,
        columnar: bool = False,
    ) -> None:
        self.header = [str(name) for name in header]
        self.columnar = columnar
        self.lookups = lookups
        self.max_errors = max_errors
        self.batch_size = batch_size
        self.default_reporting_country = (
            default_reporting_country.strip().upper() if default_reporting_country else None
        )
        self._drug_aliases = {normalise_alias(k): v for k, v in lookups.drug_aliases.items()}
        self._unit_aliases = {normalise_alias(k): v for k, v in lookups.unit_aliases.items()}
        self._country_aliases = {normalise_alias(k): v for k, v in lookups.country_aliases.items()}
        self._countries = frozenset(lookups.country_codes)
        if self.default_reporting_country and self.default_reporting_country not in self._countries:
            raise ValueError(f"unknown reporting country {self.default_reporting_country!r}")

        unknown_targets = sorted(set(column_mapping.values()) - set(FIELDS))
        if unknown_targets:
            raise ValueError(f"column mapping targets unknown fields: {unknown_targets}")
        position_of_header = {name.strip(): i for i, name in enumerate(self.header)}
        self._index: dict[str, int] = {}
        self._column_name: dict[str, str] = {}
        for their_name, our_field in column_mapping.items():
            position = position_of_header.get(their_name.strip())
            if position is not None:
                self._index[our_field] = position
                self._column_name[our_field] = self.header[position]
        self.header_errors: list[RowError] = []
        for required in REQUIRED_FIELDS:
            if required in self._index:
                continue
            if required == "reporting_country" and self.default_reporting_country:
                continue
            expected = [k for k, v in column_mapping.items() if v == required]
            self.header_errors.append(
                RowError(
                    1,
                    expected[0] if expected else required,
                    "missing_column",
                    f"no column for {required.replace('_', ' ')}",
                )
            )

        # Memo tables live as long as this parser (one import), never at module level.
        self._memos: dict[str, dict[str | None, Any]] = {}
        self._invalid: dict[str, set[str | None]] = {}  # per memo: the raw values that are invalid
        self._factor_memo: dict[tuple[str, str, str | None, int], tuple[int, float] | None] = {}
        self._seen_fingerprints: set[str] = set()
        self._duplicate_counts: dict[str, int] = {}
        self._field_order = {name: i for i, name in enumerate(FIELDS)}
        # Field -> (resolver of one raw value, memo shared by fields of the same kind).
        self._resolvers: dict[str, tuple[Callable[[str], Any], str | None]] = {
            "reporting_country": (self._resolve_reporting_country, None),
            "seizure_date": (self._resolve_date, None),
            "drug": (self._resolve_drug, None),
            "unit": (self._resolve_unit, None),
            "quantity": (self.resolve_quantity, None),
            "purity": (self._resolve_purity, None),
            "latitude": (self._resolve_latitude, None),
            "longitude": (self._resolve_longitude, None),
            "origin_country": (self._resolve_country, "country"),
            "departure_country": (self._resolve_country, "country"),
            "destination_country": (self._resolve_country, "country"),
            "transit_countries": (self._resolve_country_list, "country_list"),
            "offender_nationalities": (self._resolve_country_list, "country_list"),
        }

    def column_position(self, name: str) -> int | None:
        """Where the file holds a field (index into the header), or None when no column is mapped to it."""
        return self._index.get(name)

    def resolve_values(self, name: str, values: Iterable[str | None]) -> dict[str | None, Any]:
        """Each raw value of a field (None: an empty spreadsheet cell) resolved by the rules of parsing,
        memoised: the normalised value, or an `Invalid` that says why not."""
        resolver, memo_name = self._resolvers[name]
        memo = self._memos.setdefault(memo_name or name, {})
        invalid = self._invalid.setdefault(memo_name or name, set())
        resolved = {}
        for value in values:
            if value not in memo:
                outcome = memo[value] = resolver("" if value is None else value)
                if isinstance(outcome, Invalid):
                    invalid.add(value)
            resolved[value] = memo[value]
        return resolved

    # --- resolution of one distinct raw value --------------------------------------------------------

    def _resolve_reporting_country(self, raw: str) -> str | Invalid:
        code = self._resolve_country(raw)
        default = self.default_reporting_country
        if code is None:
            return default if default else Invalid("missing_value", "country is empty")
        if isinstance(code, Invalid):
            return code
        if default is not None and code != default:
            return Invalid("country_mismatch", f"row reports {code} but this import is for {default}")
        return code

    def _resolve_country(self, raw: str) -> str | Invalid | None:
        code = raw.strip().upper()
        if code in self._countries:
            return code
        if code in _UNKNOWN_TOKENS:
            return None
        alias = self._country_aliases.get(normalise_alias(raw))
        if alias is not None:
            return alias
        return Invalid("unknown_country", f"unknown country {_quote(raw)}: use ISO 3166-1 alpha-3")

    def _resolve_country_list(self, raw: str) -> tuple[tuple[str, ...], str] | Invalid:
        text = raw
        for separator in _LIST_SEPARATORS:
            text = text.replace(separator, ";")
        codes: list[str] = []
        for token in text.split(";"):
            resolved = self._resolve_country(token)
            if isinstance(resolved, Invalid):
                return resolved
            if resolved is not None:
                codes.append(resolved)
        joined = ";".join(codes)
        if len(joined) > MAX_TEXT_LENGTH:  # stored joined, within the same limit as any text
            return Invalid("too_many_countries", f"more than {MAX_LIST_COUNTRIES} countries in one list")
        return tuple(codes), joined

    def _resolve_drug(self, raw: str) -> str | Invalid:
        key = normalise_alias(raw)
        if not key:
            return Invalid("missing_value", "drug is empty")
        code = self._drug_aliases.get(key)
        return code if code is not None else Invalid("unknown_drug", f"unknown drug {_quote(raw)}")

    def _resolve_unit(self, raw: str) -> str | Invalid:
        key = normalise_alias(raw)
        if not key:
            return Invalid("missing_value", "unit is empty")
        code = self._unit_aliases.get(key)
        return code if code is not None else Invalid("unknown_unit", f"unknown unit {_quote(raw)}")

    def _resolve_date(self, raw: str) -> tuple[date, str, str, int] | Invalid:
        parsed = parse_seizure_date(raw, self.lookups.today)
        if isinstance(parsed, Invalid):
            return parsed
        return parsed[0], parsed[1], parsed[0].isoformat(), parsed[0].year

    @staticmethod
    def _resolve_purity(raw: str) -> float | Invalid | None:
        if not raw.strip():
            return None
        value = _bounded_number(raw, 0.0, 100.0)
        if value is None:
            return Invalid("malformed_purity", f"purity {_quote(raw)} is not a percentage between 0 and 100")
        return value

    @staticmethod
    def _resolve_latitude(raw: str) -> float | Invalid | None:
        if not raw.strip():
            return None
        value = _bounded_number(raw, -90.0, 90.0)
        if value is None:
            return Invalid("malformed_coordinates", f"latitude {_quote(raw)} is not between -90 and 90")
        return value

    @staticmethod
    def _resolve_longitude(raw: str) -> float | Invalid | None:
        if not raw.strip():
            return None
        value = _bounded_number(raw, -180.0, 180.0)
        if value is None:
            return Invalid("malformed_coordinates", f"longitude {_quote(raw)} is not between -180 and 180")
        return value

    def factor(self, key: tuple[str, str, str | None, int]) -> tuple[int, float] | None:
        """(factor id, kg per unit) for (drug, unit, region, year), or None: no kilograms without one."""
        found = self._factor_memo.get(key, _NOT_LOOKED_UP)
        if found is _NOT_LOOKED_UP:
            found = self._factor_memo[key] = self._find_factor(key)
        return found  # type: ignore[return-value]

    def _find_factor(self, key: tuple[str, str, str | None, int]) -> tuple[int, float] | None:
        drug, unit, region, year = key
        factors = self.lookups.conversion_factors
        for drug_key in (drug, None):
            for region_key in (region, None) if region is not None else (None,):
                for year_key in (year, None):
                    found = factors.get((drug_key, unit, region_key, year_key))
                    if found is not None:
                        return found
        return None

    # --- column helpers ------------------------------------------------------------------------------

    def _column(self, columns: Sequence[Sequence[str | None]], name: str, size: int) -> Sequence[str]:
        position = self._index.get(name)
        # Empty cells may be None (spreadsheet readers); each column path accepts them.
        return cast(Sequence[str], columns[position]) if position is not None else ("",) * size

    def _resolve_column(
        self,
        name: str,
        column: Sequence[str | None],
        row_numbers: Sequence[int],
        errors: list[tuple[int, int, RowError]],
    ) -> list[Any]:
        """Resolve each distinct value once; report every row whose value is invalid."""
        memo_name = self._resolvers[name][1] or name
        memo = self._memos.setdefault(memo_name, {})
        invalid = self._invalid.setdefault(memo_name, set())
        try:  # once the distinct values have been seen (most batches after the first), one pass
            resolved = list(map(memo.__getitem__, column))
        except KeyError:
            self.resolve_values(name, set(column).difference(memo))
            resolved = list(map(memo.__getitem__, column))
        if invalid and not invalid.isdisjoint(column):
            column_name = self._column_name.get(name, name)
            order = self._field_order[name]
            for row_number, outcome in zip(row_numbers, resolved, strict=True):
                if isinstance(outcome, Invalid):
                    errors.append(
                        (row_number, order, RowError(row_number, column_name, outcome.code, outcome.message))
                    )
        return resolved

    def _quantities(
        self, column: Sequence[str], row_numbers: Sequence[int], errors: list[tuple[int, int, RowError]]
    ) -> list[float]:
        try:
            quantities = list(map(float, column))
            if min(quantities) > 0 and math.isfinite(sum(quantities)):
                return quantities  # the fast path: every quantity a positive finite number
        except (ValueError, TypeError):
            pass
        column_name = self._column_name.get("quantity", "quantity")
        order = self._field_order["quantity"]
        quantities = []
        for row_number, cell in zip(row_numbers, column, strict=True):
            value = self.resolve_quantity(cell or "")
            if isinstance(value, Invalid):
                errors.append(
                    (row_number, order, RowError(row_number, column_name, value.code, value.message))
                )
                value = math.nan
            quantities.append(value)
        return quantities

    @staticmethod
    def resolve_quantity(raw: str) -> float | Invalid:
        """A quantity cell: a positive finite number (as Python's float() reads it)."""
        try:
            value = float(raw)
        except ValueError:
            if raw.strip():
                return Invalid(
                    "malformed_quantity", f"malformed quantity {_quote(raw)}: use digits and a point"
                )
            return Invalid("missing_value", "quantity is empty")
        if not math.isfinite(value):
            return Invalid("malformed_quantity", f"quantity {_quote(raw)} is not a finite number")
        if value < 0:
            return Invalid("negative_quantity", f"quantity {_quote(raw)} is negative")
        if value == 0:
            return Invalid("zero_quantity", "quantity is zero")
        return value

    def _texts(
        self,
        name: str,
        column: Sequence[str],
        row_numbers: Sequence[int],
        errors: list[tuple[int, int, RowError]],
    ) -> list[str]:
        texts = _stripped(column)
        if texts and max(map(len, texts)) > MAX_TEXT_LENGTH:
            column_name = self._column_name.get(name, name)
            message = f"{name.replace('_', ' ')} is longer than {MAX_TEXT_LENGTH} characters"
            for row_number, text in zip(row_numbers, texts, strict=True):
                if len(text) > MAX_TEXT_LENGTH:
                    errors.append(
                        (
                            row_number,
                            self._field_order[name],
                            RowError(row_number, column_name, "text_too_long", message),
                        )
                    )
        return texts

    # --- batches -------------------------------------------------------------------------------------

    def parse(
        self,
        rows: Iterable[Sequence[str | None] | Mapping[str | None, Any]],
        first_row_number: int = 2,
        result: ParseResult | None = None,
    ) -> ParseResult:
        """Validate `rows`, numbered from `first_row_number` (2 = the line after the header)."""
        result = result if result is not None else ParseResult()
        if self.header_errors and not any(e.row == 1 for e in result.errors):
            result.errors[:0] = self.header_errors
        iterator = iter(rows)
        next_row_number = first_row_number
        # The cyclic collector would rescan the growing heap of row tuples again and again (which
        # makes parsing several times slower); none of these objects form cycles.
        collector_was_enabled = gc.isenabled()
        gc.disable()
        try:
            while batch := list(islice(iterator, self.batch_size)):
                self._parse_batch(batch, next_row_number, result)
                next_row_number += len(batch)
        finally:
            if collector_was_enabled:
                gc.enable()
        return result

    def _shape(
        self, batch: list[Any], first_row_number: int, errors: list[tuple[int, int, RowError]]
    ) -> tuple[list[Sequence[str]], Sequence[int]]:
        """Rows of the right width (cells as strings), with their spreadsheet row numbers."""
        width = len(self.header)
        from_dicts = bool(batch) and isinstance(batch[0], Mapping)
        if from_dicts:
            batch = [self._dict_row(row) for row in batch]
        if not from_dicts and all(
            len(row) == width for row in batch
        ):  # empty (None) cells are handled per column
            return batch, range(first_row_number, first_row_number + len(batch))
        good_rows: list[Sequence[str]] = []
        good_numbers: list[int] = []
        for row_number, row in enumerate(batch, first_row_number):
            if isinstance(row, int):  # a dict row whose width was wrong: the cell count
                errors.append((row_number, -1, _wrong_width(row_number, row, width)))
            elif len(row) != width:
                errors.append((row_number, -1, _wrong_width(row_number, len(row), width)))
            else:
                good_rows.append(row)
                good_numbers.append(row_number)
        return good_rows, good_numbers

    def _dict_row(self, row: Mapping[str | None, Any]) -> Sequence[str | None] | int:
        """csv.DictReader marks extra cells with the key None and missing cells with the value None."""
        extra = row.get(None)
        if extra:
            return len(self.header) + len(extra)
        cells = [row.get(name) for name in self.header]
        if any(cell is None for cell in cells):
            return sum(cell is not None for cell in cells)
        return cells

    def parse_columns(
        self,
        columns: Sequence[Sequence[str | None]],
        first_row_number: int = 2,
        result: ParseResult | None = None,
    ) -> ParseResult:
        """Validate rows given column by column (one sequence per header column, all of one length),
        numbered from `first_row_number`: the same as `parse` of the rows `zip(*columns)`, without a
        Python object per row."""
        result = result if result is not None else ParseResult()
        if self.header_errors and not any(e.row == 1 for e in result.errors):
            result.errors[:0] = self.header_errors
        if len(columns) != len(self.header):
            raise ValueError(f"{len(columns)} columns given, the header has {len(self.header)}")
        count = len(columns[0]) if columns else 0
        if any(len(values) != count for values in columns):
            raise ValueError("the columns differ in length")
        collector_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for start in range(0, count, self.batch_size):
                end = min(start + self.batch_size, count)
                size = end - start
                result.rows_read += size
                errors: list[tuple[int, int, RowError]] = []
                if self.header_errors:
                    self._finish(errors, result)
                    continue
                whole = start == 0 and end == count
                batch_columns = columns if whole else [values[start:end] for values in columns]
                row_number = first_row_number + start
                numbers = range(row_number, row_number + size)
                self._parse_columns(batch_columns, numbers, errors, result)
        finally:
            if collector_was_enabled:
                gc.enable()
        return result

    def _parse_batch(self, batch: list[Any], first_row_number: int, result: ParseResult) -> None:
        errors: list[tuple[int, int, RowError]] = []
        result.rows_read += len(batch)
        rows, row_numbers = self._shape(batch, first_row_number, errors)
        if self.header_errors or not rows:
            self._finish(errors, result)
            return
        # Empty cells may come as None (spreadsheet readers); each column path below accepts them.
        self._parse_columns(list(zip(*rows, strict=True)), row_numbers, errors, result)

    def _parse_columns(
        self,
        columns: Sequence[Sequence[str | None]],
        row_numbers: Sequence[int],
        errors: list[tuple[int, int, RowError]],
        result: ParseResult,
    ) -> None:
        """Validate and normalise one batch of rows of the right width, given column by column."""
        size = len(row_numbers)

        def column(name: str) -> Sequence[str]:
            return self._column(columns, name, size)

        def resolve(name: str) -> list[Any]:
            return self._resolve_column(name, column(name), row_numbers, errors)

        if "reporting_country" in self._index:
            countries = resolve("reporting_country")
        else:
            countries = [self.default_reporting_country] * size
        dates = resolve("seizure_date")
        drugs = resolve("drug")
        units = resolve("unit")
        quantities = self._quantities(column("quantity"), row_numbers, errors)
        purities = resolve("purity")
        latitudes = resolve("latitude")
        longitudes = resolve("longitude")
        origins = resolve("origin_country")
        departures = resolve("departure_country")
        destinations = resolve("destination_country")
        transits = resolve("transit_countries")
        nationalities = resolve("offender_nationalities")
        texts = {name: self._texts(name, column(name), row_numbers, errors) for name in _TEXT_FIELDS}
        self._check_coordinate_pairs(latitudes, longitudes, row_numbers, errors)
        if errors or result.errors:
            result.discard_cases()  # all-or-nothing: stop collecting rows once the file is rejected
            self._finish(errors, result)
            return

        # --- normalisation of a valid batch: kg through a factor, never without one
        regions = self.lookups.country_regions
        date_values, precisions, iso_dates, years = zip(*dates, strict=True)
        factor_keys = list(zip(drugs, units, map(regions.get, countries), years, strict=True))
        factor_memo = self._factor_memo
        try:  # once every key has been seen, one pass
            factors = list(map(factor_memo.__getitem__, factor_keys))
        except KeyError:
            factors = list(map(self.factor, factor_keys))
        kgs = [None if f is None else q * f[1] for q, f in zip(quantities, factors, strict=True)]
        factor_ids = [None if f is None else f[0] for f in factors]

        drug_labels = _stripped(column("drug"))
        unit_labels = _stripped(column("unit"))
        references = texts["case_reference"]
        transit_codes, transit_texts = zip(*transits, strict=True)
        nationality_codes, nationality_texts = zip(*nationalities, strict=True)
        content_columns = (
            countries, references, iso_dates, precisions,
            texts["place"], texts["admin_area"], list(map(repr, latitudes)), list(map(repr, longitudes)),
            texts["site_type"], texts["transport_mode"], texts["concealment"], drugs, drug_labels,
            list(map(repr, quantities)), units, unit_labels, list(map(repr, purities)),
            [c or "" for c in origins], [c or "" for c in departures], transit_texts,
            [c or "" for c in destinations], texts["trafficking_channel"], nationality_texts,
            texts["seizing_agency"],
        )  # fmt: skip
        contents = list(map(str.encode, map("\x1f".join, zip(*content_columns, strict=True))))
        fingerprints = [md5(content, usedforsecurity=False).hexdigest() for content in contents]
        self._disambiguate_duplicates(fingerprints, contents)

        if self.columnar:
            result.blocks.append(
                CaseColumns(
                    row_numbers, fingerprints, countries, references, iso_dates, years, precisions,
                    texts["place"], texts["admin_area"], latitudes, longitudes, texts["site_type"],
                    texts["transport_mode"], texts["concealment"], drugs, drug_labels, quantities, units,
                    unit_labels, purities, kgs, factor_ids, origins, departures, transit_texts, destinations,
                    texts["trafficking_channel"], nationality_texts, texts["seizing_agency"],
                )
            )  # fmt: skip
            return

        result.rows.extend(
            map(
                NormalisedCase._make,
                zip(
                    row_numbers, fingerprints, countries, references, date_values,
                    precisions, texts["place"], texts["admin_area"], latitudes, longitudes,
                    texts["site_type"], texts["transport_mode"], texts["concealment"], drugs, drug_labels,
                    quantities, units, unit_labels, purities, kgs, factor_ids, origins, departures,
                    transit_codes, destinations, texts["trafficking_channel"],
                    nationality_codes, texts["seizing_agency"],
                    strict=True,
                ),
            )
        )  # fmt: skip

    def _disambiguate_duplicates(self, fingerprints: list[str], contents: list[bytes]) -> None:
        """Identical rows are separate reports: the n-th copy hashes with n mixed in, so re-imports match."""
        seen = self._seen_fingerprints
        if len(set(fingerprints)) == len(fingerprints) and seen.isdisjoint(fingerprints):
            seen.update(fingerprints)
            return
        counts = self._duplicate_counts
        for i, fingerprint in enumerate(fingerprints):
            if fingerprint in seen:
                occurrence = counts.get(fingerprint, 1) + 1
                counts[fingerprint] = occurrence
                fingerprint = md5(contents[i] + b"\x1e%d" % occurrence, usedforsecurity=False).hexdigest()
                fingerprints[i] = fingerprint
            seen.add(fingerprint)

    def _check_coordinate_pairs(
        self,
        latitudes: list[Any],
        longitudes: list[Any],
        row_numbers: Sequence[int],
        errors: list[tuple[int, int, RowError]],
    ) -> None:
        if "latitude" not in self._index and "longitude" not in self._index:
            return
        for row_number, latitude, longitude in zip(row_numbers, latitudes, longitudes, strict=True):
            if (latitude is None) != (longitude is None):
                name = "longitude" if longitude is None else "latitude"
                errors.append(
                    (
                        row_number,
                        self._field_order[name],
                        RowError(
                            row_number,
                            self._column_name.get(name, name),
                            "incomplete_coordinates",
                            "latitude and longitude must be given together",
                        ),
                    )
                )

    def _finish(self, errors: list[tuple[int, int, RowError]], result: ParseResult) -> None:
        errors.sort(key=lambda entry: (entry[0], entry[1]))
        room = None if self.max_errors is None else max(0, self.max_errors - len(result.errors))
        if room is not None and len(errors) > room:
            errors = errors[:room]
            result.errors_truncated = True
        result.errors.extend(error for _, _, error in errors)


_TEXT_FIELDS: tuple[str, ...] = (
    "case_reference",
    "place",
    "admin_area",
    "site_type",
    "transport_mode",
    "concealment",
    "trafficking_channel",
    "seizing_agency",
)


def _stripped(column: Sequence[str | None]) -> list[str]:
    try:
        return list(map(str.strip, column))  # type: ignore[arg-type]
    except TypeError:  # a None cell
        return [(cell or "").strip() for cell in column]


def _wrong_width(row_number: int, found: int, expected: int) -> RowError:
    return RowError(
        row_number, None, "wrong_column_count", f"row has {found} cells, the header has {expected}"
    )


def _bounded_number(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None  # NaN fails both comparisons


def parse_seizure_rows(
    header: Sequence[str],
    rows: Iterable[Sequence[str | None] | Mapping[str | None, Any]],
    column_mapping: Mapping[str, str],
    lookups: LookupTables,
    *,
    default_reporting_country: str | None = None,
    max_errors: int | None = None,
) -> ParseResult:
    """Parse one whole file's data rows (everything after the header line)."""
    parser = SeizureRowParser(
        header,
        column_mapping,
        lookups,
        default_reporting_country=default_reporting_country,
        max_errors=max_errors,
    )
    return parser.parse(rows)
