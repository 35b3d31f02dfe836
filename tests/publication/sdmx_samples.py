"""A small prevalence-like dataflow shared by the SDMX kernel tests."""

from __future__ import annotations

from datetime import UTC, datetime

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
    MessageHeader,
    Observation,
    Series,
)

AGENCY = "UNODC"


def codelist(id: str, name: str, codes: list[tuple[str, str]] | list[Code]) -> Codelist:
    built = tuple(c if isinstance(c, Code) else Code(id=c[0], name=c[1]) for c in codes)
    return Codelist(id=id, agency=AGENCY, version="1.0", names={"en": name}, codes=built)


FREQ = codelist("CL_FREQ", "Frequency", [("A", "Annual")])
AREA = codelist(
    "CL_AREA",
    "Countries and regions",
    [
        Code("ASI", "Asia"),
        Code("AME", "Americas"),
        Code("AFG", "Afghanistan", parent="ASI"),
        Code("COL", "Colombia", parent="AME"),
        Code("MMR", "Myanmar", parent="ASI"),
        Code("PER", "Peru", parent="AME"),
    ],
)
DRUG = codelist(
    "CL_DRUG", "Drug groups", [("CANNABIS", "Cannabis"), ("COCAINE", "Cocaine"), ("OPIOIDS", "Opioids")]
)
STAT = codelist(
    "CL_STAT", "Estimate", [("BEST", "Best estimate"), ("LOW", "Lower bound"), ("HIGH", "Upper bound")]
)
UNIT = codelist("CL_UNIT", "Units", [("PT", "Percent"), ("KG", "Kilograms")])
OBS_STATUS = codelist(
    "CL_OBS_STATUS", "Observation status", [("A", "Normal"), ("E", "Estimated"), ("P", "Provisional")]
)
METHOD = codelist("CL_METHOD", "Method", [("HHS", "Household survey"), ("SS", "School survey")])

CONCEPTS = ConceptScheme(
    id="CS_DRUGS",
    agency=AGENCY,
    version="1.0",
    names={"en": "Drug statistics concepts"},
    concepts=tuple(
        Concept(id, name)
        for id, name in [
            ("FREQ", "Frequency"),
            ("REF_AREA", "Reference area"),
            ("DRUG", "Drug group"),
            ("STAT", "Estimate"),
            ("TIME_PERIOD", "Time period"),
            ("OBS_VALUE", "Observation value"),
            ("UNIT_MEASURE", "Unit of measure"),
            ("OBS_STATUS", "Observation status"),
            ("SOURCE", "Source"),
            ("METHOD", "Method"),
        ]
    ),
)

DSD = DataStructureDefinition(
    id="DSD_PREVALENCE",
    agency=AGENCY,
    version="1.0",
    names={"en": "Prevalence of drug use", "fr": "Prévalence de l'usage de drogues"},
    concept_scheme=CONCEPTS,
    dimensions=(
        Dimension("FREQ", FREQ),
        Dimension("REF_AREA", AREA),
        Dimension("DRUG", DRUG),
        Dimension("STAT", STAT),
    ),
    attributes=(
        Attribute("UNIT_MEASURE", UNIT, level=AttachmentLevel.SERIES),
        Attribute("OBS_STATUS", OBS_STATUS),
        Attribute("SOURCE"),
        Attribute("METHOD", METHOD),
    ),
)

DATAFLOW = Dataflow(
    id="DF_PREVALENCE",
    agency=AGENCY,
    version="1.0",
    names={"en": "Annual prevalence of drug use"},
    structure=DSD,
)

HEADER = MessageHeader(
    id="TEST_MESSAGE", sender=AGENCY, sender_name="UNODC", prepared=datetime(2025, 6, 26, 12, 0, tzinfo=UTC)
)


def series(area: str, drug: str, stat: str, values: dict[str, float | None], **obs_attributes: str) -> Series:
    return Series(
        key={"FREQ": "A", "REF_AREA": area, "DRUG": drug, "STAT": stat},
        attributes={"UNIT_MEASURE": "PT"},
        observations=tuple(
            Observation(period=period, value=value, attributes=dict(obs_attributes))
            for period, value in values.items()
        ),
    )


DATA_SET = DataSet(
    dataflow=DATAFLOW,
    series=(
        series(
            "AFG", "OPIOIDS", "BEST", {"2019": 2.9, "2021": 3.1, "2022": None}, OBS_STATUS="E", SOURCE="ARQ"
        ),
        series("AFG", "OPIOIDS", "LOW", {"2021": 2.5}, OBS_STATUS="E"),
        series("COL", "COCAINE", "BEST", {"2018": 0.6, "2020": 0.7, "2023": 0.75}, METHOD="HHS"),
        series("COL", "CANNABIS", "HIGH", {"2020": 3.3}),
        series("PER", "COCAINE", "BEST", {"2017": 0.5}, SOURCE='=HYPERLINK("http://x","y") & "quoted" <tag>'),
    ),
)
