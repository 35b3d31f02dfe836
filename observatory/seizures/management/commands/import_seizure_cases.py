"""`observatory import seizure-cases PATH [--country ISO3]`: import a CSV/XLSX file of seizure cases."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from observatory.seizures.kernels.rows import FIELDS
from observatory.seizures.models import ImportBatch
from observatory.seizures.services import UploadRefused, import_seizure_file


class Command(BaseCommand):
    help = "Import individual seizure cases (all rows or none; re-importing the same file adds nothing)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--country", help="ISO3 of the reporting country; every row must report it")
        parser.add_argument(
            "--mapping",
            help=f"JSON file: their column -> field (fields: {', '.join(FIELDS)}); default: IDS layout",
        )
        parser.add_argument(
            "--classification", default="restricted", choices=["public", "restricted", "confidential"]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        mapping = json.loads(Path(options["mapping"]).read_text()) if options["mapping"] else None
        started = time.perf_counter()
        try:
            outcome = import_seizure_file(
                None, path, country_iso3=options["country"], mapping=mapping,
                classification=options["classification"], system=True,
            )  # fmt: skip
        except UploadRefused as error:
            raise CommandError(str(error)) from error
        batch = outcome.batch
        seconds = time.perf_counter() - started
        if not outcome.created:
            self.stdout.write(f"{path.name} was already imported as batch {batch.pk}: nothing added.")
            return
        if batch.status == ImportBatch.Status.REJECTED:
            for problem in batch.errors:
                column = f", column {problem['column']}" if problem["column"] else ""
                self.stderr.write(f"row {problem['row']}{column}: {problem['message']} [{problem['code']}]")
            more = " (first ones only)" if batch.errors_truncated else ""
            raise CommandError(
                f"{path.name} rejected: {len(batch.errors)} problems{more}; nothing was stored (batch {batch.pk})"
            )
        self.stdout.write(
            f"batch {batch.pk}: {batch.rows_imported} cases imported, {batch.rows_already_present} already "
            f"present, {batch.rows_read} rows read in {seconds:.1f} s"
        )
