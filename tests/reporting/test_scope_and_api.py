"""Scope: another country's focal point and the public can neither see nor change a draft — in pages and
the API — and their refused attempts change nothing. Concurrent edits of a cell end in a conflict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from observatory.access.models import AuditEvent
from observatory.access.policy import PermissionDenied as PolicyDenied
from observatory.reporting import queries, services
from observatory.reporting.models import Query, Submission, Value
from tests.factories import PASSWORD, make_user
from tests.reporting.factories import draft, in_status, prevalence

pytestmark = pytest.mark.usefixtures("reference")
CELL = "gp_prevalence|age_group=total;drug=cannabis;estimate=best;period=past_year;sex=total"


def state() -> tuple[Any, ...]:
    """Everything the reporting app and the audit trail hold, to compare before and after an attempt."""
    return (
        list(Submission.objects.order_by("pk").values_list("pk", "status", "status_reason")),
        list(Value.objects.order_by("pk").values_list("pk", "value", "version")),
        list(Query.objects.order_by("pk").values_list("pk", "status")),
        AuditEvent.objects.count(),
    )


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def nld_draft() -> Submission:
    submission, focal = draft("NLD")
    services.save_values(focal, submission, [services.CellChange(prevalence("cannabis"), "8.6", 0)])
    return submission


def urls(pk: int, query_pk: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", "/reporting/", {}),
        ("post", "/reporting/open/", {"country": "NLD", "year": "2024"}),
        ("post", "/reporting/approve/", {"submission": [str(pk)]}),
        ("get", f"/reporting/{pk}/", {}),
        ("post", f"/reporting/{pk}/", {f"v:{CELL}": "1.0", f"ver:{CELL}": "1", f"o:{CELL}": "8.6"}),
        ("get", f"/reporting/{pk}/validation/", {}),
        ("post", f"/reporting/{pk}/transition/submit/", {}),
        ("post", f"/reporting/{pk}/queries/", {"cell": CELL, "text": "?"}),
        ("post", f"/reporting/queries/{query_pk}/", {"text": "answer"}),
        ("post", f"/reporting/{pk}/invite/", {"invitee": "1", "modules": ["treatment"]}),
        ("get", f"/reporting/{pk}/workbook.xlsx", {}),
        ("post", f"/reporting/{pk}/upload/", {}),
    ]


def api_calls(pk: int, query_pk: int) -> list[tuple[str, str, Any]]:
    return [
        ("get", "/api/v1/reporting/submissions", None),
        ("get", f"/api/v1/reporting/submissions/{pk}", None),
        ("get", f"/api/v1/reporting/submissions/{pk}/values", None),
        (
            "put",
            f"/api/v1/reporting/submissions/{pk}/values",
            {"cells": [{"cell": CELL, "value": "1", "version": 1}]},
        ),
        ("post", f"/api/v1/reporting/submissions/{pk}/transitions/submit", {"reason": ""}),
        ("get", f"/api/v1/reporting/submissions/{pk}/validation", None),
        ("get", f"/api/v1/reporting/submissions/{pk}/queries", None),
        ("post", f"/api/v1/reporting/submissions/{pk}/queries", {"cell": CELL, "text": "?"}),
        ("post", f"/api/v1/reporting/queries/{query_pk}", {"text": "answer"}),
        ("get", f"/api/v1/reporting/submissions/{pk}/workbook", None),
    ]


def call(client: Client, method: str, url: str, body: Any) -> Any:
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_given_the_public_when_it_calls_every_page_and_endpoint_then_login_or_401_and_nothing_changes(
    nld_draft: Submission,
) -> None:
    query = services.raise_query(make_user("analyst"), in_status("submitted"), prevalence("cannabis"), "?")
    before = state()
    client = Client()
    for method, url, data in urls(nld_draft.pk, query.pk):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login"), url
    for method, url, body in api_calls(nld_draft.pk, query.pk):
        assert call(client, method, url, body).status_code == 401, url
    assert state() == before


def test_given_the_focal_point_of_colombia_when_reaching_for_the_netherlands_then_404_and_nothing_changes(
    nld_draft: Submission,
) -> None:
    other_query = services.raise_query(
        make_user("analyst"), in_status("submitted", "NLD"), prevalence("cannabis"), "?"
    )
    focal_col = make_user("focal_point", country="COL")
    client = client_for(focal_col)
    before = state()
    assert list(queries.submissions(focal_col)) == []
    listing = client.get("/reporting/")
    assert listing.status_code == 200 and "Netherlands" not in listing.content.decode()
    for method, url, data in urls(nld_draft.pk, other_query.pk):
        response = getattr(client, method)(url, data)
        if url in ("/reporting/",):
            continue
        expected = {"/reporting/open/": 403, "/reporting/approve/": 403}.get(url, 404)
        assert response.status_code == expected, url
    for method, url, body in api_calls(nld_draft.pk, other_query.pk):
        response = call(client, method, url, body)
        if url == "/api/v1/reporting/submissions":
            assert response.json() == []
        else:
            assert response.status_code == 404, url
    with pytest.raises(PolicyDenied, match=r"reporting\.edit"):
        services.save_values(focal_col, nld_draft, [services.CellChange(prevalence("cannabis"), "1", 1)])
    assert state() == before


def test_given_a_regional_analyst_then_sees_the_americas_only() -> None:
    col = in_status("submitted", "COL")
    in_status("submitted", "NLD")
    analyst = make_user("analyst", region="Americas")
    assert [s.pk for s in queries.submissions(analyst)] == [col.pk]


def test_given_two_sessions_when_both_edit_a_cell_then_the_stale_one_gets_a_conflict_and_the_first_stays() -> (
    None
):
    submission, focal = draft()
    colleague = make_user("focal_point", country="COL")
    key = prevalence("cannabis")
    (saved,) = services.save_values(focal, submission, [services.CellChange(key, "3.0", 0)])
    # Both read version 1; the first writer wins, the second holds a stale version.
    services.save_values(focal, submission, [services.CellChange(key, "3.2", saved.version)])
    with pytest.raises(services.Conflict) as conflict:
        services.save_values(colleague, submission, [services.CellChange(key, "9.9", saved.version)])
    assert conflict.value.conflicts[0].current_value == "3.2"
    assert conflict.value.conflicts[0].current_version == 2
    assert submission.values.get().value == 3.2
    # Two sessions creating the same new cell: the second (version 0 read) conflicts too.
    new = prevalence("cocaine")
    services.save_values(focal, submission, [services.CellChange(new, "0.6", 0)])
    with pytest.raises(services.Conflict):
        services.save_values(colleague, submission, [services.CellChange(new, "0.7", 0)])
    assert submission.values.get(question="gp_prevalence", dims__contains="drug=cocaine").value == 0.6


def test_given_the_api_when_a_stale_version_is_put_then_409_with_the_current_value() -> None:
    submission, focal = draft()
    client = client_for(focal)
    url = f"/api/v1/reporting/submissions/{submission.pk}/values"
    first = client.put(url, data=json.dumps({"cells": [{"cell": CELL, "value": "3.0", "version": 0}]}),
                       content_type="application/json")  # fmt: skip
    assert first.status_code == 200
    assert first.json()["saved"] == [{"cell": CELL, "version": 1, "value": "3"}]
    assert {"module": "prevalence_general", "required": 8, "answered": 1} in first.json()["completeness"]
    second = client.put(url, data=json.dumps({"cells": [{"cell": CELL, "value": "3.5", "version": 1}]}),
                        content_type="application/json")  # fmt: skip
    assert second.status_code == 200
    stale = client.put(url, data=json.dumps({"cells": [{"cell": CELL, "value": "7", "version": 1}]}),
                       content_type="application/json")  # fmt: skip
    assert stale.status_code == 409
    assert stale.json()["conflicts"][0]["current_value"] == "3.5"
    bad = client.put(url, data=json.dumps({"cells": [{"cell": CELL, "value": "three", "version": 2}]}),
                     content_type="application/json")  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["reason"].startswith('"three" is not a number')
    assert submission.values.get().value == 3.5


def test_given_the_api_when_a_reviewer_approves_a_validated_submission_then_it_is_locked() -> None:
    submission = in_status("validated")
    client = client_for(make_user("reviewer"))
    response = client.post(f"/api/v1/reporting/submissions/{submission.pk}/transitions/approve",
                           data="{}", content_type="application/json")  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["transitions"] == ["reopen"]
    again = client.post(f"/api/v1/reporting/submissions/{submission.pk}/transitions/approve",
                        data="{}", content_type="application/json")  # fmt: skip
    assert again.status_code == 409


def test_given_the_module_form_without_javascript_when_posted_stale_then_409_page_names_the_conflict() -> (
    None
):
    submission, focal = draft()
    client = client_for(focal)
    url = f"/reporting/{submission.pk}/"
    saved = client.post(
        url, {f"v:{CELL}": "3.1", f"ver:{CELL}": "0", f"o:{CELL}": "", "module": "prevalence_general"}
    )
    assert saved.status_code == 302
    assert submission.values.get().value == 3.1
    stale = client.post(url, {f"v:{CELL}": "4.0", f"ver:{CELL}": "0", f"o:{CELL}": ""})
    assert stale.status_code == 409
    assert "someone changed these cells" in stale.content.decode()
    invalid = client.post(url, {f"v:{CELL}": "lots", f"ver:{CELL}": "1", f"o:{CELL}": "3.1"})
    assert invalid.status_code == 400
    assert "is not a number" in invalid.content.decode()
    assert submission.values.get().value == 3.1
    page = client.get(url)
    assert page.status_code == 200
    assert "1 of 8 required cells (13%)" in page.content.decode()
