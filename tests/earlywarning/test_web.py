"""Pages and JSON API of early warning: identifications restricted to the reporting country and the
office covering it, others see only that the substance was found there; alerts by scope; the public
sees only published alerts; refused writes change nothing; emergence; the CLI."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from observatory.earlywarning import queries, services
from observatory.earlywarning.models import Alert, Identification, Substance
from tests.factories import make_user

pytestmark = pytest.mark.django_db

MEPHEDRONE = "CNC(C)C(=O)c1ccc(C)cc1"
JWH_018 = "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"
API = "/api/v1/earlywarning"


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(reference: None) -> dict[str, Any]:
    """Mephedrone found in GBR (2016, restricted, Heathrow) and in COL (2024); JWH-018 in GBR in 2015."""
    gbr = make_user("forensic_focal_point", country="GBR")
    col = make_user("forensic_focal_point", country="COL")

    def add(user: Any, iso3: str, smiles: str, name: str, found: dt.date, place: str) -> int:
        assessment = services.report_identification(
            user,
            services.IdentificationInput(
                country=iso3,
                structure=smiles,
                names=[name],
                date_found=found,
                place=place,
                matrix="seized_material",
                analytical_method="GC-MS",
                key_data={"mz": [178.1226]},
            ),
        )
        assert assessment.identification_id is not None
        return assessment.identification_id

    ids = {
        "gbr_meph": add(gbr, "GBR", MEPHEDRONE, "Mephedrone", dt.date(2016, 5, 3), "Heathrow"),
        "gbr_jwh": add(gbr, "GBR", JWH_018, "JWH-018", dt.date(2015, 2, 1), "Dover"),
        "col_meph": add(col, "COL", MEPHEDRONE, "mefedrona", dt.date(2024, 8, 9), "Bogotá"),
    }
    return {"gbr": gbr, "col": col, "ids": ids, "mephedrone": Substance.objects.get(name="Mephedrone")}


def test_identification_details_are_restricted_to_the_country_and_the_office_covering_it(
    world: dict[str, Any],
) -> None:
    ids = world["ids"]
    europe = make_user("analyst", region="Europe")
    americas = make_user("analyst", region="Americas")
    focal_gbr = make_user("focal_point", country="GBR")
    expectations = {
        "gbr": (world["gbr"], {ids["gbr_meph"], ids["gbr_jwh"]}),
        "focal_gbr": (focal_gbr, {ids["gbr_meph"], ids["gbr_jwh"]}),
        "col": (world["col"], {ids["col_meph"]}),
        "europe": (europe, {ids["gbr_meph"], ids["gbr_jwh"]}),
        "americas": (americas, {ids["col_meph"]}),
        "global": (make_user("analyst"), set(ids.values())),
    }
    for label, (user, visible) in expectations.items():
        assert set(queries.identifications(user).values_list("pk", flat=True)) == visible, label
        response = client_for(user).get(f"{API}/identifications")
        assert response.status_code == 200
        assert {row["id"] for row in response.json()} == visible, label
    # another country's user gets 404 on the detail, on the page and in the API
    assert client_for(world["col"]).get(f"{API}/identifications/{ids['gbr_meph']}").status_code == 404
    assert (
        client_for(world["col"]).get(f"/earlywarning/identifications/{ids['gbr_meph']}/").status_code == 404
    )
    page = client_for(world["gbr"]).get(f"/earlywarning/identifications/{ids['gbr_meph']}/")
    assert page.status_code == 200 and "Heathrow" in page.content.decode()


def test_other_countries_see_only_that_the_substance_was_found_not_the_details(world: dict[str, Any]) -> None:
    mephedrone = world["mephedrone"]
    response = client_for(world["col"]).get(f"{API}/substances/{mephedrone.pk}")
    assert response.status_code == 200
    assert response.json()["identifications"] == [
        {"country": "GBR", "month": "2016-05", "details_visible": False, "identification_id": None},
        {
            "country": "COL",
            "month": "2024-08",
            "details_visible": True,
            "identification_id": world["ids"]["col_meph"],
        },
    ]
    page = client_for(world["col"]).get(f"/earlywarning/substances/{mephedrone.pk}/").content.decode()
    assert "restricted to GBR and the office" in page
    assert "Heathrow" not in page and "Bogotá" not in page


def test_anonymous_and_users_without_the_verb_are_refused_everywhere(world: dict[str, Any]) -> None:
    mephedrone = world["mephedrone"]
    anonymous, no_role = client_for(None), client_for(make_user("competent_authority", country="DEU"))
    for path in (
        f"{API}/identifications",
        f"{API}/substances",
        f"{API}/substances/{mephedrone.pk}",
        f"{API}/emergence",
        f"{API}/alerts",
    ):
        assert anonymous.get(path).status_code == 401, path
        assert no_role.get(path).status_code == 403, path
    assert anonymous.get("/earlywarning/").status_code == 302
    assert no_role.get("/earlywarning/").status_code == 403
    assert no_role.get("/earlywarning/emergence/").status_code == 403


def test_api_report_returns_the_assessment_and_refusals_change_nothing(world: dict[str, Any]) -> None:
    payload = {
        "country": "GBR",
        "structure": "Cl.CNC(C)C(=O)c1ccc(C)cc1",
        "names": ["4-MMC"],
        "date_found": "2021-01-15",
        "matrix": "biological_sample",
        "analytical_method": "LC-HRMS",
        "mz": [178.1226, 160.1121],
    }
    before = (Substance.objects.count(), Identification.objects.count())
    # refused: Colombia's forensic focal point for the United Kingdom, a focal point (view only)
    for user in (world["col"], make_user("focal_point", country="GBR")):
        response = client_for(user).post(f"{API}/identifications", payload, content_type="application/json")
        assert response.status_code == 403
    assert (
        client_for(None).post(f"{API}/identifications", payload, content_type="application/json").status_code
        == 401
    )
    assert (Substance.objects.count(), Identification.objects.count()) == before
    # accepted
    response = client_for(world["gbr"]).post(
        f"{API}/identifications", payload, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["known"], body["substance_name"], body["substance_group"]) == (
        True,
        "Mephedrone",
        "synthetic_cathinones",
    )
    assert body["merged"] == ["names added: 4-MMC"]
    assert (Substance.objects.count(), Identification.objects.count()) == (before[0], before[1] + 1)
    assert Identification.objects.get(pk=body["identification_id"]).key_data == {"mz": [178.1226, 160.1121]}
    # an unparsable structure is a 422 naming the field
    bad = client_for(world["gbr"]).post(
        f"{API}/identifications", {**payload, "structure": "C1CC"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["detail"] == "structure: cannot parse smiles 'C1CC': invalid syntax or valence"


def test_report_page_shows_the_assessment_after_submit(world: dict[str, Any]) -> None:
    client = client_for(world["gbr"])
    assert client.get("/earlywarning/report/").status_code == 200
    response = client.post(
        "/earlywarning/report/",
        {
            "country": "GBR",
            "structure": "FCCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21",
            "names": "AM-2201",
            "date_found": "2022-02-02",
            "place": "Manchester",
            "matrix": "seized_material",
            "analytical_method": "GC-MS",
            "mz": "360.1758, 155.0491",
            "classification": "restricted",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "New to the registry" in page and "AM-2201" in page
    assert "Synthetic cannabinoid receptor agonists" in page
    assert "JWH-018" in page  # the closest substance
    bad = client.post(
        "/earlywarning/report/",
        {
            "country": "GBR",
            "structure": "C1CC",
            "date_found": "2022-02-02",
            "matrix": "seized_material",
            "analytical_method": "GC-MS",
            "classification": "restricted",
        },
    )
    assert "invalid syntax or valence" in bad.content.decode()
    # a focal point may not open the form
    assert client_for(make_user("focal_point", country="GBR")).get("/earlywarning/report/").status_code == 403


def test_alert_pages_and_api_respect_scope_and_the_public_sees_only_published_parts(
    world: dict[str, Any],
) -> None:
    mephedrone = world["mephedrone"]
    analyst = make_user("analyst")
    payload = {
        "substance_id": mephedrone.pk,
        "severity": "warning",
        "countries": ["GBR"],
        "title": "Mephedrone purity up",
        "message": "internal message",
        "evidence": "lab data",
    }
    # refused: a forensic focal point and a regional analyst outside the region
    for user in (world["gbr"], make_user("analyst", region="Americas")):
        assert (
            client_for(user).post(f"{API}/alerts", payload, content_type="application/json").status_code
            == 403
        )
    assert Alert.objects.count() == 0
    created = client_for(analyst).post(f"{API}/alerts", payload, content_type="application/json")
    assert created.status_code == 201
    alert_id = created.json()["id"]
    assert [a["id"] for a in client_for(world["gbr"]).get(f"{API}/alerts").json()] == [alert_id]
    assert client_for(world["col"]).get(f"{API}/alerts").json() == []
    assert client_for(world["col"]).get(f"{API}/alerts/{alert_id}").status_code == 404
    assert client_for(world["col"]).get(f"/earlywarning/alerts/{alert_id}/").status_code == 404
    assert (
        "internal message"
        in client_for(world["gbr"]).get(f"/earlywarning/alerts/{alert_id}/").content.decode()
    )
    # the public: nothing until published, then only the summary
    public = client_for(None)
    assert public.get(f"{API}/public/alerts").json() == []
    assert public.get(f"{API}/public/alerts/{alert_id}").status_code == 404
    assert (
        client_for(analyst)
        .post(
            f"{API}/alerts/{alert_id}/publish",
            {"public_summary": "Higher purity seen."},
            content_type="application/json",
        )
        .status_code
        == 200
    )
    rows = public.get(f"{API}/public/alerts").json()
    assert [(r["id"], r["summary"]) for r in rows] == [(alert_id, "Higher purity seen.")]
    assert "message" not in rows[0] and "evidence" not in rows[0]
    page = public.get("/earlywarning/public/alerts/").content.decode()
    assert "Higher purity seen." in page and "internal message" not in page
    assert public.get(f"/earlywarning/public/alerts/{alert_id}/").status_code == 200


def test_emergence_first_identifications_timeline_and_map(world: dict[str, Any]) -> None:
    data = queries.emergence(world["col"], today=dt.date(2024, 8, 20))
    assert [(s.substance_name, s.date.isoformat(), s.where) for s in data.worldwide] == [
        ("JWH-018", "2015-02-01", "GBR"),
        ("Mephedrone", "2016-05-03", "GBR"),
    ]
    assert [(s.substance_name, s.where) for s in data.by_region["Americas"]] == [("Mephedrone", "COL")]
    assert [s.substance_name for s in data.by_country["GBR"]] == ["JWH-018", "Mephedrone"]
    assert data.timeline == [
        {"year": 2015, "new_substances": 1, "identifications": 1},
        {"year": 2016, "new_substances": 1, "identifications": 1},
        {"year": 2024, "new_substances": 0, "identifications": 1},
    ]
    assert data.new_this_month == []
    assert data.first_year_by_country == {"GBR": 2015, "COL": 2024}
    spread = queries.emergence(world["col"], substance_id=world["mephedrone"].pk)
    assert spread.first_year_by_country == {"GBR": 2016, "COL": 2024}
    page = client_for(world["col"]).get("/earlywarning/emergence/").content.decode()
    assert 'data-iso3="COL"' in page and "first identified 2024" in page


def test_search_and_classify_endpoints(world: dict[str, Any]) -> None:
    client = client_for(world["col"])
    found = client.get(f"{API}/search", {"smiles": "Cc1ccc(cc1)C(=O)C(C)NC", "k": "2"}).json()
    assert found["exact"]["name"] == "Mephedrone"
    assert [h["name"] for h in found["similar"]] == ["Mephedrone", "JWH-018"]
    assert found["similar"][0]["similarity"] == 1.0
    sub = client.get(f"{API}/search", {"smarts": "c1cccc2ccccc12"}).json()
    assert [h["name"] for h in sub["substructure"]] == ["JWH-018"]
    assert client.get(f"{API}/search", {"smarts": "c1cc("}).status_code == 422
    classified = client.post(
        f"{API}/classify",
        {"structure": JWH_018, "countries": ["COL"], "on_date": "2012-01-01"},
        content_type="application/json",
    ).json()
    national = {row["country"]: row["status"] for row in classified["control"]["national"]}
    assert national == {"COL": "not_determined", "GBR": "controlled", "USA": "not_determined"}
    assert classified["substance_group"] == "synthetic_cannabinoid_receptor_agonists"


def test_cli_search_and_classify(world: dict[str, Any]) -> None:
    out = StringIO()
    call_command("nps_search", smiles="Cc1ccc(cc1)C(=O)C(C)NC", k=2, json=True, stdout=out)
    result = json.loads(out.getvalue())
    assert result["exact"]["name"] == "Mephedrone"
    assert (result["registry"][0]["name"], result["registry"][0]["similarity"]) == ("Mephedrone", 1.0)
    assert len(result["registry"]) == 2
    text = StringIO()
    call_command("nps_search", smiles="Cc1ccc(cc1)C(=O)C(C)NC", k=1, stdout=text)
    lines = text.getvalue().splitlines()
    assert lines[1] == f"exact  Mephedrone (#{world['mephedrone'].pk})"
    assert lines[3].startswith("  1. 1.000  Mephedrone  [Synthetic cathinones]")
    out = StringIO()
    call_command(
        "nps_classify", smiles="CNC(C)C(=O)c1ccc(C)cc1.Cl", country=["GBR"], date="2020-01-01", stdout=out
    )
    text_out = out.getvalue()
    assert "class      Synthetic cathinones" in text_out
    assert "international  controlled: listed as Mephedrone: 1971 Convention Schedule II" in text_out
    assert (
        "GBR            controlled: controlled in GBR on 2020-01-01 by GBR-MDA1971-cathinones-2010"
        in text_out
    )
    assert "note       kept the largest organic fragment; removed 1: Cl" in text_out
    out = StringIO()
    call_command("nps_classify", smiles=JWH_018, json=True, date="2012-01-01", stdout=out)
    assert json.loads(out.getvalue())["control"]["national"][0]["rule"] == "GBR-MDA1971-naphthoylindoles-2009"
    with pytest.raises(CommandError, match="cannot parse smiles 'C1CC'"):
        call_command("nps_classify", smiles="C1CC")
    with pytest.raises(CommandError, match="unknown country 'XXX'"):
        call_command("nps_classify", smiles=JWH_018, country=["XXX"])


def test_retract_via_api_hides_it_from_pages_and_refusal_changes_nothing(world: dict[str, Any]) -> None:
    mephedrone = world["mephedrone"]
    refused = client_for(world["gbr"]).post(
        f"{API}/substances/{mephedrone.pk}/retract", {"reason": "x"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert Substance.objects.get(pk=mephedrone.pk).status == "active"
    board = client_for(make_user("board_officer"))
    assert (
        board.post(
            f"{API}/substances/{mephedrone.pk}/retract",
            {"reason": "duplicate record"},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert board.get(f"/earlywarning/substances/{mephedrone.pk}/").status_code == 404
    assert "Mephedrone" not in board.get("/earlywarning/").content.decode()
    assert [r["name"] for r in board.get(f"{API}/substances").json()] == ["JWH-018"]


def test_pages_render_for_a_global_analyst(world: dict[str, Any]) -> None:
    client = client_for(make_user("analyst"))
    for path in (
        "/earlywarning/",
        "/earlywarning/identifications/",
        "/earlywarning/emergence/",
        "/earlywarning/alerts/",
        "/earlywarning/alerts/new/",
        f"/earlywarning/substances/{world['mephedrone'].pk}/",
    ):
        assert client.get(path).status_code == 200, path
    assert (
        client.get("/api/v1/openapi.json").json()["paths"][f"{API}/identifications"]["post"]["summary"]
        == "Report an identification"
    )


def test_alert_form_page_issues_an_alert_and_is_refused_to_reporters(world: dict[str, Any]) -> None:
    mephedrone = world["mephedrone"]
    assert client_for(world["gbr"]).get("/earlywarning/alerts/new/").status_code == 403
    refused = client_for(world["gbr"]).post("/earlywarning/alerts/new/", {"substance": mephedrone.pk})
    assert refused.status_code == 403
    assert Alert.objects.count() == 0
    client = client_for(make_user("analyst", region="Europe"))
    form = {
        "substance": str(mephedrone.pk),
        "severity": "warning",
        "countries": ["GBR", "DEU"],
        "title": "High-purity mephedrone",
        "message": "Seen in three ports.",
        "evidence": "",
        "public_summary": "",
    }
    # a regional analyst is offered only the countries of the region: Colombia is not a valid choice
    outside = client.post("/earlywarning/alerts/new/", {**form, "countries": ["COL"]})
    assert outside.status_code == 200 and Alert.objects.count() == 0
    response = client.post("/earlywarning/alerts/new/", form)
    row = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/earlywarning/alerts/{row.pk}/"
    assert sorted(c.iso3 for c in row.countries.all()) == ["DEU", "GBR"]
    assert (
        client_for(world["gbr"]).get("/earlywarning/alerts/").content.decode().count("High-purity mephedrone")
        == 1
    )


def test_the_cli_words_resolve_to_the_commands() -> None:
    from observatory.cli import resolve_command

    assert resolve_command(["observatory", "nps", "search", "--smiles", "C"]) == [
        "observatory",
        "nps_search",
        "--smiles",
        "C",
    ]
    assert resolve_command(["observatory", "nps", "classify", "--smiles", "C"])[1] == "nps_classify"


def test_a_confidential_identification_is_for_the_country_and_the_global_office_only(
    world: dict[str, Any],
) -> None:
    assessment = services.report_identification(
        world["gbr"],
        services.IdentificationInput(
            country="GBR",
            structure=MEPHEDRONE,
            date_found=dt.date(2023, 1, 5),
            matrix="biological_sample",
            analytical_method="LC-HRMS",
            classification="confidential",
        ),
    )
    row_id = assessment.identification_id
    assert row_id is not None
    readers = {"gbr": world["gbr"], "global": make_user("analyst")}
    not_readers = {"europe": make_user("analyst", region="Europe"), "col": world["col"]}
    for label, user in readers.items():
        assert queries.identifications(user).filter(pk=row_id).exists(), label
    for label, user in not_readers.items():
        assert not queries.identifications(user).filter(pk=row_id).exists(), label
        assert client_for(user).get(f"{API}/identifications/{row_id}").status_code == 404, label


def test_curating_an_entry_makes_a_version_and_is_refused_to_country_users(world: dict[str, Any]) -> None:
    mephedrone = world["mephedrone"]
    change = {
        "reason": "EWA name",
        "synonyms": ["4-MMC", "mefedrona"],
        "cas": "1189805-46-6",
        "effect_group": "stimulants",
    }
    refused = client_for(world["gbr"]).patch(
        f"{API}/substances/{mephedrone.pk}", change, content_type="application/json"
    )
    assert refused.status_code == 403
    assert Substance.objects.get(pk=mephedrone.pk).version == mephedrone.version
    board = client_for(make_user("board_officer"))
    response = board.patch(f"{API}/substances/{mephedrone.pk}", change, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["synonyms"], response.json()["cas"]) == (["4-MMC", "mefedrona"], "1189805-46-6")
    versions = board.get(f"{API}/substances/{mephedrone.pk}/versions").json()
    assert [(v["version"], v["change"]) for v in versions] == [(1, "created"), (2, "merged"), (3, "curated")]
    assert versions[-1]["reason"] == "EWA name"
    assert versions[1]["data"]["synonyms"] == ["mefedrona"]
    bad = board.patch(
        f"{API}/substances/{mephedrone.pk}",
        {**change, "effect_group": "euphoric"},
        content_type="application/json",
    )
    assert bad.status_code == 422
