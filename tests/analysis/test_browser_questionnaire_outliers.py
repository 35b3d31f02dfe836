"""An analyst opens the questionnaire outliers of a year and sees the far-off value first (Chromium)."""

from __future__ import annotations

import pytest

from tests.analysis.test_questionnaire_outliers import CANNABIS, DEATHS, SEIZED_KG, questionnaire
from tests.browser import SCREENSHOTS, browser_page
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIGURES = {  # cannabis past-year %, drug-related deaths, cocaine seized (kg)
    "COL": (2.0, 120, 650_000.0),
    "PER": (2.2, 90, 22_000.0),
    "ECU": (2.4, 40, 210_000.0),
    "BOL": (2.6, 30, 31_000.0),
    "CHL": (25.0, 5000, 18_000.0),
    "BRA": (2.5, 400, 70_000.0),
    "MEX": (2.1, 1100, 40_000.0),
}


def test_given_a_year_of_questionnaires_when_an_analyst_opens_the_page_then_the_ranked_table_shows(
    live_server: object, transactional_reference: None
) -> None:
    for iso3, (cannabis, deaths, kilograms) in FIGURES.items():
        questionnaire(iso3, "submitted", {CANNABIS: cannabis, DEATHS: deaths, SEIZED_KG: kilograms})
    questionnaire("ARG", "draft", {CANNABIS: 900})
    analyst = make_user("analyst")
    with browser_page(width=1400) as page:
        page.goto(f"{live_server}/login/")
        page.get_by_label("User name").fill(analyst.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server}/analysis/")
        page.get_by_role("link", name="Questionnaire outliers").click()
        assert page.get_by_role("heading", name="Outliers in the annual report questionnaire").is_visible()
        assert page.get_by_label("Year").input_value() == "2024"
        first = page.locator("table.data tbody tr").first
        assert "Chile (CHL)" in first.inner_text()
        assert "outlier" in first.inner_text()
        assert page.get_by_text("Argentina").count() == 0
        assert page.get_by_role("link", name="Download CSV").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "analysis-questionnaire-outliers.png"), full_page=True)
