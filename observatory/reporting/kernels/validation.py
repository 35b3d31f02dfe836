"""One call that validates a submission: rule violations, completeness and year-on-year outliers.

Outliers compare each reported number with the same cell in the country's earlier years:
the z-score (distance from the mean in standard deviations) and the modified z-score of Iglewicz and
Hoaglin (0.6745 · distance from the median / median absolute deviation), which a single wild year in
the history does not distort.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from observatory.reporting.kernels.instrument import CellKey, Instrument, Value, cell_key
from observatory.reporting.kernels.rules import CompiledRuleSet, ModuleCompleteness, Violation, as_number

OutlierMethod = Literal["z", "modified_z"]
DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = {"z": 3.0, "modified_z": 3.5}  # 3.5: Iglewicz–Hoaglin
MODIFIED_Z_CONSTANT: Final = 0.6745  # makes the MAD consistent with the standard deviation of a normal
MEAN_ABSOLUTE_DEVIATION_CONSTANT: Final = 0.7979  # the same, for the mean absolute deviation fallback


@dataclass(frozen=True, slots=True)
class Outlier:
    cell: CellKey
    value: float
    score: float
    method: str
    centre: float  # mean (z) or median (modified z) of the history
    history_years: int


@dataclass(frozen=True, slots=True)
class ValidationReport:
    violations: tuple[Violation, ...]
    completeness: tuple[ModuleCompleteness, ...]
    outliers: tuple[Outlier, ...]

    def by_importance(self, importance: str) -> tuple[Violation, ...]:
        return tuple(violation for violation in self.violations if violation.importance == importance)


def find_outliers(
    current: Mapping[CellKey, Value],
    history: Mapping[int, Mapping[CellKey, Value]],
    *,
    method: OutlierMethod = "modified_z",
    threshold: float | None = None,
    min_history: int = 3,
) -> list[Outlier]:
    """Cells whose value is far from the same cell's values in earlier years (`history`: year -> values).

    A cell needs `min_history` earlier numbers; a history with no spread gives no score (a constant
    series followed by a change is a question for the analyst, not a statistic).
    """
    if method not in DEFAULT_THRESHOLDS:
        raise ValueError(f"unknown outlier method {method!r}; use 'z' or 'modified_z'")
    limit = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
    if not current or not history:
        return []
    # The numbers of the submission (as_number: NaN for what is not a number), finite ones only.
    reported = np.fromiter(map(as_number, current.values()), np.float64, len(current))
    numeric = np.flatnonzero(np.isfinite(reported))
    if numeric.size == 0:
        return []
    every_key = list(current)
    keys = [every_key[index] for index in numeric.tolist()]
    numbers = reported[numeric]
    years = sorted(history)
    matrix = np.empty((len(keys), len(years)))
    for column, year in enumerate(years):
        year_values = history[year]
        matrix[:, column] = np.fromiter(map(as_number, map(year_values.get, keys)), np.float64, len(keys))
    matrix[~np.isfinite(matrix)] = np.nan
    counts = np.count_nonzero(~np.isnan(matrix), axis=1)
    rows = np.flatnonzero(counts >= max(min_history, 2))
    if rows.size == 0:
        return []
    series = matrix[rows]
    values = numbers[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "z":
            centre = np.nanmean(series, axis=1)
            spread = np.nanstd(series, axis=1, ddof=1)
            scores = (values - centre) / spread
        else:
            row_counts = counts[rows]
            centre = _row_nanmedian(series, row_counts)
            deviations = np.abs(series - centre[:, None])
            mad = _row_nanmedian(deviations, row_counts)
            scores = MODIFIED_Z_CONSTANT * (values - centre) / mad
            # Half the history equal to the median makes MAD 0; fall back to the mean absolute deviation.
            mean_ad = np.nanmean(deviations, axis=1)
            fallback = MEAN_ABSOLUTE_DEVIATION_CONSTANT * (values - centre) / mean_ad
            scores = np.where(mad > 0, scores, fallback)
    flagged = np.flatnonzero(np.isfinite(scores) & (np.abs(scores) > limit))
    flagged_rows = rows[flagged]
    return [
        Outlier(cell=keys[row], value=value, score=score, method=method, centre=middle, history_years=years_seen)
        for row, value, score, middle, years_seen in zip(
            flagged_rows.tolist(), values[flagged].tolist(), scores[flagged].tolist(),
            centre[flagged].tolist(), counts[flagged_rows].tolist(), strict=True,
        )
    ]  # fmt: skip


def _row_nanmedian(matrix: npt.NDArray[np.float64], counts: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    """Median of each row ignoring NaN (np.nanmedian along an axis is slow on many short rows)."""
    ordered = np.sort(matrix, axis=1)  # NaN sorts last
    lower = np.take_along_axis(ordered, ((counts - 1) // 2)[:, None], axis=1)[:, 0]
    upper = np.take_along_axis(ordered, (counts // 2)[:, None], axis=1)[:, 0]
    return (lower + upper) / 2.0


def validate_submission(
    rule_set: CompiledRuleSet,
    values: Mapping[CellKey, Value],
    history: Mapping[int, Mapping[CellKey, Value]] | None = None,
    *,
    outlier_method: OutlierMethod = "modified_z",
    outlier_threshold: float | None = None,
    completeness_importance: str = "medium",
) -> ValidationReport:
    """Rule violations (then missing mandatory items), completeness per module, outliers vs history."""
    violations = rule_set.evaluate(values) + rule_set.completeness_violations(values, completeness_importance)
    outliers = (
        find_outliers(values, history, method=outlier_method, threshold=outlier_threshold) if history else []
    )
    return ValidationReport(tuple(violations), tuple(rule_set.completeness(values)), tuple(outliers))


# ------------------------------------------------------------------------------ synthetic submissions


_TOTAL_CODES: Final = frozenset({"all_drugs", "total", "all"})
_PARENT_DRUG: Final = {"cocaine_salt", "crack", "coca_paste", "amphetamine", "methamphetamine"}
_NEUTRAL_DIMENSIONS: Final = frozenset(
    {"period", "estimate", "statistic", "crop", "disease", "sale_level", "seizure_unit"}
)


def synthetic_submission(
    instrument: Instrument, seed: int = 0, *, omit: frozenset[str] = frozenset({"cu_status"})
) -> dict[CellKey, Value]:
    """A complete, internally consistent submission (every cell of every question not in `omit`).

    For tests and benchmarks.  Built so the shipped rules hold: prevalence falls from lifetime to past
    month, a total is at least the sum of its parts, low <= best <= high, minimum <= typical <= maximum.
    (`cu_status` is omitted by default because it excludes a cultivated area.)
    """
    rng = np.random.default_rng(seed)
    period_factor = {"lifetime": 1.0, "past_year": 0.5, "past_month": 0.25}
    bound_factor = {"low": 0.8, "best": 1.0, "high": 1.25, "minimum": 0.5, "typical": 1.0, "maximum": 2.0}
    sex_factor = {"male": 1.2, "female": 0.8}
    values: dict[CellKey, Value] = {}
    for question in instrument.questions():
        if question.code in omit:
            continue
        level_of = {code: float(rng.uniform(1.0, 4.0)) for qd in question.dimensions for code in qd.codes}
        for key in question.cells():
            dims = dict(key[1])
            bound = bound_factor.get(dims.get("estimate", dims.get("statistic", "")), 1.0)
            if question.value_type == "choice":
                values[key] = question.options[int(rng.integers(len(question.options)))].code
            elif question.value_type == "text":
                values[key] = "15-64" if "age" in question.code else "AFG, PAK"
            elif question.value_type == "year_range":
                values[key] = (2022, 2023)
            elif question.unit == "years":
                values[key] = round(float(rng.uniform(20, 40)), 1)
            elif question.value_type == "percentage":
                level = level_of[dims.get("drug", dims.get("disease", ""))] if dims else 5.0
                level *= (
                    period_factor.get(dims.get("period", ""), 1.0)
                    * bound
                    * sex_factor.get(dims.get("sex", ""), 1.0)
                )
                values[key] = round(min(level, 40.0), 3)
            else:
                # A total is 10^6 units; each non-total code takes 5% (1% for a drug's sub-type), so any
                # sum of parts stays under its total whatever the number of parts.
                share = 1.0
                for dim, code in dims.items():
                    if dim not in _NEUTRAL_DIMENSIONS and code not in _TOTAL_CODES:
                        share *= 0.01 if code in _PARENT_DRUG else 0.05
                if "eradication_method" in dims:
                    share *= 0.5  # what is eradicated stays below what was cultivated
                amount = 1e6 * share * bound * float(rng.uniform(0.9, 1.0))
                values[key] = int(amount) if question.value_type == "integer" else round(amount, 2)
    return values


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    instances: int
    cells_per_submission: int
    median_one_submission_ms: float
    median_all_submissions_s: float
    submissions: int


def benchmark_rule_evaluation(
    rule_set: CompiledRuleSet, submissions: int = 200, repeat: int = 5
) -> BenchmarkResult:
    """Median time to validate one complete submission, and `submissions` of them (kernel only)."""
    batch = [synthetic_submission(rule_set.instrument, seed) for seed in range(submissions)]
    history = {2020 + offset: synthetic_submission(rule_set.instrument, 1000 + offset) for offset in range(3)}
    one: list[float] = []
    every: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        validate_submission(rule_set, batch[0], history)
        one.append(time.perf_counter() - start)
        start = time.perf_counter()
        for values in batch:
            validate_submission(rule_set, values, history)
        every.append(time.perf_counter() - start)
    return BenchmarkResult(
        instances=rule_set.instance_count, cells_per_submission=len(batch[0]),
        median_one_submission_ms=float(np.median(one)) * 1000, median_all_submissions_s=float(np.median(every)),
        submissions=submissions,
    )  # fmt: skip


__all__ = [
    "BenchmarkResult", "Outlier", "ValidationReport", "benchmark_rule_evaluation", "cell_key",
    "find_outliers", "synthetic_submission", "validate_submission",
]  # fmt: skip
