"""The web surface of the foundation: health check, API with tokens, login throttling, pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from observatory.access import services
from observatory.access.models import ApiToken
from observatory.jobs.tasks import verify_audit_trail
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("reference")


def test_health_check_reports_database_and_queue(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["queue"]["status"] == "ok"


def test_health_check_fails_when_the_queue_stalls(client: Client) -> None:
    """Given a task has waited five minutes with no worker taking it, the health check says 503."""
    with time_machine.travel(timezone.now() - timedelta(minutes=5), tick=False):
        verify_audit_trail.enqueue("00000000-0000-0000-0000-000000000000")
    assert DBTaskResult.objects.ready().count() == 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["status"] == "stalled"


def test_openapi_schema_is_published(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/access/me" in paths
    assert "/api/v1/reference/substances/status" in paths


def test_token_authenticates_a_machine_client_and_is_stored_only_as_a_digest(client: Client) -> None:
    user = make_user("focal_point", country="COL")
    issued = services.issue_api_token(user, user, "etl")
    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.secret not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64

    response = client.get("/api/v1/access/me", HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert response.status_code == 200
    assert response.json()["assignments"] == [
        {"role": "focal_point", "scope": "country", "country": "COL", "region": None}
    ]


@pytest.mark.parametrize("header", ["", "Bearer nonsense", "Bearer obs_deadbeef_wrongsecret"])
def test_api_refuses_missing_or_wrong_tokens(client: Client, header: str) -> None:
    response = client.get("/api/v1/access/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401


def test_revoked_and_expired_tokens_stop_working(client: Client) -> None:
    user = make_user("analyst")
    revoked = services.issue_api_token(user, user, "old")
    services.revoke_api_token(user, revoked.token)
    expired = services.issue_api_token(user, user, "short", valid_days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert (
            client.get("/api/v1/access/me", HTTP_AUTHORIZATION=f"Bearer {expired.secret}").status_code == 401
        )
    assert client.get("/api/v1/access/me", HTTP_AUTHORIZATION=f"Bearer {revoked.secret}").status_code == 401


def test_one_user_cannot_revoke_another_users_token_through_the_api(client: Client) -> None:
    owner = make_user("focal_point", country="COL")
    other = make_user("focal_point", country="PER")
    issued = services.issue_api_token(owner, owner, "mine")
    client.force_login(other)
    response = client.delete(f"/api/v1/access/tokens/{issued.token.pk}")
    assert response.status_code in (403, 404)
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None


def test_audit_api_is_scoped_to_the_callers_countries(client: Client) -> None:
    from observatory.access import audit

    audit.record(None, "test.colombia", "thing", 1, country_iso3="COL")
    audit.record(None, "test.france", "thing", 2, country_iso3="FRA")
    user = make_user("focal_point", country="COL")
    client.force_login(user)
    actions = {event["action"] for event in client.get("/api/v1/access/audit?action=test.").json()}
    assert actions == {"test.colombia"}
    client.force_login(make_user("competent_authority", country="COL"))
    assert client.get("/api/v1/access/audit").status_code == 403


def test_public_reference_api_answers_without_signing_in(client: Client) -> None:
    status = client.get("/api/v1/reference/substances/status?name=Isotonitazene&on=2022-01-01").json()
    assert status["controlled"] is True
    assert status["listings"][0]["schedule"] == "I"
    assert client.get("/api/v1/reference/countries/col").json()["wdr_subregion"] == "South America"
    assert client.get("/api/v1/reference/substances/status?name=water").status_code == 404


def test_login_is_throttled_after_repeated_failures_then_unlocks(client: Client) -> None:
    """Given five wrong passwords for one account, even the right password is refused for the window;
    after the window has passed, the right password works."""
    user = make_user("analyst")
    for _ in range(5):
        response = client.post("/login/", {"username": user.username, "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_pages_require_sign_in_and_show_the_users_roles(client: Client) -> None:
    assert client.get("/dashboard/")["Location"].startswith("/login/")
    user = make_user("focal_point", country="COL")
    client.force_login(user)
    page = client.get("/dashboard/").content.decode()
    assert "National focal point / data provider" in page
    assert "Colombia" in page
    assert client.get("/audit/").status_code == 200
    client.force_login(make_user("competent_authority", country="COL"))
    assert client.get("/audit/").status_code == 403


def test_passwords_are_hashed_with_argon2(settings: object) -> None:
    from observatory import settings as configured

    setattr(settings, "PASSWORD_HASHERS", configured.PASSWORD_HASHERS)  # noqa: B010
    user = make_user()
    assert user.password.startswith("argon2")
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client: Client) -> None:
    """Pages, the API and errors all tell the browser to run only our own scripts and no device APIs."""
    for path in ("/", "/login/", "/api/v1/public/releases", "/no-such-page/"):
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy, path
        assert "object-src 'none'" in policy and response["Permissions-Policy"].startswith("camera=()"), path
