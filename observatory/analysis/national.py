"""National prevalence inputs of the regional estimates.

The reporting app owns national prevalence (annex 1.2 values and questionnaire answers) and offers it as
``observatory.reporting.queries.national_prevalence(user, *, drug_code=None, year=None)``, returning
frozen dataclasses with the fields of :class:`NationalPrevalence` below, prevalence in **percent**.
This module names that shape (a Protocol, so any dataclass with these fields fits), reaches it through
one function (:func:`national_inputs`), and keeps a pure adapter from the annex 1.2 parser's records to
the same shape (:func:`from_annex_records`) used by tests and benchmarks on the real file.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from observatory.reference.annex.prevalence import PrevalenceRecord


class NationalPrevalence(Protocol):
    """One national prevalence value as reported (percent)."""

    @property
    def iso3(self) -> str: ...
    @property
    def drug_code(self) -> str: ...
    @property
    def year(self) -> int | None: ...
    @property
    def best(self) -> float | None: ...
    @property
    def low(self) -> float | None: ...
    @property
    def high(self) -> float | None: ...
    @property
    def male(self) -> float | None: ...
    @property
    def female(self) -> float | None: ...
    @property
    def reference_period(self) -> str: ...
    @property
    def age_lower(self) -> int | None: ...
    @property
    def age_upper(self) -> int | None: ...
    @property
    def source(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def adjustment(self) -> str: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class NationalPrevalenceRow:
    """The reporting app's dataclass shape, built here from the annex 1.2 parser (tests, benchmarks)."""

    iso3: str
    drug_code: str
    year: int | None
    best: float | None
    low: float | None
    high: float | None
    male: float | None
    female: float | None
    reference_period: str
    age_lower: int | None
    age_upper: int | None
    source: str
    method: str
    adjustment: str
    status: str


class NationalDataUnavailable(RuntimeError):
    """The reporting app does not (yet) provide national prevalence."""


def national_inputs(user: Any, drug_code: str, year: int) -> list[NationalPrevalence]:
    """Every national value of ``drug_code`` the user may read, all years (the estimator picks, per
    country, the latest value of ``year`` or before). The one place this app reads national data."""
    try:
        module = importlib.import_module("observatory.reporting.queries")
    except ModuleNotFoundError as error:
        raise NationalDataUnavailable(
            "national prevalence is not available: the reporting app provides no queries yet"
        ) from error
    reader = getattr(module, "national_prevalence", None)
    if reader is None:
        raise NationalDataUnavailable("observatory.reporting.queries has no national_prevalence()")
    return list(reader(user, drug_code=drug_code))


_AGE_RANGE = re.compile(r"^\s*(\d{1,2})\s*[-–]\s*(\d{1,3})\s*$")
_AGE_PLUS = re.compile(r"^\s*(\d{1,2})\s*\+\s*$")
OPEN_AGE_UPPER = 100


def parse_age_range(text: str | None) -> tuple[int | None, int | None]:
    """'15-64' → (15, 64); '15+' → (15, 100); anything else → (None, None)."""
    if not text:
        return None, None
    match = _AGE_RANGE.match(text)
    if match:
        return int(match.group(1)), int(match.group(2))
    match = _AGE_PLUS.match(text)
    if match:
        return int(match.group(1)), OPEN_AGE_UPPER
    return None, None


def normalise_country_name(name: str) -> str:
    return " ".join(name.casefold().replace("’", "'").split())


def from_annex_records(
    records: Iterable[PrevalenceRecord],
    iso3_by_name: Mapping[str, str],
    drug_code_by_sheet: Mapping[str, str],
) -> tuple[list[NationalPrevalenceRow], list[str]]:
    """Annex 1.2 records → national rows; returns the rows and the country names not recognised.

    ``iso3_by_name`` is keyed by :func:`normalise_country_name`; sheets missing from
    ``drug_code_by_sheet`` are skipped.
    """
    rows: list[NationalPrevalenceRow] = []
    unknown: set[str] = set()
    for record in records:
        drug_code = drug_code_by_sheet.get(record.sheet)
        if drug_code is None or record.best is None:
            continue
        iso3 = iso3_by_name.get(normalise_country_name(record.country))
        if iso3 is None:
            unknown.add(record.country)
            continue
        lower, upper = parse_age_range(record.age_range)
        rows.append(
            NationalPrevalenceRow(
                iso3=iso3,
                drug_code=drug_code,
                year=record.year,
                best=record.best,
                low=record.low,
                high=record.high,
                male=record.male,
                female=record.female,
                reference_period=record.recall_period,
                age_lower=lower,
                age_upper=upper,
                source=record.source_label or "",
                method=record.method or "",
                adjustment=record.adjustment_reported or "",
                status="published",
            )
        )
    return rows, sorted(unknown)


def annex_drug_codes(sheets: Sequence[str], resolve: Any) -> dict[str, str]:
    """Sheet name → taxonomy code through an alias resolver (``AliasTable.resolve``)."""
    codes: dict[str, str] = {}
    for sheet in sheets:
        resolution = resolve(sheet)
        if resolution.code is not None:
            codes[sheet] = resolution.code
    return codes


def iso3_by_country_name() -> dict[str, str]:
    """Normalised country name (reference name and WDR annex name) → ISO3."""
    from observatory.reference.models import Country

    table: dict[str, str] = {}
    for iso3, name, name_wdr in Country.objects.values_list("iso3", "name", "name_wdr"):
        for label in (name, name_wdr):
            if label:
                table.setdefault(normalise_country_name(label), iso3)
    return table


def annex_national_rows(path: str | Path) -> tuple[list[NationalPrevalenceRow], list[str]]:
    """National rows from the real annex 1.2 workbook, in the reporting app's shape (tests, benchmarks)."""
    from observatory.reference.annex.labels import AliasTable
    from observatory.reference.annex.prevalence import parse_general_population

    parsed = parse_general_population(path)
    codes = annex_drug_codes(
        [sheet.sheet for sheet in parsed.sheets], AliasTable.from_taxonomy_file().resolve
    )
    return from_annex_records(parsed.records, iso3_by_country_name(), codes)
