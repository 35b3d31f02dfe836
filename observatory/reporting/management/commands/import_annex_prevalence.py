from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observatory.reporting.services import import_annex_prevalence


class Command(BaseCommand):
    help = (
        "Import all sheets of World Drug Report annex 1.2 (national prevalence, general population) as the "
        "countries' published historical series. Idempotent: a re-import adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        result = import_annex_prevalence(None, path, system=True)
        self.stdout.write(
            f"{'sheet':<30} {'layout':<22} {'records':>7} {'stored':>7} {'new values':>10}  skipped"
        )
        for sheet in result.sheets:
            skipped = "; ".join(f"{count} {reason}" for reason, count in sheet.skipped.items()) or "-"
            self.stdout.write(
                f"{sheet.sheet:<30} {sheet.layout:<22} {sheet.records:>7} {sheet.imported:>7} "
                f"{sheet.values_created:>10}  {skipped}"
            )
        self.stdout.write(
            f"{result.submissions_created} historical submissions and {result.values_created} values created."
        )
