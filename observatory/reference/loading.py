"""Loading the shipped reference data into the database: idempotent upserts, audited as one event per
table that changed. Run by ``observatory load-reference``."""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

from observatory.access import audit
from observatory.reference.models import (
    ControlledSubstance,
    ConversionFactor,
    ConversionFactorSet,
    Country,
    Drug,
    DrugAlias,
    DrugGroup,
    DrugSubgroup,
    Population,
    Region,
    ScheduleListing,
    Unit,
    UnitAlias,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
TAXONOMY_FILE = Path(__file__).resolve().parent / "annex" / "wdr_taxonomy.json"

# Dates the conventions entered into force: the start of every listing whose decision year is unknown.
CONVENTION_IN_FORCE = {"1961": date(1964, 12, 13), "1971": date(1976, 8, 16), "1988": date(1990, 11, 11)}


def normalize_label(label: str) -> str:
    """The key under which a spelling is looked up: case, accents, quotes and spacing folded."""
    text = unicodedata.normalize("NFKC", label)
    for curly, straight in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'")):
        text = text.replace(curly, straight)
    return " ".join(text.casefold().replace('"', "").split())


def _rows(name: str) -> Iterator[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, table: str, created: bool, changed: bool) -> None:
        if created:
            self.created[table] = self.created.get(table, 0) + 1
        elif changed:
            self.updated[table] = self.updated.get(table, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _upsert(model: Any, lookup: dict[str, Any], values: dict[str, Any], report: LoadReport) -> Any:
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model.objects.create(**lookup, **values)
        report.count(model.__name__, True, True)
        return instance
    changed = [key for key, value in values.items() if getattr(instance, key) != value]
    if changed:
        for key in changed:
            setattr(instance, key, values[key])
        instance.save(update_fields=changed)
        report.count(model.__name__, False, True)
    return instance


def load_regions_and_countries(report: LoadReport) -> None:
    regions: dict[str, Region] = {}

    def region(kind: str, code: str, name: str, parent: Region | None = None) -> Region | None:
        if not name:
            return None
        key = f"{kind}:{code or name}"
        if key not in regions:
            regions[key] = _upsert(
                Region, {"code": key}, {"name": name, "kind": kind, "parent": parent}, report
            )
        return regions[key]

    for row in _rows("countries.csv"):
        wdr_region = region(Region.Kind.WDR_REGION, "", row["wdr_region"])
        m49_region = region(Region.Kind.M49_REGION, row["m49_region_code"], row["m49_region"])
        m49_subregion = region(
            Region.Kind.M49_SUBREGION, row["m49_subregion_code"], row["m49_subregion"], m49_region
        )
        values = {
            "iso2": row["iso2"],
            "m49": row["m49"],
            "name": row["name"],
            "name_wdr": row["name_wdr"],
            "wdr_region": wdr_region,
            "wdr_subregion": region(Region.Kind.WDR_SUBREGION, "", row["wdr_subregion"], wdr_region),
            "wdr_source": row["wdr_source"],
            "m49_region": m49_region,
            "m49_subregion": m49_subregion,
            "m49_intermediate_region": region(
                Region.Kind.M49_INTERMEDIATE,
                row["m49_intermediate_region_code"],
                row["m49_intermediate_region"],
                m49_subregion,
            ),
            "independent": row["independent"] == "Y",
            "latitude": float(row["lat"]) if row["lat"] else None,
            "longitude": float(row["lon"]) if row["lon"] else None,
        }
        _upsert(Country, {"iso3": row["iso3"]}, values, report)


def load_populations(report: LoadReport) -> None:
    countries = dict(Country.objects.values_list("iso3", "id"))
    existing = {
        (row[0], row[1]): row[2:]
        for row in Population.objects.values_list("country_id", "year", "total", "aged_15_64", "variant")
    }
    to_create: list[Population] = []
    for row in _rows("population.csv"):
        country_id = countries[row["iso3"]]
        values = (int(row["pop_total"]), int(row["pop_15_64"]), row["variant"])
        key = (country_id, int(row["year"]))
        if key not in existing:
            to_create.append(
                Population(
                    country_id=country_id,
                    year=key[1],
                    total=values[0],
                    aged_15_64=values[1],
                    variant=values[2],
                )
            )
        elif existing[key] != values:
            Population.objects.filter(country_id=country_id, year=key[1]).update(
                total=values[0], aged_15_64=values[1], variant=values[2]
            )
            report.count("Population", False, True)
    Population.objects.bulk_create(to_create, batch_size=2000)
    if to_create:
        report.created["Population"] = len(to_create)


def load_controlled_substances(report: LoadReport) -> None:
    rows = list(_rows("controlled_substances.csv"))
    # A substance in two schedules has two rows; its identity fields are the first non-empty ones.
    identity: dict[str, dict[str, str]] = {}
    for row in rows:
        known = identity.setdefault(row["name"], {"other_names": "", "cas": "", "cas_source": ""})
        for key in known:
            known[key] = known[key] or row[key]
    substances = {
        name: _upsert(ControlledSubstance, {"name": name}, values, report)
        for name, values in identity.items()
    }
    for row in rows:
        substance = substances[row["name"]]
        year_added = int(row["year_added"]) if row["year_added"] else None
        # A CND decision year gives year precision; otherwise the listing dates from entry into force.
        effective_from = date(year_added, 1, 1) if year_added else CONVENTION_IN_FORCE[row["convention"]]
        _upsert(
            ScheduleListing,
            {"substance": substance, "convention": row["convention"], "schedule": row["schedule"]},
            {
                "effective_from": effective_from,
                "effective_from_precision": "year" if year_added else "day",
                "effective_to": None,
                "year_added": year_added,
                "notes": row["notes"],
                "confidence": row["confidence"],
            },
            report,
        )
    for row in _rows("schedule_changes.csv"):
        substance = _upsert(ControlledSubstance, {"name": row["name"]}, {}, report)
        _upsert(
            ScheduleListing,
            {"substance": substance, "convention": row["convention"], "schedule": row["schedule"]},
            {
                "effective_from": date.fromisoformat(row["effective_from"]),
                "effective_from_precision": "day",
                "effective_to": date.fromisoformat(row["effective_to"]) if row["effective_to"] else None,
                "notes": row["notes"],
            },
            report,
        )


def load_taxonomy(report: LoadReport, path: Path = TAXONOMY_FILE) -> None:
    taxonomy = json.loads(path.read_text(encoding="utf-8"))
    by_code: dict[str, dict[str, Any]] = {"group": {}, "subgroup": {}, "drug": {}}
    for group_data in taxonomy["groups"]:
        group = _upsert(DrugGroup, {"code": group_data["code"]}, {"name": group_data["name"]}, report)
        by_code["group"][group.code] = group
        for subgroup_data in group_data["subgroups"]:
            subgroup = _upsert(
                DrugSubgroup,
                {"code": subgroup_data["code"]},
                {"name": subgroup_data["name"], "group": group},
                report,
            )
            by_code["subgroup"][subgroup.code] = subgroup
            for drug_data in subgroup_data["drugs"]:
                drug = _upsert(
                    Drug,
                    {"code": drug_data["code"]},
                    {
                        "name": drug_data["name"],
                        "subgroup": subgroup,
                        "measure": drug_data.get("measure", "mass"),
                    },
                    report,
                )
                by_code["drug"][drug.code] = drug
    # One target per spelling: names of groups, then subgroups, then drugs (the most specific wins when a
    # drug is named like its subgroup), then the explicit aliases of real files.
    targets: dict[str, tuple[str, str, Any]] = {}
    for kind in ("group", "subgroup", "drug"):
        for target in by_code[kind].values():
            targets[normalize_label(target.name)] = (target.name, kind, target)
    for alias in taxonomy.get("aliases", []):
        kind = next(key.removesuffix("_code") for key in alias if key.endswith("_code"))
        targets[normalize_label(alias["label"])] = (
            alias["label"],
            kind,
            by_code[kind][alias[f"{kind}_code"]],
        )
    for normalized, (label, kind, target) in targets.items():
        values = {"label": label, "drug": None, "subgroup": None, "group": None, kind: target}
        _upsert(DrugAlias, {"normalized": normalized}, values, report)


def load_units_and_factors(report: LoadReport) -> None:
    for row in _rows("units.csv"):
        unit = _upsert(
            Unit, {"code": row["code"]}, {"name": row["name"], "dimension": row["dimension"]}, report
        )
        for label in [row["code"], row["name"], *row["aliases"].split("|")]:
            _upsert(UnitAlias, {"normalized": normalize_label(label)}, {"label": label, "unit": unit}, report)
    units = {unit.code: unit for unit in Unit.objects.all()}
    drugs = {drug.code: drug for drug in Drug.objects.all()}
    regions = {region.name: region for region in Region.objects.filter(kind__startswith="wdr")}
    for row in _rows("conversion_factors.csv"):
        factor_set = _upsert(
            ConversionFactorSet,
            {"version": row["version"]},
            {
                "published_on": date.fromisoformat(row["published_on"]),
                "source": "Drug Observatory reference data",
            },
            report,
        )
        lookup = {
            "factor_set": factor_set,
            "drug": drugs[row["drug_code"]] if row["drug_code"] else None,
            "unit": units[row["unit"]],
            "region": regions[row["region"]] if row["region"] else None,
            "year": int(row["year"]) if row["year"] else None,
        }
        _upsert(
            ConversionFactor,
            lookup,
            {"kg_per_unit": float(row["kg_per_unit"]), "basis": row["basis"]},
            report,
        )


def load_reference() -> LoadReport:
    """Load every shipped reference table; running it again changes nothing."""
    report = LoadReport()
    with transaction.atomic():
        load_regions_and_countries(report)
        load_populations(report)
        load_controlled_substances(report)
        if TAXONOMY_FILE.exists():
            load_taxonomy(report)
        load_units_and_factors(report)
        if report.changed:
            audit.record(
                None,
                "reference.load",
                "reference",
                "shipped",
                after={"created": report.created, "updated": report.updated},
            )
    return report
