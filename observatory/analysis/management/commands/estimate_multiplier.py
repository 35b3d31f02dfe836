"""``observatory estimate multiplier --benchmark B --proportion P [--proportion-low L --proportion-high H]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from observatory.analysis import calculators

from ._estimator_output import emit


class Command(BaseCommand):
    help = (
        "Treatment/benchmark multiplier N = B / p (p a share, 0.25 not 25), with bounds from the "
        "proportion's bounds or a Wilson interval from the survey's sample size."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--benchmark", type=float, required=True, help="benchmark count, e.g. people in treatment"
        )
        parser.add_argument(
            "--proportion", type=float, required=True, help="share of the population in the benchmark"
        )
        parser.add_argument("--proportion-low", type=float, default=None)
        parser.add_argument("--proportion-high", type=float, default=None)
        parser.add_argument("--sample-size", type=int, default=None, help="survey size behind the proportion")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        emit(
            self,
            lambda: calculators.benchmark(
                options["benchmark"],
                options["proportion"],
                options["proportion_low"],
                options["proportion_high"],
                options["sample_size"],
            ),
            options["json"],
        )
