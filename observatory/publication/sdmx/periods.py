"""SDMX reporting periods as closed date intervals, so periods of any frequency can be compared."""

from __future__ import annotations

import calendar
import re
from datetime import date

_YEAR = re.compile(r"(\d{4})(?:-A1)?")
_SEMESTER = re.compile(r"(\d{4})-S([12])")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_MONTH = re.compile(r"(\d{4})-(?:M)?(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class PeriodError(ValueError):
    """Text that is not a supported SDMX time period."""


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_interval(period: str) -> tuple[date, date]:
    """First and last day of a period.

    Accepts ``2020``, ``2020-A1``, ``2020-S1``, ``2020-Q3``, ``2020-07`` and ``2020-07-15``.

    >>> period_interval("2020-Q2")
    (datetime.date(2020, 4, 1), datetime.date(2020, 6, 30))
    """
    text = period.strip()
    try:
        if match := _YEAR.fullmatch(text):
            year = int(match.group(1))
            return date(year, 1, 1), date(year, 12, 31)
        if match := _SEMESTER.fullmatch(text):
            year, half = int(match.group(1)), int(match.group(2))
            first_month = 1 + 6 * (half - 1)
            return date(year, first_month, 1), _month_end(year, first_month + 5)
        if match := _QUARTER.fullmatch(text):
            year, quarter = int(match.group(1)), int(match.group(2))
            first_month = 1 + 3 * (quarter - 1)
            return date(year, first_month, 1), _month_end(year, first_month + 2)
        if match := _MONTH.fullmatch(text):
            year, month = int(match.group(1)), int(match.group(2))
            return date(year, month, 1), _month_end(year, month)
        if match := _DAY.fullmatch(text):
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            return day, day
    except ValueError as error:  # e.g. month 13 or 30 February
        raise PeriodError(f"{period!r} is not a valid period: {error}") from None
    raise PeriodError(
        f"{period!r} is not a supported period (use YYYY, YYYY-Sn, YYYY-Qn, YYYY-MM or YYYY-MM-DD)"
    )


def period_sort_key(period: str) -> tuple[date, date]:
    """Chronological order by first day, then by last day (so 2020-Q1 sorts before 2020)."""
    start, end = period_interval(period)
    return start, end
