"""Every read the publication app makes of other apps, as plain rows ready to be snapshotted.

The release builder depends on this module only. Each function asks the owning app's ``queries``
with the acting user (the reviewer or analyst preparing the release), so nothing enters a release
that its preparer could not see; reference data (countries, regions, taxonomy) is read directly, as
every app may.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from observatory.reference.loading import normalize_label
from observatory.reference.models import Country, DrugGroup, Region

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser

DATA_DIR = Path(__file__).resolve().parent / "data"
CULTIVATION_FILES = (
    DATA_DIR / "6.1.1_Global_illicit_coca_bush_cultivation.xlsx",
    DATA_DIR / "6.2.1_Illicit_cultivation_of_opium_poppy.xlsx",
)
ANNEX_1_2 = "UNODC, World Drug Report 2025 statistical annex, table 1.2 (national data)"
ANNEX_7_1 = "UNODC, World Drug Report 2025 statistical annex, table 7.1 (drug seizures)"

# Portal drug groups: the instrument's prevalence codes mapped onto the WDR taxonomy groups used for
# seizures, so one drug page shows both. Codes not listed keep their own code.
PREVALENCE_DRUG_GROUP: dict[str, str] = {"amphetamines": "ats"}
DRUG_NAMES: dict[str, str] = {
    "cannabis": "Cannabis",
    "cocaine": "Cocaine",
    "opioids": "Opioids",
    "opiates": "Opiates",
    "heroin": "Heroin",
    "pharma_opioids": "Pharmaceutical opioids (non-medical use)",
    "ats": "Amphetamine-type stimulants",
    "amphetamine": "Amphetamine",
    "methamphetamine": "Methamphetamine",
    "ecstasy": '"Ecstasy"-type substances',
    "prescription_stimulants": "Prescription stimulants (non-medical use)",
    "tranquillizers_sedatives": "Tranquillizers and sedatives (non-medical use)",
    "sedatives": "Sedatives and tranquillizers",
    "hallucinogens": "Hallucinogens",
    "inhalants": "Inhalants",
    "solvents": "Solvents and inhalants",
    "nps": "New psychoactive substances",
    "other": "Other drugs",
    "precursors": "Precursors",
    "coca_bush": "Coca bush",
    "opium_poppy": "Opium poppy",
}
CROP_DRUG = {"coca_bush": "coca_bush", "opium_poppy": "opium_poppy"}


@dataclass(frozen=True)
class ObservationRow:
    """One figure to publish, with its provenance; the release builder copies it as is."""

    dataset: str
    indicator: str
    area_kind: str
    area_code: str
    area_name: str
    drug: str
    drug_name: str
    year: int
    value: float | None
    unit: str
    source: str
    method: str = ""
    coverage: str = ""
    notes: str = ""
    low: float | None = None
    high: float | None = None
    region: str = ""
    subregion: str = ""
    series_rank: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str, int, int]:
        return (self.dataset, self.indicator, self.area_code, self.drug, self.year, self.series_rank)


class CountryArea(TypedDict):
    area_kind: str
    area_code: str
    area_name: str
    region: str
    subregion: str


@dataclass(frozen=True)
class CountryInfo:
    iso3: str
    name: str
    region: str
    subregion: str

    def area(self) -> CountryArea:
        """The area fields of an observation about this country."""
        return CountryArea(
            area_kind="country", area_code=self.iso3, area_name=self.name, region=self.region,
            subregion=self.subregion,
        )  # fmt: skip


def country_table() -> dict[str, CountryInfo]:
    rows = Country.objects.values_list("iso3", "name", "wdr_region__name", "wdr_subregion__name")
    return {
        iso3: CountryInfo(iso3, name, region or "", subregion or "") for iso3, name, region, subregion in rows
    }


def drug_name(code: str) -> str:
    if code in DRUG_NAMES:
        return DRUG_NAMES[code]
    group = DrugGroup.objects.filter(code=code).values_list("name", flat=True).first()
    return group or code.replace("_", " ").capitalize()


def _clean(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


# ---------------------------------------------------------------------------------------------------
# Prevalence (reporting app)


def prevalence_rows(actor: Actor) -> list[ObservationRow]:
    """National prevalence from approved submissions and the annex 1.2 series (percent of the
    population of the survey's age range). Several reports of one country, drug and year stay
    separate rows: the first national one is the headline (rank 0), the others follow (rank 1, 2…)."""
    from observatory.reporting.queries import national_prevalence

    countries = country_table()
    reports: dict[tuple[str, str, str, int], list[Any]] = defaultdict(list)
    for row in national_prevalence(actor):
        if row.iso3 not in countries:
            continue
        reports[(row.iso3, row.drug_code, row.reference_period, row.year)].append(row)
    result: list[ObservationRow] = []
    for (iso3, drug_code, period, year), rows in sorted(reports.items()):
        # National figures before subnational areas; order otherwise as the reporting app gives it.
        ordered = sorted(rows, key=lambda r: "(area:" in (r.source or ""))
        info = countries[iso3]
        group = PREVALENCE_DRUG_GROUP.get(drug_code, drug_code)
        for rank, row in enumerate(ordered):
            ages = (
                f"{row.age_lower}-{row.age_upper}"
                if row.age_lower is not None and row.age_upper is not None
                else (f"{row.age_lower}+" if row.age_lower is not None else "")
            )
            extra: dict[str, Any] = {"age_range": ages, "drug_reported": drug_code, "status": row.status}
            if row.male is not None:
                extra["male"] = row.male
            if row.female is not None:
                extra["female"] = row.female
            if row.adjustment:
                extra["adjustment"] = row.adjustment
            result.append(
                ObservationRow(
                    dataset="prevalence",
                    indicator=f"prevalence_{period}",
                    **info.area(),
                    drug=group,
                    drug_name=drug_name(drug_code if group == drug_code else group),
                    year=year,
                    value=_clean(row.best),
                    low=_clean(row.low),
                    high=_clean(row.high),
                    unit="PT",
                    source=row.source or ANNEX_1_2,
                    method=row.method or "",
                    coverage=f"national, ages {ages}" if ages else "national",
                    notes=("; ".join(filter(None, [row.adjustment and f"adjustment: {row.adjustment}"]))),
                    series_rank=rank,
                    extra=extra,
                )
            )
    return result


# ---------------------------------------------------------------------------------------------------
# Seizures (analysis app)


def seizure_rows(actor: Actor) -> list[ObservationRow]:
    """Annex 7.1 seizures: each (country, drug as reported, year) figure as reported (indicator
    ``seizures_reported``), and per country × drug group × year the kilograms of the components —
    a reported total only where the country gave no components, never added to them
    (indicator ``seizures_kg``). Plant and bush counts stay out of kilograms."""
    from observatory.analysis.queries import seizure_statistics

    countries = country_table()
    reported: list[ObservationRow] = []
    components: dict[tuple[str, str, int], float] = defaultdict(float)
    component_rows: dict[tuple[str, str, int], int] = defaultdict(int)
    totals: dict[tuple[str, str, int], float] = defaultdict(float)
    sources: dict[tuple[str, str, int], str] = {}
    group_names: dict[str, str] = {}
    ranks: Counter[tuple[str, str, str, int]] = Counter()
    fields = (
        "country__iso3", "drug__code", "drug_group__code", "drug_group_label", "drug_subgroup_label",
        "drug_label", "year", "kilograms", "count", "is_reported_total", "source", "rows_summed",
    )  # fmt: skip
    for row in (
        seizure_statistics(actor)
        .values_list(*fields)
        .order_by("country__iso3", "drug_group_label", "drug_subgroup_label", "drug_label", "year")
    ):
        (
            iso3,
            drug_code,
            group,
            group_label,
            subgroup_label,
            label,
            year,
            kg,
            count,
            is_total,
            source,
            summed,
        ) = row
        info = countries.get(iso3)
        if info is None:
            continue
        group_names.setdefault(group, group_label)
        key = (iso3, group, year)
        sources.setdefault(key, source)
        indicator = "seizures_reported" if kg is not None else "seizures_count"
        rank = ranks[(indicator, iso3, drug_code, year)]
        ranks[(indicator, iso3, drug_code, year)] += 1
        notes = []
        if is_total:
            notes.append("reported total (not added to its components)")
        if summed and summed > 1:
            notes.append(f"sum of {summed} reports in different units")
        reported.append(
            ObservationRow(
                dataset="seizures",
                indicator=indicator,
                **info.area(),
                drug=drug_code,
                drug_name=label,
                year=year,
                value=_clean(kg) if kg is not None else _clean(count),
                unit="KG" if kg is not None else "NUM",
                source=source or ANNEX_7_1,
                method="as reported (kilogram equivalents by UNODC)",
                coverage="national",
                notes="; ".join(notes),
                series_rank=rank,
                extra={
                    "drug_group": group,
                    "drug_group_label": group_label,
                    "drug_subgroup_label": subgroup_label,
                    "is_reported_total": bool(is_total),
                },
            )
        )
        if kg is None:
            continue
        if is_total:
            totals[key] += kg
        else:
            components[key] += kg
            component_rows[key] += 1
    aggregated: list[ObservationRow] = []
    for key in sorted(set(components) | set(totals)):
        iso3, group, year = key
        info = countries[iso3]
        from_total = key not in components
        aggregated.append(
            ObservationRow(
                dataset="seizures",
                indicator="seizures_kg",
                **info.area(),
                drug=group,
                drug_name=drug_name(group) if group in DRUG_NAMES else group_names.get(group, group),
                year=year,
                value=totals[key] if from_total else components[key],
                unit="KG",
                source=sources.get(key) or ANNEX_7_1,
                method=(
                    "reported total (no components reported)"
                    if from_total
                    else f"sum of {component_rows[key]} reported drug figures; reported totals excluded"
                ),
                coverage="national",
            )
        )
    return aggregated + reported


# ---------------------------------------------------------------------------------------------------
# Regional and global estimates (analysis app)


def _region_codes() -> dict[str, str]:
    return dict(Region.objects.filter(kind__startswith="wdr").values_list("name", "code"))


def area_code_for_region(name: str, level: str) -> str:
    """A short stable code for a WDR region or subregion (SDMX IDs allow no spaces)."""
    if level == "world":
        return "WORLD"
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name.upper())
    cleaned = "_".join(part for part in cleaned.split("_") if part)
    return ("R_" if level == "region" else "S_") + cleaned[:16]


def estimate_rows(actor: Actor) -> list[ObservationRow]:
    """The latest stored run per drug and year: world, regions and subregions, people who used in the
    past year (15–64) and prevalence (percent), each with its range and coverage."""
    from observatory.analysis.queries import estimate_runs

    latest: dict[tuple[str, int], Any] = {}
    for run in estimate_runs(actor).order_by("drug_code", "year", "-created_at", "-id"):
        latest.setdefault((run.drug_code, run.year), run)
    result: list[ObservationRow] = []
    for (drug_code, year), run in sorted(latest.items()):
        output = run.output or {}
        methods = run.methods or {}
        method = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in methods.items() if isinstance(v, str))
        group = PREVALENCE_DRUG_GROUP.get(drug_code, drug_code)
        aggregates: list[tuple[str, dict[str, Any]]] = []
        if output.get("world"):
            aggregates.append(("world", output["world"]))
        aggregates += [("region", row) for row in output.get("regions", [])]
        aggregates += [("subregion", row) for row in output.get("subregions", [])]
        for level, row in aggregates:
            name = "World" if level == "world" else str(row.get("name", ""))
            coverage_share = float(row.get("coverage") or 0.0)
            coverage = f"{coverage_share * 100:.0f}% of the population aged 15-64 covered by national data"
            common: dict[str, Any] = {
                "dataset": "estimates",
                "area_kind": level,
                "area_code": area_code_for_region(name, level),
                "area_name": name,
                "region": str(row.get("parent") or "") if level == "subregion" else "",
                "drug": group,
                "drug_name": drug_name(group),
                "year": year,
                "source": "UNODC estimates from national data (analysis run "
                f"{run.pk}, {run.created_at:%Y-%m-%d})",
                "method": method,
                "coverage": coverage,
                "notes": "best estimate withheld: coverage below the threshold"
                if row.get("range_only")
                else "",
                "extra": {"run": run.pk, "countries_with_data": len(row.get("countries_with_data", []))},
            }
            result.append(
                ObservationRow(
                    indicator="users_past_year",
                    value=_clean(row.get("users_best")),
                    low=_clean(row.get("users_low")),
                    high=_clean(row.get("users_high")),
                    unit="PERSONS",
                    **common,
                )
            )
            result.append(
                ObservationRow(
                    indicator="prevalence_estimate",
                    value=_percent(row.get("prevalence_best")),
                    low=_percent(row.get("prevalence_low")),
                    high=_percent(row.get("prevalence_high")),
                    unit="PT",
                    **common,
                )
            )
    return result


def _percent(share: float | None) -> float | None:
    return None if share is None else float(share) * 100.0


# ---------------------------------------------------------------------------------------------------
# Cultivation (annex 6.1.1 and 6.2.1, shipped with this app)


def cultivation_rows(paths: Iterable[Path] = CULTIVATION_FILES) -> list[ObservationRow]:
    """Hectares under illicit cultivation by country and year; the best (or point) estimate with its
    lower and upper bound where the table gives them; totals by region are left to the annex."""
    from observatory.reference.annex.cultivation import parse_cultivation

    countries = country_table()
    by_name: dict[str, str] = {}
    for iso3, name, name_wdr in Country.objects.values_list("iso3", "name", "name_wdr"):
        by_name[normalize_label(name)] = iso3
        if name_wdr:
            by_name[normalize_label(name_wdr)] = iso3
    result: list[ObservationRow] = []
    for path in paths:
        if not Path(path).exists():
            continue
        parse = parse_cultivation(path)
        figures: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
        for record in parse.records:
            if record.is_total or record.country is None or record.hectares is None:
                continue
            found = by_name.get(normalize_label(record.country))
            if found is None:
                continue
            slot = {"point": "best", "best": "best", "low": "low", "high": "high"}.get(record.estimate)
            if slot is None:
                continue
            item = figures[(found, record.year)]
            item.setdefault(slot, record.hectares)
            item.setdefault("preliminary", record.is_preliminary)
            footnotes = [parse.footnote_texts.get(letter, "") for letter in record.footnotes]
            item.setdefault("notes", "; ".join(n for n in footnotes if n))
            item.setdefault("cell", f"{record.source.file} {record.source.cell}")
        drug = CROP_DRUG.get(parse.crop, parse.crop)
        for (iso3, year), item in sorted(figures.items()):
            if "best" not in item:
                continue
            info = countries[iso3]
            notes = item.get("notes", "")
            if item.get("preliminary"):
                notes = "; ".join(filter(None, ["preliminary", notes]))
            result.append(
                ObservationRow(
                    dataset="cultivation",
                    indicator="cultivation_ha",
                    **info.area(),
                    drug=drug,
                    drug_name=drug_name(drug),
                    year=year,
                    value=item["best"],
                    low=item.get("low"),
                    high=item.get("high"),
                    unit="HA",
                    source=f"UNODC, World Drug Report 2025 statistical annex, {parse.title or parse.crop}",
                    method="national illicit crop monitoring surveys supported by UNODC",
                    coverage="national",
                    notes=notes,
                    extra={"cell": item.get("cell", "")},
                )
            )
    return result


DATASET_BUILDERS = ("prevalence", "seizures", "estimates", "cultivation")


def collect(actor: Actor, datasets: Iterable[str]) -> dict[str, list[ObservationRow]]:
    """The rows of every requested dataset, as the acting user may see them."""
    wanted = list(datasets)
    unknown = sorted(set(wanted) - set(DATASET_BUILDERS))
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(DATASET_BUILDERS)}")
    result: dict[str, list[ObservationRow]] = {}
    for name in wanted:
        if name == "prevalence":
            result[name] = prevalence_rows(actor)
        elif name == "seizures":
            result[name] = seizure_rows(actor)
        elif name == "estimates":
            result[name] = estimate_rows(actor)
        elif name == "cultivation":
            result[name] = cultivation_rows()
    return result
