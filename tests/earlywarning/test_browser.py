"""A forensic focal point signs in, reports a structure in Chromium and reads the assessment at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from observatory.earlywarning import services
from observatory.earlywarning.models import Identification, Substance
from tests.browser import SCREENSHOTS, browser_page
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_forensic_focal_point_reports_a_structure_and_sees_the_assessment(
    live_server: object, transactional_reference: None
) -> None:
    for names, smiles in (
        (["JWH-018"], "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"),
        (["JWH-073"], "CCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"),
        (["Mephedrone"], "CNC(C)C(=O)c1ccc(C)cc1"),
    ):
        services.register_substance(None, smiles, names, system=True)
    forensic = make_user("forensic_focal_point", country="GBR")
    with browser_page(width=1280, height=1000) as page:
        page.goto(f"{live_server}/login/?next=/earlywarning/report/")
        page.get_by_label("User name").fill(forensic.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/earlywarning/report/")
        page.get_by_label("Structure (SMILES or molfile)").fill("FCCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21")
        page.get_by_label("Names as reported (one per line or separated by ;)").fill("AM-2201")
        page.get_by_label("Date found").fill("2012-05-14")
        page.get_by_label("Place (city, border post …)").fill("Felixstowe")
        page.get_by_label("Key m/z values (comma or space separated)").fill("360.1758, 155.0491, 127.0542")
        page.get_by_role("button", name="Report and assess").click()
        expect(page.get_by_text("New to the registry")).to_be_visible(timeout=30_000)
        expect(
            page.locator("#assessment strong", has_text="Synthetic cannabinoid receptor agonists")
        ).to_be_visible()
        expect(page.locator("#assessment").get_by_role("link", name="JWH-018")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "earlywarning-report-assessment.png"), full_page=True)
        page.locator("#assessment").get_by_role("link", name="AM-2201").click()
        expect(page.get_by_role("heading", name="AM-2201", level=1)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Felixstowe")).to_have_count(0)  # the page lists the month, not the details
        page.screenshot(path=str(SCREENSHOTS / "earlywarning-substance.png"), full_page=True)
        page.goto(f"{live_server}/earlywarning/emergence/")
        expect(page.locator("svg.world-map")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "earlywarning-emergence.png"), full_page=True)
    row = Identification.objects.get()
    assert (row.country.iso3, row.place, row.key_data) == (
        "GBR",
        "Felixstowe",
        {"mz": [360.1758, 155.0491, 127.0542]},
    )
    assert Substance.objects.get(pk=row.substance_id).name == "AM-2201"
