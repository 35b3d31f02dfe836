"""In the browser: a focal point fills a value on the module form and sees the completeness change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from observatory.reporting.demo import load_demo
from tests.browser import browser_page
from tests.factories import PASSWORD, make_user
from tests.reporting.factories import draft

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_given_a_draft_when_the_focal_point_types_a_value_then_it_autosaves_and_completeness_rises(
    live_server: Any, transactional_reference: None
) -> None:
    focal = make_user("focal_point", country="COL")
    submission, _ = draft("COL", focal)
    with browser_page() as page:
        page.goto(f"{live_server.url}/login/?next=/reporting/{submission.pk}/")
        page.fill("input[name=username]", focal.username)
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/reporting/{submission.pk}/")
        completeness = page.locator('[data-completeness="prevalence_general"]')
        assert completeness.inner_text() == "0 of 8 required cells (0%)"
        field = page.locator(
            'input[data-cell="gp_prevalence|age_group=total;drug=cannabis;estimate=best;period=past_year;sex=total"]'
        )
        field.fill("3.4")
        field.press("Tab")  # leaving the field saves it
        expect(completeness).to_have_text(re.compile(r"^1 of"))  # polls without eval, as our CSP requires
        assert completeness.inner_text() == "1 of 8 required cells (13%)"
        assert page.locator("#autosave-status").inner_text().startswith("Saved")
        page.screenshot(path="/tmp/screenshots/reporting-module-form.png", full_page=False)
    assert submission.values.get().value == 3.4


@pytest.mark.django_db(transaction=True)
def test_given_the_demo_when_loaded_twice_then_the_analyst_sees_the_failing_rule_and_open_query(
    live_server: Any, transactional_reference: None
) -> None:
    from observatory.ops.demo import ensure_demo_users

    ensure_demo_users()
    load_demo()
    load_demo()  # idempotent
    from observatory.reporting.models import Query, Submission

    questionnaires = Submission.objects.filter(origin="questionnaire").order_by("country__iso3")
    assert [(s.country.iso3, s.status) for s in questionnaires] == [("COL", "under_review"), ("NLD", "draft")]
    assert Query.objects.filter(status="open").count() == 1
    analyst = make_user("analyst")
    with browser_page() as page:
        page.goto(f"{live_server.url}/login/?next=/reporting/{questionnaires[0].pk}/validation/")
        page.fill("input[name=username]", analyst.username)
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/validation/")
        failure = page.get_by_text("past-year prevalence (3.4%) exceeds lifetime prevalence (2.1%)")
        failure.first.wait_for()
        assert failure.count() == 1
        page.screenshot(path="/tmp/screenshots/reporting-validation.png", full_page=True)
