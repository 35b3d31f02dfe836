"""Reference data API: public facts, readable without signing in."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError

from observatory.reference import queries
from observatory.reference.models import Country, DrugGroup, Population

router = Router(tags=["reference"])


class CountryOut(Schema):
    iso3: str
    iso2: str
    m49: str
    name: str
    wdr_region: str | None
    wdr_subregion: str | None
    latitude: float | None
    longitude: float | None

    @staticmethod
    def resolve_wdr_region(country: Country) -> str | None:
        return country.wdr_region.name if country.wdr_region else None

    @staticmethod
    def resolve_wdr_subregion(country: Country) -> str | None:
        return country.wdr_subregion.name if country.wdr_subregion else None


class PopulationOut(Schema):
    year: int
    total: int
    aged_15_64: int
    variant: str
    source: str


class ListingOut(Schema):
    convention: str
    schedule: str
    since: date
    since_precision: str
    until: date | None
    notes: str


class StatusOut(Schema):
    substance: str
    on: date
    controlled: bool
    listings: list[ListingOut]
    caveat: str


class DrugOut(Schema):
    code: str
    name: str
    measure: str


class SubgroupOut(Schema):
    code: str
    name: str
    drugs: list[DrugOut]


class GroupOut(Schema):
    code: str
    name: str
    subgroups: list[SubgroupOut]


@router.get("/countries", response=list[CountryOut], auth=None)
def list_countries(request: HttpRequest) -> Any:
    return queries.countries()


@router.get("/countries/{iso3}", response=CountryOut, auth=None)
def get_country(request: HttpRequest, iso3: str) -> Any:
    return get_object_or_404(queries.countries(), iso3=iso3.upper())


@router.get("/countries/{iso3}/population", response=list[PopulationOut], auth=None)
def country_population(request: HttpRequest, iso3: str) -> Any:
    country = get_object_or_404(Country, iso3=iso3.upper())
    return Population.objects.filter(country=country).order_by("year")


@router.get(
    "/substances/status",
    response=StatusOut,
    auth=None,
    summary="International control status of a substance on a date",
)
def substance_status(request: HttpRequest, name: str, on: date | None = None) -> dict[str, Any]:
    try:
        status = queries.substance_status(name, on or date.today())
    except queries.UnknownSubstance as error:
        raise HttpError(404, str(error)) from error
    return {
        "substance": status.substance,
        "on": status.on,
        "controlled": status.controlled,
        "listings": [listing.__dict__ for listing in status.listings],
        "caveat": "Compiled from public documents; verify against the current INCB lists before regulatory use.",
    }


@router.get("/drugs", response=list[GroupOut], auth=None, summary="The World Drug Report drug taxonomy")
def drug_taxonomy(request: HttpRequest) -> Any:
    return DrugGroup.objects.prefetch_related("subgroups__drugs").order_by("name")
