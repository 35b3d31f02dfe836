"""What the portal shows, computed from a set of published observations.

Every function takes the observations already chosen by ``queries.released_observations`` (or a
reviewer's preview), so nothing here decides what is public.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db.models import Count, Max, Min, QuerySet

from observatory.publication.kernels.charts import ChartSeries, MapValue, Point
from observatory.publication.models import PublishedObservation

Observations = QuerySet[PublishedObservation]


@dataclass(frozen=True)
class Indicator:
    code: str
    dataset: str
    name: str
    unit: str  # as shown on pages
    sdmx_unit: str
    area_kinds: tuple[str, ...] = ("country",)


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator(
            "prevalence_past_year",
            "prevalence",
            "Past-year prevalence of use (national surveys)",
            "% of population (survey age range)",
            "PT",
        ),
        Indicator(
            "prevalence_lifetime", "prevalence", "Lifetime prevalence of use (national surveys)", "%", "PT"
        ),
        Indicator(
            "prevalence_past_month",
            "prevalence",
            "Past-month prevalence of use (national surveys)",
            "%",
            "PT",
        ),
        Indicator("seizures_kg", "seizures", "Quantity seized, by drug group", "kg", "KG"),
        Indicator("seizures_reported", "seizures", "Quantity seized, by drug as reported", "kg", "KG"),
        Indicator(
            "seizures_count", "seizures", "Plants or units seized, as reported", "plants or units", "NUM"
        ),
        Indicator(
            "users_past_year",
            "estimates",
            "People who used in the past year, aged 15-64 (estimate)",
            "people",
            "PERSONS",
            ("world", "region", "subregion"),
        ),
        Indicator(
            "prevalence_estimate",
            "estimates",
            "Past-year prevalence, aged 15-64 (estimate)",
            "%",
            "PT",
            ("world", "region", "subregion"),
        ),
        Indicator("cultivation_ha", "cultivation", "Area under illicit cultivation", "hectares", "HA"),
    )
}
DATASET_NAMES = {
    "prevalence": "Prevalence of drug use in the general population",
    "seizures": "Drug seizures",
    "estimates": "Regional and global estimates of drug use",
    "cultivation": "Illicit crop cultivation",
}
# The indicator a drug page maps and tabulates, in order of preference.
MAP_INDICATORS = ("prevalence_past_year", "cultivation_ha", "seizures_kg")


def indicator(code: str) -> Indicator | None:
    return INDICATORS.get(code)


def headline(obs: Observations) -> Observations:
    """The headline figure of each key (further reports of the same year are in downloads)."""
    return obs.filter(series_rank=0)


@dataclass(frozen=True)
class DrugSummary:
    code: str
    name: str
    indicators: tuple[str, ...]
    countries: int
    latest_year: int


def drugs(obs: Observations) -> list[DrugSummary]:
    """Drug groups with published figures, those with the most countries first."""
    grouped: dict[str, dict[str, Any]] = {}
    rows = (
        obs.exclude(indicator="seizures_reported")
        .exclude(indicator="seizures_count")
        .order_by()
        .values("drug", "indicator")
        .annotate(countries=Count("area_code", distinct=True), latest=Max("year"), name=Min("drug_name"))
    )
    for row in rows:
        item = grouped.setdefault(
            row["drug"], {"name": row["name"], "indicators": [], "countries": 0, "latest": 0}
        )
        item["indicators"].append(row["indicator"])
        item["countries"] = max(item["countries"], row["countries"])
        item["latest"] = max(item["latest"], row["latest"])
    result = [
        DrugSummary(code, item["name"], tuple(sorted(item["indicators"])), item["countries"], item["latest"])
        for code, item in grouped.items()
    ]
    return sorted(result, key=lambda d: (-d.countries, d.name))


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    year: int
    source: str
    method: str
    coverage: str
    link: str = ""


def key_figures(obs: Observations) -> list[KeyFigure]:
    """World estimates of people who used (latest year per drug); without estimates, the number of
    countries reporting prevalence and the seizures reported for the latest year."""
    figures: list[KeyFigure] = []
    world = headline(obs).filter(indicator="users_past_year", area_code="WORLD").order_by("drug", "-year")
    seen: set[str] = set()
    for row in world:
        if row.drug in seen:
            continue
        seen.add(row.drug)
        figures.append(
            KeyFigure(
                f"People who used {row.drug_name.lower()} in {row.year}",
                row.value,
                row.low,
                row.high,
                "people aged 15-64",
                row.year,
                row.source,
                row.method,
                row.coverage,
                link=row.drug,
            )
        )
    prevalence = headline(obs).filter(indicator="prevalence_past_year")
    if prevalence.exists():
        latest = prevalence.aggregate(latest=Max("year"))["latest"]
        countries = prevalence.order_by().values("area_code").distinct().count()
        sample = prevalence.order_by("-year").first()
        figures.append(
            KeyFigure(
                "Countries with national prevalence surveys published",
                float(countries),
                None,
                None,
                "countries",
                latest,
                sample.source if sample else "",
                "national household and general-population surveys",
                f"{countries} countries",
            )
        )
    seizures = headline(obs).filter(indicator="seizures_kg")
    if seizures.exists():
        latest = seizures.aggregate(latest=Max("year"))["latest"]
        for drug in ("cocaine", "cannabis", "opioids", "ats"):
            rows = seizures.filter(year=latest, drug=drug)
            total = sum(r for r in rows.values_list("value", flat=True) if r is not None)
            count = rows.order_by().values("area_code").distinct().count()
            if not count:
                continue
            name = rows.values_list("drug_name", flat=True).first() or drug
            figures.append(
                KeyFigure(
                    f"{name}: quantity seized in {latest}",
                    total,
                    None,
                    None,
                    "kg",
                    latest,
                    rows.values_list("source", flat=True).first() or "",
                    "sum of national figures as reported; reported totals never added to components",
                    f"{count} countries reporting",
                    link=drug,
                )
            )
    return figures


def trend_series(
    obs: Observations, drug: str, indicator_code: str, area_kinds: Iterable[str]
) -> list[ChartSeries]:
    """One line per area (world first, then regions) with its range, over the years."""
    rows = headline(obs).filter(drug=drug, indicator=indicator_code, area_kind__in=list(area_kinds))
    lines: dict[tuple[str, str], list[Point]] = defaultdict(list)
    order = {"world": 0, "region": 1, "subregion": 2, "country": 3}
    for area_kind, area_name, year, value, low, high in rows.values_list(
        "area_kind", "area_name", "year", "value", "low", "high"
    ).order_by("year"):
        lines[(area_kind, area_name)].append(Point(year, value, low, high))
    return [
        ChartSeries(label=name, points=points)
        for (kind, name), points in sorted(
            lines.items(), key=lambda item: (order.get(item[0][0], 9), item[0][1])
        )
    ]


def regional_seizure_trend(obs: Observations, drug: str) -> list[ChartSeries]:
    """Kilograms seized by WDR region and year: sums of the published national figures."""
    totals: dict[tuple[str, int], float] = defaultdict(float)
    for region, year, value in (
        headline(obs).filter(drug=drug, indicator="seizures_kg").values_list("region", "year", "value")
    ):
        if value is not None:
            totals[(region or "Unassigned", year)] += value
    lines: dict[str, list[Point]] = defaultdict(list)
    for (region, year), total in sorted(totals.items()):
        lines[region].append(Point(year, total))
    return [ChartSeries(label=region, points=points) for region, points in sorted(lines.items())]


@dataclass(frozen=True)
class LatestRow:
    iso3: str
    name: str
    region: str
    subregion: str
    year: int
    value: float | None
    low: float | None
    high: float | None
    source: str
    method: str
    coverage: str
    notes: str
    extra: dict[str, Any]
    latitude: float | None = None
    longitude: float | None = None


def latest_by_country(obs: Observations, drug: str, indicator_code: str) -> list[LatestRow]:
    """Each country's most recent headline figure for the drug and indicator, by region then name."""
    latest: dict[str, LatestRow] = {}
    for row in (
        headline(obs)
        .filter(drug=drug, indicator=indicator_code, area_kind="country")
        .order_by("area_code", "-year")
        .values(
            "area_code",
            "area_name",
            "region",
            "subregion",
            "year",
            "value",
            "low",
            "high",
            "source",
            "method",
            "coverage",
            "notes",
            "extra",
        )
    ):
        if row["area_code"] in latest:
            continue
        latest[row["area_code"]] = LatestRow(
            row["area_code"], row["area_name"], row["region"], row["subregion"], row["year"], row["value"],
            row["low"], row["high"], row["source"], row["method"], row["coverage"], row["notes"], row["extra"],
        )  # fmt: skip
    return sorted(latest.values(), key=lambda r: (r.region, r.subregion, r.name))


def map_indicator_for(obs: Observations, drug: str) -> str | None:
    present = set(
        headline(obs)
        .filter(drug=drug, area_kind="country")
        .order_by()
        .values_list("indicator", flat=True)
        .distinct()
    )
    return next((code for code in MAP_INDICATORS if code in present), None)


def map_values(
    rows: Sequence[LatestRow], coordinates: dict[str, tuple[float | None, float | None]], link: str
) -> list[MapValue]:
    return [
        MapValue(
            r.iso3,
            r.name,
            r.value,
            r.year,
            link=link.replace("ISO3", r.iso3),
            latitude=coordinates.get(r.iso3, (None, None))[0],
            longitude=coordinates.get(r.iso3, (None, None))[1],
        )
        for r in rows
        if r.value is not None
    ]


@dataclass(frozen=True)
class CountrySeries:
    indicator: Indicator
    drug: str
    drug_name: str
    rows: list[PublishedObservation]


def country_series(obs: Observations, iso3: str) -> list[CountrySeries]:
    """Every published series of a country, grouped by indicator and drug, years ascending."""
    grouped: dict[tuple[str, str], list[PublishedObservation]] = defaultdict(list)
    for row in obs.filter(area_code=iso3, area_kind="country").order_by(
        "indicator", "drug", "year", "series_rank"
    ):
        grouped[(row.indicator, row.drug)].append(row)
    result = []
    for (indicator_code, drug), rows in grouped.items():
        meta = INDICATORS.get(indicator_code) or Indicator(
            indicator_code, rows[0].dataset, indicator_code, rows[0].unit, rows[0].unit
        )
        result.append(CountrySeries(meta, drug, rows[0].drug_name, rows))
    order = list(INDICATORS)
    return sorted(
        result,
        key=lambda s: (order.index(s.indicator.code) if s.indicator.code in order else 99, s.drug_name),
    )


@dataclass(frozen=True)
class ExplorerQuery:
    indicator: str
    drug: str | None
    countries: tuple[str, ...]
    year_from: int | None
    year_to: int | None


def explorer_rows(obs: Observations, query: ExplorerQuery, *, all_reports: bool = False) -> Observations:
    # One ``filter`` call (each call copies the query: this runs on every explorer request).
    conditions: dict[str, Any] = {"indicator": query.indicator}
    if not all_reports:
        conditions["series_rank"] = 0  # the headline figure of each key, as ``headline``
    if query.drug:
        conditions["drug"] = query.drug
    if query.countries:
        conditions["area_code__in"] = list(query.countries)
    if query.year_from is not None:
        conditions["year__gte"] = query.year_from
    if query.year_to is not None:
        conditions["year__lte"] = query.year_to
    return obs.filter(**conditions).order_by("area_name", "drug", "year", "series_rank")


class ExplorerRow(NamedTuple):
    """What the explorer's table and chart read of a figure: nothing else is fetched (notes, extra
    JSON… are in the downloads)."""

    area_kind: str
    area_code: str
    area_name: str
    drug: str
    drug_name: str
    year: int
    value: float | None
    low: float | None
    high: float | None
    source: str
    method: str
    coverage: str
    series_rank: int


def explorer_table_rows(rows: Observations, limit: int) -> list[ExplorerRow]:
    """The first ``limit`` of ``explorer_rows`` as plain tuples (no model instances to build)."""
    return [ExplorerRow(*row) for row in rows.values_list(*ExplorerRow._fields)[:limit]]


def explorer_chart(rows: Iterable[PublishedObservation | ExplorerRow], limit: int = 8) -> list[ChartSeries]:
    lines: dict[str, list[Point]] = defaultdict(list)
    for row in rows:
        if row.series_rank:
            continue
        label = row.area_name
        if len(lines) >= limit and label not in lines:
            continue
        lines[label].append(Point(row.year, row.value, row.low, row.high))
    return [ChartSeries(label, points) for label, points in lines.items()]


def available(obs: Observations, release_pk: int | None = None) -> dict[str, Any]:
    """Choices for the explorer: indicators, drugs and areas present, and the year span.

    A release never changes, so with ``release_pk`` the answer is cached per release.
    """
    if release_pk is not None:
        key = f"publication:available:{release_pk}"
        found: dict[str, Any] | None = cache.get(key)
        if found is None:
            found = available(obs)
            cache.set(key, found, 3600)
        return found
    plain = obs.order_by()
    present = set(plain.values_list("indicator", flat=True).distinct())
    order = list(INDICATORS)
    indicators = sorted(present, key=lambda c: order.index(c) if c in order else 99)
    drug_rows = (
        plain.exclude(indicator__in=("seizures_reported", "seizures_count"))
        .values_list("drug", "drug_name")
        .distinct()
    )
    drug_names: dict[str, str] = {}
    for code, name in drug_rows:
        drug_names.setdefault(code, name)
    areas = dict(plain.values_list("area_code", "area_name").distinct())
    span = plain.aggregate(first=Min("year"), last=Max("year"))
    return {
        "indicators": [(code, INDICATORS[code].name if code in INDICATORS else code) for code in indicators],
        "drugs": sorted(drug_names.items(), key=lambda item: item[1]),
        "areas": sorted(areas.items(), key=lambda item: item[1]),
        "first_year": span["first"],
        "last_year": span["last"],
    }
