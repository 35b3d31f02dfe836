"""Analysis pages: thin — parse, call a query, a calculator or a service, render (charts as SVG)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from observatory.access import policy
from observatory.analysis import calculators, charts, comparability, queries, services
from observatory.analysis.exports import table_response
from observatory.analysis.forms import (
    CaptureRecaptureForm,
    EstimateRunForm,
    LogLinearForm,
    MortalityMultiplierForm,
    MultiplierForm,
    OutlierForm,
    QuestionnaireOutlierForm,
    SaveEstimateForm,
)
from observatory.analysis.kernels.regional import EstimationParameters
from observatory.analysis.models import SeizureTrend
from observatory.analysis.national import NationalDataUnavailable
from observatory.reporting import catalog

View = Callable[..., HttpResponse | StreamingHttpResponse]


def needs(verb: str) -> Callable[[View], View]:
    """Signed in (else redirect to sign-in) and holding ``verb`` somewhere (else 403)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | StreamingHttpResponse:
            if not policy.allows(request.user, verb):
                raise PermissionDenied(verb)
            try:
                return view(request, *args, **kwargs)
            except policy.PermissionDenied as error:
                raise PermissionDenied(error.verb) from error

        return wrapped

    return decorate


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "analysis/index.html",
        {
            "may_run": policy.allows(request.user, "analysis.run"),
            "may_estimate": policy.allows(request.user, "analysis.estimate"),
        },
    )


# --- seizure trends ---------------------------------------------------------------------------------------


@needs("analysis.run")
def trends(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    group = request.GET.get("group") or None
    region = request.GET.get("region") or None
    basis = request.GET.get("basis") or SeizureTrend.Basis.ANNEX
    if basis not in SeizureTrend.Basis.values:
        basis = SeizureTrend.Basis.ANNEX
    points = queries.seizure_trends(request.user, basis=basis, drug_group=group, region=region)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return table_response(
            ["drug_group", "drug_group_name", "region", "year", "kilograms", "reports", "cases", "countries"],
            [
                [
                    p.drug_group,
                    p.drug_group_name,
                    p.region,
                    p.year,
                    p.kilograms,
                    p.reports,
                    p.cases,
                    p.countries,
                ]
                for p in points
            ],
            "seizure-trends",
            fmt,
        )
    groups = sorted({(p.drug_group, p.drug_group_name) for p in points})
    regions = sorted({p.region for p in points})
    by_group: dict[str, dict[int, float]] = {}
    names = dict(groups)
    for p in points:
        series = by_group.setdefault(names[p.drug_group], {})
        series[p.year] = series.get(p.year, 0.0) + p.kilograms
    by_region: dict[str, dict[int, float]] = {}
    for p in points:
        series = by_region.setdefault(p.region, {})
        series[p.year] = series.get(p.year, 0.0) + p.kilograms
    if not group and not region:
        # unfiltered: one row per drug group and year (all regions), the detail is one click away
        totals: dict[tuple[str, int], list[float]] = {}
        for p in points:
            total = totals.setdefault((p.drug_group, p.year), [0.0, 0, 0, 0])
            total[0] += p.kilograms
            total[1] += p.reports
            total[2] += p.cases
            total[3] += p.countries
        table = [
            {"drug_group": code, "drug_group_name": names[code], "region": "all regions", "year": year,
             "kilograms": kg, "reports": int(reports), "cases": int(cases), "countries": int(countries)}
            for (code, year), (kg, reports, cases, countries) in sorted(totals.items())
        ]  # fmt: skip
    else:
        table = [p.__dict__ for p in points]
    scope = f" — {names.get(group, group)}" if group else ""
    group_chart = charts.line_chart(
        {name: sorted(values.items()) for name, values in sorted(by_group.items())},
        title=f"Kilograms seized by drug group{' in ' + region if region else ''}",
        y_label="kilograms",
    )
    region_chart = charts.line_chart(
        {name: sorted(values.items()) for name, values in sorted(by_region.items())},
        title=f"Kilograms seized by region{scope}",
        y_label="kilograms",
    )
    return render(
        request,
        "analysis/trends.html",
        {
            "points": points,
            "table": table,
            "group": group,
            "region": region,
            "basis": basis,
            "bases": SeizureTrend.Basis.choices,
            "all_groups": groups if not group else [],
            "regions": regions,
            "group_chart": mark_safe(group_chart),  # noqa: S308 - built by charts.py with every text escaped
            "region_chart": mark_safe(region_chart),  # noqa: S308
            "query": request.GET.urlencode(),
        },
    )


# --- outliers ---------------------------------------------------------------------------------------------


@needs("analysis.run")
def outliers(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    years = queries.seizure_years(request.user)
    initial = {"year": years[-1] if years else 2023, "method": "modified_z_score"}
    form = OutlierForm(request.GET or initial)
    report = None
    error = ""
    if form.is_valid():
        try:
            report = queries.seizure_outliers(
                request.user,
                form.cleaned_data["year"],
                method=form.cleaned_data["method"],
                drug_group=form.cleaned_data["drug_group"] or None,
            )
        except queries.QueryTimeout as timeout:
            error = f"The outlier query was stopped: {timeout}. Narrow it to one drug group."
        if report is not None and request.GET.get("format") in ("csv", "xlsx"):
            return table_response(
                [
                    "rank",
                    "iso3",
                    "country",
                    "drug_group",
                    "year",
                    "kilograms",
                    "score",
                    "is_outlier",
                    "peers",
                ],
                [
                    [
                        r.rank,
                        r.iso3,
                        r.country,
                        r.drug_group,
                        r.year,
                        r.kilograms,
                        r.score,
                        r.is_outlier,
                        r.peers,
                    ]
                    for r in report.rows
                ],
                f"seizure-outliers-{report.year}",
                str(request.GET["format"]),
            )
    return render(
        request,
        "analysis/outliers.html",
        {"form": form, "report": report, "error": error, "query": request.GET.urlencode()},
    )


QUESTIONNAIRE_OUTLIER_HEADER = [
    "rank", "iso3", "country", "submission_id", "status", "module", "question", "question_label", "dims",
    "field", "value", "unit", "compared_as", "compared_value", "group_median", "peers", "score",
    "is_outlier", "method", "transform",
]  # fmt: skip
PAGE_ROWS = 300


@needs("analysis.run")
def questionnaire_outliers(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Outliers over every numeric value of a year's questionnaire submissions in the user's scope."""
    years = queries.questionnaire_years(request.user)
    modules = [(module.code, module.title) for module in catalog.instrument().modules]
    initial = {
        "year": years[-1] if years else None,
        "method": "modified_z_score",
        "stage": queries.DEFAULT_STAGE,
        "scale": "log",
    }
    # what the request leaves out keeps its default, so ?year=2024 alone is a complete request
    data = {**initial, **{key: value for key, value in request.GET.items() if key != "format"}}
    form = QuestionnaireOutlierForm(data, years=years, modules=modules)
    report = None
    error = ""
    if years and form.is_valid():
        try:
            report = queries.questionnaire_outliers(
                request.user,
                form.cleaned_data["year"],
                method=form.cleaned_data["method"],
                stage=form.cleaned_data["stage"],
                module=form.cleaned_data["module"] or None,
                log_scale=form.cleaned_data["scale"] == "log",
                limit=None if request.GET.get("format") in ("csv", "xlsx") else PAGE_ROWS,
            )
        except queries.QueryTimeout as timeout:
            error = f"The outlier query was stopped: {timeout}. Narrow it to one module."
        fmt = request.GET.get("format")
        if report is not None and fmt in ("csv", "xlsx"):
            return table_response(
                QUESTIONNAIRE_OUTLIER_HEADER,
                [[getattr(row, name) for name in QUESTIONNAIRE_OUTLIER_HEADER] for row in report.rows],
                f"questionnaire-outliers-{report.year}",
                str(fmt),
            )
    return render(
        request,
        "analysis/questionnaire_outliers.html",
        {
            "form": form,
            "years": years,
            "report": report,
            "page_rows": PAGE_ROWS,
            "error": error,
            "per_capita_questions": sorted(comparability.PER_CAPITA_QUESTIONS),
            "query": urlencode({key: value for key, value in data.items() if value is not None}),
        },
    )


# --- regional and global estimates -----------------------------------------------------------------------


@needs("analysis.run")
def estimates(request: HttpRequest) -> HttpResponse:
    form = EstimateRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        exclude = [code.strip() for code in form.cleaned_data["exclude"].split(",") if code.strip()]
        try:
            run = services.run_regional_estimate(
                request.user,
                form.cleaned_data["drug_code"],
                form.cleaned_data["year"],
                EstimationParameters(minimum_coverage=form.cleaned_data["minimum_coverage"]),
                exclude=exclude,
            )
        except policy.PermissionDenied as denied:
            raise PermissionDenied(denied.verb) from denied
        except (NationalDataUnavailable, ValueError) as problem:
            form.add_error(None, str(problem))
        else:
            return redirect("analysis:estimate_run", run_id=run.pk)
    runs = queries.estimate_runs(request.user)[:50]
    return render(
        request,
        "analysis/estimates.html",
        {"form": form, "runs": runs, "may_run": policy.allows_globally(request.user, "analysis.run")},
    )


def _with_percent(row: dict[str, Any]) -> dict[str, Any]:
    def pct(value: float | None) -> float | None:
        return None if value is None else value * 100.0

    return {
        **row,
        "best_pct": pct(row.get("prevalence_best")),
        "low_pct": pct(row.get("prevalence_low")),
        "high_pct": pct(row.get("prevalence_high")),
    }


def _aggregate_bars(rows: list[dict[str, Any]]) -> list[charts.RangeBar]:
    return [
        charts.RangeBar(
            label=row["name"],
            best=row["users_best"],
            low=row["users_low"],
            high=row["users_high"],
            note=f"coverage {row['coverage']:.0%}" + (" · range only" if row["range_only"] else ""),
        )
        for row in rows
    ]


@needs("analysis.run")
def estimate_run(request: HttpRequest, run_id: int) -> HttpResponse | StreamingHttpResponse:
    run = get_object_or_404(queries.estimate_runs(request.user), pk=run_id)
    output = run.output
    region = request.GET.get("region") or None
    subregion = request.GET.get("subregion") or None
    countries = queries.visible_country_rows(request.user, run)
    if subregion:
        level, rows = "countries", [row for row in countries if row["subregion"] == subregion]
        parent = next((row for row in output["subregions"] if row["name"] == subregion), None)
    elif region:
        level, rows = "subregions", [row for row in output["subregions"] if row["parent"] == region]
        parent = next((row for row in output["regions"] if row["name"] == region), None)
    else:
        level, rows = "regions", list(output["regions"])
        parent = output["world"]
    if parent is None:
        raise PermissionDenied("no such region")
    parent = _with_percent(parent)
    rows = [_with_percent(row) for row in rows]
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        header = [
            "iso3", "name", "subregion", "region", "status", "method", "population_15_64",
            "prevalence_best", "prevalence_low", "prevalence_high", "users_best", "users_low", "users_high",
        ]  # fmt: skip
        return table_response(
            header,
            [[row[key] for key in header] for row in countries],
            f"estimate-{run.drug_code}-{run.year}-run{run.pk}",
            fmt,
        )
    if level == "countries":
        bars = [
            charts.RangeBar(
                row["name"], row["users_best"], row["users_low"], row["users_high"], row["status"]
            )
            for row in rows
        ]
    else:
        bars = _aggregate_bars(rows)
    chart = charts.range_chart(
        bars,
        title=f"People who used {run.drug_code} in the past year (15–64), {run.year}: "
        + (subregion or region or "regions of the world"),
        unit="people",
    )
    trail = [
        step
        for step in output["adjustment_trail"]
        if not subregion or step["iso3"] in {r["iso3"] for r in rows}
    ]
    return render(
        request,
        "analysis/estimate_run.html",
        {
            "run": run,
            "output": output,
            "level": level,
            "rows": rows,
            "parent": parent,
            "region": region or (parent.get("parent") if subregion else None),
            "subregion": subregion,
            "chart": mark_safe(chart),  # noqa: S308 - built by charts.py with every text escaped
            "trail": trail[:400],
            "inputs_json": json.dumps(run.parameters, indent=2, ensure_ascii=False),
        },
    )


# --- hidden-population calculators ------------------------------------------------------------------------

CALCULATOR_FORMS = {
    calculators.CAPTURE_RECAPTURE: CaptureRecaptureForm,
    calculators.LOGLINEAR: LogLinearForm,
    calculators.BENCHMARK_MULTIPLIER: MultiplierForm,
    calculators.MORTALITY_MULTIPLIER: MortalityMultiplierForm,
}


@needs("analysis.estimate")
def hidden_population(request: HttpRequest) -> HttpResponse:
    method = request.POST.get("calculator", "")
    forms = {
        name: (form_class(request.POST, prefix=name) if method == name else form_class(prefix=name))
        for name, form_class in CALCULATOR_FORMS.items()
    }
    result = None
    error = ""
    if method in forms and forms[method].is_valid():
        form = forms[method]
        try:
            result = calculators.calculate(method, form.inputs())  # type: ignore[attr-defined]
        except ValueError as problem:
            error = str(problem)
    reach = policy.reach(request.user, "analysis.estimate")
    home = ""
    if not reach.everywhere and len(reach.by_country) == 1:
        from observatory.reference.models import Country

        home = Country.objects.get(pk=next(iter(reach.by_country))).iso3
    save_form = SaveEstimateForm(initial={"country": home, "year": 2023})
    return render(
        request,
        "analysis/hidden_population.html",
        {
            "forms": forms,
            "method": method,
            "result": result,
            "error": error,
            "save_form": save_form,
            "inputs_json": json.dumps(result.inputs) if result else "",
            "estimates": queries.country_estimates(request.user)[:50],
        },
    )


@needs("analysis.estimate")
@require_POST
def save_estimate(request: HttpRequest) -> HttpResponse:
    form = SaveEstimateForm(request.POST)
    method = request.POST.get("method", "")
    try:
        inputs = json.loads(request.POST.get("inputs", "{}"))
    except json.JSONDecodeError:
        inputs = None
    if not form.is_valid() or not isinstance(inputs, dict):
        messages.error(request, "The estimate was not saved: check the country, drug, population and year.")
        return redirect("analysis:hidden_population")
    try:
        estimate = services.save_country_estimate(
            request.user,
            country_iso3=form.cleaned_data["country"],
            drug_code=form.cleaned_data["drug_code"],
            population=form.cleaned_data["population"],
            year=form.cleaned_data["year"],
            method=method,
            inputs=inputs,
            notes=form.cleaned_data["notes"],
        )
    except ValueError as problem:
        messages.error(request, f"The estimate was not saved: {problem}")
        return redirect("analysis:hidden_population")
    messages.success(
        request, f"Saved estimate #{estimate.pk} for {estimate.country.iso3}: {estimate.estimate:,.0f}."
    )
    return redirect("analysis:hidden_population")
