"""``observatory estimate capture-recapture --n1 N --n2 N --m N [--json]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from observatory.analysis import calculators
from observatory.analysis.kernels.capture_recapture import CHAPMAN, LINCOLN_PETERSEN

from ._estimator_output import emit


class Command(BaseCommand):
    help = "Two-source capture–recapture (Chapman or Lincoln–Petersen) with a log-normal interval."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--n1", type=int, required=True, help="people on list 1")
        parser.add_argument("--n2", type=int, required=True, help="people on list 2")
        parser.add_argument("--m", type=int, required=True, help="people on both lists")
        parser.add_argument("--estimator", choices=[CHAPMAN, LINCOLN_PETERSEN], default=CHAPMAN)
        parser.add_argument("--confidence", type=float, default=0.95)
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        emit(
            self,
            lambda: calculators.capture_recapture(
                options["n1"], options["n2"], options["m"], options["estimator"], options["confidence"]
            ),
            options["json"],
        )
