"""Incidents (fan-out, threads), alerts, registry, patterns, and the visibility matrix on pages and
the API: exporter, importer and board see a notification; a third country's authority and law
enforcement do not; the public sees nothing; refused writes change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from observatory.access import policy
from observatory.access.models import AuditEvent
from observatory.precursors import queries, services
from observatory.precursors.models import Alert, Incident, IncidentMessage, Notification
from observatory.precursors.services import OperatorInput, PartyInput
from tests.factories import make_user
from tests.precursors.helpers import incident_input, notification_input

pytestmark = pytest.mark.usefixtures("reference")


def client_for(user: object | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def world() -> dict[str, Any]:
    people: dict[str, Any] = {
        "exporter": make_user("competent_authority", country="DEU"),
        "importer": make_user("competent_authority", country="IND"),
        "importer_police": make_user("forensic_focal_point", country="IND"),
        "third": make_user("competent_authority", country="FRA"),
        "third_police": make_user("forensic_focal_point", country="FRA"),
        "board": make_user("board_officer"),
        "gbr_police": make_user("forensic_focal_point", country="GBR"),
        "nga_police": make_user("forensic_focal_point", country="NGA"),
    }
    people["notification"] = services.create_notification(people["exporter"], notification_input(), send=True)
    return people


SEES = {
    "exporter": True,
    "importer": True,
    "importer_police": True,
    "board": True,
    "third": False,
    "third_police": False,
}


@pytest.mark.parametrize(("who", "sees"), sorted(SEES.items()))
def test_notification_visibility_on_pages_and_api(world: dict, who: str, sees: bool) -> None:
    row: Notification = world["notification"]
    client = client_for(world[who])
    page = client.get(f"/precursors/notifications/{row.pk}/")
    api = client.get(f"/api/v1/precursors/notifications/{row.pk}")
    listing = client.get("/api/v1/precursors/notifications?box=all").json()
    assert (page.status_code, api.status_code) == ((200, 200) if sees else (404, 404))
    assert [item["id"] for item in listing] == ([row.pk] if sees else [])
    if sees:
        assert row.reference in page.content.decode()
        assert api.json()["reference"] == row.reference


def test_the_public_sees_nothing(world: dict) -> None:
    row: Notification = world["notification"]
    client = client_for(None)
    assert client.get(f"/precursors/notifications/{row.pk}/").status_code == 302  # to sign in
    assert client.get(f"/api/v1/precursors/notifications/{row.pk}").status_code == 401
    assert client.get("/api/v1/precursors/incidents").status_code == 401


def test_answer_buttons_only_for_the_importing_authority(world: dict) -> None:
    row: Notification = world["notification"]
    importer_page = client_for(world["importer"]).get(f"/precursors/notifications/{row.pk}/").content.decode()
    police_page = (
        client_for(world["importer_police"]).get(f"/precursors/notifications/{row.pk}/").content.decode()
    )
    assert "No objection</button>" in importer_page and "Request information</button>" in importer_page
    assert "No objection</button>" not in police_page
    assert (
        "Amend (new version)"
        in client_for(world["exporter"]).get(f"/precursors/notifications/{row.pk}/").content.decode()
    )


def test_api_answer_conflict_and_refusals(world: dict) -> None:
    row: Notification = world["notification"]
    url = f"/api/v1/precursors/notifications/{row.pk}/answer"
    body = json.dumps({"answer": "no_objection"})
    audit_rows = AuditEvent.objects.count()
    assert client_for(world["third"]).post(url, body, content_type="application/json").status_code == 404
    assert (
        client_for(world["importer_police"]).post(url, body, content_type="application/json").status_code
        == 403
    )
    assert client_for(world["exporter"]).post(url, body, content_type="application/json").status_code == 403
    assert client_for(None).post(url, body, content_type="application/json").status_code == 401
    assert AuditEvent.objects.count() == audit_rows
    row.refresh_from_db()
    assert row.state == "sent"
    first = client_for(world["importer"]).post(url, body, content_type="application/json")
    assert (first.status_code, first.json()["state"]) == (200, "answered_no_objection")
    second = client_for(world["importer"]).post(url, body, content_type="application/json")
    assert second.status_code == 409


def test_page_answer_and_refused_page_write(world: dict) -> None:
    row: Notification = world["notification"]
    url = f"/precursors/notifications/{row.pk}/answer/"
    assert client_for(world["third"]).post(url, {"answer": "no_objection"}).status_code == 404
    assert client_for(world["importer_police"]).post(url, {"answer": "no_objection"}).status_code == 403
    row.refresh_from_db()
    assert row.state == "sent"
    response = client_for(world["importer"]).post(url, {"answer": "no_objection"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == "answered_no_objection"


def test_api_creates_and_sends_a_notification(world: dict) -> None:
    payload = {
        "exporting_country": "DEU",
        "importing_country": "IND",
        "substance_name": "Ethyl phenylacetate",
        "quantity": "250",
        "unit": "kg",
        "transport_mode": "air",
        "transit_countries": ["ARE"],
        "exporter": {"name": "Rheinische Chemie AG", "country": "DEU"},
        "importer": {"name": "Shree Ganesh Chemicals", "country": "IND"},
        "send": True,
    }
    response = client_for(world["exporter"]).post(
        "/api/v1/precursors/notifications", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["state"], data["scheduled"], data["transit_countries"]) == ("sent", False, ["ARE"])
    refused = client_for(world["third"]).post(
        "/api/v1/precursors/notifications", json.dumps(payload), content_type="application/json"
    )
    assert refused.status_code == 403
    assert Notification.objects.count() == 2


def test_inbox_and_outbox_pages(world: dict) -> None:
    row: Notification = world["notification"]
    assert row.reference in client_for(world["importer"]).get("/precursors/").content.decode()
    assert row.reference not in client_for(world["third"]).get("/precursors/").content.decode()
    assert row.reference in client_for(world["exporter"]).get("/precursors/outbox/").content.decode()
    assert client_for(world["exporter"]).get("/precursors/notifications/new/").status_code == 200
    assert client_for(world["importer_police"]).get("/precursors/notifications/new/").status_code == 403


# Incidents ------------------------------------------------------------------------------------------


def test_incident_fan_out_reaches_every_involved_country_and_no_other(world: dict) -> None:
    """Given a stopped shipment reported by GBR from CHN via GBR and NLD to NGA with a Pakistani national
    involved, then GBR, CHN, NLD, NGA, PAK and the board are alerted — and no other country."""
    data = incident_input(
        route=(("source", "CHN"), ("transit", "GBR"), ("transit", "NLD"), ("destination", "NGA")),
        parties=(
            PartyInput(OperatorInput("Alpha Chem Trading Ltd", "NGA", "12 Harbour Road"), "consignee"),
            PartyInput(OperatorInput("A. Khan", "ARE", kind="person", nationality_iso3="PAK"), "buyer"),
        ),
    )
    row = services.report_incident(world["gbr_police"], data)
    recipients = sorted(
        (alert.recipient_country.iso3 if alert.recipient_country else "board")
        for alert in Alert.objects.filter(incident=row)
    )
    assert recipients == ["CHN", "GBR", "NGA", "NLD", "PAK", "board"]
    assert row.classification == "confidential"
    assert queries.incidents(world["nga_police"]).filter(pk=row.pk).exists()
    assert queries.incidents(world["board"]).filter(pk=row.pk).exists()
    assert not queries.incidents(world["third_police"]).filter(pk=row.pk).exists()
    assert not queries.incidents(world["importer_police"]).filter(pk=row.pk).exists()
    assert client_for(world["third_police"]).get(f"/precursors/incidents/{row.pk}/").status_code == 404
    assert client_for(world["third_police"]).get(f"/api/v1/precursors/incidents/{row.pk}").status_code == 404
    assert client_for(world["nga_police"]).get(f"/api/v1/precursors/incidents/{row.pk}").json()[
        "involved_countries"
    ] == ["CHN", "GBR", "NGA", "NLD", "PAK"]
    assert queries.unread_alert_count(world["nga_police"]) == 1
    assert queries.unread_alert_count(world["third_police"]) == 0


def test_incident_thread_by_involved_countries_only(world: dict) -> None:
    row = services.report_incident(world["gbr_police"], incident_input())
    message = services.post_incident_message(world["nga_police"], row.pk, "Checking the consignee.")
    assert message.country is not None and message.country.iso3 == "NGA"
    recipients = sorted(
        (a.recipient_country.iso3 if a.recipient_country else "board")
        for a in Alert.objects.filter(incident=row, kind="incident_message")
    )
    assert recipients == ["CHN", "GBR", "board"]
    with pytest.raises(Incident.DoesNotExist):
        services.post_incident_message(world["third_police"], row.pk, "let me in")
    response = client_for(world["third_police"]).post(
        f"/api/v1/precursors/incidents/{row.pk}/messages",
        json.dumps({"body": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert IncidentMessage.objects.filter(incident=row).count() == 1


def test_incident_report_refused_for_another_country(world: dict) -> None:
    with pytest.raises(policy.PermissionDenied):
        services.report_incident(world["third_police"], incident_input(reporter="GBR"))
    with pytest.raises(policy.PermissionDenied):  # authorities notify; they do not report incidents
        services.report_incident(world["importer"], incident_input(reporter="IND"))
    assert Incident.objects.count() == 0


def test_alert_read_state_is_per_user(world: dict) -> None:
    other_importer = make_user("competent_authority", country="IND")
    alert = queries.alerts(world["importer"]).get()
    services.mark_alert_read(world["importer"], alert.pk)
    assert queries.unread_alert_count(world["importer"]) == 0
    assert queries.unread_alert_count(other_importer) == 1
    with pytest.raises(Alert.DoesNotExist):
        services.mark_alert_read(world["third"], alert.pk)


# The board ------------------------------------------------------------------------------------------


def test_registry_is_edited_by_the_board_only(world: dict) -> None:
    with pytest.raises(policy.PermissionDenied):
        services.set_requirement(world["exporter"], "IND", None, 30)
    response = client_for(world["exporter"]).post(
        "/api/v1/precursors/registry",
        json.dumps({"importing_country": "IND", "reply_period_days": 30}),
        content_type="application/json",
    )
    assert response.status_code == 403
    row = services.set_requirement(world["board"], "IND", None, 30, "Annex VI")
    again = services.set_requirement(world["board"], "IND", None, 20, "Annex VI, revised")
    assert row.pk == again.pk and again.reply_period_days == 20
    assert [
        r["reply_period_days"]
        for r in client_for(world["exporter"]).get("/api/v1/precursors/registry?country=IND").json()
    ] == [20]
    assert AuditEvent.objects.filter(action="precursors.registry.set").count() == 2


def test_company_shopping_is_shown_to_the_board_only(world: dict) -> None:
    spellings = [
        ("DEU", "Alpha Chem Trading Ltd."),
        ("CHN", "ALPHA-CHEM TRADING LIMITED"),
        ("NLD", "Alpha Chem Trading Co. Ltd"),
    ]
    ids = []
    for iso3, name in spellings:
        authority = make_user("competent_authority", country=iso3)
        data = notification_input(exporter=iso3, importer="NGA", importer_name=name)
        ids.append(services.create_notification(authority, data, send=True).pk)
    report = queries.pattern_report(world["board"])
    assert [(case.exporting_countries, case.record_ids) for case in report.company_shopping] == [
        (("CHN", "DEU", "NLD"), tuple(sorted(f"N{pk}" for pk in ids)))
    ]
    with pytest.raises(policy.PermissionDenied):
        queries.pattern_report(world["exporter"])
    assert client_for(world["exporter"]).get("/api/v1/precursors/patterns").status_code == 403
    page = client_for(world["board"]).get("/precursors/patterns/")
    assert page.status_code == 200 and "ALPHA-CHEM TRADING LIMITED" in page.content.decode()
    assert client_for(world["exporter"]).get("/precursors/patterns/").status_code == 403


def test_special_alert_reaches_the_named_countries(world: dict) -> None:
    row = services.issue_special_alert(
        world["board"], "Designer precursors", "Watch out", recipient_iso3=["IND", "NGA"]
    )
    assert sorted(
        (a.recipient_country.iso3 if a.recipient_country else "board")
        for a in Alert.objects.filter(special_alert=row)
    ) == ["IND", "NGA", "board"]
    with pytest.raises(policy.PermissionDenied):
        services.issue_special_alert(world["exporter"], "x", "y")


def test_demo_loads_once(world: dict) -> None:
    from observatory.precursors.demo import load_demo

    load_demo()
    counts = (Notification.objects.count(), Incident.objects.count(), Alert.objects.count())
    load_demo()
    assert (Notification.objects.count(), Incident.objects.count(), Alert.objects.count()) == counts
    board = make_user("board_officer")
    report = queries.pattern_report(board)
    assert any(
        set(case.exporting_countries) >= {"CHN", "DEU", "IND", "NLD"} for case in report.company_shopping
    )
    assert Notification.objects.filter(licence_number__startswith="DEMO-", state="expired").count() == 1
