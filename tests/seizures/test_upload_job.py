"""An upload imports through the real worker: the job reports progress and the batch its outcome."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from observatory.jobs.models import Job
from observatory.seizures.models import ImportBatch, SeizureCase
from tests.factories import make_user
from tests.seizures.test_import_service import HEADER, row


@pytest.mark.django_db(transaction=True)
def test_upload_runs_in_the_worker_with_progress_and_a_rejected_file_writes_nothing(
    transactional_reference: None,
) -> None:
    """Given COL's focal point, when a clean CSV is uploaded and the worker runs, then the job succeeded
    with its progress at the row count and the cases are stored; the same file again starts nothing; a
    file with a bad row is rejected by the worker with the row named, and stores nothing."""
    client = Client()
    client.force_login(make_user("focal_point", country="COL"))
    content = ("\n".join([HEADER, *(row(CASE_REFERENCE=f"COL-{i}") for i in range(30))]) + "\n").encode()
    response = client.post(
        "/api/v1/seizures/uploads", {"file": SimpleUploadedFile("cases.csv", content), "country": "COL"}
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    assert Job.objects.get(pk=job_id).status == Job.Status.QUEUED
    call_command("worker", batch=True)
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.stage, job.done, job.total) == ("done", 30, 30)
    assert job.result == {
        "batch_id": response.json()["batch"]["id"], "status": "imported", "rows_read": 30, "rows_imported": 30,
        "rows_already_present": 0, "errors": 0, "errors_truncated": False,
    }  # fmt: skip
    assert SeizureCase.objects.filter(reporting_country__iso3="COL").count() == 30

    again = client.post(
        "/api/v1/seizures/uploads", {"file": SimpleUploadedFile("same.csv", content), "country": "COL"}
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert (ImportBatch.objects.count(), Job.objects.count()) == (1, 1)

    bad = (
        "\n".join([HEADER, row(CASE_REFERENCE="X1"), row(CASE_REFERENCE="X2", DRUG_UNIT="bushels")]) + "\n"
    ).encode()
    page = client.post("/seizures/upload/", {"file": SimpleUploadedFile("bad.csv", bad), "country": "COL"})
    assert page.status_code == 302
    batch = ImportBatch.objects.get(file_name="bad.csv")
    call_command("worker", batch=True)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.REJECTED
    assert [(e["row"], e["column"], e["code"]) for e in batch.errors] == [(3, "DRUG_UNIT", "unknown_unit")]
    assert SeizureCase.objects.count() == 30
    html = client.get(f"/seizures/batches/{batch.pk}/").content.decode()
    assert "unknown unit &#x27;bushels&#x27;" in html and "Nothing was stored" in html
    status = client.get(f"/api/v1/seizures/batches/{batch.pk}").json()
    assert status["status"] == "rejected" and status["errors"][0]["message"] == "unknown unit 'bushels'"
