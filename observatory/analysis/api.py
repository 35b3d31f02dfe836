"""Analysis API: seizure trends and outliers, questionnaire outliers, regional/global estimate runs, hidden-population
calculators and saved country estimates. Every endpoint needs a signed-in caller; data are scoped."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from observatory.access import policy
from observatory.analysis import calculators, queries, services
from observatory.analysis.kernels.capture_recapture import CHAPMAN
from observatory.analysis.kernels.outliers import MODIFIED_Z_SCORE
from observatory.analysis.kernels.regional import EstimationParameters
from observatory.analysis.national import NationalDataUnavailable
from observatory.api import AUTH

router = Router(tags=["analysis"], auth=AUTH)


def _require_any(request: HttpRequest, verb: str) -> None:
    if not policy.allows(request.user, verb):
        raise policy.PermissionDenied(verb)


class TrendOut(Schema):
    drug_group: str
    drug_group_name: str
    region: str
    year: int
    kilograms: float
    reports: int
    cases: int
    countries: int


@router.get(
    "/seizure-trends", response=list[TrendOut], summary="Seizure trends by drug group × region × year"
)
def seizure_trends(
    request: HttpRequest,
    group: str | None = None,
    region: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    basis: Literal["annex", "cases"] = "annex",
) -> Any:
    """Kilograms (components only: reported totals and plant counts excluded), reports and cases, summed
    over the countries in the caller's scope; ``basis`` chooses the annex statistics or individual cases."""
    _require_any(request, "analysis.run")
    return queries.seizure_trends(
        request.user, basis=basis, drug_group=group, region=region, year_from=year_from, year_to=year_to
    )


class OutlierRowOut(Schema):
    rank: int
    iso3: str
    country: str
    drug_group: str
    year: int
    kilograms: float
    score: float
    is_outlier: bool
    peers: int


class OutlierReportOut(Schema):
    year: int
    method: str
    threshold: float
    transform: str
    timeout_ms: int
    rows: list[OutlierRowOut]


@router.get("/seizure-outliers", response=OutlierReportOut, summary="Ranked outliers of a year")
def seizure_outliers(
    request: HttpRequest,
    year: int,
    method: str = MODIFIED_Z_SCORE,
    group: str | None = None,
    threshold: float | None = None,
) -> Any:
    """Scores (z_score, modified_z_score or min_max) of each country's kilograms against the other
    countries of the same drug group and year; 503 if the query runs past its statement timeout."""
    _require_any(request, "analysis.run")
    try:
        return queries.seizure_outliers(
            request.user, year, method=method, drug_group=group, threshold=threshold
        )
    except ValueError as error:
        raise HttpError(422, str(error)) from error
    except queries.QueryTimeout as error:
        raise HttpError(503, str(error)) from error


class QuestionnaireOutlierRowOut(Schema):
    rank: int
    iso3: str
    country: str
    submission_id: int
    status: str
    module: str
    question: str
    question_label: str
    dims: str
    field: str
    value: float
    unit: str
    compared_as: str
    compared_value: float
    group_median: float
    peers: int
    score: float
    is_outlier: bool
    method: str
    transform: str


class QuestionnaireOutlierReportOut(Schema):
    year: int
    method: str
    threshold: float
    stage: str
    statuses: list[str]
    log_scale: bool
    min_peers: int
    timeout_ms: int
    submissions: int
    values: int
    groups: int
    not_scored: dict[str, int]
    ranked: int
    rows: list[QuestionnaireOutlierRowOut]


@router.get(
    "/questionnaire-outliers",
    response=QuestionnaireOutlierReportOut,
    summary="Ranked outliers over the questionnaire values of a year",
)
def questionnaire_outliers(
    request: HttpRequest,
    year: int,
    method: str = MODIFIED_Z_SCORE,
    stage: Literal["submitted", "validated"] = "submitted",
    module: str | None = None,
    scale: Literal["log", "linear"] = "log",
    threshold: float | None = None,
    min_peers: int = 3,
    limit: int = 1000,
) -> Any:
    """Every numeric value of the year's questionnaire submissions in the caller's scope (``stage``
    ``submitted``: submitted, under review, validated and approved; ``validated``: validated and approved;
    drafts never), scored against the other countries' values of the same question, field and unit
    (counts of people and deaths per 100,000 aged 15–64) and ranked. ``rows`` holds the ``limit`` most
    unusual (at most 100,000), ``ranked`` how many were ranked; 503 past the statement timeout."""
    _require_any(request, "analysis.run")
    if not 1 <= limit <= 100_000:
        raise HttpError(422, "limit must be between 1 and 100000")
    try:
        return queries.questionnaire_outliers(
            request.user,
            year,
            method=method,
            threshold=threshold,
            stage=stage,
            module=module or None,
            log_scale=scale == "log",
            min_peers=min_peers,
            limit=limit,
        )
    except ValueError as error:
        raise HttpError(422, str(error)) from error
    except queries.QueryTimeout as error:
        raise HttpError(503, str(error)) from error


class RunSummaryOut(Schema):
    id: int
    drug_code: str
    year: int
    world_users_best: float | None
    world_users_low: float
    world_users_high: float
    world_coverage: float
    created_at: datetime


class RunOut(RunSummaryOut):
    parameters: dict[str, Any]
    methods: dict[str, Any]
    world: dict[str, Any]
    regions: list[dict[str, Any]]
    subregions: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    period_ratios: dict[str, Any]
    adjustment_trail: list[dict[str, Any]]


class RunIn(Schema):
    drug_code: str
    year: int
    minimum_coverage: float = 0.5
    imputation_low_percentile: float = 10.0
    imputation_high_percentile: float = 90.0
    period_ratio_statistic: str = "median"
    exclude: list[str] = []


def _run_out(request: HttpRequest, run: Any) -> dict[str, Any]:
    output = run.output
    return {
        "id": run.pk,
        "drug_code": run.drug_code,
        "year": run.year,
        "world_users_best": run.world_users_best,
        "world_users_low": run.world_users_low,
        "world_users_high": run.world_users_high,
        "world_coverage": run.world_coverage,
        "created_at": run.created_at,
        "parameters": run.parameters,
        "methods": run.methods,
        "world": output["world"],
        "regions": output["regions"],
        "subregions": output["subregions"],
        "countries": queries.visible_country_rows(request.user, run),
        "period_ratios": output["period_ratios"],
        "adjustment_trail": output["adjustment_trail"],
    }


@router.get("/estimate-runs", response=list[RunSummaryOut], summary="Stored regional/global estimate runs")
def list_runs(request: HttpRequest, drug_code: str | None = None, year: int | None = None) -> Any:
    _require_any(request, "analysis.run")
    runs = queries.estimate_runs(request.user)
    if drug_code:
        runs = runs.filter(drug_code=drug_code)
    if year is not None:
        runs = runs.filter(year=year)
    return runs[:200]


@router.get(
    "/estimate-runs/{run_id}", response=RunOut, summary="One run: world, regions, subregions, countries"
)
def get_run(request: HttpRequest, run_id: int) -> Any:
    _require_any(request, "analysis.run")
    return _run_out(request, get_object_or_404(queries.estimate_runs(request.user), pk=run_id))


@router.post("/estimate-runs", response={201: RunOut}, summary="Run and store a regional/global estimate")
def create_run(request: HttpRequest, payload: RunIn) -> Any:
    """National values come from the reporting app; 409 when none are available."""
    try:
        parameters = EstimationParameters(
            minimum_coverage=payload.minimum_coverage,
            imputation_low_percentile=payload.imputation_low_percentile,
            imputation_high_percentile=payload.imputation_high_percentile,
            period_ratio_statistic=payload.period_ratio_statistic,
        )
        run = services.run_regional_estimate(
            request.user, payload.drug_code, payload.year, parameters, exclude=payload.exclude
        )
    except NationalDataUnavailable as error:
        raise HttpError(409, str(error)) from error
    except ValueError as error:
        raise HttpError(422, str(error)) from error
    return Status(201, _run_out(request, run))


class CalculatorOut(Schema):
    method: str
    estimate: float
    low: float | None
    high: float | None
    confidence: float | None
    interval_method: str
    assumptions: list[str]
    inputs: dict[str, Any]
    details: dict[str, Any]


class CaptureRecaptureIn(Schema):
    n1: int
    n2: int
    m: int
    estimator: str = CHAPMAN
    confidence: float = 0.95


class LogLinearIn(Schema):
    cells: dict[str, int]
    confidence: float = 0.95


class MultiplierIn(Schema):
    benchmark: float
    proportion: float
    proportion_low: float | None = None
    proportion_high: float | None = None
    sample_size: int | None = None
    confidence: float = 0.95


class MortalityIn(Schema):
    deaths: float
    mortality_rate: float
    rate_low: float | None = None
    rate_high: float | None = None


def _calculate(request: HttpRequest, method: str, inputs: dict[str, Any]) -> dict[str, Any]:
    _require_any(request, "analysis.estimate")
    try:
        return calculators.calculate(method, inputs).as_dict()
    except ValueError as error:
        raise HttpError(422, str(error)) from error


@router.post("/estimators/capture-recapture", response=CalculatorOut, summary="Two-source capture–recapture")
def capture_recapture(request: HttpRequest, payload: CaptureRecaptureIn) -> Any:
    return _calculate(request, calculators.CAPTURE_RECAPTURE, payload.dict())


@router.post("/estimators/loglinear", response=CalculatorOut, summary="Log-linear models over three lists")
def loglinear(request: HttpRequest, payload: LogLinearIn) -> Any:
    return _calculate(request, calculators.LOGLINEAR, payload.dict())


@router.post("/estimators/multiplier", response=CalculatorOut, summary="Treatment/benchmark multiplier")
def multiplier(request: HttpRequest, payload: MultiplierIn) -> Any:
    return _calculate(request, calculators.BENCHMARK_MULTIPLIER, payload.dict())


@router.post("/estimators/mortality-multiplier", response=CalculatorOut, summary="Mortality multiplier")
def mortality(request: HttpRequest, payload: MortalityIn) -> Any:
    return _calculate(request, calculators.MORTALITY_MULTIPLIER, payload.dict())


class CountryEstimateIn(Schema):
    country: str
    drug_code: str
    population: str
    year: int
    method: str
    inputs: dict[str, Any]
    notes: str = ""


class CountryEstimateOut(Schema):
    id: int
    country: str
    drug_code: str
    population: str
    year: int
    method: str
    estimate: float
    low: float | None
    high: float | None
    assumptions: list[str]
    inputs: dict[str, Any]
    result: dict[str, Any]
    created_at: datetime

    @staticmethod
    def resolve_country(obj: Any) -> str:
        return str(obj.country.iso3)


@router.get(
    "/country-estimates", response=list[CountryEstimateOut], summary="Saved country estimates in scope"
)
def list_country_estimates(request: HttpRequest, country: str | None = None) -> Any:
    _require_any(request, "analysis.estimate")
    rows = queries.country_estimates(request.user)
    if country:
        rows = rows.filter(country__iso3=country.upper())
    return rows[:500]


@router.get(
    "/country-estimates/{estimate_id}", response=CountryEstimateOut, summary="One saved country estimate"
)
def get_country_estimate(request: HttpRequest, estimate_id: int) -> Any:
    _require_any(request, "analysis.estimate")
    return get_object_or_404(queries.country_estimates(request.user), pk=estimate_id)


@router.post("/country-estimates", response={201: CountryEstimateOut}, summary="Save a country estimate")
def create_country_estimate(request: HttpRequest, payload: CountryEstimateIn) -> Any:
    """The server recomputes the estimate from ``inputs``; 403 outside the caller's countries."""
    try:
        estimate = services.save_country_estimate(
            request.user,
            country_iso3=payload.country,
            drug_code=payload.drug_code,
            population=payload.population,
            year=payload.year,
            method=payload.method,
            inputs=payload.inputs,
            notes=payload.notes,
        )
    except ValueError as error:
        raise HttpError(422, str(error)) from error
    return Status(201, estimate)
