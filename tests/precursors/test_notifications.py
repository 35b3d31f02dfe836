"""Pre-export notifications through the services: visibility, refused writes, concurrency, expiry
with a frozen clock, amendment, audit and alerts."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections

from observatory.access import policy
from observatory.access.models import AuditEvent
from observatory.precursors import queries, services
from observatory.precursors.models import Alert, Notification, NotificationEvent
from tests.factories import make_user
from tests.precursors.helpers import notification_input

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.usefixtures("reference")


@pytest.fixture
def people() -> dict[str, Any]:
    users = {
        "exporter": make_user("competent_authority", country="DEU"),
        "importer": make_user("competent_authority", country="IND"),
        "importer_police": make_user("forensic_focal_point", country="IND"),
        "third": make_user("competent_authority", country="FRA"),
        "third_police": make_user("forensic_focal_point", country="FRA"),
        "board": make_user("board_officer"),
        "regional_analyst": make_user("analyst", region="Europe"),
    }
    for name, user in users.items():
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
    return users


def sent_notification(people: dict[str, Any], **kwargs: Any) -> Notification:
    with time_machine.travel(T0, tick=False):
        return services.create_notification(people["exporter"], notification_input(**kwargs), send=True)


def test_given_a_sent_notification_then_only_exporter_importer_and_board_see_it(people: dict) -> None:
    row = sent_notification(people)
    seers = {name for name, user in people.items() if queries.notifications(user).filter(pk=row.pk).exists()}
    assert seers == {"exporter", "importer", "importer_police", "board"}
    assert list(queries.notifications(None)) == []
    assert [n.pk for n in queries.inbox(people["importer"])] == [row.pk]
    assert list(queries.inbox(people["third"])) == []
    assert [n.pk for n in queries.outbox(people["exporter"])] == [row.pk]


def test_given_a_draft_then_the_importing_country_does_not_see_it(people: dict) -> None:
    row = services.create_notification(people["exporter"], notification_input())
    assert row.state == "draft"
    assert not queries.notifications(people["importer"]).filter(pk=row.pk).exists()
    assert queries.notifications(people["exporter"]).filter(pk=row.pk).exists()


def test_sending_sets_the_deadline_from_the_registry_and_alerts_the_importer(
    people: dict, django_capture_on_commit_callbacks: object
) -> None:
    services.set_requirement(people["board"], "IND", None, 21, "Annex VI")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        row = sent_notification(people)
    assert row.state == "sent"
    assert row.reference == f"PEN-DEU-2025-{row.pk:06d}"
    assert (row.sent_at, row.deadline) == (T0, T0 + dt.timedelta(days=21))
    alerts = list(
        Alert.objects.filter(notification=row).values_list("kind", "recipient_country__iso3", "to_board")
    )
    assert alerts == [("notification_received", "IND", False)]
    assert sorted(to for message in mail.outbox for to in message.to) == [
        "importer@example.org",
        "importer_police@example.org",
    ]
    assert list(
        AuditEvent.objects.filter(object_type="precursors.notification", object_id=str(row.pk)).values_list(
            "action", flat=True
        )
    ) == ["precursors.notification.create", "precursors.notification.send"]


def test_refused_writes_change_nothing(people: dict) -> None:
    row = sent_notification(people)
    audit_rows, alert_rows = AuditEvent.objects.count(), Alert.objects.count()
    with pytest.raises(Notification.DoesNotExist):  # not visible: 404
        services.answer_notification(people["third"], row.pk, "no_objection")
    with pytest.raises(policy.PermissionDenied):  # visible but no answer verb: 403
        services.answer_notification(people["importer_police"], row.pk, "objection", "no")
    with pytest.raises(policy.PermissionDenied):  # the exporter does not answer its own notification
        services.answer_notification(people["exporter"], row.pk, "no_objection")
    with pytest.raises(policy.PermissionDenied):
        services.cancel_notification(people["importer"], row.pk)
    with pytest.raises(policy.PermissionDenied):
        services.create_notification(people["third"], notification_input())
    row.refresh_from_db()
    assert (row.state, row.answer, row.answered_at) == ("sent", "", None)
    assert (AuditEvent.objects.count(), Alert.objects.count()) == (audit_rows, alert_rows)


def test_answer_then_information_then_answer_again_then_shipment(people: dict) -> None:
    row = sent_notification(people)
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        asked = services.answer_notification(people["importer"], row.pk, "information_requested", "End-user?")
    assert (asked.state, asked.answer_text) == ("information_requested", "End-user?")
    with time_machine.travel(T0 + dt.timedelta(days=20), tick=False):  # past the deadline: still answerable
        answered = services.answer_notification(people["importer"], row.pk, "no_objection")
        shipped = services.record_shipment(people["exporter"], row.pk)
    assert (answered.state, shipped.state) == ("answered_no_objection", "shipped")
    assert list(NotificationEvent.objects.filter(notification=row).values_list("action", flat=True)) == [
        "create",
        "send",
        "request_information",
        "answer_no_objection",
        "record_shipment",
    ]
    assert (
        Alert.objects.filter(
            notification=row, kind="notification_answered", recipient_country__iso3="DEU"
        ).count()
        == 2
    )


def test_an_objected_shipment_cannot_be_recorded(people: dict) -> None:
    row = sent_notification(people)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        services.answer_notification(people["importer"], row.pk, "objection", "licence revoked")
        with pytest.raises(services.Conflict, match="cannot record_shipment"):
            services.record_shipment(people["exporter"], row.pk)
    row.refresh_from_db()
    assert row.state == "answered_objection"


def test_an_objection_needs_grounds(people: dict) -> None:
    row = sent_notification(people)
    with pytest.raises(services.InvalidInput, match="grounds"):
        services.answer_notification(people["importer"], row.pk, "objection", "  ")


def test_the_second_of_two_answers_read_before_either_wrote_gets_a_conflict(people: dict) -> None:
    """Given two officers who both loaded the sent notification, when both answer, then the first
    wins and the second's conditional update matches no row: Conflict, nothing overwritten."""
    row = sent_notification(people)
    second_officer = make_user("competent_authority", country="IND")
    stale = queries.notification(second_officer, row.pk)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        services.answer_notification(people["importer"], row.pk, "objection", "first answer")
        with pytest.raises(services.Conflict, match="changed meanwhile"):
            services._transition(
                second_officer,
                stale,
                services.ANSWER_ACTIONS["no_objection"],
                services.workflow.Actor.IMPORTING_AUTHORITY,
                now=T0 + dt.timedelta(days=1),
                updates={"answer": "no_objection"},
            )
        with pytest.raises(services.Conflict, match="cannot answer_no_objection"):
            services.answer_notification(second_officer, row.pk, "no_objection")
    row.refresh_from_db()
    assert (row.state, row.answer, row.answer_text) == ("answered_objection", "objection", "first answer")
    assert NotificationEvent.objects.filter(notification=row, action__startswith="answer").count() == 1


def test_expiry_exactly_at_the_deadline_and_idempotent(people: dict) -> None:
    row = sent_notification(people)  # 15 days by default
    deadline = T0 + dt.timedelta(days=services.DEFAULT_REPLY_PERIOD_DAYS)
    assert row.deadline == deadline
    with time_machine.travel(deadline - dt.timedelta(microseconds=1), tick=False):
        assert services.expire_due().expired == []
    row.refresh_from_db()
    assert row.state == "sent"
    with time_machine.travel(deadline, tick=False):
        with pytest.raises(services.Conflict, match="has passed"):
            services.answer_notification(people["importer"], row.pk, "no_objection")
        assert services.expire_due().expired == [row.pk]
        assert services.expire_due().expired == []
    with time_machine.travel(deadline + dt.timedelta(days=3), tick=False):
        assert services.expire_due().expired == []
    row.refresh_from_db()
    assert (row.state, row.expired_at) == ("expired", deadline)
    assert sorted(
        Alert.objects.filter(notification=row, kind="notification_expired").values_list(
            "recipient_country__iso3", flat=True
        )
    ) == ["DEU", "IND"]
    assert (
        AuditEvent.objects.filter(action="precursors.notification.expire", object_id=str(row.pk)).count() == 1
    )


def test_the_expire_command_runs_the_job(people: dict) -> None:
    from django.core.management import call_command

    row = sent_notification(people)
    with time_machine.travel(row.deadline, tick=False):
        call_command("precursors_expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    row.refresh_from_db()
    assert row.state == "expired"


def test_amendment_makes_a_new_version_and_restarts_the_clock(people: dict) -> None:
    row = sent_notification(people)
    later = T0 + dt.timedelta(days=10)
    with time_machine.travel(later, tick=False):
        new = services.amend_notification(
            people["exporter"], row.pk, notification_input(quantity="900"), "typo"
        )
    row.refresh_from_db()
    assert (new.reference, new.version, new.amends_id, new.state) == (row.reference, 2, row.pk, "sent")
    assert (new.sent_at, new.deadline) == (later, later + dt.timedelta(days=15))
    new.refresh_from_db()
    assert str(new.quantity) == "900.000"
    assert row.superseded_at == later and row.state == "sent"
    assert [n.pk for n in queries.inbox(people["importer"])] == [new.pk]
    with time_machine.travel(later, tick=False):
        with pytest.raises(services.Conflict):  # the old version cannot be answered any more
            services._transition(
                people["importer"],
                row,
                services.ANSWER_ACTIONS["no_objection"],
                services.workflow.Actor.IMPORTING_AUTHORITY,
                now=later,
            )
        assert queries.actions_for(people["importer"], row) == ()
    # at the old deadline nothing expires: the new version's clock runs
    with time_machine.travel(T0 + dt.timedelta(days=15), tick=False):
        assert services.expire_due().expired == []
    with time_machine.travel(later + dt.timedelta(days=15), tick=False):
        assert services.expire_due().expired == [new.pk]


def test_an_amendment_cannot_change_the_countries(people: dict) -> None:
    row = sent_notification(people)
    with pytest.raises(services.InvalidInput, match="keeps the exporting and importing"):
        services.amend_notification(people["exporter"], row.pk, notification_input(importer="PAK"))


def test_substance_must_be_in_the_1988_tables_or_free_text(people: dict) -> None:
    with pytest.raises(services.InvalidInput, match="not in Table I or II"):
        services.create_notification(people["exporter"], notification_input(substance="Heroin"))
    row = services.create_notification(
        people["exporter"], notification_input(substance=None, chemical="Ethyl phenylacetate")
    )
    assert (row.substance_id, row.substance_name) == (None, "Ethyl phenylacetate")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_answers_exactly_one_wins(transactional_reference: None) -> None:
    """Given two importing officers answering at the same moment in two threads, then exactly one
    answer is recorded and the other gets Conflict. PostgreSQL only: the SQLite test database is a
    shared in-memory file that locks whole tables; there the stale-read test above covers the path."""
    if connection.vendor != "postgresql":
        pytest.skip("needs real row locks (PostgreSQL)")
    exporter = make_user("competent_authority", country="DEU")
    officers = [make_user("competent_authority", country="IND") for _ in range(2)]
    row = services.create_notification(exporter, notification_input(), send=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def answer(officer: Any, answer_code: str) -> None:
        try:
            barrier.wait(timeout=10)
            text = "" if answer_code == "no_objection" else "grounds"
            services.answer_notification(officer, row.pk, answer_code, text)
            result = "won"
        except services.Conflict:
            result = "conflict"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=answer, args=(officers[0], "no_objection")),
        threading.Thread(target=answer, args=(officers[1], "objection")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    row.refresh_from_db()
    assert row.state in {"answered_no_objection", "answered_objection"}
    assert NotificationEvent.objects.filter(notification=row, action__startswith="answer").count() == 1
