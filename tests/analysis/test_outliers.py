"""Outlier scores an analyst uses to order a year's submissions by how unusual they are."""

import numpy as np
import pytest
from scipy.stats import zscore

from observatory.analysis.kernels.outliers import (
    min_max_scale,
    modified_z_scores,
    rank_outliers,
    year_on_year_check,
    z_scores,
)


def test_z_scores_match_scipy_with_sample_standard_deviation():
    values = [3.0, 7.0, 7.5, 8.0, 30.0]
    np.testing.assert_allclose(z_scores(values), zscore(values, ddof=1))


def test_modified_z_score_is_iglewicz_hoaglin():
    """Median 3, absolute deviations 2,1,0,1,97 → MAD 1, so M = 0.6745·(x − 3)."""
    np.testing.assert_allclose(modified_z_scores([1, 2, 3, 4, 100]), 0.6745 * np.array([-2, -1, 0, 1, 97]))


def test_when_most_values_equal_then_modified_z_falls_back_to_mean_absolute_deviation():
    scores = modified_z_scores([5, 5, 5, 5, 9])
    mean_ad = np.mean(np.abs(np.array([0, 0, 0, 0, 4])))
    assert scores[-1] == pytest.approx(4 / (mean_ad / 0.7979))
    assert list(modified_z_scores([2, 2, 2])) == [0, 0, 0]


def test_min_max_scaling():
    np.testing.assert_allclose(min_max_scale([2, 4, 10]), [0, 0.25, 1])
    assert list(min_max_scale([7, 7])) == [0, 0]


def test_given_a_year_of_values_when_ranked_then_most_unusual_first():
    items = [("AUT", 10.0), ("BEL", 11.0), ("CAN", 9.5), ("DEU", 10.5), ("ESP", 250.0), ("FRA", 0.1)]
    ranked = rank_outliers(items)

    assert [r.key for r in ranked][:2] == ["ESP", "FRA"]
    assert ranked[0].rank == 1 and ranked[0].is_outlier
    assert ranked[0].threshold == 3.5 and ranked[0].method == "modified_z_score"
    assert not any(r.is_outlier for r in ranked if r.key in {"AUT", "BEL", "CAN", "DEU"})


def test_rank_by_z_and_min_max_and_unknown_method():
    items = [("a", 1.0), ("b", 2.0), ("c", 50.0)]
    assert rank_outliers(items, method="z_score")[0].key == "c"
    assert rank_outliers(items, method="min_max")[0].key == "c"
    with pytest.raises(ValueError, match="unknown outlier method"):
        rank_outliers(items, method="iqr")
    with pytest.raises(ValueError, match="finite"):
        rank_outliers([("a", float("nan"))])


def test_given_a_country_history_when_value_triples_then_flagged_with_reasons():
    history = {2019: 100.0, 2020: 104.0, 2021: 98.0, 2022: 101.0}
    check = year_on_year_check(history, 2023, 310.0)

    assert check.flagged
    assert check.previous_year == 2022 and check.change_ratio == pytest.approx(310 / 101)
    assert check.history_median == pytest.approx(100.5)
    assert len(check.reasons) == 2


def test_given_a_steady_history_when_value_is_similar_then_not_flagged():
    check = year_on_year_check({2020: 100.0, 2021: 104.0, 2022: 98.0}, 2023, 102.0)
    assert not check.flagged and check.reasons == ()


def test_given_no_history_then_nothing_to_compare():
    check = year_on_year_check({}, 2023, 5.0)
    assert not check.flagged and check.previous_year is None and check.history_median is None
