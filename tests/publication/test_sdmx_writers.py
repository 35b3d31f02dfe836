"""Every SDMX writer's output, read back by the sdmx1 reference client."""

from __future__ import annotations

import io
import json
import logging

import pandas as pd
import pytest

sdmx = pytest.importorskip("sdmx")

from observatory.publication.sdmx.model import ModelError, validate_data_set  # noqa: E402
from observatory.publication.sdmx.query import References, apply_query, parse_data_query  # noqa: E402
from observatory.publication.sdmx.writers import (  # noqa: E402
    iter_generic_data,
    iter_sdmx_csv,
    select_structures,
    write_generic_data,
    write_sdmx_csv,
    write_sdmx_json_data,
    write_structure_selection,
    write_structure_specific_data,
)

from .sdmx_samples import DATA_SET, DATAFLOW, DSD, HEADER  # noqa: E402

EXPECTED_VALUES = {
    ("A", "AFG", "OPIOIDS", "BEST", "2019"): 2.9,
    ("A", "AFG", "OPIOIDS", "BEST", "2021"): 3.1,
    ("A", "AFG", "OPIOIDS", "LOW", "2021"): 2.5,
    ("A", "COL", "COCAINE", "BEST", "2018"): 0.6,
    ("A", "COL", "COCAINE", "BEST", "2020"): 0.7,
    ("A", "COL", "COCAINE", "BEST", "2023"): 0.75,
    ("A", "COL", "CANNABIS", "HIGH", "2020"): 3.3,
    ("A", "PER", "COCAINE", "BEST", "2017"): 0.5,
}
MISSING_KEY = ("A", "AFG", "OPIOIDS", "BEST", "2022")


@pytest.fixture(scope="module")
def structure_message():
    selection = select_structures(dataflows=[DATAFLOW], references=References.ALL)
    return sdmx.read_sdmx(io.BytesIO(write_structure_selection(HEADER, selection)))


@pytest.fixture(scope="module")
def client_dsd(structure_message):
    return structure_message.structure["DSD_PREVALENCE"]


def values_by_key(message) -> dict[tuple[str, ...], float]:
    series = sdmx.to_pandas(message.data[0])
    frame = series.reset_index()
    columns = ["FREQ", "REF_AREA", "DRUG", "STAT", "TIME_PERIOD"]
    return {tuple(str(v) for v in row[columns]): float(row["value"]) for _, row in frame.iterrows()}


def assert_values_round_trip(message):
    values = values_by_key(message)
    assert pd.isna(values.pop(MISSING_KEY))
    assert values == pytest.approx(EXPECTED_VALUES)


def test_structure_message_header_codelists_and_dsd(structure_message):
    message = structure_message
    assert message.header.id == "TEST_MESSAGE"
    assert message.header.test is False
    assert message.header.sender.id == "UNODC"
    assert message.header.prepared.year == 2025
    assert sorted(message.codelist) == sorted(
        ["CL_FREQ", "CL_AREA", "CL_DRUG", "CL_STAT", "CL_UNIT", "CL_OBS_STATUS", "CL_METHOD"]
    )
    area = message.codelist["CL_AREA"]
    assert str(area.name) == "Countries and regions"
    assert sorted(code.id for code in area) == ["AFG", "AME", "ASI", "COL", "MMR", "PER"]
    assert area["AFG"].parent.id == "ASI"
    assert str(area["COL"].name) == "Colombia"
    assert [c.id for c in message.concept_scheme["CS_DRUGS"]][:3] == ["FREQ", "REF_AREA", "DRUG"]
    dataflow = message.dataflow["DF_PREVALENCE"]
    assert dataflow.structure.id == "DSD_PREVALENCE"


def test_dsd_dimensions_in_order_with_codelists_and_attributes(client_dsd):
    dsd = client_dsd
    assert [d.id for d in dsd.dimensions] == ["FREQ", "REF_AREA", "DRUG", "STAT", "TIME_PERIOD"]
    assert type(dsd.dimensions.get("TIME_PERIOD")).__name__ == "TimeDimension"
    assert dsd.dimensions.get("REF_AREA").local_representation.enumerated.id == "CL_AREA"
    assert [m.id for m in dsd.measures] == ["OBS_VALUE"]
    assert [a.id for a in dsd.attributes] == ["UNIT_MEASURE", "OBS_STATUS", "SOURCE", "METHOD"]
    assert type(dsd.attributes.get("OBS_STATUS").related_to).__name__ == "PrimaryMeasureRelationship"
    assert [d.id for d in dsd.attributes.get("UNIT_MEASURE").related_to.dimensions] == [
        "FREQ",
        "REF_AREA",
        "DRUG",
        "STAT",
    ]


def test_references_none_and_children_limit_the_message():
    none = sdmx.read_sdmx(
        io.BytesIO(write_structure_selection(HEADER, select_structures(dataflows=[DATAFLOW])))
    )
    assert (len(none.dataflow), len(none.codelist)) == (1, 0)
    # The dataflow's <Ref> to its DSD is all there is: sdmx1 keeps it as an external reference.
    assert none.dataflow["DF_PREVALENCE"].structure.is_external_reference
    children = select_structures(dataflows=[DATAFLOW], references=References.CHILDREN)
    assert (len(children.data_structures), len(children.codelists)) == (1, 0)
    dsd_children = select_structures(data_structures=[DSD], references=References.CHILDREN)
    assert [c.id for c in dsd_children.codelists] == [
        "CL_FREQ",
        "CL_AREA",
        "CL_DRUG",
        "CL_STAT",
        "CL_UNIT",
        "CL_OBS_STATUS",
        "CL_METHOD",
    ]


@pytest.mark.parametrize("dimension_at_observation", ["TIME_PERIOD", "AllDimensions"])
def test_generic_data_reads_back_with_values_and_attributes(client_dsd, dimension_at_observation):
    body = write_generic_data(HEADER, DATA_SET, dimension_at_observation)
    message = sdmx.read_sdmx(io.BytesIO(body), structure=client_dsd)
    assert_values_round_trip(message)
    observations = {tuple(kv.value for kv in o.key.values.values()): o for o in message.data[0].obs}
    afg_2019 = observations[("A", "AFG", "OPIOIDS", "BEST", "2019")]
    assert afg_2019.attached_attribute["OBS_STATUS"].value == "E"
    assert afg_2019.attached_attribute["SOURCE"].value == "ARQ"
    per = observations[("A", "PER", "COCAINE", "BEST", "2017")]
    # Markup and quotes in free text survive escaping.
    assert per.attached_attribute["SOURCE"].value == '=HYPERLINK("http://x","y") & "quoted" <tag>'


def test_generic_data_series_attributes_and_no_structure_needed():
    message = sdmx.read_sdmx(io.BytesIO(write_generic_data(HEADER, DATA_SET)))
    data_set = message.data[0]
    assert len(data_set.series) == 5
    first_key = next(iter(data_set.series))
    assert first_key.attrib["UNIT_MEASURE"].value == "PT"
    assert message.observation_dimension.id == "TIME_PERIOD"
    assert_values_round_trip(message)


@pytest.mark.parametrize("dimension_at_observation", ["TIME_PERIOD", "AllDimensions"])
def test_structure_specific_data_reads_back(client_dsd, dimension_at_observation):
    body = write_structure_specific_data(HEADER, DATA_SET, dimension_at_observation)
    message = sdmx.read_sdmx(io.BytesIO(body), structure=client_dsd)
    assert_values_round_trip(message)
    if dimension_at_observation == "TIME_PERIOD":
        assert len(message.data[0].series) == 5


def test_sdmx_json_reads_back_with_sdmx1(caplog):
    body = write_sdmx_json_data(HEADER, DATA_SET)
    with caplog.at_level(logging.WARNING, logger="sdmx"):
        message = sdmx.read_sdmx(io.BytesIO(body))
    assert not [r for r in caplog.records if "No AttributeValues" in r.getMessage()]
    assert message.header.id == "TEST_MESSAGE"
    assert_values_round_trip(message)
    observation = next(o for o in message.data[0].obs if o.key.values["TIME_PERIOD"].value == "2018")
    assert observation.attached_attribute["METHOD"].value.id == "HHS"


def test_sdmx_json_structure_is_index_encoded():
    document = json.loads(write_sdmx_json_data(HEADER, DATA_SET))
    structure = document["structure"]
    assert [d["id"] for d in structure["dimensions"]["series"]] == ["FREQ", "REF_AREA", "DRUG", "STAT"]
    time = structure["dimensions"]["observation"][0]
    assert (time["id"], time["role"], time["keyPosition"]) == ("TIME_PERIOD", "time", 4)
    assert [v["id"] for v in time["values"]] == ["2017", "2018", "2019", "2020", "2021", "2022", "2023"]
    area = structure["dimensions"]["series"][1]
    assert area["values"][0] == {"id": "AFG", "name": "Afghanistan"}
    assert [a["id"] for a in structure["attributes"]["series"]] == ["UNIT_MEASURE"]
    assert [a["id"] for a in structure["attributes"]["observation"]] == ["OBS_STATUS", "SOURCE", "METHOD"]
    series = document["dataSets"][0]["series"]["0:0:0:0"]
    assert series["attributes"] == [0]
    # 2019 is time index 2; value, OBS_STATUS=E (index 0), SOURCE=ARQ (index 0), no METHOD.
    assert series["observations"]["2"] == [2.9, 0, 0, None]
    assert series["observations"]["5"][0] is None


def test_sdmx_csv_header_is_exact_and_reads_back(client_dsd):
    body = write_sdmx_csv(DATA_SET)
    lines = body.decode().splitlines()
    assert lines[0] == (
        "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,DRUG,STAT,TIME_PERIOD,OBS_VALUE,"
        "UNIT_MEASURE,OBS_STATUS,SOURCE,METHOD"
    )
    assert lines[1] == "dataflow,UNODC:DF_PREVALENCE(1.0),I,A,AFG,OPIOIDS,BEST,2019,2.9,PT,E,ARQ,"
    assert lines[3] == "dataflow,UNODC:DF_PREVALENCE(1.0),I,A,AFG,OPIOIDS,BEST,2022,NaN,PT,E,ARQ,"
    message = sdmx.read_sdmx(io.BytesIO(body), format="csv", structure=client_dsd)
    assert_values_round_trip(message)


def test_sdmx_csv_v1_header():
    lines = write_sdmx_csv(DATA_SET, version="1.0").decode().splitlines()
    assert (
        lines[0]
        == "DATAFLOW,FREQ,REF_AREA,DRUG,STAT,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,OBS_STATUS,SOURCE,METHOD"
    )
    assert lines[1].startswith("UNODC:DF_PREVALENCE(1.0),A,AFG,OPIOIDS,BEST,2019,2.9,")


def test_writers_stream_one_chunk_per_series():
    chunks = list(iter_generic_data(HEADER, DATA_SET))
    assert len(chunks) == 1 + len(DATA_SET.series) + 1
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert len(list(iter_sdmx_csv(DATA_SET))) == 2  # header, then one batch of rows


def test_queried_subset_round_trips(client_dsd):
    query = parse_data_query(DSD, "A.COL..", {"startPeriod": "2020", "detail": "dataonly"})
    subset = apply_query(DATA_SET, query)
    message = sdmx.read_sdmx(io.BytesIO(write_structure_specific_data(HEADER, subset)), structure=client_dsd)
    assert values_by_key(message) == pytest.approx(
        {
            ("A", "COL", "COCAINE", "BEST", "2020"): 0.7,
            ("A", "COL", "COCAINE", "BEST", "2023"): 0.75,
            ("A", "COL", "CANNABIS", "HIGH", "2020"): 3.3,
        }
    )


def test_series_keys_only_reads_back_as_empty_series():
    query = parse_data_query(DSD, "A.AFG..", {"detail": "serieskeysonly"})
    message = sdmx.read_sdmx(io.BytesIO(write_generic_data(HEADER, apply_query(DATA_SET, query))))
    assert sorted(tuple(kv.value for kv in key.values.values()) for key in message.data[0].series) == [
        ("A", "AFG", "OPIOIDS", "BEST"),
        ("A", "AFG", "OPIOIDS", "LOW"),
    ]


def test_validate_data_set_names_the_fault():
    validate_data_set(DATA_SET)
    from dataclasses import replace

    bad = replace(
        DATA_SET, series=(replace(DATA_SET.series[0], key={**DATA_SET.series[0].key, "REF_AREA": "XXX"}),)
    )
    with pytest.raises(ModelError, match="REF_AREA='XXX' is not in codelist CL_AREA"):
        validate_data_set(bad)
