"""World Drug Report style regional and global estimates of past-year drug use, ages 15–64.

One call estimates one drug and one year. Prevalences are shares (0.012 for 1.2 %), populations are
people aged 15–64. Steps, each recorded in the adjustment trail of the country it touches:

(a) period: lifetime or past-month prevalence becomes past-year prevalence by multiplying with the median
    (or mean) past-year/lifetime or past-year/past-month ratio among countries reporting both periods;
(b) age: a survey of other ages becomes 15–64 by the chosen method (see ``AGE_METHODS``);
(c) countries without usable data are imputed from their subregion (population-weighted mean for best,
    10th/90th percentiles of the subregion's countries for low/high), falling back to the region and
    then the world when the subregion has no data;
(d) users = prevalence × population 15–64; subregions sum to regions and regions to the world, low and high
    summed as they are (not in quadrature);
(e) coverage = share of the population 15–64 living in countries with data; an aggregate under the
    coverage threshold reports only its range (best withheld).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from operator import attrgetter, itemgetter

import numpy as np

LIFETIME = "lifetime"
PAST_YEAR = "past_year"
PAST_MONTH = "past_month"
REFERENCE_PERIODS = (LIFETIME, PAST_YEAR, PAST_MONTH)

REPORTED = "reported"
ADJUSTED = "adjusted"
IMPUTED = "imputed"

# Age methods:
# - population_share: assume negligible use at the ages of 15–64 the survey did not cover, so
#   users(15–64) ≈ prevalence(surveyed) × population(surveyed ages ∩ 15–64); prevalence(15–64) is that over
#   population(15–64). A survey covering all of 15–64 (even if wider) is used as it is.
# - none: take the surveyed-age prevalence as the 15–64 prevalence (a documented approximation).
AGE_POPULATION_SHARE = "population_share"
AGE_NONE = "none"
AGE_METHODS = (AGE_POPULATION_SHARE, AGE_NONE)
RATIO_STATISTICS = ("median", "mean")


@dataclass(frozen=True)
class NationalValue:
    """A national prevalence as reported (shares, not percentages)."""

    best: float
    low: float | None = None
    high: float | None = None
    reference_period: str = PAST_YEAR
    age_lower: int = 15
    age_upper: int = 64
    year: int | None = None
    # People aged both within the surveyed range and within 15–64; needed by the population_share age method
    # when the survey does not cover all of 15–64.
    population_surveyed_ages_within_15_64: float | None = None
    source: str = ""


@dataclass(frozen=True)
class CountryInput:
    iso3: str
    subregion: str
    region: str
    population_15_64: float
    national: NationalValue | None = None


@dataclass(frozen=True)
class PeriodPair:
    """A country reporting the same drug for past year and another period, used to derive ratios."""

    iso3: str
    past_year: float
    lifetime: float | None = None
    past_month: float | None = None


@dataclass(frozen=True)
class EstimationParameters:
    """Methods and thresholds; stated on every output via ``describe()``."""

    period_ratio_statistic: str = "median"
    age_adjustment_method: str = AGE_POPULATION_SHARE
    imputation_best_method: str = "population_weighted_mean"
    imputation_low_percentile: float = 10.0
    imputation_high_percentile: float = 90.0
    percentile_interpolation: str = "linear"
    missing_bounds_rule: str = "best_used_for_low_and_high"
    imputation_fallback: str = "subregion_then_region_then_world"
    bounds_aggregation: str = "sum_of_bounds_not_quadrature"
    minimum_coverage: float = 0.5
    target_age_lower: int = 15
    target_age_upper: int = 64

    def __post_init__(self) -> None:
        if self.period_ratio_statistic not in RATIO_STATISTICS:
            raise ValueError(f"period_ratio_statistic must be one of {RATIO_STATISTICS}")
        if self.age_adjustment_method not in AGE_METHODS:
            raise ValueError(f"age_adjustment_method must be one of {AGE_METHODS}")
        if self.imputation_best_method != "population_weighted_mean":
            raise ValueError("imputation_best_method supports only 'population_weighted_mean'")
        if not 0.0 <= self.imputation_low_percentile <= self.imputation_high_percentile <= 100.0:
            raise ValueError("need 0 ≤ imputation_low_percentile ≤ imputation_high_percentile ≤ 100")
        if not 0.0 <= self.minimum_coverage <= 1.0:
            raise ValueError(f"minimum_coverage is a share in [0, 1], got {self.minimum_coverage}")

    def describe(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class AdjustmentStep:
    iso3: str
    step: str
    method: str
    detail: str
    factor: float | None = None


@dataclass(frozen=True)
class PeriodRatios:
    statistic: str
    past_year_to_lifetime: float | None
    lifetime_countries: tuple[str, ...]
    past_year_to_past_month: float | None
    past_month_countries: tuple[str, ...]


@dataclass(frozen=True)
class CountryEstimate:
    iso3: str
    subregion: str
    region: str
    population_15_64: float
    status: str
    method: str
    prevalence_best: float
    prevalence_low: float
    prevalence_high: float
    users_best: float
    users_low: float
    users_high: float
    year: int | None
    reported_value: NationalValue | None
    adjustments: tuple[AdjustmentStep, ...]


@dataclass(frozen=True)
class AggregateEstimate:
    """A subregion, region or the world. ``users_best`` is None when coverage is under the threshold;
    ``users_best_computed`` keeps the figure that sums upward either way."""

    level: str
    name: str
    parent: str | None
    members: tuple[str, ...]
    population_15_64: float
    population_with_data: float
    coverage: float
    range_only: bool
    users_best: float | None
    users_best_computed: float
    users_low: float
    users_high: float
    prevalence_best: float | None
    prevalence_low: float
    prevalence_high: float
    countries_with_data: tuple[str, ...]
    countries_imputed: tuple[str, ...]


# The kernel's hot path works on plain tuples (a NamedTuple costs ~10× a tuple to build, and an estimate set
# builds some 100,000 of them). Their fields are those of the dataclasses, in the same order.
StepRow = tuple[str, str, str, str, float | None]
"""An adjustment step: the fields of :class:`AdjustmentStep` (iso3, step, method, detail, factor)."""

CountryRow = tuple[
    str,
    str,
    str,
    float,
    str,
    str,
    float,
    float,
    float,
    float,
    float,
    float,
    int | None,
    NationalValue | None,
    tuple[StepRow, ...],
]
"""A country estimate: the fields of :class:`CountryEstimate` in order, adjustments as :data:`StepRow`."""


def _country_estimate(row: CountryRow) -> CountryEstimate:
    return CountryEstimate(*row[:14], tuple(AdjustmentStep(*step) for step in row[14]))


@dataclass(frozen=True)
class RegionalEstimate:
    """The whole estimate. ``rows`` holds the countries as plain :data:`CountryRow` tuples (sorted by
    region, subregion, ISO3); ``countries`` and ``adjustment_trail`` present them as dataclasses, built on
    first use (the stored output is serialised from ``rows`` directly)."""

    parameters: EstimationParameters
    period_ratios: PeriodRatios
    rows: tuple[CountryRow, ...]
    subregions: tuple[AggregateEstimate, ...]
    regions: tuple[AggregateEstimate, ...]
    world: AggregateEstimate

    @cached_property
    def countries(self) -> tuple[CountryEstimate, ...]:
        return tuple(_country_estimate(row) for row in self.rows)

    @cached_property
    def adjustment_trail(self) -> tuple[AdjustmentStep, ...]:
        return tuple(step for row in self.countries for step in row.adjustments)

    def country(self, iso3: str) -> CountryEstimate:
        for row in self.countries:
            if row.iso3 == iso3:
                return row
        raise KeyError(iso3)

    def region(self, name: str) -> AggregateEstimate:
        for row in self.regions:
            if row.name == name:
                return row
        raise KeyError(name)

    def subregion(self, name: str) -> AggregateEstimate:
        for row in self.subregions:
            if row.name == name:
                return row
        raise KeyError(name)


WORLD = "World"


# ---------------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------------


def _check_share(label: str, value: float) -> float:
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ValueError(f"{label} must be a share between 0 and 1 (not a percentage), got {value!r}")
    return number


def _check_countries(countries: Sequence[CountryInput]) -> None:
    if not countries:
        raise ValueError("no countries given")
    seen: set[str] = set()
    region_of_subregion: dict[str, str] = {}
    for country in countries:
        if country.iso3 in seen:
            raise ValueError(f"country {country.iso3} appears twice")
        seen.add(country.iso3)
        if not (math.isfinite(country.population_15_64) and country.population_15_64 > 0):
            raise ValueError(
                f"{country.iso3}: population_15_64 must be positive, got {country.population_15_64}"
            )
        known = region_of_subregion.setdefault(country.subregion, country.region)
        if known != country.region:
            raise ValueError(
                f"subregion {country.subregion!r} is placed in two regions ({known!r} and {country.region!r})"
            )
        value = country.national
        if value is None:
            continue
        if value.reference_period not in REFERENCE_PERIODS:
            raise ValueError(f"{country.iso3}: reference_period must be one of {REFERENCE_PERIODS}")
        best = _check_share(f"{country.iso3} best", value.best)
        low = best if value.low is None else _check_share(f"{country.iso3} low", value.low)
        high = best if value.high is None else _check_share(f"{country.iso3} high", value.high)
        if not low <= best <= high:
            raise ValueError(f"{country.iso3}: need low ≤ best ≤ high, got {low}, {best}, {high}")
        if value.age_lower > value.age_upper:
            raise ValueError(
                f"{country.iso3}: age_lower {value.age_lower} is above age_upper {value.age_upper}"
            )


# ---------------------------------------------------------------------------------------------------------
# (a) period ratios and (b) age adjustment
# ---------------------------------------------------------------------------------------------------------


def _central(values: Sequence[float], statistic: str) -> float:
    return float(np.median(values)) if statistic == "median" else float(np.mean(values))


def period_ratios(pairs: Iterable[PeriodPair], statistic: str = "median") -> PeriodRatios:
    """Past-year/lifetime and past-year/past-month ratios over countries reporting both periods."""
    lifetime: list[tuple[str, float]] = []
    past_month: list[tuple[str, float]] = []
    for pair in pairs:
        past_year = _check_share(f"{pair.iso3} past_year", pair.past_year)
        if pair.lifetime is not None and _check_share(f"{pair.iso3} lifetime", pair.lifetime) > 0:
            lifetime.append((pair.iso3, past_year / pair.lifetime))
        if pair.past_month is not None and _check_share(f"{pair.iso3} past_month", pair.past_month) > 0:
            past_month.append((pair.iso3, past_year / pair.past_month))
    return PeriodRatios(
        statistic=statistic,
        past_year_to_lifetime=_central([r for _, r in lifetime], statistic) if lifetime else None,
        lifetime_countries=tuple(iso for iso, _ in lifetime),
        past_year_to_past_month=_central([r for _, r in past_month], statistic) if past_month else None,
        past_month_countries=tuple(iso for iso, _ in past_month),
    )


# A usable national value after adjustment: best, low, high, status, method.
_Usable = tuple[float, float, float, str, str]


def _adjust_country(
    country: CountryInput, ratios: PeriodRatios, parameters: EstimationParameters
) -> tuple[_Usable | None, list[StepRow]]:
    """Return the adjusted past-year 15–64 value, or None (with the reason in the steps) if unusable."""
    value = country.national
    assert value is not None
    iso = country.iso3
    steps: list[StepRow] = []
    best = value.best
    low = value.best if value.low is None else value.low
    high = value.best if value.high is None else value.high
    methods: list[str] = []
    if value.low is None or value.high is None:
        steps.append((iso, "bounds", parameters.missing_bounds_rule, "missing low/high set to best", None))

    if value.reference_period != PAST_YEAR:
        if value.reference_period == LIFETIME:
            ratio, donors, label = (
                ratios.past_year_to_lifetime,
                ratios.lifetime_countries,
                "past-year/lifetime",
            )
        else:
            ratio, donors, label = (
                ratios.past_year_to_past_month,
                ratios.past_month_countries,
                "past-year/past-month",
            )
        if ratio is None:
            steps.append(
                (
                    iso,
                    "period",
                    "unusable",
                    f"{value.reference_period} value cannot be converted: no country reports both periods",
                    None,
                )
            )
            return None, steps
        method = f"{value.reference_period}_to_past_year_{ratios.statistic}_ratio"
        steps.append(
            (
                iso,
                "period",
                method,
                f"{ratios.statistic} {label} ratio {ratio:.6g} "
                f"from {len(donors)} countries: {', '.join(donors)}",
                ratio,
            )
        )
        best, low, high = (min(x * ratio, 1.0) for x in (best, low, high))
        methods.append(method)

    target = (parameters.target_age_lower, parameters.target_age_upper)
    if (value.age_lower, value.age_upper) != target:
        surveyed = f"{value.age_lower}–{value.age_upper}"
        covers_target = value.age_lower <= target[0] and value.age_upper >= target[1]
        if parameters.age_adjustment_method == AGE_NONE:
            steps.append((iso, "age", AGE_NONE, f"surveyed ages {surveyed} taken as 15–64", 1.0))
        elif covers_target:
            steps.append(
                (
                    iso,
                    "age",
                    AGE_POPULATION_SHARE,
                    f"surveyed ages {surveyed} cover 15–64: surveyed prevalence used for 15–64",
                    1.0,
                )
            )
        elif value.population_surveyed_ages_within_15_64 is None:
            steps.append(
                (
                    iso,
                    "age",
                    "not_adjusted",
                    f"surveyed ages {surveyed}: population of those ages not supplied, "
                    "value used as reported",
                    None,
                )
            )
        else:
            share = value.population_surveyed_ages_within_15_64 / country.population_15_64
            if not 0.0 < share <= 1.0:
                raise ValueError(
                    f"{iso}: population_surveyed_ages_within_15_64 must be positive "
                    "and at most population_15_64"
                )
            steps.append(
                (
                    iso,
                    "age",
                    AGE_POPULATION_SHARE,
                    f"surveyed ages {surveyed}; use outside them assumed negligible; "
                    f"population share {share:.6g}",
                    share,
                )
            )
            best, low, high = best * share, low * share, high * share
            methods.append(f"age_{AGE_POPULATION_SHARE}")

    status = ADJUSTED if methods else REPORTED
    method = " + ".join(methods) if methods else "as_reported"
    return (best, low, high, status, method), steps


# ---------------------------------------------------------------------------------------------------------
# (c) imputation, (d) users and sums, (e) coverage
# ---------------------------------------------------------------------------------------------------------


def _percentile(values: Sequence[float], percent: float) -> float:
    """``numpy.percentile(values, percent)`` with the default 'linear' method, in plain Python.

    Same floating-point operations as NumPy (index (n − 1)·q, its lerp that interpolates from the nearer
    end), so the figures are bit-identical; without NumPy's per-call overhead on a dozen values."""
    ordered = sorted(values)
    n = len(ordered)
    virtual = (n - 1) * (percent / 100)
    if virtual >= n - 1:
        return float(ordered[-1])
    if virtual < 0:
        return float(ordered[0])
    previous = math.floor(virtual)
    gamma = virtual - previous
    a, b = ordered[previous], ordered[previous + 1]
    difference = b - a
    return float(b - difference * (1 - gamma) if gamma >= 0.5 else a + difference * gamma)


def _impute(
    populations: Sequence[float],
    bests: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    parameters: EstimationParameters,
) -> tuple[float, float, float, bool]:
    weights = np.asarray(populations, dtype=float)
    best = float(np.sum(np.asarray(bests, dtype=float) * weights) / np.sum(weights))
    low = _percentile(lows, parameters.imputation_low_percentile)
    high = _percentile(highs, parameters.imputation_high_percentile)
    # A big country can pull the weighted mean outside the percentile range; keep low ≤ best ≤ high.
    clamped = low > best or high < best
    return best, min(low, best), max(high, best), clamped


def _aggregate(
    level: str,
    name: str,
    parent: str | None,
    members: tuple[str, ...],
    rows: Sequence[CountryRow],
    minimum_coverage: float,
) -> AggregateEstimate:
    # Plain sequential sums in row order (as the figures have always been summed).
    population = sum(map(_POPULATION, rows))
    with_data = [r for r in rows if r[4] != IMPUTED]
    population_with_data = sum(map(_POPULATION, with_data))
    coverage = population_with_data / population
    best = sum(map(_USERS_BEST, rows))
    low = sum(map(_USERS_LOW, rows))
    high = sum(map(_USERS_HIGH, rows))
    range_only = coverage < minimum_coverage
    return AggregateEstimate(
        level=level,
        name=name,
        parent=parent,
        members=members,
        population_15_64=population,
        population_with_data=population_with_data,
        coverage=coverage,
        range_only=range_only,
        users_best=None if range_only else best,
        users_best_computed=best,
        users_low=low,
        users_high=high,
        prevalence_best=None if range_only else best / population,
        prevalence_low=low / population,
        prevalence_high=high / population,
        countries_with_data=tuple(sorted(map(_ISO3, with_data))),
        countries_imputed=tuple(sorted([r[0] for r in rows if r[4] == IMPUTED])),
    )


_ISO3 = itemgetter(0)
_POPULATION = itemgetter(3)
_USERS_BEST = itemgetter(9)
_USERS_LOW = itemgetter(10)
_USERS_HIGH = itemgetter(11)


def estimate_regional_prevalence(
    countries: Sequence[CountryInput],
    period_pairs: Sequence[PeriodPair] = (),
    parameters: EstimationParameters | None = None,
) -> RegionalEstimate:
    """Country, subregion, region and world estimates of past-year prevalence and users aged 15–64."""
    params = parameters or EstimationParameters()
    _check_countries(countries)
    ratios = period_ratios(period_pairs, params.period_ratio_statistic)

    steps_of: dict[str, list[StepRow]] = {}
    usable: dict[str, _Usable] = {}
    # donors per scope: populations, bests, lows, highs and codes, in the order of ``countries``
    scopes: dict[tuple[str, str], tuple[list[float], list[float], list[float], list[float], list[str]]]
    scopes = {}
    for country in countries:
        if country.national is None:
            continue
        adjusted, steps = _adjust_country(country, ratios, params)
        if steps:
            steps_of[country.iso3] = steps
        if adjusted is not None:
            usable[country.iso3] = adjusted
            for key in (("subregion", country.subregion), ("region", country.region), ("world", WORLD)):
                donors = scopes.get(key)
                if donors is None:
                    donors = scopes[key] = ([], [], [], [], [])
                donors[0].append(country.population_15_64)
                donors[1].append(adjusted[0])
                donors[2].append(adjusted[1])
                donors[3].append(adjusted[2])
                donors[4].append(country.iso3)
    if not usable:
        raise ValueError("no country has usable data for this drug and year; nothing to impute from")

    # Every country of a subregion without data is imputed from the same scope (the subregion, else its
    # region, else the world) with the same values and the same reason: computed once per subregion.
    low_label = f"P{params.imputation_low_percentile:g}"
    high_label = f"P{params.imputation_high_percentile:g}"
    by_scope: dict[tuple[str, str], tuple[float, float, float, str, str]] = {}
    by_subregion: dict[str, tuple[float, float, float, str, str]] = {}

    def imputation(subregion: str, region: str) -> tuple[float, float, float, str, str]:
        key = ("subregion", subregion)
        if key not in scopes:
            key = ("region", region)
            if key not in scopes:
                key = ("world", WORLD)
        found = by_scope.get(key)
        if found is None:
            populations, bests, lows, highs, codes = scopes[key]
            best, low, high, clamped = _impute(populations, bests, lows, highs, params)
            found = by_scope[key] = (
                best,
                low,
                high,
                f"imputed_from_{key[0]}",
                f"{key[1]}: population-weighted mean (best), {low_label}/{high_label} (low/high) of "
                f"{', '.join(sorted(codes))}" + ("; bounds widened to include best" if clamped else ""),
            )
        by_subregion[subregion] = found
        return found

    # rows go to their subregion's bucket; the buckets are then laid out by region, subregion and ISO3
    buckets: dict[str, list[CountryRow]] = {}
    region_of: dict[str, str] = {}
    for country in countries:
        iso = country.iso3
        subregion = country.subregion
        population = country.population_15_64
        national = country.national
        adjustments: tuple[StepRow, ...]
        own_steps: list[StepRow] | None
        bucket = buckets.get(subregion)
        if bucket is None:
            bucket = buckets[subregion] = []
            region_of[subregion] = country.region
        found = None if national is None else usable.get(iso)
        if found is not None:
            best, low, high, status, method = found
            own_steps = steps_of.get(iso)
            adjustments = tuple(own_steps) if own_steps else ()
        else:
            best, low, high, method, detail = by_subregion.get(subregion) or imputation(
                subregion, country.region
            )
            status = IMPUTED
            step: StepRow = (iso, "imputation", method, detail, None)
            own_steps = None if national is None else steps_of.get(iso)
            adjustments = (*own_steps, step) if own_steps else (step,)
        bucket.append(
            (
                iso,
                subregion,
                country.region,
                population,
                status,
                method,
                best,
                low,
                high,
                best * population,
                low * population,
                high * population,
                None if national is None else national.year,
                national,
                adjustments,
            )
        )
    subregions_of: dict[str, list[str]] = {}
    for subregion, region in region_of.items():
        subregions_of.setdefault(region, []).append(subregion)
    minimum = params.minimum_coverage
    rows: list[CountryRow] = []
    subregion_list: list[AggregateEstimate] = []
    region_list: list[AggregateEstimate] = []
    for region in sorted(subregions_of):
        names = sorted(subregions_of[region])
        region_rows: list[CountryRow] = []
        for name in names:
            members = buckets[name]
            members.sort(key=_ISO3)
            region_rows += members
            subregion_list.append(
                _aggregate("subregion", name, region, tuple(map(_ISO3, members)), members, minimum)
            )
        rows += region_rows
        region_list.append(_aggregate("region", region, WORLD, tuple(names), region_rows, minimum))
    subregions = tuple(sorted(subregion_list, key=_NAME))
    regions = tuple(region_list)
    world = _aggregate("global", WORLD, None, tuple(r.name for r in regions), rows, minimum)
    return RegionalEstimate(
        parameters=params,
        period_ratios=ratios,
        rows=tuple(rows),
        subregions=subregions,
        regions=regions,
        world=world,
    )


_NAME = attrgetter("name")
