"""Shared pieces of the annex parsers: sources, provenance, skip reports, cell cleaning."""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook

Source = str | os.PathLike[str] | bytes


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a value came from: file name, sheet (None for CSV), 1-based row (CSV line), cell."""

    file: str
    sheet: str | None
    row: int
    cell: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedRow:
    file: str
    sheet: str | None
    row: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParseSummary:
    """What a parse read, kept and skipped (with the reason for each skipped row)."""

    rows_read: int
    records: int
    skipped: tuple[SkippedRow, ...]

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(skip.reason for skip in self.skipped))


def source_name(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, bytes):
        return "<bytes>"
    return Path(source).name


def read_bytes(source: Source) -> bytes:
    if isinstance(source, bytes):
        return source
    return Path(source).read_bytes()


def load_workbook(source: Source, *, data_only: bool = True, read_only: bool = False) -> Workbook:
    """Open a workbook from a path or bytes; data_only gives the cached results of formulas."""
    stream: Any = io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)
    return openpyxl.load_workbook(stream, data_only=data_only, read_only=read_only)


_SPACES = re.compile(r"\s+")


def clean_text(value: object) -> str | None:
    """Strip and collapse whitespace (incl. no-break spaces); empty strings become None."""
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()
    return text or None


def as_number(value: object) -> float | None:
    """A numeric cell as float; None for blanks, '..' and anything that is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return None
