"""Precursor pages: inbox and outbox with deadlines, notification form and detail with the answers the
policy allows, incidents with their thread, alerts, the board's patterns, registry and special alerts.
Thin: parse, call a service or a query, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from observatory.access import policy
from observatory.precursors import forms, queries, services
from observatory.precursors.kernels.workflow import Action
from observatory.precursors.models import Alert, Incident, Notification, NotificationRequirement
from observatory.reference.models import Country

View = Callable[..., HttpResponseBase]


def _guarded(view: View) -> View:
    """Signed in; policy refusals → 403; what the user may not see → 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except policy.PermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except (Notification.DoesNotExist, Incident.DoesNotExist, Alert.DoesNotExist) as error:
            raise Http404("not found") from error
        except NotificationRequirement.DoesNotExist as error:
            raise Http404("not found") from error

    return wrapper


def _require_view(request: HttpRequest) -> None:
    if not policy.allows(request.user, "precursors.view"):
        raise policy.PermissionDenied("precursors.view")


def _own_countries(request: HttpRequest, verb: str) -> list[Country]:
    granted = policy.reach(request.user, verb)
    if granted.everywhere:
        return list(Country.objects.order_by("name"))
    return list(Country.objects.filter(pk__in=granted.by_country).order_by("name"))


def _page(request: HttpRequest, rows: Any, per_page: int = 50) -> Any:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


@_guarded
def inbox(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    page = _page(request, queries.inbox(request.user))
    return render(
        request,
        "precursors/inbox.html",
        {
            "page": page,
            "now": timezone.now(),
            "unread": queries.unread_alert_count(request.user),
            "tab": "inbox",
        },
    )


@_guarded
def outbox(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    page = _page(request, queries.outbox(request.user))
    return render(
        request,
        "precursors/outbox.html",
        {
            "page": page,
            "now": timezone.now(),
            "unread": queries.unread_alert_count(request.user),
            "tab": "outbox",
            "may_notify": policy.allows(request.user, "precursors.notify"),
        },
    )


@_guarded
def notification_new(request: HttpRequest) -> HttpResponse:
    exporting = _own_countries(request, "precursors.notify")
    if not exporting:
        raise policy.PermissionDenied("precursors.notify")
    form = forms.NotificationForm(request.POST or None, exporting=exporting)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.create_notification(request.user, form.to_input(), send="send" in request.POST)
        except services.InvalidInput as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{row.reference} {'sent' if row.sent_at else 'saved as draft'}.")
            return redirect("precursors:notification", row.pk)
    return render(request, "precursors/notification_form.html", {"form": form, "amending": None})


@_guarded
def notification_amend(request: HttpRequest, notification_id: int) -> HttpResponse:
    old = queries.notification(request.user, notification_id)
    policy.require(request.user, "precursors.notify", old.exporting_country_id)
    initial = forms.NotificationForm.initial_from(services.notification_input_from(old))
    form = forms.NotificationForm(request.POST or None, initial=initial, exporting=[old.exporting_country])
    if request.method == "POST" and form.is_valid():
        try:
            row = services.amend_notification(
                request.user, old.pk, form.to_input(), request.POST.get("reason", "")
            )
        except services.InvalidInput as error:
            form.add_error(None, str(error))
        except services.Conflict as error:
            messages.error(request, str(error))
            return redirect("precursors:notification", old.pk)
        else:
            messages.success(
                request, f"{row.reference} version {row.version} sent; the reply clock restarted."
            )
            return redirect("precursors:notification", row.pk)
    return render(request, "precursors/notification_form.html", {"form": form, "amending": old})


@_guarded
def notification_detail(request: HttpRequest, notification_id: int) -> HttpResponse:
    row = queries.notification(request.user, notification_id)
    now = timezone.now()
    actions = set(queries.actions_for(request.user, row, now))
    answers = [
        (value, label)
        for value, label in Notification.Answer.choices
        if services.ANSWER_ACTIONS[value] in actions
    ]
    return render(
        request,
        "precursors/notification_detail.html",
        {
            "n": row,
            "now": now,
            "overdue": queries.is_overdue(row, now),
            "itinerary": row.itinerary.select_related("country"),
            "others": row.other_operators.select_related("country"),
            "events": row.events.all(),
            "versions": queries.versions(request.user, row.reference),
            "answers": answers,
            "answer_form": forms.AnswerForm(),
            "may_send": Action.SEND in actions,
            "may_amend": Action.AMEND in actions,
            "may_ship": Action.RECORD_SHIPMENT in actions,
            "may_cancel": Action.CANCEL in actions,
        },
    )


@_guarded
@require_POST
def notification_action(request: HttpRequest, notification_id: int, action: str) -> HttpResponse:
    try:
        if action == "answer":
            form = forms.AnswerForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose an answer.")
                return redirect("precursors:notification", notification_id)
            row = services.answer_notification(
                request.user, notification_id, form.cleaned_data["answer"], form.cleaned_data["text"]
            )
            messages.success(request, f"Answer recorded: {row.get_answer_display()}.")
        elif action == "send":
            row = services.send_notification(request.user, notification_id)
            messages.success(
                request, f"Sent. The importing country answers before {row.deadline:%Y-%m-%d %H:%M} UTC."
            )
        elif action == "ship":
            services.record_shipment(request.user, notification_id)
            messages.success(request, "Shipment recorded.")
        elif action == "cancel":
            services.cancel_notification(request.user, notification_id, request.POST.get("reason", ""))
            messages.success(request, "Notification cancelled.")
        else:
            raise Http404("unknown action")
    except services.Conflict as error:
        messages.error(request, f"Not done: {error}")
    except services.InvalidInput as error:
        messages.error(request, str(error))
    return redirect("precursors:notification", notification_id)


# Incidents ------------------------------------------------------------------------------------------


@_guarded
def incident_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    return render(
        request,
        "precursors/incident_list.html",
        {
            "page": _page(request, queries.incidents(request.user)),
            "may_report": policy.allows(request.user, "precursors.report"),
            "unread": queries.unread_alert_count(request.user),
            "tab": "incidents",
        },
    )


@_guarded
def incident_new(request: HttpRequest) -> HttpResponse:
    reporting = _own_countries(request, "precursors.report")
    if not reporting:
        raise policy.PermissionDenied("precursors.report")
    form = forms.IncidentForm(request.POST or None, reporting=reporting)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.report_incident(request.user, form.to_input())
        except services.InvalidInput as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{row.reference} reported; every country involved has been alerted.")
            return redirect("precursors:incident", row.pk)
    return render(request, "precursors/incident_form.html", {"form": form})


@_guarded
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    row = queries.incident(request.user, incident_id)
    form = forms.MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_incident_message(request.user, row.pk, form.cleaned_data["body"])
        except services.InvalidInput as error:
            form.add_error("body", str(error))
        else:
            messages.success(request, "Message posted; the other countries involved have been alerted.")
            return redirect("precursors:incident", row.pk)
    involved = services.involved_country_ids(row)
    may_post = policy.allows_globally(request.user, "precursors.registry") or bool(
        involved & policy.reach(request.user, "precursors.report").by_country
    )
    return render(
        request,
        "precursors/incident_detail.html",
        {
            "i": row,
            "chemicals": row.chemicals.select_related("unit"),
            "route": row.route.select_related("country"),
            "parties": row.parties.select_related("operator__country", "operator__nationality"),
            "involvements": row.involvements.select_related("country").order_by("country__name", "basis"),
            "thread": row.messages.select_related("country"),
            "form": form,
            "may_post": may_post,
            "modus_labels": [Incident.ModusOperandi(code).label for code in row.modus_operandi],
        },
    )


# Alerts ---------------------------------------------------------------------------------------------


@_guarded
def alert_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    if request.method == "POST":
        if "all" in request.POST:
            services.mark_all_alerts_read(request.user)
        elif alert_id := request.POST.get("alert"):
            services.mark_alert_read(request.user, int(alert_id))
        return redirect("precursors:alerts")
    return render(
        request,
        "precursors/alerts.html",
        {
            "page": _page(request, queries.alerts(request.user)),
            "unread": queries.unread_alert_count(request.user),
            "tab": "alerts",
        },
    )


# The board ------------------------------------------------------------------------------------------


@_guarded
def patterns(request: HttpRequest) -> HttpResponse:
    report = queries.pattern_report(request.user)
    return render(request, "precursors/patterns.html", {"report": report, "tab": "patterns"})


@_guarded
def registry(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    may_edit = policy.allows_globally(request.user, "precursors.registry")
    form = forms.RequirementForm(request.POST or None)
    if request.method == "POST":
        if not may_edit:
            raise policy.PermissionDenied("precursors.registry")
        if "delete" in request.POST:
            services.delete_requirement(request.user, int(request.POST["delete"]))
            messages.success(request, "Entry removed.")
            return redirect("precursors:registry")
        if form.is_valid():
            substance = form.cleaned_data.get("substance")
            row = services.set_requirement(
                request.user,
                form.cleaned_data["importing_country"].iso3,
                substance.pk if substance else None,
                form.cleaned_data["reply_period_days"],
                form.cleaned_data.get("legal_basis") or "",
            )
            messages.success(request, f"Saved: {row}.")
            return redirect("precursors:registry")
    return render(
        request,
        "precursors/registry.html",
        {
            "rows": queries.requirements(),
            "form": form,
            "may_edit": may_edit,
            "tab": "registry",
            "default_days": services.DEFAULT_REPLY_PERIOD_DAYS,
        },
    )


@_guarded
def special_alert_new(request: HttpRequest) -> HttpResponse:
    if not policy.allows_globally(request.user, "precursors.registry"):
        raise policy.PermissionDenied("precursors.registry")
    form = forms.SpecialAlertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        row = services.issue_special_alert(
            request.user,
            form.cleaned_data["title"],
            form.cleaned_data["body"],
            recipient_iso3=form.cleaned_data["recipients"],
            substance_name=form.cleaned_data.get("substance_name") or "",
            modus_operandi=form.cleaned_data.get("modus_operandi") or [],
        )
        messages.success(request, f"Special alert issued to {row.recipients.count()} countries.")
        return redirect("precursors:alerts")
    return render(request, "precursors/special_alert_form.html", {"form": form})
