"""Database triggers that make the audit trail append-only (UPDATE, DELETE and TRUNCATE refused)."""

from __future__ import annotations

from typing import Any

SQLITE_FORWARD = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON access_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON access_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON access_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON access_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON access_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON access_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_refuse_change()",
]


def install(connection: Any) -> None:
    statements = POSTGRES_FORWARD if connection.vendor == "postgresql" else SQLITE_FORWARD
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def remove(connection: Any) -> None:
    statements = POSTGRES_BACKWARD if connection.vendor == "postgresql" else SQLITE_BACKWARD
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
