from typing import Any

from django.core.management.base import BaseCommand

from observatory.reference.loading import load_reference


class Command(BaseCommand):
    help = (
        "Load the shipped reference data (countries, populations, substances, taxonomy, units). Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_reference()
        if not report.changed:
            self.stdout.write("Reference data already up to date.")
            return
        for table, count in sorted(report.created.items()):
            self.stdout.write(f"created {count:>6} {table}")
        for table, count in sorted(report.updated.items()):
            self.stdout.write(f"updated {count:>6} {table}")
