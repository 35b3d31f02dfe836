"""Seizures API: cases (scoped, field-level classification), bulk upload, import batches, routes.

Every endpoint needs a signed-in user or a bearer token; nothing here is public.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from observatory.access import policy
from observatory.api import AUTH
from observatory.reference.models import Country
from observatory.seizures import queries, services, staging
from observatory.seizures.kernels.mapping import mapping_problems

router = Router(tags=["seizures"], auth=AUTH)
MAX_PAGE_SIZE = 1000


class CaseFilterIn(Schema):
    drug: str = ""
    country: str = ""
    year_from: int | None = None
    year_to: int | None = None
    route_country: str = ""
    transport_mode: str = ""
    concealment: str = ""
    channel: Literal["", "internet", "postal", "other"] = ""
    page: int = 1
    page_size: int = 100

    def filters(self) -> queries.CaseFilters:
        return queries.CaseFilters(
            drug=self.drug, country=self.country, year_from=self.year_from, year_to=self.year_to,
            route_country=self.route_country, transport_mode=self.transport_mode,
            concealment=self.concealment, channel=self.channel,
        )  # fmt: skip


class CaseOut(Schema):
    id: int
    case_reference: str
    reporting_country: str
    seizure_date: date
    date_precision: str
    place: str
    admin_area: str
    latitude: float | None
    longitude: float | None
    site_type: str
    transport_mode: str
    concealment: str
    drug_code: str
    drug_name: str
    drug_label: str
    quantity: float
    unit_code: str
    unit_label: str
    purity_percent: float | None
    kg_equivalent: float | None
    conversion_factor_id: int | None
    conversion_factor_version: str | None
    channel: str
    channel_label: str
    source: str
    classification: str
    restricted_fields_visible: bool
    # Restricted fields: null unless the caller holds seizures.view on the reporting country.
    origin_country: str | None
    departure_country: str | None
    transit_countries: list[str] | None
    destination_country: str | None
    route: str | None
    offender_nationalities: list[str] | None
    seizing_agency: str | None


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CaseOut]


def _case_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "reporting_country": row["reporting_country__iso3"],
        "drug_code": row["drug__code"],
        "drug_name": row["drug__name"],
        "unit_code": row["unit__code"],
        "conversion_factor_version": row["conversion_factor__factor_set__version"],
        "origin_country": row["origin_country__iso3"],
        "departure_country": row["departure_country__iso3"],
        "destination_country": row["destination_country__iso3"],
    }


@router.get("/cases", response=CasePage, summary="Seizure cases in your scope, filtered and paginated")
def list_cases(request: HttpRequest, params: Query[CaseFilterIn]) -> Any:
    page_size = max(1, min(params.page_size, MAX_PAGE_SIZE))
    page = max(1, params.page)
    cases = queries.filtered_cases(request.user, params.filters())
    ids = list(
        cases.order_by("-seizure_date", "id").values_list("id", flat=True)[
            (page - 1) * page_size : page * page_size
        ]
    )
    rows = queries.case_rows(queries.visible_cases(request.user).filter(pk__in=ids), request.user)
    order = {case_id: i for i, case_id in enumerate(ids)}
    rows.sort(key=lambda row: order[row["id"]])
    return {
        "count": cases.count(),
        "page": page,
        "page_size": page_size,
        "results": [_case_out(r) for r in rows],
    }


@router.get("/cases/{case_id}", response=CaseOut, summary="One seizure case")
def get_case(request: HttpRequest, case_id: int) -> Any:
    row = queries.case_detail(request.user, case_id)
    if row is None:
        raise HttpError(404, "no such case in your scope")
    return _case_out(row)


class BatchOut(Schema):
    id: int
    file_name: str
    file_format: str
    file_size: int
    sha256: str
    country: str | None
    mapping_name: str
    column_mapping: dict[str, str]
    classification: str
    status: str
    rows_read: int
    rows_imported: int
    rows_already_present: int
    errors: list[dict[str, Any]]
    errors_truncated: bool
    duplicate_of: int | None
    job_id: str | None


class UploadOut(Schema):
    batch: BatchOut
    job_id: str | None
    created: bool


def _batch_out(batch: Any) -> dict[str, Any]:
    return {
        "id": batch.pk, "file_name": batch.file_name, "file_format": batch.file_format,
        "file_size": batch.file_size, "sha256": batch.sha256,
        "country": batch.country.iso3 if batch.country_id else None, "mapping_name": batch.mapping_name,
        "column_mapping": batch.column_mapping, "classification": batch.classification,
        "status": batch.status, "rows_read": batch.rows_read, "rows_imported": batch.rows_imported,
        "rows_already_present": batch.rows_already_present, "errors": batch.errors,
        "errors_truncated": batch.errors_truncated, "duplicate_of": batch.duplicate_of_id,
        "job_id": str(batch.job_id) if batch.job_id else None,
    }  # fmt: skip


@router.post(
    "/uploads",
    response={202: UploadOut, 200: UploadOut, 400: dict[str, str]},
    summary="Upload a CSV or XLSX file of cases; the import runs as a background job",
)
def upload_cases(
    request: HttpRequest,
    file: File[UploadedFile],
    country: Form[str],
    classification: Form[str] = "restricted",
    mapping_name: Form[str] = "",
    mapping: Form[str] = "",
    remember_as: Form[str] = "",
) -> Any:
    """`mapping`: JSON object or `Their column = field` lines; empty: a remembered layout or the IDS one.
    Returns 202 with the job id, or 200 with the earlier batch when the same file was imported before."""
    policy.require(request.user, "seizures.import")
    try:
        outcome = services.start_upload(
            request.user, file, country_iso3=country,
            mapping=services.parse_mapping_text(mapping) if mapping.strip() else None,
            mapping_name=mapping_name, remember_as=remember_as, classification=classification,
        )  # fmt: skip
    except services.UploadRefused as refused:
        return Status(400, {"detail": str(refused)})
    batch = outcome.batch
    body = {"batch": _batch_out(batch), "job_id": str(batch.job_id) if batch.job_id else None,
            "created": outcome.created}  # fmt: skip
    return Status(202 if outcome.created else 200, body)


class ColumnPreviewOut(Schema):
    name: str
    field: str
    samples: list[str]


class PreviewOut(Schema):
    file_name: str
    layout_name: str
    columns: list[ColumnPreviewOut]
    missing_required: list[str]
    mapping: dict[str, str]
    problems: list[dict[str, Any]]


@router.post(
    "/uploads/preview",
    response={200: PreviewOut, 400: dict[str, str]},
    summary="The proposed column mapping and first rows of a file; nothing is stored or imported",
)
def preview_upload(request: HttpRequest, file: File[UploadedFile], country: Form[str]) -> Any:
    """Send the returned `mapping` (corrected where needed) with `POST /uploads` to import the file."""
    try:
        staged = staging.stage_upload(request.user, file, country_iso3=country, classification="restricted")
    except services.UploadRefused as refused:
        return Status(400, {"detail": str(refused)})
    staging.discard_staged(staged.token, staged.file_format)
    preview = staged.preview
    columns = [
        {
            "name": name,
            "field": field,
            "samples": [row[i] if i < len(row) else "" for row in preview.sample_rows],
        }
        for i, (name, field) in enumerate(zip(preview.header, preview.suggestion.fields, strict=True))
    ]
    return {
        "file_name": staged.file_name, "layout_name": preview.suggestion.layout_name, "columns": columns,
        "missing_required": list(preview.suggestion.missing_required),
        "mapping": preview.suggestion.as_mapping(preview.header),
        "problems": [asdict(e) for e in preview.problems],
    }  # fmt: skip


class ColumnMappingOut(Schema):
    country: str
    name: str
    mapping: dict[str, str]
    updated_at: datetime


class ColumnMappingIn(Schema):
    mapping: dict[str, str]


def _mapping_out(saved: Any) -> dict[str, Any]:
    return {
        "country": saved.country.iso3,
        "name": saved.name,
        "mapping": saved.mapping,
        "updated_at": saved.updated_at,
    }


@router.get(
    "/mappings", response=list[ColumnMappingOut], summary="Remembered column layouts of your countries"
)
def list_mappings(request: HttpRequest) -> Any:
    return [_mapping_out(m) for m in queries.column_mappings_for(request.user)]


@router.put(
    "/mappings/{country}/{name}",
    response={200: ColumnMappingOut, 400: dict[str, str]},
    summary="Remember (or replace) a column layout for a country: their column -> our field",
)
def put_mapping(request: HttpRequest, country: str, name: str, body: ColumnMappingIn) -> Any:
    target = get_object_or_404(Country, iso3=country.upper())
    policy.require(request.user, "seizures.import", target)
    header = list(body.mapping)
    problems = mapping_problems(header, [body.mapping[column] for column in header])
    if problems:
        return Status(400, {"detail": "; ".join(problems)})
    try:
        saved = services.save_column_mapping(request.user, target, name.strip()[:100], body.mapping)
    except services.UploadRefused as refused:
        return Status(400, {"detail": str(refused)})
    return _mapping_out(saved)


@router.get("/batches", response=list[BatchOut], summary="Import batches you may see")
def list_batches(request: HttpRequest) -> Any:
    return [_batch_out(b) for b in queries.batches_for(request.user)[:100]]


@router.get("/batches/{batch_id}", response=BatchOut, summary="An import batch: status and every bad row")
def get_batch(request: HttpRequest, batch_id: int) -> Any:
    return _batch_out(get_object_or_404(queries.batches_for(request.user), pk=batch_id))


class RouteParams(Schema):
    drug: str = ""
    country: str = ""
    year_from: int | None = None
    year_to: int | None = None
    route_country: str = ""
    transport_mode: str = ""
    channel: Literal["", "internet", "postal", "other"] = ""
    weight: Literal["cases", "kg"] = "cases"
    previous_periods: int = 3
    min_events: int = 3
    top_n: int = 10

    def filters(self) -> queries.CaseFilters:
        return queries.CaseFilters(
            drug=self.drug, country=self.country, year_from=self.year_from, year_to=self.year_to,
            route_country=self.route_country, transport_mode=self.transport_mode, channel=self.channel,
        )  # fmt: skip


class NodeOut(Schema):
    country: str
    cases_in: int
    cases_out: int
    kg_in: float
    kg_out: float
    betweenness: float


class EdgeOut(Schema):
    source: str
    target: str
    cases: int
    kg: float
    events: int
    betweenness: float


class EmergingOut(Schema):
    source: str
    target: str
    status: str
    events: int
    cases: int
    kg: float
    baseline_mean_events: float
    ratio: float | None
    p_value: float | None


class NetworkOut(Schema):
    periods: list[int]
    weight: str
    case_count: int
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    hubs: list[NodeOut]
    chokepoints: list[EdgeOut]


class EmergingRoutesOut(Schema):
    period: int | None
    previous_periods: int
    min_events: int
    routes: list[EmergingOut]


def _analysis(request: HttpRequest, params: RouteParams) -> queries.RouteAnalysis:
    policy.require(request.user, queries.ANALYSE)
    return queries.route_analysis(
        request.user, params.filters(), weight=params.weight, previous_periods=max(1, params.previous_periods),
        min_events=max(1, params.min_events), top_n=max(1, min(params.top_n, 100)),
    )  # fmt: skip


@router.get("/routes/network", response=NetworkOut, summary="Flow network: edges, transit hubs, chokepoints")
def route_network(request: HttpRequest, params: Query[RouteParams]) -> Any:
    analysis = _analysis(request, params)
    network = analysis.network
    return {
        "periods": list(network.periods), "weight": network.weight, "case_count": analysis.case_count,
        "nodes": [n.__dict__ for n in network.nodes], "edges": [e.__dict__ for e in network.edges],
        "hubs": [n.__dict__ for n in network.hubs], "chokepoints": [e.__dict__ for e in network.chokepoints],
    }  # fmt: skip


@router.get(
    "/routes/emerging", response=EmergingRoutesOut, summary="Route legs new or rising in the last year chosen"
)
def route_emerging(request: HttpRequest, params: Query[RouteParams]) -> Any:
    analysis = _analysis(request, params)
    return {
        "period": analysis.emerging_period, "previous_periods": params.previous_periods,
        "min_events": params.min_events, "routes": [r.__dict__ for r in analysis.emerging],
    }  # fmt: skip
