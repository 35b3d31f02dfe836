"""Checking a file's columns before it is imported: stage the upload, preview it, import it once confirmed.

A focal point uploads a file in their own layout; before any import job starts they see its header,
the first rows and the proposed mapping (a remembered layout or names matched to our fields), correct it,
and confirm. The staged file is kept under a random token that only the uploader's session knows;
a staged file that was never confirmed is removed after a day.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile

from observatory.reference.models import Country
from observatory.seizures import queries, services
from observatory.seizures.kernels.generator import IDS_COLUMN_MAPPING
from observatory.seizures.kernels.mapping import MappingSuggestion, suggest_mapping
from observatory.seizures.kernels.rows import RowError

if TYPE_CHECKING:
    from observatory.access.policy import Actor

PREVIEW_ROWS = 8
PREVIEW_CSV_BYTES = 1 << 20  # enough for the header and the first rows of any sane layout
STAGED_LIFETIME_SECONDS = 24 * 3600
_TOKEN_LENGTH = 32
NO_LONGER_STAGED = "this upload is no longer waiting for confirmation: upload the file again"


@dataclass(frozen=True)
class FilePreview:
    header: list[str]
    sample_rows: list[list[str]]
    suggestion: MappingSuggestion
    problems: list[RowError]  # what stops the file being read at all (empty, not UTF-8, no header)


@dataclass(frozen=True)
class StagedUpload:
    token: str
    file_name: str
    file_format: str
    country_iso3: str
    classification: str
    preview: FilePreview


def remembered_layouts(actor: Actor | None, country: Country) -> list[tuple[str, dict[str, str]]]:
    """The IDS layout and the country's remembered ones that the actor may use."""
    remembered = queries.column_mappings_for(actor).filter(country=country)
    return [(services.DEFAULT_MAPPING_NAME, dict(IDS_COLUMN_MAPPING))] + [
        (m.name, dict(m.mapping)) for m in remembered
    ]


def preview_file(actor: Actor | None, path: Path, file_format: str, country: Country) -> FilePreview:
    if file_format == "csv":
        with path.open("rb") as handle:
            head = handle.read(PREVIEW_CSV_BYTES)
        if len(head) == PREVIEW_CSV_BYTES and b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]  # a whole number of lines, never half a character
        table = services.read_csv(head)
    else:
        table = services.read_xlsx(path)
    if table.header is None:
        return FilePreview([], [], MappingSuggestion("", (), ()), table.problems)
    samples = [
        ["" if cell is None else str(cell) for cell in row] for row in islice(table.rows, PREVIEW_ROWS)
    ]
    close = getattr(table.rows, "close", None)
    if close is not None:
        close()  # an XLSX reader holds the workbook open until its rows are exhausted or closed
    return FilePreview(
        table.header, samples, suggest_mapping(table.header, remembered_layouts(actor, country)), []
    )


def _staging_dir() -> Path:
    directory = services.upload_dir() / "staged"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _remove_stale(directory: Path) -> None:
    cutoff = time.time() - STAGED_LIFETIME_SECONDS
    for stale in directory.iterdir():
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)


def _staged_path(token: str, file_format: str) -> Path:
    if len(token) != _TOKEN_LENGTH or not token.isalnum() or file_format not in {"csv", "xlsx"}:
        raise services.UploadRefused(NO_LONGER_STAGED)
    return _staging_dir() / f"{token}.{file_format}"


def stage_upload(
    actor: Actor | None, upload: UploadedFile, *, country_iso3: str, classification: str
) -> StagedUpload:
    """Keep the file aside and preview it; nothing is imported and no job starts."""
    country, name, file_format, _ = services.check_upload(actor, upload, country_iso3, classification)
    directory = _staging_dir()
    _remove_stale(directory)
    token = secrets.token_hex(_TOKEN_LENGTH // 2)
    path = _staged_path(token, file_format)
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return StagedUpload(
        token,
        name,
        file_format,
        country.iso3,
        classification,
        preview_file(actor, path, file_format, country),
    )


def preview_staged(actor: Actor | None, token: str, file_format: str, country_iso3: str) -> FilePreview:
    path = _staged_path(token, file_format)
    if not path.exists():
        raise services.UploadRefused(NO_LONGER_STAGED)
    return preview_file(actor, path, file_format, Country.objects.get(iso3=country_iso3))


def import_staged(
    actor: Actor | None,
    staged: StagedUpload,
    mapping: Mapping[str, str],
    *,
    remember_as: str = "",
) -> services.ImportOutcome:
    """Start the import of a staged file with the confirmed mapping; the staged copy is then removed."""
    path = _staged_path(staged.token, staged.file_format)
    if not path.exists():
        raise services.UploadRefused(NO_LONGER_STAGED)
    with path.open("rb") as handle:
        outcome = services.start_upload(
            actor, UploadedFile(handle, name=staged.file_name, size=path.stat().st_size), country_iso3=staged.country_iso3,
            mapping=mapping, remember_as=remember_as, classification=staged.classification,
        )  # fmt: skip
    path.unlink(missing_ok=True)
    return outcome


def discard_staged(token: str, file_format: str) -> None:
    _staged_path(token, file_format).unlink(missing_ok=True)
