from typing import Any

from django.core.management.base import BaseCommand, CommandError

from observatory.access.audit import verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; exit non-zero naming the first bad row."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        if not result.ok:
            raise CommandError(f"audit trail broken at row {result.first_bad_sequence}: {result.problem}")
        self.stdout.write(f"audit trail intact: {result.rows_checked} rows verified")
