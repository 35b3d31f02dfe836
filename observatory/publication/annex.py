"""The statistical annex of a public release as XLSX workbooks in the World Drug Report layouts."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from observatory.publication import queries
from observatory.publication.kernels.annex_xlsx import (
    AnnexRelease,
    CultivationRow,
    CultivationTable,
    PrevalenceRow,
    PrevalenceSheet,
    SeizureRow,
    cultivation_workbook,
    prevalence_workbook,
    seizures_workbook,
)
from observatory.publication.models import PublishedObservation
from observatory.publication.sources import DRUG_NAMES

SEIZURES_FILE = "7.1_Drug_seizures.xlsx"
PREVALENCE_FILE = "1.2_Prevalence_of_drug_use_in_the_general_population.xlsx"
CULTIVATION_FILES = {
    "coca_bush": "6.1.1_Coca_bush_cultivation.xlsx",
    "opium_poppy": "6.2.1_Opium_poppy_cultivation.xlsx",
}


class AnnexError(ValueError):
    pass


def write_annex(label: str, out: Path) -> list[Path]:
    """Write the annex tables of public release ``label`` into ``out``; the paths written."""
    release = queries.public_release(label)
    if release is None:
        raise AnnexError(
            f"{label} is not a public release (drafts and embargoed releases are never exported)"
        )
    observations = queries.released_observations(release=release)
    assert release.public_from is not None
    meta = AnnexRelease(label=f"{release.label} — {release.title}", released_on=release.public_from.date())
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    seizures = [
        SeizureRow(
            region=r.region,
            subregion=r.subregion,
            country=r.area_name,
            drug_group=r.extra.get("drug_group_label", ""),
            drug_subgroup=r.extra.get("drug_subgroup_label", ""),
            drug_name=r.drug_name,
            year=r.year,
            kilograms=r.value,
            country_code=r.area_code,
        )
        for r in observations.filter(indicator="seizures_reported").order_by(
            "region", "subregion", "area_name", "extra", "drug_name", "year", "series_rank"
        )
    ]
    if seizures:
        path = out / SEIZURES_FILE
        path.write_bytes(
            seizures_workbook(seizures, meta, title="Drug seizures, by country and drug (kilograms)")
        )
        written.append(path)

    sheets: dict[str, list[PrevalenceRow]] = defaultdict(list)
    for r in observations.filter(indicator="prevalence_past_year").order_by(
        "drug", "region", "subregion", "area_name", "year", "series_rank"
    ):
        notes = r.notes
        if r.series_rank:
            notes = "; ".join(filter(None, ["further report for the same year", notes]))
        sheets[r.drug_name].append(
            PrevalenceRow(
                region=r.region,
                subregion=r.subregion,
                country=r.area_name,
                year=r.year,
                best=r.value,
                low=r.low,
                high=r.high,
                male=r.extra.get("male"),
                female=r.extra.get("female"),
                age_range=r.extra.get("age_range", ""),
                source=r.source,
                method=r.method,
                adjustment_notes=r.extra.get("adjustment", ""),
                specific_notes=notes,
            )
        )
    if sheets:
        path = out / PREVALENCE_FILE
        path.write_bytes(
            prevalence_workbook([PrevalenceSheet(drug, rows) for drug, rows in sorted(sheets.items())], meta)
        )
        written.append(path)

    for crop, file_name in CULTIVATION_FILES.items():
        rows = list(
            observations.filter(indicator="cultivation_ha", drug=crop).order_by("region", "area_name", "year")
        )
        if not rows:
            continue
        years = sorted({r.year for r in rows})
        lines: list[CultivationRow] = []
        by_country: dict[tuple[str, str], list[PublishedObservation]] = defaultdict(list)
        for r in rows:
            by_country[(r.region, r.area_name)].append(r)
        for (region, country), items in by_country.items():
            best = {r.year: r.value for r in items}
            preliminary = frozenset(r.year for r in items if "preliminary" in r.notes)
            lines.append(
                CultivationRow(region=region, country=country, values=best, preliminary_years=preliminary)
            )
            if any(r.low is not None for r in items):
                lines.append(
                    CultivationRow(region, country, {r.year: r.low for r in items}, label="lower bound")
                )
                lines.append(
                    CultivationRow(region, country, {r.year: r.high for r in items}, label="upper bound")
                )
        total = {y: sum(r.value or 0.0 for r in rows if r.year == y) for y in years}
        table = CultivationTable(
            title=f"Illicit cultivation of {DRUG_NAMES.get(crop, crop).lower()}, {years[0]}-{years[-1]} (hectares)",
            years=years, rows=lines, total=total, total_label="TOTAL (countries listed)",
            notes=("Italics: preliminary figures.",),
        )  # fmt: skip
        path = out / file_name
        path.write_bytes(cultivation_workbook(table, meta))
        written.append(path)
    return written
