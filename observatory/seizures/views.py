"""Pages of the seizures app: cases (list, detail, map), upload and import batches, the route view.

Thin: parse the request, call a query or a service, render. Nothing here is open to anonymous users.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe

from observatory.access import policy
from observatory.access.policy import Classification
from observatory.reference.models import Country
from observatory.seizures import maps, queries, services, staging
from observatory.seizures.kernels.mapping import mapping_problems
from observatory.seizures.kernels.routes import FlowWeight
from observatory.seizures.kernels.rows import FIELDS, REQUIRED_FIELDS
from observatory.seizures.models import SeizureCase

CASES_PER_PAGE = 50


def _policy_to_403(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except policy.PermissionDenied as error:
            raise HttpForbidden(str(error)) from error

    return login_required(wrapped)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def filters_from(params: QueryDict) -> queries.CaseFilters:
    return queries.CaseFilters(
        drug=params.get("drug", "").strip(),
        country=params.get("country", "").strip().upper()[:3],
        year_from=_int(params.get("year_from")),
        year_to=_int(params.get("year_to")),
        route_country=params.get("route_country", "").strip().upper()[:3],
        transport_mode=params.get("transport_mode", "").strip(),
        concealment=params.get("concealment", "").strip(),
        channel=params.get("channel", "").strip(),
    )


def _filter_context(request: HttpRequest) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filters": filters_from(request.GET),
        "options": queries.filter_options(request.user),
        "channels": [c for c in SeizureCase.Channel.choices if c[0]],
        "query": query.urlencode(),
        "can_analyse": policy.allows(request.user, queries.ANALYSE),
    }


@_policy_to_403
def case_list(request: HttpRequest) -> HttpResponse:
    context = _filter_context(request)
    cases = queries.filtered_cases(request.user, context["filters"])
    page = Paginator(
        cases.order_by("-seizure_date", "id").values_list("id", flat=True), CASES_PER_PAGE
    ).get_page(request.GET.get("page"))
    rows = queries.case_rows(
        queries.visible_cases(request.user).filter(pk__in=list(page.object_list)), request.user
    )
    context.update({"page": page, "rows": rows, "total": page.paginator.count})
    return render(request, "seizures/cases.html", context)


@_policy_to_403
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    row = queries.case_detail(request.user, case_id)
    if row is None:
        raise Http404("no such case in your scope")
    return render(request, "seizures/case_detail.html", {"case": row})


@_policy_to_403
def case_map(request: HttpRequest) -> HttpResponse:
    context = _filter_context(request)
    points = queries.case_points(request.user, context["filters"])
    svg = maps.points_map_svg(
        [
            maps.Point(p["latitude"], p["longitude"], p["cases"], f"{p['label']}: {p['cases']} cases")
            for p in points
        ],
        "Seizure cases by place of seizure",
    )
    context.update({"svg": mark_safe(svg), "points": sorted(points, key=lambda p: -p["cases"])[:30]})  # noqa: S308
    return render(request, "seizures/case_map.html", context)


@_policy_to_403
def route_view(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, queries.ANALYSE)
    context = _filter_context(request)
    weight: FlowWeight = "kg" if request.GET.get("weight") == "kg" else "cases"
    analysis = queries.route_analysis(request.user, context["filters"], weight=weight)
    edges = sorted(analysis.network.edges, key=lambda e: -(e.kg if weight == "kg" else e.cases))
    lines = [
        maps.FlowLine(
            e.source, e.target, e.kg if weight == "kg" else float(e.cases),
            f"{e.source} → {e.target}: {e.cases} cases, {e.kg:,.1f} kg",
        )
        for e in edges[:120]
    ]  # fmt: skip
    svg = maps.flow_map_svg(lines, analysis.centroids, "Trafficking flows between countries")
    context.update(
        {
            "analysis": analysis,
            "edges": edges[:40],
            "weight": weight,
            "svg": mark_safe(svg),  # noqa: S308 - built from escaped parts in maps.py
            "names": {iso3: name for iso3, (_, _, name) in analysis.centroids.items()},
        }
    )
    return render(request, "seizures/routes.html", context)


def _import_countries(request: HttpRequest) -> list[Country]:
    granted = policy.reach(request.user, "seizures.import")
    countries = Country.objects.order_by("name")
    if not granted.everywhere:
        countries = countries.filter(pk__in=sorted(granted.country_ids))
    return list(countries)


@_policy_to_403
def upload(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "seizures.import")
    countries = _import_countries(request)
    error = ""
    if request.method == "POST" and request.POST.get("step") == "check":
        try:
            staged = staging.stage_upload(
                request.user, _uploaded(request), country_iso3=request.POST.get("country", ""),
                classification=request.POST.get("classification", Classification.RESTRICTED.value),
            )  # fmt: skip
        except services.UploadRefused as refused:
            error = str(refused)
        else:
            request.session[_STAGED_KEY] = {
                **request.session.get(_STAGED_KEY, {}),
                staged.token: _session_entry(staged),
            }
            return redirect("seizures:upload_check", token=staged.token)
    elif request.method == "POST":
        try:
            mapping_text = request.POST.get("mapping_text", "")
            outcome = services.start_upload(
                request.user,
                _uploaded(request),
                country_iso3=request.POST.get("country", ""),
                mapping=services.parse_mapping_text(mapping_text) if mapping_text.strip() else None,
                mapping_name=request.POST.get("mapping_name", ""),
                remember_as=request.POST.get("remember_as", ""),
                classification=request.POST.get("classification", Classification.RESTRICTED.value),
            )
        except services.UploadRefused as refused:
            error = str(refused)
        else:
            if not outcome.created:
                messages.info(request, "This file was imported before: nothing was added.")
            return redirect("seizures:batch", batch_id=outcome.batch.pk)
    mappings = queries.column_mappings_for(request.user)
    return render(
        request,
        "seizures/upload.html",
        {
            "countries": countries,
            "mappings": mappings,
            "default_mapping": services.DEFAULT_MAPPING_NAME,
            "fields": FIELDS,
            "error": error,
            "max_bytes": settings.OBSERVATORY_MAX_UPLOAD_BYTES,
        },
        status=400 if error else 200,
    )


_STAGED_KEY = "seizures.staged_uploads"


def _session_entry(staged: staging.StagedUpload) -> dict[str, str]:
    return {
        "file_name": staged.file_name, "file_format": staged.file_format,
        "country": staged.country_iso3, "classification": staged.classification,
    }  # fmt: skip


@_policy_to_403
def upload_check(request: HttpRequest, token: str) -> HttpResponse:
    """The staged file's header and first rows with the proposed mapping; confirm, correct or discard."""
    policy.require(request.user, "seizures.import")
    entries: dict[str, dict[str, str]] = request.session.get(_STAGED_KEY, {})
    entry = entries.get(token)
    if entry is None:  # only the uploader's session knows the token
        raise Http404("no upload of yours is waiting for confirmation under this address")

    def forget() -> None:
        entries.pop(token, None)
        request.session[_STAGED_KEY] = entries

    if request.method == "POST" and request.POST.get("action") == "discard":
        staging.discard_staged(token, entry["file_format"])
        forget()
        messages.info(request, f"{entry['file_name']} was discarded; nothing was imported.")
        return redirect("seizures:upload")
    try:
        preview = staging.preview_staged(request.user, token, entry["file_format"], entry["country"])
    except services.UploadRefused as refused:
        forget()
        messages.error(request, str(refused))
        return redirect("seizures:upload")
    staged = staging.StagedUpload(
        token, entry["file_name"], entry["file_format"], entry["country"], entry["classification"], preview
    )
    chosen = list(preview.suggestion.fields)
    problems: list[str] = []
    if request.method == "POST":
        chosen = [request.POST.get(f"column_{i}", "") for i in range(len(preview.header))]
        problems = mapping_problems(preview.header, chosen)
        if not problems:
            mapping = {column: field for column, field in zip(preview.header, chosen, strict=True) if field}
            try:
                outcome = staging.import_staged(
                    request.user, staged, mapping, remember_as=request.POST.get("remember_as", "")
                )
            except services.UploadRefused as refused:
                problems = [str(refused)]
            else:
                forget()
                if not outcome.created:
                    messages.info(request, "This file was imported before: nothing was added.")
                return redirect("seizures:batch", batch_id=outcome.batch.pk)
    columns = [
        {"index": i, "name": name, "field": field, "samples": [row[i] if i < len(row) else "" for row in preview.sample_rows]}
        for i, (name, field) in enumerate(zip(preview.header, chosen, strict=True))
    ]  # fmt: skip
    return render(
        request,
        "seizures/upload_check.html",
        {
            "staged": staged,
            "preview": preview,
            "columns": columns,
            "fields": FIELDS,
            "required": REQUIRED_FIELDS,
            "problems": problems,
        },
        status=400 if problems or preview.problems else 200,
    )


def _uploaded(request: HttpRequest) -> Any:
    upload_file = request.FILES.get("file")
    if upload_file is None:
        raise services.UploadRefused("choose a CSV or XLSX file to upload")
    return upload_file


@_policy_to_403
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(request, "seizures/batches.html", {"batches": queries.batches_for(request.user)[:100]})


@_policy_to_403
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(queries.batches_for(request.user), pk=batch_id)
    return render(
        request,
        "seizures/batch.html",
        {"batch": batch, "job": batch.job, "finished": batch.status not in {"queued", "running"}},
    )
