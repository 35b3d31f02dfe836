"""Reads of reference data. Reference data is public: no scoping needed, but every lookup lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from observatory.reference.loading import normalize_label
from observatory.reference.models import (
    ControlledSubstance,
    ConversionFactor,
    Country,
    Drug,
    DrugAlias,
    ScheduleListing,
    UnitAlias,
)


@dataclass(frozen=True)
class ListingStatus:
    convention: str
    schedule: str
    since: date
    since_precision: str
    until: date | None
    notes: str


@dataclass(frozen=True)
class SubstanceStatus:
    substance: str
    on: date
    listings: tuple[ListingStatus, ...]

    @property
    def controlled(self) -> bool:
        return bool(self.listings)


class UnknownSubstance(LookupError):
    pass


def find_substance(name: str) -> ControlledSubstance:
    """By exact name, then case-insensitively, then among the listed other names."""
    substance = (
        ControlledSubstance.objects.filter(name=name).first()
        or ControlledSubstance.objects.filter(name__iexact=name).first()
        or ControlledSubstance.objects.filter(other_names__icontains=name).first()
    )
    if substance is None:
        raise UnknownSubstance(f"no controlled substance named {name!r}")
    return substance


def substance_status(name: str, on: date) -> SubstanceStatus:
    """Under which conventions and schedules the substance stood on the given date.

    A listing whose decision year is known but not its day counts from 1 January of that year
    (``since_precision == "year"``): callers show that precision rather than inventing a day.
    """
    substance = find_substance(name)
    listings = ScheduleListing.objects.filter(substance=substance, effective_from__lte=on).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=on)
    )
    return SubstanceStatus(
        substance=substance.name,
        on=on,
        listings=tuple(
            ListingStatus(
                listing.convention,
                listing.schedule,
                listing.effective_from,
                listing.effective_from_precision,
                listing.effective_to,
                listing.notes,
            )
            for listing in listings.order_by("convention", "schedule")
        ),
    )


def countries() -> QuerySet[Country]:
    return Country.objects.select_related("wdr_region", "wdr_subregion").order_by("name")


def country_by_iso3(iso3: str) -> Country:
    return Country.objects.select_related("wdr_region", "wdr_subregion").get(iso3=iso3.upper())


def drug_for_label(label: str) -> Drug | None:
    """The taxonomy drug behind a label as found in a file, or None if the alias table does not know it."""
    alias = DrugAlias.objects.select_related("drug").filter(normalized=normalize_label(label)).first()
    return alias.drug if alias is not None else None


def unit_alias_table() -> dict[str, str]:
    return dict(UnitAlias.objects.values_list("normalized", "unit__code"))


def drug_alias_table() -> dict[str, str]:
    """Normalised label → drug code, for importers that resolve many labels at once."""
    return dict(DrugAlias.objects.filter(drug__isnull=False).values_list("normalized", "drug__code"))


@dataclass(frozen=True)
class FactorChoice:
    factor_id: int
    version: str
    kg_per_unit: float


def conversion_factor(
    drug_code: str, unit_code: str, region_id: int | None, year: int | None
) -> FactorChoice | None:
    """The most specific factor of the newest set: drug before any-drug, region and year before none."""
    candidates = (
        ConversionFactor.objects.filter(unit__code=unit_code)
        .filter(Q(drug__code=drug_code) | Q(drug__isnull=True))
        .filter(Q(region_id=region_id) | Q(region__isnull=True))
        .filter(Q(year=year) | Q(year__isnull=True))
        .select_related("factor_set")
    )
    best = max(
        candidates,
        key=lambda f: (
            f.factor_set.published_on,
            f.drug_id is not None,
            f.region_id is not None,
            f.year is not None,
        ),
        default=None,
    )
    if best is None:
        return None
    return FactorChoice(best.pk, best.factor_set.version, best.kg_per_unit)
