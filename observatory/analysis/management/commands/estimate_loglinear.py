"""``observatory estimate loglinear --cells '{"100":69,...}' [--json]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from observatory.analysis import calculators

from ._estimator_output import emit


class Command(BaseCommand):
    help = (
        "Log-linear capture–recapture over three (or more) lists: every hierarchical model, the AIC-best "
        "and the AIC-weighted average with its interval. Cells are keyed by membership pattern."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cells", required=True, help='JSON, e.g. \'{"100":69,"010":55,"001":40,...}\'')
        parser.add_argument("--confidence", type=float, default=0.95)
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        def compute() -> calculators.CalculatorResult:
            return calculators.loglinear(
                calculators.parse_cells_json(options["cells"]), options["confidence"]
            )

        emit(self, compute, options["json"])
