"""Background work of the precursor app, run by the database worker."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from observatory.jobs.models import Job
from observatory.jobs.services import ProgressReporter, run_job


@task()
def expire_notifications(job_id: str) -> dict[str, Any]:
    """Expire every sent notification whose reply deadline has come (idempotent)."""
    from observatory.precursors.services import expire_due

    def work(job: Job, progress: ProgressReporter) -> dict[str, Any]:
        progress.stage("expiring notifications past their deadline")
        result = expire_due()
        progress.advance(len(result.expired), force=True)
        return {"expired": len(result.expired), "checked": result.checked, "ids": result.expired[:1000]}

    return run_job(job_id, work)
