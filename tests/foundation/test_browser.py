"""A person signs in through the real page in Debian's Chromium and sees the dashboard."""

from __future__ import annotations

import pytest

from tests.browser import SCREENSHOTS, browser_page
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_shows_the_dashboard(live_server: object, transactional_reference: None) -> None:
    user = make_user("focal_point", country="COL")
    with browser_page() as page:
        page.goto(f"{live_server}/")
        page.get_by_role("banner").get_by_role("link", name="Sign in").click()
        page.get_by_label("User name").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/dashboard/")
        assert page.get_by_role("heading", name=f"Welcome, {user.username}").is_visible()
        assert page.get_by_text("National focal point / data provider").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "foundation-dashboard.png"), full_page=True)


def test_the_content_security_policy_refuses_injected_inline_script(
    live_server: object, transactional_reference: None
) -> None:
    """Given a page of ours, when something injects an inline script (as a stored XSS would), then the
    browser refuses to run it, while our own vendored script files still run."""
    with browser_page(expect_csp_refusals=True) as page:
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(f"{live_server}/login/")
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
            " document.body.appendChild(s); }"
        )
        assert page.evaluate("() => window.injected") is None
        assert any("Content Security Policy" in text for text in messages)


def test_the_api_documentation_renders_from_our_own_files(
    live_server: object, transactional_reference: None
) -> None:
    """Given a developer opening the API documentation, then Swagger UI renders the operations from the
    vendored static files (no CDN) under our Content Security Policy."""
    with browser_page() as page:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_server}/api/v1/docs")
        page.locator(".opblock").first.wait_for(timeout=20_000)
        assert page.locator(".opblock-tag", has_text="seizures").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "foundation-api-docs.png"))
    assert requested and all(url.startswith(str(live_server)) for url in requested)
