"""Shared output of the ``observatory estimate …`` commands."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from observatory.analysis.calculators import CalculatorResult, format_text


def emit(command: BaseCommand, compute: Callable[[], CalculatorResult], as_json: bool) -> None:
    try:
        result = compute()
    except ValueError as error:
        raise CommandError(str(error)) from error
    if as_json:
        command.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        command.stdout.write(format_text(result))
