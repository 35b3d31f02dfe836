"""The audit trail is append-only and hash-chained; tampering of any kind is detected and named."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from observatory.access import audit, audit_triggers
from observatory.access.models import AuditEvent

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    first = AuditEvent.objects.order_by("-sequence").first()
    start = first.sequence if first else 0
    for number in range(3):
        audit.record(
            None, "test.event", "thing", number, country_iso3="COL", after={"value": number, "x": 1.5}
        )
    return list(AuditEvent.objects.filter(sequence__gt=start).order_by("sequence"))


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_intact_chain_verifies() -> None:
    events = _three_events()
    result = audit.verify()
    assert result.ok
    assert result.rows_checked == events[-1].sequence
    call_command("audit_verify")


def test_each_row_links_to_the_previous_row_hash() -> None:
    events = _three_events()
    for previous, current in itertools.pairwise(events):
        assert current.previous_hash == previous.row_hash
        assert current.sequence == previous.sequence + 1


def test_edited_row_is_detected_and_named() -> None:
    """Given someone with database access edits a row's content, verify names that row."""
    events = _three_events()
    _raw(
        "UPDATE access_auditevent SET after = %s WHERE sequence = %s",
        ['{"value": 99, "x": 1.5}', events[1].sequence],
    )
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_sequence == events[1].sequence
    assert "edited" in result.problem
    with pytest.raises(CommandError, match=f"row {events[1].sequence}"):
        call_command("audit_verify")


def test_deleted_row_is_detected_and_named() -> None:
    events = _three_events()
    _raw("DELETE FROM access_auditevent WHERE sequence = %s", [events[1].sequence])
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_sequence == events[1].sequence
    assert "missing" in result.problem


def test_deleted_last_row_is_detected_through_the_chain_head() -> None:
    events = _three_events()
    _raw("DELETE FROM access_auditevent WHERE sequence = %s", [events[-1].sequence])
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_sequence == events[-1].sequence


def test_reordered_rows_are_detected() -> None:
    """Swapping two rows' places (their sequence numbers) breaks the previous-hash links."""
    events = _three_events()
    a, b = events[0].sequence, events[1].sequence
    _raw("UPDATE access_auditevent SET sequence = %s WHERE sequence = %s", [-1, a])
    _raw("UPDATE access_auditevent SET sequence = %s WHERE sequence = %s", [a, b])
    _raw("UPDATE access_auditevent SET sequence = %s WHERE sequence = %s", [b, -1])
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_sequence == a


def test_database_refuses_updates_and_deletes_of_audit_rows() -> None:
    """With the triggers the migration installs, the database itself refuses to change the trail."""
    events = _three_events()
    audit_triggers.install(connection)
    try:
        for statement in (
            "UPDATE access_auditevent SET reason = 'x' WHERE sequence = %s",
            "DELETE FROM access_auditevent WHERE sequence = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                _raw(statement, [events[0].sequence])
    finally:
        audit_triggers.remove(connection)
    assert AuditEvent.objects.filter(sequence=events[0].sequence, reason="").exists()
