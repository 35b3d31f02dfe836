"""Spreadsheet-safe CSV: text that a spreadsheet would run as a formula is made inert.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) in Excel, LibreOffice and Google Sheets; prefixing an apostrophe makes it text.
Plain numbers such as ``-1.5`` are left alone: they cannot carry a formula.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
CellValue = str | int | float | date | datetime | None


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could interpret ``text`` as a formula."""
    return text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise_text(text: str) -> str:
    """``text`` with a leading apostrophe when it is formula-like, unchanged otherwise."""
    return "'" + text if is_formula_like(text) else text


def csv_cell(value: CellValue) -> str:
    """One CSV field: numbers and dates as written, missing as empty, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise_text(value)


def iter_safe_csv(
    header: Sequence[str], rows: Iterable[Sequence[CellValue]], rows_per_chunk: int = 500
) -> Iterator[bytes]:
    """UTF-8 CSV in chunks (header first), every field passed through :func:`csv_cell`.

    A byte-order mark leads the file so Excel detects UTF-8 (country names like Côte d'Ivoire).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_text(name) for name in header])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    batch: list[list[str]] = []
    for row in rows:
        batch.append([csv_cell(value) for value in row])
        if len(batch) >= rows_per_chunk:
            yield _encode(batch)
            batch = []
    if batch:
        yield _encode(batch)


def _encode(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_safe_csv(header: Sequence[str], rows: Iterable[Sequence[CellValue]]) -> bytes:
    return b"".join(iter_safe_csv(header, rows))
