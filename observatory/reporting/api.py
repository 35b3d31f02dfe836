"""Questionnaire API: submissions, values (409 on a stale version), workflow, validation, queries, workbooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from observatory.access import policy
from observatory.api import AUTH
from observatory.reporting import queries, services
from observatory.reporting.kernels import cells as cellkit
from observatory.reporting.kernels.workbook import MAX_UPLOAD_BYTES, build_workbook
from observatory.reporting.models import Query, Submission

router = Router(tags=["reporting"], auth=AUTH)


class SubmissionOut(Schema):
    id: int
    country: str
    year: int
    instrument: str
    origin: str
    status: str
    status_reason: str
    submitted_at: datetime | None
    approved_at: datetime | None
    completeness: float | None = None
    transitions: list[str] = []


class CellOut(Schema):
    cell: str
    value: Any
    display: str
    version: int
    comment: str
    source: str
    method: str
    adjustment_codes: list[str]
    updated_by: str
    updated_at: datetime


class CellIn(Schema):
    cell: str  # "question|dim=code;dim=code"
    value: str | float | int | None  # as typed; "" or null clears the cell; "--" means not known
    version: int  # the version you read; 0 for a cell that had no value
    comment: str | None = None
    source: str | None = None
    method: str | None = None
    adjustment_codes: list[str] | None = None


class ValuesIn(Schema):
    cells: list[CellIn]


class SavedOut(Schema):
    cell: str
    version: int
    value: str


class CompletenessOut(Schema):
    module: str
    required: int
    answered: int


class SaveOut(Schema):
    saved: list[SavedOut]
    completeness: list[CompletenessOut]
    messages: dict[str, list[str]]


class ErrorItem(Schema):
    cell: str
    reason: str


class ErrorsOut(Schema):
    detail: str
    errors: list[ErrorItem]


class ConflictItem(Schema):
    cell: str
    expected_version: int
    current_version: int
    current_value: str
    updated_by: str
    updated_at: str


class ConflictOut(Schema):
    detail: str
    conflicts: list[ConflictItem]


class DetailOut(Schema):
    detail: str


class TransitionIn(Schema):
    reason: str = ""


class ViolationOut(Schema):
    rule_id: str
    importance: str
    message: str
    cells: list[str]


class OutlierOut(Schema):
    cell: str
    value: float
    score: float
    method: str
    centre: float
    history_years: int


class ReportOut(Schema):
    violations: list[ViolationOut]
    completeness: list[CompletenessOut]
    outliers: list[OutlierOut]


class MessageOut(Schema):
    author: str
    text: str
    created_at: datetime


class QueryOut(Schema):
    id: int
    cell: str
    status: str
    raised_by: str
    created_at: datetime
    messages: list[MessageOut]


class QueryIn(Schema):
    cell: str
    text: str


class ReplyIn(Schema):
    text: str = ""
    close: bool = False


class UploadOut(Schema):
    saved: int
    cleared: int


class UploadErrorOut(Schema):
    detail: str
    errors: list[dict[str, str]]


def _get(request: HttpRequest, pk: int) -> Submission:
    try:
        return queries.submission(request.user, pk)
    except Submission.DoesNotExist:
        raise HttpError(404, "no such submission") from None


def _out(request: HttpRequest, submission: Submission, completeness: float | None = None) -> SubmissionOut:
    return SubmissionOut(
        id=submission.pk, country=submission.country.iso3, year=submission.year,
        instrument=str(submission.instrument), origin=submission.origin, status=submission.status,
        status_reason=submission.status_reason, submitted_at=submission.submitted_at,
        approved_at=submission.approved_at, completeness=completeness,
        transitions=[t.name for t in services.allowed_transitions(request.user, submission)],
    )  # fmt: skip


@router.get("/submissions", response=list[SubmissionOut], summary="Questionnaires of your scope")
def list_submissions(request: HttpRequest, year: int | None = None, status: str | None = None) -> Any:
    return [
        _out(request, row.submission, row.completeness)
        for row in queries.summaries(request.user, year=year, status=status)
    ]


@router.get("/submissions/{pk}", response=SubmissionOut)
def get_submission(request: HttpRequest, pk: int) -> Any:
    return _out(request, _get(request, pk))


@router.get("/submissions/{pk}/values", response=list[CellOut], summary="Reported cells with their versions")
def get_values(request: HttpRequest, pk: int) -> Any:
    submission = _get(request, pk)
    kernel = services.kernel_of(submission)
    result = []
    for key, row in queries.value_rows(submission).items():
        value = cellkit.decode(row.value)
        result.append(
            CellOut(
                cell=cellkit.cell_id(key),
                value=row.value,
                display=cellkit.display(
                    value, kernel.question(key[0]) if kernel.has_question(key[0]) else None
                ),
                version=row.version,
                comment=row.comment,
                source=row.source,
                method=row.method,
                adjustment_codes=list(row.adjustment_codes or []),
                updated_by=str(row.updated_by) if row.updated_by else "",
                updated_at=row.updated_at,
            )
        )
    return result


@router.put(
    "/submissions/{pk}/values",
    response={200: SaveOut, 400: ErrorsOut, 409: ConflictOut},
    summary="Save cells (all or nothing); send the version you read — a stale one answers 409",
)
def put_values(request: HttpRequest, pk: int, payload: ValuesIn) -> Any:
    submission = _get(request, pk)
    changes = []
    errors = []
    for item in payload.cells:
        try:
            key = cellkit.parse_cell_id(item.cell)
        except ValueError as error:
            errors.append(ErrorItem(cell=item.cell, reason=str(error)))
            continue
        changes.append(
            services.CellChange(
                key, item.value, item.version, item.comment, item.source, item.method, item.adjustment_codes
            )
        )
    if errors:
        return Status(400, ErrorsOut(detail="nothing was saved", errors=errors))
    try:
        saved = services.save_values(request.user, submission, changes)
    except services.InvalidValues as error:
        return Status(
            400,
            ErrorsOut(
                detail="nothing was saved", errors=[ErrorItem(cell=c, reason=r) for c, r in error.errors]
            ),
        )
    except services.Conflict as error:
        return Status(
            409,
            ConflictOut(detail=str(error), conflicts=[ConflictItem(**vars_of(c)) for c in error.conflicts]),
        )
    except services.WorkflowError as error:
        raise HttpError(409, str(error)) from None
    report = queries.validate(submission, queries.values_of(submission), queries.history_of(submission))
    messages = {cellkit.cell_id(key): texts for key, texts in queries.cell_messages(report).items()}
    return Status(
        200,
        SaveOut(
            saved=[SavedOut(cell=s.cell, version=s.version, value=s.value) for s in saved],
            completeness=[
                CompletenessOut(module=c.module, required=c.required, answered=c.answered)
                for c in report.completeness
            ],
            messages=messages,
        ),
    )


def vars_of(conflict: services.CellConflict) -> dict[str, Any]:
    return {name: getattr(conflict, name) for name in ConflictItem.model_fields}


@router.post(
    "/submissions/{pk}/transitions/{name}",
    response={200: SubmissionOut, 409: DetailOut},
    summary="submit, start_review, send_back (reason), validate, approve, reopen (reason)",
)
def post_transition(request: HttpRequest, pk: int, name: str, payload: TransitionIn) -> Any:
    submission = _get(request, pk)
    try:
        services.transition(request.user, submission, name, payload.reason)
    except services.WorkflowError as error:
        return Status(409, DetailOut(detail=str(error)))
    return Status(200, _out(request, submission))


@router.get(
    "/submissions/{pk}/validation", response=ReportOut, summary="Rule failures, completeness, outliers"
)
def get_validation(request: HttpRequest, pk: int) -> Any:
    report = queries.validation_report(request.user, _get(request, pk))
    return ReportOut(
        violations=[
            ViolationOut(
                rule_id=v.rule_id,
                importance=v.importance,
                message=v.message,
                cells=[cellkit.cell_id(c) for c in v.cells],
            )
            for v in report.violations
        ],
        completeness=[
            CompletenessOut(module=c.module, required=c.required, answered=c.answered)
            for c in report.completeness
        ],
        outliers=[
            OutlierOut(
                cell=cellkit.cell_id(o.cell),
                value=o.value,
                score=o.score,
                method=o.method,
                centre=o.centre,
                history_years=o.history_years,
            )
            for o in report.outliers
        ],
    )


def _query_out(query: Query) -> QueryOut:
    return QueryOut(
        id=query.pk, cell=f"{query.question}|{query.dims}", status=query.status, raised_by=str(query.raised_by),
        created_at=query.created_at,
        messages=[MessageOut(author=str(m.author), text=m.text, created_at=m.created_at) for m in query.messages.all()],
    )  # fmt: skip


@router.get("/submissions/{pk}/queries", response=list[QueryOut])
def list_queries(request: HttpRequest, pk: int) -> Any:
    return [_query_out(q) for q in queries.queries_of(request.user, _get(request, pk))]


@router.post("/submissions/{pk}/queries", response={201: QueryOut, 400: DetailOut})
def post_query(request: HttpRequest, pk: int, payload: QueryIn) -> Any:
    submission = _get(request, pk)
    try:
        query = services.raise_query(
            request.user, submission, cellkit.parse_cell_id(payload.cell), payload.text
        )
    except (ValueError, services.WorkflowError) as error:
        return Status(400, DetailOut(detail=str(error)))
    return Status(201, _query_out(query))


@router.post(
    "/queries/{pk}", response={200: QueryOut, 400: DetailOut}, summary="Reply to a query or close it"
)
def reply_query(request: HttpRequest, pk: int, payload: ReplyIn) -> Any:
    try:
        query = queries.query(request.user, pk)
    except Query.DoesNotExist:
        raise HttpError(404, "no such query") from None
    try:
        if payload.close:
            services.close_query(request.user, query)
        else:
            services.reply_to_query(request.user, query, payload.text)
    except services.WorkflowError as error:
        return Status(400, DetailOut(detail=str(error)))
    return Status(200, _query_out(query))


@router.get("/submissions/{pk}/workbook", summary="The pre-filled Excel workbook (.xlsx)")
def get_workbook(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _get(request, pk)
    data = build_workbook(
        services.kernel_of(submission), queries.values_of(submission), queries.previous_year_values(submission),
        submission.country.iso3, submission.year,
    )  # fmt: skip
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="ARQ_{submission.country.iso3}_{submission.year}.xlsx"'
    )
    return response


@router.post(
    "/submissions/{pk}/workbook",
    response={200: UploadOut, 400: UploadErrorOut, 409: DetailOut},
    summary="Upload a filled workbook: stored whole, or rejected whole with sheet/cell/reason",
)
def post_workbook(request: HttpRequest, pk: int, workbook: File[UploadedFile]) -> Any:
    submission = _get(request, pk)
    policy.require(request.user, "reporting.edit", submission.country_id)
    data = workbook.read(MAX_UPLOAD_BYTES + 1)
    try:
        result = services.upload_workbook(request.user, submission, data)
    except services.WorkflowError as error:
        return Status(409, DetailOut(detail=str(error)))
    if not result.ok:
        return Status(
            400,
            UploadErrorOut(
                detail="the workbook was rejected; nothing was stored",
                errors=[{"sheet": e.sheet, "cell": e.cell, "reason": e.reason} for e in result.errors],
            ),
        )
    return Status(200, UploadOut(saved=result.saved, cleared=result.cleared))
