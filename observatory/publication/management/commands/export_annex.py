"""``observatory export annex --release R --out DIR``: the statistical annex of a public release as XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observatory.publication.annex import AnnexError, write_annex


class Command(BaseCommand):
    help = "Write the annex tables (seizures, prevalence, cultivation) of a public release as XLSX files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--release", required=True, help="label of a public release")
        parser.add_argument("--out", required=True, help="directory to write into")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = write_annex(options["release"], Path(options["out"]))
        except AnnexError as error:
            raise CommandError(str(error)) from error
        for path in written:
            self.stdout.write(f"wrote {path}")
