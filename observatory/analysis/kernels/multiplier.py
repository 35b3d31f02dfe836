"""Multiplier (benchmark) methods for the size of a hidden population.

Treatment/benchmark multiplier: a benchmark count B (e.g. people in drug treatment last year) and the
proportion p of the target population that is in the benchmark (e.g. from a survey of people who use
drugs: "were you in treatment last year?") give N = B / p.

Mortality multiplier: drug-related deaths D divided by the annual mortality rate r among the target
population (from cohort studies) give N = D / r.

Both are monotone in the uncertain quantity, so bounds on p (or r) map directly to bounds on N — the
upper bound of N comes from the lower bound of p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from observatory.analysis.kernels._validation import require_confidence, require_finite

BENCHMARK_ASSUMPTIONS: tuple[str, ...] = (
    "the benchmark and the proportion refer to the same population, area, period and case definition",
    "the benchmark count is complete and free of duplicates",
    "the proportion comes from a sample representative of the whole hidden population",
    "respondents report benchmark contact (e.g. treatment) accurately",
)

MORTALITY_ASSUMPTIONS: tuple[str, ...] = (
    "the death count is complete and only includes deaths of members of the target population",
    "the mortality rate (from cohort studies) applies to the whole target population in this period",
    "deaths and the rate refer to the same period, area and case definition",
)


@dataclass(frozen=True)
class MultiplierEstimate:
    """A multiplier estimate with its interval (``None`` bounds when no uncertainty was supplied)."""

    method: str
    benchmark: float
    multiplier_basis: float
    estimate: float
    lower: float | None
    upper: float | None
    confidence: float | None
    interval_method: str
    assumptions: tuple[str, ...]


def wilson_interval(proportion: float, sample_size: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (better than Wald near 0 and 1)."""
    level = require_confidence(confidence)
    p = require_finite("proportion", proportion, minimum=0.0)
    if p > 1.0:
        raise ValueError(f"proportion must be at most 1 (a share, not a percentage), got {p}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size <= 0:
        raise ValueError(f"sample_size must be a positive whole number, got {sample_size!r}")
    z = float(norm.ppf(0.5 + level / 2.0))
    denominator = 1.0 + z * z / sample_size
    centre = (p + z * z / (2.0 * sample_size)) / denominator
    half_width = z * math.sqrt(p * (1.0 - p) / sample_size + z * z / (4.0 * sample_size**2)) / denominator
    return max(centre - half_width, 0.0), min(centre + half_width, 1.0)


def _check_share(name: str, value: float) -> float:
    share = require_finite(name, value, minimum=0.0, strict=True)
    if share > 1.0:
        raise ValueError(f"{name} must be a share in (0, 1], not a percentage; got {share}")
    return share


def _bounded_ratio(
    method: str,
    numerator: float,
    value: float,
    value_low: float | None,
    value_high: float | None,
    sample_size: int | None,
    confidence: float,
    names: tuple[str, str, str],
    assumptions: tuple[str, ...],
) -> MultiplierEstimate:
    value_name, low_name, high_name = names
    share = _check_share(value_name, value)
    estimate = numerator / share
    if (value_low is None) != (value_high is None):
        raise ValueError(f"give both {low_name} and {high_name}, or neither")
    if value_low is not None and value_high is not None:
        if sample_size is not None:
            raise ValueError(f"give either {low_name}/{high_name} or sample_size, not both")
        low = _check_share(low_name, value_low)
        high = _check_share(high_name, value_high)
        if not low <= share <= high:
            raise ValueError(
                f"bounds must satisfy {low_name} ≤ {value_name} ≤ {high_name}: {low} ≤ {share} ≤ {high}"
            )
        return MultiplierEstimate(
            method,
            numerator,
            share,
            estimate,
            numerator / high,
            numerator / low,
            None,
            f"supplied {value_name} bounds",
            assumptions,
        )
    if sample_size is not None:
        level = require_confidence(confidence)
        low, high = wilson_interval(share, sample_size, level)
        upper = math.inf if low == 0.0 else numerator / low
        return MultiplierEstimate(
            method,
            numerator,
            share,
            estimate,
            numerator / high,
            upper,
            level,
            f"wilson score interval for {value_name} (n={sample_size})",
            assumptions,
        )
    return MultiplierEstimate(method, numerator, share, estimate, None, None, None, "none", assumptions)


def benchmark_multiplier(
    benchmark: float,
    proportion: float,
    proportion_low: float | None = None,
    proportion_high: float | None = None,
    sample_size: int | None = None,
    confidence: float = 0.95,
) -> MultiplierEstimate:
    """N = benchmark / proportion, with bounds from supplied proportion bounds or a Wilson interval.

    ``proportion`` is a share in (0, 1] (0.25, not 25). Give either both proportion bounds or the survey
    ``sample_size`` the proportion came from, or neither (then the interval is absent).
    """
    count = require_finite("benchmark", benchmark, minimum=0.0)
    return _bounded_ratio(
        "benchmark_multiplier",
        count,
        proportion,
        proportion_low,
        proportion_high,
        sample_size,
        confidence,
        ("proportion", "proportion_low", "proportion_high"),
        BENCHMARK_ASSUMPTIONS,
    )


def mortality_multiplier(
    deaths: float,
    mortality_rate: float,
    rate_low: float | None = None,
    rate_high: float | None = None,
    confidence: float = 0.95,
) -> MultiplierEstimate:
    """N = deaths / annual mortality rate (a share per person-year, e.g. 0.01), bounds from rate bounds."""
    count = require_finite("deaths", deaths, minimum=0.0)
    return _bounded_ratio(
        "mortality_multiplier",
        count,
        mortality_rate,
        rate_low,
        rate_high,
        None,
        confidence,
        ("mortality_rate", "rate_low", "rate_high"),
        MORTALITY_ASSUMPTIONS,
    )
