"""Outlier scores for reported values: z-score, modified z-score, min–max scaling, ranking, and a
year-on-year check of one value against a country's own history."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

Z_SCORE = "z_score"
MODIFIED_Z_SCORE = "modified_z_score"
MIN_MAX = "min_max"
METHODS = (Z_SCORE, MODIFIED_Z_SCORE, MIN_MAX)

# Iglewicz & Hoaglin (1993): 0.6745 is the 0.75 quantile of N(0,1), making MAD consistent with σ;
# 3.5 is their recommended cut-off.
_MAD_CONSTANT = 0.6745
# When MAD is 0 (more than half the values equal) fall back to the mean absolute deviation, scaled by
# sqrt(2/π) ≈ 0.7979 so it too estimates σ for normal data.
_MEAN_AD_CONSTANT = 0.7979
DEFAULT_THRESHOLDS = {Z_SCORE: 3.0, MODIFIED_Z_SCORE: 3.5, MIN_MAX: 1.0}


def _as_array(values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("values must be a one-dimensional sequence of numbers")
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite numbers (no NaN or infinity)")
    return array


def z_scores(values: ArrayLike, ddof: int = 1) -> FloatArray:
    """(x − mean) / standard deviation; all zeros when the values do not vary."""
    array = _as_array(values)
    if array.size <= ddof:
        return np.zeros_like(array)
    spread = float(np.std(array, ddof=ddof))
    if spread == 0.0:
        return np.zeros_like(array)
    return (array - array.mean()) / spread


def modified_z_scores(values: ArrayLike) -> FloatArray:
    """Iglewicz–Hoaglin 0.6745·(x − median)/MAD, robust to the outliers it looks for."""
    array = _as_array(values)
    if array.size == 0:
        return array
    median = float(np.median(array))
    deviations = array - median
    mad = float(np.median(np.abs(deviations)))
    if mad > 0.0:
        return _MAD_CONSTANT * deviations / mad
    mean_ad = float(np.mean(np.abs(deviations)))
    if mean_ad == 0.0:
        return np.zeros_like(array)
    return deviations / (mean_ad / _MEAN_AD_CONSTANT)


def min_max_scale(values: ArrayLike) -> FloatArray:
    """(x − min)/(max − min) in [0, 1]; all zeros when the values do not vary."""
    array = _as_array(values)
    if array.size == 0:
        return array
    span = float(array.max() - array.min())
    if span == 0.0:
        return np.zeros_like(array)
    return (array - array.min()) / span


@dataclass(frozen=True)
class OutlierScore:
    rank: int
    key: str
    value: float
    score: float
    is_outlier: bool
    method: str
    threshold: float


def score_values(
    values: ArrayLike, method: str = MODIFIED_Z_SCORE, threshold: float | None = None
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], float]:
    """Scores, unusualness, outlier flags and the threshold used, for the values in their order.

    Unusualness is |score| for the z-scores. For min–max, it is the distance from the median scaled value
    doubled, so 1.0 means the value sits at an extreme; a value is then an outlier at ≥ threshold (default
    1.0). For the z-scores a value is an outlier above the threshold.
    """
    if method not in METHODS:
        raise ValueError(f"unknown outlier method {method!r}; choose one of {METHODS}")
    cut = DEFAULT_THRESHOLDS[method] if threshold is None else float(threshold)
    array = _as_array(values)
    if method == Z_SCORE:
        scores = z_scores(array)
        unusual = np.abs(scores)
    elif method == MODIFIED_Z_SCORE:
        scores = modified_z_scores(array)
        unusual = np.abs(scores)
    else:
        scores = min_max_scale(array)
        unusual = 2.0 * np.abs(scores - float(np.median(scores))) if array.size else scores
    flags = unusual >= cut if method == MIN_MAX else unusual > cut
    return scores, unusual, flags, cut


def rank_outliers(
    items: Sequence[tuple[str, float]], method: str = MODIFIED_Z_SCORE, threshold: float | None = None
) -> list[OutlierScore]:
    """Score every (key, value) and order them from most to least unusual (see :func:`score_values`);
    ties in unusualness are ordered by key."""
    if method not in METHODS:
        raise ValueError(f"unknown outlier method {method!r}; choose one of {METHODS}")
    cut = DEFAULT_THRESHOLDS[method] if threshold is None else float(threshold)
    if not items:
        return []
    keys = [str(key) for key, _ in items]
    values = _as_array([value for _, value in items])
    scores, unusual, flags, cut = score_values(values, method, cut)
    order = sorted(range(len(keys)), key=lambda i: (-float(unusual[i]), keys[i]))
    return [
        OutlierScore(
            rank=position + 1,
            key=keys[i],
            value=float(values[i]),
            score=float(scores[i]),
            is_outlier=bool(flags[i]),
            method=method,
            threshold=cut,
        )
        for position, i in enumerate(order)
    ]


@dataclass(frozen=True)
class YearOnYearCheck:
    year: int
    value: float
    previous_year: int | None
    previous_value: float | None
    change_ratio: float | None
    history_median: float | None
    modified_z_against_history: float | None
    flagged: bool
    reasons: tuple[str, ...]


def year_on_year_check(
    history: Mapping[int, float],
    year: int,
    value: float,
    max_change_factor: float = 2.0,
    modified_z_threshold: float = 3.5,
    minimum_history: int = 3,
) -> YearOnYearCheck:
    """Compare a value with the same country's earlier years.

    Flags when the value is more than ``max_change_factor`` times (or less than 1/factor of) the latest
    earlier value, or when its modified z-score against the earlier years exceeds the threshold (only with
    at least ``minimum_history`` earlier years, since the median and MAD of fewer say little).
    """
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}")
    if max_change_factor <= 1.0:
        raise ValueError("max_change_factor must be greater than 1 (e.g. 2.0 flags doubling or halving)")
    earlier = sorted((y, float(v)) for y, v in history.items() if y < year)
    reasons: list[str] = []
    previous_year = previous_value = change_ratio = None
    if earlier:
        previous_year, previous_value = earlier[-1]
        if previous_value != 0.0:
            change_ratio = value / previous_value
            if change_ratio > max_change_factor or change_ratio < 1.0 / max_change_factor:
                reasons.append(f"changed by a factor of {change_ratio:.3g} since {previous_year}")
        elif value != 0.0:
            reasons.append(f"was 0 in {previous_year}, now {value:g}")
    history_median = modified = None
    if len(earlier) >= minimum_history:
        past = [v for _, v in earlier]
        history_median = float(np.median(past))
        modified = float(modified_z_scores([*past, value])[-1])
        if abs(modified) > modified_z_threshold:
            reasons.append(f"modified z-score {modified:.3g} against {len(past)} earlier years")
    return YearOnYearCheck(
        year=year,
        value=float(value),
        previous_year=previous_year,
        previous_value=previous_value,
        change_ratio=change_ratio,
        history_median=history_median,
        modified_z_against_history=modified,
        flagged=bool(reasons),
        reasons=tuple(reasons),
    )
