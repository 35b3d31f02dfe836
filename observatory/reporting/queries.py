"""Every read of reporting data, already scoped to what the acting user may see with ``reporting.view``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet

from observatory.access import policy
from observatory.reporting import catalog
from observatory.reporting.kernels import cells as cellkit
from observatory.reporting.kernels.instrument import CellKey, Value
from observatory.reporting.kernels.validation import ValidationReport, validate_submission
from observatory.reporting.models import Instrument, ModuleInvitation, Query, Submission, ValueSnapshot
from observatory.reporting.models import Value as StoredValue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser

Status = Submission.Status
HISTORY_STATUSES = (Status.VALIDATED, Status.APPROVED)  # what counts as the country's own history


def submissions(user: Actor, *, origin: str | None = Submission.Origin.QUESTIONNAIRE) -> QuerySet[Submission]:
    queryset = Submission.objects.select_related("country", "instrument", "submitted_by", "approved_by")
    if origin is not None:
        queryset = queryset.filter(origin=origin)
    return policy.scoped(queryset, user, "reporting.view")


def submission(user: Actor, pk: int) -> Submission:
    """The submission if the user may see it; Submission.DoesNotExist otherwise (no hint it exists)."""
    return submissions(user, origin=None).get(pk=pk)


def values_of(submission: Submission) -> dict[CellKey, Value]:
    return values_of_many([submission.pk])[submission.pk]


_LAYOUTS: dict[str, tuple[CellKey, ...]] = {}  # snapshot layout digest -> its cell keys (content-addressed)
_MAX_LAYOUTS = 1024


def _layout_keys(layouts: set[str]) -> dict[str, tuple[CellKey, ...]]:
    """The cell keys of each layout: parsed once per process (a digest names one list of cells forever).
    A layout no snapshot has any more (rewritten meanwhile) is left out."""
    unknown = layouts - _LAYOUTS.keys()
    if unknown:
        if len(_LAYOUTS) + len(unknown) > _MAX_LAYOUTS:
            _LAYOUTS.clear()
            unknown = layouts
        for layout, cells in ValueSnapshot.objects.filter(layout__in=unknown).values_list("layout", "cells"):
            if layout not in _LAYOUTS:
                _LAYOUTS[layout] = cellkit.layout_keys(cells)
    return {layout: keys for layout in layouts if (keys := _LAYOUTS.get(layout)) is not None}


def values_of_many(submission_ids: Iterable[int]) -> dict[int, dict[CellKey, Value]]:
    """The entry-0 values of each submission, by submission id: one snapshot row per submission, its
    values decoded with one json.loads; the value rows only for a submission without a snapshot."""
    ids = list(dict.fromkeys(submission_ids))
    result: dict[int, dict[CellKey, Value]] = {}
    for start in range(0, len(ids), 500):  # stay under the database's limit of query parameters
        part = ids[start : start + 500]
        found = list(
            ValueSnapshot.objects.filter(submission_id__in=part).values_list(
                "submission_id", "layout", "values"
            )
        )
        keys = _layout_keys({layout for _, layout, _ in found})
        for submission_id, layout, values in found:
            if layout in keys:
                result[submission_id] = cellkit.snapshot_values(keys[layout], values)
        missing = [pk for pk in part if pk not in result]
        if missing:
            rows: dict[int, list[tuple[str, str, Any]]] = {pk: [] for pk in missing}
            for submission_id, question, dims, raw in StoredValue.objects.filter(
                submission_id__in=missing, entry=0
            ).values_list("submission_id", "question", "dims", "value"):
                rows[submission_id].append((question, dims, raw))
            for pk, cells in rows.items():
                snapshot = cellkit.snapshot_of(cells)
                result[pk] = cellkit.snapshot_values(cellkit.layout_keys(snapshot.cells), snapshot.values)
    return {pk: result[pk] for pk in ids}


def value_rows(submission: Submission) -> dict[CellKey, StoredValue]:
    return {
        cellkit.key_of(row.question, row.dims): row
        for row in StoredValue.objects.filter(submission=submission, entry=0).select_related("updated_by")
    }


def history_of(submission: Submission) -> dict[int, dict[CellKey, Value]]:
    """The country's validated or approved values of earlier years, by year (questionnaire and annex)."""
    return histories_of([submission])[submission.pk]


def histories_of(submissions: Sequence[Submission]) -> dict[int, dict[int, dict[CellKey, Value]]]:
    """`history_of` for many submissions at once (by submission id): one query for the earlier
    submissions of all their countries, one read of their snapshots. Where a year has several
    submissions (questionnaire and annex), the first by id gives a cell its value."""
    if not submissions:
        return {}
    latest: dict[int, int] = {}
    for item in submissions:
        latest[item.country_id] = max(latest.get(item.country_id, 0), item.year)
    earlier = [
        (pk, country_id, year)
        for pk, country_id, year in Submission.objects.filter(
            country_id__in=list(latest), year__lt=max(latest.values()), status__in=HISTORY_STATUSES
        )
        .order_by("pk")
        .values_list("pk", "country_id", "year")
        if year < latest[country_id]
    ]
    values = values_of_many(pk for pk, _, _ in earlier)
    by_country: dict[int, list[tuple[int, dict[CellKey, Value]]]] = defaultdict(list)
    for pk, country_id, year in earlier:
        by_country[country_id].append((year, values[pk]))
    result: dict[int, dict[int, dict[CellKey, Value]]] = {}
    for item in submissions:
        history: dict[int, dict[CellKey, Value]] = {}
        for year, cells in by_country.get(item.country_id, ()):
            if year >= item.year or not cells:
                continue
            if year not in history:
                history[year] = cells
            else:  # a second submission of the year: its cells only where the first has none
                history[year] = {**cells, **history[year]}
        result[item.pk] = history
    return result


def validate_many(submissions: Sequence[Submission], *, chunk: int = 50) -> dict[int, ValidationReport]:
    """`validation_report` without the permission check, for many submissions (by submission id): values
    and history read in bulk, `chunk` submissions at a time (memory stays bounded), each rule set compiled
    once (callers check scope)."""
    instruments = Instrument.objects.in_bulk({item.instrument_id for item in submissions})
    rule_sets = {pk: catalog.rule_set(row.code, row.version) for pk, row in instruments.items()}
    reports: dict[int, ValidationReport] = {}
    for start in range(0, len(submissions), chunk):
        part = submissions[start : start + chunk]
        values = values_of_many(item.pk for item in part)
        histories = histories_of(part)
        for item in part:
            reports[item.pk] = validate_submission(
                rule_sets[item.instrument_id], values[item.pk], histories[item.pk]
            )
    return reports


def validation_report(user: Actor, submission: Submission) -> ValidationReport:
    """Rule failures, completeness and outliers against the country's own history, for a visible submission."""
    policy.require(user, "reporting.view", submission.country_id)
    return validate(submission, values_of(submission), history_of(submission))


def validate(
    submission: Submission, values: Mapping[CellKey, Value], history: Mapping[int, Mapping[CellKey, Value]]
) -> ValidationReport:
    rule_set = catalog.rule_set(submission.instrument.code, submission.instrument.version)
    return validate_submission(rule_set, values, history)


def cell_messages(report: ValidationReport) -> dict[CellKey, list[str]]:
    """Messages to show beside each cell: rule failures, a short note for a missing mandatory cell, outliers."""
    result: dict[CellKey, list[str]] = defaultdict(list)
    for violation in report.violations:
        if violation.rule_id.startswith("completeness."):
            for key in violation.cells:
                result[key].append('required: not answered yet ("--" if not known)')
            continue
        for key in violation.cells:
            result[key].append(f"{violation.importance}: {violation.message}")
    for outlier in report.outliers:
        result[outlier.cell].append(
            f"outlier: {outlier.value:g} against a history centred on {outlier.centre:g} "
            f"(score {outlier.score:.1f} over {outlier.history_years} years)"
        )
    return dict(result)


@dataclass(frozen=True, slots=True)
class SubmissionSummary:
    submission: Submission
    completeness: float  # share of required cells answered, all modules together
    open_queries: int


def summaries(user: Actor, *, year: int | None = None, status: str | None = None) -> list[SubmissionSummary]:
    """The submissions of the user's scope with status, overall completeness and open queries."""
    queryset = submissions(user).annotate(
        open_queries=Count("queries", filter=Q(queries__status=Query.Status.OPEN), distinct=True)
    )
    if year is not None:
        queryset = queryset.filter(year=year)
    if status:
        queryset = queryset.filter(status=status)
    rows = list(queryset.order_by("-year", "country__name"))
    by_submission: dict[int, dict[CellKey, Value]] = defaultdict(dict)
    for submission_id, question, dims in StoredValue.objects.filter(
        submission__in=[row.pk for row in rows], entry=0
    ).values_list("submission_id", "question", "dims"):
        by_submission[submission_id][cellkit.key_of(question, dims)] = 0
    result = []
    for row in rows:
        modules = catalog.rule_set(row.instrument.code, row.instrument.version).completeness(
            by_submission[row.pk]
        )
        required = sum(m.required for m in modules)
        answered = sum(m.answered for m in modules)
        result.append(SubmissionSummary(row, answered / required if required else 1.0, row.open_queries))
    return result


def queries_of(user: Actor, submission: Submission) -> QuerySet[Query]:
    policy.require(user, "reporting.view", submission.country_id)
    return (
        Query.objects.filter(submission=submission)
        .prefetch_related("messages__author")
        .select_related("raised_by")
    )


def query(user: Actor, pk: int) -> Query:
    found = Query.objects.select_related("submission__country", "submission__instrument").get(pk=pk)
    if not policy.allows(user, "reporting.view", found.submission.country_id):
        raise Query.DoesNotExist
    return found


def invitations_of(user: Actor, submission: Submission) -> QuerySet[ModuleInvitation]:
    policy.require(user, "reporting.view", submission.country_id)
    return ModuleInvitation.objects.filter(submission=submission).select_related("invitee", "invited_by")


def previous_year_values(submission: Submission) -> dict[CellKey, Value]:
    """Last year's questionnaire (or, failing it, published) values: shown beside this year's."""
    for origin in (Submission.Origin.QUESTIONNAIRE, Submission.Origin.ANNEX_1_2):
        previous = Submission.objects.filter(
            country_id=submission.country_id, year=submission.year - 1, origin=origin
        ).first()
        if previous is not None:
            return values_of(previous)
    return {}


# ---------------------------------------------------------------------------- interface for analysis


@dataclass(frozen=True)
class NationalPrevalence:
    """One national past-year/lifetime/past-month prevalence estimate, in percent as reported."""

    iso3: str
    drug_code: str  # the instrument's drug code (cannabis, cocaine, amphetamines, opioids, ...)
    year: int
    best: float | None
    low: float | None
    high: float | None
    male: float | None
    female: float | None
    reference_period: str  # "past_year" | "lifetime" | "past_month"
    age_lower: int | None
    age_upper: int | None
    source: str
    method: str
    adjustment: str
    status: str


_SEX_ESTIMATE_FIELD = {
    ("total", "best"): "best",
    ("total", "low"): "low",
    ("total", "high"): "high",
    ("male", "best"): "male",
    ("female", "best"): "female",
}


def national_prevalence(
    user: Actor, *, drug_code: str | None = None, year: int | None = None
) -> list[NationalPrevalence]:
    """General-population prevalence (question ``gp_prevalence``, all ages) from approved submissions and
    the imported annex 1.2 series, for the countries the user may see (``reporting.view``; a global
    ``analysis.run`` sees all). One row per country × drug × year × period × report (surveys of the same
    year stay separate rows), ordered by country, drug, year."""
    rows = StoredValue.objects.filter(
        question="gp_prevalence",
        dims__contains="age_group=total",
        submission__status=Status.APPROVED,
    )
    if not policy.allows_globally(user, "analysis.run"):
        rows = policy.scoped(rows, user, "reporting.view", country_lookups=("submission__country",))
    if drug_code is not None:
        rows = rows.filter(dims__contains=f"drug={drug_code};")
    if year is not None:
        rows = rows.filter(submission__year=year)
    fields = (
        "submission_id", "submission__country__iso3", "submission__year", "submission__status",
        "submission__origin", "submission__source", "dims", "entry", "value", "source", "method",
        "adjustment_codes", "provenance",
    )  # fmt: skip
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    age_ranges: dict[int, str] = {}
    questionnaire_ids: set[int] = set()
    for row in rows.values_list(*fields):
        (submission_id, iso3, row_year, status, origin, sub_source, dims, entry, raw, source, method,
         adjustment, provenance) = row  # fmt: skip
        parsed = cellkit.parse_dims(dims)
        if parsed.get("age_group") != "total":
            continue
        if drug_code is not None and parsed.get("drug") != drug_code:
            continue
        slot = _SEX_ESTIMATE_FIELD.get((parsed.get("sex", ""), parsed.get("estimate", "")))
        if slot is None:
            continue
        group_key = (iso3, parsed["drug"], row_year, parsed["period"], submission_id, entry)
        item = grouped.setdefault(
            group_key,
            {
                "status": status,
                "source": "",
                "method": "",
                "adjustment": "",
                "age": None,
                "submission": submission_id,
            },
        )
        value = cellkit.decode(raw)
        item[slot] = float(value) if isinstance(value, int | float) else None
        if slot == "best" or not item["source"]:
            area = (provenance or {}).get("area")
            label = (
                source or sub_source or ("Annual report questionnaire" if origin == "questionnaire" else "")
            )
            item["source"] = f"{label} (area: {area})" if area else label
            item["method"] = method
            item["adjustment"] = ", ".join(adjustment or [])
            item["age"] = (provenance or {}).get("age_range")
        if origin == Submission.Origin.QUESTIONNAIRE:
            questionnaire_ids.add(submission_id)
    if questionnaire_ids:
        for submission_id, question, raw in StoredValue.objects.filter(
            submission_id__in=questionnaire_ids, question__in=("gp_age_range", "gp_method"), entry=0
        ).values_list("submission_id", "question", "value"):
            if question == "gp_age_range" and isinstance(raw, str):
                age_ranges[submission_id] = raw
            elif question == "gp_method" and isinstance(raw, str):
                for item in grouped.values():
                    if item["submission"] == submission_id and not item["method"]:
                        item["method"] = raw
    result = []
    for (iso3, drug, row_year, period, submission_id, _entry), item in sorted(grouped.items()):
        lower, upper = cellkit.age_bounds(item["age"] or age_ranges.get(submission_id))
        result.append(
            NationalPrevalence(
                iso3=iso3,
                drug_code=drug,
                year=row_year,
                best=item.get("best"),
                low=item.get("low"),
                high=item.get("high"),
                male=item.get("male"),
                female=item.get("female"),
                reference_period=period,
                age_lower=lower,
                age_upper=upper,
                source=item["source"],
                method=item["method"],
                adjustment=item["adjustment"],
                status=item["status"],
            )
        )
    return result
