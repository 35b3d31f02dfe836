"""Outliers over all values of a year, ranked; reads under a statement timeout never hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import connection

from observatory.analysis import queries, services
from tests.factories import make_user

SHIPPED = (
    Path(__file__).resolve().parents[2]
    / "observatory"
    / "analysis"
    / "data"
    / "7.1_Drug_seizures_2019-2023.csv"
)

pytestmark = pytest.mark.django_db


def test_given_2022_seizures_when_scoring_outliers_then_rows_are_ranked_by_unusualness(
    reference: None,
) -> None:
    services.import_annex_seizures(None, SHIPPED, system=True)

    report = queries.seizure_outliers(make_user("analyst"), 2022, drug_group="cocaine")

    assert [row.rank for row in report.rows] == list(range(1, len(report.rows) + 1))
    magnitudes = [abs(row.score) for row in report.rows]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert all(row.drug_group == "cocaine" and row.year == 2022 for row in report.rows)
    assert report.rows[0].peers == len(report.rows)
    assert [row.is_outlier for row in report.rows] == [abs(row.score) > 3.5 for row in report.rows]
    everything = queries.seizure_outliers(make_user("analyst"), 2022, method="z_score")
    assert {row.drug_group for row in everything.rows} >= {"cocaine", "cannabis", "opioids"}


def test_given_a_runaway_query_when_run_under_a_timeout_then_it_is_stopped(reference: None) -> None:
    slow = (
        "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < 200000000) "
        "SELECT count(*) FROM counter"
    )
    started = time.monotonic()
    with pytest.raises(queries.QueryTimeout), queries.statement_timeout(200), connection.cursor() as cursor:
        cursor.execute(slow)
        cursor.fetchall()
    assert time.monotonic() - started < 5
    with queries.statement_timeout(2000), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
