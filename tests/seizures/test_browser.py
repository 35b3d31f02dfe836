"""A focal point uploads a small CSV in Chromium and watches the job; an analyst opens the route map."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from observatory.seizures.kernels.generator import write_seizure_cases_csv
from tests.browser import SCREENSHOTS, browser_page
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: object, live_server: object, username: str) -> None:
    page.goto(f"{live_server}/login/")  # type: ignore[attr-defined]
    page.get_by_label("User name").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"{live_server}/dashboard/")  # type: ignore[attr-defined]


def test_upload_watch_the_job_and_open_the_route_map(
    live_server: object, transactional_reference: None, tmp_path: Path
) -> None:
    focal = make_user("focal_point", country="USA")
    analyst = make_user("analyst")
    source = tmp_path / "generated.csv"
    write_seizure_cases_csv(source, 3000, seed=11)
    lines = source.read_text().splitlines()
    usa = tmp_path / "usa_cases.csv"
    usa.write_text("\n".join([lines[0], *(line for line in lines[1:] if line.split(",")[1] == "USA")]) + "\n")
    with browser_page() as page:
        sign_in(page, live_server, focal.username)
        page.goto(f"{live_server}/seizures/upload/")
        page.get_by_label("File").set_input_files(str(usa))
        page.get_by_label("Reporting country").select_option("USA")
        page.get_by_role("button", name="Upload and import").click()
        page.wait_for_url("**/seizures/batches/*/")
        page.screenshot(path=str(SCREENSHOTS / "seizures-upload-queued.png"), full_page=True)
        call_command("worker", batch=True)  # the live server keeps serving the page's polls meanwhile
        page.wait_for_selector("#batch-status:has-text('imported')", timeout=30_000)
        assert page.get_by_text("cases imported from").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "seizures-upload-done.png"), full_page=True)
        page.goto(f"{live_server}/seizures/")
        page.screenshot(path=str(SCREENSHOTS / "seizures-cases.png"), full_page=True)
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, live_server, analyst.username)
        page.goto(f"{live_server}/seizures/routes/")
        assert page.locator("svg.world-map path[marker-end], svg.world-map g[marker-end] path").count() > 3
        assert page.get_by_role("table", name="Transit hubs").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "seizures-routes.png"), full_page=True)
        page.goto(f"{live_server}/seizures/map/")
        page.screenshot(path=str(SCREENSHOTS / "seizures-case-map.png"), full_page=True)


def test_check_the_columns_of_an_own_layout_then_import(
    live_server: object, transactional_reference: None, tmp_path: Path
) -> None:
    """Given a file in BRA's own layout, the check page proposes each column's field; the focal point maps
    the unknown "Remarks" column to place and imports; the batch page then shows the job."""
    focal = make_user("focal_point", country="BRA")
    own = tmp_path / "federal_police.csv"
    own.write_text(
        "Ref,Country,Date of seizure,Substance,Qty,UoM,Remarks\n"
        "BR-1,BRA,2024-03-02,Cocaine hydrochloride,12,kg,port of Santos\n"
        "BR-2,BRA,2024-03-09,Cannabis herb,800,g,bus station\n"
    )
    with browser_page() as page:
        sign_in(page, live_server, focal.username)
        page.goto(f"{live_server}/seizures/upload/")
        page.get_by_label("File").set_input_files(str(own))
        page.get_by_label("Reporting country").select_option("BRA")
        page.get_by_role("button", name="Check columns").click()
        page.wait_for_url("**/seizures/upload/check/*/")
        assert page.get_by_label("Date of seizure").input_value() == "seizure_date"
        assert page.get_by_label("Remarks").input_value() == ""
        page.get_by_label("Remarks").select_option("place")
        page.screenshot(path=str(SCREENSHOTS / "seizures-upload-check.png"), full_page=True)
        page.get_by_role("button", name="Import with this mapping").click()
        page.wait_for_url("**/seizures/batches/*/")
        assert page.get_by_text("federal_police.csv").first.is_visible()
