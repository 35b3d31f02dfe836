"""Every read is scoped: another country's focal point sees none of the restricted fields; the public
sees nothing; refused uploads change nothing; the route API answers a small known dataset exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from observatory.jobs.models import Job
from observatory.seizures import queries
from observatory.seizures.kernels.generator import IDS_COLUMNS
from observatory.seizures.models import ImportBatch, SeizureCase
from observatory.seizures.services import import_seizure_file
from tests.factories import make_user
from tests.seizures.test_import_service import HEADER, row

pytestmark = pytest.mark.usefixtures("reference")

RESTRICTED = ("origin_country", "departure_country", "transit_countries", "destination_country", "route",
              "offender_nationalities", "seizing_agency")  # fmt: skip
PAGES = ["/seizures/", "/seizures/map/", "/seizures/routes/", "/seizures/upload/", "/seizures/batches/"]


def load(tmp_path: Path, name: str, country: str, classification: str, *rows: str) -> ImportBatch:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    batch = import_seizure_file(
        None, path, country_iso3=country, classification=classification, system=True
    ).batch
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors
    return batch


@pytest.fixture
def cases(tmp_path: Path) -> dict[str, ImportBatch]:
    """COL: one public and one restricted case; ESP: one confidential case."""
    return {
        "col_public": load(tmp_path, "a.csv", "COL", "public", row(CASE_REFERENCE="COL-PUB")),
        "col_restricted": load(tmp_path, "b.csv", "COL", "restricted", row(CASE_REFERENCE="COL-RES")),
        "esp_confidential": load(
            tmp_path, "c.csv", "ESP", "confidential",
            row(CASE_REFERENCE="ESP-CONF", COUNTRY_OF_SEIZURE="ESP", DESTINATION_COUNTRY="ESP"),
        ),
    }  # fmt: skip


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def api_cases(client: Client, query: str = "") -> dict[str, dict[str, object]]:
    response = client.get(f"/api/v1/seizures/cases?{query}")
    assert response.status_code == 200, response.content
    return {item["case_reference"]: item for item in response.json()["results"]}


def test_owner_sees_every_field_of_its_cases(cases: dict[str, ImportBatch]) -> None:
    owner = client_for(make_user("focal_point", country="COL"))
    seen = api_cases(owner)
    assert sorted(seen) == ["COL-PUB", "COL-RES"]
    assert seen["COL-RES"]["route"] == "COL>PAN>USA"
    assert seen["COL-RES"]["transit_countries"] == ["PAN"]
    assert seen["COL-RES"]["offender_nationalities"] == ["COL", "USA"]
    assert seen["COL-RES"]["seizing_agency"] == "Police"
    assert seen["COL-RES"]["restricted_fields_visible"] is True


def test_another_countrys_focal_point_sees_no_restricted_field(cases: dict[str, ImportBatch]) -> None:
    """Given COL's cases, when PER's focal point reads, then only the public case shows, with every
    restricted field null, on the API and on the pages; filtering by route country finds nothing."""
    other = client_for(make_user("focal_point", country="PER"))
    seen = api_cases(other)
    assert sorted(seen) == ["COL-PUB"]
    assert {name: seen["COL-PUB"][name] for name in RESTRICTED} == dict.fromkeys(RESTRICTED)
    assert seen["COL-PUB"]["restricted_fields_visible"] is False
    assert api_cases(other, "route_country=PAN") == {}
    case_id = SeizureCase.objects.get(case_reference="COL-PUB").pk
    detail = other.get(f"/api/v1/seizures/cases/{case_id}").json()
    assert detail["route"] is None and detail["seizing_agency"] is None
    hidden = SeizureCase.objects.get(case_reference="COL-RES").pk
    assert other.get(f"/api/v1/seizures/cases/{hidden}").status_code == 404
    page = other.get("/seizures/").content.decode()
    assert "COL-PUB" in page and "COL-RES" not in page and "COL&gt;PAN&gt;USA" not in page
    detail_page = other.get(f"/seizures/cases/{case_id}/").content.decode()
    assert "Police" not in detail_page and "PAN" not in detail_page and "restricted" in detail_page
    assert other.get(f"/seizures/cases/{hidden}/").status_code == 404


def test_regional_analyst_sees_restricted_but_not_confidential(cases: dict[str, ImportBatch]) -> None:
    americas = client_for(make_user("analyst", region="Americas"))
    assert sorted(api_cases(americas)) == ["COL-PUB", "COL-RES"]
    europe = client_for(make_user("analyst", region="Europe"))
    seen = api_cases(europe)
    assert sorted(seen) == ["COL-PUB"]  # the ESP case is confidential: country grants and global only
    assert seen["COL-PUB"]["route"] is None
    global_analyst = client_for(make_user("analyst"))
    assert sorted(api_cases(global_analyst)) == ["COL-PUB", "COL-RES", "ESP-CONF"]
    assert api_cases(global_analyst)["ESP-CONF"]["route"] == "COL>PAN>ESP"


def test_the_public_gets_nothing_anywhere(cases: dict[str, ImportBatch]) -> None:
    public = Client()
    for page in [*PAGES, f"/seizures/batches/{cases['col_public'].pk}/"]:
        response = public.get(page)
        assert response.status_code == 302 and "/login" in response["Location"], page
    for endpoint in [
        "cases",
        "batches",
        f"batches/{cases['col_public'].pk}",
        "routes/network",
        "routes/emerging",
    ]:
        assert public.get(f"/api/v1/seizures/{endpoint}").status_code == 401, endpoint
    upload = SimpleUploadedFile("x.csv", ("\n".join([HEADER, row()]) + "\n").encode())
    assert public.post("/api/v1/seizures/uploads", {"file": upload, "country": "COL"}).status_code == 401
    assert (SeizureCase.objects.count(), ImportBatch.objects.count(), Job.objects.count()) == (3, 3, 0)


def test_refused_uploads_change_nothing(cases: dict[str, ImportBatch]) -> None:
    """Another country's focal point, an analyst (no import right) and an oversized file are refused."""
    content = ("\n".join([HEADER, row(CASE_REFERENCE="NEW")]) + "\n").encode()
    before = (SeizureCase.objects.count(), ImportBatch.objects.count(), Job.objects.count())
    per = client_for(make_user("focal_point", country="PER"))
    response = per.post(
        "/api/v1/seizures/uploads", {"file": SimpleUploadedFile("x.csv", content), "country": "COL"}
    )
    assert response.status_code == 403
    page = per.post("/seizures/upload/", {"file": SimpleUploadedFile("x.csv", content), "country": "COL"})
    assert page.status_code == 403
    analyst = client_for(make_user("analyst"))
    assert analyst.get("/seizures/upload/").status_code == 403
    assert (
        analyst.post(
            "/api/v1/seizures/uploads", {"file": SimpleUploadedFile("x.csv", content), "country": "COL"}
        ).status_code
        == 403
    )
    assert (SeizureCase.objects.count(), ImportBatch.objects.count(), Job.objects.count()) == before


def test_oversized_and_wrong_format_uploads_are_refused(
    cases: dict[str, ImportBatch], settings: object
) -> None:
    setattr(settings, "OBSERVATORY_MAX_UPLOAD_BYTES", 100)  # noqa: B010
    col = client_for(make_user("focal_point", country="COL"))
    content = ("\n".join([HEADER, row(CASE_REFERENCE="NEW")]) + "\n").encode()
    big = col.post(
        "/api/v1/seizures/uploads", {"file": SimpleUploadedFile("x.csv", content), "country": "COL"}
    )
    assert big.status_code == 400 and "limited to 100" in big.json()["detail"]
    pdf = col.post("/seizures/upload/", {"file": SimpleUploadedFile("x.pdf", b"%PDF"), "country": "COL"})
    assert pdf.status_code == 400 and "upload a CSV (.csv) or Excel (.xlsx) file" in pdf.content.decode()
    assert (ImportBatch.objects.count(), Job.objects.count()) == (3, 0)


def test_batches_are_visible_to_their_country_only(cases: dict[str, ImportBatch]) -> None:
    batch = cases["col_restricted"]
    assert (
        client_for(make_user("focal_point", country="PER"))
        .get(f"/api/v1/seizures/batches/{batch.pk}")
        .status_code
        == 404
    )
    body = (
        client_for(make_user("focal_point", country="COL")).get(f"/api/v1/seizures/batches/{batch.pk}").json()
    )
    assert (body["status"], body["rows_imported"], body["errors"]) == ("imported", 1, [])


def route_row(reference: str, year: int, route: tuple[str, str, str, str], seizing: str) -> str:
    origin, departure, transit, destination = route
    return row(
        CASE_REFERENCE=reference, COUNTRY_OF_SEIZURE=seizing, SEIZURE_DATE=f"{year}-06-01",
        PRODUCING_COUNTRY=origin, DEPARTURE_COUNTRY=departure, TRANSIT_COUNTRIES=transit,
        DESTINATION_COUNTRY=destination,
    )  # fmt: skip


def test_an_import_reads_stored_fingerprints_only_where_the_importer_may_import(
    cases: dict[str, ImportBatch],
) -> None:
    """Given stored COL and ESP cases, when the duplicate check of an import reads what is already stored,
    then a COL focal point reads COL's fingerprints only, the public none, and the shell all."""
    stored = {
        code: set(
            SeizureCase.objects.filter(reporting_country__iso3=code).values_list("fingerprint", flat=True)
        )
        for code in ("COL", "ESP")
    }
    col = make_user("focal_point", country="COL")
    assert queries.stored_fingerprints(["COL", "ESP"], col) == stored["COL"]
    assert len(stored["COL"]) == 2
    assert queries.stored_fingerprints(["COL", "ESP"], AnonymousUser()) == set()
    assert queries.stored_fingerprints(["COL", "ESP"], None, system=True) == stored["COL"] | stored["ESP"]


def test_route_api_on_a_small_known_dataset(tmp_path: Path) -> None:
    """Given 2021-2023: COL>PAN>USA once a year, and in 2024 four cases COL>ECU>BEL (new) plus COL>PAN>USA,
    then the 2024 network has the legs with exact case counts, PAN and ECU as hubs, and COL>ECU and
    ECU>BEL are new routes; a focal point (no analyse right) is refused."""
    rows = [
        route_row(f"R{year}", year, ("COL", "COL", "PAN", "USA"), "USA") for year in (2021, 2022, 2023, 2024)
    ]
    rows += [route_row(f"N{i}", 2024, ("COL", "COL", "ECU", "BEL"), "BEL") for i in range(4)]
    path = tmp_path / "routes.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    assert import_seizure_file(None, path, system=True).batch.rows_imported == 8
    analyst = client_for(make_user("analyst"))
    network = analyst.get("/api/v1/seizures/routes/network?year_from=2024&year_to=2024").json()
    assert network["periods"] == [2024] and network["case_count"] == 5
    edges = {(e["source"], e["target"]): (e["cases"], e["events"]) for e in network["edges"]}
    assert edges == {
        ("COL", "PAN"): (1, 1),
        ("PAN", "USA"): (1, 1),
        ("COL", "ECU"): (4, 4),
        ("ECU", "BEL"): (4, 4),
    }
    kg = {(e["source"], e["target"]): e["kg"] for e in network["edges"]}
    assert kg[("COL", "ECU")] == pytest.approx(1000.0)  # 4 cases x 250 kg
    hubs = {n["country"]: n["betweenness"] for n in network["hubs"]}
    assert hubs["ECU"] > 0 and hubs["PAN"] > 0 and hubs["COL"] == 0.0 and hubs["USA"] == 0.0
    emerging = analyst.get("/api/v1/seizures/routes/emerging?year_to=2024").json()
    assert emerging["period"] == 2024
    assert [(r["source"], r["target"], r["status"], r["events"]) for r in emerging["routes"]] == [
        ("COL", "ECU", "new", 4),
        ("ECU", "BEL", "new", 4),
    ]
    focal = client_for(make_user("focal_point", country="COL"))
    assert focal.get("/api/v1/seizures/routes/network").status_code == 403
    assert focal.get("/seizures/routes/").status_code == 403
    page = analyst.get("/seizures/routes/?year_from=2024&year_to=2024")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "COL → ECU: 4 cases" in html


def test_route_analysis_counts_only_cases_whose_route_the_user_may_read(tmp_path: Path) -> None:
    """A regional analyst of Europe gets no flows from Americas cases, even public ones."""
    rows = [route_row(f"C{i}", 2024, ("COL", "COL", "ECU", "BEL"), "COL") for i in range(3)]
    path = tmp_path / "pub.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    import_seizure_file(None, path, country_iso3="COL", classification="public", system=True)
    europe = client_for(make_user("analyst", region="Europe"))
    network = europe.get("/api/v1/seizures/routes/network").json()
    assert (network["case_count"], network["edges"]) == (0, [])
    americas = client_for(make_user("analyst", region="Americas"))
    assert americas.get("/api/v1/seizures/routes/network").json()["case_count"] == 3


def test_case_filters(cases: dict[str, ImportBatch]) -> None:
    analyst = client_for(make_user("analyst"))
    assert sorted(api_cases(analyst, "country=COL")) == ["COL-PUB", "COL-RES"]
    assert sorted(api_cases(analyst, "route_country=ESP")) == ["ESP-CONF"]
    assert sorted(api_cases(analyst, "drug=cocaine")) == ["COL-PUB", "COL-RES", "ESP-CONF"]
    assert api_cases(analyst, "drug=opioids") == {}
    assert api_cases(analyst, "year_from=2024") == {}
    assert api_cases(analyst, "channel=internet") == {}
    for page in PAGES[:3]:
        assert analyst.get(page).status_code == 200, page
    assert "<svg" in analyst.get("/seizures/map/").content.decode()


def test_ids_columns_are_the_header(tmp_path: Path) -> None:
    assert HEADER.split(",") == list(IDS_COLUMNS)
