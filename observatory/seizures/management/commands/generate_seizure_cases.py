"""`observatory generate seizure-cases --count N --seed S --out PATH`: a realistic synthetic CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from observatory.seizures.kernels.generator import write_seizure_cases_csv


class Command(BaseCommand):
    help = "Write synthetic individual seizure cases (IDS column layout) for load tests and demonstrations."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--count", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--first-year", type=int, default=2015)
        parser.add_argument("--last-year", type=int, default=2024)

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        written = write_seizure_cases_csv(
            out, options["count"], options["seed"], options["first_year"], options["last_year"]
        )
        self.stdout.write(f"{written} cases written to {out}")
