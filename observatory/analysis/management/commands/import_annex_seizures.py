"""``observatory import annex-seizures PATH``: annex table 7.1 into the seizure statistics."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observatory.analysis.services import ImportRejected, import_annex_seizures


class Command(BaseCommand):
    help = (
        "Import World Drug Report annex table 7.1 (CSV or XLSX): duplicate keys summed, reported totals "
        "flagged, plant counts kept out of kilograms. All or nothing; re-importing adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the 7.1 file (CSV or XLSX)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_annex_seizures(None, options["path"], system=True)
        except FileNotFoundError as error:
            raise CommandError(f"no such file: {options['path']}") from error
        except (ImportRejected, ValueError) as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(report.__dict__, indent=2))
            return
        self.stdout.write(
            f"{report.file}: {report.rows_read} rows read → {report.keys} (country, drug, year) figures "
            f"({report.keys_with_several_rows} summed from several rows, {report.reported_totals} reported "
            f"totals kept apart, {report.count_keys} plant/bush counts kept out of kg)"
        )
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}; "
            f"{report.trend_rows} trend aggregate rows"
        )
