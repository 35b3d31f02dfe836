"""Releases: nothing unreleased is public anywhere; embargo to the second; corrections say what changed."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from observatory.access.models import AuditEvent
from observatory.access.policy import PermissionDenied
from observatory.publication import queries, services
from observatory.publication.models import Release
from observatory.publication.sdmx_urls import urlpatterns as sdmx_patterns
from observatory.publication.urls import urlpatterns as page_patterns
from tests.factories import make_user

from .release_samples import DRAFT_ONLY_SOURCE, SECRET_VALUE, draft_rows, first_release_rows

pytestmark = pytest.mark.django_db

# Every public URL pattern (pages, open-data API, SDMX, exports), with concrete arguments.
PUBLIC_URLS = [
    "/",
    "/publication/",
    "/publication/drugs/cannabis/",
    "/publication/countries/COL/",
    "/publication/countries/BRA/",
    "/publication/explore/",
    "/publication/explore/?indicator=prevalence_past_year&drug=cannabis",
    "/publication/explore/download.csv?indicator=prevalence_past_year",
    "/publication/explore/download.xlsx?indicator=prevalence_past_year",
    "/publication/releases/",
    "/publication/releases/R1/",
    "/api/v1/public/releases",
    "/api/v1/public/releases/R1",
    "/api/v1/public/datasets",
    "/api/v1/public/observations?all_reports=true",
    "/api/v1/public/observations?country=COL,BRA",
    "/sdmx/dataflow",
    "/sdmx/dataflow/UNODC/DF_PREVALENCE/latest?references=all",
    "/sdmx/datastructure/UNODC/DSD_DRUG_STATISTICS/1.0",
    "/sdmx/codelist/UNODC/CL_DRUG",
    "/sdmx/conceptscheme/UNODC/CS_DRUG_STATISTICS",
    "/sdmx/data/DF_PREVALENCE",
    "/sdmx/data/DF_PREVALENCE/A.COL+BRA...?format=jsondata",
    "/sdmx/data/DF_PREVALENCE/all?format=csv",
    "/sdmx/data/UNODC,DF_PREVALENCE,1.0/all/all?format=structurespecific",
]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def text_everywhere(client: Client) -> str:
    """Everything an anonymous reader can fetch, XLSX cells included, as one text."""
    texts = []
    for url in PUBLIC_URLS:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        body = body_of(response)
        if url.startswith("/publication/explore/download.xlsx") and response.status_code == 200:
            sheet = load_workbook(io.BytesIO(body)).active
            body = repr([[cell.value for cell in row] for row in sheet.iter_rows()]).encode()
        texts.append(f"== {url}\n" + body.decode("utf-8", "replace"))
    return "\n".join(texts)


@pytest.fixture
def reviewer(reference):
    return make_user("reviewer")


def test_every_public_url_pattern_is_covered():
    """Given the URL modules, when listing their public patterns, then each has a URL in PUBLIC_URLS."""
    covered_pages = {"home", "drug", "country", "explorer", "download", "releases", "release"}
    public_pages = {p.name for p in page_patterns} - {"manage", "manage_create", "manage_action"}
    assert public_pages == covered_pages
    assert {p.name for p in sdmx_patterns} >= {"data", "data_key", "data_key_provider", "structure"}


def test_given_released_and_draft_when_anonymous_reads_everything_then_only_released_data_shows(reviewer):
    # Given a released release with known figures
    first = services.create_release(reviewer, "R1", "First release", rows=first_release_rows())
    client = Client()
    before = text_everywhere(client)
    assert "659000.5" not in before  # nothing public before the release
    assert queries.current_release() is None
    services.publish_release(reviewer, first)
    released_text = text_everywhere(client)
    assert "Colombia" in released_text
    assert "659000.5" in released_text  # the released seizure figure, in CSV/SDMX/JSON
    # When a draft with a different value and a new country is built (and even scheduled for tomorrow)
    draft = services.create_release(reviewer, "R2-draft", "Draft", rows=draft_rows())
    services.schedule_release(reviewer, draft, datetime.now(UTC) + timedelta(days=1))
    # Then no page, API, SDMX query or export shows the draft's value or its new country
    everything = text_everywhere(client)
    assert str(SECRET_VALUE) not in everything
    assert "7.777" not in everything
    assert DRAFT_ONLY_SOURCE not in everything
    assert "R2-draft" not in everything
    assert client.get("/api/v1/public/releases/R2-draft").status_code == 404
    assert client.get("/api/v1/public/observations?release=R2-draft").status_code == 404
    assert client.get("/publication/?release=R2-draft").status_code == 404
    assert client.get("/publication/?preview=R2-draft").status_code == 403
    assert client.get("/publication/releases/R2-draft/").status_code == 404
    # And the annex export refuses it
    with pytest.raises(Exception, match="not a public release"):
        call_command("export_annex", release="R2-draft", out="/tmp/never")


def test_given_preview_when_reviewer_opens_it_then_draft_shows_privately(reviewer, client):
    draft = services.create_release(reviewer, "R9", "Draft", rows=draft_rows())
    client.force_login(reviewer)
    response = client.get("/publication/countries/COL/?preview=R9")
    assert response.status_code == 200
    assert "98.77" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert draft.state == Release.State.DRAFT


def test_embargo_is_respected_to_the_second(reviewer):
    embargo = datetime(2031, 6, 26, 10, 0, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        release = services.create_release(reviewer, "R-EMB", "Embargoed", rows=first_release_rows())
        services.schedule_release(reviewer, release, embargo)
    client = Client()
    with time_machine.travel(embargo - timedelta(seconds=1), tick=False):
        assert queries.released_observations().count() == 0
        assert client.get("/api/v1/public/releases").json() == []
        assert client.get("/sdmx/data/DF_PREVALENCE").status_code == 404
        assert "Colombia" not in client.get("/publication/explore/").content.decode()
    with time_machine.travel(embargo, tick=False):
        assert queries.released_observations().count() == 9
        assert [r["label"] for r in client.get("/api/v1/public/releases").json()] == ["R-EMB"]
        assert client.get("/sdmx/data/DF_PREVALENCE").status_code == 200
        assert "Colombia" in client.get("/publication/explore/").content.decode()


def test_a_withdrawal_that_gets_the_lock_after_the_embargo_is_refused(reviewer, monkeypatch):
    """Given a scheduled release, when a withdrawal starts a second before the embargo but obtains the
    row's lock only after it (another transaction held it), then the release stays public."""
    embargo = datetime(2031, 6, 26, 10, 0, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        release = services.create_release(reviewer, "R-LOCK", "Locked", rows=first_release_rows())
        services.schedule_release(reviewer, release, embargo)
    locked = services._locked
    with time_machine.travel(embargo - timedelta(seconds=1), tick=False) as clock:

        def lock_granted_after_the_embargo(target: Release) -> Release:
            clock.move_to(embargo + timedelta(seconds=1))
            return locked(target)

        monkeypatch.setattr(services, "_locked", lock_granted_after_the_embargo)
        with pytest.raises(services.ReleaseError, match="not an embargoed scheduled release"):
            services.withdraw_schedule(reviewer, release)
    release.refresh_from_db()
    assert (release.state, release.public_from) == (Release.State.SCHEDULED, embargo)
    assert not AuditEvent.objects.filter(action="publication.release.withdraw").exists()


def test_correction_names_what_changed(reviewer):
    first = services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    services.publish_release(reviewer, first)
    with pytest.raises(services.ReleaseError, match="change notes"):
        services.create_release(reviewer, "R1-c1", "Correction", rows=draft_rows(), corrects=first)
    correction = services.create_release(
        reviewer, "R1-c1", "Correction", rows=draft_rows(), corrects=first,
        change_notes="Colombia 2022 cannabis prevalence re-weighted; Brazil added.",
    )  # fmt: skip
    assert correction.diff["changed"] == 1
    assert correction.diff["added"] == 1
    assert correction.diff["removed"] == 0
    assert (
        correction.diff["changed_figures"][0]["key"] == "prevalence/prevalence_past_year/COL/cannabis/2022/0"
    )
    assert correction.diff["changed_figures"][0]["before"] == {"value": 3.4, "low": 3.0, "high": 3.8}
    assert correction.diff["changed_figures"][0]["after"] == {
        "value": SECRET_VALUE,
        "low": None,
        "high": None,
    }
    assert correction.diff["added_keys"] == ["prevalence/prevalence_past_year/BRA/cannabis/2023/0"]
    services.publish_release(reviewer, correction)
    client = Client()
    detail = client.get("/api/v1/public/releases/R1-c1").json()
    assert detail["corrects"] == "R1"
    assert detail["change_notes"] == "Colombia 2022 cannabis prevalence re-weighted; Brazil added."
    assert detail["diff"]["changed"] == 1
    # The corrected release stays available by name; the current one is the correction
    assert (
        client.get(
            "/api/v1/public/observations?release=R1&country=COL&indicator=prevalence_past_year"
        ).json()["count"]
        == 2
    )
    page = client.get("/publication/releases/R1-c1/").content.decode()
    assert "Colombia 2022 cannabis prevalence re-weighted" in page
    assert (
        AuditEvent.objects.filter(action="publication.release.create", object_id=str(correction.pk)).count()
        == 1
    )


def test_released_snapshot_cannot_be_changed_and_roles_are_checked(reviewer):
    release = services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    focal = make_user("focal_point", country="COL")
    analyst = make_user("analyst")
    with pytest.raises(PermissionDenied):
        services.create_release(focal, "R-X", "x", rows=first_release_rows())
    with pytest.raises(PermissionDenied):
        services.publish_release(analyst, release)  # analysts prepare and preview, reviewers release
    services.publish_release(reviewer, release)
    with pytest.raises(services.ReleaseError, match="public already"):
        services.schedule_release(reviewer, release, datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(services.ReleaseError, match="only drafts"):
        services.delete_draft(reviewer, release)
    assert Release.objects.get(pk=release.pk).state == Release.State.RELEASED


def test_public_json_has_etag_and_answers_304(reviewer):
    release = services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    services.publish_release(reviewer, release)
    client = Client()
    first = client.get("/api/v1/public/observations?drug=cannabis")
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=60"
    assert first.json()["count"] == 5  # COL 2019, 2022, PER 2021 and the world 2021, 2022
    again = client.get("/api/v1/public/observations?drug=cannabis", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    page = client.get("/publication/drugs/cannabis/")
    assert client.get("/publication/drugs/cannabis/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    # A new release changes every ETag
    second = services.create_release(reviewer, "R2", "Second", rows=draft_rows())
    services.publish_release(reviewer, second)
    assert (
        client.get("/api/v1/public/observations?drug=cannabis", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 200
    )


def test_csv_download_neutralises_formulas(reviewer):
    rows = first_release_rows()
    from dataclasses import replace

    rows["prevalence"][0] = replace(rows["prevalence"][0], source='=HYPERLINK("http://evil","x")')
    services.publish_release(reviewer, services.create_release(reviewer, "R1", "First", rows=rows))
    body = body_of(
        Client().get("/publication/explore/download.csv?indicator=prevalence_past_year&country=COL")
    )
    text = body.decode("utf-8-sig")
    assert '\'=HYPERLINK(""http://evil"",""x"")' in text
    assert text.splitlines()[0].startswith("release,released_at,dataset,indicator")
    assert len(text.splitlines()) == 4  # header + 2019, 2022 and the second 2022 report


def test_annex_export_from_released_snapshot(reviewer, tmp_path: Path):
    rows = first_release_rows()
    services.publish_release(reviewer, services.create_release(reviewer, "R1", "First", rows=rows))
    call_command("export_annex", release="R1", out=str(tmp_path))
    book = load_workbook(tmp_path / "1.2_Prevalence_of_drug_use_in_the_general_population.xlsx")
    assert book.sheetnames == ["Cannabis", "Cocaine"]
    sheet = book["Cannabis"]
    assert [c.value for c in sheet[3]][1:7] == [
        "Region",
        "Sub-region",
        "Country/Territory",
        "Best",
        "Low",
        "High",
    ]
    assert [c.value for c in sheet[4]][1:7] == ["Americas", "South America", "Colombia", 2.1, 1.9, 2.3]
