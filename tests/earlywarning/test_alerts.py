"""Alerts: who may issue them, who receives them in the app and by e-mail, who may read them, and the
public part of published alerts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from observatory.access import policy
from observatory.access.models import AuditEvent
from observatory.earlywarning import queries, services
from observatory.earlywarning.models import Alert, AlertRecipient, Substance
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def substance(reference: None) -> Substance:
    entry, _ = services.register_substance(
        None, "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21", ["Isotonitazene"], system=True
    )
    return entry


def alert_input(substance: Substance, countries: list[str], **extra: Any) -> services.AlertInput:
    return services.AlertInput(
        substance_id=substance.pk,
        severity=extra.pop("severity", "urgent"),
        countries=countries,
        title=extra.pop("title", "Isotonitazene in fake tablets"),
        message=extra.pop("message", "Restricted details for governments."),
        evidence=extra.pop("evidence", "GC-MS of 14 seizures"),
        **extra,
    )


def with_email(user: Any, address: str) -> Any:
    user.email = address
    user.save(update_fields=["email"])
    return user


def test_an_alert_reaches_in_app_and_by_mail_everyone_whose_scope_covers_its_countries(
    substance: Substance, django_capture_on_commit_callbacks: Any
) -> None:
    gbr = with_email(make_user("forensic_focal_point", country="GBR"), "gbr@example.org")
    deu_focal = with_email(make_user("focal_point", country="DEU"), "deu@example.org")
    europe = with_email(make_user("analyst", region="Europe"), "europe@example.org")
    col = with_email(make_user("forensic_focal_point", country="COL"), "col@example.org")
    americas = with_email(make_user("analyst", region="Americas"), "americas@example.org")
    board = make_user("board_officer")  # no address: in-app only
    issuer = make_user("analyst")
    with django_capture_on_commit_callbacks(execute=True):
        row = services.issue_alert(issuer, alert_input(substance, ["GBR", "DEU"]))
    recipients = set(AlertRecipient.objects.filter(alert=row).values_list("user_id", flat=True))
    assert {gbr.pk, deu_focal.pk, europe.pk, board.pk, issuer.pk} == recipients
    assert col.pk not in recipients and americas.pk not in recipients
    assert sorted(m.to[0] for m in mail.outbox) == [
        "deu@example.org",
        "europe@example.org",
        "gbr@example.org",
    ]
    assert mail.outbox[0].subject == "[Drug Observatory] NPS alert (urgent): Isotonitazene in fake tablets"
    assert AuditEvent.objects.filter(action="earlywarning.alert.issue", object_id=str(row.pk)).count() == 1


def test_alerts_are_visible_by_scope(substance: Substance) -> None:
    row = services.issue_alert(make_user("board_officer"), alert_input(substance, ["GBR"]))
    seen_by = {
        "gbr": make_user("forensic_focal_point", country="GBR"),
        "europe": make_user("analyst", region="Europe"),
        "board": make_user("board_officer"),
    }
    hidden_from = {
        "col": make_user("forensic_focal_point", country="COL"),
        "americas": make_user("analyst", region="Americas"),
    }
    for user in seen_by.values():
        assert [a.pk for a in queries.alerts(user)] == [row.pk]
    for user in hidden_from.values():
        assert list(queries.alerts(user)) == []
        with pytest.raises(Alert.DoesNotExist):
            queries.alert(user, row.pk)
    with pytest.raises(policy.PermissionDenied):
        queries.alerts(make_user(None))


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("forensic_focal_point", {"country": "GBR"}),
        ("focal_point", {"country": "GBR"}),
        ("analyst", {"region": "Americas"}),  # may alert, but not on the United Kingdom
        ("reviewer", {}),
    ],
)
def test_refused_alerts_change_nothing(substance: Substance, role: str, scope: dict[str, str]) -> None:
    with pytest.raises(policy.PermissionDenied):
        services.issue_alert(make_user(role, **scope), alert_input(substance, ["GBR"]))
    assert (Alert.objects.count(), AlertRecipient.objects.count()) == (0, 0)
    assert not AuditEvent.objects.filter(action="earlywarning.alert.issue").exists()


def test_a_published_alert_needs_a_public_summary(substance: Substance) -> None:
    with pytest.raises(services.InvalidInput) as caught:
        services.issue_alert(make_user("analyst"), alert_input(substance, ["GBR"], published=True))
    assert caught.value.field == "public_summary"
    assert Alert.objects.count() == 0


def test_the_public_sees_only_the_public_part_of_published_alerts(substance: Substance) -> None:
    analyst = make_user("analyst")
    services.issue_alert(analyst, alert_input(substance, ["GBR"], title="internal only"))
    published = services.issue_alert(
        analyst,
        alert_input(
            substance,
            ["USA", "GBR"],
            title="public one",
            published=True,
            public_summary="Tablets may contain it.",
        ),
    )
    rows = queries.public_alerts()
    assert [r.as_dict() for r in rows] == [
        {
            "id": published.pk,
            "title": "public one",
            "severity": "urgent",
            "substance": "Isotonitazene",
            "substance_group": "nitazenes",
            "countries": ["GBR", "USA"],
            "summary": "Tablets may contain it.",
            "issued_on": published.issued_at.date().isoformat(),
        }
    ]


def test_read_state_is_per_user_and_publishing_later_is_audited(substance: Substance) -> None:
    analyst = make_user("analyst")
    gbr = make_user("forensic_focal_point", country="GBR")
    row = services.issue_alert(analyst, alert_input(substance, ["GBR"]))
    assert queries.unread_alert_count(gbr) == 1
    services.mark_alert_read(gbr, row)
    assert queries.unread_alert_count(gbr) == 0
    assert queries.unread_alert_count(analyst) == 1
    with pytest.raises(Alert.DoesNotExist):
        services.mark_alert_read(make_user("forensic_focal_point", country="COL"), row)
    services.publish_alert(analyst, row, "Public text.")
    assert [a.id for a in queries.public_alerts()] == [row.pk]
    with pytest.raises(services.Conflict):
        services.publish_alert(analyst, row, "again")
