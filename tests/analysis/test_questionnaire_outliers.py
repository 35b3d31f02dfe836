"""Outliers over all values of a year's annual report questionnaires: ranked with exact scores, compared
only within the same cell and unit (counts per 100,000 aged 15–64), drafts left out, scoped, and closed
to the public."""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from observatory.access.models import AuditEvent, User
from observatory.analysis import queries
from observatory.reference.models import Country, Population
from observatory.reporting import services as reporting
from observatory.reporting.kernels.instrument import CellKey, cell_key
from observatory.reporting.models import Submission, Value
from tests.factories import make_user

pytestmark = pytest.mark.django_db

YEAR = 2024
Y = str(YEAR)  # as a query parameter
CANNABIS = cell_key(
    "gp_prevalence",
    {"drug": "cannabis", "period": "past_year", "sex": "total", "age_group": "total", "estimate": "best"},
)
DEATHS = cell_key("dd_deaths", {"drug": "all_drugs", "sex": "total"})
SEIZED_KG = cell_key("sz_quantity", {"drug": "cocaine", "seizure_unit": "kg"})
SEIZED_LITRES = cell_key("sz_quantity", {"drug": "cocaine", "seizure_unit": "litres"})
PATHS = {
    "draft": [],
    "submitted": [("focal", "submit")],
    "under_review": [("focal", "submit"), ("analyst", "start_review")],
    "validated": [("focal", "submit"), ("analyst", "start_review"), ("analyst", "validate")],
    "approved": [
        ("focal", "submit"),
        ("analyst", "start_review"),
        ("analyst", "validate"),
        ("reviewer", "approve"),
    ],
}


def questionnaire(iso3: str, status: str, values: dict[CellKey, Any], year: int = YEAR) -> Submission:
    """The country's questionnaire for ``year`` filled with ``values`` and brought to ``status`` through
    the reporting services, as a focal point, an analyst and a reviewer would."""
    actors = {
        "focal": make_user("focal_point", country=iso3),
        "analyst": make_user("analyst"),
        "reviewer": make_user("reviewer"),
    }
    submission = reporting.open_submission(actors["focal"], Country.objects.get(iso3=iso3), year)
    reporting.save_values(
        actors["focal"], submission, [reporting.CellChange(key, str(raw), 0) for key, raw in values.items()]
    )
    for actor, name in PATHS[status]:
        reporting.transition(actors[actor], submission, name)
    return submission


# COL 2.0, PER 2.2, ECU 2.4, BOL 2.6 and CHL 25.0: median 2.4, absolute deviations 0.4, 0.2, 0, 0.2,
# 22.6, so MAD = 0.2 and CHL's modified z-score is 0.6745 × 22.6 / 0.2 = 76.2185.
PREVALENCE = {"COL": 2.0, "PER": 2.2, "ECU": 2.4, "BOL": 2.6, "CHL": 25.0}
STATUSES = {
    "COL": "submitted",
    "PER": "under_review",
    "ECU": "validated",
    "BOL": "approved",
    "CHL": "submitted",
}
DEATH_COUNTS = {"COL": 120, "PER": 90, "ECU": 40, "BOL": 30, "CHL": 5000}


@pytest.fixture
def year_of_questionnaires(reference: None) -> dict[str, Submission]:
    """Five countries of the Americas sent their questionnaire (CHL's cannabis figure far off), Argentina's
    is still a draft with an even wilder figure, and the Netherlands (Europe) sent one too."""
    made = {
        iso3: questionnaire(iso3, STATUSES[iso3], {CANNABIS: PREVALENCE[iso3], DEATHS: DEATH_COUNTS[iso3]})
        for iso3 in PREVALENCE
    }
    made["ARG"] = questionnaire("ARG", "draft", {CANNABIS: 900, DEATHS: 900000})
    return made


def population(iso3: str, year: int = YEAR) -> float:
    return float(Population.objects.get(country__iso3=iso3, year=year).aged_15_64)


def test_given_five_countries_when_scoring_then_the_far_off_value_ranks_first_with_exact_scores(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    report = queries.questionnaire_outliers(make_user("analyst"), YEAR)

    prevalence = [row for row in report.rows if row.question == "gp_prevalence"]
    assert (prevalence[0].iso3, prevalence[0].rank) == ("CHL", 1)
    assert report.rows[0].iso3 == "CHL" and report.rows[0].question == "gp_prevalence"
    # ties (PER and BOL, both 0.6745 from the median) are ordered by country code
    assert [row.iso3 for row in prevalence] == ["CHL", "COL", "BOL", "PER", "ECU"]
    assert [row.score for row in prevalence] == pytest.approx(
        [0.6745 * 22.6 / 0.2, 0.6745 * -0.4 / 0.2, 0.6745, -0.6745, 0.0], rel=1e-9, abs=1e-12
    )
    first = prevalence[0]
    assert (first.value, first.unit, first.compared_as, first.group_median, first.peers) == (
        25.0,
        "%",
        "as reported",
        pytest.approx(2.4),
        5,
    )
    assert (first.is_outlier, first.method, first.transform, first.status) == (
        True,
        "modified_z_score",
        "x",
        "submitted",
    )
    assert first.field == (
        "Age group: Total (survey age range); Drug: Cannabis; Estimate: Best; Reference period: Past year; "
        "Sex: Total"
    )
    assert [row.is_outlier for row in prevalence] == [True, False, False, False, False]
    assert report.submissions == 5 and report.values == 10 and report.groups == 2
    assert report.statuses == ["submitted", "under_review", "validated", "approved"]
    assert [row.rank for row in report.rows] == list(range(1, len(report.rows) + 1))


def test_given_the_other_methods_when_scoring_then_z_and_min_max_scores_are_exact(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    analyst = make_user("analyst")
    values = list(PREVALENCE.values())
    mean, spread = statistics.mean(values), statistics.stdev(values)

    z = queries.questionnaire_outliers(analyst, YEAR, method="z_score", module="prevalence_general")
    minmax = queries.questionnaire_outliers(analyst, YEAR, method="min_max", module="prevalence_general")

    assert {row.iso3: row.score for row in z.rows} == pytest.approx(
        {iso3: (value - mean) / spread for iso3, value in PREVALENCE.items()}, rel=1e-12
    )
    assert z.rows[0].iso3 == "CHL" and z.rows[0].score == pytest.approx((25.0 - 6.84) / spread)
    # with n = 5 a z-score cannot pass (n - 1)/√n = 1.79, so nothing crosses the threshold of 3
    assert [row.is_outlier for row in z.rows] == [False] * 5
    assert {row.iso3: row.score for row in minmax.rows} == pytest.approx(
        {iso3: (value - 2.0) / 23.0 for iso3, value in PREVALENCE.items()}, rel=1e-12
    )
    assert minmax.rows[0].iso3 == "CHL" and minmax.rows[0].is_outlier
    assert {row.question for row in z.rows} == {"gp_prevalence"}


def test_given_deaths_when_scoring_then_they_are_compared_per_100000_aged_15_64_on_a_log_scale(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    report = queries.questionnaire_outliers(make_user("analyst"), YEAR, module="deaths")

    rates = {iso3: DEATH_COUNTS[iso3] * 100_000 / population(iso3) for iso3 in DEATH_COUNTS}
    assert {row.iso3: row.compared_value for row in report.rows} == pytest.approx(rates, rel=1e-12)
    assert {row.iso3: row.value for row in report.rows} == {k: float(v) for k, v in DEATH_COUNTS.items()}
    assert report.rows[0].iso3 == "CHL"
    assert {(row.unit, row.compared_as, row.transform) for row in report.rows} == {
        ("deaths", "per 100,000 aged 15–64", "log10(1 + x)")
    }
    assert report.rows[0].group_median == pytest.approx(statistics.median(rates.values()))
    logs = {iso3: math.log10(1 + rate) for iso3, rate in rates.items()}
    centre = statistics.median(logs.values())
    mad = statistics.median(abs(v - centre) for v in logs.values())
    assert report.rows[0].score == pytest.approx(0.6745 * (logs["CHL"] - centre) / mad, rel=1e-9)
    linear = queries.questionnaire_outliers(make_user("analyst"), YEAR, module="deaths", log_scale=False)
    assert {row.transform for row in linear.rows} == {"x"}


def test_given_drafts_and_stages_when_scoring_then_drafts_never_count(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    analyst = make_user("analyst")

    everything = queries.questionnaire_outliers(analyst, YEAR)
    validated = queries.questionnaire_outliers(analyst, YEAR, stage="validated")

    assert "ARG" not in {row.iso3 for row in everything.rows}
    assert {row.iso3 for row in everything.rows} == set(PREVALENCE)
    # only ECU (validated) and BOL (approved): two countries per cell are too few to compare
    assert (validated.submissions, validated.values, validated.rows) == (2, 4, [])
    assert validated.not_scored == {"fewer than 3 countries report the cell": 4}
    assert queries.questionnaire_years(analyst) == [YEAR]
    with pytest.raises(ValueError, match="unknown stage"):
        queries.questionnaire_outliers(analyst, YEAR, stage="draft")


def test_given_units_when_grouping_then_kilograms_and_litres_are_never_compared(reference: None) -> None:
    for iso3, kg in {"COL": 10.0, "PER": 12.0, "ECU": 11.0, "BOL": 9.0}.items():
        questionnaire(iso3, "submitted", {SEIZED_KG: kg, SEIZED_LITRES: 1000.0})

    report = queries.questionnaire_outliers(make_user("analyst"), YEAR)

    assert {(row.unit, row.peers) for row in report.rows} == {("kg", 4), ("litres", 4)}
    litres = [row for row in report.rows if row.unit == "litres"]
    # all equal: MAD and mean absolute deviation are 0, every score 0, nobody an outlier
    assert [(row.score, row.is_outlier) for row in litres] == [(0.0, False)] * 4


# ------------------------------------------------------------------------------------------------- scope


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _xlsx_countries(response: Any) -> set[str]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index("iso3")
    return {str(row[column]) for row in rows[1:]}


def _state() -> tuple[Any, ...]:
    return (
        list(Submission.objects.order_by("pk").values_list("pk", "status")),
        list(Value.objects.order_by("pk").values_list("pk", "value", "version")),
        AuditEvent.objects.count(),
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_given_a_regional_analyst_when_reading_then_no_value_of_another_region_shows_anywhere(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    questionnaire("NLD", "submitted", {CANNABIS: 90.0, DEATHS: 250})
    url = reverse("analysis:questionnaire_outliers")
    api = "/api/v1/analysis/questionnaire-outliers"
    world, americas = _client(make_user("analyst")), _client(make_user("analyst", region="Americas"))

    assert world.get(api, {"year": Y}).json()["rows"][0]["iso3"] == "NLD"
    page = americas.get(url, {"year": Y})
    listed = americas.get(api, {"year": Y}).json()
    download = americas.get(url, {"year": Y, "format": "csv"})
    workbook = americas.get(url, {"year": Y, "format": "xlsx"})

    assert page.status_code == 200
    assert "Netherlands" not in page.content.decode() and "NLD" not in page.content.decode()
    assert "Chile (CHL)" in page.content.decode()
    assert {row["iso3"] for row in listed["rows"]} == set(PREVALENCE)
    assert listed["submissions"] == 5
    # NLD's 90 % is not part of the Americas' median either: the scores are those of the five alone
    chl = next(row for row in listed["rows"] if row["iso3"] == "CHL" and row["question"] == "gp_prevalence")
    assert chl["score"] == pytest.approx(0.6745 * 22.6 / 0.2) and chl["group_median"] == pytest.approx(2.4)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = _csv(download)
    assert {row["iso3"] for row in rows} == set(PREVALENCE) and len(rows) == 10
    assert rows[0]["iso3"] == "CHL" and float(rows[0]["score"]) == pytest.approx(0.6745 * 22.6 / 0.2)
    assert _xlsx_countries(workbook) == set(PREVALENCE)
    assert "NLD" in {row["iso3"] for row in _csv(world.get(url, {"year": Y, "format": "csv"}))}
    first_three = americas.get(api, {"year": Y, "limit": "3"}).json()
    assert (first_three["ranked"], [row["rank"] for row in first_three["rows"]]) == (10, [1, 2, 3])
    assert americas.get(api, {"year": Y, "limit": "0"}).status_code == 422
    assert americas.get(api, {"year": Y, "method": "iqr"}).status_code == 422


def test_given_the_public_and_a_focal_point_when_asking_then_refused_and_nothing_changes(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    url = reverse("analysis:questionnaire_outliers")
    api = f"/api/v1/analysis/questionnaire-outliers?year={YEAR}"
    focal = _client(make_user("focal_point", country="COL"))
    before = _state()
    public = Client()

    for response in (
        public.get(url, {"year": Y}),
        public.get(url, {"year": Y, "format": "csv"}),
        public.get(url, {"year": Y, "format": "xlsx"}),
        public.post(url, {"year": Y}),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/login")
    assert public.get(api).status_code == 401
    # a focal point reads their own questionnaire in reporting, but runs no cross-country analysis
    assert focal.get(url, {"year": Y}).status_code == 403
    assert focal.get(url, {"year": Y, "format": "csv"}).status_code == 403
    assert focal.get(api).status_code == 403
    assert _state() == before


def test_given_the_page_when_an_analyst_opens_it_then_the_latest_year_is_ranked_with_the_rule_stated(
    year_of_questionnaires: dict[str, Submission],
) -> None:
    page = _client(make_user("analyst")).get(reverse("analysis:questionnaire_outliers"))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{YEAR}" selected>{YEAR}</option>' in html
    assert "Drafts are never counted" in html
    assert "per 100,000 people aged 15–64" in html
    assert html.index("Chile (CHL)") < html.index("Colombia (COL)")
    assert "Argentina" not in html
    bad = _client(make_user("analyst")).get(reverse("analysis:questionnaire_outliers"), {"year": 1999})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    africa = _client(make_user("analyst", region="Africa")).get(reverse("analysis:questionnaire_outliers"))
    assert "No questionnaire has been submitted in your scope yet." in africa.content.decode()
    assert "Chile" not in africa.content.decode()


def test_given_a_read_that_runs_too_long_when_scoring_then_it_is_stopped_and_the_api_says_503(
    year_of_questionnaires: dict[str, Submission], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    def runaway(submission_ids: Any) -> dict[int, Any]:
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter "
                "WHERE n < 200000000) SELECT count(*) FROM counter"
            )
            cursor.fetchall()
        return {}

    monkeypatch.setattr(queries.reporting_queries, "values_of_many", runaway)
    started = time.monotonic()
    with pytest.raises(queries.QueryTimeout):
        queries.questionnaire_outliers(make_user("analyst"), YEAR, timeout_ms=200)
    assert time.monotonic() - started < 5

    def stopped(*args: Any, **kwargs: Any) -> None:
        raise queries.QueryTimeout("query stopped after 5000 ms")

    monkeypatch.setattr(queries, "questionnaire_outliers", stopped)
    client = _client(make_user("analyst"))
    api = client.get("/api/v1/analysis/questionnaire-outliers", {"year": Y})
    page = client.get(reverse("analysis:questionnaire_outliers"), {"year": Y})
    assert api.status_code == 503 and "5000 ms" in api.json()["detail"]
    assert page.status_code == 200 and "The outlier query was stopped" in page.content.decode()
