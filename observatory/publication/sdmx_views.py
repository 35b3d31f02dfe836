"""SDMX-REST 2.1 at /sdmx/: structure queries (dataflow, datastructure, codelist, conceptscheme) and data
queries, over the current public release only (``queries.released_observations``).

Errors map from the kernels' typed exceptions: 400 malformed, 404 nothing found, 406 not acceptable,
501 a valid SDMX-REST feature this service does not provide.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from observatory.publication import http, queries
from observatory.publication.models import Release
from observatory.publication.sdmx.model import MessageHeader
from observatory.publication.sdmx.query import (
    DataFormat,
    QueryError,
    apply_query,
    parse_data_query,
    parse_flow_ref,
    parse_structure_query,
)
from observatory.publication.sdmx.writers import (
    StructureSelection,
    iter_generic_data,
    iter_sdmx_csv,
    iter_sdmx_json_data,
    iter_structure_specific_data,
    select_structures,
    write_structure_selection,
)
from observatory.publication.sdmx_build import AGENCY, VERSION, Structures, build_data_set, build_structures

SENDER_NAME = "UNODC Drug Observatory"
STRUCTURE_RESOURCES = ("dataflow", "datastructure", "codelist", "conceptscheme")
NOT_PROVIDED = (
    "categoryscheme", "categorisation", "contentconstraint", "actualconstraint", "allowedconstraint",
    "attachmentconstraint", "availableconstraint", "hierarchicalcodelist", "metadataflow", "metadatastructure",
    "agencyscheme", "dataproviderscheme", "dataconsumerscheme", "organisationunitscheme", "process",
    "provisionagreement", "reportingtaxonomy", "structureset", "structure", "schema", "metadata", "conceptscheme_json",
)  # fmt: skip


def _error(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store" if status >= 500 else f"public, max-age={http.PUBLIC_MAX_AGE}"
    return response


def _header(release: Release) -> MessageHeader:
    prepared = timezone.now().astimezone(UTC).replace(microsecond=0)
    return MessageHeader(
        id=f"OBS_{release.label}".replace(".", "_")[:50],
        sender=AGENCY,
        sender_name=SENDER_NAME,
        prepared=prepared,
    )


def _release_and_structures(now: datetime) -> tuple[Release, Structures] | None:
    release = queries.current_release(now)
    if release is None:
        return None
    return release, build_structures(queries.released_observations(now, release=release))


def _pick(items: dict[str, object], agency: str, resource_id: str, version: str) -> list[str]:
    if agency not in ("all", AGENCY) or version not in ("all", "latest", VERSION, "~", "+"):
        return []
    return [key for key in items if resource_id in ("all", key)]


@require_GET
def structure(
    request: HttpRequest,
    resource: str,
    agency: str = "all",
    resource_id: str = "all",
    version: str = "latest",
) -> HttpResponseBase:
    if resource not in STRUCTURE_RESOURCES:
        return _error(
            501, f"/{resource}/ is not provided; structures served: {', '.join(STRUCTURE_RESOURCES)}"
        )
    try:
        query = parse_structure_query(request.GET.dict(), request.headers.get("Accept"))
    except QueryError as error:
        return _error(error.http_status, str(error))
    now = timezone.now()
    found = _release_and_structures(now)
    if found is None:
        return _error(404, "no release has been published yet")
    release, structures = found
    etag = http.etag_for(release, request, request.headers.get("Accept", ""))
    if http.matches(request, etag):
        return http.not_modified(etag)
    dsd = structures.structure
    selection_args: dict[str, object] = {"references": query.references}
    if resource == "dataflow":
        ids = _pick(dict(structures.dataflows), agency, resource_id, version)
        selection_args["dataflows"] = [structures.dataflows[i] for i in ids]
        if not ids:
            return _error(404, f"no dataflow {agency},{resource_id},{version}")
    elif resource == "datastructure":
        ids = _pick({dsd.id: dsd}, agency, resource_id, version)
        if not ids:
            return _error(404, f"no data structure {agency},{resource_id},{version}")
        selection_args["data_structures"] = [dsd]
        if query.references.value in ("parents", "parentsandsiblings", "all"):
            selection_args["dataflows"] = list(structures.dataflows.values())
    elif resource == "codelist":
        lists = {c.id: c for c in structures.codelists}
        ids = _pick(dict(lists), agency, resource_id, version)
        if not ids:
            return _error(404, f"no codelist {agency},{resource_id},{version}")
        selection_args["codelists"] = [lists[i] for i in ids]
        if query.references.value in ("parents", "parentsandsiblings", "all"):
            selection_args["data_structures"] = [dsd]
    else:  # conceptscheme
        scheme = dsd.concept_scheme
        if not _pick({scheme.id: scheme}, agency, resource_id, version):
            return _error(404, f"no concept scheme {agency},{resource_id},{version}")
        body = write_structure_selection(_header(release), StructureSelection(concept_schemes=(scheme,)))
        return http.public_headers(
            HttpResponse(body, content_type=query.format.media_type), etag, ("Accept",)
        )
    selection = select_structures(**selection_args)  # type: ignore[arg-type]
    body = write_structure_selection(_header(release), selection)
    return http.public_headers(HttpResponse(body, content_type=query.format.media_type), etag, ("Accept",))


@require_GET
def not_provided(request: HttpRequest, resource: str, rest: str = "") -> HttpResponse:
    return _error(501, f"/{resource}/ is not provided by this service")


@require_GET
def data(
    request: HttpRequest, flow: str, key: str | None = None, provider: str | None = None
) -> HttpResponseBase:
    try:
        flow_ref = parse_flow_ref(flow)
    except QueryError as error:
        return _error(error.http_status, str(error))
    now = timezone.now()
    release = queries.current_release(now)
    if release is None:
        return _error(404, "no release has been published yet")
    observations = queries.released_observations(now, release=release)
    structures = build_structures(observations)
    dataflow = structures.dataflows.get(flow_ref.id)
    if dataflow is None or not flow_ref.matches(dataflow.agency, dataflow.id, dataflow.version):
        return _error(404, f"no dataflow {flow}; available: {', '.join(structures.dataflows)}")
    try:
        query = parse_data_query(
            dataflow.structure, key, request.GET.dict(), request.headers.get("Accept"), provider
        )
    except QueryError as error:
        return _error(error.http_status, str(error))
    etag = http.etag_for(release, request, query.format.name)
    if http.matches(request, etag):
        return http.not_modified(etag)
    selected = apply_query(build_data_set(observations, dataflow), query)
    if not selected.series:
        return _error(404, "NoResultsFound: no data match the query")
    header = _header(release)
    dimension = query.dimension_at_observation
    chunks: Iterator[bytes]
    match query.format:
        case DataFormat.GENERIC_XML:
            chunks = iter_generic_data(header, selected, dimension)
        case DataFormat.STRUCTURE_SPECIFIC_XML:
            chunks = iter_structure_specific_data(header, selected, dimension)
        case DataFormat.JSON:
            chunks = iter_sdmx_json_data(header, selected, dimension)
        case DataFormat.CSV:
            chunks = iter_sdmx_csv(selected, "2.0")
        case _:
            chunks = iter_sdmx_csv(selected, "1.0")
    response = StreamingHttpResponse(chunks, content_type=query.format.media_type)
    if query.format in (DataFormat.CSV, DataFormat.CSV_V1):
        response["Content-Disposition"] = f'inline; filename="{dataflow.id}.csv"'
    return http.public_headers(response, etag, ("Accept",))
