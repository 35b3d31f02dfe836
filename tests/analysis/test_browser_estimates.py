"""An analyst opens a stored estimate, drills down to a region, and sees seizure trends (Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatory.analysis import services
from observatory.analysis.national import annex_national_rows
from tests.browser import browser_page
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANNEX = Path("/work/shared/unodc/wdr2025_annex")
SCREENSHOTS = Path("/tmp/screenshots")


def test_given_a_stored_estimate_when_an_analyst_drills_down_then_bands_coverage_and_countries_show(
    live_server: object, transactional_reference: None
) -> None:
    rows, _ = annex_national_rows(
        ANNEX / "1.2_Prevalence_of_drug_use_in_the_general_population_national_data.xlsx"
    )
    run = services.run_regional_estimate(None, "cannabis", 2023, national=rows, system=True)
    services.import_annex_seizures(None, ANNEX / "7.1_Drug_seizures_2019-2023.csv", system=True)
    analyst = make_user("analyst")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page() as page:
        page.goto(f"{live_server}/login/")
        page.get_by_label("User name").fill(analyst.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server}/analysis/estimates/{run.pk}/")
        assert page.get_by_role("heading", name="cannabis, 2023: World").is_visible()
        assert page.get_by_role("heading", name="Coverage").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "analysis-estimate-world.png"), full_page=True)
        page.get_by_role("link", name="Americas", exact=True).first.click()
        page.get_by_role("link", name="South America").first.click()
        assert page.get_by_role("cell", name="Colombia (COL)").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "analysis-estimate-south-america.png"), full_page=True)
        page.goto(f"{live_server}/analysis/trends/")
        assert page.get_by_role("heading", name="Seizure trends").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "analysis-trends.png"), full_page=True)
