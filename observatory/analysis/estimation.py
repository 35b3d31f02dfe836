"""Assembling the inputs of one regional/global estimate and laying its output out for storage.

Pure functions over plain data (national rows, the country frame, saved country estimates): the service
reads those from the database, this module decides which value each country contributes and records
why, calls the regional kernel, and turns the result into JSON that reproduces every figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from observatory.analysis.calculators import json_safe
from observatory.analysis.kernels.regional import (
    IMPUTED,
    PAST_YEAR,
    REFERENCE_PERIODS,
    CountryInput,
    EstimationParameters,
    NationalValue,
    PeriodPair,
    RegionalEstimate,
    estimate_regional_prevalence,
)
from observatory.analysis.national import NationalPrevalence

REPORTED_ESTIMATE = "reported_estimate"
DATA_SELECTION = "latest_value_in_or_before_year_past_year_preferred"


@dataclass(frozen=True)
class CountryFrame:
    """A country of the estimation universe: WDR placement and population aged 15–64 in the year."""

    iso3: str
    name: str
    subregion: str
    region: str
    population_15_64: float


@dataclass(frozen=True)
class SavedEstimate:
    """A saved country estimate of past-year users aged 15–64 (people, not a share)."""

    id: int
    iso3: str
    year: int
    method: str
    estimate: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class AssembledInputs:
    countries: tuple[CountryInput, ...]
    period_pairs: tuple[PeriodPair, ...]
    records: tuple[dict[str, Any], ...]
    from_saved_estimate: frozenset[str] = field(default_factory=frozenset)


def _share(percent: float | None) -> float | None:
    return None if percent is None else percent / 100.0


def _select(rows: Sequence[NationalPrevalence], year: int) -> NationalPrevalence | None:
    """The latest value of ``year`` or before, past-year values preferred over other periods."""
    usable = [
        row
        for row in rows
        if row.year is not None
        and row.year <= year
        and row.best is not None
        and 0.0 <= row.best <= 100.0
        and row.reference_period in REFERENCE_PERIODS
    ]
    if not usable:
        return None
    past_year = [row for row in usable if row.reference_period == PAST_YEAR]
    pool = past_year or usable
    return max(pool, key=lambda row: (row.year or 0, row.best or 0.0))


def _national_value(row: NationalPrevalence, notes: list[str]) -> NationalValue:
    best = _share(row.best)
    assert best is not None
    low, high = _share(row.low), _share(row.high)
    if low is not None and high is not None and not (low <= best <= high):
        notes.append(f"reported bounds {row.low}–{row.high} do not bracket best {row.best}: bounds dropped")
        low = high = None
    if (low is None) != (high is None):
        notes.append("only one bound reported: bounds dropped")
        low = high = None
    age_lower, age_upper = row.age_lower, row.age_upper
    if age_lower is None or age_upper is None:
        notes.append("age range not reported: taken as 15–64")
        age_lower, age_upper = 15, 64
    return NationalValue(
        best=best,
        low=low,
        high=high,
        reference_period=row.reference_period,
        age_lower=age_lower,
        age_upper=age_upper,
        year=row.year,
        source=" / ".join(part for part in (row.source, row.method) if part),
    )


def period_pairs(rows: Iterable[NationalPrevalence], year: int) -> tuple[PeriodPair, ...]:
    """Countries reporting past-year and lifetime/past-month values for the same survey year."""
    by_country_year: dict[tuple[str, int], dict[str, float]] = {}
    for row in rows:
        if row.year is None or row.year > year or row.best is None or not 0.0 <= row.best <= 100.0:
            continue
        by_country_year.setdefault((row.iso3, row.year), {})[row.reference_period] = row.best / 100.0
    latest: dict[str, tuple[int, dict[str, float]]] = {}
    for (iso3, survey_year), periods in by_country_year.items():
        if PAST_YEAR in periods and len(periods) > 1 and survey_year >= latest.get(iso3, (-1, {}))[0]:
            latest[iso3] = (survey_year, periods)
    return tuple(
        PeriodPair(iso3, periods[PAST_YEAR], periods.get("lifetime"), periods.get("past_month"))
        for iso3, (_, periods) in sorted(latest.items())
    )


def assemble_inputs(
    national: Sequence[NationalPrevalence],
    drug_code: str,
    year: int,
    universe: Sequence[CountryFrame],
    saved: Mapping[str, SavedEstimate] | None = None,
    exclude: Iterable[str] = (),
) -> AssembledInputs:
    """Pick each country's value and say why. ``exclude`` drops countries' national data (what-if)."""
    excluded = set(exclude)
    known = {frame.iso3 for frame in universe}
    by_country: dict[str, list[NationalPrevalence]] = {}
    relevant = [row for row in national if row.drug_code == drug_code and row.iso3 in known]
    for row in relevant:
        by_country.setdefault(row.iso3, []).append(row)
    countries: list[CountryInput] = []
    records: list[dict[str, Any]] = []
    from_saved: set[str] = set()
    for frame in universe:
        notes: list[str] = []
        value: NationalValue | None = None
        chosen = None if frame.iso3 in excluded else _select(by_country.get(frame.iso3, []), year)
        record: dict[str, Any] = {
            "iso3": frame.iso3,
            "name": frame.name,
            "population_15_64": frame.population_15_64,
            "source": "none",
        }
        if frame.iso3 in excluded:
            notes.append("national data excluded by the analyst for this run")
        if chosen is not None:
            value = _national_value(chosen, notes)
            record.update(
                source="national",
                reported={
                    "year": chosen.year,
                    "best_percent": chosen.best,
                    "low_percent": chosen.low,
                    "high_percent": chosen.high,
                    "reference_period": chosen.reference_period,
                    "age_lower": chosen.age_lower,
                    "age_upper": chosen.age_upper,
                    "source": chosen.source,
                    "method": chosen.method,
                    "adjustment": chosen.adjustment,
                    "status": chosen.status,
                },
            )
        elif saved and frame.iso3 in saved and frame.iso3 not in excluded:
            estimate = saved[frame.iso3]
            best = min(estimate.estimate / frame.population_15_64, 1.0)
            low = None if estimate.low is None else min(estimate.low / frame.population_15_64, best)
            high = (
                None if estimate.high is None else min(max(estimate.high / frame.population_15_64, best), 1.0)
            )
            value = NationalValue(
                best=best,
                low=low,
                high=high,
                year=estimate.year,
                source=f"country estimate #{estimate.id} ({estimate.method})",
            )
            from_saved.add(frame.iso3)
            notes.append(
                f"no national survey value: saved country estimate #{estimate.id} ({estimate.method}, "
                f"{estimate.estimate:,.0f} people in {estimate.year}) used instead of imputation"
            )
            record.update(source="country_estimate", country_estimate_id=estimate.id)
        record["notes"] = notes
        records.append(record)
        countries.append(
            CountryInput(frame.iso3, frame.subregion, frame.region, frame.population_15_64, value)
        )
    pairs = period_pairs([row for row in relevant if row.iso3 not in excluded], year)
    return AssembledInputs(tuple(countries), pairs, tuple(records), frozenset(from_saved))


def methods_statement(parameters: EstimationParameters) -> dict[str, Any]:
    return {
        "data_selection": DATA_SELECTION,
        "period_adjustment": f"{parameters.period_ratio_statistic} ratio from countries reporting both periods",
        "age_adjustment": parameters.age_adjustment_method,
        "imputation_best": parameters.imputation_best_method,
        "imputation_bounds": (
            f"P{parameters.imputation_low_percentile:g}/P{parameters.imputation_high_percentile:g} "
            f"of the subregion's countries ({parameters.percentile_interpolation})"
        ),
        "imputation_fallback": parameters.imputation_fallback,
        "bounds_aggregation": parameters.bounds_aggregation,
        "minimum_coverage": parameters.minimum_coverage,
        "saved_country_estimates": "used for countries without survey data, as reported (estimate)",
    }


def run_estimate(
    assembled: AssembledInputs, parameters: EstimationParameters | None = None
) -> RegionalEstimate:
    return estimate_regional_prevalence(assembled.countries, assembled.period_pairs, parameters)


def plain(value: Any) -> Any:
    """Dataclasses, tuples and mappings to JSON-safe values in one pass (faster than ``asdict`` plus
    :func:`json_safe`, which matters when a full estimate set is computed)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: plain(getattr(value, name)) for name in fields}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return json_safe(value)


def serialise(
    result: RegionalEstimate, assembled: AssembledInputs, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The stored output: every country row (status relabelled for saved estimates), every aggregate
    with its coverage, the period ratios and the full adjustment trail."""
    names = names or {}
    countries = []
    for row in result.countries:
        data = plain(row)
        data["name"] = names.get(row.iso3, row.iso3)
        if row.iso3 in assembled.from_saved_estimate and row.status != IMPUTED:
            data["status"] = REPORTED_ESTIMATE
        countries.append(data)
    return {
        "parameters": plain(result.parameters.describe()),
        "methods": plain(methods_statement(result.parameters)),
        "period_ratios": plain(result.period_ratios),
        "world": plain(result.world),
        "regions": plain(result.regions),
        "subregions": plain(result.subregions),
        "countries": countries,
        "adjustment_trail": plain(result.adjustment_trail),
    }
