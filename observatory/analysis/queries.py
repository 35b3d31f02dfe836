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
from observatory.analysis import comparability
from observatory.analysis.estimation import CountryFrame, SavedEstimate
from observatory.analysis.kernels.grouped_outliers import DEFAULT_MIN_PEERS, Group, rank_within_groups
from observatory.analysis.kernels.outliers import (
    DEFAULT_THRESHOLDS,
    METHODS,
    MIN_MAX,
    MODIFIED_Z_SCORE,
    rank_outliers,
)
from observatory.analysis.models import CountryEstimate, EstimateRun, SeizureStatistic, SeizureTrend
from observatory.reference.models import Population
from observatory.reporting import catalog
from observatory.reporting import queries as reporting_queries
from observatory.reporting.kernels import cells as cellkit

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
# Outliers over the annual report questionnaire
# ---------------------------------------------------------------------------------------------------------

# Which submissions count. Drafts never: they are unfinished and change under the analyst's eyes. By
# default everything the country has sent to the office (submitted, under review, validated, approved):
# the analyst validating a year wants the suspicious values before validating them. "validated" narrows
# to what the office has already validated or approved. Only the questionnaire: the imported annex 1.2
# series are history, not submissions of the year.
QUESTIONNAIRE_STAGES: dict[str, tuple[str, ...]] = {
    "submitted": (
        reporting_queries.Status.SUBMITTED,
        reporting_queries.Status.UNDER_REVIEW,
        reporting_queries.Status.VALIDATED,
        reporting_queries.Status.APPROVED,
    ),
    "validated": (reporting_queries.Status.VALIDATED, reporting_queries.Status.APPROVED),
}
DEFAULT_STAGE = "submitted"
NO_POPULATION = "no population aged 15–64 for the country"


@dataclass(frozen=True)
class QuestionnaireOutlierRow:
    rank: int
    iso3: str
    country: str
    submission_id: int
    status: str
    module: str
    question: str
    question_label: str
    dims: str  # canonical dimension text, e.g. "drug=cannabis;sex=total"
    field: str  # the same, with the instrument's labels
    value: float  # as reported
    unit: str
    compared_as: str  # "as reported" or "per 100,000 aged 15–64"
    compared_value: float
    group_median: float  # of the compared values of the group
    peers: int
    score: float
    is_outlier: bool
    method: str
    transform: str

    @property
    def value_text(self) -> str:
        return _readable(self.value, exact=True)

    @property
    def compared_text(self) -> str:
        return _readable(self.compared_value)

    @property
    def median_text(self) -> str:
        return _readable(self.group_median)


def _readable(number: float, *, exact: bool = False) -> str:
    """12,345 / 2.1 / 0.0123: thousands separated, no trailing zeros (``exact``: every reported digit)."""
    if number.is_integer() and abs(number) < 1e15:
        return f"{number:,.0f}"
    if exact:
        return f"{number:,.15g}"
    return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.4g}"


@dataclass(frozen=True)
class QuestionnaireOutlierReport:
    year: int
    method: str
    threshold: float
    stage: str
    statuses: list[str]
    log_scale: bool
    min_peers: int
    timeout_ms: int
    submissions: int
    values: int  # numeric values read
    groups: int  # groups scored
    not_scored: dict[str, int]  # reason -> values left out
    ranked: int  # values scored and ranked (``rows`` may hold only the first of them)
    rows: list[QuestionnaireOutlierRow]


def questionnaire_submissions(
    user: Actor, *, year: int | None = None, stage: str = DEFAULT_STAGE
) -> QuerySet[Any]:
    """Questionnaire submissions of ``stage`` the user may read (``reporting.view``, through the reporting
    app's scoped query) and analyse (``analysis.run``): both verbs must reach the country."""
    if stage not in QUESTIONNAIRE_STAGES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(QUESTIONNAIRE_STAGES)}")
    from django.contrib.auth.models import AnonymousUser

    rows = policy.scoped(reporting_queries.submissions(user or AnonymousUser()), user, "analysis.run")
    rows = rows.filter(status__in=QUESTIONNAIRE_STAGES[stage])
    return rows if year is None else rows.filter(year=year)


def questionnaire_years(user: Actor, stage: str = DEFAULT_STAGE) -> list[int]:
    return sorted(set(questionnaire_submissions(user, stage=stage).values_list("year", flat=True)))


def _populations_15_64(country_ids: set[int], year: int) -> dict[int, float]:
    """Population aged 15–64 of each country in ``year`` (the nearest earlier year if it is missing)."""
    found: dict[int, float] = {}
    rows = (
        Population.objects.filter(country_id__in=sorted(country_ids), year__lte=year, aged_15_64__gt=0)
        .order_by("country_id", "-year")
        .values_list("country_id", "aged_15_64")
    )
    for country_id, people in rows:
        found.setdefault(country_id, float(people))
    return found


def _field_label(instrument: Any, dimensions: tuple[tuple[str, str], ...]) -> str:
    parts = []
    for dim, code in dimensions:
        try:
            dimension = instrument.dimension(dim)
            parts.append(f"{dimension.label}: {dimension.label_of(code)}")
        except KeyError:
            parts.append(f"{dim}: {code}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class _Cell:
    """What every value of one cell (in one unit) shares: worked out once per cell, not once per value."""

    key: tuple[str, tuple[tuple[str, str], ...]]
    module: str
    question: str
    label: str
    dims: str
    field: str
    comparison: comparability.Comparison | comparability.NotCompared
    group: str  # "" when not compared
    reason: str  # why not compared ("" when compared)
    per_capita: bool
    log_scale: bool


def _cell(
    instrument: Any, key: Any, currency: str | None, log_scale: bool, module: str | None
) -> _Cell | None:
    """The shared facts of a numeric cell of ``instrument``; None for a cell that is not a number or
    not of ``module``."""
    question_code, dimensions = key
    if not instrument.has_question(question_code):
        return None
    question = instrument.question(question_code)
    if not question.is_numeric or (module and question.module_code != module):
        return None
    dims = cellkit.dims_string(dimensions)
    rule = comparability.comparison(
        question_code, dims, dict(dimensions), question.unit, question.value_type,
        currency=currency, log_scale=log_scale,
    )  # fmt: skip
    if isinstance(rule, comparability.Comparison):
        group, reason, per_capita, log = rule.group, "", rule.per_capita, rule.log_scale
    else:
        group, reason, per_capita, log = "", rule.reason, False, False
    return _Cell(
        key, question.module_code, question_code, question.label, dims,
        _field_label(instrument, dimensions), rule, group, reason, per_capita, log,
    )  # fmt: skip


def questionnaire_outliers(
    user: Actor,
    year: int,
    *,
    method: str = MODIFIED_Z_SCORE,
    threshold: float | None = None,
    stage: str = DEFAULT_STAGE,
    module: str | None = None,
    log_scale: bool = True,
    min_peers: int = DEFAULT_MIN_PEERS,
    limit: int | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> QuestionnaireOutlierReport:
    """Every numeric value of the year's questionnaire submissions in the user's scope, scored against
    the other countries' values of the same cell and unit (see ``comparability``), ranked across all
    cells by how unusual they are; ``rows`` holds the ``limit`` most unusual (all with None), ``ranked``
    how many were ranked. Countries outside the scope are not read, so they are neither listed nor part
    of any median or spread. The reads run under a statement timeout (:class:`QueryTimeout`)."""
    if method not in METHODS:
        raise ValueError(f"unknown outlier method {method!r}; choose one of {', '.join(METHODS)}")
    if limit is not None and limit < 0:
        raise ValueError("limit must be 0 or more")
    submissions = questionnaire_submissions(user, year=year, stage=stage).order_by("country__iso3", "pk")
    with statement_timeout(timeout_ms):
        found = list(
            submissions.values_list(
                "pk", "country_id", "country__iso3", "country__name", "status",
                "instrument__code", "instrument__version",
            )
        )  # fmt: skip
        values = reporting_queries.values_of_many(row[0] for row in found)
        populations = _populations_15_64({row[1] for row in found}, year)
    # per instrument: cell key -> shared facts (prices also per currency), worked out on first sight
    known: dict[tuple[str, str], dict[Any, _Cell | None]] = {}
    groups: dict[str, tuple[list[str], list[float], bool]] = {}
    cell_of_group: dict[str, _Cell] = {}
    submission_of_key: dict[str, tuple[Any, ...]] = {}
    not_scored: dict[str, int] = {}
    base = comparability.PER_CAPITA_BASE
    read = 0
    for pk, country_id, iso3, name, status, code, version in found:
        instrument = catalog.instrument(code, version)
        cells = known.setdefault((code, version), {})
        reported = values[pk]
        raw_currency = reported.get((comparability.CURRENCY, ()))
        currency = raw_currency.strip().upper() if isinstance(raw_currency, str) else None
        people = populations.get(country_id)
        key = f"{iso3}:{pk}"
        submission_of_key[key] = (iso3, name, pk, status, reported)
        for cell_key, value in reported.items():
            if not isinstance(value, int | float):
                continue  # text, choices, year ranges and "not known" are not numbers
            lookup = (cell_key, currency) if cell_key[0] == comparability.PRICE else cell_key
            if lookup in cells:
                cell = cells[lookup]
            else:
                cell = cells[lookup] = _cell(instrument, cell_key, currency, log_scale, module)
            if cell is None:
                continue
            read += 1
            if cell.reason:
                not_scored[cell.reason] = not_scored.get(cell.reason, 0) + 1
                continue
            compared = float(value)
            if cell.per_capita:
                if people is None:
                    not_scored[NO_POPULATION] = not_scored.get(NO_POPULATION, 0) + 1
                    continue
                compared = compared * base / people
            group = groups.get(cell.group)
            if group is None:
                group = groups[cell.group] = ([], [], cell.log_scale)
                cell_of_group[cell.group] = cell
            group[0].append(key)
            group[1].append(compared)
    ranking = rank_within_groups(
        {name: Group(keys, numbers, log) for name, (keys, numbers, log) in groups.items()},
        method,
        threshold,
        min_peers,
    )
    if ranking.values_in_small_groups:
        reason = f"fewer than {min_peers} countries report the cell"
        not_scored[reason] = not_scored.get(reason, 0) + ranking.values_in_small_groups
    rows = []
    for score in ranking.top(limit):
        cell = cell_of_group[score.group]
        rule = cell.comparison
        assert isinstance(rule, comparability.Comparison)
        iso3, name, pk, status, reported = submission_of_key[score.key]
        rows.append(
            QuestionnaireOutlierRow(
                rank=score.rank,
                iso3=iso3,
                country=name,
                submission_id=pk,
                status=status,
                module=cell.module,
                question=cell.question,
                question_label=cell.label,
                dims=cell.dims,
                field=cell.field,
                value=float(reported[cell.key]),
                unit=rule.unit,
                compared_as=rule.compared_as,
                compared_value=score.value,
                group_median=score.group_median,
                peers=score.peers,
                score=score.score,
                is_outlier=score.is_outlier,
                method=method,
                transform=score.transform,
            )
        )
    return QuestionnaireOutlierReport(
        year=year,
        method=method,
        threshold=ranking.threshold,
        stage=stage,
        statuses=[str(status) for status in QUESTIONNAIRE_STAGES[stage]],
        log_scale=log_scale,
        min_peers=min_peers,
        timeout_ms=timeout_ms,
        submissions=len(found),
        values=read,
        groups=ranking.groups_scored,
        not_scored=dict(sorted(not_scored.items())),
        ranked=len(ranking),
        rows=rows,
    )


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
