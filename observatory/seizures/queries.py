"""Every read of seizure data, scoped to what the acting user may see, field by field.

- A case row is visible to holders of seizures.view by its classification and reporting country
  (`policy.scoped`): public to any holder of the verb, restricted to holders on the reporting country (or
  its region, or globally), confidential to country-scoped holders and the global office.
- The restricted fields (route, offender nationalities, seizing agency) are shown only where the user
  holds the verb on the reporting country, and never more widely than the row's own classification:
  `detail_filter` is that rule as a SQL condition, and the projections below are explicit.
- Anonymous users see nothing here: every function requires the verb somewhere.
- Route analysis aggregates only cases whose route the user may read, so sums cannot leak either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear

from observatory.access import policy
from observatory.access.policy import Classification
from observatory.reference.models import Country
from observatory.seizures.kernels.routes import (
    EdgeFlows,
    EmergingRoute,
    FlowNetwork,
    FlowWeight,
    LegObservations,
    aggregate_edges,
    emerging_routes,
    flow_network,
)
from observatory.seizures.models import ColumnMapping, ImportBatch, SeizureCase

if TYPE_CHECKING:
    from observatory.access.policy import Actor

VIEW = "seizures.view"
ANALYSE = "seizures.analyse"

# Explicit projections: what anyone who may see the row gets, and what only detail readers get.
CASE_FIELDS: tuple[str, ...] = (
    "id", "case_reference", "reporting_country__iso3", "seizure_date", "date_precision", "place",
    "admin_area", "latitude", "longitude", "site_type", "transport_mode", "concealment", "drug__code",
    "drug__name", "drug_label", "quantity", "unit__code", "unit_label", "purity_percent", "kg_equivalent",
    "conversion_factor_id", "conversion_factor__factor_set__version", "channel", "channel_label", "source",
    "classification",
)  # fmt: skip
RESTRICTED_FIELDS: tuple[str, ...] = (
    "origin_country__iso3", "departure_country__iso3", "transit_countries", "destination_country__iso3",
    "route", "offender_nationalities", "seizing_agency",
)  # fmt: skip


@dataclass(frozen=True)
class CaseFilters:
    drug: str = ""  # taxonomy drug code, or a prefix (group or subgroup code)
    country: str = ""  # reporting country ISO3
    year_from: int | None = None
    year_to: int | None = None
    route_country: str = ""  # ISO3 anywhere on the route (restricted: only where the route is readable)
    transport_mode: str = ""
    concealment: str = ""
    channel: str = ""  # internet | postal | other


def detail_filter(user: Actor | None, verb: str = VIEW) -> Q:
    """Rows whose restricted fields ``user`` may read: the verb on the reporting country, never wider
    than the row's classification (restricted at least: a public row's route is still restricted)."""
    granted = policy.reach(user, verb)
    if granted.everywhere:
        return Q()
    if not granted.country_ids:
        return Q(pk__in=[])
    restricted = Q(
        classification__in=[Classification.PUBLIC.value, Classification.RESTRICTED.value],
        reporting_country_id__in=sorted(granted.country_ids),
    )
    confidential = Q(
        classification=Classification.CONFIDENTIAL.value,
        reporting_country_id__in=sorted(granted.by_country),
    )
    return restricted | confidential if granted.by_country else restricted


def visible_cases(user: Actor | None, verb: str = VIEW) -> QuerySet[SeizureCase]:
    """Cases ``user`` may see at all. Raises PermissionDenied for users without the verb anywhere."""
    policy.require(user, verb)
    return policy.scoped(
        SeizureCase.objects.all(),
        user,
        verb,
        country_lookups=("reporting_country",),
        classification_field="classification",
    )


def filtered_cases(user: Actor | None, filters: CaseFilters, verb: str = VIEW) -> QuerySet[SeizureCase]:
    cases = visible_cases(user, verb)
    if filters.drug:
        cases = cases.filter(Q(drug__code=filters.drug) | Q(drug__code__startswith=f"{filters.drug}."))
    if filters.country:
        cases = cases.filter(reporting_country__iso3=filters.country.upper())
    if filters.year_from is not None:
        cases = cases.filter(seizure_year__gte=filters.year_from)
    if filters.year_to is not None:
        cases = cases.filter(seizure_year__lte=filters.year_to)
    if filters.transport_mode:
        cases = cases.filter(transport_mode__iexact=filters.transport_mode)
    if filters.concealment:
        cases = cases.filter(concealment__icontains=filters.concealment)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.route_country:
        # Filtering on a route is reading it: only rows whose route the user may see can match.
        code = filters.route_country.strip().upper()[:3]
        cases = cases.filter(detail_filter(user, verb), route__contains=code)
    return cases


def case_rows(cases: QuerySet[SeizureCase], user: Actor | None, verb: str = VIEW) -> list[dict[str, Any]]:
    """The explicit projection of each case; restricted fields are None where they may not be read."""
    annotated = cases.annotate(
        detail_visible=ExpressionWrapper(detail_filter(user, verb), output_field=BooleanField())
    )
    rows = []
    for values in annotated.values(*CASE_FIELDS, *RESTRICTED_FIELDS, "detail_visible"):
        visible = bool(values.pop("detail_visible"))
        row = {name: values[name] for name in CASE_FIELDS}
        row["restricted_fields_visible"] = visible
        for name in RESTRICTED_FIELDS:
            row[name] = values[name] if visible else None
        if visible:
            row["transit_countries"] = [c for c in (values["transit_countries"] or "").split(";") if c]
            row["offender_nationalities"] = [
                c for c in (values["offender_nationalities"] or "").split(";") if c
            ]
        rows.append(row)
    return rows


def case_detail(user: Actor | None, case_id: int) -> dict[str, Any] | None:
    rows = case_rows(visible_cases(user).filter(pk=case_id), user)
    return rows[0] if rows else None


def filter_options(user: Actor | None) -> dict[str, list[Any]]:
    """Values to offer in filter forms, from the cases the user can see."""
    cases = visible_cases(user)
    return {
        "drugs": list(cases.values_list("drug__code", "drug__name").distinct().order_by("drug__name")),
        "countries": list(
            cases.values_list("reporting_country__iso3", "reporting_country__name")
            .distinct()
            .order_by("reporting_country__name")
        ),
        "transport_modes": sorted(
            m for m in cases.values_list("transport_mode", flat=True).distinct().order_by() if m
        ),
        "years": sorted(y for y in cases.values_list("seizure_year", flat=True).distinct().order_by()),
    }


def case_points(user: Actor | None, filters: CaseFilters) -> list[dict[str, Any]]:
    """Cases per location for the case map: reported coordinates, else the reporting country's centroid."""
    cases = filtered_cases(user, filters)
    located = (
        cases.filter(latitude__isnull=False, longitude__isnull=False)
        .values("latitude", "longitude")
        .annotate(cases=Count("id"), kg=Sum("kg_equivalent"))
        .order_by()
    )
    points = [
        {"latitude": p["latitude"], "longitude": p["longitude"], "cases": p["cases"], "kg": p["kg"] or 0.0,
         "label": f"{p['latitude']:.2f}, {p['longitude']:.2f}", "exact": True}
        for p in located
    ]  # fmt: skip
    by_country = (
        cases.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True))
        .values("reporting_country__iso3", "reporting_country__name", "reporting_country__latitude",
                "reporting_country__longitude")
        .annotate(cases=Count("id"), kg=Sum("kg_equivalent"))
        .order_by("-cases")
    )  # fmt: skip
    for p in by_country:
        if p["reporting_country__latitude"] is None:
            continue
        points.append(
            {"latitude": p["reporting_country__latitude"], "longitude": p["reporting_country__longitude"],
             "cases": p["cases"], "kg": p["kg"] or 0.0, "label": p["reporting_country__name"], "exact": False}
        )  # fmt: skip
    return points


# --- import batches --------------------------------------------------------------------------------------


def column_mappings_for(user: Actor | None) -> QuerySet[ColumnMapping]:
    """Remembered layouts of the countries whose files the user may import."""
    return policy.scoped(ColumnMapping.objects.select_related("country"), user, "seizures.import")


def layouts_of(country: Country, user: Actor | None, *, system: bool = False) -> QuerySet[ColumnMapping]:
    """A country's remembered layouts, as the user may read them (all of them for the system itself,
    importing from the shell)."""
    layouts = ColumnMapping.objects.filter(country=country)
    return layouts if system else layouts.filter(pk__in=column_mappings_for(user).values("pk"))


def stored_fingerprints(
    country_codes: Iterable[str], importer: Actor | None, *, system: bool = False
) -> set[str]:
    """Fingerprints of the cases already stored for these reporting countries, for an import's duplicate
    check: of the countries where the importer may import (all of them for the system itself, importing
    from the shell). Nothing else of a case is read."""
    cases = SeizureCase.objects.filter(reporting_country__iso3__in=sorted(set(country_codes)))
    if not system:
        granted = policy.reach(importer, "seizures.import")
        if not granted.everywhere:
            cases = cases.filter(reporting_country_id__in=sorted(granted.country_ids))
    return set(cases.values_list("fingerprint", flat=True))


def batches_for(user: Actor | None) -> QuerySet[ImportBatch]:
    """Batches the user uploaded, or of countries where they may import or view cases."""
    if user is None or not user.is_authenticated:
        return ImportBatch.objects.none()
    condition = Q(uploaded_by_id=user.pk)
    for verb in ("seizures.import", VIEW):
        granted = policy.reach(user, verb)
        if granted.everywhere:
            return ImportBatch.objects.select_related("country", "job")
        if granted.country_ids:
            condition |= Q(country_id__in=sorted(granted.country_ids))
    return ImportBatch.objects.filter(condition).select_related("country", "job")


# --- routes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteAnalysis:
    network: FlowNetwork
    emerging: tuple[EmergingRoute, ...]
    emerging_period: int | None
    case_count: int
    centroids: dict[str, tuple[float, float, str]]  # ISO3 -> (latitude, longitude, name)


def route_cases(user: Actor | None, filters: CaseFilters) -> QuerySet[SeizureCase]:
    """Cases whose route the user may analyse: seizures.analyse, restricted fields readable."""
    without_period = CaseFilters(**{**filters.__dict__, "year_from": None, "year_to": None})
    cases = filtered_cases(user, without_period, ANALYSE)
    return cases.filter(detail_filter(user, ANALYSE), route__contains=">")


def edge_flows(cases: QuerySet[SeizureCase]) -> tuple[EdgeFlows, dict[int, int]]:
    """Route legs per year, aggregated: the database groups cases by (route, year) and the kernel
    expands each group into its legs, one event per case, so a million cases cost one GROUP BY."""
    grouped = cases.values_list("route", "seizure_year").annotate(n=Count("id"), kg=Sum("kg_equivalent"))
    sql, params = grouped.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        groups = cursor.fetchall()
    cases_per_period: dict[int, int] = {}
    for _, period, count, _ in groups:
        cases_per_period[int(period)] = cases_per_period.get(int(period), 0) + int(count)
    return flows_from_route_groups(groups), cases_per_period


def flows_from_route_groups(groups: Iterable[tuple[str, int, int, float | None]]) -> EdgeFlows:
    """(route path `A>B>C`, period, cases, kg) groups -> per-leg observations -> edges per period."""
    routes: list[str] = []
    periods: list[int] = []
    counts: list[int] = []
    kgs: list[float] = []
    for route, period, count, kg in groups:
        routes.append(route)
        periods.append(int(period))
        counts.append(int(count))
        kgs.append(float(kg) if kg is not None else 0.0)
    paths = [route.split(">") for route in routes]
    countries = tuple(sorted({c for path in paths for c in path}))
    code = {c: i for i, c in enumerate(countries)}
    group_source: list[int] = []
    group_target: list[int] = []
    group_of_leg: list[int] = []
    for g, path in enumerate(paths):
        indexes = [code[c] for c in path]
        group_source.extend(indexes[:-1])
        group_target.extend(indexes[1:])
        group_of_leg.extend([g] * (len(indexes) - 1))
    count_array = np.asarray(counts, dtype=np.int64)
    leg_group = np.asarray(group_of_leg, dtype=np.int64)
    # Each group leg stands for `count` cases: repeat it with one event id per case of the group.
    repeats = count_array[leg_group] if leg_group.size else np.zeros(0, dtype=np.int64)
    case_offset = np.concatenate(([0], np.cumsum(count_array)))[:-1] if counts else np.zeros(0, np.int64)
    leg_index = np.repeat(np.arange(leg_group.size), repeats)
    rank = np.arange(leg_index.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    legs = LegObservations(
        countries=countries,
        source=np.asarray(group_source, dtype=np.int64)[leg_index],
        target=np.asarray(group_target, dtype=np.int64)[leg_index],
        period=np.asarray(periods, dtype=np.int64)[leg_group][leg_index],
        # A group's kilograms shared evenly among its cases: every edge sum stays exact.
        kg=(np.asarray(kgs) / np.maximum(count_array, 1))[leg_group][leg_index],
        event=case_offset[leg_group][leg_index] + rank,
    )
    return aggregate_edges(legs)


def route_analysis(
    user: Actor | None,
    filters: CaseFilters,
    weight: FlowWeight = "cases",
    previous_periods: int = 3,
    min_events: int = 3,
    top_n: int = 10,
) -> RouteAnalysis:
    """Flow network over the chosen years, and routes new or rising in the last of them."""
    cases = route_cases(user, filters)
    flows, cases_per_period = edge_flows(cases)
    years = sorted({int(p) for p in flows.period})
    low = filters.year_from if filters.year_from is not None else (years[0] if years else None)
    high = filters.year_to if filters.year_to is not None else (years[-1] if years else None)
    chosen = [y for y in years if (low is None or y >= low) and (high is None or y <= high)]
    network = flow_network(flows, chosen if chosen else [], weight=weight, top_n=top_n)
    emerging: tuple[EmergingRoute, ...] = ()
    if high is not None:
        emerging = emerging_routes(flows, high, previous_periods=previous_periods, min_events=min_events)
    in_period = sum(cases_per_period.get(year, 0) for year in chosen)
    codes = {n.country for n in network.nodes}
    centroids = {
        iso3: (lat, lon, name)
        for iso3, lat, lon, name in Country.objects.filter(iso3__in=codes).values_list(
            "iso3", "latitude", "longitude", "name"
        )
        if lat is not None and lon is not None
    }
    return RouteAnalysis(network, emerging, high, in_period, centroids)


@dataclass(frozen=True)
class CaseTotal:
    drug_group_id: int
    country_id: int
    region_id: int
    year: int
    cases: int
    kilograms: float


def case_totals_by_group_country_year() -> list[CaseTotal]:
    """Cases and kilogram equivalents by drug group × reporting country × year over ALL cases, for the
    maintained statistics of the analysis app, which scopes every read of them by country."""
    grouped = (
        SeizureCase.objects.filter(reporting_country__wdr_region__isnull=False)
        .annotate(year=ExtractYear("seizure_date"))
        .values(
            "drug__subgroup__group_id", "reporting_country_id", "reporting_country__wdr_region_id", "year"
        )
        .annotate(cases=Count("id"), kg=Sum("kg_equivalent"))
        .order_by()
    )
    return [
        CaseTotal(
            drug_group_id=item["drug__subgroup__group_id"],
            country_id=item["reporting_country_id"],
            region_id=item["reporting_country__wdr_region_id"],
            year=item["year"],
            cases=item["cases"],
            kilograms=float(item["kg"] or 0.0),
        )
        for item in grouped
    ]
