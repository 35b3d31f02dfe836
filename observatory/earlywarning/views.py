"""Early-warning pages: the registry, reporting an identification with its immediate assessment, a
substance's page, emergence (timeline, map, new this month), alerts; published alerts for the public.
Thin: parse, call a service or a query, render."""

from __future__ import annotations

import datetime as dt
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
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from observatory.access import policy
from observatory.earlywarning import forms, maps, queries, services
from observatory.earlywarning.chemistry.classes import SubstanceGroup
from observatory.earlywarning.models import Alert, Identification, Substance
from observatory.reference.models import Country

View = Callable[..., HttpResponseBase]
GROUP_LABELS = {g.value: g.label for g in SubstanceGroup}


def _guarded(view: View) -> View:
    """Signed in; policy refusals → 403; what the user may not see → 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except policy.PermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except (Substance.DoesNotExist, Identification.DoesNotExist, Alert.DoesNotExist) as error:
            raise Http404("not found") from error

    return wrapper


def _svg(svg: str) -> str:
    """The map is built from escaped parts in maps.py."""
    return mark_safe(svg)  # noqa: S308


def _countries_with(
    request: HttpRequest, verb: str, country_scope_only: bool = False
) -> list[tuple[str, str]]:
    granted = policy.reach(request.user, verb)
    rows = Country.objects.order_by("name")
    if not granted.everywhere:
        rows = rows.filter(pk__in=granted.by_country if country_scope_only else granted.country_ids)
    return [(c.iso3, f"{c.name} ({c.iso3})") for c in rows]


@_guarded
def registry(request: HttpRequest) -> HttpResponse:
    text, group = request.GET.get("q", ""), request.GET.get("group", "")
    rows = queries.substances(request.user, text, group)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "earlywarning/registry.html",
        {
            "page": page,
            "q": text,
            "group": group,
            "groups": [(g.value, g.label) for g in SubstanceGroup],
            "group_labels": GROUP_LABELS,
            "total": rows.count(),
            "may_report": policy.allows(request.user, "earlywarning.identify"),
            "unread": queries.unread_alert_count(request.user),
        },
    )


@_guarded
def report(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "earlywarning.identify")
    countries = _countries_with(request, "earlywarning.identify", country_scope_only=False)
    assessment: services.Assessment | None = None
    error = ""
    if request.method == "POST":
        form = forms.IdentificationForm(request.POST, countries=countries)
        if form.is_valid():
            data = form.cleaned_data
            try:
                assessment = services.report_identification(
                    request.user,
                    services.IdentificationInput(
                        country=data["country"],
                        structure=data["structure"],
                        names=form.names_list(),
                        cas=data["cas"],
                        date_found=data["date_found"],
                        place=data["place"],
                        matrix=data["matrix"],
                        analytical_method=data["analytical_method"],
                        key_data={"mz": services.parse_mz_list(data["mz"])} if data["mz"].strip() else {},
                        classification=data["classification"],
                    ),
                )
            except services.InvalidInput as invalid:
                field = "mz" if invalid.field == "key_data" else invalid.field
                if field in form.fields:
                    form.add_error(field, invalid.message)
                else:
                    error = str(invalid)
    else:
        form = forms.IdentificationForm(
            countries=countries, initial={"date_found": timezone.localdate().isoformat()}
        )
    return render(
        request,
        "earlywarning/report.html",
        {"form": form, "assessment": assessment, "error": error, "group_labels": GROUP_LABELS},
    )


@_guarded
def substance_detail(request: HttpRequest, substance_id: int) -> HttpResponse:
    entry = queries.substance(request.user, substance_id)
    when = dt.date.today()
    if request.GET.get("on"):
        try:
            when = dt.date.fromisoformat(request.GET["on"])
        except ValueError:
            messages.error(request, "The date must be YYYY-MM-DD; showing today.")
    structure = services.standardise(entry.canonical_smiles)
    control = queries.control_status(structure, entry, when)
    spread = queries.emergence(request.user, substance_id=entry.pk)
    return render(
        request,
        "earlywarning/substance.html",
        {
            "s": entry,
            "group_label": GROUP_LABELS.get(entry.substance_group, entry.substance_group),
            "control": control.as_dict(),
            "similar": queries.similar_substances(structure, k=8, exclude_inchikey=entry.inchikey),
            "relatives": queries.stereo_relatives(entry),
            "sightings": queries.sightings(request.user, entry),
            "alerts": queries.alerts(request.user).filter(substance=entry),
            "map_svg": _svg(maps.spread_map_svg(spread.first_year_by_country, f"Spread of {entry.name}")),
            "on": when,
            "may_retract": policy.allows_globally(request.user, "earlywarning.alert"),
            "group_labels": GROUP_LABELS,
        },
    )


@_guarded
@require_POST
def substance_retract(request: HttpRequest, substance_id: int) -> HttpResponse:
    entry = queries.substance(request.user, substance_id)
    try:
        services.retract_substance(request.user, entry, request.POST.get("reason", ""))
    except (services.InvalidInput, services.Conflict) as error:
        messages.error(request, str(error))
        return redirect("earlywarning:substance", substance_id=entry.pk)
    messages.success(request, f"{entry.name} was retracted from the registry.")
    return redirect("earlywarning:registry")


@_guarded
def identification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.identifications(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "earlywarning/identifications.html", {"page": page})


@_guarded
def identification_detail(request: HttpRequest, identification_id: int) -> HttpResponse:
    row = queries.identification(request.user, identification_id)
    return render(request, "earlywarning/identification.html", {"i": row})


@_guarded
def emergence(request: HttpRequest) -> HttpResponse:
    data = queries.emergence(request.user)
    top = max((row["new_substances"] for row in data.timeline), default=0) or 1
    return render(
        request,
        "earlywarning/emergence.html",
        {
            "data": data,
            "timeline": [{**row, "width": round(100 * row["new_substances"] / top)} for row in data.timeline],
            "map_svg": _svg(
                maps.spread_map_svg(
                    data.first_year_by_country, "Year of the first NPS identification by country"
                )
            ),
            "group_labels": GROUP_LABELS,
        },
    )


@_guarded
def alert_list(request: HttpRequest) -> HttpResponse:
    rows = queries.alerts(request.user)
    read = queries.read_alert_ids(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "earlywarning/alerts.html",
        {"page": page, "read": read, "may_alert": policy.allows(request.user, "earlywarning.alert")},
    )


@_guarded
def alert_new(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "earlywarning.alert")
    substances = [(s.pk, s.name) for s in queries.substances(request.user)]
    countries = _countries_with(request, "earlywarning.alert")
    if request.method == "POST":
        form = forms.AlertForm(request.POST, substances=substances, countries=countries)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = services.issue_alert(
                    request.user,
                    services.AlertInput(
                        substance_id=data["substance"],
                        severity=data["severity"],
                        countries=list(data["countries"]),
                        title=data["title"],
                        message=data["message"],
                        evidence=data["evidence"],
                        published=data["published"],
                        public_summary=data["public_summary"],
                    ),
                )
            except services.InvalidInput as invalid:
                form.add_error(invalid.field if invalid.field in form.fields else None, invalid.message)
            else:
                messages.success(request, f"Alert issued to {row.recipients.count()} recipient(s).")
                return redirect("earlywarning:alert", alert_id=row.pk)
    else:
        form = forms.AlertForm(
            substances=substances, countries=countries, initial={"substance": request.GET.get("substance")}
        )
    return render(request, "earlywarning/alert_form.html", {"form": form})


@_guarded
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    row = queries.alert(request.user, alert_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "publish":
                services.publish_alert(request.user, row, request.POST.get("public_summary", ""))
                messages.success(request, "The public summary is published.")
            else:
                services.mark_alert_read(request.user, row)
        except (services.InvalidInput, services.Conflict) as error:
            messages.error(request, str(error))
        return redirect("earlywarning:alert", alert_id=row.pk)
    return render(
        request,
        "earlywarning/alert_detail.html",
        {
            "a": row,
            "is_read": row.pk in queries.read_alert_ids(request.user),
            "may_publish": not row.published
            and all(policy.allows(request.user, "earlywarning.alert", c) for c in row.countries.all()),
        },
    )


def public_alert_list(request: HttpRequest) -> HttpResponse:
    return render(request, "earlywarning/public_alerts.html", {"alerts": queries.public_alerts()})


def public_alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    try:
        row = queries.public_alert(alert_id)
    except Alert.DoesNotExist as error:
        raise Http404("not found") from error
    return render(request, "earlywarning/public_alert.html", {"a": row})
