"""Background work of the analysis app, run by the database worker."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from observatory.jobs.models import Job
from observatory.jobs.services import ProgressReporter, run_job


@task()
def refresh_case_trends(job_id: str) -> dict[str, Any]:
    """Bring the individual-cases basis of the seizure trends up to date (idempotent)."""
    from observatory.analysis.services import rebuild_case_trends

    def work(job: Job, progress: ProgressReporter) -> dict[str, Any]:
        progress.stage("summing individual seizure cases by drug group, country and year")
        return {"trend_rows": rebuild_case_trends()}

    return run_job(job_id, work)
