"""Multi-source (k-list) log-linear capture–recapture, with the three-list case as the main use.

Data are counts of the observed membership patterns: a key such as ``"101"`` counts the people on list 1
and list 3 but not list 2. The all-zero pattern (people on no list) is the unknown to estimate.

Each model is a Poisson GLM on the 2^k − 1 observed cells with an intercept, one main effect per list and a
chosen set of two-way interactions (hierarchical, never the k-way term, which is not identifiable). The
fitted value of the missing all-zero cell is exp(intercept), so N̂ = observed + exp(β₀).

Intervals for N use Cormack's profile likelihood (Cormack 1992, Biometrics 48:567–576): put a trial count z
in the missing cell, refit the model to the completed table and keep every z whose deviance exceeds the
minimum by at most the χ²₁ quantile. Model averaging uses Akaike weights and Buckland et al.'s (1997,
Biometrics 53:603–618) unconditional standard error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import gammaln
from scipy.stats import chi2

from observatory.analysis.kernels._validation import require_confidence, require_count
from observatory.analysis.kernels.capture_recapture import Interval, log_normal_interval

FloatArray = NDArray[np.float64]
Interaction = tuple[int, int]

LOGLINEAR_ASSUMPTIONS: tuple[str, ...] = (
    "closed population: nobody enters or leaves the population during the listing period",
    "no three-way (highest-order) interaction: dependence between lists is captured by the two-way terms",
    "homogeneity within cells: people with the same membership pattern share the same capture probabilities",
    "perfect matching: records of the same person are linked across lists without error",
)

_MAX_ITERATIONS = 100
_BOUNDARY_PARAMETER = 25.0
_TOLERANCE = 1e-10
# Beyond this many lists the number of candidate models (2^(k(k-1)/2)) is too large to fit all of them.
_MAX_LISTS_FOR_ALL_MODELS = 4


@dataclass(frozen=True)
class LogLinearFit:
    """One fitted log-linear model."""

    name: str
    interactions: tuple[Interaction, ...]
    parameter_names: tuple[str, ...]
    parameters: tuple[float, ...]
    standard_errors: tuple[float, ...]
    fitted: Mapping[str, float]
    deviance: float
    df: int
    log_likelihood: float
    aic: float
    bic: float
    observed: int
    unobserved_estimate: float
    total_estimate: float
    total_standard_error: float
    profile_interval: Interval
    converged: bool


@dataclass(frozen=True)
class ModelAverage:
    """AIC-weighted average over the converged models."""

    weights: Mapping[str, float]
    total_estimate: float
    standard_error: float
    interval: Interval
    method: str


@dataclass(frozen=True)
class LogLinearAnalysis:
    """Every candidate model, the AIC-best one and the model average, with the data and assumptions."""

    list_count: int
    cells: Mapping[str, int]
    observed: int
    models: tuple[LogLinearFit, ...]
    best_model_by_aic: str
    average: ModelAverage
    confidence: float
    bic_sample_size: str
    assumptions: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------
# Input handling and design matrices
# ---------------------------------------------------------------------------------------------------------


def parse_cells(cells: Mapping[str, object]) -> tuple[int, dict[str, int]]:
    """Validate membership-pattern counts; return the number of lists and a clean pattern → count map."""
    if not cells:
        raise ValueError("no cell counts given: pass counts keyed by membership pattern such as '101'")
    lengths = {len(str(key)) for key in cells}
    if len(lengths) != 1:
        raise ValueError(f"all membership patterns must have the same length, got lengths {sorted(lengths)}")
    list_count = lengths.pop()
    if list_count < 2:
        raise ValueError("membership patterns need at least two lists (e.g. '10', '01', '11')")
    clean: dict[str, int] = {}
    for key, value in cells.items():
        pattern = str(key)
        if set(pattern) - {"0", "1"}:
            raise ValueError(f"membership pattern {pattern!r} must contain only 0 and 1")
        if pattern == "0" * list_count:
            raise ValueError(
                f"pattern {pattern!r} (on no list) is unobservable: it is what the model estimates"
            )
        clean[pattern] = require_count(f"count for pattern {pattern!r}", value)
    expected = observable_patterns(list_count)
    missing = [pattern for pattern in expected if pattern not in clean]
    if missing:
        raise ValueError(
            f"missing counts for membership patterns {missing}; give 0 where nobody was observed"
        )
    return list_count, {pattern: clean[pattern] for pattern in expected}


def observable_patterns(list_count: int) -> list[str]:
    """All 2^k − 1 patterns except the all-zero one, in a fixed order."""
    patterns = ["".join(bits) for bits in itertools.product("01", repeat=list_count)]
    return [pattern for pattern in patterns if "1" in pattern]


def interaction_name(pair: Interaction) -> str:
    return f"L{pair[0] + 1}:L{pair[1] + 1}"


def model_name(interactions: Sequence[Interaction]) -> str:
    """Human name: ``independence`` or the list of two-way terms, e.g. ``L1:L2 + L1:L3``."""
    if not interactions:
        return "independence"
    return " + ".join(interaction_name(pair) for pair in interactions)


def design_matrix(patterns: Sequence[str], interactions: Sequence[Interaction]) -> FloatArray:
    """Columns: intercept, one indicator per list, one product per interaction."""
    list_count = len(patterns[0])
    rows = []
    for pattern in patterns:
        bits = [float(ch) for ch in pattern]
        rows.append([1.0, *bits, *(bits[i] * bits[j] for i, j in interactions)])
    matrix = np.asarray(rows, dtype=np.float64)
    assert matrix.shape[1] == 1 + list_count + len(interactions)
    return matrix


def parameter_names(list_count: int, interactions: Sequence[Interaction]) -> tuple[str, ...]:
    return ("intercept", *(f"L{i + 1}" for i in range(list_count)), *map(interaction_name, interactions))


def all_hierarchical_models(list_count: int) -> list[tuple[Interaction, ...]]:
    """Every set of two-way interactions (without the k-way term), from independence upwards."""
    pairs = list(itertools.combinations(range(list_count), 2))
    return [subset for size in range(len(pairs) + 1) for subset in itertools.combinations(pairs, size)]


# ---------------------------------------------------------------------------------------------------------
# Poisson GLM by iteratively reweighted least squares
# ---------------------------------------------------------------------------------------------------------


def poisson_deviance(observed: FloatArray, fitted: FloatArray) -> float:
    """2·Σ[y·ln(y/μ) − (y − μ)], with the y = 0 terms equal to 2μ."""
    positive = observed > 0
    terms = fitted - observed
    terms[positive] += observed[positive] * np.log(observed[positive] / fitted[positive])
    # Rounding can leave a perfect fit a hair below zero; a deviance is never negative.
    return max(float(2.0 * terms.sum()), 0.0)


def fit_poisson_glm(
    design: FloatArray, counts: FloatArray, start: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, bool]:
    """Fit log μ = Xβ by IRLS. Returns (β, fitted μ, converged)."""
    if start is None:
        mu = counts + 0.5  # start away from zero so the log link is defined
        eta = np.log(mu)
    else:
        eta = design @ start
        mu = np.exp(eta)
    beta = np.zeros(design.shape[1]) if start is None else start.copy()
    previous = math.inf
    for _ in range(_MAX_ITERATIONS):
        working_response = eta + (counts - mu) / mu
        weighted = design * mu[:, None]
        # lstsq rather than solve: X'WX is near-singular when a fitted cell heads to zero.
        solution, *_ = np.linalg.lstsq(design.T @ weighted, weighted.T @ working_response, rcond=None)
        beta = np.asarray(solution, dtype=np.float64)
        eta = np.clip(design @ beta, -700.0, 700.0)  # keep exp() finite when an MLE does not exist
        mu = np.exp(eta)
        deviance = poisson_deviance(counts, mu)
        if abs(previous - deviance) <= _TOLERANCE * (abs(deviance) + 0.1):
            return beta, mu, True
        previous = deviance
    return beta, mu, False


def _poisson_log_likelihood(counts: FloatArray, fitted: FloatArray) -> float:
    positive = counts > 0
    log_mu_terms = np.zeros_like(counts)
    log_mu_terms[positive] = counts[positive] * np.log(fitted[positive])
    return float(np.sum(log_mu_terms - fitted - gammaln(counts + 1.0)))


# ---------------------------------------------------------------------------------------------------------
# Single model, profile interval, all models, averaging
# ---------------------------------------------------------------------------------------------------------


def _completed_table_deviance(
    design_all: FloatArray, counts_observed: FloatArray, missing_count: float, start: FloatArray
) -> float:
    counts = np.concatenate(([missing_count], counts_observed))
    _, fitted, _ = fit_poisson_glm(design_all, counts, start)
    return poisson_deviance(counts, fitted)


def profile_likelihood_interval(
    cells: Mapping[str, int],
    interactions: Sequence[Interaction],
    confidence: float = 0.95,
) -> Interval:
    """Cormack's profile-likelihood interval for the total N under one model.

    The lower bound never goes below the observed count (z ≥ 0); an upper bound that cannot be found below
    10⁶ times the observed count is reported as infinity (the data do not bound N).
    """
    list_count, clean = parse_cells(cells)
    level = require_confidence(confidence)
    patterns = observable_patterns(list_count)
    counts = np.asarray([clean[p] for p in patterns], dtype=np.float64)
    observed = float(counts.sum())
    design_observed = design_matrix(patterns, interactions)
    beta, _, converged = fit_poisson_glm(design_observed, counts)
    minimum = poisson_deviance(counts, np.exp(design_observed @ beta))
    unobserved = float(np.exp(beta[0]))
    if not converged or not math.isfinite(unobserved):
        return Interval(math.nan, math.nan, level, "profile_likelihood_cormack")
    design_all = design_matrix(["0" * list_count, *patterns], interactions)
    threshold = float(chi2.ppf(level, 1))

    def excess(z: float) -> float:
        return _completed_table_deviance(design_all, counts, z, beta) - minimum - threshold

    lower_z = 0.0 if excess(0.0) <= 0 else brentq(excess, 0.0, unobserved, xtol=1e-6)
    upper_z = math.inf
    ceiling = max(observed, 1.0) * 1e6
    step = max(unobserved, 1.0)
    probe_low, probe_high = unobserved, unobserved + step
    while probe_high <= ceiling:
        if excess(probe_high) > 0:
            upper_z = brentq(excess, probe_low, probe_high, xtol=1e-6)
            break
        probe_low, probe_high = probe_high, probe_high * 2.0
    return Interval(observed + lower_z, observed + upper_z, level, "profile_likelihood_cormack")


def fit_loglinear_model(
    cells: Mapping[str, int],
    interactions: Sequence[Interaction] = (),
    confidence: float = 0.95,
) -> LogLinearFit:
    """Fit one log-linear model; interactions are zero-based list index pairs, e.g. ``[(0, 1)]``."""
    list_count, clean = parse_cells(cells)
    level = require_confidence(confidence)
    pairs = tuple(sorted((min(a, b), max(a, b)) for a, b in interactions))
    for a, b in pairs:
        if a == b or not (0 <= a < list_count and 0 <= b < list_count):
            raise ValueError(f"interaction {(a, b)} must join two different lists among 0..{list_count - 1}")
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"interaction listed twice in {list(interactions)}")
    patterns = observable_patterns(list_count)
    counts = np.asarray([clean[p] for p in patterns], dtype=np.float64)
    design = design_matrix(patterns, pairs)
    parameter_count = design.shape[1]
    if parameter_count > len(patterns):
        raise ValueError(f"model {model_name(pairs)} has more parameters than observable cells")
    beta, fitted, converged = fit_poisson_glm(design, counts)
    # Empty cells can make the MLE not exist (a parameter runs off to ±∞); treat that as not converged so
    # the model is reported but kept out of the average.
    converged = converged and bool(np.all(np.abs(beta[1:]) < _BOUNDARY_PARAMETER))
    covariance = np.linalg.pinv(design.T @ (design * fitted[:, None]))
    standard_errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    unobserved = float(np.exp(beta[0]))
    observed = int(counts.sum())
    deviance = poisson_deviance(counts, fitted)
    log_likelihood = _poisson_log_likelihood(counts, fitted)
    # Var(N̂) = ẑ + ẑ²·Var(β₀): the second term is the delta method, the first the Poisson variation of the
    # unseen count. For two lists under independence this reproduces the Lincoln–Petersen variance exactly.
    total_variance = unobserved + unobserved**2 * float(covariance[0, 0])
    interval = (
        profile_likelihood_interval(clean, pairs, level)
        if converged
        else Interval(math.nan, math.nan, level, "profile_likelihood_cormack")
    )
    return LogLinearFit(
        name=model_name(pairs),
        interactions=pairs,
        parameter_names=parameter_names(list_count, pairs),
        parameters=tuple(float(b) for b in beta),
        standard_errors=tuple(float(s) for s in standard_errors),
        fitted={pattern: float(mu) for pattern, mu in zip(patterns, fitted, strict=True)},
        deviance=deviance,
        df=len(patterns) - parameter_count,
        log_likelihood=log_likelihood,
        aic=-2.0 * log_likelihood + 2.0 * parameter_count,
        # BIC penalises with ln(number of people observed), as Rcapture does for capture histories.
        bic=-2.0 * log_likelihood + parameter_count * math.log(max(observed, 1)),
        observed=observed,
        unobserved_estimate=unobserved,
        total_estimate=observed + unobserved,
        total_standard_error=math.sqrt(total_variance),
        profile_interval=interval,
        converged=converged,
    )


def akaike_weights(aics: Iterable[float]) -> list[float]:
    """exp(−Δᵢ/2) / Σ exp(−Δⱼ/2), with Δ the AIC difference to the best model."""
    values = np.asarray(list(aics), dtype=np.float64)
    relative = np.exp(-(values - values.min()) / 2.0)
    return [float(w) for w in relative / relative.sum()]


def model_average(models: Sequence[LogLinearFit], confidence: float = 0.95) -> ModelAverage:
    """AIC-weighted mean of N̂ over converged models with finite estimates.

    SE: Buckland et al. (1997) unconditional form Σ wᵢ·sqrt(varᵢ + (N̂ᵢ − N̄)²), which adds the spread
    between models to each model's own variance. Interval: Chao's log-normal form around N̄, so it never
    goes below the number of people observed.
    """
    level = require_confidence(confidence)
    usable = [
        fit
        for fit in models
        if fit.converged and math.isfinite(fit.total_estimate) and math.isfinite(fit.total_standard_error)
    ]
    if not usable:
        raise ValueError("no model converged to a finite estimate; the data cannot support an average")
    weights = akaike_weights(fit.aic for fit in usable)
    average = sum(w * fit.total_estimate for w, fit in zip(weights, usable, strict=True))
    standard_error = sum(
        w * math.sqrt(fit.total_standard_error**2 + (fit.total_estimate - average) ** 2)
        for w, fit in zip(weights, usable, strict=True)
    )
    observed = usable[0].observed
    interval = log_normal_interval(average, standard_error**2, observed, level)
    return ModelAverage(
        weights={fit.name: w for fit, w in zip(usable, weights, strict=True)},
        total_estimate=average,
        standard_error=standard_error,
        interval=Interval(interval.lower, interval.upper, level, "model_average_buckland_log_normal"),
        method="akaike_weights",
    )


def analyse_loglinear(
    cells: Mapping[str, int],
    confidence: float = 0.95,
    models: Sequence[Sequence[Interaction]] | None = None,
) -> LogLinearAnalysis:
    """Fit all hierarchical two-way models (8 for three lists), pick the AIC-best and average them.

    ``models`` may name the candidate interaction sets explicitly; it is required beyond four lists,
    where fitting every subset of interactions would be too costly.
    """
    list_count, clean = parse_cells(cells)
    level = require_confidence(confidence)
    if models is None:
        if list_count > _MAX_LISTS_FOR_ALL_MODELS:
            raise ValueError(
                f"{list_count} lists give {2 ** (list_count * (list_count - 1) // 2)} candidate models; "
                "pass the models to fit explicitly"
            )
        candidates: Sequence[Sequence[Interaction]] = all_hierarchical_models(list_count)
    else:
        candidates = models
    fits = tuple(fit_loglinear_model(clean, interactions, level) for interactions in candidates)
    average = model_average(fits, level)
    usable = [fit for fit in fits if fit.name in average.weights]
    best = min(usable, key=lambda fit: fit.aic)
    return LogLinearAnalysis(
        list_count=list_count,
        cells=clean,
        observed=sum(clean.values()),
        models=fits,
        best_model_by_aic=best.name,
        average=average,
        confidence=level,
        bic_sample_size="number of people observed",
        assumptions=LOGLINEAR_ASSUMPTIONS,
    )
