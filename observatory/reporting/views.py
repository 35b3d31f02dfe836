"""Pages of the questionnaire: thin — parse the request, call a service or query, render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from observatory.access import policy
from observatory.access.models import User
from observatory.reference.models import Country
from observatory.reporting import queries, services
from observatory.reporting.kernels import cells as cellkit
from observatory.reporting.kernels.instrument import CellKey, Module, Question, describe_cell
from observatory.reporting.kernels.workbook import MAX_UPLOAD_BYTES, build_workbook
from observatory.reporting.models import Query, Submission

View = Callable[..., HttpResponse]


def _guarded(view: View) -> View:
    """Sign-in required; policy refusals become 403, unknown or invisible objects 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except policy.PermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except (Submission.DoesNotExist, Query.DoesNotExist, Country.DoesNotExist) as error:
            raise Http404("not found") from error

    return wrapper


def _submission(request: HttpRequest, pk: int) -> Submission:
    return queries.submission(request.user, pk)


@_guarded
def submission_list(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "reporting.view")
    year = request.GET.get("year", "")
    status = request.GET.get("status", "")
    rows = queries.summaries(request.user, year=int(year) if year.isdigit() else None, status=status or None)
    reach = policy.reach(request.user, "reporting.edit")
    own_countries = (
        Country.objects.filter(pk__in=reach.country_ids).order_by("name") if not reach.everywhere else []
    )
    return render(
        request,
        "reporting/list.html",
        {
            "rows": rows,
            "year": year,
            "status": status,
            "statuses": Submission.Status.choices,
            "own_countries": own_countries,
            "current_year": timezone.now().year - 1,
            "can_approve": policy.allows(request.user, "reporting.approve"),
        },
    )


@_guarded
@require_POST
def submission_open(request: HttpRequest) -> HttpResponse:
    country = Country.objects.get(iso3=request.POST.get("country", ""))
    year_text = request.POST.get("year", "")
    if not year_text.isdigit() or not 1990 <= int(year_text) <= timezone.now().year:
        messages.error(request, "Give a reporting year between 1990 and this year.")
        return redirect("reporting:list")
    submission = services.open_submission(request.user, country, int(year_text))
    return redirect("reporting:detail", pk=submission.pk)


@dataclass(frozen=True)
class CellRow:
    key: CellKey
    id: str
    labels: list[str]
    value: str
    version: int
    previous: str
    comment: str
    required: bool
    error: str
    messages: list[str]
    query_count: int


@dataclass(frozen=True)
class ModuleView:
    module: Module
    questions: list[tuple[Question, list[CellRow]]]
    required: int
    answered: int
    editable: bool

    @property
    def percent(self) -> int:
        # Half up, as the page's script rounds (Math.round), so a figure never changes on reload.
        return 100 if self.required == 0 else int(100 * self.answered / self.required + 0.5)


def _module_views(
    request: HttpRequest, submission: Submission, errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
) -> tuple[list[ModuleView], Any]:  # fmt: skip
    kernel = services.kernel_of(submission)
    rows = queries.value_rows(submission)
    values = {key: cellkit.decode(row.value) for key, row in rows.items()}
    previous = queries.previous_year_values(submission)
    report = queries.validate(submission, values, queries.history_of(submission))
    messages_by_cell = queries.cell_messages(report)
    open_queries: dict[CellKey, int] = {}
    for query in Query.objects.filter(submission=submission).exclude(status=Query.Status.CLOSED):
        key = cellkit.key_of(query.question, query.dims)
        open_queries[key] = open_queries.get(key, 0) + 1
    try:
        allowed = services.editable_modules(request.user, submission)
        editable_all = True
    except (policy.PermissionDenied, services.WorkflowError):
        allowed, editable_all = frozenset(), False
    completeness = {item.module: item for item in report.completeness}
    views = []
    for module in kernel.modules:
        question_rows = []
        for question in module.questions:
            required = set(question.required_cells())
            keys = list(
                dict.fromkeys([*question.required_cells(), *(k for k in question.cells() if k in values)])
            )
            cell_rows = []
            for key in keys:
                cell = cellkit.cell_id(key)
                stored = rows.get(key)
                shown = (posted or {}).get(cell)
                cell_rows.append(
                    CellRow(
                        key=key,
                        id=cell,
                        labels=[qd.dimension.label_of(dict(key[1])[qd.code]) for qd in question.dimensions],
                        value=shown if shown is not None else cellkit.display(values.get(key), question),
                        version=stored.version if stored else 0,
                        previous=cellkit.display(previous.get(key), question),
                        comment=stored.comment if stored else "",
                        required=key in required,
                        error=(errors or {}).get(cell, ""),
                        messages=messages_by_cell.get(key, []),
                        query_count=open_queries.get(key, 0),
                    )
                )
            question_rows.append((question, cell_rows))
        done = completeness[module.code]
        views.append(
            ModuleView(
                module,
                question_rows,
                done.required,
                done.answered,
                editable_all and (allowed is None or module.code in allowed),
            )
        )
    return views, report


def _detail_context(request: HttpRequest, submission: Submission, **extra: Any) -> dict[str, Any]:
    modules, report = _module_views(request, submission, extra.pop("errors", None), extra.pop("posted", None))
    user = request.user
    providers = []
    if policy.allows(user, "reporting.submit", submission.country_id):
        providers = [
            u
            for u in User.objects.filter(assignments__country_id=submission.country_id)
            .distinct()
            .exclude(pk=user.pk or 0)
            if policy.allows(u, "reporting.edit", submission.country_id)
        ]
    return {
        "submission": submission,
        "modules": modules,
        "report": report,
        "transitions": services.allowed_transitions(user, submission),
        "queries": queries.queries_of(user, submission),
        "invitations": queries.invitations_of(user, submission),
        "providers": providers,
        "can_review": policy.allows(user, "reporting.review", submission.country_id),
        "can_edit": any(module.editable for module in modules),
        "can_invite": bool(providers) and submission.status == Submission.Status.DRAFT,
        **extra,
    }


@_guarded
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(request, pk)
    if request.method == "POST":
        return _save_module(request, submission)
    return render(request, "reporting/detail.html", _detail_context(request, submission))


def _save_module(request: HttpRequest, submission: Submission) -> HttpResponse:
    """The form without JavaScript: every changed cell of the module, with the versions the page showed."""
    changes = []
    posted: dict[str, str] = {}
    for name in request.POST:
        if not name.startswith("v:"):
            continue
        text = request.POST.get(name, "")
        cell = name[2:]
        posted[cell] = text
        if text == request.POST.get(f"o:{cell}", ""):
            continue  # unchanged since the page was drawn
        version = request.POST.get(f"ver:{cell}", "0")
        changes.append(
            services.CellChange(cellkit.parse_cell_id(cell), text, int(version) if version.isdigit() else 0)
        )
    new_cell = request.POST.get("new_question", "")
    if new_cell and request.POST.get("new_value", "").strip():
        dims = {name[4:]: request.POST.get(name, "") for name in request.POST if name.startswith("dim:")}
        changes.append(
            services.CellChange((new_cell, tuple(sorted(dims.items()))), request.POST.get("new_value", ""), 0)
        )
    try:
        saved = services.save_values(request.user, submission, changes)
    except services.InvalidValues as error:
        context = _detail_context(request, submission, errors=dict(error.errors), posted=posted)
        context["form_error"] = f"Nothing was saved: {len(error.errors)} value(s) need correcting."
        context["error_list"] = error.errors
        return render(request, "reporting/detail.html", context, status=400)
    except services.Conflict as error:
        context = _detail_context(request, submission)
        context["conflicts"] = error.conflicts
        return render(request, "reporting/detail.html", context, status=409)
    except services.WorkflowError as error:
        messages.error(request, str(error))
        return redirect("reporting:detail", pk=submission.pk)
    messages.success(request, f"Saved {len(saved)} cell(s).")
    module = request.POST.get("module", "")
    return redirect(
        reverse("reporting:detail", kwargs={"pk": submission.pk}) + (f"#module-{module}" if module else "")
    )


@_guarded
@require_POST
def submission_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    submission = _submission(request, pk)
    try:
        services.transition(request.user, submission, name, request.POST.get("reason", ""))
    except services.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{services.TRANSITIONS[name].label}: done. Status is now {submission.get_status_display()}.",
        )
    return redirect("reporting:detail", pk=submission.pk)


@_guarded
@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("submission") if value.isdigit()]
    outcomes = services.bulk_approve(request.user, ids)
    approved = sum(outcome.approved for outcome in outcomes)
    messages.success(request, f"Approved {approved} of {len(outcomes)} submission(s).")
    for outcome in outcomes:
        if not outcome.approved:
            messages.error(request, f"Submission {outcome.submission_id}: {outcome.reason}")
    return redirect("reporting:list")


@_guarded
def validation_page(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(request, pk)
    report = queries.validation_report(request.user, submission)
    kernel = services.kernel_of(submission)
    groups = [(importance, report.by_importance(importance)) for importance in ("high", "medium", "low")]
    modules = [(kernel.module(item.module), item) for item in report.completeness]
    return render(
        request,
        "reporting/validation.html",
        {
            "submission": submission,
            "report": report,
            "groups": groups,
            "modules": modules,
            "describe": describe_cell,
            "outliers": [(describe_cell(o.cell), o) for o in report.outliers],
            "violations": [
                (importance, [(v, ", ".join(describe_cell(c) for c in v.cells[:6])) for v in items])
                for importance, items in groups
            ],
        },
    )


@_guarded
@require_POST
def query_raise(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(request, pk)
    try:
        key = cellkit.parse_cell_id(request.POST.get("cell", ""))
        services.raise_query(request.user, submission, key, request.POST.get("text", ""))
    except (ValueError, services.WorkflowError) as error:
        messages.error(request, f"Query not raised: {error}")
    else:
        messages.success(request, f"Query raised on {describe_cell(key)}.")
    return redirect(reverse("reporting:detail", kwargs={"pk": pk}) + "#queries")


@_guarded
@require_POST
def query_reply(request: HttpRequest, pk: int) -> HttpResponse:
    query = queries.query(request.user, pk)
    try:
        if request.POST.get("close"):
            services.close_query(request.user, query)
        else:
            services.reply_to_query(request.user, query, request.POST.get("text", ""))
    except services.WorkflowError as error:
        messages.error(request, str(error))
    return redirect(reverse("reporting:detail", kwargs={"pk": query.submission_id}) + "#queries")


@_guarded
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(request, pk)
    invitee = User.objects.filter(pk=request.POST.get("invitee", "0") or 0).first()
    if invitee is None:
        messages.error(request, "Choose a data provider to invite.")
        return redirect("reporting:detail", pk=pk)
    try:
        services.invite_provider(
            request.user,
            submission,
            invitee,
            request.POST.getlist("modules"),
            request.POST.get("message", ""),
        )
    except services.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{invitee} is invited to fill the chosen modules.")
    return redirect("reporting:detail", pk=pk)


@_guarded
def workbook_download(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(request, pk)
    data = build_workbook(
        services.kernel_of(submission), queries.values_of(submission), queries.previous_year_values(submission),
        submission.country.iso3, submission.year,
    )  # fmt: skip
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"ARQ_{submission.country.iso3}_{submission.year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@_guarded
@require_POST
def workbook_upload(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _submission(request, pk)
    upload = request.FILES.get("workbook")
    if upload is None:
        messages.error(request, "Choose the filled workbook (.xlsx) to upload.")
        return redirect("reporting:detail", pk=pk)
    data = upload.read(MAX_UPLOAD_BYTES + 1)  # enough for the parser to name the limit, never a huge read
    try:
        result = services.upload_workbook(request.user, submission, data)
    except services.WorkflowError as error:
        messages.error(request, str(error))
        return redirect("reporting:detail", pk=pk)
    if not result.ok:
        context = _detail_context(request, submission)
        context["upload_errors"] = result.errors
        return render(request, "reporting/detail.html", context, status=400)
    messages.success(request, f"Workbook stored: {result.saved} cell(s) saved, {result.cleared} cleared.")
    return redirect("reporting:detail", pk=pk)
