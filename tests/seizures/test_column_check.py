"""Checking a file's columns before the import: the proposed mapping, its correction, remembered layouts."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from observatory.access.models import AuditEvent
from observatory.reference.models import Country
from observatory.seizures import services
from observatory.seizures.kernels.generator import IDS_COLUMN_MAPPING, IDS_COLUMNS
from observatory.seizures.kernels.mapping import mapping_problems, normalise_header, suggest_mapping
from observatory.seizures.kernels.rows import FIELDS, REQUIRED_FIELDS
from observatory.seizures.models import ColumnMapping, ImportBatch, SeizureCase
from observatory.seizures.services import import_seizure_file
from tests.factories import make_user

OWN_HEADER = ["Ref", "Country", "Date of seizure", "Substance", "Qty", "UoM", "Remarks"]
OWN_ROWS = [
    ["BR-1", "BRA", "2024-03-02", "Cocaine hydrochloride", "12", "kg", "port of Santos"],
    ["BR-2", "BRA", "2024-03-09", "Cannabis herb", "800", "g", "bus station"],
]
IDS = [(services.DEFAULT_MAPPING_NAME, dict(IDS_COLUMN_MAPPING))]


def own_csv(rows: list[list[str]] = OWN_ROWS) -> bytes:
    return ("\n".join(",".join(cells) for cells in [OWN_HEADER, *rows]) + "\n").encode()


# --- the kernel -------------------------------------------------------------------------------------------


def test_the_ids_layout_is_recognised_column_by_column() -> None:
    suggestion = suggest_mapping(list(IDS_COLUMNS), IDS)
    assert suggestion.layout_name == "IDS layout"
    assert suggestion.as_mapping(list(IDS_COLUMNS)) == IDS_COLUMN_MAPPING
    assert suggestion.missing_required == ()


def test_an_unknown_layout_is_matched_by_column_names() -> None:
    """Given a first upload in a country's own layout, its columns are proposed by their names and the
    column nobody knows is skipped."""
    suggestion = suggest_mapping(OWN_HEADER, IDS)
    assert suggestion.layout_name == ""
    assert suggestion.fields == (
        "case_reference",
        "reporting_country",
        "seizure_date",
        "drug",
        "quantity",
        "unit",
        "",
    )
    assert suggestion.missing_required == ()


def test_a_remembered_layout_wins_over_name_matching() -> None:
    remembered = [
        *IDS,
        ("Federal police export", {"Qty": "quantity", "Remarks": "place", "Substance": "drug"}),
    ]
    suggestion = suggest_mapping(OWN_HEADER, remembered)
    assert suggestion.layout_name == "Federal police export"
    assert suggestion.fields[-1] == "place"


def test_a_field_is_proposed_for_one_column_only() -> None:
    suggestion = suggest_mapping(["Date", "Seizure date", "Drug", "Amount", "Unit"], [])
    assert suggestion.fields == ("seizure_date", "", "drug", "quantity", "unit")
    assert suggestion.missing_required == ("reporting_country",)


def test_mapping_problems_name_duplicates_missing_and_unknown_fields() -> None:
    header = ["A", "B", "C"]
    assert mapping_problems(header, ["drug", "drug", "weight"]) == [
        "unknown field 'weight'",
        "drug is chosen for more than one column (A, B)",
        "no column is mapped to the required field reporting_country",
        "no column is mapped to the required field seizure_date",
        "no column is mapped to the required field quantity",
        "no column is mapped to the required field unit",
    ]


@given(st.lists(st.text(max_size=30), max_size=40))
def test_any_header_gets_an_aligned_proposal_of_distinct_known_fields(header: list[str]) -> None:
    suggestion = suggest_mapping(header, IDS)
    chosen = [field for field in suggestion.fields if field]
    assert len(suggestion.fields) == len(header)
    assert set(chosen) <= set(FIELDS) and len(chosen) == len(set(chosen))
    assert suggestion.missing_required == tuple(f for f in REQUIRED_FIELDS if f not in chosen)


@given(st.sampled_from(FIELDS), st.sampled_from(["upper", "title", "underscored"]))
def test_our_own_field_names_are_recognised_however_written(field: str, style: str) -> None:
    written = {"upper": field.upper(), "title": field.replace("_", " ").title(), "underscored": f" {field} "}[
        style
    ]
    assert normalise_header(written) == normalise_header(field)
    assert suggest_mapping([written], []).fields == (field,)


# --- the pages --------------------------------------------------------------------------------------------


def signed_in(country: str) -> Client:
    client = Client()
    client.force_login(make_user("focal_point", country=country))
    return client


def check_step(client: Client, name: str = "own.csv", content: bytes | None = None) -> Any:
    """The upload page's "Check columns" button for a BRA file."""
    upload = SimpleUploadedFile(name, own_csv() if content is None else content)
    return client.post("/seizures/upload/", {"file": upload, "country": "BRA", "step": "check"})


def staged_files(settings: Any) -> list[Path]:
    directory = Path(settings.MEDIA_ROOT) / "seizures" / "staged"
    return sorted(directory.iterdir()) if directory.exists() else []


@pytest.mark.django_db
def test_a_focal_point_checks_corrects_and_imports_their_own_layout(reference: None, settings: Any) -> None:
    """Given BRA's focal point with a file in their own layout, when they choose "Check columns", then the
    page proposes a field for each column and nothing is imported; when they map "Remarks" to place and
    confirm with a name, the layout is remembered for BRA and the import starts with exactly that mapping."""
    client = signed_in("BRA")
    response = check_step(client)
    assert response.status_code == 302
    check_url = response["Location"]
    page = client.get(check_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<option value="seizure_date" selected>' in html and "port of Santos" in html
    assert (ImportBatch.objects.count(), SeizureCase.objects.count(), len(staged_files(settings))) == (
        0,
        0,
        1,
    )

    fields = ["case_reference", "reporting_country", "seizure_date", "drug", "quantity", "unit", "place"]
    confirm = client.post(
        check_url,
        {
            "action": "import",
            "remember_as": "Federal police",
            **{f"column_{i}": f for i, f in enumerate(fields)},
        },
    )
    assert confirm.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.column_mapping == dict(zip(OWN_HEADER, fields, strict=True))
    assert batch.mapping_name == "Federal police" and batch.file_name == "own.csv"
    assert ColumnMapping.objects.get(country__iso3="BRA").name == "Federal police"
    assert staged_files(settings) == []
    assert client.get(check_url).status_code == 404  # the staged upload is gone once imported

    outcome = import_seizure_file(
        None, batch.stored_path, country_iso3="BRA", mapping=batch.column_mapping, batch=batch, system=True
    )
    assert outcome.batch.status == ImportBatch.Status.IMPORTED
    assert sorted(SeizureCase.objects.values_list("place", flat=True)) == ["bus station", "port of Santos"]


@pytest.mark.django_db
def test_the_check_starts_from_the_countrys_remembered_layout(reference: None) -> None:
    """Given a layout BRA remembered earlier, when BRA's focal point checks a file in it, then the proposal
    names that layout and takes its fields, including the column name matching cannot guess."""
    focal_point = make_user("focal_point", country="BRA")
    layout = dict(
        zip(
            OWN_HEADER,
            ["", "reporting_country", "seizure_date", "drug", "quantity", "unit", "place"],
            strict=True,
        )
    )
    services.save_column_mapping(focal_point, Country.objects.get(iso3="BRA"), "Federal police", layout)
    client = Client()
    client.force_login(focal_point)
    html = client.get(check_step(client)["Location"]).content.decode()
    assert "remembered layout <strong>Federal police</strong>" in html
    assert '<select id="column-6" name="column_6">' in html
    assert html.split('id="column-6"')[1].split("</select>")[0].count('value="place" selected') == 1


@pytest.mark.django_db
def test_a_mapping_missing_a_required_field_is_refused_and_imports_nothing(reference: None) -> None:
    client = signed_in("BRA")
    check_url = check_step(client)["Location"]
    fields = ["case_reference", "reporting_country", "seizure_date", "drug", "quantity", "", "place"]
    response = client.post(
        check_url, {"action": "import", **{f"column_{i}": f for i, f in enumerate(fields)}}
    )
    assert response.status_code == 400
    assert "no column is mapped to the required field unit" in response.content.decode()
    assert (ImportBatch.objects.count(), ColumnMapping.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_another_user_cannot_open_or_import_a_staged_upload(reference: None, settings: Any) -> None:
    """Given a file staged by BRA's focal point, then another BRA user, a focal point of another country
    and the public get nothing at its address, and the staged file is untouched."""
    owner = signed_in("BRA")
    check_url = check_step(owner)["Location"]
    colleague, stranger = signed_in("BRA"), signed_in("ARG")
    for client in (colleague, stranger):
        assert client.get(check_url).status_code in {403, 404}
        assert client.post(check_url, {"action": "import"}).status_code in {403, 404}
        assert client.post(check_url, {"action": "discard"}).status_code in {403, 404}
    assert Client().get(check_url).status_code == 302  # to the sign-in page
    assert (ImportBatch.objects.count(), len(staged_files(settings))) == (0, 1)
    assert owner.get(check_url).status_code == 200


@pytest.mark.django_db
def test_discarding_removes_the_staged_file(reference: None, settings: Any) -> None:
    client = signed_in("BRA")
    check_url = check_step(client)["Location"]
    assert client.post(check_url, {"action": "discard"}).status_code == 302
    assert (staged_files(settings), ImportBatch.objects.count()) == ([], 0)
    assert client.get(check_url).status_code == 404


@pytest.mark.django_db
def test_staging_for_a_country_outside_ones_scope_is_refused(reference: None, settings: Any) -> None:
    client = signed_in("ARG")
    response = check_step(client)
    assert response.status_code == 403
    assert staged_files(settings) == []


# --- a corrupt workbook -----------------------------------------------------------------------------------


def corrupt_xlsx() -> bytes:
    """A zip archive that is not a workbook (the first bytes of an .xlsx, then garbage)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()[:40] + b"\x00garbage"


@pytest.mark.django_db
def test_a_corrupt_workbook_is_named_in_the_check_and_rejected_by_the_import(
    reference: None, tmp_path: Path
) -> None:
    client = signed_in("BRA")
    check_url = check_step(client, "broken.xlsx", corrupt_xlsx())["Location"]
    page = client.get(check_url)
    assert page.status_code == 400
    assert "not a readable Excel .xlsx workbook" in page.content.decode()

    path = tmp_path / "broken.xlsx"
    path.write_bytes(corrupt_xlsx())
    batch = import_seizure_file(None, path, country_iso3="BRA", system=True).batch
    assert batch.status == ImportBatch.Status.REJECTED
    assert [(e["row"], e["column"], e["code"]) for e in batch.errors] == [(1, None, "malformed_xlsx")]
    assert SeizureCase.objects.count() == 0


# --- the API ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_previews_a_file_without_storing_anything(reference: None, settings: Any) -> None:
    client = signed_in("BRA")
    response = client.post(
        "/api/v1/seizures/uploads/preview",
        {"file": SimpleUploadedFile("own.csv", own_csv()), "country": "BRA"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mapping"] == {
        "Ref": "case_reference", "Country": "reporting_country", "Date of seizure": "seizure_date",
        "Substance": "drug", "Qty": "quantity", "UoM": "unit",
    }  # fmt: skip
    assert body["columns"][6] == {
        "name": "Remarks",
        "field": "",
        "samples": ["port of Santos", "bus station"],
    }
    assert body["missing_required"] == [] and body["problems"] == []
    assert (staged_files(settings), ImportBatch.objects.count()) == ([], 0)

    stranger = signed_in("ARG")
    refused = stranger.post(
        "/api/v1/seizures/uploads/preview",
        {"file": SimpleUploadedFile("own.csv", own_csv()), "country": "BRA"},
    )
    assert refused.status_code == 403
    public = Client().post(
        "/api/v1/seizures/uploads/preview",
        {"file": SimpleUploadedFile("own.csv", own_csv()), "country": "BRA"},
    )
    assert public.status_code == 401
    assert staged_files(settings) == []


@pytest.mark.django_db
def test_remembered_layouts_are_saved_audited_and_read_within_scope(reference: None) -> None:
    """Given BRA's focal point saving a layout over the API, then it is audited and listed for them; ARG's
    focal point sees none of it and cannot replace it; the public gets 401; nothing changed after the refusals."""
    owner = signed_in("BRA")
    layout = {
        "Qty": "quantity",
        "Substance": "drug",
        "Date of seizure": "seizure_date",
        "Country": "reporting_country",
        "UoM": "unit",
    }
    saved = owner.put(
        "/api/v1/seizures/mappings/BRA/Federal police", {"mapping": layout}, content_type="application/json"
    )
    assert saved.status_code == 200, saved.content
    assert AuditEvent.objects.filter(action="seizures.mapping.save", country_iso3="BRA").count() == 1
    assert [
        (m["country"], m["name"], m["mapping"]) for m in owner.get("/api/v1/seizures/mappings").json()
    ] == [("BRA", "Federal police", layout)]

    stranger = signed_in("ARG")
    assert stranger.get("/api/v1/seizures/mappings").json() == []
    replaced = stranger.put(
        "/api/v1/seizures/mappings/BRA/Federal police",
        {"mapping": {"X": "drug"}},
        content_type="application/json",
    )
    assert replaced.status_code == 403
    assert Client().get("/api/v1/seizures/mappings").status_code == 401
    assert ColumnMapping.objects.get().mapping == layout
    assert AuditEvent.objects.filter(action="seizures.mapping.save").count() == 1

    incomplete = owner.put(
        "/api/v1/seizures/mappings/BRA/Broken", {"mapping": {"Qty": "quantity", "Kilos": "quantity"}},
        content_type="application/json",
    )  # fmt: skip
    assert incomplete.status_code == 400
    assert "quantity is chosen for more than one column (Qty, Kilos)" in incomplete.json()["detail"]
    assert ColumnMapping.objects.count() == 1
