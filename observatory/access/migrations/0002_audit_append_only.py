"""Database triggers that refuse UPDATE and DELETE on the audit trail, on SQLite and PostgreSQL."""

from django.db import migrations

from observatory.access import audit_triggers


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    audit_triggers.install(schema_editor.connection)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    audit_triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
