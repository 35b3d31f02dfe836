"""Portal pages (public) and the office's release pages.

Public pages read only ``queries.released_observations``; a reviewer or analyst adds ``?preview=LABEL``
to see an unreleased snapshot exactly as the portal will show it (never cached).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook

from observatory.access import policy
from observatory.publication import http, portal, queries, services
from observatory.publication.kernels import charts
from observatory.publication.kernels.annex_xlsx import put
from observatory.publication.kernels.csv_safe import iter_safe_csv
from observatory.publication.models import Release
from observatory.publication.sdmx_build import sdmx_code
from observatory.reference.models import Country

WORLD_OUTLINES = str(Path(__file__).resolve().parent.parent / "reference" / "data" / "world_110m.geojson")


@dataclass
class Shown:
    """What a page shows: the release and its observations, and whether it is a private preview."""

    release: Release | None
    observations: portal.Observations
    preview: bool


def _shown(request: HttpRequest) -> Shown:
    now = timezone.now()
    label = request.GET.get("preview")
    if label:
        if not policy.allows(request.user, "publication.prepare"):
            raise PermissionDenied("previews are for those who prepare publications")
        release = Release.objects.filter(label=label).first()
        if release is None:
            raise Http404(f"no release {label}")
        return Shown(release, queries.preview_observations(request.user, release), True)
    wanted = request.GET.get("release")
    # Which release a page shows: the current one's stamp (no query within its short window, and
    # never past an embargo) or the named one's (kept once public); its header row (with the release
    # it corrects, without the large JSON columns) from the cache, since a public release never
    # changes. The observations are still read through ``released_observations``, the public gate.
    stamp = queries.public_release_stamp(wanted or None, now)
    if wanted and stamp is None:
        raise Http404(f"no public release {wanted}")
    release = queries.public_release_row(stamp) if stamp is not None else None
    return Shown(release, queries.released_observations(now, release=release), False)


def _render(request: HttpRequest, template: str, context: dict[str, Any], shown: Shown) -> HttpResponseBase:
    """Render with caching headers: public pages get an ETag and Cache-Control for anonymous readers;
    signed-in pages (the header names the user) and previews are private."""
    etag = http.etag_for(shown.release, request, "page")
    anonymous = not request.user.is_authenticated
    if anonymous and not shown.preview and http.matches(request, etag):
        return http.not_modified(etag)
    query = {"preview": shown.release.label} if shown.preview and shown.release else {}
    response = render(
        request,
        template,
        {
            **context,
            "release": shown.release,
            "preview": shown.preview,
            "preview_query": ("?" + urlencode(query)) if query else "",
            "preview_suffix": ("&" + urlencode(query)) if query else "",
        },
    )
    if anonymous and not shown.preview:
        return http.public_headers(response, etag, ("Cookie",))
    return http.private_headers(response)


SHORT_UNITS = {"PT": "%", "KG": "kg", "PERSONS": "people", "HA": "ha", "NUM": "number"}


def short_unit(meta: portal.Indicator) -> str:
    return SHORT_UNITS.get(meta.sdmx_unit, meta.unit)


def _coordinates() -> dict[str, tuple[float | None, float | None]]:
    return {
        iso3: (lat, lon) for iso3, lat, lon in Country.objects.values_list("iso3", "latitude", "longitude")
    }


@require_GET
def portal_home(request: HttpRequest) -> HttpResponseBase:
    shown = _shown(request)
    obs = shown.observations
    return _render(
        request,
        "publication/home.html",
        {
            "key_figures": portal.key_figures(obs),
            "drugs": portal.drugs(obs)[:12],
            "datasets": portal.DATASET_NAMES,
        },
        shown,
    )


@require_GET
def drug_page(request: HttpRequest, code: str) -> HttpResponseBase:
    shown = _shown(request)
    obs = shown.observations.filter(drug=code)
    if not obs.exists():
        raise Http404(f"no published figures for {code}")
    name = obs.values_list("drug_name", flat=True).first() or code
    charts_html: list[tuple[str, str, str]] = []
    estimates = portal.trend_series(obs, code, "users_past_year", ("world", "region"))
    if estimates:
        charts_html.append(
            (
                "People who used in the past year (15-64), world and regions, with ranges",
                charts.line_chart(
                    estimates, title=f"People who used {name}, world and regions", unit="people"
                ),
                "estimates",
            )
        )
    prevalence_estimates = portal.trend_series(obs, code, "prevalence_estimate", ("world", "region"))
    if prevalence_estimates:
        charts_html.append(
            (
                "Past-year prevalence (15-64), world and regions, with ranges",
                charts.line_chart(prevalence_estimates, title=f"Prevalence of {name} use", unit="%"),
                "estimates",
            )
        )
    seizure_trend = portal.regional_seizure_trend(obs, code)
    if seizure_trend:
        charts_html.append(
            (
                "Quantity seized by region (sum of national figures)",
                charts.line_chart(seizure_trend, title=f"{name}: kilograms seized by region", unit="kg"),
                "seizures",
            )
        )
    map_indicator = portal.map_indicator_for(obs, code)
    latest: list[portal.LatestRow] = []
    map_svg = ""
    meta = None
    if map_indicator:
        meta = portal.INDICATORS[map_indicator]
        latest = portal.latest_by_country(obs, code, map_indicator)
        link = reverse("publication:country", args=["ISO3"]) + shown_query(shown)
        map_svg = charts.choropleth(
            portal.map_values(latest, _coordinates(), link),
            charts.country_paths(WORLD_OUTLINES),
            title=f"{name}: {meta.name}, latest year per country",
            unit=short_unit(meta),
        )
    return _render(
        request,
        "publication/drug.html",
        {
            "code": code,
            "name": name,
            "charts": charts_html,
            "map_svg": map_svg,
            "map_indicator": meta,
            "latest": latest,
            "other_indicators": sorted(set(obs.order_by().values_list("indicator", flat=True).distinct())),
            "sdmx_drug": sdmx_code(code),
        },
        shown,
    )


def shown_query(shown: Shown) -> str:
    return f"?preview={shown.release.label}" if shown.preview and shown.release else ""


@require_GET
def country_page(request: HttpRequest, iso3: str) -> HttpResponseBase:
    shown = _shown(request)
    country = Country.objects.filter(iso3=iso3.upper()).select_related("wdr_region", "wdr_subregion").first()
    if country is None:
        raise Http404(f"no country {iso3}")
    series = portal.country_series(shown.observations, country.iso3)
    blocks = []
    for item in series:
        headline_rows = [r for r in item.rows if r.series_rank == 0]
        chart = ""
        if len(headline_rows) >= 2:
            chart = charts.line_chart(
                [
                    charts.ChartSeries(
                        country.name, [charts.Point(r.year, r.value, r.low, r.high) for r in headline_rows]
                    )
                ],
                title=f"{country.name}: {item.indicator.name}, {item.drug_name}",
                unit=short_unit(item.indicator),
                height=220,
            )
        blocks.append({"series": item, "chart": chart})
    region_context = []
    if country.wdr_region is not None:
        region_context = list(
            portal.headline(shown.observations)
            .filter(
                area_kind__in=("region", "subregion"),
                area_name__in=[country.wdr_region.name, getattr(country.wdr_subregion, "name", "")],
            )
            .filter(indicator="prevalence_estimate")
            .order_by("drug", "-year")[:40]
        )
    peers = []
    if country.wdr_subregion is not None:
        peers = list(
            Country.objects.filter(wdr_subregion=country.wdr_subregion)
            .exclude(pk=country.pk)
            .values_list("iso3", "name")
        )
    return _render(
        request,
        "publication/country.html",
        {"country": country, "blocks": blocks, "region_context": region_context, "peers": peers},
        shown,
    )


def _explorer_query(request: HttpRequest, choices: dict[str, Any]) -> portal.ExplorerQuery:
    indicators = [code for code, _ in choices["indicators"]]
    indicator = request.GET.get("indicator") or (
        "prevalence_past_year"
        if "prevalence_past_year" in indicators
        else (indicators[0] if indicators else "")
    )
    countries = tuple(
        sorted(
            {
                c.strip().upper()
                for value in request.GET.getlist("country")
                for c in value.split(",")
                if c.strip()
            }
        )
    )

    def year(name: str) -> int | None:
        text = request.GET.get(name, "").strip()
        return int(text) if text.isdigit() else None

    return portal.ExplorerQuery(
        indicator, request.GET.get("drug") or None, countries, year("from"), year("to")
    )


def _explorer_options(
    choices: dict[str, Any], query: portal.ExplorerQuery, release_pk: int | None
) -> dict[str, SafeString]:
    """The explorer form's option lists, built in one pass each: hundreds of areas and drugs would
    otherwise cost a good part of the page's time as template loops. The areas' list is the same for
    every request of a release (never changes): kept in the cache per release, as ``available`` is."""

    def options(items: list[tuple[str, str]], selected: str | None) -> SafeString:
        return mark_safe(  # noqa: S308 - every value escaped here
            "".join(
                f'<option value="{escape(code)}"{" selected" if code == selected else ""}>{escape(label)}</option>'
                for code, label in items
            )
        )

    key = f"publication:explorer-areas:{release_pk}"
    areas: str | None = cache.get(key) if release_pk is not None else None
    if areas is None:
        areas = str(options(choices["areas"], None))
        if release_pk is not None:
            cache.set(key, areas, 3600)
    return {
        "indicators": options(choices["indicators"], query.indicator),
        "drugs": options(choices["drugs"], query.drug),
        "areas": mark_safe(areas),  # noqa: S308 - built by ``options``, every value escaped
    }


def _figure(value: float | None, grouped: bool) -> str:
    """As ``floatformat:"-2"`` (with ``intcomma`` when grouped): no decimals for whole numbers, two
    otherwise; empty when missing."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}" if grouped else str(int(value))
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def _explorer_table(rows: list[portal.ExplorerRow], country_base: str, preview_query: str) -> SafeString:
    """The explorer's table body in one pass (up to 2,000 rows: a template loop would cost most of
    the request). Every text is escaped."""
    cells = []
    for r in rows:
        name = escape(r.area_name)
        if r.area_kind == "country":
            name = f'<a href="{escape(country_base + quote(r.area_code) + "/" + preview_query)}">{name}</a>'
        cells.append(
            f'<tr><th scope="row">{name}</th><td>{escape(r.drug_name)}</td><td class="num">{r.year}</td>'
            f'<td class="num">{_figure(r.value, True) or ".."}</td><td class="num">{_figure(r.low, False)}</td>'
            f'<td class="num">{_figure(r.high, False)}</td><td class="small">{escape(r.source)}</td>'
            f'<td class="small">{escape(r.method)}</td><td class="small">{escape(r.coverage)}</td></tr>'
        )
    return mark_safe("".join(cells))  # noqa: S308 - every value escaped above


@require_GET
def explorer(request: HttpRequest) -> HttpResponseBase:
    shown = _shown(request)
    choices = portal.available(
        shown.observations, None if shown.preview or shown.release is None else shown.release.pk
    )
    query = _explorer_query(request, choices)
    rows = portal.explorer_table_rows(portal.explorer_rows(shown.observations, query), 2000)
    meta = portal.INDICATORS.get(query.indicator)
    chart = ""
    if rows:
        chart = charts.line_chart(
            portal.explorer_chart(rows),
            title=f"{meta.name if meta else query.indicator}"
            + (f", {rows[0].drug_name}" if query.drug else ""),
            unit=short_unit(meta) if meta else "",
        )
    params = request.GET.copy()
    params.pop("format", None)
    download_query = params.urlencode()
    sdmx_url = ""
    if (
        meta
        and meta.code
        in (
            "prevalence_past_year",
            "prevalence_lifetime",
            "prevalence_past_month",
            "seizures_kg",
            "users_past_year",
            "prevalence_estimate",
            "cultivation_ha",
        )
        and not shown.preview
    ):
        flow = {
            "prevalence": "DF_PREVALENCE",
            "seizures": "DF_SEIZURES",
            "estimates": "DF_ESTIMATES",
            "cultivation": "DF_CULTIVATION",
        }[meta.dataset]
        key = ".".join(
            ["A", "+".join(query.countries), sdmx_code(meta.code), sdmx_code(query.drug or ""), ""]
        )
        period = "&".join(
            p
            for p in (
                f"startPeriod={query.year_from}" if query.year_from else "",
                f"endPeriod={query.year_to}" if query.year_to else "",
            )
            if p
        )
        sdmx_url = f"/sdmx/data/{flow}/{key}" + (f"?{period}" if period else "")
    return _render(
        request,
        "publication/explorer.html",
        {
            "options": _explorer_options(
                choices, query, None if shown.preview or shown.release is None else shown.release.pk
            ),
            "table": _explorer_table(
                rows,
                reverse("publication:country", args=["ISO3"]).replace("ISO3/", ""),
                shown_query(shown),
            ),
            "choices": choices,
            "query": query,
            "rows": rows,
            "meta": meta,
            "chart": chart,
            "download_query": download_query,
            "sdmx_url": sdmx_url,
            "truncated": len(rows) >= 2000,
        },
        shown,
    )


EXPORT_HEADER = (
    "release", "released_at", "dataset", "indicator", "area_code", "area_name", "region", "drug", "drug_name",
    "year", "value", "low", "high", "unit", "source", "method", "coverage", "notes", "report_rank",
)  # fmt: skip


def _export_rows(shown: Shown, query: portal.ExplorerQuery) -> list[tuple[Any, ...]]:
    released: datetime | None = shown.release.public_from if shown.release else None
    label = shown.release.label if shown.release else ""
    return [
        (
            label,
            released,
            row.dataset,
            row.indicator,
            row.area_code,
            row.area_name,
            row.region,
            row.drug,
            row.drug_name,
            row.year,
            row.value,
            row.low,
            row.high,
            row.unit,
            row.source,
            row.method,
            row.coverage,
            row.notes,
            row.series_rank,
        )
        for row in portal.explorer_rows(shown.observations, query, all_reports=True)
    ]


@require_GET
def explorer_download(request: HttpRequest, extension: str) -> HttpResponseBase:
    shown = _shown(request)
    query = _explorer_query(
        request,
        portal.available(
            shown.observations, None if shown.preview or shown.release is None else shown.release.pk
        ),
    )
    etag = http.etag_for(shown.release, request, extension)
    if not shown.preview and http.matches(request, etag):
        return http.not_modified(etag)
    rows = _export_rows(shown, query)
    name = f"drug-observatory-{query.indicator}-{shown.release.label if shown.release else 'none'}"
    response: HttpResponseBase
    if extension == "csv":
        response = StreamingHttpResponse(
            iter_safe_csv(EXPORT_HEADER, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "Data"
        for column, title in enumerate(EXPORT_HEADER, start=1):
            put(sheet, 1, column, title)
        for row_number, row in enumerate(rows, start=2):
            for column, value in enumerate(row, start=1):
                put(
                    sheet,
                    row_number,
                    column,
                    value.replace(tzinfo=None).isoformat() if isinstance(value, datetime) else value,
                )
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    if shown.preview:
        return http.private_headers(response)
    return http.public_headers(response, etag)


@require_GET
def release_list(request: HttpRequest) -> HttpResponseBase:
    now = timezone.now()
    releases = list(queries.public_releases(now).select_related("corrects"))
    shown = Shown(releases[0] if releases else None, queries.released_observations(now), False)
    return _render(request, "publication/releases.html", {"releases": releases}, shown)


@require_GET
def release_detail(request: HttpRequest, label: str) -> HttpResponseBase:
    now = timezone.now()
    release = queries.public_release(label, now)
    if release is None:
        raise Http404(f"no public release {label}")
    shown = Shown(release, queries.released_observations(now, release=release), False)
    counts = list(shown.observations.values_list("dataset").order_by("dataset").distinct())
    return _render(request, "publication/release.html", {"datasets": counts}, shown)


# ---------------------------------------------------------------------------------------------------
# Office: prepare, preview, schedule, release


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    if not policy.allows(request.user, "publication.prepare"):
        raise PermissionDenied("publication.prepare")
    releases = list(queries.all_releases(request.user))
    now = timezone.now()
    return render(
        request,
        "publication/manage.html",
        {
            "releases": [(r, services.is_public(r, now)) for r in releases],
            "may_release": policy.allows(request.user, "publication.release"),
            "datasets": services.DEFAULT_DATASETS,
            "public": [r for r in releases if services.is_public(r, now)],
        },
    )


@login_required
@require_POST
def manage_create(request: HttpRequest) -> HttpResponse:
    corrects = None
    if request.POST.get("corrects"):
        corrects = queries.public_release(request.POST["corrects"])
    try:
        release = services.create_release(
            request.user,
            request.POST.get("label", "").strip(),
            request.POST.get("title", "").strip() or request.POST.get("label", "").strip(),
            datasets=request.POST.getlist("datasets") or services.DEFAULT_DATASETS,
            corrects=corrects,
            change_notes=request.POST.get("change_notes", ""),
        )
    except policy.PermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except (services.ReleaseError, ValueError) as error:
        messages.error(request, str(error))
        return redirect("publication:manage")
    messages.success(request, f"Draft {release.label} built: {release.observation_count} figures.")
    return redirect("publication:manage")


@login_required
@require_POST
def manage_action(request: HttpRequest, label: str, action: str) -> HttpResponse:
    release = queries.all_releases(request.user).filter(label=label).first()
    if release is None:
        raise Http404(label)
    try:
        if action == "release":
            services.publish_release(request.user, release, request.POST.get("reason", ""))
            messages.success(request, f"{label} is released.")
        elif action == "schedule":
            moment = parse_datetime(request.POST.get("embargo_until", ""))
            if moment is None:
                raise services.ReleaseError("give the embargo time as YYYY-MM-DD HH:MM (UTC)")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
            services.schedule_release(request.user, release, moment, request.POST.get("reason", ""))
            messages.success(request, f"{label} is embargoed until {moment:%Y-%m-%d %H:%M:%S} UTC.")
        elif action == "withdraw":
            services.withdraw_schedule(request.user, release, request.POST.get("reason", ""))
            messages.success(request, f"{label} is back to draft.")
        elif action == "delete":
            services.delete_draft(request.user, release, request.POST.get("reason", ""))
            messages.success(request, f"Draft {label} discarded.")
        else:
            raise Http404(action)
    except policy.PermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except services.ReleaseError as error:
        messages.error(request, str(error))
    return redirect("publication:manage")
