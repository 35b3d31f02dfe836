"""Office scope: a country's focal point, an analyst (who prepares but does not release) and the public
cannot create, correct, schedule, release or withdraw a release — neither through the office pages
(/publication/manage/…) nor through the office API (/api/v1/publication/…) — and their refused attempts
change nothing: the releases, their figures and the audit trail are exactly as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from observatory.access.models import AuditEvent
from observatory.publication import queries, services
from observatory.publication.models import PublishedObservation, Release
from tests.factories import PASSWORD, make_user

from .release_samples import draft_rows, first_release_rows

pytestmark = pytest.mark.django_db

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


@pytest.fixture
def releases(reference: Any) -> dict[str, Release]:
    """R1 released (public), R2 a draft, R3 scheduled under an embargo that still holds."""
    reviewer = make_user("reviewer")
    r1 = services.publish_release(
        reviewer, services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    )
    r2 = services.create_release(reviewer, "R2", "Draft", rows=draft_rows())
    r3 = services.schedule_release(
        reviewer, services.create_release(reviewer, "R3", "Embargoed", rows=draft_rows()), TOMORROW
    )
    return {"R1": r1, "R2": r2, "R3": r3}


def state() -> tuple[Any, ...]:
    """Everything the publication app and the audit trail hold, to compare before and after."""
    return (
        list(
            Release.objects.order_by("pk").values_list(
                "pk", "label", "state", "public_from", "decided_at", "corrects_id", "content_hash"
            )
        ),
        PublishedObservation.objects.count(),
        AuditEvent.objects.count(),
    )


def public_labels() -> list[str]:
    return [r.label for r in queries.public_releases()]


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


# (what is attempted, URL, form data) through the office pages
CREATE_PAGE = ("create", "/publication/manage/create/", {"label": "NEW", "title": "New"})
CORRECT_PAGE = (
    "correct",
    "/publication/manage/create/",
    {"label": "R1-c1", "title": "Correction", "corrects": "R1", "change_notes": "re-weighted"},
)
ACTION_PAGES = [
    ("schedule", "/publication/manage/R2/schedule/", {"embargo_until": f"{TOMORROW:%Y-%m-%d %H:%M:%S}"}),
    ("release", "/publication/manage/R2/release/", {}),
    ("release", "/publication/manage/R3/release/", {}),
    ("withdraw", "/publication/manage/R3/withdraw/", {}),
    ("delete", "/publication/manage/R2/delete/", {}),
]

# (what is attempted, URL, JSON body) through the office API
CREATE_API = ("create", "/api/v1/publication/releases", {"label": "NEW", "title": "New"})
CORRECT_API = (
    "correct",
    "/api/v1/publication/releases",
    {"label": "R1-c1", "title": "Correction", "corrects": "R1", "change_notes": "re-weighted"},
)
ACTION_API = [
    ("schedule", "/api/v1/publication/releases/R2/schedule", {"embargo_until": TOMORROW.isoformat()}),
    ("schedule", "/api/v1/publication/releases/R3/schedule", {"embargo_until": TOMORROW.isoformat()}),
    ("release", "/api/v1/publication/releases/R2/release", {}),
    ("release", "/api/v1/publication/releases/R3/release", {}),
]


def post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_given_the_public_when_it_tries_every_office_step_then_login_or_401_and_nothing_changes(
    releases: dict[str, Release],
) -> None:
    before = state()
    client = Client()
    assert client.get("/publication/manage/").status_code == 302
    for step, url, data in [CREATE_PAGE, CORRECT_PAGE, *ACTION_PAGES]:
        response = client.post(url, data)
        assert response.status_code == 302, (step, url)
        assert response["Location"].startswith("/login"), (step, url)
    assert client.get("/api/v1/publication/releases").status_code == 401
    for step, url, body in [CREATE_API, CORRECT_API, *ACTION_API]:
        assert post_json(client, url, body).status_code == 401, (step, url)
    assert state() == before
    assert public_labels() == ["R1"]


def test_given_a_focal_point_of_col_when_it_tries_every_office_step_then_403_or_404_and_nothing_changes(
    releases: dict[str, Release],
) -> None:
    """A country role holds no publication verb: building is refused (403) and the releases it would
    act on do not exist for it (404, so their labels are not confirmed either)."""
    client = client_for(make_user("focal_point", country="COL"))
    before = state()
    assert client.get("/publication/manage/").status_code == 403
    for step, url, data in [CREATE_PAGE, CORRECT_PAGE]:
        assert client.post(url, data).status_code == 403, step
    for step, url, data in ACTION_PAGES:
        assert client.post(url, data).status_code == 404, (step, url)
    assert client.get("/api/v1/publication/releases").status_code == 403
    for step, url, body in [CREATE_API, CORRECT_API]:
        assert post_json(client, url, body).status_code == 403, step
    for step, url, body in ACTION_API:
        assert post_json(client, url, body).status_code == 404, (step, url)
    assert state() == before
    assert public_labels() == ["R1"]


def test_given_an_analyst_when_it_tries_to_schedule_release_or_withdraw_then_403_and_nothing_changes(
    releases: dict[str, Release],
) -> None:
    """An analyst prepares and previews (publication.prepare) but never schedules, releases or
    withdraws (publication.release): every such step is refused on the pages and in the API."""
    client = client_for(make_user("analyst"))
    before = state()
    assert client.get("/publication/manage/").status_code == 200
    for step, url, data in ACTION_PAGES:
        if step == "delete":
            continue  # discarding a draft is part of preparing (see the next test)
        assert client.post(url, data).status_code == 403, (step, url)
    for step, url, body in ACTION_API:
        assert post_json(client, url, body).status_code == 403, (step, url)
    assert state() == before
    assert public_labels() == ["R1"]
    assert Release.objects.get(label="R2").state == Release.State.DRAFT
    assert Release.objects.get(label="R3").state == Release.State.SCHEDULED


def test_given_an_analyst_when_it_builds_a_draft_or_a_correction_then_nothing_becomes_public(
    releases: dict[str, Release],
) -> None:
    """Building a draft (or a correction's draft) is preparing, which analysts do; what they build stays
    a private draft that only a reviewer can release — the public sees exactly what it saw before."""
    client = client_for(make_user("analyst"))
    public_before = Client().get("/api/v1/public/releases").json()
    observations_before = Client().get("/api/v1/public/observations?all_reports=true").json()
    response = post_json(client, *CORRECT_API[1:])
    assert response.status_code == 201
    assert response.json()["state"] == "draft"
    assert response.json()["public"] is False
    assert post_json(client, "/api/v1/publication/releases/R1-c1/release", {}).status_code == 403
    assert client.post("/publication/manage/R1-c1/release/", {}).status_code == 403
    assert Release.objects.get(label="R1-c1").state == Release.State.DRAFT
    assert public_labels() == ["R1"]
    assert Client().get("/api/v1/public/releases").json() == public_before
    assert Client().get("/api/v1/public/observations?all_reports=true").json() == observations_before
    assert Client().get("/api/v1/public/releases/R1-c1").status_code == 404


def test_the_office_api_has_no_withdraw_endpoint(releases: dict[str, Release]) -> None:
    """Withdrawing an embargoed release is done on the office pages only; the API offers no such
    step to anyone (a reviewer included), so it cannot be reached that way."""
    reviewer = client_for(make_user("reviewer"))
    before = state()
    assert post_json(reviewer, "/api/v1/publication/releases/R3/withdraw", {}).status_code in (404, 405)
    assert state() == before
