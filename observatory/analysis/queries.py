"""Every read of the analysis app, scoped to what the acting user may see before anything is summed."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import OperationalError, connection, transaction
from django.db.models import Count, QuerySet, Sum

from observatory.access import policy
from observatory.analysis.estimation import CountryFrame, SavedEstimate
from observatory.analysis.kernels.outliers import (
    DEFAULT_THRESHOLDS,
    METHODS,
    MIN_MAX,
    MODIFIED_Z_SCORE,
    rank_outliers,
)
from observatory.analysis.models import CountryEstimate, EstimateRun, SeizureStatistic, SeizureTrend
from observatory.reference.models import Population

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser | None

DEFAULT_TIMEOUT_MS = 5000


class QueryTimeout(RuntimeError):
    """A read ran past its statement timeout and was stopped."""


# ---------------------------------------------------------------------------------------------------------
# Statement timeout
# ---------------------------------------------------------------------------------------------------------


@contextmanager
def statement_timeout(milliseconds: int) -> Iterator[None]:
    """Stop any statement of the block running past ``milliseconds``: ``SET LOCAL statement_timeout``
    on PostgreSQL (inside a transaction), an interrupting progress handler on SQLite."""
    limit = max(int(milliseconds), 1)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [limit])
            try:
                yield
            except OperationalError as error:
                if "statement timeout" in str(error) or "canceling statement" in str(error):
                    raise QueryTimeout(f"query stopped after {limit} ms") from error
                raise
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        deadline = time.monotonic() + limit / 1000.0

        def interrupt() -> int:
            return 1 if time.monotonic() > deadline else 0

        raw.set_progress_handler(interrupt, 10_000)
        try:
            yield
        except OperationalError as error:
            if "interrupted" in str(error):
                raise QueryTimeout(f"query stopped after {limit} ms") from error
            raise
        finally:
            raw.set_progress_handler(None, 0)
        return
    yield


# ---------------------------------------------------------------------------------------------------------
# Seizure statistics and trends
# ---------------------------------------------------------------------------------------------------------


def seizure_statistics(user: Actor) -> QuerySet[SeizureStatistic]:
    return policy.scoped(SeizureStatistic.objects.all(), user, "analysis.run").select_related(
        "country", "drug", "drug_group"
    )


@dataclass(frozen=True)
class TrendPoint:
    drug_group: str
    drug_group_name: str
    region: str
    year: int
    kilograms: float
    reports: int
    cases: int
    countries: int


def seizure_trends(
    user: Actor,
    *,
    basis: str = SeizureTrend.Basis.ANNEX,
    drug_group: str | None = None,
    region: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
) -> list[TrendPoint]:
    """Kilograms, reports and cases by drug group × WDR region × year, summed in SQL over the maintained
    aggregate after the user's scope is applied (a regional analyst sums only their countries)."""
    rows = policy.scoped(SeizureTrend.objects.filter(basis=basis), user, "analysis.run")
    if drug_group:
        rows = rows.filter(drug_group__code=drug_group)
    if region:
        rows = rows.filter(region__name=region)
    if year_from is not None:
        rows = rows.filter(year__gte=year_from)
    if year_to is not None:
        rows = rows.filter(year__lte=year_to)
    grouped = (
        rows.values("drug_group__code", "drug_group__name", "region__name", "year")
        .annotate(kg=Sum("kilograms"), reports=Sum("reports"), cases=Sum("cases"), countries=Count("country"))
        .order_by("drug_group__code", "region__name", "year")
    )
    return [
        TrendPoint(
            drug_group=item["drug_group__code"],
            drug_group_name=item["drug_group__name"],
            region=item["region__name"],
            year=item["year"],
            kilograms=float(item["kg"] or 0.0),
            reports=int(item["reports"] or 0),
            cases=int(item["cases"] or 0),
            countries=int(item["countries"]),
        )
        for item in grouped
    ]


def seizure_trends_from_rows(user: Actor, *, drug_group: str | None = None) -> list[dict[str, Any]]:
    """The same figures straight from the row-level table (for checking the maintained aggregate)."""
    rows = seizure_statistics(user).filter(
        is_reported_total=False,
        count__isnull=True,
        kilograms__isnull=False,
        country__wdr_region__isnull=False,
    )
    if drug_group:
        rows = rows.filter(drug_group__code=drug_group)
    return [
        dict(item)
        for item in rows.values("drug_group__code", "country__wdr_region__name", "year")
        .annotate(kg=Sum("kilograms"))
        .order_by("drug_group__code", "country__wdr_region__name", "year")
    ]


# ---------------------------------------------------------------------------------------------------------
# Outliers
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutlierRow:
    rank: int
    iso3: str
    country: str
    drug_group: str
    year: int
    kilograms: float
    score: float
    is_outlier: bool
    peers: int


@dataclass(frozen=True)
class OutlierReport:
    year: int
    method: str
    threshold: float
    transform: str
    timeout_ms: int
    rows: list[OutlierRow]


def seizure_outliers(
    user: Actor,
    year: int,
    *,
    method: str = MODIFIED_Z_SCORE,
    threshold: float | None = None,
    drug_group: str | None = None,
    log_scale: bool = True,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> OutlierReport:
    """Every country's component kilograms per drug group in ``year``, scored against the other
    countries reporting that group that year and ranked across groups by how unusual they are.

    ``log_scale`` scores log10(1 + kg), since seizure masses span orders of magnitude. The read runs
    under a statement timeout and raises :class:`QueryTimeout` rather than hang.
    """
    if method not in METHODS:
        raise ValueError(f"unknown outlier method {method!r}; choose one of {', '.join(METHODS)}")
    rows = seizure_statistics(user).filter(
        year=year, is_reported_total=False, count__isnull=True, kilograms__isnull=False
    )
    if drug_group:
        rows = rows.filter(drug_group__code=drug_group)
    grouped = (
        rows.values("country__iso3", "country__name", "drug_group__code")
        .annotate(kg=Sum("kilograms"))
        .order_by("drug_group__code", "country__iso3")
    )
    with statement_timeout(timeout_ms):
        values: list[dict[str, Any]] = [dict(item) for item in grouped]
    by_group: dict[str, list[dict[str, Any]]] = {}
    for item in values:
        by_group.setdefault(item["drug_group__code"], []).append(item)
    scored: list[tuple[float, OutlierRow]] = []
    cut = threshold
    for group, items in by_group.items():
        pairs = [
            (
                item["country__iso3"],
                math.log10(1.0 + float(item["kg"])) if log_scale else float(item["kg"]),
            )
            for item in items
        ]
        names = {item["country__iso3"]: (item["country__name"], float(item["kg"])) for item in items}
        results = rank_outliers(pairs, method, threshold)
        middle = float(np.median([score.score for score in results])) if results else 0.0
        for score in results:
            cut = score.threshold
            # the kernel's own measure of unusualness, comparable across groups
            unusual = abs(score.score) if method != MIN_MAX else 2.0 * abs(score.score - middle)
            scored.append(
                (
                    unusual,
                    OutlierRow(
                        rank=0,
                        iso3=score.key,
                        country=names[score.key][0],
                        drug_group=group,
                        year=year,
                        kilograms=names[score.key][1],
                        score=score.score,
                        is_outlier=score.is_outlier,
                        peers=len(items),
                    ),
                )
            )
    scored.sort(key=lambda pair: (-pair[0], pair[1].drug_group, pair[1].iso3))
    ranked = [
        OutlierRow(
            rank=position + 1,
            iso3=row.iso3,
            country=row.country,
            drug_group=row.drug_group,
            year=row.year,
            kilograms=row.kilograms,
            score=row.score,
            is_outlier=row.is_outlier,
            peers=row.peers,
        )
        for position, (_, row) in enumerate(scored)
    ]
    return OutlierReport(
        year=year,
        method=method,
        threshold=float(cut if cut is not None else DEFAULT_THRESHOLDS[method]),
        transform="log10(1 + kg)" if log_scale else "kg",
        timeout_ms=timeout_ms,
        rows=ranked,
    )


def seizure_years(user: Actor) -> list[int]:
    return sorted(set(seizure_statistics(user).values_list("year", flat=True).distinct()))


# ---------------------------------------------------------------------------------------------------------
# Country estimates and estimate runs
# ---------------------------------------------------------------------------------------------------------


def country_estimates(user: Actor) -> QuerySet[CountryEstimate]:
    """Saved hidden-population estimates of the countries the user may estimate for."""
    return policy.scoped(CountryEstimate.objects.all(), user, "analysis.estimate").select_related(
        "country", "created_by"
    )


def estimate_runs(user: Actor) -> QuerySet[EstimateRun]:
    """Stored regional/global runs: office analysis, read by holders of ``analysis.run``."""
    if not policy.allows(user, "analysis.run"):
        return EstimateRun.objects.none()
    return EstimateRun.objects.all()


def visible_country_rows(user: Actor, run: EstimateRun) -> list[dict[str, Any]]:
    """The per-country rows of a run the user may see: all for a global analyst, their reach otherwise
    (aggregates stay visible: they are the office's figures)."""
    rows: list[dict[str, Any]] = run.output.get("countries", [])
    granted = policy.reach(user, "analysis.run")
    if granted.everywhere:
        return rows
    from observatory.reference.models import Country

    allowed = set(Country.objects.filter(pk__in=granted.country_ids).values_list("iso3", flat=True))
    return [row for row in rows if row["iso3"] in allowed]


def country_frame(year: int) -> list[CountryFrame]:
    """Every country placed in a WDR subregion with a population aged 15–64 for ``year`` (the nearest
    earlier year if that year is missing)."""
    frames: dict[str, CountryFrame] = {}
    populations = (
        Population.objects.filter(
            year__lte=year, country__wdr_subregion__isnull=False, country__wdr_region__isnull=False
        )
        .select_related("country__wdr_region", "country__wdr_subregion")
        .order_by("country__iso3", "-year")
    )
    for population in populations:
        country = population.country
        if country.iso3 in frames or population.aged_15_64 <= 0:
            continue
        assert country.wdr_region is not None and country.wdr_subregion is not None
        frames[country.iso3] = CountryFrame(
            iso3=country.iso3,
            name=country.name,
            subregion=country.wdr_subregion.name,
            region=country.wdr_region.name,
            population_15_64=float(population.aged_15_64),
        )
    return [frames[iso3] for iso3 in sorted(frames)]


def saved_estimates_for_regional(drug_code: str, year: int) -> dict[str, SavedEstimate]:
    """Per country, the latest saved estimate of past-year users 15–64 of ``drug_code`` for ``year`` or
    before (an office computation over all countries, so not user-scoped)."""
    found: dict[str, SavedEstimate] = {}
    rows = (
        CountryEstimate.objects.filter(
            drug_code=drug_code,
            year__lte=year,
            population=CountryEstimate.Population.PAST_YEAR_USERS,
        )
        .select_related("country")
        .order_by("country__iso3", "-year", "-created_at", "-id")
    )
    for row in rows:
        if row.country.iso3 not in found:
            found[row.country.iso3] = SavedEstimate(
                row.pk, row.country.iso3, row.year, row.method, row.estimate, row.low, row.high
            )
    return found
