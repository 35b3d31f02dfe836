"""The importing authority signs in, opens its inbox in Chromium, and answers a notification."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from observatory.precursors import services
from observatory.precursors.models import Notification
from tests.browser import browser_page
from tests.factories import PASSWORD, make_user
from tests.precursors.helpers import notification_input

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path("/tmp/screenshots")


def test_importing_authority_answers_from_the_inbox(
    live_server: object, transactional_reference: None
) -> None:
    exporter = make_user("competent_authority", country="DEU")
    importer = make_user("competent_authority", country="IND")
    row = services.create_notification(exporter, notification_input(), send=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page() as page:
        page.goto(f"{live_server}/login/?next=/precursors/")
        page.get_by_label("User name").fill(importer.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/precursors/")
        page.screenshot(path=str(SCREENSHOTS / "precursors-inbox.png"), full_page=True)
        page.get_by_role("link", name=row.reference).click()
        page.get_by_label("Grounds of an objection, or the information you request").fill(
            "Please send the end-user certificate."
        )
        page.get_by_role("button", name="Request information").click()
        page.wait_for_url(f"{live_server}/precursors/notifications/{row.pk}/")
        expect(page.get_by_text("Answer recorded: information requested.")).to_be_visible()
        page.get_by_role("button", name="No objection").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text("Answer recorded: no objection.")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "precursors-answered.png"), full_page=True)
    row.refresh_from_db()
    assert (row.state, row.answer) == ("answered_no_objection", Notification.Answer.NO_OBJECTION.value)
