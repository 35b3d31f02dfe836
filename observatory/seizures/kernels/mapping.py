"""Proposing a column mapping for a file's header: their column -> our canonical field.

Pure: the remembered layouts are passed in. A remembered layout (or the IDS release layout) that names
the header's columns exactly wins column by column; a column it does not name is matched by its
normalised name against the spellings below, so a first upload of "Date of seizure; Substance; Qty"
arrives at the confirmation step already mapped, and the focal point only corrects what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from observatory.seizures.kernels.rows import FIELDS, REQUIRED_FIELDS

# Our field -> how other layouts name it (after normalise_header). The field's own name always counts.
FIELD_SPELLINGS: dict[str, tuple[str, ...]] = {
    "case_reference": (
        "case id",
        "case no",
        "case number",
        "reference",
        "ref",
        "id",
        "record id",
        "case ref",
    ),
    "reporting_country": (
        "country",
        "reporting country",
        "country of seizure",
        "seizing country",
        "country iso3",
        "iso3",
        "member state",
        "state",
    ),
    "seizure_date": ("date", "date of seizure", "seizure date", "seized on", "date seized", "event date"),
    "drug": ("drug name", "substance", "drug type", "substance name", "drug seized", "product"),
    "quantity": ("amount", "qty", "quantity seized", "amount of drug", "amount seized", "weight", "value"),
    "unit": ("drug unit", "units", "unit of measure", "uom", "measure", "quantity unit"),
    "place": ("location", "place of seizure", "city", "town", "locality", "site"),
    "admin_area": ("province", "region", "state province", "district", "administrative area", "department"),
    "latitude": ("lat", "y"),
    "longitude": ("lon", "long", "lng", "x"),
    "site_type": ("type of site", "location type", "place type", "seizure site"),
    "transport_mode": (
        "mode of transport",
        "transport",
        "conveyance",
        "means of transport",
        "transport type",
    ),
    "concealment": ("concealment method", "method of concealment", "hidden in", "modus operandi"),
    "purity": ("purity percent", "purity %", "purity pct"),
    "origin_country": ("producing country", "country of origin", "origin", "source country"),
    "departure_country": ("country of departure", "departure", "from country", "departed from"),
    "transit_countries": ("transit", "transit country", "countries of transit", "via"),
    "destination_country": ("country of destination", "destination", "to country", "intended destination"),
    "trafficking_channel": ("channel", "trafficking method", "internet postal", "delivery channel"),
    "offender_nationalities": ("nationality", "nationalities", "offender nationality", "suspect nationality"),
    "seizing_agency": ("agency", "seized by", "law enforcement agency", "authority"),
}

_SEPARATORS = re.compile(r"[\s_\-./()]+")


def normalise_header(name: str) -> str:
    """'DATE_OF_SEIZURE ' and 'Date of seizure' are the same column name."""
    return _SEPARATORS.sub(" ", name.casefold()).strip()


_FIELD_BY_SPELLING: dict[str, str] = {
    normalise_header(spelling): field
    for field in FIELDS
    for spelling in (field, *FIELD_SPELLINGS.get(field, ()))
}


@dataclass(frozen=True)
class MappingSuggestion:
    """The proposal shown to the uploader: per column of the header the field (or "" to skip it)."""

    layout_name: str  # the remembered layout it started from ("" when none named any column)
    fields: tuple[str, ...]  # aligned with the header
    missing_required: tuple[str, ...]

    def as_mapping(self, header: Sequence[str]) -> dict[str, str]:
        return {column: field for column, field in zip(header, self.fields, strict=True) if field}


def mapping_problems(header: Sequence[str], fields: Sequence[str]) -> list[str]:
    """What stops a chosen mapping from importing: unknown fields, a field chosen twice, a required one missing."""
    problems = [f"unknown field {field!r}" for field in fields if field and field not in FIELDS]
    chosen = [field for field in fields if field]
    for field in sorted({f for f in chosen if chosen.count(f) > 1}):
        columns = [column for column, f in zip(header, fields, strict=True) if f == field]
        problems.append(f"{field} is chosen for more than one column ({', '.join(columns)})")
    problems += [f"no column is mapped to the required field {field}" for field in _missing(fields)]
    return problems


def _missing(fields: Sequence[str]) -> tuple[str, ...]:
    return tuple(field for field in REQUIRED_FIELDS if field not in fields)


def suggest_mapping(
    header: Sequence[str], remembered: Sequence[tuple[str, Mapping[str, str]]]
) -> MappingSuggestion:
    columns = [column.strip() for column in header]
    names = set(columns)
    layout_name, layout = max(remembered, key=lambda item: len(names.intersection(item[1])), default=("", {}))
    if not names.intersection(layout):
        layout_name, layout = "", {}
    fields: list[str] = []
    for column in columns:
        field = layout.get(column) or _FIELD_BY_SPELLING.get(normalise_header(column), "")
        fields.append("" if field in fields else field)  # a field maps at most one column
    return MappingSuggestion(layout_name, tuple(fields), _missing(fields))
