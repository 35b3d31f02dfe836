"""Background work of the seizures app: importing an uploaded file in the worker, with progress."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from observatory.jobs.models import Job
from observatory.jobs.services import ProgressReporter, run_job


@task()
def import_seizure_batch(job_id: str) -> dict[str, Any]:
    """Validate and import the batch named in the job's parameters (idempotent: a finished batch stays)."""
    from observatory.seizures.services import run_import_batch

    def work(job: Job, progress: ProgressReporter) -> dict[str, Any]:
        return run_import_batch(int(job.parameters["batch_id"]), progress)

    return run_job(job_id, work)


@task()
def validate_seizure_case_keys() -> list[str]:
    """After a large import: validate the case table's foreign keys it added back NOT VALID."""
    from observatory.seizures.services import validate_case_keys

    return validate_case_keys()
