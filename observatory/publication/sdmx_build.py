"""SDMX structures and data sets of the published observations (for the /sdmx/ endpoints and downloads).

One data structure for all the Observatory's dataflows: FREQ.REF_AREA.INDICATOR.DRUG.STAT, with
STAT = BEST/LOW/HIGH, the unit as a series attribute and source, method, coverage and notes on each
observation. Only the headline figure of each key is in SDMX (further reports are in the CSV/XLSX).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from observatory.publication import sources
from observatory.publication.models import PublishedObservation
from observatory.publication.portal import DATASET_NAMES, INDICATORS, Observations, headline
from observatory.publication.sdmx.model import (
    AttachmentLevel,
    Attribute,
    Code,
    Codelist,
    Concept,
    ConceptScheme,
    Dataflow,
    DataSet,
    DataStructureDefinition,
    Dimension,
    Observation,
    Series,
)
from observatory.reference.models import Country, Region

AGENCY = "UNODC"
VERSION = "1.0"
FLOWS = {
    "DF_PREVALENCE": "prevalence",
    "DF_SEIZURES": "seizures",
    "DF_ESTIMATES": "estimates",
    "DF_CULTIVATION": "cultivation",
}
# SDMX carries the aggregate seizure figures; the as-reported rows (drug labels) are in CSV/XLSX.
SDMX_INDICATORS = {
    "prevalence": ("prevalence_past_year", "prevalence_lifetime", "prevalence_past_month"),
    "seizures": ("seizures_kg",),
    "estimates": ("users_past_year", "prevalence_estimate"),
    "cultivation": ("cultivation_ha",),
}
UNITS = {"PT": "Percent", "KG": "Kilograms", "NUM": "Number", "PERSONS": "Persons", "HA": "Hectares"}


def sdmx_code(code: str) -> str:
    """A code usable as an SDMX ID (dots and spaces become underscores)."""
    return "".join(ch if ch.isalnum() or ch in "_@$-" else "_" for ch in code)


def _codelist(id: str, name: str, codes: list[Code]) -> Codelist:
    return Codelist(id=id, agency=AGENCY, version=VERSION, names={"en": name}, codes=tuple(codes))


def area_codelist() -> Codelist:
    regions = list(Region.objects.filter(kind__startswith="wdr").values_list("name", "kind", "parent__name"))
    codes = [Code("WORLD", "World")]
    region_code = {}
    for name, kind, _parent in regions:
        level = "region" if kind == Region.Kind.WDR_REGION else "subregion"
        region_code[(name, level)] = sources.area_code_for_region(name, level)
    seen = {"WORLD"}
    for name, kind, parent in sorted(regions, key=lambda r: (r[1] != Region.Kind.WDR_REGION, r[0])):
        level = "region" if kind == Region.Kind.WDR_REGION else "subregion"
        code = region_code[(name, level)]
        if code in seen:
            continue
        seen.add(code)
        parent_code = region_code.get((parent, "region")) if parent else None
        codes.append(Code(code, name, parent=parent_code if parent_code in seen else "WORLD"))
    for iso3, name, subregion in Country.objects.values_list("iso3", "name", "wdr_subregion__name"):
        country_parent = region_code.get((subregion, "subregion")) if subregion else None
        codes.append(Code(iso3, name, parent=country_parent if country_parent in seen else None))
    return _codelist("CL_AREA", "Countries, WDR regions and the world", codes)


@dataclass(frozen=True)
class Structures:
    dataflows: dict[str, Dataflow]
    structure: DataStructureDefinition
    codelists: tuple[Codelist, ...]


def build_structures(obs: Observations) -> Structures:
    """The dataflows, the data structure and its codelists for the published observations ``obs``."""
    drugs: dict[str, str] = {sdmx_code(code): name for code, name in sources.DRUG_NAMES.items()}
    for code, name in headline(obs).order_by().values_list("drug", "drug_name").distinct():
        drugs.setdefault(sdmx_code(code), name)
    freq = _codelist("CL_FREQ", "Frequency", [Code("A", "Annual")])
    area = area_codelist()
    indicator = _codelist(
        "CL_INDICATOR", "Indicators", [Code(sdmx_code(i.code), i.name) for i in INDICATORS.values()]
    )
    drug = _codelist(
        "CL_DRUG", "Drugs and drug groups", [Code(code, name) for code, name in sorted(drugs.items())]
    )
    stat = _codelist(
        "CL_STAT",
        "Estimate",
        [Code("BEST", "Best estimate"), Code("LOW", "Lower bound"), Code("HIGH", "Upper bound")],
    )
    unit = _codelist("CL_UNIT", "Units of measure", [Code(code, name) for code, name in UNITS.items()])
    concepts = ConceptScheme(
        id="CS_DRUG_STATISTICS",
        agency=AGENCY,
        version=VERSION,
        names={"en": "Drug statistics concepts"},
        concepts=tuple(
            Concept(cid, name)
            for cid, name in (
                ("FREQ", "Frequency"),
                ("REF_AREA", "Reference area"),
                ("INDICATOR", "Indicator"),
                ("DRUG", "Drug or drug group"),
                ("STAT", "Estimate"),
                ("TIME_PERIOD", "Time period"),
                ("OBS_VALUE", "Observation value"),
                ("UNIT_MEASURE", "Unit of measure"),
                ("SOURCE", "Source"),
                ("METHOD", "Method"),
                ("COVERAGE", "Coverage"),
                ("COMMENT", "Notes"),
            )
        ),
    )
    dsd = DataStructureDefinition(
        id="DSD_DRUG_STATISTICS",
        agency=AGENCY,
        version=VERSION,
        names={"en": "Drug statistics"},
        concept_scheme=concepts,
        dimensions=(
            Dimension("FREQ", freq),
            Dimension("REF_AREA", area),
            Dimension("INDICATOR", indicator),
            Dimension("DRUG", drug),
            Dimension("STAT", stat),
        ),
        attributes=(
            Attribute("UNIT_MEASURE", unit, level=AttachmentLevel.SERIES),
            Attribute("SOURCE"),
            Attribute("METHOD"),
            Attribute("COVERAGE"),
            Attribute("COMMENT"),
        ),
    )
    flows = {
        flow_id: Dataflow(
            id=flow_id, agency=AGENCY, version=VERSION, names={"en": DATASET_NAMES[dataset]}, structure=dsd
        )
        for flow_id, dataset in FLOWS.items()
    }
    return Structures(flows, dsd, dsd.codelists())


def build_data_set(obs: Observations, flow: Dataflow) -> DataSet:
    """Series BEST/LOW/HIGH per area, indicator and drug of the flow's dataset, one observation a year."""
    dataset = FLOWS[flow.id]
    area_codes = flow.structure.dimensions[1].codelist.code_ids()
    series: dict[tuple[str, str, str, str], dict[str, Observation]] = defaultdict(dict)
    units: dict[tuple[str, str, str, str], str] = {}
    rows = (
        headline(obs)
        .filter(dataset=dataset, indicator__in=SDMX_INDICATORS[dataset])
        .order_by("area_code", "indicator", "drug", "year")
        .values_list(
            "area_code",
            "indicator",
            "drug",
            "year",
            "value",
            "low",
            "high",
            "unit",
            "source",
            "method",
            "coverage",
            "notes",
        )
    )
    for area, indicator, drug, year, value, low, high, unit, source, method, coverage, notes in rows:
        if area not in area_codes:
            continue
        attributes = {
            k: v
            for k, v in (("SOURCE", source), ("METHOD", method), ("COVERAGE", coverage), ("COMMENT", notes))
            if v
        }
        for stat, figure in (("BEST", value), ("LOW", low), ("HIGH", high)):
            if figure is None and stat != "BEST":
                continue
            key = (area, sdmx_code(indicator), sdmx_code(drug), stat)
            series[key][str(year)] = Observation(str(year), figure, attributes)
            units[key] = unit if unit in UNITS else "NUM"
    return DataSet(
        dataflow=flow,
        series=tuple(
            Series(
                key={"FREQ": "A", "REF_AREA": k[0], "INDICATOR": k[1], "DRUG": k[2], "STAT": k[3]},
                observations=tuple(observations.values()),
                attributes={"UNIT_MEASURE": units[k]},
            )
            for k, observations in series.items()
        ),
    )


def flow_for(
    structures: Structures, agency: str | None, flow_id: str, version: str | None
) -> Dataflow | None:
    flow = structures.dataflows.get(flow_id)
    if flow is None or agency not in (None, AGENCY) or version not in (None, VERSION):
        return None
    return flow


__all__ = ["PublishedObservation", "Structures", "build_data_set", "build_structures", "flow_for"]
