"""Two-source capture–recapture: Lincoln–Petersen and Chapman estimators.

Notation: ``n1`` people on list 1, ``n2`` on list 2, ``m`` matched on both. The number of distinct people
actually observed is ``n1 + n2 - m``; no sensible estimate of the total goes below it.

Intervals:
- Wald: estimate ± z·SE. Symmetric, textbook, and able to fall below the observed count.
- Log-normal (Chao 1987, Biometrics 43:783–791): the unobserved count f0 = N̂ − r (r observed people) is
  taken as log-normal, giving [r + f0/C, r + f0·C] with C = exp(z·sqrt(ln(1 + var/f0²))). It never goes below
  r and is the interval we recommend (``interval`` on the result).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from observatory.analysis.kernels._validation import require_confidence, require_count

LINCOLN_PETERSEN = "lincoln_petersen"
CHAPMAN = "chapman"

TWO_SOURCE_ASSUMPTIONS: tuple[str, ...] = (
    "closed population: nobody enters or leaves the population between the two lists",
    "independence of lists: being on one list does not change the chance of being on the other",
    "homogeneous catchability: every person has the same chance of appearing on a given list",
    "perfect matching: people on both lists are identified without false or missed matches",
)


@dataclass(frozen=True)
class Interval:
    """A confidence interval with the level and the method that produced it."""

    lower: float
    upper: float
    confidence: float
    method: str

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper


@dataclass(frozen=True)
class TwoSourceEstimate:
    """A population-size estimate from two overlapping lists.

    ``interval`` is the recommended (log-normal) interval; both forms are kept for transparency.
    """

    method: str
    n1: int
    n2: int
    m: int
    estimate: float
    variance: float
    standard_error: float
    observed_distinct: int
    unobserved_estimate: float
    confidence: float
    interval: Interval
    wald_interval: Interval
    log_normal_interval: Interval
    assumptions: tuple[str, ...]


def _check_lists(n1: object, n2: object, m: object) -> tuple[int, int, int]:
    first = require_count("n1", n1)
    second = require_count("n2", n2)
    matched = require_count("m", m)
    if matched > first:
        raise ValueError(
            f"m (people on both lists) cannot exceed n1 (people on list 1): m={matched} > n1={first}"
        )
    if matched > second:
        raise ValueError(
            f"m (people on both lists) cannot exceed n2 (people on list 2): m={matched} > n2={second}"
        )
    return first, second, matched


def wald_interval(estimate: float, standard_error: float, confidence: float) -> Interval:
    """Symmetric normal-approximation interval (may fall below the observed count)."""
    z = float(norm.ppf(0.5 + confidence / 2.0))
    return Interval(estimate - z * standard_error, estimate + z * standard_error, confidence, "wald")


def log_normal_interval(estimate: float, variance: float, observed: float, confidence: float) -> Interval:
    """Chao's log-normal interval, bounded below by the ``observed`` count.

    When nobody is estimated unobserved (f0 = 0, which for these estimators implies zero variance) the
    interval collapses to the estimate.
    """
    unobserved = estimate - observed
    if unobserved <= 0.0 or variance <= 0.0:
        return Interval(estimate, estimate, confidence, "log_normal_chao")
    z = float(norm.ppf(0.5 + confidence / 2.0))
    spread = math.exp(z * math.sqrt(math.log1p(variance / unobserved**2)))
    return Interval(
        observed + unobserved / spread, observed + unobserved * spread, confidence, "log_normal_chao"
    )


def _build(
    method: str, n1: int, n2: int, m: int, estimate: float, variance: float, confidence: float
) -> TwoSourceEstimate:
    observed = n1 + n2 - m
    log_normal = log_normal_interval(estimate, variance, observed, confidence)
    standard_error = math.sqrt(variance)
    return TwoSourceEstimate(
        method=method,
        n1=n1,
        n2=n2,
        m=m,
        estimate=estimate,
        variance=variance,
        standard_error=standard_error,
        observed_distinct=observed,
        unobserved_estimate=estimate - observed,
        confidence=confidence,
        interval=log_normal,
        wald_interval=wald_interval(estimate, standard_error, confidence),
        log_normal_interval=log_normal,
        assumptions=TWO_SOURCE_ASSUMPTIONS,
    )


def lincoln_petersen(n1: int, n2: int, m: int, confidence: float = 0.95) -> TwoSourceEstimate:
    """Lincoln–Petersen estimate N = n1·n2/m with variance n1·n2·(n1−m)(n2−m)/m³.

    It is the maximum-likelihood estimate but undefined when no one is matched (m = 0): use Chapman then.
    """
    first, second, matched = _check_lists(n1, n2, m)
    level = require_confidence(confidence)
    if matched == 0:
        raise ValueError(
            "Lincoln–Petersen needs at least one person on both lists (m > 0); "
            "with m = 0 the estimate is infinite — use the Chapman estimator instead"
        )
    estimate = first * second / matched
    variance = first * second * (first - matched) * (second - matched) / matched**3
    return _build(LINCOLN_PETERSEN, first, second, matched, estimate, variance, level)


def chapman(n1: int, n2: int, m: int, confidence: float = 0.95) -> TwoSourceEstimate:
    """Chapman's nearly unbiased estimate N = (n1+1)(n2+1)/(m+1) − 1.

    Variance (Seber 1970): (n1+1)(n2+1)(n1−m)(n2−m) / ((m+1)²(m+2)). Defined for m = 0.
    """
    first, second, matched = _check_lists(n1, n2, m)
    level = require_confidence(confidence)
    estimate = (first + 1) * (second + 1) / (matched + 1) - 1
    variance = (
        (first + 1)
        * (second + 1)
        * (first - matched)
        * (second - matched)
        / ((matched + 1) ** 2 * (matched + 2))
    )
    return _build(CHAPMAN, first, second, matched, estimate, variance, level)


def two_source_estimate(
    n1: int, n2: int, m: int, method: str = CHAPMAN, confidence: float = 0.95
) -> TwoSourceEstimate:
    """Dispatch by method name (``"chapman"`` or ``"lincoln_petersen"``), for the CLI and API."""
    if method == CHAPMAN:
        return chapman(n1, n2, m, confidence)
    if method == LINCOLN_PETERSEN:
        return lincoln_petersen(n1, n2, m, confidence)
    raise ValueError(f"unknown two-source method {method!r}; choose {CHAPMAN!r} or {LINCOLN_PETERSEN!r}")
