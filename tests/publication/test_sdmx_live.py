"""SDMX-REST conformance: the sdmx1 reference client against the live server on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests

from observatory.publication import services
from tests.factories import make_user

from .release_samples import first_release_rows

sdmx = pytest.importorskip("sdmx")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, transactional_reference):
    reviewer = make_user("reviewer")
    services.publish_release(
        reviewer, services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    )
    sdmx.add_source(
        {
            "id": "OBS",
            "url": f"{live_server.url}/sdmx",
            "name": "Drug Observatory",
            "supports": {"provisionagreement": False},
        },
        override=True,
    )
    return sdmx.Client("OBS")


def values(message) -> dict[tuple[str, ...], float]:
    frame = sdmx.to_pandas(message.data[0]).reset_index()
    columns = ["FREQ", "REF_AREA", "INDICATOR", "DRUG", "STAT", "TIME_PERIOD"]
    return {tuple(str(v) for v in row[columns]): float(row["value"]) for _, row in frame.iterrows()}


def test_structure_messages_are_read_by_the_client(client):
    flows = client.dataflow(agency_id="UNODC")
    assert sorted(flows.dataflow) == ["DF_CULTIVATION", "DF_ESTIMATES", "DF_PREVALENCE", "DF_SEIZURES"]
    message = client.dataflow("DF_PREVALENCE", agency_id="UNODC", params={"references": "all"})
    dsd = message.structure["DSD_DRUG_STATISTICS"]
    assert [d.id for d in dsd.dimensions] == ["FREQ", "REF_AREA", "INDICATOR", "DRUG", "STAT", "TIME_PERIOD"]
    area = message.codelist["CL_AREA"]
    assert str(area["COL"].name) == "Colombia"
    assert area["COL"].parent.id == "S_SOUTH_AMERICA"
    codelist = client.codelist("CL_STAT", agency_id="UNODC")
    assert sorted(code.id for code in codelist.codelist["CL_STAT"]) == ["BEST", "HIGH", "LOW"]


def test_data_query_with_key_wildcards_periods_and_last_n(client):
    message = client.data("DF_PREVALENCE", key="A.COL+PER..cannabis.", params={"startPeriod": 2020})
    assert values(message) == {
        ("A", "COL", "prevalence_past_year", "cannabis", "BEST", "2022"): 3.4,
        ("A", "COL", "prevalence_past_year", "cannabis", "LOW", "2022"): 3.0,
        ("A", "COL", "prevalence_past_year", "cannabis", "HIGH", "2022"): 3.8,
        ("A", "PER", "prevalence_past_year", "cannabis", "BEST", "2021"): 0.7,
    }
    latest = client.data("DF_PREVALENCE", key="A.COL...BEST", params={"lastNObservations": 1})
    assert values(latest) == {("A", "COL", "prevalence_past_year", "cannabis", "BEST", "2022"): 3.4}


MEDIA = {
    "genericdata": "application/vnd.sdmx.genericdata+xml;version=2.1",
    "structurespecificdata": "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
    "jsondata": "application/vnd.sdmx.data+json;version=1.0.0",
}


@pytest.mark.parametrize("fmt", ["genericdata", "structurespecificdata", "jsondata", "csv"])
def test_every_data_format_round_trips(client, live_server, fmt):
    if fmt == "csv":
        text = requests.get(f"{live_server.url}/sdmx/data/DF_SEIZURES/all?format=csv", timeout=30).text
        assert text.splitlines()[0].startswith(
            "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR,DRUG,STAT"
        )
        assert "dataflow,UNODC:DF_SEIZURES(1.0),I,A,COL,seizures_kg,cocaine,BEST,2022,659000.5" in text
        return
    if fmt == "structurespecificdata":
        dsd = client.datastructure("DSD_DRUG_STATISTICS", agency_id="UNODC").structure["DSD_DRUG_STATISTICS"]
        message = client.data("DF_SEIZURES", headers={"Accept": MEDIA[fmt]}, dsd=dsd)
    else:
        message = client.data("DF_SEIZURES", headers={"Accept": MEDIA[fmt]})
    assert values(message) == {
        ("A", "COL", "seizures_kg", "cocaine", "BEST", "2022"): 659000.5,
        ("A", "PER", "seizures_kg", "cocaine", "BEST", "2022"): 22000.0,
    }


def test_errors_are_typed(live_server, client):
    base = f"{live_server.url}/sdmx"
    assert requests.get(f"{base}/data/DF_NOPE", timeout=30).status_code == 404
    assert requests.get(f"{base}/data/DF_PREVALENCE/A.COL", timeout=30).status_code == 400  # wrong key length
    assert requests.get(f"{base}/data/DF_PREVALENCE?startPeriod=20x0", timeout=30).status_code == 400
    assert requests.get(f"{base}/data/DF_PREVALENCE?updatedAfter=2020-01-01", timeout=30).status_code == 501
    assert (
        requests.get(f"{base}/data/DF_PREVALENCE", headers={"Accept": "image/png"}, timeout=30).status_code
        == 406
    )
    assert requests.get(f"{base}/categoryscheme", timeout=30).status_code == 501
    assert requests.get(f"{base}/data/DF_PREVALENCE/A.XXX...", timeout=30).status_code == 404
    with pytest.raises(requests.HTTPError):
        client.data("DF_PREVALENCE", key="A.XXX...")
