"""The hidden-population calculators as the CLI, the API and the pages use them: inputs in, one plain
JSON-safe summary out (estimate, interval, assumptions, details). No Django; the numbers come from the
kernels. Saved country estimates store exactly this summary, recomputed on the server from the inputs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, cast

from observatory.analysis.kernels.capture_recapture import CHAPMAN, two_source_estimate
from observatory.analysis.kernels.loglinear import analyse_loglinear
from observatory.analysis.kernels.multiplier import benchmark_multiplier, mortality_multiplier

CAPTURE_RECAPTURE = "capture_recapture"
LOGLINEAR = "loglinear"
BENCHMARK_MULTIPLIER = "benchmark_multiplier"
MORTALITY_MULTIPLIER = "mortality_multiplier"
METHODS = (CAPTURE_RECAPTURE, LOGLINEAR, BENCHMARK_MULTIPLIER, MORTALITY_MULTIPLIER)


@dataclass(frozen=True)
class CalculatorResult:
    method: str
    estimate: float
    low: float | None
    high: float | None
    confidence: float | None
    interval_method: str
    assumptions: tuple[str, ...]
    inputs: dict[str, Any]
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))


def json_safe(value: Any) -> Any:
    """Tuples to lists, infinities and NaN to None (JSON has neither), mappings to plain dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def capture_recapture(
    n1: int, n2: int, m: int, estimator: str = CHAPMAN, confidence: float = 0.95
) -> CalculatorResult:
    result = two_source_estimate(n1, n2, m, estimator, confidence)
    return CalculatorResult(
        method=CAPTURE_RECAPTURE,
        estimate=result.estimate,
        low=result.interval.lower,
        high=result.interval.upper,
        confidence=result.confidence,
        interval_method=result.interval.method,
        assumptions=result.assumptions,
        inputs={
            "n1": result.n1,
            "n2": result.n2,
            "m": result.m,
            "estimator": estimator,
            "confidence": confidence,
        },
        details=json_safe(
            {
                "estimator": result.method,
                "standard_error": result.standard_error,
                "observed_distinct": result.observed_distinct,
                "unobserved_estimate": result.unobserved_estimate,
                "wald_interval": asdict(result.wald_interval),
                "log_normal_interval": asdict(result.log_normal_interval),
            }
        ),
    )


def parse_cells_json(text: str) -> dict[str, int]:
    """``'{"100": 69, ...}'`` → dict, with a clear message when it is not a JSON object of counts."""
    try:
        cells = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"cells must be a JSON object such as '{{\"100\": 69}}': {error.msg}") from None
    if not isinstance(cells, dict):
        raise ValueError("cells must be a JSON object keyed by membership pattern, e.g. '{\"100\": 69}'")
    return cells


def loglinear(cells: Mapping[str, object], confidence: float = 0.95) -> CalculatorResult:
    analysis = analyse_loglinear(cast(Mapping[str, int], cells), confidence=confidence)
    average = analysis.average
    models = [
        {
            "name": fit.name,
            "deviance": fit.deviance,
            "df": fit.df,
            "aic": fit.aic,
            "bic": fit.bic,
            "estimate": fit.total_estimate,
            "low": fit.profile_interval.lower,
            "high": fit.profile_interval.upper,
            "weight": average.weights.get(fit.name, 0.0),
            "converged": fit.converged,
        }
        for fit in analysis.models
    ]
    return CalculatorResult(
        method=LOGLINEAR,
        estimate=average.total_estimate,
        low=_finite_or_none(average.interval.lower),
        high=_finite_or_none(average.interval.upper),
        confidence=analysis.confidence,
        interval_method=average.interval.method,
        assumptions=analysis.assumptions,
        inputs={"cells": dict(analysis.cells), "confidence": confidence},
        details=json_safe(
            {
                "observed": analysis.observed,
                "best_model_by_aic": analysis.best_model_by_aic,
                "averaging": average.method,
                "standard_error": average.standard_error,
                "bic_sample_size": analysis.bic_sample_size,
                "models": models,
            }
        ),
    )


def benchmark(
    benchmark: float,
    proportion: float,
    proportion_low: float | None = None,
    proportion_high: float | None = None,
    sample_size: int | None = None,
    confidence: float = 0.95,
) -> CalculatorResult:
    result = benchmark_multiplier(
        benchmark, proportion, proportion_low, proportion_high, sample_size, confidence
    )
    return CalculatorResult(
        method=BENCHMARK_MULTIPLIER,
        estimate=result.estimate,
        low=_finite_or_none(result.lower),
        high=_finite_or_none(result.upper),
        confidence=result.confidence,
        interval_method=result.interval_method,
        assumptions=result.assumptions,
        inputs={
            "benchmark": benchmark,
            "proportion": proportion,
            "proportion_low": proportion_low,
            "proportion_high": proportion_high,
            "sample_size": sample_size,
            "confidence": confidence,
        },
        details={"multiplier": 1.0 / result.multiplier_basis},
    )


def mortality(
    deaths: float,
    mortality_rate: float,
    rate_low: float | None = None,
    rate_high: float | None = None,
) -> CalculatorResult:
    result = mortality_multiplier(deaths, mortality_rate, rate_low, rate_high)
    return CalculatorResult(
        method=MORTALITY_MULTIPLIER,
        estimate=result.estimate,
        low=_finite_or_none(result.lower),
        high=_finite_or_none(result.upper),
        confidence=result.confidence,
        interval_method=result.interval_method,
        assumptions=result.assumptions,
        inputs={
            "deaths": deaths,
            "mortality_rate": mortality_rate,
            "rate_low": rate_low,
            "rate_high": rate_high,
        },
        details={"multiplier": 1.0 / result.multiplier_basis},
    )


def calculate(method: str, inputs: Mapping[str, Any]) -> CalculatorResult:
    """Dispatch by method name with keyword inputs (what a saved estimate stores and replays)."""
    arguments = {key: value for key, value in inputs.items() if value is not None}
    try:
        if method == CAPTURE_RECAPTURE:
            return capture_recapture(**arguments)
        if method == LOGLINEAR:
            return loglinear(**arguments)
        if method == BENCHMARK_MULTIPLIER:
            return benchmark(**arguments)
        if method == MORTALITY_MULTIPLIER:
            return mortality(**arguments)
    except TypeError as error:
        raise ValueError(f"wrong inputs for {method}: {error}") from None
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def format_text(result: CalculatorResult) -> str:
    """The human-readable print-out of the CLI."""
    lines = [f"method: {result.method}", f"estimate: {result.estimate:,.1f}"]
    if result.low is not None and result.high is not None:
        level = f"{result.confidence:.0%} " if result.confidence is not None else ""
        lines.append(f"{level}interval: {result.low:,.1f} – {result.high:,.1f} ({result.interval_method})")
    else:
        lines.append(f"interval: none ({result.interval_method})")
    lines.append("assumptions:")
    lines.extend(f"  - {assumption}" for assumption in result.assumptions)
    return "\n".join(lines)
