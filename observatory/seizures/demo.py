"""Demonstration seizure cases: generated (seeded) for a few reporting countries and imported through
the same service as any upload. Idempotent: a file already imported (same SHA-256) adds nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings

from observatory.seizures.kernels.generator import IDS_COLUMNS, generate_seizure_columns
from observatory.seizures.services import import_seizure_file

DEMO_SEED = 2025
DEMO_DRAWS = 11_500
# Reporting country -> classification of its demonstration batch (one public, to show field-level rules).
DEMO_COUNTRIES: dict[str, str] = {
    "COL": "restricted",
    "NLD": "restricted",
    "ESP": "public",
    "BEL": "restricted",
    "USA": "restricted",
    "AUS": "restricted",
    "DEU": "restricted",
    "MYS": "restricted",
}


def demo_files(directory: Path) -> dict[str, Path]:
    """Write one CSV per demonstration country (deterministic bytes for a given seed)."""
    columns = generate_seizure_columns(DEMO_DRAWS, DEMO_SEED)
    rows = list(zip(*(columns[name] for name in IDS_COLUMNS), strict=True))
    country_column = IDS_COLUMNS.index("COUNTRY_OF_SEIZURE")
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for iso3 in DEMO_COUNTRIES:
        path = directory / f"seizures_{iso3}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(IDS_COLUMNS)
            writer.writerows(row for row in rows if row[country_column] == iso3)
        files[iso3] = path
    return files


def load_demo() -> None:
    for iso3, path in demo_files(Path(settings.VAR_DIR) / "demo" / "seizures").items():
        import_seizure_file(None, path, country_iso3=iso3, classification=DEMO_COUNTRIES[iso3], system=True)
