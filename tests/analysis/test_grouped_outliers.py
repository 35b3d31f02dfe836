"""The grouped outlier kernel and the questionnaire comparability rules, alone (no database): small
groups, zero MAD, ties, scales, units and currencies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from observatory.analysis import comparability
from observatory.analysis.kernels.grouped_outliers import (
    LOG_TRANSFORM,
    NO_TRANSFORM,
    Group,
    rank_within_groups,
)
from observatory.analysis.kernels.outliers import METHODS, rank_outliers


def groups(*rows: tuple[str, str, float], log_scale: bool = False) -> dict[str, Group]:
    """(group, key, value) rows as the kernel's groups."""
    found: dict[str, tuple[list[str], list[float]]] = {}
    for group, key, value in rows:
        keys, values = found.setdefault(group, ([], []))
        keys.append(key)
        values.append(value)
    return {name: Group(keys, values, log_scale) for name, (keys, values) in found.items()}


def test_given_one_or_two_values_when_the_plain_kernel_scores_them_then_scores_are_finite() -> None:
    for method in ("z_score", "modified_z_score", "min_max"):
        assert [s.score for s in rank_outliers([("A", 5.0)], method)] == [0.0]
        two = rank_outliers([("A", 1.0), ("B", 3.0)], method)
        assert all(math.isfinite(s.score) for s in two)
    # two values: each sits 1 MAD from the median, so ±0.6745; z-scores ±1/√2
    assert [s.score for s in rank_outliers([("A", 1.0), ("B", 3.0)], "modified_z_score")] == pytest.approx(
        [-0.6745, 0.6745]
    )
    assert [s.score for s in rank_outliers([("A", 1.0), ("B", 3.0)], "z_score")] == pytest.approx(
        [-(2**-0.5), 2**-0.5]
    )


def test_given_groups_smaller_than_min_peers_when_ranking_then_they_are_counted_not_scored() -> None:
    observations = groups(
        ("big", "A", 1.0), ("big", "B", 2.0), ("big", "C", 3.0),
        ("pair", "A", 1.0), ("pair", "B", 100.0), ("alone", "A", 7.0),
    )  # fmt: skip

    ranking = rank_within_groups(observations, "modified_z_score")

    assert {score.group for score in ranking.scores} == {"big"}
    assert (ranking.groups_scored, ranking.small_groups, ranking.values_in_small_groups) == (1, 2, 3)
    assert len(rank_within_groups(observations, "modified_z_score", min_peers=2).scores) == 5
    with pytest.raises(ValueError, match="min_peers"):
        rank_within_groups(observations, "modified_z_score", min_peers=1)


def test_given_zero_mad_when_ranking_then_the_mean_absolute_deviation_scales_the_score() -> None:
    # four zeros and a 5: median 0, MAD 0; mean absolute deviation 1, over sqrt(2/π) ≈ 0.7979 gives 1.2533
    observations = {"deaths": Group(list("ABCDE"), [0.0, 0.0, 0.0, 0.0, 5.0])}

    ranking = rank_within_groups(observations, "modified_z_score")

    assert ranking.scores[0].key == "E"
    assert ranking.scores[0].score == pytest.approx(5.0 / (1.0 / 0.7979))
    assert ranking.scores[0].is_outlier and ranking.scores[0].group_median == 0.0
    assert [s.score for s in ranking.scores[1:]] == [0.0] * 4
    same = rank_within_groups({"g": Group(list("ABC"), [3.0] * 3)}, "modified_z_score")
    assert [(s.score, s.is_outlier) for s in same.scores] == [(0.0, False)] * 3


def test_given_ties_across_groups_when_ranking_then_order_is_group_then_key() -> None:
    observations = groups(
        *[(group, key, value) for group in ("b", "a") for key, value in (("Z", 1.0), ("Y", 2.0), ("X", 3.0))]
    )

    ranking = rank_within_groups(observations, "z_score")

    assert [(s.rank, s.group, s.key) for s in ranking.scores] == [
        (1, "a", "X"), (2, "a", "Z"), (3, "b", "X"), (4, "b", "Z"), (5, "a", "Y"), (6, "b", "Y"),
    ]  # fmt: skip
    assert [s.score for s in ranking.scores] == pytest.approx([1.0, -1.0, 1.0, -1.0, 0.0, 0.0])


def test_given_log_scale_when_a_group_holds_a_negative_value_then_it_is_scored_as_it_is() -> None:
    positive = {"g": Group(list("ABC"), [9.0, 99.0, 999.0], log_scale=True)}
    mixed = {"h": Group(list("ABC"), [-1.0, 0.0, 10.0], log_scale=True)}

    ranking = rank_within_groups(positive | mixed, "z_score")

    by_group = {s.group: s.transform for s in ranking.scores}
    assert by_group == {"g": LOG_TRANSFORM, "h": NO_TRANSFORM}
    # log10(1 + x) of 9, 99, 999 is 1, 2, 3: z-scores -1, 0, 1; the median is of the values themselves
    assert {s.key: s.score for s in ranking.scores if s.group == "g"} == pytest.approx(
        {"A": -1.0, "B": 0.0, "C": 1.0}
    )
    assert {s.group_median for s in ranking.scores if s.group == "g"} == {99.0}


def test_given_bad_input_when_ranking_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="same key twice"):
        rank_within_groups({"g": Group(["A"] * 3, [1.0] * 3)}, "z_score")
    with pytest.raises(ValueError, match="not a finite number"):
        rank_within_groups({"g": Group(["A"], [math.nan])}, "z_score")
    with pytest.raises(ValueError, match="2 keys for 1 values"):
        rank_within_groups({"g": Group(["A", "B"], [1.0])}, "z_score")
    with pytest.raises(ValueError, match="unknown outlier method"):
        rank_within_groups({}, "iqr")
    empty = rank_within_groups({}, "min_max")
    assert (empty.scores, len(empty), empty.top(5)) == ([], 0, [])


def test_given_one_group_when_ranked_then_it_agrees_with_the_plain_kernel_for_every_method() -> None:
    rng = np.random.default_rng(7)
    values = [float(v) for v in rng.lognormal(3.0, 1.0, 40)] + [5000.0, 3.0, 3.0]
    keys = [f"K{index:02d}" for index in range(len(values))]
    for method in METHODS:
        plain = rank_outliers(list(zip(keys, values, strict=True)), method)
        ranking = rank_within_groups({"g": Group(keys, values)}, method)
        assert [(s.key, s.score, s.is_outlier) for s in ranking.scores] == [
            (s.key, pytest.approx(s.score, rel=1e-12, abs=1e-15), s.is_outlier) for s in plain
        ], method
        assert [s.rank for s in ranking.top(3)] == [1, 2, 3] and len(ranking) == len(values)


def test_given_questionnaire_cells_when_grouping_then_units_and_currencies_separate_them() -> None:
    kg = comparability.comparison(
        "sz_quantity", "drug=cocaine;seizure_unit=kg", {"drug": "cocaine", "seizure_unit": "kg"},
        "as per unit column", "number",
    )  # fmt: skip
    price = comparability.comparison(
        "pp_price", "d", {"sale_level": "wholesale"}, "currency per unit", "number", currency=" cop "
    )
    no_currency = comparability.comparison("pp_price", "d", {"sale_level": "retail"}, "x", "number")
    prevalence = comparability.comparison("gp_prevalence", "d", {}, "%", "percentage")
    deaths = comparability.comparison("dd_deaths", "d", {}, "deaths", "integer", log_scale=False)

    assert isinstance(kg, comparability.Comparison) and kg.unit == "kg" and kg.log_scale
    assert isinstance(price, comparability.Comparison) and price.group == "pp_price|d|COP per kg"
    assert no_currency == comparability.NotCompared("price without a reported currency")
    assert isinstance(prevalence, comparability.Comparison)
    assert (prevalence.per_capita, prevalence.log_scale, prevalence.compared_as) == (
        False,
        False,
        "as reported",
    )
    assert isinstance(deaths, comparability.Comparison)
    assert (deaths.per_capita, deaths.log_scale, deaths.compared_as) == (
        True,
        False,
        "per 100,000 aged 15–64",
    )
    assert comparability.per_capita(50, 10_000_000) == pytest.approx(0.5)
