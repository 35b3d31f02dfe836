"""Assembling the inputs of one regional/global estimate and laying its output out for storage.

Pure functions over plain data (national rows, the country frame, saved country estimates): the service
reads those from the database, this module decides which value each country contributes and records
why, calls the regional kernel, and turns the result into JSON that reproduces every figure.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from observatory.analysis.calculators import json_safe
from observatory.analysis.kernels.regional import (
    IMPUTED,
    PAST_YEAR,
    REFERENCE_PERIODS,
    AggregateEstimate,
    CountryInput,
    CountryRow,
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


class NationalIndex:
    """One drug's national rows grouped by country once, for assembling the estimates of any year: a full
    estimate set assembles every year of a drug from one index instead of regrouping the rows each time.
    Gives the same selection and the same period pairs as :func:`_select` and :func:`period_pairs`."""

    def __init__(self, national: Iterable[NationalPrevalence], drug_code: str) -> None:
        self.drug_code = drug_code
        self.by_country: dict[str, list[NationalPrevalence]] = {}
        groups: dict[tuple[str, int], dict[str, float]] = {}
        for row in national:
            if row.drug_code != drug_code:
                continue
            self.by_country.setdefault(row.iso3, []).append(row)
            if row.year is not None and row.best is not None and 0.0 <= row.best <= 100.0:
                groups.setdefault((row.iso3, row.year), {})[row.reference_period] = row.best / 100.0
        # per country, the survey years reporting past year and another period, in ascending order
        self._paired: dict[str, list[tuple[int, dict[str, float]]]] = {}
        for (iso3, survey_year), periods in groups.items():
            if PAST_YEAR in periods and len(periods) > 1:
                self._paired.setdefault(iso3, []).append((survey_year, periods))
        for surveys in self._paired.values():
            surveys.sort(key=lambda survey: survey[0])

    def period_pairs(
        self, year: int, known: Container[str], excluded: Container[str]
    ) -> tuple[PeriodPair, ...]:
        """:func:`period_pairs` over the rows of the ``known`` countries not ``excluded``."""
        pairs: list[PeriodPair] = []
        for iso3 in sorted(self._paired):
            if iso3 not in known or iso3 in excluded:
                continue
            latest = None
            for survey_year, periods in self._paired[iso3]:
                if survey_year > year:
                    break
                latest = periods
            if latest is not None:
                pairs.append(
                    PeriodPair(iso3, latest[PAST_YEAR], latest.get("lifetime"), latest.get("past_month"))
                )
        return tuple(pairs)


@lru_cache(maxsize=16384)
def _without_data(iso3: str, subregion: str, region: str, population_15_64: float) -> CountryInput:
    """A country without a value; most of the universe in most years, so built once per placement and
    population (CountryInput is immutable)."""
    return CountryInput(iso3, subregion, region, population_15_64, None)


def assemble_inputs(
    national: Sequence[NationalPrevalence],
    drug_code: str,
    year: int,
    universe: Sequence[CountryFrame],
    saved: Mapping[str, SavedEstimate] | None = None,
    exclude: Iterable[str] = (),
    *,
    index: NationalIndex | None = None,
) -> AssembledInputs:
    """Pick each country's value and say why. ``exclude`` drops countries' national data (what-if).
    ``index`` (of ``national`` for ``drug_code``) saves regrouping the rows when assembling many years."""
    if index is None:
        index = NationalIndex(national, drug_code)
    elif index.drug_code != drug_code:
        raise ValueError(f"the national index is of {index.drug_code!r}, not {drug_code!r}")
    excluded = set(exclude)
    known = {frame.iso3 for frame in universe}
    by_country = index.by_country
    countries: list[CountryInput] = []
    records: list[dict[str, Any]] = []
    from_saved: set[str] = set()
    saved = saved or {}
    for frame in universe:
        own = by_country.get(frame.iso3)
        if own is None and frame.iso3 not in saved and frame.iso3 not in excluded:
            # no data at all (most countries in most years): the short way to the same record
            records.append(
                {
                    "iso3": frame.iso3,
                    "name": frame.name,
                    "population_15_64": frame.population_15_64,
                    "source": "none",
                    "notes": [],
                }
            )
            countries.append(_without_data(frame.iso3, frame.subregion, frame.region, frame.population_15_64))
            continue
        notes: list[str] = []
        value: NationalValue | None = None
        chosen = None if own is None or frame.iso3 in excluded else _select(own, year)
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
            _without_data(frame.iso3, frame.subregion, frame.region, frame.population_15_64)
            if value is None
            else CountryInput(frame.iso3, frame.subregion, frame.region, frame.population_15_64, value)
        )
    pairs = index.period_pairs(year, known, excluded)
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


def _number(value: Any) -> Any:
    """:func:`plain` for a number, with a shortcut for the finite floats that make up nearly all of them."""
    if type(value) is float and value - value == 0.0:
        return value
    return plain(value)


_FLOAT_FIELDS = (3, 6, 7, 8, 9, 10, 11)  # population, prevalences and users of a CountryRow
_FLOATS = itemgetter(*_FLOAT_FIELDS)
_YEAR = itemgetter(12)


def _all_finite_floats(rows: Sequence[CountryRow]) -> bool:
    """Whether every number of the rows is a finite ``float`` and every year an ``int`` or None — always
    so for the service's inputs — so that :func:`plain` would leave them as they are."""
    numbers: list[Any] = [number for row in rows for number in _FLOATS(row)]
    return (
        set(map(type, numbers)) <= {float}
        and math.isfinite(sum(numbers))
        and set(map(type, map(_YEAR, rows))) <= {int, type(None)}
    )


def _plain_numbers(row: CountryRow) -> CountryRow:
    """A row with its numbers made JSON-safe as :func:`plain` makes them (the general, slow path)."""
    values = list(row)
    for i in (*_FLOAT_FIELDS, 12):
        values[i] = plain(values[i])
    return tuple(values)  # type: ignore[return-value]


_PLAIN_NUMBER_TYPES = frozenset({float, int, type(None)})


def _numbers(*values: Any) -> Sequence[Any]:
    """The values as :func:`plain` makes them: returned as they are when all are ints, Nones or finite
    floats (checked in one pass), else each through :func:`plain`."""
    if set(map(type, values)) <= _PLAIN_NUMBER_TYPES and math.isfinite(
        sum([value for value in values if type(value) is float])
    ):
        return values
    return [plain(value) for value in values]


def _national_dict(value: NationalValue) -> dict[str, Any]:
    best, low, high, age_lower, age_upper, year, surveyed = _numbers(
        value.best,
        value.low,
        value.high,
        value.age_lower,
        value.age_upper,
        value.year,
        value.population_surveyed_ages_within_15_64,
    )
    return {
        "best": best,
        "low": low,
        "high": high,
        "reference_period": value.reference_period,
        "age_lower": age_lower,
        "age_upper": age_upper,
        "year": year,
        "population_surveyed_ages_within_15_64": surveyed,
        "source": value.source,
    }


def _aggregate_dict(aggregate: AggregateEstimate) -> dict[str, Any]:
    (
        population,
        population_with_data,
        coverage,
        users_best,
        users_best_computed,
        users_low,
        users_high,
        prevalence_best,
        prevalence_low,
        prevalence_high,
    ) = _numbers(
        aggregate.population_15_64,
        aggregate.population_with_data,
        aggregate.coverage,
        aggregate.users_best,
        aggregate.users_best_computed,
        aggregate.users_low,
        aggregate.users_high,
        aggregate.prevalence_best,
        aggregate.prevalence_low,
        aggregate.prevalence_high,
    )
    return {
        "level": aggregate.level,
        "name": aggregate.name,
        "parent": aggregate.parent,
        "members": list(aggregate.members),
        "population_15_64": population,
        "population_with_data": population_with_data,
        "coverage": coverage,
        "range_only": aggregate.range_only,
        "users_best": users_best,
        "users_best_computed": users_best_computed,
        "users_low": users_low,
        "users_high": users_high,
        "prevalence_best": prevalence_best,
        "prevalence_low": prevalence_low,
        "prevalence_high": prevalence_high,
        "countries_with_data": list(aggregate.countries_with_data),
        "countries_imputed": list(aggregate.countries_imputed),
    }


def serialise(
    result: RegionalEstimate, assembled: AssembledInputs, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The stored output: every country row (status relabelled for saved estimates), every aggregate
    with its coverage, the period ratios and the full adjustment trail.

    Built straight from the kernel's plain rows, field by field in the order of the kernel's dataclasses
    (``CountryEstimate``, ``AdjustmentStep``, ``AggregateEstimate``, ``NationalValue``): the same JSON as
    :func:`plain` over those dataclasses, without materialising them. The trail shares its step dicts
    with the country rows."""
    names = names or {}
    from_saved = assembled.from_saved_estimate
    rows = result.rows
    if not _all_finite_floats(rows):
        rows = tuple(_plain_numbers(row) for row in rows)
    countries: list[dict[str, Any]] = []
    trail: list[dict[str, Any]] = []
    for row in rows:
        iso3, subregion, region, population, status, method, best, low, high, users_best, users_low = row[:11]
        steps = [
            {
                "iso3": step[0],
                "step": step[1],
                "method": step[2],
                "detail": step[3],
                "factor": None if step[4] is None else _number(step[4]),
            }
            for step in row[14]
        ]
        trail += steps
        reported = row[13]
        countries.append(
            {
                "iso3": iso3,
                "subregion": subregion,
                "region": region,
                "population_15_64": population,
                "status": REPORTED_ESTIMATE if status != IMPUTED and iso3 in from_saved else status,
                "method": method,
                "prevalence_best": best,
                "prevalence_low": low,
                "prevalence_high": high,
                "users_best": users_best,
                "users_low": users_low,
                "users_high": row[11],
                "year": row[12],
                "reported_value": None if reported is None else _national_dict(reported),
                "adjustments": steps,
                "name": names.get(iso3, iso3),
            }
        )
    return {
        "parameters": plain(result.parameters.describe()),
        "methods": plain(methods_statement(result.parameters)),
        "period_ratios": plain(result.period_ratios),
        "world": _aggregate_dict(result.world),
        "regions": [_aggregate_dict(aggregate) for aggregate in result.regions],
        "subregions": [_aggregate_dict(aggregate) for aggregate in result.subregions],
        "countries": countries,
        "adjustment_trail": trail,
    }
