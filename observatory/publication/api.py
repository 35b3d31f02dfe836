"""Publication API.

``public_router`` (mounted at /api/v1/public/) is the open-data API: no authentication, only public
releases and their figures (through ``queries.released_observations``), each response with an ETag
and Cache-Control, 304 when If-None-Match matches. ``router`` (at /api/v1/publication/) is for the
office: list, build, schedule and release releases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from observatory.api import AUTH
from observatory.publication import http, portal, queries, services
from observatory.publication.models import PublishedObservation, Release

public_router = Router(tags=["open data"], auth=None)
router = Router(tags=["publication"], auth=AUTH)

MAX_LIMIT = 5000


class ReleaseOut(Schema):
    label: str
    title: str
    description: str
    released_at: datetime | None
    corrects: str | None
    change_notes: str
    datasets: list[str]
    observation_count: int
    content_hash: str
    changes: dict[str, Any] | None = None


class ReleaseDetailOut(ReleaseOut):
    diff: dict[str, Any]


class DatasetOut(Schema):
    code: str
    name: str
    indicators: list[dict[str, str]]
    observations: int
    first_year: int | None
    last_year: int | None
    release: str


class ObservationOut(Schema):
    dataset: str
    indicator: str
    area_kind: str
    area_code: str
    area_name: str
    region: str
    drug: str
    drug_name: str
    year: int
    value: float | None
    low: float | None
    high: float | None
    unit: str
    source: str
    method: str
    coverage: str
    notes: str
    series_rank: int
    release: str


class ObservationPage(Schema):
    release: str
    released_at: datetime | None
    count: int
    limit: int
    offset: int
    results: list[ObservationOut]


class ObservationFilters(Schema):
    dataset: str | None = None
    indicator: str | None = None
    drug: str | None = None
    country: str | None = None  # comma-separated ISO3 / area codes
    year_from: int | None = None
    year_to: int | None = None
    release: str | None = None
    all_reports: bool = False
    limit: int = 1000
    offset: int = 0


def _release_out(release: Release, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "label": release.label,
        "title": release.title,
        "description": release.description,
        "released_at": release.public_from,
        "corrects": release.corrects.label if release.corrects_id and release.corrects else None,
        "change_notes": release.change_notes,
        "datasets": list(release.datasets),
        "observation_count": release.observation_count,
        "content_hash": release.content_hash,
        "changes": {k: release.diff[k] for k in ("added", "removed", "changed") if k in release.diff} or None,
    }
    if detail:
        data["diff"] = release.diff
    return data


CACHE_SECONDS = 24 * 3600  # a body is keyed by its ETag, which names an immutable release


def _public_json(
    request: HttpRequest,
    label: str | None,
    build: Callable[[Release, datetime], Any],
    *,
    required: bool = True,
    check: Callable[[], None] | None = None,
) -> HttpResponse:
    """A public JSON response for the current (or named) public release.

    The cheap path is the release's stamp (``queries.public_release_stamp``: id, label, content hash;
    no query for a named public release, nor for the current one within its short window); the ETag
    derives from it and the request, so a revalidation answers 304 and a repeated request gets the
    stored body from Django's cache, keyed by the ETag — never re-serialised. Releases are immutable,
    so a cached body stays right for as long as its release is the one asked for; when another
    release becomes current, the ETag (and the key) changes. Only on a miss is the release row read
    whole and the body built, through ``queries.released_observations`` as always. Repeated requests
    are usually answered before this view by ``http.cached_public_json`` (same stamp, same key).
    """
    now = timezone.now()
    stamp = queries.public_release_stamp(label, now)
    if stamp is None and required:
        raise HttpError(404, "no public release" + (f" {label}" if label else ""))
    if check is not None:
        check()
    etag = http.etag_for(stamp, request)
    if http.matches(request, etag):
        return http.not_modified(etag)
    cache_key = http.public_json_key(etag)
    body = cache.get(cache_key)
    if body is None:
        release = Release.objects.select_related("corrects").get(pk=stamp.pk) if stamp is not None else None
        body = json.dumps(build(release, now), default=_json_default, separators=(",", ":")).encode()  # type: ignore[arg-type]
        cache.set(cache_key, body, CACHE_SECONDS)
    return http.public_json_response(body, etag)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@public_router.get(
    "/releases",
    response={200: list[ReleaseOut], 304: None},
    summary="Public releases, newest first",
)
def public_release_list(request: HttpRequest) -> HttpResponse:
    def build(_newest: Release | None, now: datetime) -> list[dict[str, Any]]:
        return [_release_out(r) for r in queries.public_releases(now).select_related("corrects")]

    return _public_json(request, None, build, required=False)


@public_router.get(
    "/releases/{label}",
    response={200: ReleaseDetailOut, 304: None, 404: dict[str, str]},
    summary="One public release, with the changes a correction made",
)
def public_release_detail(request: HttpRequest, label: str) -> HttpResponse:
    return _public_json(request, label, lambda release, _now: _release_out(release, detail=True))


@public_router.get(
    "/datasets",
    response={200: list[DatasetOut], 304: None, 404: dict[str, str]},
    summary="Datasets of the current (or named) public release",
)
def public_datasets(request: HttpRequest, release: str | None = None) -> HttpResponse:
    def build(chosen: Release, now: datetime) -> list[dict[str, Any]]:
        observations = queries.released_observations(now, release=chosen)
        result = []
        for code in chosen.datasets:
            rows = observations.filter(dataset=code)
            indicators = sorted(set(rows.order_by().values_list("indicator", flat=True).distinct()))
            span = portal.available(rows)
            result.append(
                {
                    "code": code,
                    "name": portal.DATASET_NAMES.get(code, code),
                    "indicators": [
                        {
                            "code": i,
                            "name": portal.INDICATORS[i].name if i in portal.INDICATORS else i,
                            "unit": portal.INDICATORS[i].unit if i in portal.INDICATORS else "",
                        }
                        for i in indicators
                    ],
                    "observations": rows.count(),
                    "first_year": span["first_year"],
                    "last_year": span["last_year"],
                    "release": chosen.label,
                }
            )
        return result

    return _public_json(request, release, build)


@public_router.get(
    "/observations",
    response={200: ObservationPage, 304: None, 400: dict[str, str], 404: dict[str, str]},
    summary="Published figures, filtered; every row with its source, method and coverage",
)
def public_observations(request: HttpRequest, filters: Query[ObservationFilters]) -> HttpResponse:
    def check() -> None:
        if not 1 <= filters.limit <= MAX_LIMIT or filters.offset < 0:
            raise HttpError(400, f"limit must be 1..{MAX_LIMIT} and offset ≥ 0")

    def build(chosen: Release, now: datetime) -> dict[str, Any]:
        rows = queries.released_observations(now, release=chosen)
        if not filters.all_reports:
            rows = rows.filter(series_rank=0)
        if filters.dataset:
            rows = rows.filter(dataset=filters.dataset)
        if filters.indicator:
            rows = rows.filter(indicator=filters.indicator)
        if filters.drug:
            rows = rows.filter(drug=filters.drug)
        if filters.country:
            rows = rows.filter(
                area_code__in=[c.strip().upper() for c in filters.country.split(",") if c.strip()]
            )
        if filters.year_from is not None:
            rows = rows.filter(year__gte=filters.year_from)
        if filters.year_to is not None:
            rows = rows.filter(year__lte=filters.year_to)
        count = rows.count()
        page = rows.order_by("dataset", "indicator", "drug", "area_code", "year", "series_rank")[
            filters.offset : filters.offset + filters.limit
        ]
        fields = [f for f in ObservationOut.model_fields if f != "release"]
        return {
            "release": chosen.label,
            "released_at": chosen.public_from,
            "count": count,
            "limit": filters.limit,
            "offset": filters.offset,
            "results": [{**row, "release": chosen.label} for row in page.values(*fields)],
        }

    return _public_json(request, filters.release, build, check=check)


# ---------------------------------------------------------------------------------------------------
# Office: prepare and release


class ReleaseIn(Schema):
    label: str
    title: str
    description: str = ""
    datasets: list[str] = list(services.DEFAULT_DATASETS)
    corrects: str | None = None
    change_notes: str = ""


class ScheduleIn(Schema):
    embargo_until: datetime
    reason: str = ""


class StaffReleaseOut(ReleaseDetailOut):
    state: str
    public: bool


def _staff_out(release: Release) -> dict[str, Any]:
    return {
        **_release_out(release, detail=True),
        "state": release.state,
        "public": services.is_public(release, timezone.now()),
    }


def _staff_release(request: HttpRequest, label: str) -> Release:
    release = queries.all_releases(request.user).filter(label=label).first()
    if release is None:
        raise HttpError(404, f"no release {label}")
    return release


@router.get("/releases", response=list[StaffReleaseOut], summary="Every release, drafts included")
def release_list(request: HttpRequest) -> list[dict[str, Any]]:
    from observatory.access import policy

    if not (
        policy.allows(request.user, "publication.prepare")
        or policy.allows(request.user, "publication.release")
    ):
        raise policy.PermissionDenied("publication.prepare")
    return [_staff_out(r) for r in queries.all_releases(request.user)]


@router.post(
    "/releases", response={201: StaffReleaseOut, 400: dict[str, str]}, summary="Build a draft release"
)
def release_create(request: HttpRequest, payload: ReleaseIn) -> tuple[int, dict[str, Any]]:
    corrects = None
    if payload.corrects:
        corrects = queries.public_release(payload.corrects)
        if corrects is None:
            raise HttpError(400, f"{payload.corrects} is not a public release")
    try:
        release = services.create_release(
            request.user, payload.label, payload.title, datasets=payload.datasets,
            description=payload.description, corrects=corrects, change_notes=payload.change_notes,
        )  # fmt: skip
    except (services.ReleaseError, ValueError) as error:
        raise HttpError(400, str(error)) from error
    return 201, _staff_out(release)


@router.post("/releases/{label}/schedule", response={200: StaffReleaseOut, 400: dict[str, str]})
def release_schedule(request: HttpRequest, label: str, payload: ScheduleIn) -> dict[str, Any]:
    release = _staff_release(request, label)
    try:
        return _staff_out(
            services.schedule_release(request.user, release, payload.embargo_until, payload.reason)
        )
    except services.ReleaseError as error:
        raise HttpError(400, str(error)) from error


@router.post("/releases/{label}/release", response={200: StaffReleaseOut, 400: dict[str, str]})
def release_publish(request: HttpRequest, label: str) -> dict[str, Any]:
    release = _staff_release(request, label)
    try:
        return _staff_out(services.publish_release(request.user, release))
    except services.ReleaseError as error:
        raise HttpError(400, str(error)) from error


__all__ = ["PublishedObservation", "public_router", "router"]
